//! `#[async_context]` generator managers (docs/contract.md, "Generators").

mod common;

use async_with::{Exit, async_context, async_with};
use common::{Log, run_both};

#[derive(Debug, PartialEq)]
enum DbError {
    Begin,
    Commit,
    Query(&'static str),
}

/// A transaction-like generator: commits on success, rolls back on failure
/// or panic, can be told to fail in setup or teardown, or to suppress.
#[async_context]
async fn transaction(
    log: &Log,
    fail_begin: bool,
    fail_commit: bool,
    suppress: bool,
) -> Result<Vec<String>, DbError> {
    common::yield_now().await;
    if fail_begin {
        log.push("begin failed");
        return Err(DbError::Begin);
    }
    log.push("begin");
    let (writes, exit): (Vec<String>, Exit) = yield_!(Vec::new());
    common::yield_now().await;
    if exit.is_completed() {
        if fail_commit {
            log.push("commit failed");
            return Err(DbError::Commit);
        }
        log.push(format!("commit [{}]", writes.join(",")));
    } else {
        let why = exit.inspect(|outcome| match outcome.failure() {
            Some(failure) => format!("failed: {failure}"),
            None => format!("panicked: {:?}", outcome_message(outcome)),
        });
        log.push(format!("rollback [{}] ({why})", writes.join(",")));
        if suppress {
            exit.suppress();
        }
        if fail_commit {
            // Teardown fails after a failed block (docs/contract.md, "When exit
            // fails", for generators).
            let cause = exit.inspect(|outcome| outcome.failure().map(|f| f.to_string()));
            log.push(format!("rollback failed, block error was {cause:?}"));
            return Err(DbError::Commit);
        }
    }
    Ok(())
}

fn outcome_message(outcome: &async_with::Outcome<'_>) -> Option<String> {
    match outcome {
        async_with::Outcome::Panicked(panic) => panic.message().map(str::to_owned),
        _ => None,
    }
}

async fn transfer(log: &Log, amount: &str, options: (bool, bool, bool)) -> Result<u32, DbError> {
    let (fail_begin, fail_commit, suppress) = options;
    let mut parsed = 0;
    async_with!(writes = transaction(log, fail_begin, fail_commit, suppress) => {
        writes.push("debit".to_string());
        parsed = amount.parse().map_err(|_| DbError::Query("bad amount"))?;
        writes.push(format!("credit {parsed}"));
    });
    Ok(parsed)
}

#[test]
fn commit_on_success() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (
            transfer(&log, "5", (false, false, false)).await,
            log.events(),
        )
    });
    assert_eq!(result, Ok(5));
    assert_eq!(events, ["begin", "commit [debit,credit 5]"]);
}

#[test]
fn rollback_on_failure_and_the_error_propagates() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (
            transfer(&log, "x", (false, false, false)).await,
            log.events(),
        )
    });
    assert_eq!(result, Err(DbError::Query("bad amount")));
    assert_eq!(
        events,
        ["begin", "rollback [debit] (failed: Query(\"bad amount\"))"]
    );
}

#[test]
fn rollback_on_panic_and_the_panic_resumes() {
    let log = Log::default();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures_executor::block_on(async {
            let _: Result<(), DbError> = async {
                async_with!(writes = transaction(&log, false, false, false) => {
                    writes.push("half".to_string());
                    panic!("crash mid-transfer");
                });
                Ok(())
            }
            .await;
        })
    }));
    let payload = outcome.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"crash mid-transfer"));
    assert_eq!(
        log.events(),
        [
            "begin",
            "rollback [half] (panicked: Some(\"crash mid-transfer\"))"
        ]
    );
}

#[test]
fn a_setup_failure_is_an_enter_failure_and_no_teardown_runs() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (
            transfer(&log, "5", (true, false, false)).await,
            log.events(),
        )
    });
    assert_eq!(result, Err(DbError::Begin));
    assert_eq!(events, ["begin failed"]);
}

#[test]
fn a_teardown_failure_is_an_exit_failure() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (
            transfer(&log, "5", (false, true, false)).await,
            log.events(),
        )
    });
    assert_eq!(result, Err(DbError::Commit));
    assert_eq!(events, ["begin", "commit failed"]);
}

#[test]
fn teardown_sees_the_outcome_uses_the_resource_and_can_suppress() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (
            transfer(&log, "x", (false, false, true)).await,
            log.events(),
        )
    });
    // Suppressed: execution went on after the macro with `parsed` untouched.
    assert_eq!(result, Ok(0));
    assert_eq!(
        events,
        ["begin", "rollback [debit] (failed: Query(\"bad amount\"))"]
    );
}

