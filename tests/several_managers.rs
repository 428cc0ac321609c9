//! Several managers in one `async_with!` (docs/contract.md, "Several
//! managers and nesting"): entered left to right, exited right to left,
//! exactly as nested blocks; a failed enter exits the managers entered
//! before it with that failure, and each outer exit sees what the inner
//! one left. Each test runs on the runtime-free executor and on tokio.

#[path = "common/app_error.rs"]
mod app_error;
mod common;

use app_error::AppError;
use async_with::async_with;
use common::{Log, ManagerError, OnExit, Quiet, Recorder, run_both};

#[test]
fn managers_enter_left_to_right_and_exit_right_to_left() {
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
fn a_manager_without_a_pattern_may_end_in_a_question_mark() {
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
fn second_enter_fails_and_the_first_manager_exits_with_that_failure() {
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
fn three_managers_innermost_fails_each_outer_exit_sees_what_the_inner_left() {
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
fn inner_suppression_turns_the_outcome_into_completed_for_the_outer() {
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
