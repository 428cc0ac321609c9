//! The ready-made managers (`nullcontext`, `closing`, `suppress`, `from_fn`)
//! and the closure API `with`, against every guarantee of docs/contract.md
//! that applies to each, on both executors.

mod common;

use std::cell::Cell;
use std::panic::AssertUnwindSafe;

use async_with::{
    AsyncClose, AsyncExitStack, ExitAction, Outcome, async_context, async_with, closing, from_fn,
    nullcontext, suppress, suppress_if, with,
};
use common::{Log, ManagerError, OnExit, Recorder, describe, run_both, yield_now};

#[derive(Debug, PartialEq)]
enum AppError {
    Parse(std::num::ParseIntError),
    Manager(ManagerError),
    Io(String),
}

impl From<std::num::ParseIntError> for AppError {
    fn from(error: std::num::ParseIntError) -> Self {
        AppError::Parse(error)
    }
}

impl From<ManagerError> for AppError {
    fn from(error: ManagerError) -> Self {
        AppError::Manager(error)
    }
}

impl From<std::io::Error> for AppError {
    fn from(error: std::io::Error) -> Self {
        AppError::Io(error.to_string())
    }
}

fn manager_error(name: &'static str, step: &'static str, saw: Option<&str>) -> AppError {
    AppError::Manager(ManagerError {
        name,
        step,
        saw: saw.map(str::to_string),
    })
}

/// Runs `body`, which must panic; returns the panic message.
fn panic_message(body: impl FnOnce()) -> String {
    let payload = std::panic::catch_unwind(AssertUnwindSafe(body)).unwrap_err();
    common::panic_message(&*payload)
}

/// A table row: two setup flags around how exit behaves, the expected
/// result and the expected event log.
type Case<T> = (bool, OnExit, bool, Result<T, AppError>, Vec<String>);

// ---------------------------------------------------------------- nullcontext

#[test]
fn nullcontext_lends_its_value_and_every_way_out_behaves_as_without_it() {
    let (value, returned, failed) = run_both(|| async {
        let value = async_with!(n = nullcontext(20) => { *n += 1; *n * 2 });
        let returned: u8 = async {
            async_with!(_n = nullcontext(()) => { return 1; });
            #[allow(unreachable_code)]
            2
        }
        .await;
        let failed: Result<(), AppError> = async {
            async_with!(_n = nullcontext("x") => { "x".parse::<u8>()?; });
            Ok(())
        }
        .await;
        (value, returned, failed)
    });
    assert_eq!(value, 42, "completed: the block's value");
    assert_eq!(returned, 1, "return: leaves through the manager");
    assert!(
        matches!(failed, Err(AppError::Parse(_))),
        "`?`: the failure propagates untouched"
    );
    let message = panic_message(|| {
        futures_executor::block_on(async {
            async_with!(_n = nullcontext(0) => { panic!("boom") });
        })
    });
    assert_eq!(message, "boom", "panic: the panic resumes");
}

// ---------------------------------------------------------------- closing

struct Stream {
    name: &'static str,
    log: Log,
    fail_close: bool,
}

impl AsyncClose for Stream {
    type Error = ManagerError;

    async fn close(self) -> Result<(), ManagerError> {
        yield_now().await;
        self.log.push(format!("close {}", self.name));
        if self.fail_close {
            return Err(ManagerError {
                name: self.name,
                step: "close",
                saw: None,
            });
        }
        Ok(())
    }
}

fn stream(name: &'static str, log: &Log) -> Stream {
    Stream {
        name,
        log: log.clone(),
        fail_close: false,
    }
}

/// Uses a closing stream and leaves through `way`: 0 end, 1 return, 2 `?`.
async fn use_stream(way: u8, log: &Log, fail_close: bool) -> Result<u8, AppError> {
    let mut stream = stream("s", log);
    stream.fail_close = fail_close;
    let value = async_with!(s = closing(stream) => {
        log.push(format!("use {}", s.name));
        match way {
            1 => return Ok(10),
            2 => { "x".parse::<u8>()?; 0 }
            _ => 20,
        }
    });
    Ok(value)
}

#[test]
fn closing_closes_on_every_way_out() {
    for (way, expected) in [(0, Ok(20)), (1, Ok(10))] {
        let (result, events) = run_both(|| async {
            let log = Log::default();
            (use_stream(way, &log, false).await, log.events())
        });
        assert_eq!(result, expected);
        assert_eq!(events, ["use s", "close s"]);
    }
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (use_stream(2, &log, false).await, log.events())
    });
    assert!(matches!(result, Err(AppError::Parse(_))), "`?` fails");
    assert_eq!(events, ["use s", "close s"]);

    let log = Log::default();
    let message = panic_message(|| {
        futures_executor::block_on(async {
            let result: Result<(), AppError> = async {
                async_with!(_s = closing(stream("p", &log)) => { panic!("boom") });
                #[allow(unreachable_code)]
                Ok(())
            }
            .await;
            let _ = result;
        })
    });
    assert_eq!(message, "boom", "panic");
    assert_eq!(log.events(), ["close p"], "closed before the panic resumed");
}

