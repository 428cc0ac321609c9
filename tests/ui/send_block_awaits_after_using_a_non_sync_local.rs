// A block that awaits after using a local that is `Send` but not `Sync`
// (a `std::sync::mpsc::Receiver`): the block runs as an `async` block that
// borrows the local, so the task's future is not `Send` where the plain
// block's would be. The fix (README, limits): move the local into the
// block, `let rx = rx;`, or use it outside the block. rustc's note names
// `expansion::CatchUnwind`, the future that runs the block: rustc lists
// every type the value is held in, which the macro cannot change (it
// names it by its first hidden path, `expansion`, not `__private`).
use async_with::{async_with, nullcontext};

fn spawn<F: std::future::Future + Send + 'static>(_task: F) {}

fn main() {
    let (_tx, rx) = std::sync::mpsc::channel::<()>();
    spawn(async move {
        async_with!(_s = nullcontext(()) => {
            rx.recv().ok();
            std::future::ready(()).await;
        });
    });
}
