//! Cancellation (docs/contract.md, "Cancellation"): the future running a
//! block is dropped (a timeout, `select!`, an aborted task). Each test
//! cancels for real and checks that every entered manager is cleaned up
//! exactly once: by its synchronous `cancel` hook, or, opted in with
//! `exit_on_cancel`, by its async exit, which the library runs on the runtime
//! with `Outcome::Cancelled` under a deadline.

mod common;

use std::future::{Future, pending};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use async_with::tokio::{cancelled_exits, exit_on_cancel, wait_for_cancelled_exits};
use async_with::{
    AsyncContextManager, AsyncExitStack, ExitAction, Outcome, SendContextManager, async_context,
    async_with, with,
};
use common::{Log, describe};
use tokio::sync::oneshot;

/// Where a [`Held`] manager's step waits forever, to be cancelled there.
#[derive(Clone, Copy, PartialEq)]
enum HangIn {
    Nothing,
    Enter,
    Exit,
}

/// A manager that logs its steps. Its exit awaits (`exit_takes`) before it
/// logs; its synchronous `cancel` hook only logs: any async exit after a
/// cancellation is the library's (`exit_on_cancel`), not the manager's.
struct Held {
    name: &'static str,
    log: Log,
    hang: HangIn,
    exit_takes: Duration,
}

impl Held {
    fn new(name: &'static str, log: &Log) -> Self {
        Held {
            name,
            log: log.clone(),
            hang: HangIn::Nothing,
            exit_takes: Duration::ZERO,
        }
    }

    fn hanging_in(mut self, hang: HangIn) -> Self {
        self.hang = hang;
        self
    }
}

impl SendContextManager for Held {
    type Target = String;
    type Error = std::convert::Infallible;

    async fn enter(&mut self) -> Result<String, Self::Error> {
        tokio::task::yield_now().await;
        if self.hang == HangIn::Enter {
            self.log.push(format!("entering {} hangs", self.name));
            pending::<()>().await;
        }
        self.log.push(format!("enter {}", self.name));
        Ok(format!("{}-target", self.name))
    }

    async fn exit(
        &mut self,
        target: String,
        outcome: Outcome<'_>,
    ) -> Result<ExitAction, Self::Error> {
        if self.hang == HangIn::Exit {
            self.log.push(format!("exiting {} hangs", self.name));
            pending::<()>().await;
        }
        let outcome = describe(&outcome);
        tokio::time::sleep(self.exit_takes).await;
        self.log
            .push(format!("exit {} ({target}): {outcome}", self.name));
        Ok(ExitAction::Propagate)
    }

    fn cancel(&mut self, target: String) {
        self.log.push(format!("cancel {} ({target})", self.name));
    }
}

/// A runtime whose clock only moves when every task is idle: a timeout
/// fires once the block is really stuck, never earlier on a slow machine
/// (or under miri).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

/// A block that waits forever inside `async_with!`.
async fn hold_forever<M>(manager: M, log: &Log)
where
    M: SendContextManager<Target = String, Error = std::convert::Infallible> + Unpin,
{
    async_with!(target = manager => {
        log.push(format!("block has {target}"));
        pending::<()>().await;
    });
}

/// Waits for the library's detached exits, bounded; none may be left.
async fn detached_exits_end() {
    let left = wait_for_cancelled_exits(Duration::from_secs(10)).await;
    assert_eq!(left, 0, "every detached exit ended in time");
}

#[test]
fn a_timeout_during_the_block_cancels_the_manager_once() {
    let log = Log::default();
    runtime().block_on(async {
        let elapsed = tokio::time::timeout(
            Duration::from_millis(20),
            hold_forever(Held::new("a", &log), &log),
        )
        .await;
        assert!(elapsed.is_err(), "the block never ends on its own");
    });
    assert_eq!(
        log.events(),
        ["enter a", "block has a-target", "cancel a (a-target)"]
    );
}

