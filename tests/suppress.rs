//! Suppression (docs/contract.md, "Suppression"): exit may suppress a
//! failure of a block whose value is `()`, and execution goes on after the
//! macro; a block with another value cannot be suppressed. Each test runs
//! on the runtime-free executor and on tokio.

#[path = "common/app_error.rs"]
mod app_error;
mod common;

use app_error::AppError;
use async_with::async_with;
use common::{Log, OnExit, Recorder, run_both};

#[test]
fn exit_suppresses_a_failure_and_execution_continues_after_the_macro() {
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
fn a_block_with_a_value_cannot_be_suppressed_so_its_failure_propagates() {
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
fn suppress_on_a_completed_block_changes_nothing() {
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
