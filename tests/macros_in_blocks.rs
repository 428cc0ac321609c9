//! The macros users write daily inside a block (docs/contract.md, "The block
//! is a plain Rust block"): `?` and `return` inside their arguments leave the
//! block through exit, and the raising macros (`bail!`, `ensure!` of anyhow
//! and eyre) are failures exit sees (docs/contract.md, "`return`, `?`,
//! `break` and `continue`"). Each runs on both executors; the manager records
//! what exit saw.

mod common;

use async_with::{AsyncContextManager, ExitAction, Outcome, async_with};
use common::{Log, Quiet, run_both};
use std::fmt::Write as _;

fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
    text.parse()
}

/// Logs what exit saw: a failure downcast to `E` and displayed, or not.
struct ExpectsError<E: std::fmt::Display + 'static> {
    log: Log,
    _error: std::marker::PhantomData<fn() -> E>,
}

fn expects<E: std::fmt::Display + 'static>(log: &Log) -> ExpectsError<E> {
    ExpectsError {
        log: log.clone(),
        _error: std::marker::PhantomData,
    }
}

impl<E: std::fmt::Display + 'static> AsyncContextManager for ExpectsError<E> {
    type Target = ();
    type Error = std::convert::Infallible;

    async fn enter(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn exit(&mut self, _: (), outcome: Outcome<'_>) -> Result<ExitAction, Self::Error> {
        let seen = match outcome.failure() {
            Some(failure) => match failure.downcast_ref::<E>() {
                Some(error) => format!("failed as {}: {error}", failure.type_name()),
                None => format!("failed, not as expected: {failure}"),
            },
            None => outcome.to_string(),
        };
        self.log.push(seen);
        Ok(ExitAction::Propagate)
    }
}

async fn anyhow_bail(log: &Log, n: u32) -> anyhow::Result<u32> {
    async_with!(_r = expects::<anyhow::Error>(log) => {
        if n > 2 {
            anyhow::bail!("too big: {n}");
        }
        log.push("block went on");
    });
    Ok(n)
}

#[test]
fn anyhow_bail_is_a_failure_exit_sees_then_the_function_returns_it() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result = anyhow_bail(&log, 3).await.map_err(|e| e.to_string());
        (result, log.events())
    });
    assert_eq!(result, Err("too big: 3".to_string()));
    assert_eq!(events, ["failed as anyhow::Error: too big: 3"]);
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result = anyhow_bail(&log, 1).await.map_err(|e| e.to_string());
        (result, log.events())
    });
    assert_eq!(result, Ok(1));
    assert_eq!(events, ["block went on", "completed"]);
}

async fn imported_bail_and_ensure(log: &Log, text: &str) -> anyhow::Result<u32> {
    use anyhow::{bail, ensure};
    let n = async_with!(_r = expects::<anyhow::Error>(log) => {
        let n = parse(text)?;
        ensure!(n != 0);
        ensure!(n < 10, "{n} is not a digit");
        if n == 7 {
            bail!(std::io::Error::other("seven"));
        }
        n
    });
    Ok(n)
}

#[test]
fn imported_bail_and_ensure_without_a_message_are_failures() {
    let run = |text: &'static str| {
        run_both(move || async move {
            let log = Log::default();
            let result = imported_bail_and_ensure(&log, text)
                .await
                .map_err(|e| e.to_string());
            (result, log.events())
        })
    };
    assert_eq!(run("4"), (Ok(4), vec!["completed".to_string()]));
    let (result, events) = run("0");
    assert_eq!(
        result,
        Err("Condition failed: `n != 0` (0 vs 0)".to_string())
    );
    assert_eq!(
        events,
        ["failed as anyhow::Error: Condition failed: `n != 0` (0 vs 0)"]
    );
    let (result, events) = run("12");
    assert_eq!(result, Err("12 is not a digit".to_string()));
    assert_eq!(events, ["failed as anyhow::Error: 12 is not a digit"]);
    let (result, events) = run("7");
    assert_eq!(result, Err("seven".to_string()));
    assert_eq!(events, ["failed as anyhow::Error: seven"]);
    // A `?` converting into anyhow is an ordinary `?` site: exit sees the
    // error before conversion.
    let (result, events) = run("x");
    assert_eq!(result, Err("invalid digit found in string".to_string()));
    assert_eq!(
        events,
        ["failed, not as expected: invalid digit found in string"]
    );
}