#[test]
fn a_manager_lent_by_mut_ref_gets_its_own_cancel_hook() {
    let log = Log::default();
    let mut manager = Held::new("lent", &log);
    runtime().block_on(async {
        let elapsed =
            tokio::time::timeout(Duration::from_millis(20), hold_forever(&mut manager, &log)).await;
        assert!(elapsed.is_err(), "the block never ends on its own");
    });
    // `&mut M` forwards `cancel` to the manager (not the trait's default,
    // which would only drop the target).
    assert_eq!(
        log.events(),
        [
            "enter lent",
            "block has lent-target",
            "cancel lent (lent-target)"
        ]
    );
    assert_eq!(manager.name, "lent", "the manager is back with its owner");
}

#[test]
fn a_timeout_runs_an_opted_in_exit_on_the_runtime_with_the_cancelled_outcome() {
    let log = Log::default();
    runtime().block_on(async {
        let manager = exit_on_cancel(Held::new("a", &log));
        let elapsed =
            tokio::time::timeout(Duration::from_millis(20), hold_forever(manager, &log)).await;
        assert!(elapsed.is_err());
        detached_exits_end().await;
    });
    assert_eq!(
        log.events(),
        [
            "enter a",
            "block has a-target",
            "exit a (a-target): cancelled"
        ]
    );
}

