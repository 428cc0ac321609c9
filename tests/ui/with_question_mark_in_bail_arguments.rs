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

// `bail!` runs in an async block of its own, so a `?` in its arguments
// cannot leave the block: one error, naming the macro and the fix.
fn parse(text: &str) -> anyhow::Result<u8> {
    Ok(text.parse()?)
}

async fn run() -> anyhow::Result<u8> {
    async_with!(_n = Lock => {
        anyhow::bail!("bad: {}", parse("x")?);
    });
    Ok(1)
}

fn main() {
    let _ = futures_executor::block_on(run());
}
