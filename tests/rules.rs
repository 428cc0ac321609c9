//! One test (or more) per rule of SPEC §2, rules 1-9, 11 and 12, each run on
//! the runtime-free executor and on tokio.

mod common;

use async_with::async_with;
use common::{Counter, Log, ManagerError, OnExit, Quiet, Recorder, run_both};

#[derive(Debug, PartialEq)]
enum AppError {
    Manager(ManagerError),
    Parse(std::num::ParseIntError),
    Other(&'static str),
}

impl From<ManagerError> for AppError {
    fn from(error: ManagerError) -> Self {
        AppError::Manager(error)
    }
}

impl From<std::num::ParseIntError> for AppError {
    fn from(error: std::num::ParseIntError) -> Self {
        AppError::Parse(error)
    }
}

impl From<&'static str> for AppError {
    fn from(error: &'static str) -> Self {
        AppError::Other(error)
    }
}

#[test]
fn rule_01_enter_fails_block_and_exit_never_run() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let ran = std::cell::Cell::new(false);
        let result: Result<u32, AppError> = async {
            let value = async_with!(_conn = Recorder::new("a", &log).failing_enter() => {
                ran.set(true);
                1
            });
            Ok(value)
        }
        .await;
        assert!(!ran.get(), "the block ran although enter failed");
        (result, log.events())
    });
    assert_eq!(
        result,
        Err(AppError::Manager(ManagerError {
            name: "a",
            step: "enter",
            saw: None
        }))
    );
    assert_eq!(events, ["enter a failed"]);
}

#[test]
fn rule_02_block_completes_exit_sees_completed_and_value_is_returned() {
    let (value, events) = run_both(|| async {
        let log = Log::default();
        let value: Result<usize, AppError> = async {
            Ok(async_with!(conn = Recorder::new("a", &log) => {
                common::yield_now().await;
                conn.len()
            }))
        }
        .await;
        (value, log.events())
    });
    assert_eq!(value, Ok("a-target".len()));
    assert_eq!(events, ["enter a", "exit a (a-target): completed"]);
}

async fn early_return(log: &Log, order: &Log) -> Result<&'static str, AppError> {
    async_with!(_conn = Recorder::new("a", log) => {
        return Ok({
            order.push("return value computed");
            log.push("return value computed");
            "early"
        });
    });
    #[allow(unreachable_code)]
    Ok("late")
}

#[test]
fn rule_03_return_runs_exit_first_and_evaluates_its_value_before_exit() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result = early_return(&log, &Log::default()).await;
        (result, log.events())
    });
    assert_eq!(result, Ok("early"));
    assert_eq!(
        events,
        [
            "enter a",
            "return value computed",
            "exit a (a-target): completed"
        ]
    );
}

/// `return Err(e)` is how Rust raises (rule 3): exit sees a failure whose
/// error it can downcast, then the same `return` happens.
async fn return_an_error(log: &Log, fail: bool) -> Result<u32, AppError> {
    async_with!(_conn = Recorder::new("a", log) => {
        if fail {
            return Err(AppError::Other("refused"));
        }
    });
    Ok(1)
}

#[test]
fn rule_03_return_of_an_error_is_a_failure_exit_sees_and_return_of_ok_completes() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (return_an_error(&log, true).await, log.events())
    });
    assert_eq!(result, Err(AppError::Other("refused")));
    assert_eq!(
        events,
        ["enter a", "exit a (a-target): failed(Other(\"refused\"))"]
    );
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (return_an_error(&log, false).await, log.events())
    });
    assert_eq!(result, Ok(1));
    assert_eq!(events, ["enter a", "exit a (a-target): completed"]);
}

/// Several `return`s in one block, a success first: each is seen for what
/// its value is.
async fn returns(log: &Log, which: u8) -> Result<u32, AppError> {
    async_with!(_conn = Recorder::new("a", log) => {
        if which == 0 {
            return Ok(10);
        }
        if which == 1 {
            return Err(AppError::Other("refused"));
        }
        if which == 2 {
            return Ok(12);
        }
    });
    Ok(3)
}

