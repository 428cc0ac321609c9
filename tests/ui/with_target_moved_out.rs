use async_with::{async_with, AsyncContextManager, ExitAction, Outcome};

struct Named;

impl AsyncContextManager for Named {
    type Target = String;
    type Error = std::convert::Infallible;
    async fn enter(&mut self) -> Result<String, Self::Error> {
        Ok("name".to_string())
    }
    async fn exit(&mut self, _: String, _: Outcome<'_>) -> Result<ExitAction, Self::Error> {
        Ok(ExitAction::Propagate)
    }
}

// The target is lent to the block (`name: &mut String`); exit gets it back,
// so the block cannot move it out.
async fn run() -> String {
    async_with!(name = Named => { *name })
}

fn main() {
    let _ = futures_executor::block_on(run());
}