#[test]
fn select_dropping_the_block_runs_the_async_exit_with_the_cancelled_outcome() {
    let log = Log::default();
    runtime().block_on(async {
        let manager = exit_on_cancel(Held::new("a", &log));
        tokio::select! {
            _ = hold_forever(manager, &log) => unreachable!("the block never ends"),
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
        detached_exits_end().await;
    });
    assert_eq!(
        log.events(),
        [
            "enter a",
            "block has a-target",
            "exit a (a-target): cancelled",
        ]
    );
}

#[test]
fn aborting_the_task_runs_the_async_exit_exactly_once() {
    let log = Log::default();
    runtime().block_on(async {
        let manager = exit_on_cancel(Held::new("a", &log));
        let (entered, is_entered) = oneshot::channel();
        let task_log = log.clone();
        let task = tokio::spawn(async move {
            async_with!(target = manager => {
                task_log.push(format!("block has {target}"));
                let _ = entered.send(());
                pending::<()>().await;
            });
        });
        is_entered.await.unwrap();
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        detached_exits_end().await;
    });
    let events = log.events();
    assert_eq!(events.iter().filter(|e| e.starts_with("exit a")).count(), 1);
    assert!(!events.iter().any(|e| e.starts_with("cancel a")));
    assert_eq!(events.last().unwrap(), "exit a (a-target): cancelled");
}

#[test]
fn an_async_exit_after_cancellation_is_cut_at_its_deadline_and_counted() {
    let log = Log::default();
    let before = cancelled_exits();
    runtime().block_on(async {
        let mut slow = Held::new("slow", &log);
        slow.exit_takes = Duration::from_secs(3600);
        let manager = exit_on_cancel(slow).deadline(Duration::from_millis(20));
        let _ = tokio::time::timeout(Duration::from_millis(10), hold_forever(manager, &log)).await;
        detached_exits_end().await;
    });
    let after = cancelled_exits();
    // Other tests of this binary run in parallel, none times out.
    assert_eq!(after.timed_out - before.timed_out, 1);
    assert!(!log.events().iter().any(|e| e.starts_with("exit slow")));
}

#[async_context]
async fn owned_generator(log: Log) -> String {
    log.push("setup");
    let (target, exit) = yield_!("gen".to_string());
    tokio::task::yield_now().await; // an awaited teardown
    log.push(format!(
        "teardown {target}: cancelled {}, completed {}",
        exit.is_cancelled(),
        exit.is_completed()
    ));
}

#[test]
fn a_boxed_generator_opted_in_runs_its_teardown_after_cancellation() {
    let log = Log::default();
    runtime().block_on(async {
        let manager = exit_on_cancel(Box::pin(owned_generator(log.clone())));
        let _ = tokio::time::timeout(Duration::from_millis(20), hold_forever(manager, &log)).await;
        detached_exits_end().await;
    });
    assert_eq!(
        log.events(),
        [
            "setup",
            "block has gen",
            "teardown gen: cancelled true, completed false"
        ]
    );
}

#[test]
fn every_entry_point_detaches_the_exit_through_the_same_scope() {
    let log = Log::default();
    runtime().block_on(async {
        // `with()`.
        let in_with = with(
            exit_on_cancel(Held::new("w", &log)),
            async |_: &mut String| pending::<Result<(), async_with::BoxError>>().await,
        );
        let _ = tokio::time::timeout(Duration::from_millis(10), in_with).await;
        // An exit stack entry.
        let in_stack = async {
            let stack = AsyncExitStack::new_send();
            stack
                .enter(exit_on_cancel(Held::new("s", &log)))
                .await
                .unwrap();
            pending::<()>().await;
        };
        let _ = tokio::time::timeout(Duration::from_millis(10), in_stack).await;
        detached_exits_end().await;
    });
    assert_eq!(
        log.events(),
        [
            "enter w",
            "exit w (w-target): cancelled",
            "enter s",
            "exit s (s-target): cancelled"
        ]
    );
}

#[test]
fn cancelled_during_enter_neither_exits_nor_cancels() {
    let log = Log::default();
    runtime().block_on(async {
        let manager = Held::new("a", &log).hanging_in(HangIn::Enter);
        let _ = tokio::time::timeout(Duration::from_millis(20), hold_forever(manager, &log)).await;
    });
    assert_eq!(log.events(), ["entering a hangs"]);
}

#[test]
fn cancelled_during_exit_drops_exit_and_does_not_cancel_as_well() {
    let log = Log::default();
    runtime().block_on(async {
        let manager = Held::new("a", &log).hanging_in(HangIn::Exit);
        let block = async {
            async_with!(_target = manager => { log.push("block ends") });
        };
        let _ = tokio::time::timeout(Duration::from_millis(20), block).await;
    });
    // Exit started (it owns the target): the manager is not called again.
    assert_eq!(log.events(), ["enter a", "block ends", "exiting a hangs"]);
}

#[test]
fn cancelled_during_the_second_enter_cancels_the_first_manager_only() {
    let log = Log::default();
    runtime().block_on(async {
        let first = Held::new("a", &log);
        let second = Held::new("b", &log).hanging_in(HangIn::Enter);
        let block = async {
            async_with!(a = first, b = second => { log.push(format!("block {a} {b}")) });
        };
        let _ = tokio::time::timeout(Duration::from_millis(20), block).await;
    });
    assert_eq!(
        log.events(),
        ["enter a", "entering b hangs", "cancel a (a-target)"]
    );
}

#[test]
fn nested_blocks_cancel_inner_then_outer() {
    let log = Log::default();
    runtime().block_on(async {
        let block = async {
            async_with!(a = Held::new("a", &log) => {
                async_with!(b = Held::new("b", &log) => {
                    log.push(format!("block {a} {b}"));
                    pending::<()>().await;
                });
            });
        };
        let _ = tokio::time::timeout(Duration::from_millis(20), block).await;
    });
    assert_eq!(
        log.events(),
        [
            "enter a",
            "enter b",
            "block a-target b-target",
            "cancel b (b-target)",
            "cancel a (a-target)",
        ]
    );
}

#[test]
fn a_cancelled_exit_stack_cancels_its_entries_last_in_first_out() {
    let log = Log::default();
    runtime().block_on(async {
        let block = async {
            let result: Result<(), async_with::BoxError> = async {
                async_with!(stack = AsyncExitStack::new() => {
                    stack.enter(Held::new("a", &log)).await?;
                    let deferred = log.clone();
                    stack.defer(async move || {
                        deferred.push("callback ran");
                        Ok(())
                    });
                    stack.enter(Held::new("b", &log)).await?;
                    pending::<()>().await;
                });
                Ok(())
            }
            .await;
            result.unwrap();
        };
        // The stack is not `Send`: run it on this thread.
        let _ = tokio::time::timeout(Duration::from_millis(20), block).await;
    });
    assert_eq!(
        log.events(),
        [
            "enter a",
            "enter b",
            "cancel b (b-target)",
            "cancel a (a-target)"
        ]
    );
}

/// Polls `future` by hand `polls` times with a no-op waker, then drops it.
fn poll_then_drop<F: Future>(future: F, polls: usize) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..polls {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
    }
    None
}