#[test]
fn a_close_error_propagates_after_a_completed_block_and_replaces_a_failure() {
    let (completed, failed) = run_both(|| async {
        let log = Log::default();
        (
            use_stream(0, &log, true).await,
            use_stream(2, &log, true).await,
        )
    });
    assert_eq!(
        completed,
        Err(manager_error("s", "close", None)),
        "exit fails after a completed block"
    );
    assert_eq!(
        failed,
        Err(manager_error("s", "close", None)),
        "exit fails after a failed block"
    );
}

// ---------------------------------------------------------------- suppress

async fn parse_suppressed(text: &str) -> Result<&'static str, AppError> {
    async_with!(suppress::<std::num::ParseIntError>() => {
        text.parse::<u8>()?;
    });
    Ok("went on")
}

#[test]
fn suppress_swallows_its_error_type_only() {
    let (swallowed, completed, other) = run_both(|| async {
        let other: Result<(), AppError> = async {
            async_with!(suppress::<std::num::ParseIntError>() => {
                Err(std::io::Error::other("disk"))?;
            });
            Ok(())
        }
        .await;
        (
            parse_suppressed("x").await,
            parse_suppressed("7").await,
            other,
        )
    });
    assert_eq!(swallowed, Ok("went on"), "suppressed");
    assert_eq!(completed, Ok("went on"), "completed");
    assert_eq!(
        other,
        Err(AppError::Io("disk".into())),
        "another type propagates"
    );
}

#[test]
fn suppress_or_and_suppress_if_choose_what_to_swallow() {
    let (both, none) = run_both(|| async {
        let mut reached = Vec::new();
        let both: Result<(), Box<dyn std::error::Error>> = async {
            async_with!(suppress::<std::io::Error>().or::<std::num::ParseIntError>() => {
                "x".parse::<u8>()?;
                reached.push("after the parse error");
            });
            reached.push("after the first block");
            async_with!(suppress::<std::io::Error>().or::<std::num::ParseIntError>() => {
                Err(std::io::Error::other("disk"))?;
            });
            reached.push("after the second block");
            // A third type is not in the list: it propagates.
            async_with!(suppress::<std::io::Error>().or::<std::num::ParseIntError>() => {
                Err("not listed".to_string())?;
            });
            reached.push("never");
            Ok(())
        }
        .await;
        let both = both.map_err(|error| error.to_string());
        let none: Option<u8> = async {
            async_with!(suppress_if(|failure| failure.is_none()) => {
                None::<u8>?;
            });
            Some(1)
        }
        .await;
        ((both, reached), none)
    });
    assert_eq!(
        both,
        (
            Err("not listed".to_string()),
            vec!["after the first block", "after the second block"]
        )
    );
    assert_eq!(none, Some(1), "suppress_if swallowed the None");
}

#[test]
fn suppress_does_not_swallow_a_failure_of_a_block_with_a_value_nor_a_panic() {
    let valued = run_both(|| async {
        let valued: Result<u8, AppError> = async {
            Ok(async_with!(suppress::<std::num::ParseIntError>() => {
                "x".parse::<u8>()?
            }))
        }
        .await;
        valued
    });
    assert!(
        matches!(valued, Err(AppError::Parse(_))),
        "the typing rule: only a `()` block can be suppressed"
    );
    let message = panic_message(|| {
        futures_executor::block_on(async {
            async_with!(suppress_if(|_| true) => { panic!("not suppressible") });
        })
    });
    assert_eq!(message, "not suppressible");
}

// ---------------------------------------------------------------- from_fn

/// A `from_fn` manager that logs like `Recorder`.
fn recorded(
    name: &'static str,
    log: &Log,
    fail_enter: bool,
    on_exit: OnExit,
) -> impl async_with::AsyncContextManager<Target = String, Error = ManagerError> {
    let (enter_log, exit_log) = (log.clone(), log.clone());
    from_fn(
        async move || {
            yield_now().await;
            if fail_enter {
                enter_log.push(format!("enter {name} failed"));
                return Err(ManagerError {
                    name,
                    step: "enter",
                    saw: None,
                });
            }
            enter_log.push(format!("enter {name}"));
            Ok(format!("{name}-target"))
        },
        async move |target: String, outcome: Outcome<'_>| {
            yield_now().await;
            let saw = describe(&outcome);
            exit_log.push(format!("exit {name} ({target}): {saw}"));
            match on_exit {
                OnExit::Propagate => Ok(ExitAction::Propagate),
                OnExit::Suppress => Ok(ExitAction::Suppress),
                OnExit::Fail => Err(ManagerError {
                    name,
                    step: "exit",
                    saw: Some(saw),
                }),
            }
        },
    )
}