#[test]
fn rule_03_every_return_in_a_block_is_seen_for_its_own_value() {
    let run = |which| {
        run_both(move || async move {
            let log = Log::default();
            (returns(&log, which).await, log.events())
        })
    };
    let completed = ["enter a", "exit a (a-target): completed"];
    assert_eq!(run(0), (Ok(10), completed.map(String::from).to_vec()));
    assert_eq!(
        run(1),
        (
            Err(AppError::Other("refused")),
            ["enter a", "exit a (a-target): failed(Other(\"refused\"))"]
                .map(String::from)
                .to_vec()
        )
    );
    assert_eq!(run(2), (Ok(12), completed.map(String::from).to_vec()));
    assert_eq!(run(3), (Ok(3), completed.map(String::from).to_vec()));
}

#[test]
fn rule_03_exit_downcasts_the_error_of_a_return() {
    struct Downcasts(std::sync::Arc<std::sync::Mutex<Option<AppError>>>);
    impl async_with::AsyncContextManager for Downcasts {
        type Target = ();
        type Error = std::convert::Infallible;
        async fn enter(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
        async fn exit(
            &mut self,
            _: (),
            outcome: async_with::Outcome<'_>,
        ) -> Result<async_with::ExitAction, Self::Error> {
            let failure = outcome
                .failure()
                .expect("the return of Err failed the block");
            let error = failure
                .downcast_ref::<AppError>()
                .expect("the error as written");
            *self.0.lock().unwrap() = Some(match error {
                AppError::Other(text) => AppError::Other(text),
                _ => AppError::Other("unexpected"),
            });
            Ok(async_with::ExitAction::Propagate)
        }
    }
    let seen = run_both(|| async {
        let seen = std::sync::Arc::default();
        let result: Result<(), AppError> = async {
            async_with!(Downcasts(std::sync::Arc::clone(&seen)) => {
                return Err(AppError::Other("seen"));
            })
        }
        .await;
        assert_eq!(result, Err(AppError::Other("seen")));
        seen.lock().unwrap().take()
    });
    assert_eq!(seen, Some(AppError::Other("seen")));
}

async fn return_none(log: &Log, found: bool) -> Option<u8> {
    async_with!(_q = Quiet::new(log) => {
        if !found {
            return None;
        }
    });
    Some(3)
}

#[test]
fn rule_03_return_none_is_a_failure_return_some_completes() {
    let (value, events) = run_both(|| async {
        let log = Log::default();
        (return_none(&log, false).await, log.events())
    });
    assert_eq!(value, None);
    assert_eq!(events, ["enter quiet", "exit quiet: failed(None)"]);
    let (value, events) = run_both(|| async {
        let log = Log::default();
        (return_none(&log, true).await, log.events())
    });
    assert_eq!(value, Some(3));
    assert_eq!(events, ["enter quiet", "exit quiet: completed"]);
}

#[test]
fn rule_03_a_suppressed_return_of_an_error_goes_on_after_the_macro() {
    // Rule 5 applies to a raising `return` as to `?`: the block's value is
    // `()`, so exit's `Suppress` is honoured.
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<&'static str, AppError> = async {
            async_with!(_conn = Recorder::new("a", &log).on_exit(OnExit::Suppress) => {
                return Err(AppError::Other("swallowed"));
            });
            log.push("after the macro");
            Ok("went on")
        }
        .await;
        (result, log.events())
    });
    assert_eq!(result, Ok("went on"));
    assert_eq!(
        events,
        [
            "enter a",
            "exit a (a-target): failed(Other(\"swallowed\"))",
            "after the macro"
        ]
    );
}

#[test]
fn rule_03_a_suppressing_exit_does_not_stop_a_return_of_ok() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<&'static str, AppError> = async {
            async_with!(_conn = Recorder::new("a", &log).on_exit(OnExit::Suppress) => {
                return Ok("returned");
            });
            #[allow(unreachable_code)]
            Ok("went on")
        }
        .await;
        (result, log.events())
    });
    assert_eq!(result, Ok("returned"));
    assert_eq!(events, ["enter a", "exit a (a-target): completed"]);
}

#[test]
fn rule_03_a_suppressing_exit_does_not_stop_a_return_whose_value_is_ok_at_run_time() {
    // Not written `Ok(..)`: whether it is a success is known only when it
    // runs, and a success is not suppressed.
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<&'static str, AppError> = async {
            async_with!(_conn = Recorder::new("a", &log).on_exit(OnExit::Suppress) => {
                let value: Result<&'static str, AppError> = "returned".parse::<u8>().map_or(Ok("returned"), |_| Ok("number"));
                return value;
            });
            #[allow(unreachable_code)]
            Ok("went on")
        }
        .await;
        (result, log.events())
    });
    assert_eq!(result, Ok("returned"));
    assert_eq!(events, ["enter a", "exit a (a-target): completed"]);
}

