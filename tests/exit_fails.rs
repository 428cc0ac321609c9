//! Exit fails (docs/contract.md, "When exit fails"): after a completed
//! block its error propagates like `?`; after a failed block nothing is
//! lost, the caller reaches both errors. The other forms (several managers,
//! nesting, generators, `with()`, exit stacks) are in
//! `tests/suppressed_errors.rs`. Each test runs on the runtime-free
//! executor and on tokio.

#[path = "common/app_error.rs"]
mod app_error;
mod common;

use app_error::AppError;
use async_with::async_with;
use common::{Log, ManagerError, OnExit, Recorder, run_both};

#[test]
fn exit_fails_after_a_completed_block_and_its_error_propagates() {
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
fn exit_fails_after_a_failed_block_and_the_caller_reaches_both_errors() {
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
