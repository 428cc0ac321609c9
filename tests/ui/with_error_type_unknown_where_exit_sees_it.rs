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

// Residual limitation of error values: an `async` block whose error type
// is written only after the `async_with!` returns a `Result` inside it that
// is not written `Ok(..)`; the error type (not `Debug`) is not known yet
// where exit is shown the value. One error, saying to write it out.
struct NotDebug;

async fn run() {
    let result = async {
        async_with!(n = Lock => {
            return if *n == 0 { Ok(1) } else { Ok(2) };
        });
        Err::<u8, NotDebug>(NotDebug)
    }
    .await;
    let _ = result;
}

fn main() {
    futures_executor::block_on(run());
}
