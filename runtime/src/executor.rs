//! A minimal executor for doc examples and tests of the runtime-agnostic
//! core (re-exported as `__private::block_on`).

use core::future::Future;
use core::task::{Context, Poll};

/// Drives a future to completion on the current thread, without a runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = core::pin::pin!(future);
    let thread = std::thread::current();
    let waker = std::sync::Arc::new(ThreadWaker(thread)).into();
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

struct ThreadWaker(std::thread::Thread);

impl std::task::Wake for ThreadWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.unpark();
    }
}