/// A manager whose enter completes on its second poll, and that counts
/// its cleanups.
struct SlowEnter {
    log: Log,
}

impl AsyncContextManager for SlowEnter {
    type Target = u32;
    type Error = std::convert::Infallible;

    async fn enter(&mut self) -> Result<u32, Self::Error> {
        common::yield_now().await;
        self.log.push("entered");
        Ok(7)
    }

    async fn exit(&mut self, _: u32, _: Outcome<'_>) -> Result<ExitAction, Self::Error> {
        self.log.push("exit");
        Ok(ExitAction::Propagate)
    }

    fn cancel(&mut self, target: u32) {
        self.log.push(format!("cancel {target}"));
    }
}

#[test]
fn a_target_just_produced_by_enter_is_never_lost() {
    // Poll 1: enter is pending. Poll 2: enter returns its target and the
    // block stops at its first await, in the same poll. Then drop.
    for polls in 1..=3 {
        let log = Log::default();
        let output = poll_then_drop(
            async {
                async_with!(n = (SlowEnter { log: log.clone() }) => {
                    common::yield_now().await;
                    *n
                })
            },
            polls,
        );
        let events = log.events();
        match polls {
            1 => assert_eq!(events, Vec::<String>::new()),
            2 => assert_eq!(events, ["entered", "cancel 7"]),
            _ => {
                assert_eq!(output, Some(7));
                assert_eq!(events, ["entered", "exit"]);
            }
        }
    }
}

#[async_context]
async fn generated(log: &Log) -> String {
    struct Noisy(Log);
    impl Drop for Noisy {
        fn drop(&mut self) {
            self.0.push("generator local dropped");
        }
    }
    let _noisy = Noisy(log.clone());
    log.push("setup");
    let (_target, exit) = yield_!("gen".to_string());
    log.push(format!("teardown: {}", exit.inspect(describe)));
}

#[test]
fn a_cancelled_generator_drops_its_suspended_body() {
    let log = Log::default();
    poll_then_drop(
        async {
            async_with!(_g = generated(&log) => {
                log.push("block");
                pending::<()>().await;
            });
        },
        1,
    );
    // Teardown code cannot run without awaiting it; the body's locals drop.
    assert_eq!(log.events(), ["setup", "block", "generator local dropped"]);
}

/// A manager whose cancel hook panics.
struct PanickyCancel;

impl AsyncContextManager for PanickyCancel {
    type Target = ();
    type Error = std::convert::Infallible;

    async fn enter(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn exit(&mut self, _: (), _: Outcome<'_>) -> Result<ExitAction, Self::Error> {
        Ok(ExitAction::Propagate)
    }

    fn cancel(&mut self, _: ()) {
        panic!("cancel hook panicked");
    }
}

#[test]
fn a_cancel_hook_panicking_while_a_panic_unwinds_does_not_abort() {
    let payload = std::panic::catch_unwind(|| {
        let mut future = Box::pin(async {
            async_with!(PanickyCancel => { pending::<()>().await });
        });
        let mut cx = Context::from_waker(Waker::noop());
        let _ = future.as_mut().poll(&mut cx);
        let _dropped_while_unwinding = future;
        panic!("outer panic");
    })
    .unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"outer panic"));
}

#[test]
fn a_cancel_hook_panicking_outside_unwinding_panics_normally() {
    let payload = std::panic::catch_unwind(|| {
        poll_then_drop(
            async { async_with!(PanickyCancel => { pending::<()>().await }) },
            1,
        )
    })
    .unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"cancel hook panicked")
    );
}