/// A block whose value is `Err(e)` failed (rule 4): exit sees it, and the
/// macro evaluates to that same `Err(e)`, even if exit suppresses.
async fn block_value(log: &Log, fail: bool, on_exit: OnExit) -> Result<u32, AppError> {
    async_with!(conn = Recorder::new("a", log).on_exit(on_exit) => {
        if fail { Err(AppError::Other("value")) } else { Ok(conn.len() as u32) }
    })
}

#[test]
fn rule_04_a_block_whose_value_is_err_failed_and_the_macro_evaluates_to_it() {
    for on_exit in [OnExit::Propagate, OnExit::Suppress] {
        let (result, events) = run_both(|| async {
            let log = Log::default();
            (block_value(&log, true, on_exit).await, log.events())
        });
        assert_eq!(result, Err(AppError::Other("value")));
        assert_eq!(
            events,
            ["enter a", "exit a (a-target): failed(Other(\"value\"))"]
        );
    }
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (
            block_value(&log, false, OnExit::Propagate).await,
            log.events(),
        )
    });
    assert_eq!(result, Ok(8));
    assert_eq!(events, ["enter a", "exit a (a-target): completed"]);
}

/// The function fixes the block's error type, after the macro; it is
/// neither `Send` nor `Sync`. A value written `Ok(..)` is never an error,
/// so it needs no view of that type: this compiles and completes.
async fn boxed_error(log: &Log, text: &str) -> Result<u32, Box<dyn std::error::Error>> {
    async_with!(_q = Quiet::new(log) => {
        let n: u32 = text.parse()?;
        if n == 0 {
            return Ok(0);
        }
        Ok(n + 1)
    })
}

#[test]
fn rule_04_a_block_ending_in_ok_whose_error_type_the_function_fixes() {
    let (value, events) = run_both(|| async {
        let log = Log::default();
        let value = boxed_error(&log, "4").await.map_err(|e| e.to_string());
        (value, log.events())
    });
    assert_eq!(value, Ok(5));
    assert_eq!(events, ["enter quiet", "exit quiet: completed"]);
    let (value, events) = run_both(|| async {
        let log = Log::default();
        let value = boxed_error(&log, "x").await.map_err(|e| e.to_string());
        (value, log.events())
    });
    assert_eq!(value, Err("invalid digit found in string".to_string()));
    assert_eq!(
        events,
        [
            "enter quiet",
            "exit quiet: failed(invalid digit found in string)"
        ]
    );
}

#[test]
fn rule_04_a_block_whose_value_is_none_failed() {
    let (value, events) = run_both(|| async {
        let log = Log::default();
        let value: Option<u8> = async_with!(_q = Quiet::new(&log) => { "x".parse().ok() });
        (value, log.events())
    });
    assert_eq!(value, None);
    assert_eq!(events, ["enter quiet", "exit quiet: failed(None)"]);
}

#[test]
fn rule_04_a_block_value_of_another_type_completed() {
    let (value, events) = run_both(|| async {
        let log = Log::default();
        let value = async_with!(_q = Quiet::new(&log) => { vec![1_u8] });
        (value, log.events())
    });
    assert_eq!(value, [1]);
    assert_eq!(events, ["enter quiet", "exit quiet: completed"]);
}

#[test]
fn rule_03_labelled_break_from_an_inner_loop_leaves_the_outer_loop_after_exit() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let mut rounds = 0;
        let result: Result<u32, AppError> = async {
            let found = 'outer: loop {
                rounds += 1;
                if rounds > 3 {
                    break 0;
                }
                async_with!(_conn = Recorder::new("a", &log) => {
                    for i in 0.. {
                        if i == 3 {
                            break 'outer i * 10;
                        }
                    }
                });
            };
            Ok(found)
        }
        .await;
        (result.map(|found| (found, rounds)), log.events())
    });
    assert_eq!(result, Ok((30, 1)));
    assert_eq!(events, ["enter a", "exit a (a-target): completed"]);
}