async fn eyre_macros(log: &Log, n: u32) -> eyre::Result<u32> {
    async_with!(_r = expects::<eyre::Report>(log) => {
        eyre::ensure!(n % 2 == 0, "{n} is odd");
        if n > 10 {
            eyre::bail!("{n} is too big");
        }
    });
    Ok(n)
}

#[test]
fn eyre_bail_and_ensure_are_failures_exit_sees() {
    let run = |n: u32| {
        run_both(move || async move {
            let log = Log::default();
            let result = eyre_macros(&log, n).await.map_err(|e| e.to_string());
            (result, log.events())
        })
    };
    assert_eq!(run(4), (Ok(4), vec!["completed".to_string()]));
    assert_eq!(
        run(5),
        (
            Err("5 is odd".to_string()),
            vec!["failed as eyre::Report: 5 is odd".to_string()]
        )
    );
    assert_eq!(
        run(12),
        (
            Err("12 is too big".to_string()),
            vec!["failed as eyre::Report: 12 is too big".to_string()]
        )
    );
}

async fn select_branches(log: &Log, first: &str, second: &str) -> Result<u32, String> {
    let value = async_with!(_r = Quiet::new(log) => {
        tokio::select! {
            biased;
            n = async { parse(first) } => {
                let n = n.map_err(|e| e.to_string())?;
                if n == 0 {
                    return Ok(100);
                }
                n
            }
            n = std::future::ready(parse(second).map_err(|e| e.to_string())?), if !second.is_empty() => n,
            else => return Err("no branch".to_string()),
        }
    });
    Ok(value)
}

#[test]
fn select_branches_with_question_marks_and_returns_leave_through_exit() {
    let run = |first: &'static str, second: &'static str| {
        run_both(move || async move {
            let log = Log::default();
            let result = select_branches(&log, first, second).await;
            (result, log.events())
        })
    };
    // The first branch is ready first (`biased`).
    assert_eq!(
        run("5", "6"),
        (
            Ok(5),
            vec![
                "enter quiet".to_string(),
                "exit quiet: completed".to_string()
            ]
        )
    );
    // `return Ok(..)` from a handler: completed, then the return.
    assert_eq!(run("0", "6").0, Ok(100));
    // `?` in a handler.
    let (result, events) = run("x", "6");
    assert_eq!(result, Err("invalid digit found in string".to_string()));
    assert_eq!(
        events[1],
        "exit quiet: failed(\"invalid digit found in string\")"
    );
    // `?` in a future expression: evaluated before any branch is polled.
    let (result, events) = run("5", "y");
    assert_eq!(result, Err("invalid digit found in string".to_string()));
    assert_eq!(
        events[1],
        "exit quiet: failed(\"invalid digit found in string\")"
    );
}

async fn select_else(log: &Log) -> Result<u32, String> {
    async_with!(_r = Quiet::new(log) => {
        tokio::select! {
            Some(n) = async { None::<u32> } => Ok(n),
            else => return Err("no branch".to_string()),
        }
    })
}

#[test]
fn select_else_branch_returning_an_error_is_a_failure() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (select_else(&log).await, log.events())
    });
    assert_eq!(result, Err("no branch".to_string()));
    assert_eq!(events, ["enter quiet", "exit quiet: failed(\"no branch\")"]);
}

