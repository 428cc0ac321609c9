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

// A `?` in the block converts with `From`, as without the macro.
struct AppError;

async fn run() -> Result<u8, AppError> {
    async_with!(_n = Lock => {
        "x".parse::<u8>()?;
    });
    Ok(1)
}

fn main() {
    let _ = futures_executor::block_on(run());
}
