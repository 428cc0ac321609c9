// A manager that is not `Send` (it holds an `Rc`) used in a task that must
// be `Send` (`spawn` stands for `tokio::spawn`): the error names the
// manager's `Rc`, held across the block's await.
use async_with::{async_with, AsyncContextManager, ExitAction, Outcome};
use std::rc::Rc;

struct Shared(Rc<u8>);

impl AsyncContextManager for Shared {
    type Target = u8;
    type Error = std::convert::Infallible;
    async fn enter(&mut self) -> Result<u8, Self::Error> {
        Ok(*self.0)
    }
    async fn exit(&mut self, _: u8, _: Outcome<'_>) -> Result<ExitAction, Self::Error> {
        Ok(ExitAction::Propagate)
    }
}

fn spawn<F: std::future::Future + Send + 'static>(_task: F) {}

fn main() {
    spawn(async {
        async_with!(n = Shared(Rc::new(1)) => {
            std::future::ready(*n).await;
        });
    });
}