async fn joins(log: &Log, a: &str, b: &str) -> Result<u32, String> {
    async_with!(_r = Quiet::new(log) => {
        let (x, y) = tokio::join!(
            std::future::ready(parse(a).map_err(|e| e.to_string())?),
            async { 1_u32 }
        );
        let (z, w) = tokio::try_join!(
            async { parse(b).map_err(|e| e.to_string()) },
            async { Ok::<_, String>(2_u32) },
        )?;
        Ok(x + y + z + w)
    })
}

#[test]
fn join_and_try_join_forward_question_marks() {
    let run = |a: &'static str, b: &'static str| {
        run_both(move || async move {
            let log = Log::default();
            (joins(&log, a, b).await, log.events())
        })
    };
    assert_eq!(run("1", "2").0, Ok(6));
    let (result, events) = run("x", "2");
    assert_eq!(result, Err("invalid digit found in string".to_string()));
    assert_eq!(
        events[1],
        "exit quiet: failed(\"invalid digit found in string\")"
    );
    let (result, events) = run("1", "y");
    assert_eq!(result, Err("invalid digit found in string".to_string()));
    assert_eq!(
        events[1],
        "exit quiet: failed(\"invalid digit found in string\")"
    );
}

#[derive(Debug, PartialEq)]
enum Error {
    Parse,
    Fmt,
}

impl From<std::num::ParseIntError> for Error {
    fn from(_: std::num::ParseIntError) -> Self {
        Error::Parse
    }
}

impl From<std::fmt::Error> for Error {
    fn from(_: std::fmt::Error) -> Self {
        Error::Fmt
    }
}

/// Each macro's argument parses `text`, except the one named `fail_in`,
/// which parses `"x"`: its `?` is the one that fails.
async fn std_macros(log: &Log, text: &str, fail_in: &str) -> Result<String, Error> {
    let arg = |name: &str| if name == fail_in { "x" } else { text };
    async_with!(_r = Quiet::new(log) => {
        let small = matches!(parse(arg("matches"))?, 0..=9 if parse(arg("guard"))? != 7);
        assert!(parse(arg("assert"))? < 100, "too big");
        assert_eq!(parse(arg("assert_eq"))? / 1000, 0);
        assert_ne!(parse(arg("assert_ne"))?, 50);
        let mut out = String::new();
        write!(out, "{}", parse(arg("write"))?)?;
        writeln!(out, " small: {small} {}", parse(arg("writeln"))? - parse(text)?)?;
        let formatted = format!("{out}{}", parse(arg("format"))? * 2);
        tracing::info!(?small, %formatted, value = parse(arg("tracing field"))?, "parsed {}", parse(arg("tracing"))?);
        if parse(arg("return"))? == 8 {
            return Ok(format!("returned {}", parse(text)?));
        }
        Ok(formatted)
    })
}

#[test]
fn question_marks_in_std_and_tracing_macros_leave_through_exit() {
    // A tracing event evaluates its fields only when a subscriber wants it.
    let run = |text: &'static str, fail_in: &'static str| {
        tracing::subscriber::with_default(Everything, || {
            run_both(move || async move {
                let log = Log::default();
                (std_macros(&log, text, fail_in).await, log.events())
            })
        })
    };
    assert_eq!(run("3", "").0, Ok("3 small: true 0\n6".to_string()));
    assert_eq!(run("7", "").0, Ok("7 small: false 0\n14".to_string()));
    assert_eq!(run("8", "").0, Ok("returned 8".to_string()));
    for fail_in in [
        "matches",
        "guard",
        "assert",
        "assert_eq",
        "assert_ne",
        "write",
        "writeln",
        "format",
        "tracing field",
        "tracing",
        "return",
    ] {
        let (result, events) = run("3", fail_in);
        assert_eq!(result, Err(Error::Parse), "{fail_in}");
        assert_eq!(
            events,
            [
                "enter quiet",
                "exit quiet: failed(invalid digit found in string)"
            ],
            "{fail_in}"
        );
    }
}

/// A tracing subscriber that wants every event and records nothing.
struct Everything;

impl tracing::Subscriber for Everything {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