/// One scenario through two `from_fn` managers.
async fn two_managers(
    log: &Log,
    second_fails_enter: bool,
    on_exit: OnExit,
    block_fails: bool,
) -> Result<&'static str, AppError> {
    async_with!(
        a = recorded("a", log, false, OnExit::Propagate),
        b = recorded("b", log, second_fails_enter, on_exit) => {
        log.push(format!("block {a} {b}"));
        if block_fails {
            "x".parse::<u8>()?;
        }
    });
    Ok("after")
}

#[test]
fn from_fn_keeps_every_guarantee() {
    let failed = "failed(invalid digit found in string)";
    let cases: [Case<&str>; 5] = [
        // completed, exited exactly once
        (
            false,
            OnExit::Propagate,
            false,
            Ok("after"),
            vec![
                "enter a".into(),
                "enter b".into(),
                "block a-target b-target".into(),
                "exit b (b-target): completed".into(),
                "exit a (a-target): completed".into(),
            ],
        ),
        // a failed enter among several managers: b fails to enter, a exits with that failure
        (
            true,
            OnExit::Propagate,
            false,
            Err(manager_error("b", "enter", None)),
            vec![
                "enter a".into(),
                "enter b failed".into(),
                "exit a (a-target): failed(b failed to enter)".into(),
            ],
        ),
        // suppression: b suppresses, a sees completed
        (
            false,
            OnExit::Suppress,
            true,
            Ok("after"),
            vec![
                "enter a".into(),
                "enter b".into(),
                "block a-target b-target".into(),
                format!("exit b (b-target): {failed}"),
                "exit a (a-target): completed".into(),
            ],
        ),
        // exit fails after a completed block
        (
            false,
            OnExit::Fail,
            false,
            Err(manager_error("b", "exit", Some("completed"))),
            vec![
                "enter a".into(),
                "enter b".into(),
                "block a-target b-target".into(),
                "exit b (b-target): completed".into(),
                "exit a (a-target): failed(b failed to exit)".into(),
            ],
        ),
        // exit fails after a failed block: b's error replaces the block's, and keeps what it saw
        (
            false,
            OnExit::Fail,
            true,
            Err(manager_error("b", "exit", Some(failed))),
            vec![
                "enter a".into(),
                "enter b".into(),
                "block a-target b-target".into(),
                format!("exit b (b-target): {failed}"),
                "exit a (a-target): failed(b failed to exit)".into(),
            ],
        ),
    ];
    for (second_fails_enter, on_exit, block_fails, expected, expected_events) in cases {
        let (result, events) = run_both(|| async {
            let log = Log::default();
            let result = two_managers(&log, second_fails_enter, on_exit, block_fails).await;
            (result, log.events())
        });
        assert_eq!(result, expected);
        assert_eq!(events, expected_events);
    }
}

#[test]
fn from_fn_sees_a_panic_and_the_panic_resumes() {
    let log = Log::default();
    let message = panic_message(|| {
        futures_executor::block_on(async {
            let result: Result<(), AppError> = async {
                async_with!(_a = recorded("a", &log, false, OnExit::Suppress) => {
                    panic!("boom")
                });
                #[allow(unreachable_code)]
                Ok(())
            }
            .await;
            let _ = result;
        })
    });
    assert_eq!(message, "boom");
    assert_eq!(
        log.events(),
        ["enter a", "exit a (a-target): panicked(boom)"]
    );
}

#[test]
#[should_panic(expected = "`nullcontext` manager used twice")]
fn a_manager_entered_twice_says_so() {
    futures_executor::block_on(async {
        let mut manager = nullcontext(1);
        async_with!(_n = &mut manager => {});
        async_with!(_n = &mut manager => {});
    });
}

// ---------------------------------------------------------------- with

/// The closure API over a `Recorder`; the body fails when `fail` is set.
async fn with_recorder(
    log: &Log,
    fail_enter: bool,
    on_exit: OnExit,
    fail: bool,
) -> Result<Option<usize>, AppError> {
    let mut manager = Recorder::new("m", log).on_exit(on_exit);
    manager.fail_enter = fail_enter;
    with(manager, async |target: &mut String| {
        yield_now().await;
        log.push(format!("body {target}"));
        if fail {
            "x".parse::<u8>()?;
        }
        Ok(target.len())
    })
    .await
}

