//! Feature `tracing`: each manager's enter and exit as a span, with the
//! block's outcome, how exit ended and how long each step took. Recorded by
//! the protocol's `Scope`, so every entry point is traced alike.
//!
//! Spans are at `DEBUG` level, target `async_with`, named
//! `async_with::enter` (fields `manager`, `result`, `elapsed_us`) and
//! `async_with::exit` (fields `manager`, `outcome`, `result`,
//! `elapsed_us`). With no subscriber interested, a span costs a callsite
//! check and no allocation.

use core::future::Future;
use std::time::Instant;

use tracing::Instrument;

use crate::{ExitAction, Outcome};

/// Instruments an enter future of the manager `M`.
pub(crate) fn enter<M: ?Sized, T, E>(
    future: impl Future<Output = Result<T, E>>,
) -> impl Future<Output = Result<T, E>> {
    let span = tracing::debug_span!(
        target: "async_with",
        "async_with::enter",
        manager = core::any::type_name::<M>(),
        result = tracing::field::Empty,
        elapsed_us = tracing::field::Empty,
    );
    timed(span, future, |result| match result {
        Ok(_) => "entered",
        Err(_) => "error",
    })
}

/// The span of an exit of the manager `M`, made before exit takes the
/// outcome.
pub(crate) fn exit_span<M: ?Sized>(outcome: &Outcome<'_>) -> tracing::Span {
    tracing::debug_span!(
        target: "async_with",
        "async_with::exit",
        manager = core::any::type_name::<M>(),
        outcome = %outcome,
        result = tracing::field::Empty,
        elapsed_us = tracing::field::Empty,
    )
}

/// Instruments an exit future in its span.
pub(crate) fn exit<E>(
    span: tracing::Span,
    future: impl Future<Output = Result<ExitAction, E>>,
) -> impl Future<Output = Result<ExitAction, E>> {
    timed(span, future, |result| match result {
        Ok(ExitAction::Propagate) => "propagate",
        Ok(ExitAction::Suppress) => "suppress",
        Err(_) => "error",
    })
}

async fn timed<F: Future>(
    span: tracing::Span,
    future: F,
    result: impl FnOnce(&F::Output) -> &'static str,
) -> F::Output {
    let start = Instant::now();
    let output = future.instrument(span.clone()).await;
    let elapsed = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    span.record("result", result(&output));
    span.record("elapsed_us", elapsed);
    output
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    use crate::{async_context, async_with};

    /// Records every span's name and fields, as `name field=value ...`.
    #[derive(Clone, Default)]
    struct Spans(Arc<Mutex<Vec<String>>>);

    struct Fields<'a>(&'a mut String);

    impl Visit for Fields<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn core::fmt::Debug) {
            if field.name() != "elapsed_us" {
                self.0.push_str(&format!(" {}={:?}", field.name(), value));
            }
        }

        fn record_u64(&mut self, field: &Field, _: u64) {
            self.0.push_str(&format!(" {}", field.name()));
        }
    }

    impl Subscriber for Spans {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }

        fn new_span(&self, span: &Attributes<'_>) -> Id {
            let mut spans = self.0.lock().unwrap();
            let mut line = span.metadata().name().to_string();
            span.record(&mut Fields(&mut line));
            spans.push(line);
            Id::from_u64(spans.len() as u64)
        }

        fn record(&self, span: &Id, values: &Record<'_>) {
            let mut spans = self.0.lock().unwrap();
            let line = &mut spans[span.into_u64() as usize - 1];
            values.record(&mut Fields(line));
        }

        fn record_follows_from(&self, _: &Id, _: &Id) {}

        fn event(&self, _: &Event<'_>) {}

        fn enter(&self, _: &Id) {}

        fn exit(&self, _: &Id) {}
    }

    #[async_context]
    async fn resource() -> Result<u8, String> {
        let (_, exit) = yield_!(1);
        if exit.is_failed() {
            exit.suppress();
        }
        Ok(())
    }

    /// Runs `scenario` under a recording subscriber; returns its spans with
    /// `manager="<type name>"` replaced by `manager=M`.
    fn spans_of(scenario: impl FnOnce()) -> Vec<String> {
        let spans = Spans::default();
        tracing::subscriber::with_default(spans.clone(), scenario);
        let lines = spans.0.lock().unwrap().clone();
        lines
            .iter()
            .map(|line| {
                let start = line.find("manager=\"").unwrap() + "manager=\"".len();
                let end = start + line[start..].find('"').unwrap();
                assert!(line[start..end].starts_with("async_with::generator::Generator<u8,"));
                format!("{}M{}", &line[..start - 1], &line[end + 1..])
            })
            .collect()
    }

    #[test]
    fn enter_and_exit_are_spans_with_outcome_result_and_duration() {
        let spans = spans_of(|| {
            crate::__private::block_on(async {
                let ok: Result<u8, String> =
                    async { Ok(async_with!(n = resource() => { *n })) }.await;
                assert_eq!(ok, Ok(1));
                let suppressed: Result<(), String> = async {
                    async_with!(_n = resource() => { Err("boom".to_string())?; });
                    Ok(())
                }
                .await;
                assert_eq!(suppressed, Ok(()));
            });
        });
        let expected = [
            "async_with::enter manager=M result=\"entered\" elapsed_us",
            "async_with::exit manager=M outcome=completed result=\"propagate\" elapsed_us",
            "async_with::enter manager=M result=\"entered\" elapsed_us",
            "async_with::exit manager=M outcome=failed(\"boom\") result=\"suppress\" elapsed_us",
        ];
        assert_eq!(spans, expected);
    }

    /// One protocol: `with()` and exit stack entries are traced exactly as
    /// `async_with!` is.
    #[test]
    fn with_and_exit_stack_entries_record_the_same_spans() {
        let spans = spans_of(|| {
            crate::__private::block_on(async {
                let value = crate::with(resource(), async |n: &mut u8| Ok::<_, String>(*n)).await;
                assert_eq!(value, Ok(Some(1)));
                let suppressed = crate::with(resource(), async |_: &mut u8| {
                    Err::<(), _>("boom".to_string())
                })
                .await;
                assert_eq!(suppressed, Ok(None));
                let mut stack = crate::AsyncExitStack::<String>::default();
                assert_eq!(*stack.enter(resource()).await.unwrap(), 1);
                stack.close().await.unwrap();
            });
        });
        let expected = [
            "async_with::enter manager=M result=\"entered\" elapsed_us",
            "async_with::exit manager=M outcome=completed result=\"propagate\" elapsed_us",
            "async_with::enter manager=M result=\"entered\" elapsed_us",
            "async_with::exit manager=M outcome=failed(\"boom\") result=\"suppress\" elapsed_us",
            "async_with::enter manager=M result=\"entered\" elapsed_us",
            "async_with::exit manager=M outcome=completed result=\"propagate\" elapsed_us",
        ];
        assert_eq!(spans, expected);
    }
}
