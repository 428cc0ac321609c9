//! `?` failing in the block (docs/contract.md, "`return`, `?`, `break` and
//! `continue`" and "Outcomes"): on `Result` and on `Option`, exit sees a
//! failure it can format and downcast, then the same `?` propagates with the
//! same `From` conversion. Each test runs on the runtime-free executor and
//! on tokio.

#[path = "common/app_error.rs"]
mod app_error;
mod common;

use app_error::AppError;
use async_with::async_with;
use common::{Log, Quiet, Recorder, run_both};

#[test]
fn question_mark_on_result_fails_exit_sees_error_and_it_propagates_converted() {
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
fn exit_can_downcast_the_error_to_its_concrete_type() {
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
fn question_mark_on_option_fails_and_propagates_none() {
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
fn option_failure_is_visible_to_exit_and_infallible_managers_work_in_option_fns() {
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
