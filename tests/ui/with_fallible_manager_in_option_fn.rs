use async_with::{async_with, AsyncContextManager, ExitAction, Outcome};

struct Lock;

impl AsyncContextManager for Lock {
    type Target = u8;
    type Error = std::convert::Infallible;
    async fn enter(&mut self) -> Result<u8, Self::Error> {
        Ok(0)
    }
    async fn exit(&mut self, _: u8, _: Outcome<'_>) -> Result<ExitAction, Self::Error> {
        Ok(ExitAction::Propagate)
    }
}

// A manager that can fail propagates like `?`: the function must return a
// `Result` its error converts into.
struct Fallible;

impl AsyncContextManager for Fallible {
    type Target = ();
    type Error = std::io::Error;
    async fn enter(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    async fn exit(&mut self, _: (), _: Outcome<'_>) -> Result<ExitAction, Self::Error> {
        Ok(ExitAction::Propagate)
    }
}

async fn run() -> Option<u8> {
    async_with!(Fallible => {});
    Some(1)
}

fn main() {
    let _ = futures_executor::block_on(run());
}