#[test]
fn teardown_can_downcast_the_block_error() {
    #[async_context]
    async fn expects_parse_errors(seen: &std::cell::Cell<Option<std::num::IntErrorKind>>) {
        let ((), exit) = yield_!(());
        seen.set(exit.inspect(|outcome| {
            outcome
                .failure()
                .and_then(|failure| failure.downcast_ref::<std::num::ParseIntError>())
                .map(|error| *error.kind())
        }));
    }
    let seen = std::cell::Cell::new(None);
    let result: Result<u8, std::num::ParseIntError> = futures_executor::block_on(async {
        async_with!(expects_parse_errors(&seen) => {
            let n: u8 = "".parse()?;
            Ok(n)
        })
    });
    assert!(result.is_err());
    assert_eq!(seen.take(), Some(std::num::IntErrorKind::Empty));
}

#[test]
fn teardown_fails_after_a_failed_block_and_both_errors_are_reachable() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (
            transfer(&log, "x", (false, true, false)).await,
            log.events(),
        )
    });
    // The teardown's error propagates; the block's error reached the teardown.
    assert_eq!(result, Err(DbError::Commit));
    assert_eq!(
        events,
        [
            "begin",
            "rollback [debit] (failed: Query(\"bad amount\"))",
            "rollback failed, block error was Some(\"Query(\\\"bad amount\\\")\")"
        ]
    );
}

#[async_context]
async fn maybe_yield(skip: bool) -> Result<u8, String> {
    if skip {
        return Ok(());
    }
    let (_, _exit) = yield_!(1);
    Ok(())
}

#[test]
fn returning_before_yield_panics_naming_the_function() {
    let outcome = std::panic::catch_unwind(|| {
        futures_executor::block_on(async {
            let _: Result<(), String> = async {
                async_with!(_n = maybe_yield(true) => {});
                Ok(())
            }
            .await;
        })
    });
    let payload = outcome.unwrap_err();
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        message,
        "#[async_context] function `generator::maybe_yield` didn't yield"
    );

    // The same function yields when it does not return early.
    let value: Result<u8, String> =
        futures_executor::block_on(async { Ok(async_with!(n = maybe_yield(false) => { *n + 1 })) });
    assert_eq!(value, Ok(2));
}

struct Pool {
    name: String,
    opened: u32,
}

impl Pool {
    /// `&self` method.
    #[async_context]
    async fn session(&self, log: &Log) -> String {
        log.push(format!("open {}", self.name));
        let (session, _exit) = yield_!(format!("{}-session", self.name));
        log.push(format!("close {session}"));
    }

    /// `&mut self` method.
    #[async_context]
    async fn counted(&mut self) -> u32 {
        self.opened += 1;
        let (_, _exit) = yield_!(self.opened);
        self.opened += 100;
    }
}

trait Source {
    fn lease(
        &self,
        log: &Log,
    ) -> impl async_with::PinnedContextManager<Target = String, Error = std::convert::Infallible>;
}

impl Source for Pool {
    /// Trait-impl method.
    #[async_context]
    async fn lease(&self, log: &Log) -> String {
        log.push("lease");
        let (lease, _exit) = yield_!(self.name.clone());
        log.push(format!("release {lease}"));
    }
}

/// A generic function with bounds, a where-clause, a lifetime and an
/// `impl Trait` argument; its doc comment and attributes are kept.
#[must_use]
#[allow(clippy::multiple_bound_locations)] // bounds in both places on purpose
#[async_context]
pub async fn labelled<'a, T: std::fmt::Display>(
    prefix: &'a str,
    value: T,
    suffix: impl AsRef<str>,
) -> String
where
    T: Clone,
{
    let (label, _exit) = yield_!(format!("{prefix}{value}{}", suffix.as_ref()));
    drop(label);
}

#[test]
fn methods_generics_lifetimes_and_impl_trait_arguments() {
    let events = run_both(|| async {
        let log = Log::default();
        let mut pool = Pool {
            name: "db".into(),
            opened: 0,
        };
        let session = async_with!(s = pool.session(&log) => { s.clone() });
        let lease = async_with!(l = pool.lease(&log) => { l.len() });
        let counted = async_with!(n = pool.counted() => { *n });
        let label = async_with!(label = labelled("<", 42, String::from(">")) => { label.clone() });
        log.push(format!(
            "{session} {lease} {counted} {} {label}",
            pool.opened
        ));
        log.events()
    });
    assert_eq!(
        events,
        [
            "open db",
            "close db-session",
            "lease",
            "release db",
            "db-session 2 1 101 <42>"
        ]
    );
}

