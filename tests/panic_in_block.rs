//! A panic in the block (docs/contract.md, "Panics"): exit sees it, with
//! its payload, and the same panic resumes; it is never suppressed. Panics
//! in enter and exit are in `tests/panics.rs`. Each test runs on the
//! runtime-free executor and on tokio.

#[path = "common/app_error.rs"]
mod app_error;
mod common;

use app_error::AppError;
use async_with::async_with;
use common::{Log, OnExit, Recorder, run_both};

#[test]
fn panic_runs_exit_with_the_payload_then_resumes_the_same_payload() {
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
fn non_string_payloads_reach_exit_through_payload_mut() {
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
