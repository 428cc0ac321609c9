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

#[cfg(test)]
mod tests {
    use super::block_on;
    use core::task::Poll;

    /// A waker moved to another thread and woken by value there unparks
    /// the executor (and so does one woken by reference, on this thread).
    #[test]
    fn wakers_woken_by_value_and_by_reference_resume_the_future() {
        let mut polls = 0;
        let woken = block_on(core::future::poll_fn(|cx| {
            polls += 1;
            match polls {
                1 => {
                    let waker = cx.waker().clone();
                    std::thread::spawn(move || waker.wake());
                    Poll::Pending
                }
                2 => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                _ => Poll::Ready(polls),
            }
        }));
        assert_eq!(woken, 3);
    }
}
