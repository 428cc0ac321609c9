//! SPEC rule 10: the future running a block is dropped (a timeout,
//! `select!`, an aborted task). Each test cancels for real and checks that
//! every entered manager is cleaned up exactly once.

mod common;

use std::future::{Future, pending};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use async_with::{
    AsyncContextManager, AsyncExitStack, ExitAction, Outcome, async_context, async_with,
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

/// A manager that logs its steps and, when cancelled, logs it and spawns its
/// async exit with `Outcome::Cancelled` on the current tokio runtime,
/// bounded by `cleanup_bound`, reporting through `done` when it finished.
struct Held {
    name: &'static str,
    log: Log,
    hang: HangIn,
    cleanup_takes: Duration,
    cleanup_bound: Duration,
    done: Option<oneshot::Sender<String>>,
}

impl Held {
    fn new(name: &'static str, log: &Log) -> Self {
        Held {
            name,
            log: log.clone(),
            hang: HangIn::Nothing,
            cleanup_takes: Duration::ZERO,
            cleanup_bound: Duration::from_secs(5),
            done: None,
        }
    }

    fn hanging_in(mut self, hang: HangIn) -> Self {
        self.hang = hang;
        self
    }

    /// Spawns the async cleanup when cancelled; returns where it reports.
    fn spawning(&mut self) -> oneshot::Receiver<String> {
        let (sender, receiver) = oneshot::channel();
        self.done = Some(sender);
        receiver
    }

    /// The async part of exit, shared by `exit` and the spawned cleanup.
    async fn close(log: Log, name: &'static str, target: String, outcome: String, takes: Duration) {
        tokio::time::sleep(takes).await;
        log.push(format!("exit {name} ({target}): {outcome}"));
    }
}

impl AsyncContextManager for Held {
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
        Held::close(
            self.log.clone(),
            self.name,
            target,
            describe(&outcome),
            Duration::ZERO,
        )
        .await;
        Ok(ExitAction::Propagate)
    }

    fn cancel(&mut self, target: String) {
        self.log.push(format!("cancel {} ({target})", self.name));
        let Some(done) = self.done.take() else {
            return;
        };
        // The async cleanup, spawned so that it outlives the cancelled
        // future, and bounded so that it cannot hang forever.
        let (log, name, takes, bound) = (
            self.log.clone(),
            self.name,
            self.cleanup_takes,
            self.cleanup_bound,
        );
        let cleanup = Held::close(log, name, target, describe(&Outcome::Cancelled), takes);
        tokio::spawn(async move {
            let report = match tokio::time::timeout(bound, cleanup).await {
                Ok(()) => "cleaned up",
                Err(_) => "cleanup timed out",
            };
            let _ = done.send(report.to_string());
        });
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
async fn hold_forever(manager: Held, log: &Log) {
    async_with!(target = manager => {
        log.push(format!("block has {target}"));
        pending::<()>().await;
    });
}

/// Waits for the spawned cleanup's report, bounded.
async fn report(receiver: oneshot::Receiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(10), receiver)
        .await
        .expect("the spawned cleanup reported in time")
        .expect("the cleanup ran to its end")
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
fn select_dropping_the_block_spawns_the_async_exit_with_the_cancelled_outcome() {
    let log = Log::default();
    let report = runtime().block_on(async {
        let mut manager = Held::new("a", &log);
        let receiver = manager.spawning();
        tokio::select! {
            _ = hold_forever(manager, &log) => unreachable!("the block never ends"),
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
        report(receiver).await
    });
    assert_eq!(report, "cleaned up");
    assert_eq!(
        log.events(),
        [
            "enter a",
            "block has a-target",
            "cancel a (a-target)",
            "exit a (a-target): cancelled",
        ]
    );
}

#[test]
fn aborting_the_task_cleans_up_exactly_once() {
    let log = Log::default();
    let report = runtime().block_on(async {
        let mut manager = Held::new("a", &log);
        let receiver = manager.spawning();
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
        report(receiver).await
    });
    assert_eq!(report, "cleaned up");
    let events = log.events();
    assert_eq!(
        events.iter().filter(|e| e.starts_with("cancel a")).count(),
        1
    );
    assert_eq!(events.iter().filter(|e| e.starts_with("exit a")).count(), 1);
    assert_eq!(events.last().unwrap(), "exit a (a-target): cancelled");
}

#[test]
fn cleanup_spawned_on_cancellation_is_bounded_in_time() {
    let log = Log::default();
    let report = runtime().block_on(async {
        let mut manager = Held::new("slow", &log);
        manager.cleanup_takes = Duration::from_secs(3600);
        manager.cleanup_bound = Duration::from_millis(20);
        let receiver = manager.spawning();
        let _ = tokio::time::timeout(Duration::from_millis(10), hold_forever(manager, &log)).await;
        report(receiver).await
    });
    assert_eq!(report, "cleanup timed out");
    assert!(!log.events().iter().any(|e| e.starts_with("exit slow")));
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