#[test]
fn rule_03_continue_and_break_run_exit_every_time() {
    let (visited, events) = run_both(|| async {
        let log = Log::default();
        let mut visited = Vec::new();
        let result: Result<(), AppError> = async {
            for i in 0..5 {
                async_with!(_conn = Recorder::new("a", &log) => {
                    if i % 2 == 0 {
                        continue;
                    }
                    if i == 3 {
                        break;
                    }
                    visited.push(i);
                });
            }
            Ok(())
        }
        .await;
        result.unwrap();
        (visited, log.events())
    });
    // i = 0 (continue), 1 (visit), 2 (continue), 3 (break): each round
    // enters and exits, and exit sees a completed block every time.
    assert_eq!(visited, [1]);
    let round = ["enter a", "exit a (a-target): completed"];
    assert_eq!(events, round.repeat(4));
}

#[test]
fn rule_04_question_mark_on_result_fails_exit_sees_error_and_it_propagates_converted() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<i32, AppError> = async {
            let value = async_with!(_conn = Recorder::new("a", &log) => {
                let n: i32 = "not a number".parse()?;
                n
            });
            Ok(value)
        }
        .await;
        (result, log.events())
    });
    let expected = "not a number".parse::<i32>().unwrap_err();
    assert_eq!(result, Err(AppError::Parse(expected.clone())));
    assert_eq!(
        events,
        ["enter a", &format!("exit a (a-target): failed({expected})")]
    );
}

#[test]
fn rule_04_exit_can_downcast_the_error_to_its_concrete_type() {
    use async_with::{ExitAction, Outcome, SendContextManager};

    struct Downcaster(Option<std::num::IntErrorKind>);
    // `Send`: the `Send` variant, so `&mut manager` lends it.
    impl SendContextManager for Downcaster {
        type Target = ();
        type Error = std::convert::Infallible;
        async fn enter(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
        async fn exit(&mut self, _: (), outcome: Outcome<'_>) -> Result<ExitAction, Self::Error> {
            let failure = outcome.failure().expect("the block failed");
            assert!(failure.is::<std::num::ParseIntError>());
            assert!(!failure.is::<std::io::Error>());
            self.0 = failure
                .downcast_ref::<std::num::ParseIntError>()
                .map(|error| *error.kind());
            Ok(ExitAction::Propagate)
        }
    }

    let kind = run_both(|| async {
        let mut manager = Downcaster(None);
        let result: Result<(), AppError> = async {
            async_with!(&mut manager => {
                let _: u8 = "".parse()?;
            });
            Ok(())
        }
        .await;
        assert!(matches!(result, Err(AppError::Parse(_))));
        manager.0
    });
    assert_eq!(kind, Some(std::num::IntErrorKind::Empty));
}

#[test]
fn rule_04_question_mark_on_option_fails_and_propagates_none() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Option<u32> = async {
            let value = async_with!(_quiet = Quiet::new(&log) => {
                log.push("in the block");
                let missing: Option<u32> = None;
                missing?
            });
            Some(value + 1)
        }
        .await;
        (result, log.events())
    });
    assert_eq!(result, None);
    // A `None` has no error to show: exit sees a failure without one.
    assert_eq!(
        events,
        ["enter quiet", "in the block", "exit quiet: failed(None)"]
    );
}

#[test]
fn rule_04_option_failure_is_visible_to_exit_and_infallible_managers_work_in_option_fns() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Option<u32> = async {
            async_with!(_quiet = common::Quiet::new(&log) => {
                None::<u32>?;
            });
            Some(1)
        }
        .await;
        (result, log.events())
    });
    assert_eq!(result, None);
    assert_eq!(events, ["enter quiet", "exit quiet: failed(None)"]);
}

async fn unit_fn(log: &Log) {
    async_with!(_quiet = common::Quiet::new(log) => {
        log.push("in unit fn");
    });
}

#[test]
fn infallible_managers_work_in_functions_returning_unit() {
    let events = run_both(|| async {
        let log = Log::default();
        unit_fn(&log).await;
        log.events()
    });
    assert_eq!(
        events,
        ["enter quiet", "in unit fn", "exit quiet: completed"]
    );
}

