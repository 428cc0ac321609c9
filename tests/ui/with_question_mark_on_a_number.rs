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

// `?` applies to `Result` and `Option` only.
async fn run() -> Result<u8, String> {
    async_with!(n = Lock => {
        let m = (*n + 1)?;
        let _ = m;
    });
    Ok(1)
}

fn main() {
    let _ = futures_executor::block_on(run());
}
