//! Synchronous managers (`ContextManager` + `sync`) on every way out of
//! the block, in `async_with!`, in an exit stack and in `with()`, with the
//! same guarantees as async managers.

mod common;

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Waker};

use async_with::{
    AsyncExitStack, BoxError, ContextManager, ExitAction, Outcome, async_with, sync, with,
};
use common::{Log, describe, panic_message, poll_to_end as run};

#[derive(Debug, PartialEq)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused")
    }
}

impl std::error::Error for Refused {}

/// Records enter, exit (with the outcome and the target handed back) and
/// cancel; its target is a counter the block increments.
struct Gate {
    log: Log,
    refuse_enter: bool,
    suppress: bool,
}

impl Gate {
    fn new(log: &Log) -> Self {
        Gate {
            log: log.clone(),
            refuse_enter: false,
            suppress: false,
        }
    }
}

impl ContextManager for Gate {
    type Target = u32;
    type Error = Refused;

    fn enter(&mut self) -> Result<u32, Refused> {
        if self.refuse_enter {
            self.log.push("enter refused");
            return Err(Refused);
        }
        self.log.push("enter");
        Ok(0)
    }

    fn exit(&mut self, count: u32, outcome: Outcome<'_>) -> Result<ExitAction, Refused> {
        self.log
            .push(format!("exit {} with {count}", describe(&outcome)));
        Ok(if self.suppress {
            ExitAction::Suppress
        } else {
            ExitAction::Propagate
        })
    }
}

#[test]
fn a_completed_block_exits_with_the_target_the_block_changed() {
    let log = Log::default();
    let value: Result<u32, Refused> = run(async {
        let value = async_with!(n = sync(Gate::new(&log)) => {
            *n += 2;
            *n * 10
        });
        Ok(value)
    });
    assert_eq!(value, Ok(20));
    assert_eq!(log.events(), ["enter", "exit completed with 2"]);
}

#[test]
fn a_failing_question_mark_is_seen_by_exit_and_propagates_unchanged() {
    let log = Log::default();
    let result: Result<(), Refused> = run(async {
        async_with!(n = sync(Gate::new(&log)) => {
            *n += 1;
            Err(Refused)?;
        });
        Ok(())
    });
    assert_eq!(result, Err(Refused));
    assert_eq!(log.events(), ["enter", "exit failed(refused) with 1"]);
}

#[test]
fn exit_can_suppress_a_failure() {
    let log = Log::default();
    let mut gate = Gate::new(&log);
    gate.suppress = true;
    let result: Result<&str, Refused> = run(async {
        async_with!(_n = sync(gate) => {
            Err(Refused)?;
        });
        Ok("went on")
    });
    assert_eq!(result, Ok("went on"));
    assert_eq!(log.events(), ["enter", "exit failed(refused) with 0"]);
}

#[test]
fn return_and_break_exit_first_then_jump() {
    let log = Log::default();
    let returned: Result<u32, Refused> = run(async {
        async_with!(n = sync(Gate::new(&log)) => {
            *n = 7;
            return Ok(*n);
        });
        #[allow(unreachable_code)]
        Ok(0)
    });
    assert_eq!(returned, Ok(7));
    let broke: Result<u32, Refused> = run(async {
        let mut rounds = 0;
        loop {
            rounds += 1;
            async_with!(_n = sync(Gate::new(&log)) => {
                if rounds == 2 {
                    break;
                }
            });
        }
        Ok(rounds)
    });
    assert_eq!(broke, Ok(2));
    assert_eq!(
        log.events(),
        [
            "enter",
            "exit completed with 7",
            "enter",
            "exit completed with 0",
            "enter",
            "exit completed with 0"
        ]
    );
}