#[test]
fn rule_05_exit_suppresses_a_failure_and_execution_continues_after_the_macro() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<&'static str, AppError> = async {
            async_with!(_conn = Recorder::new("a", &log).on_exit(OnExit::Suppress) => {
                Err("boom")?;
                log.push("not reached");
            });
            log.push("after the macro");
            Ok("went on")
        }
        .await;
        (result, log.events())
    });
    assert_eq!(result, Ok("went on"));
    assert_eq!(
        events,
        [
            "enter a",
            "exit a (a-target): failed(\"boom\")",
            "after the macro"
        ]
    );
}

#[test]
fn rule_05_a_block_with_a_value_cannot_be_suppressed_so_its_failure_propagates() {
    // Typing rule: a suppressed failure makes `async_with!` evaluate to `()`.
    // A block whose value is not `()` has no value to go on with, so exit's
    // `Suppress` is not honoured and the failure propagates untouched.
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<u32, AppError> = async {
            let value = async_with!(_conn = Recorder::new("a", &log).on_exit(OnExit::Suppress) => {
                let n: u32 = "x".parse()?;
                n
            });
            Ok(value)
        }
        .await;
        (result, log.events())
    });
    assert!(matches!(result, Err(AppError::Parse(_))));
    // Exit saw the failure (and asked to suppress it, in vain).
    assert_eq!(
        events,
        [
            "enter a",
            "exit a (a-target): failed(invalid digit found in string)"
        ]
    );
}

#[test]
fn rule_05_suppress_on_a_completed_block_changes_nothing() {
    let value = run_both(|| async {
        let log = Log::default();
        let result: Result<u8, AppError> = async {
            Ok(async_with!(_c = Recorder::new("a", &log).on_exit(OnExit::Suppress) => { 7 }))
        }
        .await;
        result
    });
    assert_eq!(value, Ok(7));
}

#[test]
fn rule_06_panic_runs_exit_with_the_payload_then_resumes_the_same_payload() {
    let events = run_both(|| async {
        let log = Log::default();
        let caught = {
            let future = std::panic::AssertUnwindSafe(async {
                let _: Result<(), AppError> = async {
                    async_with!(_conn = Recorder::new("a", &log).on_exit(OnExit::Suppress) => {
                        common::yield_now().await;
                        std::panic::panic_any(String::from("block panicked"));
                    });
                    log.push("not reached: panics are never suppressed");
                    Ok(())
                }
                .await;
            });
            catch_unwind_future(future).await
        };
        let payload = caught.expect_err("the panic resumed");
        let message = payload.downcast::<String>().expect("same payload type");
        log.push(format!("caught {message}"));
        log.events()
    });
    assert_eq!(
        events,
        [
            "enter a",
            "exit a (a-target): panicked(block panicked)",
            "caught block panicked"
        ]
    );
}

#[test]
fn rule_06_non_string_payloads_reach_exit_through_payload_mut() {
    use async_with::{ExitAction, Outcome, SendContextManager};

    #[derive(Debug, PartialEq)]
    struct Code(u32);
    struct Grab(Option<u32>);
    // `Send`: the `Send` variant, so `&mut manager` lends it.
    impl SendContextManager for Grab {
        type Target = ();
        type Error = std::convert::Infallible;
        async fn enter(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
        async fn exit(&mut self, _: (), outcome: Outcome<'_>) -> Result<ExitAction, Self::Error> {
            if let Outcome::Panicked(mut panic) = outcome {
                assert_eq!(panic.message(), None);
                self.0 = panic
                    .payload_mut()
                    .and_then(|payload| payload.downcast_mut::<Code>())
                    .map(|code| code.0);
            }
            Ok(ExitAction::Propagate)
        }
    }
    let (seen, resumed) = run_both(|| async {
        let mut grab = Grab(None);
        let caught = catch_unwind_future(std::panic::AssertUnwindSafe(async {
            async_with!(&mut grab => {
                std::panic::panic_any(Code(42));
            })
        }))
        .await;
        let resumed = caught
            .unwrap_err()
            .downcast::<Code>()
            .map(|code| *code)
            .ok();
        (grab.0, resumed)
    });
    assert_eq!(seen, Some(42));
    assert_eq!(resumed, Some(Code(42)));
}

/// `catch_unwind` for a future, without extra dependencies.
async fn catch_unwind_future<F: std::future::Future + std::panic::UnwindSafe>(
    future: F,
) -> Result<F::Output, Box<dyn std::any::Any + Send>> {
    let mut future = Box::pin(future);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Ok(std::task::Poll::Ready(value)) => std::task::Poll::Ready(Ok(value)),
            Err(payload) => std::task::Poll::Ready(Err(payload)),
        }
    })
    .await
}