#[test]
fn the_manager_is_send_when_its_state_is() {
    fn assert_send<T: Send>(value: T) -> T {
        value
    }
    async fn use_it(log: Log) -> Result<u32, DbError> {
        transfer(&log, "9", (false, false, false)).await
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let log = Log::default();
    let value = runtime
        .block_on(runtime.spawn(assert_send(use_it(log.clone()))))
        .unwrap();
    assert_eq!(value, Ok(9));
    // The manager itself is `Send` too (checked when this compiles).
    let _manager = assert_send(labelled("a", 1, "b"));
}

#[async_context]
async fn locked(log: &Log) -> Result<String, DbError> {
    log.push("generator setup");
    async_with!(_inner = common::Quiet::new(log) => {
        let (target, exit) = yield_!("from inside".to_string());
        log.push(format!("generator teardown saw completed={} target={target}", exit.is_completed()));
    });
    log.push("generator done");
    Ok(())
}

#[test]
fn yield_inside_an_async_with_block_inside_the_generator() {
    let (value, events) = run_both(|| async {
        let log = Log::default();
        let value: Result<usize, DbError> =
            async { Ok(async_with!(t = locked(&log) => { log.push("user block"); t.len() })) }
                .await;
        (value, log.events())
    });
    assert_eq!(value, Ok("from inside".len()));
    assert_eq!(
        events,
        [
            "generator setup",
            "enter quiet",
            "user block",
            "generator teardown saw completed=true target=from inside",
            "exit quiet: completed",
            "generator done"
        ]
    );
}

// ---- Result aliases: the return type's `Result` gives target and error ----

#[async_context]
async fn open_file(fail: bool) -> std::io::Result<String> {
    if fail {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file",
        ));
    }
    let (contents, _exit) = yield_!("contents".to_string());
    drop(contents);
    Ok(())
}

#[test]
fn an_io_result_generator_yields_its_ok_type_and_fails_with_io_error() {
    async fn read(fail: bool) -> std::io::Result<usize> {
        Ok(async_with!(contents = open_file(fail) => { contents.len() }))
    }
    assert_eq!(futures_executor::block_on(read(false)).unwrap(), 8);
    let error = futures_executor::block_on(read(true)).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    // The manager's types, as the type system read them from the alias.
    let _: async_with::Generator<String, std::io::Error, _> = open_file(false);
}

#[async_context]
async fn connect(log: &Log, fail_close: bool) -> anyhow::Result<u16> {
    log.push("connect");
    let (port, exit) = yield_!(8080);
    if fail_close {
        anyhow::bail!("close failed on port {port}");
    }
    log.push(format!("close {port} completed={}", exit.is_completed()));
    Ok(())
}

#[test]
fn an_anyhow_result_generator_fails_with_anyhow_error() {
    async fn serve(log: &Log, fail_close: bool) -> anyhow::Result<u16> {
        Ok(async_with!(port = connect(log, fail_close) => { *port + 1 }))
    }
    let log = Log::default();
    let served = futures_executor::block_on(serve(&log, false)).unwrap();
    assert_eq!(served, 8081);
    let error = futures_executor::block_on(serve(&log, true)).unwrap_err();
    assert_eq!(error.to_string(), "close failed on port 8080");
    assert_eq!(
        log.events(),
        ["connect", "close 8080 completed=true", "connect"]
    );
}

