//! `return` leaving the block (docs/contract.md, "`return`, `?`, `break`
//! and `continue`"): exit runs first, the returned value is computed before
//! it, a `return` of an error value (`Err`, `None`) is a failure exit sees
//! and may suppress, a `return` of a success is not. Each test runs on the
//! runtime-free executor and on tokio.

#[path = "common/app_error.rs"]
mod app_error;
mod common;

use app_error::AppError;
use async_with::async_with;
use common::{Log, OnExit, Quiet, Recorder, run_both};

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
fn return_runs_exit_first_and_evaluates_its_value_before_exit() {
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

/// `return Err(e)` is how Rust raises: exit sees a failure whose
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
fn return_of_an_error_is_a_failure_exit_sees_and_return_of_ok_completes() {
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
fn every_return_in_a_block_is_seen_for_its_own_value() {
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
fn exit_downcasts_the_error_of_a_return() {
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
fn return_none_is_a_failure_return_some_completes() {
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
fn a_suppressed_return_of_an_error_goes_on_after_the_macro() {
    // Suppression applies to a raising `return` as to `?`: the block's value is
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
fn a_suppressing_exit_does_not_stop_a_return_of_ok() {
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
fn a_suppressing_exit_does_not_stop_a_return_whose_value_is_ok_at_run_time() {
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

/// The function's return type reaches a `return`'s value where it is
/// written, as in a plain `return`: the coercion inside `Err(..)` to a
/// `Box<dyn Error>` happens (the value is not typed first by itself).
#[test]
fn a_returned_value_is_coerced_to_the_function_return_type() {
    #[derive(Debug)]
    struct Invalid;
    impl std::fmt::Display for Invalid {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("invalid")
        }
    }
    impl std::error::Error for Invalid {}

    async fn check(n: u32) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
        async_with!(_lock = async_with::nullcontext(()) => {
            if n == 0 {
                return Err(Box::new(Invalid));
            }
            Ok(n)
        })
    }
    let error = futures_executor::block_on(check(0)).unwrap_err();
    assert_eq!(error.to_string(), "invalid");
    assert_eq!(futures_executor::block_on(check(3)).unwrap(), 3);
}