#[test]
fn rule_07_exit_fails_after_a_completed_block_and_its_error_propagates() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<u8, AppError> =
            async { Ok(async_with!(_c = Recorder::new("a", &log).on_exit(OnExit::Fail) => { 1 })) }
                .await;
        (result, log.events())
    });
    assert_eq!(
        result,
        Err(AppError::Manager(ManagerError {
            name: "a",
            step: "exit",
            saw: Some("completed".into())
        }))
    );
    assert_eq!(events, ["enter a", "exit a (a-target): completed"]);
}

/// Exit fails after the block failed, and keeps the block's error itself
/// (downcast from the outcome) as its `source()`: Python's `__context__`.
#[derive(Debug)]
struct CloseFailed {
    during: Option<std::num::ParseIntError>,
}

impl std::fmt::Display for CloseFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("close failed")
    }
}

impl std::error::Error for CloseFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.during.as_ref().map(|error| error as _)
    }
}

struct FailingClose;

impl async_with::AsyncContextManager for FailingClose {
    type Target = ();
    type Error = CloseFailed;

    async fn enter(&mut self) -> Result<(), CloseFailed> {
        Ok(())
    }

    async fn exit(
        &mut self,
        (): (),
        outcome: async_with::Outcome<'_>,
    ) -> Result<async_with::ExitAction, CloseFailed> {
        let during = outcome
            .failure()
            .and_then(|failure| failure.downcast_ref::<std::num::ParseIntError>())
            .cloned();
        Err(CloseFailed { during })
    }
}

#[test]
fn rule_08_exit_fails_after_a_failed_block_and_the_caller_reaches_both_errors() {
    // Python's rule: exit's error replaces the block's, and keeps it as its
    // context. Exit has the block's error in hand (`Outcome::Failed`),
    // downcasts it and keeps the value: the caller reaches both errors
    // through `source()`, not a rendering made by the test.
    let result = run_both(|| async {
        let result: Result<(), Box<dyn std::error::Error>> = async {
            async_with!(FailingClose => {
                let _: u8 = "300".parse()?;
            });
            Ok(())
        }
        .await;
        result.map_err(|error| {
            let close = error.downcast_ref::<CloseFailed>().expect("exit's error");
            (error.to_string(), close.during.clone(), source_of(&*error))
        })
    });
    let body_error = "300".parse::<u8>().unwrap_err();
    assert_eq!(
        result,
        Err((
            "close failed".to_string(),
            Some(body_error.clone()),
            body_error.to_string()
        ))
    );
}

fn source_of(error: &dyn std::error::Error) -> String {
    error
        .source()
        .map_or_else(|| "no source".to_string(), ToString::to_string)
}

#[test]
fn rule_09_managers_enter_left_to_right_and_exit_right_to_left() {
    let (value, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<String, AppError> = async {
            Ok(
                async_with!(a = Recorder::new("a", &log), b = Recorder::new("b", &log) => {
                    format!("{a}+{b}")
                }),
            )
        }
        .await;
        (result, log.events())
    });
    assert_eq!(value, Ok("a-target+b-target".to_string()));
    assert_eq!(
        events,
        [
            "enter a",
            "enter b",
            "exit b (b-target): completed",
            "exit a (a-target): completed"
        ]
    );
}

#[test]
fn rule_09_a_manager_without_a_pattern_may_end_in_a_question_mark() {
    // `quiet?,` once made the next manager's `=` look like its pattern's.
    let (value, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<String, AppError> = async {
            let quiet: Result<Quiet, AppError> = Ok(Quiet::new(&log));
            Ok(async_with!(quiet?, b = Recorder::new("b", &log) => { b.clone() }))
        }
        .await;
        (result, log.events())
    });
    assert_eq!(value, Ok("b-target".to_string()));
    assert_eq!(
        events,
        [
            "enter quiet",
            "enter b",
            "exit b (b-target): completed",
            "exit quiet: completed"
        ]
    );
}

