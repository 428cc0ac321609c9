//! The protocol every entry point runs: enter → block → exit, written once.
//!
//! `async_with!`'s expansion, [`with`](crate::with()) and
//! [`AsyncExitStack`](crate::AsyncExitStack) drive each manager through a
//! [`Scope`], and run the block under [`catch_unwind`]:
//!
//! 1. [`Scope::enter`] awaits the manager's enter and keeps the target in the
//!    scope in the same poll in which enter returns it, so no `.await`
//!    separates "entered" from "guarded" (docs/contract.md, "Cancellation":
//!    a target is never lost).
//! 2. The block borrows the target (`&mut Target`, from `enter`); its future
//!    is polled under [`catch_unwind`], so a panic becomes a payload.
//! 3. [`Scope::exit_after`] hands the manager the target back with the
//!    outcome of the block (a panic is viewed in place), and
//!    [`after_exit`] resumes a panic with its original payload or returns
//!    the block's value with exit's answer.
//! 4. A scope dropped between 1 and 3 (the future running the block was
//!    dropped) calls the manager's synchronous `cancel` hook with the
//!    target, exactly once. Exit already started owns the target, so
//!    `cancel` is not called then. This drop is the one cancellation path
//!    of every entry point: a manager opted in to an async exit after
//!    cancellation (`tokio::exit_on_cancel`, `sqlx::PoolTransaction`) hands
//!    itself and the target to the runtime from that hook.
//!
//! With feature `tracing`, enter and exit are spans (see `trace.rs`).
//!
//! The scope owns the manager (no pointer to it, no hook stored as a
//! function pointer): its size is the manager's plus the target's plus the
//! `Option` tag that tells whether the target is still lent.

use core::any::Any;
use core::future::Future;
use core::panic::AssertUnwindSafe;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::boxed::Box;

use crate::{ExitAction, Outcome, Panic, PinnedContextManager};

pin_project_lite::pin_project! {
    /// One manager from enter to exit: owns the manager (pinned with the
    /// scope) and, between enter and exit, its target.
    ///
    /// Dropped while it holds the target, it calls the manager's
    /// [`cancel`](PinnedContextManager::cancel) with it.
    ///
    /// Nothing but the manager and the target: the type carries the
    /// manager bound, so `Drop` calls the hook directly. (Storing the hook
    /// as a function pointer instead, to keep the type free of the bound so
    /// that a non-manager is reported fewer times, measured 4% slower on
    /// the success path of `benches/with_vs_hand.rs` and 8 bytes larger.)
    pub struct Scope<M: PinnedContextManager> {
        #[pin]
        manager: M,
        // `Some` from the poll in which enter returned until exit starts.
        target: Option<M::Target>,
    }

    impl<M: PinnedContextManager> PinnedDrop for Scope<M> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if this.target.is_some() {
                cancel(this.manager, this.target);
            }
        }
    }
}

/// The cancellation path of a scope's `Drop`, kept out of line: the drop
/// of every future holding a scope stays small (measured on the benches'
/// executor, which drops each future once it is done).
#[cold]
#[inline(never)]
fn cancel<M: PinnedContextManager>(manager: Pin<&mut M>, target: &mut Option<M::Target>) {
    if let Some(target) = target.take() {
        run_cancel_hook(|| manager.cancel(target));
    }
}

/// A scope for `manager`, not entered yet. A function (not a method call
/// on the manager) so that a non-manager is reported first at the user's
/// expression.
pub fn scope<M: PinnedContextManager>(manager: M) -> Scope<M> {
    Scope {
        manager,
        target: None,
    }
}

impl<M: PinnedContextManager> Scope<M> {
    /// Awaits the manager's enter; on success keeps the target (from this
    /// poll on, a drop cancels) and lends it.
    pub async fn enter(mut self: Pin<&mut Self>) -> Result<&mut M::Target, M::Error> {
        let enter = self.as_mut().project().manager.enter();
        #[cfg(feature = "tracing")]
        let enter = crate::trace::enter::<M, _, _>(enter);
        let target = enter.await?;
        let lent = self.project().target;
        debug_assert!(lent.is_none(), "a scope is entered once");
        Ok(lent.insert(target))
    }

    /// See [`PinnedContextManager::handled_block_failure`].
    #[inline(always)]
    pub fn handled_block_failure(self: Pin<&Self>) -> bool {
        self.project_ref().manager.handled_block_failure()
    }

    /// The target, while it is lent (after enter, before exit).
    pub(crate) fn lent_target(self: Pin<&mut Self>) -> Option<&mut M::Target> {
        self.project().target.as_mut()
    }