#[test]
fn a_panic_is_seen_by_exit_and_resumes() {
    let log = Log::default();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run(async {
            async_with!(_n = sync(Gate::new(&log)) => {
                panic!("in the block");
            });
            Ok::<(), Refused>(())
        })
    }));
    assert_eq!(panic_message(&*caught.unwrap_err()), "in the block");
    assert_eq!(
        log.events(),
        ["enter", "exit panicked(in the block) with 0"]
    );
}

#[test]
fn a_refused_enter_runs_neither_block_nor_exit() {
    let log = Log::default();
    let mut gate = Gate::new(&log);
    gate.refuse_enter = true;
    let result: Result<(), Refused> = run(async {
        async_with!(_n = sync(gate) => {
            unreachable!("the block runs only after enter");
        });
        Ok(())
    });
    assert_eq!(result, Err(Refused));
    assert_eq!(log.events(), ["enter refused"]);
}

/// Dropping the future between enter and exit reaches the synchronous
/// manager: its default `cancel` runs its own exit with `Cancelled`.
#[test]
fn a_dropped_future_exits_the_manager_with_cancelled() {
    let log = Log::default();
    {
        let mut future = pin!(async {
            async_with!(n = sync(Gate::new(&log)) => {
                *n = 3;
                std::future::pending::<()>().await;
            });
            Ok::<(), Refused>(())
        });
        let poll = future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        assert!(poll.is_pending());
    }
    assert_eq!(log.events(), ["enter", "exit cancelled with 3"]);
}

#[test]
fn in_an_exit_stack_beside_an_async_manager() {
    let log = Log::default();
    let result: Result<(), BoxError> = run(async {
        let mut stack = AsyncExitStack::new();
        let n = stack.enter(sync(Gate::new(&log))).await?;
        *n = 5;
        let async_log = log.clone();
        stack.defer(async move || {
            async_log.push("deferred");
            Ok(())
        });
        stack.close().await
    });
    assert!(result.is_ok());
    assert_eq!(log.events(), ["enter", "deferred", "exit completed with 5"]);
}

#[test]
fn in_with_the_body_error_reaches_exit() {
    let log = Log::default();
    let result = run(with(sync(Gate::new(&log)), async |n: &mut u32| {
        *n = 9;
        Err::<(), Refused>(Refused)
    }));
    assert_eq!(result, Err(Refused));
    assert_eq!(log.events(), ["enter", "exit failed(Refused) with 9"]);
}

/// An infallible synchronous manager works in a function returning `()`.
#[test]
fn an_infallible_sync_manager_needs_nothing_of_the_function() {
    struct Counted<'a>(&'a mut u32);
    impl ContextManager for Counted<'_> {
        type Target = ();
        type Error = Infallible;
        fn enter(&mut self) -> Result<(), Infallible> {
            *self.0 += 1;
            Ok(())
        }
        fn exit(&mut self, (): (), _: Outcome<'_>) -> Result<ExitAction, Infallible> {
            *self.0 += 10;
            Ok(ExitAction::Propagate)
        }
    }
    let mut count = 0;
    run(async {
        async_with!(sync(Counted(&mut count)) => {});
    });
    assert_eq!(count, 11);
}

/// `&mut` of a synchronous manager forwards exit's answer and the cancel
/// hook to the manager itself.
#[test]
fn a_borrowed_sync_manager_forwards_exit_and_cancel() {
    let log = Log::default();
    let mut gate = Gate::new(&log);
    gate.suppress = true;
    let result: Result<&str, Refused> = run(async {
        async_with!(_n = sync(&mut gate) => {
            Err(Refused)?;
        });
        Ok("suppressed through &mut")
    });
    assert_eq!(result, Ok("suppressed through &mut"));
    {
        let mut future = pin!(async {
            async_with!(_n = sync(&mut gate) => {
                std::future::pending::<()>().await;
            });
            Ok::<(), Refused>(())
        });
        assert!(
            future
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
    }
    assert_eq!(
        log.events(),
        [
            "enter",
            "exit failed(refused) with 0",
            "enter",
            "exit cancelled with 0"
        ]
    );
}
