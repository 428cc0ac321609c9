//! Feature `tracing`: each manager's enter and exit as a span, with the
//! block's outcome, how exit ended and how long each step took. Recorded by
//! the protocol's `Scope`, so every entry point is traced alike.
//!
//! Spans are at `DEBUG` level, target `async_with`, named
//! `async_with::enter` (fields `manager`, `result`, `elapsed_us`) and
//! `async_with::exit` (fields `manager`, `outcome`, `result`,
//! `elapsed_us`). `manager` is [`PinnedContextManager::name`]: the type's
//! name, or an `#[async_context]` function's path. With no subscriber interested, a span costs a callsite
//! check and no allocation.

use core::future::Future;
use std::time::Instant;

use tracing::Instrument;

use crate::{ExitAction, Outcome, PinnedContextManager};

/// Instruments an enter future of the manager `M`.
pub(crate) fn enter<M: PinnedContextManager + ?Sized, T, E>(
    future: impl Future<Output = Result<T, E>>,
) -> impl Future<Output = Result<T, E>> {
    let span = tracing::debug_span!(
        target: "async_with",
        "async_with::enter",
        manager = M::name(),
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
pub(crate) fn exit_span<M: PinnedContextManager + ?Sized>(outcome: &Outcome<'_>) -> tracing::Span {
    tracing::debug_span!(
        target: "async_with",
        "async_with::exit",
        manager = M::name(),
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

    struct Pool;

    impl Pool {
        #[async_context]
        async fn session(&self) -> u8 {
            let (_session, _exit) = yield_!(2);
        }
    }

    /// Runs `scenario` under a recording subscriber; returns its spans.
    fn spans_of(scenario: impl FnOnce()) -> Vec<String> {
        let spans = Spans::default();
        tracing::subscriber::with_default(spans.clone(), scenario);
        spans.0.lock().unwrap().clone()
    }

    #[test]
    fn enter_and_exit_are_spans_with_outcome_result_and_duration() {
        let spans = spans_of(|| {
            futures_executor::block_on(async {
                let ok: Result<u8, String> =
                    async { Ok(async_with!(n = resource() => { *n })) }.await;
                assert_eq!(ok, Ok(1));
                let suppressed: Result<(), String> = async {
                    async_with!(_n = resource() => { Err("boom".to_string())?; });
                    Ok(())
                }
                .await;
                assert_eq!(suppressed, Ok(()));
                let session = async_with!(s = Pool.session() => { *s });
                assert_eq!(session, 2);
                let plain = async_with!(n = crate::nullcontext(3) => { *n });
                assert_eq!(plain, 3);
            });
        });
        // A generator is named by its function's path (with the impl's type
        // for a method); another manager by its type.
        let expected = [
            "async_with::enter manager=\"async_with::trace::tests::resource\" result=\"entered\" elapsed_us",
            "async_with::exit manager=\"async_with::trace::tests::resource\" outcome=completed result=\"propagate\" elapsed_us",
            "async_with::enter manager=\"async_with::trace::tests::resource\" result=\"entered\" elapsed_us",
            "async_with::exit manager=\"async_with::trace::tests::resource\" outcome=failed(\"boom\") result=\"suppress\" elapsed_us",
            "async_with::enter manager=\"async_with::trace::tests::Pool::session\" result=\"entered\" elapsed_us",
            "async_with::exit manager=\"async_with::trace::tests::Pool::session\" outcome=completed result=\"propagate\" elapsed_us",
            "async_with::enter manager=\"async_with::managers::NullContext<i32>\" result=\"entered\" elapsed_us",
            "async_with::exit manager=\"async_with::managers::NullContext<i32>\" outcome=completed result=\"propagate\" elapsed_us",
        ];
        assert_eq!(spans, expected);
    }

    /// One protocol: `with()` and exit stack entries are traced exactly as
    /// `async_with!` is.
    #[test]
    fn with_and_exit_stack_entries_record_the_same_spans() {
        let spans = spans_of(|| {
            futures_executor::block_on(async {
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
        let m = "manager=\"async_with::trace::tests::resource\"";
        let expected = [
            format!("async_with::enter {m} result=\"entered\" elapsed_us"),
            format!("async_with::exit {m} outcome=completed result=\"propagate\" elapsed_us"),
            format!("async_with::enter {m} result=\"entered\" elapsed_us"),
            format!("async_with::exit {m} outcome=failed(\"boom\") result=\"suppress\" elapsed_us"),
            format!("async_with::enter {m} result=\"entered\" elapsed_us"),
            format!("async_with::exit {m} outcome=completed result=\"propagate\" elapsed_us"),
        ];
        assert_eq!(spans, expected);
    }
}

/// `#[tracing::instrument]` on a generator, in either attribute order: the
/// setup's and teardown's events lie inside the function's span (with its
/// fields), which lies inside the library's `async_with::enter` and
/// `async_with::exit` spans.
#[cfg(test)]
mod instrument_tests {
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    use crate::{async_context, async_with};

    #[derive(Default)]
    struct State {
        /// Each span's name and fields, by id.
        spans: Vec<String>,
        /// The spans entered now, innermost last.
        entered: Vec<usize>,
        /// Each event as `message in [outer > .. > inner]`.
        events: Vec<String>,
    }

    /// Records every event with the stack of spans it happened in.
    #[derive(Clone, Default)]
    struct Nesting(Arc<Mutex<State>>);

    struct Fields<'a>(&'a mut String);

    impl Visit for Fields<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn core::fmt::Debug) {
            match field.name() {
                "message" => self.0.push_str(&format!("{value:?}")),
                // The library's own fields vary by run or are not the point.
                "manager" | "result" | "outcome" | "elapsed_us" => {}
                name => self.0.push_str(&format!(" {name}={value:?}")),
            }
        }
    }

    impl Subscriber for Nesting {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }

        fn new_span(&self, span: &Attributes<'_>) -> Id {
            let mut state = self.0.lock().unwrap();
            let mut line = span.metadata().name().to_string();
            span.record(&mut Fields(&mut line));
            state.spans.push(line);
            Id::from_u64(state.spans.len() as u64)
        }

        fn record(&self, _: &Id, _: &Record<'_>) {}

        fn record_follows_from(&self, _: &Id, _: &Id) {}

        fn event(&self, event: &Event<'_>) {
            let mut state = self.0.lock().unwrap();
            let mut message = String::new();
            event.record(&mut Fields(&mut message));
            let stack: Vec<&str> = state
                .entered
                .iter()
                .map(|&id| state.spans[id - 1].as_str())
                .collect();
            let line = format!("{message} in [{}]", stack.join(" > "));
            state.events.push(line);
        }

        fn enter(&self, span: &Id) {
            self.0
                .lock()
                .unwrap()
                .entered
                .push(span.into_u64() as usize);
        }

        fn exit(&self, span: &Id) {
            let mut state = self.0.lock().unwrap();
            let position = state
                .entered
                .iter()
                .rposition(|&id| id as u64 == span.into_u64());
            if let Some(position) = position {
                state.entered.remove(position);
            }
        }
    }

    #[tracing::instrument(fields(kind = "above"))]
    #[async_context]
    async fn above(name: &'static str) -> Result<u8, String> {
        tracing::info!("setup");
        let (_n, exit) = yield_!(1);
        tracing::info!(completed = exit.is_completed(), "teardown");
        Ok(())
    }

    #[async_context]
    #[tracing::instrument(fields(kind = "below"))]
    async fn below(name: &'static str) -> Result<u8, String> {
        tracing::info!("setup");
        let (_n, exit) = yield_!(2);
        tracing::info!(completed = exit.is_completed(), "teardown");
        Ok(())
    }

    /// `err` and `ret` wrap the body in one more `async` block.
    #[tracing::instrument(err, ret)]
    #[async_context]
    async fn with_err_and_ret(name: &'static str) -> Result<u8, String> {
        tracing::info!("setup");
        let (_n, _exit) = yield_!(3);
        tracing::info!("teardown");
        Ok(())
    }

    fn events_of(scenario: impl std::future::Future<Output = Result<u8, String>>) -> Vec<String> {
        let nesting = Nesting::default();
        let value = tracing::subscriber::with_default(nesting.clone(), || {
            futures_executor::block_on(scenario)
        });
        assert!(value.is_ok(), "{value:?}");
        let events = nesting.0.lock().unwrap().events.clone();
        events
    }

    #[test]
    fn instrument_above_async_context_spans_setup_and_teardown() {
        let events = events_of(async { Ok(async_with!(n = above("a") => { *n })) });
        assert_eq!(
            events,
            [
                "setup in [async_with::enter > above name=\"a\" kind=\"above\"]",
                "teardown completed=true in [async_with::exit > above name=\"a\" kind=\"above\"]",
            ]
        );
    }

    #[test]
    fn instrument_below_async_context_spans_setup_and_teardown() {
        let events = events_of(async { Ok(async_with!(n = below("b") => { *n })) });
        assert_eq!(
            events,
            [
                "setup in [async_with::enter > below name=\"b\" kind=\"below\"]",
                "teardown completed=true in [async_with::exit > below name=\"b\" kind=\"below\"]",
            ]
        );
    }

    #[test]
    fn instrument_with_err_and_ret_spans_setup_and_teardown() {
        let events = events_of(async { Ok(async_with!(n = with_err_and_ret("c") => { *n })) });
        assert_eq!(
            events[0],
            "setup in [async_with::enter > with_err_and_ret name=\"c\"]"
        );
        assert_eq!(
            events[1],
            "teardown in [async_with::exit > with_err_and_ret name=\"c\"]"
        );
        // `ret` reports the body's own end, after the teardown, in the span.
        assert!(
            events[2].ends_with("in [async_with::exit > with_err_and_ret name=\"c\"]"),
            "{events:?}"
        );
    }
}