    /// Starts exit after the block `ended`: exit sees [`Outcome::Panicked`]
    /// with a view of the payload if the block panicked, else what
    /// `of_value` makes of the block's value (a failure, or
    /// [`Outcome::Completed`]). The payload and the value
    /// stay in `ended`: nothing is copied across exit's await.
    ///
    /// # Panics
    ///
    /// If the scope was not entered, or exit already started.
    // Measured (benches/error_path.rs): inlined always, with the target
    // taken before the outcome is built, the failure path is 4 to 6% faster.
    #[inline(always)]
    pub fn exit_after<'a, V>(
        self: Pin<&'a mut Self>,
        ended: &'a mut Ended<V>,
        of_value: impl FnOnce(&'a V) -> Outcome<'a>,
    ) -> impl Future<Output = Result<ExitAction, M::Error>> + 'a {
        let this = self.project();
        let target = this.target.take().expect("exit runs once, after enter");
        // The outcome built here, not by calling `outcome`: measured 11
        // instructions fewer per use on the failure path (callgrind).
        let outcome = match ended {
            Ok(value) => of_value(value),
            Err(payload) => Outcome::Panicked(Panic::from_payload(&mut **payload)),
        };
        exit_future(this.manager, target, outcome)
    }

    /// Starts exit with `outcome`: takes the target back (a drop no longer
    /// cancels) and returns the manager's exit future.
    ///
    /// # Panics
    ///
    /// If the scope was not entered, or exit already started.
    #[inline]
    pub fn exit<'a>(
        self: Pin<&'a mut Self>,
        outcome: Outcome<'a>,
    ) -> impl Future<Output = Result<ExitAction, M::Error>> + 'a {
        let this = self.project();
        let target = this.target.take().expect("exit runs once, after enter");
        exit_future(this.manager, target, outcome)
    }
}

/// How the block ended, a [`catch_unwind`] output: its value, or the
/// payload of its panic.
pub type Ended<V> = Result<V, Box<dyn Any + Send>>;

/// The manager's exit future, in its span with feature `tracing`.
#[inline(always)]
fn exit_future<'a, M: PinnedContextManager>(
    manager: Pin<&'a mut M>,
    target: M::Target,
    outcome: Outcome<'a>,
) -> impl Future<Output = Result<ExitAction, M::Error>> + 'a {
    #[cfg(feature = "tracing")]
    return crate::trace::exit(
        crate::trace::exit_span::<M>(&outcome),
        manager.exit(target, outcome),
    );
    #[cfg(not(feature = "tracing"))]
    manager.exit(target, outcome)
}

/// After exit: resumes the block's panic with its original payload,
/// whatever exit returned (an exit error is dropped then, as a panic in
/// exit would have replaced the block's); otherwise the block's value with
/// exit's answer, or exit's error with the block's value (so that a failed
/// block's error can be kept with it: docs/contract.md, "When exit fails").
#[inline]
pub fn after_exit<V, E>(
    ended: Ended<V>,
    exited: Result<ExitAction, E>,
) -> Result<(V, ExitAction), (E, V)> {
    match ended {
        Err(payload) => std::panic::resume_unwind(payload),
        Ok(value) => match exited {
            Ok(action) => Ok((value, action)),
            Err(error) => Err((error, value)),
        },
    }
}

/// Runs a `cancel` hook from a `Drop` impl. While a panic unwinds, a second
/// panic from the hook would abort the process, so it is caught and
/// dropped then.
fn run_cancel_hook(hook: impl FnOnce()) {
    if std::thread::panicking() {
        let _ = std::panic::catch_unwind(AssertUnwindSafe(hook));
    } else {
        hook();
    }
}

/// Runs `block` now, catching its panic: a block with no await, run as a
/// closure (what [`catch_unwind`] is for a block that awaits).
#[inline(always)]
pub fn catch_unwind_now<V>(block: impl FnOnce() -> V) -> Ended<V> {
    std::panic::catch_unwind(AssertUnwindSafe(block))
}

/// Polls `future`, catching a panic of any poll: the block's future, so
/// that exit sees the panic before it resumes.
pub fn catch_unwind<F: Future>(future: F) -> CatchUnwind<F> {
    CatchUnwind { future }
}

