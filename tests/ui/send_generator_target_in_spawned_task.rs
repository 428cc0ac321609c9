// A generator whose target is not `Send` (an `Rc`) used in a task that
// must be `Send` (`spawn` stands for `tokio::spawn`): the error names the
// target type, never the generator's body.
use async_with::{async_context, async_with};
use std::rc::Rc;

#[async_context]
async fn shared(value: u8) -> Rc<u8> {
    let (_shared, _exit) = yield_!(Rc::new(value));
}

fn spawn<F: std::future::Future + Send + 'static>(_task: F) {}

fn main() {
    spawn(async {
        async_with!(n = shared(1) => {
            std::future::ready(**n).await;
        });
    });
}