#[derive(Debug, PartialEq)]
struct PoolError(&'static str);

/// A crate's own alias.
type PoolResult<T> = Result<T, PoolError>;

#[async_context]
async fn checkout(available: u32) -> PoolResult<u32> {
    if available == 0 {
        return Err(PoolError("exhausted"));
    }
    let (_slot, _exit) = yield_!(available - 1);
    Ok(())
}

/// An alias whose name says nothing: `fallible` tells the macro.
type Lease = Result<u32, PoolError>;

#[async_context(fallible)]
async fn lease(available: u32) -> Lease {
    if available == 0 {
        return Err(PoolError("no lease"));
    }
    let (_lease, _exit) = yield_!(available);
    Ok(())
}

#[test]
fn a_crate_alias_and_an_unnamed_alias_with_fallible_are_fallible_generators() {
    async fn take(available: u32) -> Result<(u32, u32), PoolError> {
        let slot = async_with!(slot = checkout(available) => { *slot });
        let lease = async_with!(lease = lease(available) => { *lease });
        Ok((slot, lease))
    }
    assert_eq!(futures_executor::block_on(take(3)), Ok((2, 3)));
    assert_eq!(
        futures_executor::block_on(take(0)),
        Err(PoolError("exhausted"))
    );
}

/// Yields a `Result` value and cannot fail: `infallible` tells the macro.
#[async_context(infallible)]
async fn last_status(log: &Log) -> Result<u8, String> {
    let (status, _exit) = yield_!(Err("not run yet".to_string()));
    log.push(format!("status {status:?}"));
}

#[test]
fn an_infallible_generator_can_yield_a_result_value() {
    let log = Log::default();
    // No error type to propagate: it works in a function returning `()`.
    futures_executor::block_on(async {
        async_with!(status = last_status(&log) => {
            assert!(status.is_err());
            *status = Ok(0);
        });
    });
    assert_eq!(log.events(), ["status Ok(0)"]);
    let _: async_with::Generator<Result<u8, String>, std::convert::Infallible, _> =
        last_status(&log);
}

/// A struct whose name ends in `Result`, without generic arguments, is a
/// target like any other.
#[derive(Debug, PartialEq)]
struct SearchResult {
    hits: u32,
}

#[async_context]
async fn search() -> SearchResult {
    let (_result, _exit) = yield_!(SearchResult { hits: 3 });
}

#[test]
fn a_type_named_like_a_result_without_arguments_is_a_target() {
    let hits = futures_executor::block_on(async { async_with!(r = search() => { r.hits }) });
    assert_eq!(hits, 3);
}

#[test]
fn yield_without_a_value_lends_unit() {
    #[async_context]
    async fn lock(log: &Log) {
        log.push("acquire");
        let ((), exit) = yield_!();
        log.push(format!("release completed={}", exit.is_completed()));
    }
    let log = Log::default();
    futures_executor::block_on(async { async_with!(lock(&log) => { log.push("inside") }) });
    assert_eq!(
        log.events(),
        ["acquire", "inside", "release completed=true"]
    );
}

#[test]
fn arguments_keep_their_patterns_mut_and_raw_names() {
    #[async_context]
    async fn sum(r#type: u8, mut count: u8, (a, b): (u8, u8)) -> u8 {
        count += r#type + a + b;
        let (_sum, _exit) = yield_!(count);
    }
    let value = futures_executor::block_on(async { async_with!(n = sum(1, 2, (3, 4)) => { *n }) });
    assert_eq!(value, 10);
}

/// What the teardown's `Exit` says, for each way the block ended.
#[async_context]
async fn observed(seen: &std::cell::RefCell<Vec<String>>) -> Result<(), String> {
    let ((), exit) = yield_!(());
    seen.borrow_mut().push(format!(
        "completed {} failed {} panicked {} cancelled {} ({exit:?})",
        exit.is_completed(),
        exit.is_failed(),
        exit.is_panicked(),
        exit.is_cancelled(),
    ));
    Ok(())
}

#[test]
fn exit_tells_each_way_the_block_ended_apart() {
    let seen = std::cell::RefCell::new(Vec::new());
    run_to_end(async {
        let _: Result<(), String> = async {
            async_with!(observed(&seen) => {});
            Ok(())
        }
        .await;
        let _: Result<(), String> = async {
            async_with!(observed(&seen) => {
                Err("no".to_string())?;
            });
            Ok(())
        }
        .await;
    });
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_to_end(async {
            let _: Result<(), String> = async {
                async_with!(observed(&seen) => {
                    panic!("in the block");
                });
                Ok(())
            }
            .await;
        })
    }));
    assert!(panicked.is_err());
    let seen = seen.into_inner();
    assert_eq!(seen.len(), 3);
    assert!(
        seen[0].starts_with("completed true failed false panicked false cancelled false"),
        "{}",
        seen[0]
    );
    assert!(
        seen[1].starts_with("completed false failed true panicked false cancelled false"),
        "{}",
        seen[1]
    );
    assert!(
        seen[2].starts_with("completed false failed false panicked true cancelled false"),
        "{}",
        seen[2]
    );
    // Debug shows how the block ended.
    assert!(seen[0].contains("Exit {"), "{}", seen[0]);
    assert_ne!(seen[0].split('(').nth(1), seen[1].split('(').nth(1));
}

fn run_to_end<F: std::future::Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
}