pin_project_lite::pin_project! {
    /// The future of [`catch_unwind`]: `Err(payload)` if a poll panicked.
    pub struct CatchUnwind<F> {
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.project().future;
        // The block's state is never observed again after a panic: it is
        // dropped, exit sees the payload, and the panic resumes.
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The scope's own guarantees; every entry point inherits them.

    use super::*;
    use crate::AsyncContextManager;
    use core::convert::Infallible;
    use futures_executor::block_on;
    use std::cell::RefCell;
    use std::future::poll_fn;
    use std::rc::Rc;
    use std::task::Waker;

    #[derive(Default, Clone)]
    struct Log(Rc<RefCell<Vec<String>>>);

    impl Log {
        fn push(&self, line: impl Into<String>) {
            self.0.borrow_mut().push(line.into());
        }
        fn lines(&self) -> Vec<String> {
            self.0.borrow().clone()
        }
    }

    struct Logged(Log);

    impl AsyncContextManager for Logged {
        type Target = u8;
        type Error = String;

        async fn enter(&mut self) -> Result<u8, String> {
            self.0.push("enter");
            Ok(7)
        }

        async fn exit(&mut self, target: u8, outcome: Outcome<'_>) -> Result<ExitAction, String> {
            self.0.push(format!("exit {target} {outcome}"));
            Ok(ExitAction::Propagate)
        }

        fn cancel(&mut self, target: u8) {
            self.0.push(format!("cancel {target}"));
        }
    }

    fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn exit_gets_the_target_back_and_cancel_does_not_run() {
        let log = Log::default();
        block_on(async {
            let mut scope = core::pin::pin!(scope(Logged(log.clone())));
            *scope.as_mut().enter().await.unwrap() += 1;
            let _ = scope.as_mut().exit(Outcome::Completed).await;
        });
        assert_eq!(log.lines(), ["enter", "exit 8 completed"]);
    }

    #[test]
    fn dropped_between_enter_and_exit_cancels_once() {
        let log = Log::default();
        let mut future = Box::pin(async {
            let mut scope = core::pin::pin!(scope(Logged(log.clone())));
            let _target = scope.as_mut().enter().await.unwrap();
            std::future::pending::<()>().await;
        });
        assert!(poll_once(future.as_mut()).is_pending());
        assert_eq!(log.lines(), ["enter"]);
        drop(future);
        assert_eq!(log.lines(), ["enter", "cancel 7"]);
    }

    #[test]
    fn dropped_during_exit_does_not_cancel() {
        struct SlowExit(Log);
        impl AsyncContextManager for SlowExit {
            type Target = u8;
            type Error = String;
            async fn enter(&mut self) -> Result<u8, String> {
                Ok(1)
            }
            async fn exit(&mut self, _: u8, _: Outcome<'_>) -> Result<ExitAction, String> {
                self.0.push("exit started");
                std::future::pending().await
            }
            fn cancel(&mut self, _: u8) {
                self.0.push("cancel");
            }
        }
        let log = Log::default();
        let mut future = Box::pin(async {
            let mut scope = core::pin::pin!(scope(SlowExit(log.clone())));
            scope.as_mut().enter().await.unwrap();
            let _ = scope.as_mut().exit(Outcome::Completed).await;
        });
        assert!(poll_once(future.as_mut()).is_pending());
        drop(future);
        assert_eq!(log.lines(), ["exit started"]);
    }

    #[test]
    fn never_entered_does_not_cancel() {
        let log = Log::default();
        drop(scope(Logged(log.clone())));
        assert!(log.lines().is_empty());
    }

    #[test]
    fn a_panic_reaches_exit_then_resumes_with_its_payload() {
        let log = Log::default();
        let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
            block_on(async {
                let mut scope = core::pin::pin!(scope(Logged(log.clone())));
                let target = scope.as_mut().enter().await.unwrap();
                let ended: Ended<()> = catch_unwind(async {
                    let _ = target;
                    std::panic::panic_any(42_u32)
                })
                .await;
                let mut ended = ended;
                let exited = scope.exit_after(&mut ended, |_| Outcome::Completed).await;
                after_exit(ended, exited)
            })
        }));
        assert_eq!(caught.unwrap_err().downcast_ref::<u32>(), Some(&42));
        assert_eq!(
            log.lines(),
            ["enter", "exit 7 panicked(<non-string payload>)"]
        );
    }

    #[test]
    fn catch_unwind_passes_pending_and_values_through() {
        let mut polls = 0;
        let mut future = core::pin::pin!(catch_unwind(poll_fn(|_| {
            polls += 1;
            if polls == 1 {
                Poll::Pending
            } else {
                Poll::Ready(5)
            }
        })));
        assert!(poll_once(future.as_mut()).is_pending());
        assert!(matches!(poll_once(future.as_mut()), Poll::Ready(Ok(5))));
    }

    #[test]
    fn a_cancel_hook_panicking_during_unwinding_is_contained() {
        struct PanickyCancel;
        impl AsyncContextManager for PanickyCancel {
            type Target = ();
            type Error = Infallible;
            async fn enter(&mut self) -> Result<(), Infallible> {
                Ok(())
            }
            async fn exit(&mut self, _: (), _: Outcome<'_>) -> Result<ExitAction, Infallible> {
                Ok(ExitAction::Propagate)
            }
            fn cancel(&mut self, _: ()) {
                panic!("cancel hook");
            }
        }
        let caught = std::panic::catch_unwind(|| {
            block_on(async {
                let mut scope = core::pin::pin!(scope(PanickyCancel));
                scope.as_mut().enter().await.unwrap();
                panic!("the block");
            })
        });
        let payload = caught.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"the block"));
    }
}