#[test]
fn rule_09_second_enter_fails_and_the_first_manager_exits_with_that_failure() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<(), AppError> = async {
            async_with!(_a = Recorder::new("a", &log), _b = Recorder::new("b", &log).failing_enter() => {
                log.push("block");
            });
            Ok(())
        }
        .await;
        (result, log.events())
    });
    assert_eq!(
        result,
        Err(AppError::Manager(ManagerError {
            name: "b",
            step: "enter",
            saw: None
        }))
    );
    assert_eq!(
        events,
        [
            "enter a",
            "enter b failed",
            "exit a (a-target): failed(b failed to enter)"
        ]
    );
}

#[test]
fn rule_09_three_managers_innermost_fails_each_outer_exit_sees_what_the_inner_left() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<(), AppError> = async {
            async_with!(
                _a = Recorder::new("a", &log),
                _b = Recorder::new("b", &log).on_exit(OnExit::Fail),
                _c = Recorder::new("c", &log) => {
                Err("block failed")?;
            });
            Ok(())
        }
        .await;
        (result, log.events())
    });
    assert_eq!(
        result,
        Err(AppError::Manager(ManagerError {
            name: "b",
            step: "exit",
            saw: Some("failed(\"block failed\")".into())
        }))
    );
    assert_eq!(
        events,
        [
            "enter a",
            "enter b",
            "enter c",
            "exit c (c-target): failed(\"block failed\")",
            "exit b (b-target): failed(\"block failed\")",
            // b's exit error replaced the block's failure.
            "exit a (a-target): failed(b failed to exit)",
        ]
    );
}

#[test]
fn rule_09_inner_suppression_turns_the_outcome_into_completed_for_the_outer() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<&str, AppError> = async {
            async_with!(_a = Recorder::new("a", &log), _b = Recorder::new("b", &log).on_exit(OnExit::Suppress) => {
                Err("swallowed")?;
            });
            Ok("continued")
        }
        .await;
        (result, log.events())
    });
    assert_eq!(result, Ok("continued"));
    assert_eq!(
        events,
        [
            "enter a",
            "enter b",
            "exit b (b-target): failed(\"swallowed\")",
            "exit a (a-target): completed",
        ]
    );
}

#[test]
fn rule_11_every_entered_manager_exits_exactly_once_on_every_path() {
    use std::cell::RefCell;
    use std::rc::Rc;

    #[derive(Clone, Copy, Debug)]
    enum Path {
        Complete,
        Return,
        Question,
        Break,
        Continue,
        Panic,
    }

    async fn run(path: Path, mut counter: Counter) -> Option<u8> {
        let mut iterations = 0;
        loop {
            iterations += 1;
            if iterations > 1 {
                return Some(0);
            }
            // `Counter` holds `Rc`s: not `Send`, lent with `by_ref`.
            async_with!(_c = async_with::by_ref(&mut counter) => {
                match path {
                    Path::Complete => {}
                    Path::Return => return Some(1),
                    Path::Question => {
                        None::<u8>?;
                    }
                    Path::Break => break,
                    Path::Continue => continue,
                    Path::Panic => panic!("path panic"),
                }
            });
            return Some(2);
        }
        Some(3)
    }

    for path in [
        Path::Complete,
        Path::Return,
        Path::Question,
        Path::Break,
        Path::Continue,
        Path::Panic,
    ] {
        let entered = Rc::new(RefCell::new(0));
        let exited = Rc::new(RefCell::new(0));
        let counter = Counter {
            entered: entered.clone(),
            exited: exited.clone(),
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            futures_executor::block_on(run(path, counter))
        }));
        let expected = match path {
            Path::Complete => Ok(Some(2)),
            Path::Return => Ok(Some(1)),
            Path::Question => Ok(None),
            Path::Break => Ok(Some(3)),
            Path::Continue => Ok(Some(0)),
            Path::Panic => Err(()),
        };
        assert_eq!(result.map_err(|_| ()), expected, "{path:?}");
        assert_eq!((*entered.borrow(), *exited.borrow()), (1, 1), "{path:?}");
    }
}

#[test]
fn rule_11_a_manager_whose_enter_failed_is_never_exited() {
    let events = run_both(|| async {
        let log = Log::default();
        let _: Result<(), AppError> = async {
            async_with!(_a = Recorder::new("a", &log).failing_enter(), _b = Recorder::new("b", &log) => {});
            Ok(())
        }
        .await;
        log.events()
    });
    assert_eq!(events, ["enter a failed"]);
}
