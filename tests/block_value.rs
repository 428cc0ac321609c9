//! The block's value (docs/contract.md, "The block's value"): a value that
//! is `Err(e)` or `None` is a failure exit sees, and the macro evaluates to
//! that same value; any other value completes. Each test runs on the
//! runtime-free executor and on tokio.

#[path = "common/app_error.rs"]
mod app_error;
mod common;

use app_error::AppError;
use async_with::async_with;
use common::{Log, OnExit, Quiet, Recorder, run_both};

/// A block whose value is `Err(e)` failed: exit sees it, and the
/// macro evaluates to that same `Err(e)`, even if exit suppresses.
async fn block_value(log: &Log, fail: bool, on_exit: OnExit) -> Result<u32, AppError> {
    async_with!(conn = Recorder::new("a", log).on_exit(on_exit) => {
        if fail { Err(AppError::Other("value")) } else { Ok(conn.len() as u32) }
    })
}

#[test]
fn a_block_whose_value_is_err_failed_and_the_macro_evaluates_to_it() {
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
fn a_block_ending_in_ok_whose_error_type_the_function_fixes() {
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
fn a_block_whose_value_is_none_failed() {
    let (value, events) = run_both(|| async {
        let log = Log::default();
        let value: Option<u8> = async_with!(_q = Quiet::new(&log) => { "x".parse().ok() });
        (value, log.events())
    });
    assert_eq!(value, None);
    assert_eq!(events, ["enter quiet", "exit quiet: failed(None)"]);
}

#[test]
fn a_block_value_of_another_type_completed() {
    let (value, events) = run_both(|| async {
        let log = Log::default();
        let value = async_with!(_q = Quiet::new(&log) => { vec![1_u8] });
        (value, log.events())
    });
    assert_eq!(value, [1]);
    assert_eq!(events, ["enter quiet", "exit quiet: completed"]);
}

/// A block without a tail has no value the context's type could change,
/// so the expansion gives it no witness: one that diverges still takes
/// the type the `let` expects, and exit sees its panic.
async fn diverging_without_tail(log: &Log) -> Result<u32, AppError> {
    let value: u32 = async_with!(_q = Recorder::new("a", log) => {
        panic!("no value");
    });
    Ok(value)
}

#[test]
fn a_block_without_a_tail_that_diverges_takes_the_contexts_type() {
    let log = Log::default();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures_executor::block_on(diverging_without_tail(&log))
    }));
    let payload = caught.expect_err("the block panics");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"no value"));
    assert_eq!(
        log.events(),
        ["enter a", "exit a (a-target): panicked(no value)"]
    );
}

/// A tail that diverges in parentheses is a tail that diverges: exit sees
/// no value (the `return` is the way out), and the macro's value, of an
/// unknown type as a statement, needs none.
#[allow(unused_parens, unreachable_code)]
async fn parenthesised_return(log: &Log) -> Result<u32, AppError> {
    async_with!(_q = Recorder::new("a", log) => {
        (return Ok(7))
    });
    Ok(0)
}

#[test]
fn a_parenthesised_diverging_tail_needs_no_value_type() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (parenthesised_return(&log).await, log.events())
    });
    assert_eq!(result, Ok(7));
    assert_eq!(events, ["enter a", "exit a (a-target): completed"]);
}