#[test]
fn with_keeps_every_guarantee_that_applies_to_a_closure() {
    // Unlike in `async_with!`, the closure's `?` has already converted the
    // error into the closure's error type when exit sees it.
    let failed = "failed(Parse(ParseIntError { kind: InvalidDigit }))";
    let cases: [Case<Option<usize>>; 6] = [
        // enter fails
        (
            true,
            OnExit::Propagate,
            false,
            Err(manager_error("m", "enter", None)),
            vec!["enter m failed".into()],
        ),
        // completed, exited exactly once
        (
            false,
            OnExit::Propagate,
            false,
            Ok(Some(8)),
            vec![
                "enter m".into(),
                "body m-target".into(),
                "exit m (m-target): completed".into(),
            ],
        ),
        // `?` fails: exit sees the failure, the same error comes back
        (
            false,
            OnExit::Propagate,
            true,
            Err(AppError::Parse("x".parse::<u8>().unwrap_err())),
            vec![
                "enter m".into(),
                "body m-target".into(),
                format!("exit m (m-target): {failed}"),
            ],
        ),
        // suppression: suppressed, so no value
        (
            false,
            OnExit::Suppress,
            true,
            Ok(None),
            vec![
                "enter m".into(),
                "body m-target".into(),
                format!("exit m (m-target): {failed}"),
            ],
        ),
        // exit fails after a completed block
        (
            false,
            OnExit::Fail,
            false,
            Err(manager_error("m", "exit", Some("completed"))),
            vec![
                "enter m".into(),
                "body m-target".into(),
                "exit m (m-target): completed".into(),
            ],
        ),
        // exit fails after a failed block: exit's error replaces the body's and kept what it saw
        (
            false,
            OnExit::Fail,
            true,
            Err(manager_error("m", "exit", Some(failed))),
            vec![
                "enter m".into(),
                "body m-target".into(),
                format!("exit m (m-target): {failed}"),
            ],
        ),
    ];
    for (fail_enter, on_exit, fail, expected, expected_events) in cases {
        let (result, events) = run_both(|| async {
            let log = Log::default();
            let result = with_recorder(&log, fail_enter, on_exit, fail).await;
            (result, log.events())
        });
        assert_eq!(result, expected);
        assert_eq!(events, expected_events);
    }
}

#[test]
fn with_lets_exit_downcast_the_failure() {
    let downcast = run_both(|| async {
        let seen = Cell::new(None);
        let manager = from_fn(
            async || Ok::<_, AppError>(()),
            async |(), outcome: Outcome<'_>| {
                let error = outcome.failure().and_then(|f| f.downcast_ref::<AppError>());
                seen.set(error.map(|error| matches!(error, AppError::Io(_))));
                Ok(ExitAction::Propagate)
            },
        );
        let result = with(manager, async |()| {
            Err::<(), _>(AppError::Io("disk".into()))
        })
        .await;
        assert_eq!(result, Err(AppError::Io("disk".into())));
        seen.get()
    });
    assert_eq!(downcast, Some(true));
}

#[test]
fn with_reports_a_panic_to_exit_then_resumes_it() {
    let log = Log::default();
    let message = panic_message(|| {
        futures_executor::block_on(async {
            let manager = Recorder::new("m", &log).on_exit(OnExit::Suppress);
            let _ = with(manager, async |_: &mut String| -> Result<(), AppError> {
                panic!("boom")
            })
            .await;
        })
    });
    assert_eq!(message, "boom");
    assert_eq!(
        log.events(),
        ["enter m", "exit m (m-target): panicked(boom)"]
    );
}

#[async_context]
async fn generated(log: &Log) -> Result<u32, ManagerError> {
    log.push("setup");
    let (value, exit) = yield_!(40);
    log.push(format!("teardown {value}: {}", exit.inspect(describe)));
    Ok(())
}

#[test]
fn with_drives_generators_and_exit_stacks() {
    let (value, events) = run_both(|| async {
        let log = Log::default();
        let value = with(generated(&log), async |n: &mut u32| {
            *n += 2;
            Ok::<_, AppError>(*n)
        })
        .await;
        let stacked = with(
            AsyncExitStack::<ManagerError>::default(),
            async |stack: &mut AsyncExitStack<'_, ManagerError>| {
                let n = stack.enter(generated(&log)).await?;
                Ok::<_, AppError>(*n)
            },
        )
        .await;
        assert_eq!(stacked, Ok(Some(40)));
        (value, log.events())
    });
    assert_eq!(value, Ok(Some(42)));
    assert_eq!(
        events,
        [
            "setup",
            "teardown 42: completed",
            "setup",
            "teardown 40: completed"
        ]
    );
}
