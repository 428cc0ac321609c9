//! Python's `async with` for Rust.
//!
//! Rust has no async `Drop`, so async cleanup (commit or roll back a
//! transaction, close a connection gracefully, stop a child process) is
//! skipped on `?`, early `return` and panic. This crate awaits the cleanup
//! on every way out of a block, tells it how the block ended, and lets it
//! suppress a failure, like Python's `async with`:
//!
//! | Python | Rust |
//! |---|---|
//! | `async with EXPR as VAR: BLOCK` | [`async_with!(VAR = EXPR => { BLOCK })`](macro@async_with) |
//! | `async with lock:` | `async_with!(lock => { BLOCK })` |
//! | `async with A() as a, B() as b:` | `async_with!(a = A(), b = B() => { BLOCK })` |
//! | class with `__aenter__`/`__aexit__` | `impl` [`AsyncContextManager`] |
//! | `@asynccontextmanager` + `yield` | [`#[async_context]`](macro@async_context) + [`yield_!`](macro@yield_) |
//! | `exc_type, exc, tb` of `__aexit__` | [`Outcome`]: completed, failed ([`Failure`]), panicked ([`Panic`]) |
//! | truthy `__aexit__` result | [`ExitAction::Suppress`] |
//! | `contextlib.AsyncExitStack` | [`AsyncExitStack`] |
//! | `nullcontext`, `aclosing`, `suppress` | [`nullcontext`], [`closing`], [`suppress`] |
//! | a manager from two functions | [`from_fn`] |
//! | class with `__enter__`/`__exit__` (sync) | `impl` [`ContextManager`], used as [`sync(manager)`](sync()) |
//! | `CancelledError` reaching `__aexit__` | [`AsyncContextManager::cancel`], or with feature `tokio` the async exit run on the runtime (`tokio::exit_on_cancel`; see "Cancellation") |
//! | (a `Send` manager, for spawned tasks) | `impl` [`SendContextManager`] (see "`Send` and spawned tasks") |
//! | (no macro) | [`with(manager, async \|target\| ..)`](with()) |
//!
//! ```
//! use async_with::{async_context, async_with};
//!
//! #[async_context]
//! async fn connection(log: &std::cell::RefCell<Vec<String>>) -> Result<String, std::io::Error> {
//!     log.borrow_mut().push("open".into());
//!     let (conn, exit) = yield_!("Connected".to_string());
//!     log.borrow_mut().push(format!("close {conn}, completed: {}", exit.is_completed()));
//!     Ok(())
//! }
//!
//! async fn run(log: &std::cell::RefCell<Vec<String>>) -> Result<usize, std::io::Error> {
//!     let len = async_with!(conn = connection(log) => {
//!         if conn.is_empty() {
//!             return Ok(0); // exit runs first, then the function returns
//!         }
//!         conn.len()
//!     });
//!     Ok(len)
//! }
//!
//! let log = Default::default();
//! assert_eq!(futures_executor::block_on(run(&log)).unwrap(), 9);
//! assert_eq!(log.into_inner(), ["open", "close Connected, completed: true"]);
//! ```
//!
//! # One protocol
//!
//! [`async_with!`](macro@async_with), [`with()`](with()) and each entry of an
//! [`AsyncExitStack`] drive a manager through the same code (the crate's
//! `protocol` module), so every guarantee below holds for all three, and
//! for every kind of manager (hand-written, `#[async_context]`, an exit
//! stack used as a manager):
//!
//! 1. enter is awaited; if it fails, nothing else of this manager runs;
//! 2. in the same poll in which enter returns the target, the target is
//!    held by the manager's *scope* (no `.await` in between, so it cannot be
//!    lost to a cancellation);
//! 3. the block borrows the target, and runs with its panics caught (every
//!    poll);
//! 4. exit is awaited exactly once, with the [`Outcome`]: completed,
//!    failed, or panicked with a view of the payload, then a panic resumes
//!    with its original payload;
//! 5. if the future is dropped between 2 and 4, the scope calls the
//!    manager's [`cancel`](AsyncContextManager::cancel) hook, exactly once,
//!    which for a manager opted in with `tokio::exit_on_cancel` runs its
//!    async exit on the runtime (see "Cancellation");
//! 6. with feature `tracing`, enter and exit are spans.
//!
//! What differs between entry points is only how the block is written and
//! how its ending is replayed: `async_with!` keeps `return`, `?`, `break`
//! and `continue` meaning the enclosing function's (below); `with()` takes
//! an async closure and returns a value; an exit stack enters managers at
//! run time and is itself one manager from outside.
//!
//! # How the block's ending reaches exit
//!
//! The block runs as an `async` block whose panics are caught, and whose
//! `return`, `?`, `break` and `continue` were rewritten into values. After
//! the block, exit is awaited with the [`Outcome`], then the way out is
//! replayed:
//!
//! | way out of the block | exit sees | then |
//! |---|---|---|
//! | end of block, value not an error | `Completed` | `async_with!` evaluates to the block's value |
//! | end of block, value `Err(e)` or `None` | `Failed`, with `e` | `async_with!` evaluates to that same value (a value cannot be suppressed) |
//! | `break`, `continue` (labelled or not), `return` of a value that is not an error | `Completed` | the jump happens (a `return` value is computed before exit) |
//! | `?` on `Result` or `Option` | `Failed`, with the error before `From` conversion | the same `?` is replayed: same error, same conversion |
//! | `return Err(e)`, `return None`, `bail!`, `ensure!` | `Failed`, with `e` | the same `return` (the macro's: a `?` with the same conversion), unless suppressed |
//! | panic | `Panicked`, with the payload | the panic resumes with its original payload |
//! | enter fails | (exit is not called) | the error propagates like `?` |
//!
//! Closures, `async` blocks and items inside the block keep their own
//! `return` and `?`. `?` and `return` inside the arguments of other macros
//! work where those arguments are expressions: `println!`, `format!`,
//! `write!`, `vec!`, `assert!`, `assert_eq!`, `matches!` (its expression
//! and guard), `tokio::join!`/`try_join!`, `tokio::select!` and
//! `futures::select!` (each branch's future, `if` condition and handler),
//! and `tracing` events (`?field`/`%field` there are tracing's sigils, not
//! the `?` operator). Where a macro's arguments are not expressions,
//! `async_with!` reports one error that says to bind the value first.
//! async-stream's `stream!` and `try_stream!` in the block are generators
//! of their own: their `?`, `return` and `yield` stay theirs.
//!
//! Inside async-stream's `try_stream!`, an `async_with!` block may `yield`
//! and use `?`: a failed `?`, and the manager's enter and exit errors, are
//! sent to the stream as `Err(e.into())` after exit ran, and end it, as the
//! generator's own `?` does. The macro recognises the stream by the
//! rewritten `yield` of its block: a block without a `yield` of its own
//! cannot be told from one outside a stream (its enter error or `?` are
//! then reported as not convertible to `()`): run it in an `async` block
//! whose error the stream's own `?` takes,
//! `let n = async { Ok::<_, E>(async_with!(..)) }.await?;`.
//!
//! # Errors in the block
//!
//! In Rust an error leaves a block by `?`, by `return Err(e)`, by a macro
//! such as `anyhow::bail!`/`ensure!` (which `return Err(..)`), or as the
//! block's value. Each of them is a failure exit sees, so a transaction
//! rolls back on every one, and commits only on success:
//!
//! ```
//! use async_with::{async_context, async_with};
//! use std::cell::RefCell;
//!
//! /// Commits when the block completed, rolls back otherwise.
//! #[async_context]
//! async fn transaction(db: &RefCell<Vec<&'static str>>) -> Result<(), String> {
//!     let ((), exit) = yield_!(());
//!     db.borrow_mut().push(if exit.is_completed() { "COMMIT" } else { "ROLLBACK" });
//!     Ok(())
//! }
//!
//! // A stand-in for `anyhow::bail!` (any macro whose path ends in `bail` or
//! // `ensure` is run so that exit sees its error).
//! macro_rules! bail {
//!     ($message:expr) => { return Err($message.to_string()) };
//! }
//!
//! async fn transfer(db: &RefCell<Vec<&'static str>>, how: &str) -> Result<u32, String> {
//!     async_with!(_tx = transaction(db) => {
//!         if how == "?" {
//!             "x".parse::<u32>().map_err(|e| e.to_string())?;
//!         }
//!         if how == "return Err" {
//!             return Err("refused".to_string());
//!         }
//!         if how == "bail" {
//!             bail!("refused");
//!         }
//!         if how == "return Ok" {
//!             return Ok(1);
//!         }
//!         if how == "tail Err" { Err("refused".to_string()) } else { Ok(2) }
//!     })
//! }
//!
//! let db = RefCell::new(Vec::new());
//! let run = |how| futures_executor::block_on(transfer(&db, how));
//! assert!(run("?").is_err());
//! assert!(run("return Err").is_err());
//! assert!(run("bail").is_err());
//! assert!(run("tail Err").is_err());
//! assert_eq!(run("return Ok"), Ok(1));
//! assert_eq!(run("end"), Ok(2));
//! assert_eq!(db.into_inner(), ["ROLLBACK", "ROLLBACK", "ROLLBACK", "ROLLBACK", "COMMIT", "COMMIT"]);
//! ```
//!
//! How a value is recognised as an error: by its type, where exit's
//! outcome is built (no spelling of `Err` is looked for): a `Result` is a
//! failure when it is `Err`, an `Option` when it is `None`, any other type
//! never. A `return`'s value is first tied to the enclosing function's
//! return type, so its type is known there. A value written `Ok(..)` or
//! `Some(..)` (`return Ok(v)`, a block ending in `Ok(v)`) is not looked at:
//! it never is an error. An error given by value is shown to exit with
//! `Debug` (a `?`'s error with `Display` when it is a `std::error::Error`),
//! and can be downcast to its type. The view of a value cannot prefer
//! `Display`: its error type may be fixed only after the macro, and the
//! view, chosen where exit's outcome is built, would then require
//! `std::error::Error` of `String`, `()` or `anyhow::Error`. For the
//! `Display` view of an error, raise it with `?`: `Err(e)?` rather than
//! `return Err(e)`, `Ok(value?)` rather than ending with `value`.
//!
//! Two limits, both from type inference (the check must be written before
//! the code that fixes the type):
//! - the error type of a `return`'s or the block's value, not written
//!   `Ok(..)`, whose error type is fixed only after `async_with!` (inside
//!   an `async` block whose tail fixes it, or the block's value whose
//!   error type only the code after the macro fixes) must be `Debug +
//!   Send + Sync + 'static`, or be written out (`Ok::<_, MyError>(v)`):
//!   one error at the macro says so;
//! - a block value whose type only the code after the macro fixes
//!   (`let n = async_with!(.. => { s.parse().unwrap() }); let m: u32 = n;`), or
//!   whose `let` type cannot reach the block because the block has an
//!   unlabelled `break` or `continue` of a loop around the macro, is one
//!   error at the macro: write the type in the `let` (`let n: u32 =
//!   async_with!(..)`) or in the block (`s.parse::<u32>()`), or label the
//!   loop (`'rows: for ..` and `continue 'rows`).
//!
//! Otherwise the block's value is typed as a plain block's: the type the
//! code around the macro expects (a `let` with a type, the function's
//! return type, an argument) reaches the block's tail, and a tail that
//! never produces a value (`match` arms that all `return`, `break` or
//! `Err(e)?`, a `loop` without `break`) is not looked at.
//!
//! A macro that returns from inside its own definition, other than
//! `bail!`/`ensure!`, cannot be seen into: its `return` leaves the block's
//! `async` block, and rustc reports a type mismatch there. Write
//! `Err(error)?` in the block instead.
//!
//! # The target is lent to the block
//!
//! Enter produces the *target*; the block's pattern binds to `&mut target`
//! (`let PAT = &mut target;`), and exit gets the target back by value, so
//! teardown can close or commit the resource the block used. `conn` in
//! `async_with!(conn = open() => { .. })` is therefore a `&mut Target`.
//!
//! # Suppression
//!
//! Exit may suppress a failed block ([`ExitAction::Suppress`], or
//! [`Exit::suppress`] in a generator). Execution then continues after
//! `async_with!`, which evaluates to `()`. Typing rule: only a block whose
//! value is `()` can be suppressed (a failed `?`, a `return Err(e)`, a
//! `bail!`); a block with another value has nothing to evaluate to, so its
//! failure propagates as if exit had not suppressed it, and a block whose
//! value is `Err(e)` evaluates to it. Panics are never suppressed.
//!
//! # When exit fails too
//!
//! An error from exit after a completed block propagates like `?`. After a
//! failed block, exit's error goes on and keeps the block's (JavaScript's
//! `SuppressedError`, Python's `__context__`), where its type can hold
//! both: `BoxError`, `anyhow::Error` and `eyre::Report` become a
//! [`SuppressedError`] (`source()` and [`SuppressedError::errors`] reach
//! both, in order), a typed error implements [`KeepSuppressed`], and any
//! other goes on alone (exit received the block's error in
//! [`Outcome::Failed`] to format, downcast or keep it itself). Several
//! managers and nested `async_with!` chain the same way, so three failures
//! nest two levels deep. An exit stack whose entry suppressed the block's
//! failure before another entry failed does not keep it (Python's
//! reference chaining). After a panic, the panic resumes; an exit error is
//! then dropped.
//!
//! # Several managers
//!
//! `async_with!(a = A(), b = B() => { .. })` is exactly
//! `async_with!(a = A() => { async_with!(b = B() => { .. }) })`: if `B()`
//! fails to enter, `A` exits with that failure; exits run right to left and
//! each sees what the inner one left (suppressed: completed; failed: the new
//! error).
//!
//! # Cancellation
//!
//! A future can be dropped at any `.await` (a timeout, `select!`, an
//! aborted task). Python then delivers `CancelledError` into the block and
//! still awaits `__aexit__`; Rust cannot await in `Drop`. The policy:
//!
//! - **Between enter and exit**, the target is held by the manager's scope
//!   (step 2 of "One protocol", for every entry point), from the same poll
//!   in which enter returns it (no `.await` in between, so a target is
//!   never lost). Dropping the future calls the manager's synchronous
//!   [`cancel`](AsyncContextManager::cancel) hook with the target, exactly
//!   once, innermost manager first. The default hook drops the target.
//! - **Async exit after cancellation** (feature `tokio`): a manager whose
//!   exit can run detached (a [`SendContextManager`], `'static`) opts in
//!   once by being wrapped in `async_with::tokio::exit_on_cancel(manager)`.
//!   Its `cancel` hook, called by the scope's drop like any other, moves the
//!   manager and its target into a task on the current runtime that awaits
//!   its exit with [`Outcome::Cancelled`] under a deadline (5 s unless
//!   `.deadline(..)` says otherwise): not cut short by the cancellation that
//!   triggered it, and not hanging forever (Trio's shielded cleanup with a
//!   deadline). `async_with::sqlx::PoolTransaction` does this on its own.
//!   A runtime that shuts down with such exits in flight drops them; each
//!   is reported (counted in `tokio::cancelled_exits()` as abandoned, and a
//!   `tracing` warning with feature `tracing`), and
//!   `tokio::wait_for_cancelled_exits(limit)` waits for them, bounded,
//!   before shutdown. The allocation of the task is paid on the
//!   cancellation path only.
//! - **During enter**: enter's future is dropped; neither exit nor cancel
//!   runs (Python: no `__aexit__` for a failed `__aenter__`).
//! - **During exit**: exit already owns the target; its future is dropped
//!   with whatever it was doing, and cancel is not called as well.
//! - **Exit stacks** dropped with entries left call each entered manager's
//!   `cancel`, last in first out; deferred callbacks are dropped.
//! - **Generators** (`#[async_context]`): the default hook drops the target
//!   and, with the manager, the suspended function: its locals' `Drop`
//!   runs, its code after `yield_!` does not. Opted in boxed,
//!   `exit_on_cancel(Box::pin(generator()))` (one allocation when it is
//!   made), its teardown runs on the runtime, where
//!   [`Exit::is_cancelled`] is `true` (and `is_completed` `false`: a
//!   transaction rolls back).
//! - A `cancel` hook that panics while another panic unwinds is caught, so
//!   it cannot abort the process.
//!
//! # Panics in enter and exit
//!
//! A panic in enter propagates; neither the block nor exit runs. A panic in
//! exit propagates after any way out of the block; after a panicking block
//! it replaces the block's panic (the block's payload is dropped), as an
//! exception in Python's `__aexit__` replaces the body's. None of this runs
//! inside `Drop`, so no double panic aborts. `panic = "abort"` builds
//! compile and work, without the panic paths.
//!
//! # `Send` and spawned tasks
//!
//! The future of a function using `async_with!`, [`with()`](with()) or a
//! [`SendExitStack`] is `Send` when its managers and targets are, so it can
//! be `tokio::spawn`ed or be an axum handler. Where the manager's type is
//! concrete (a struct, a generator), nothing needs to be written. Where it
//! is not (`fn f<M: ..>`, `-> impl ..`, an associated type), stable Rust
//! cannot see the `Send`-ness of an `async fn` in a trait, so the code
//! bounds on [`SendContextManager`], the `Send` variant of
//! [`AsyncContextManager`] (the async working group's `trait_variant`
//! convention): a manager implements it instead of
//! [`AsyncContextManager`], and gets the latter from a blanket impl.
//! `&mut manager` lends any manager to `async_with!`: a
//! `SendContextManager` as it is (generic code bounded on it keeps its
//! `Send` futures), any other through [`by_ref`], chosen by the macro.
//! [`with()`] and an exit stack's `enter` take `by_ref(&mut manager)` for a
//! manager that is not `Send`.
//! A generator is a `SendContextManager` boxed: `Box::pin(generator())`.
//! The exit stack that is `Send` is [`SendExitStack`]
//! (`AsyncExitStack::new_send()`).
//!
//! [`with()`] whose target type has a lifetime (`Cow<'static, str>`,
//! `sqlx::Transaction<'static, Sqlite>`), awaited inside an async block that
//! must be `Send`, hits a rustc limitation with async closures
//! ("implementation of `AsyncFnOnce` is not general enough",
//! [rust-lang/rust#126350](https://github.com/rust-lang/rust/issues/126350),
//! part of [#110338](https://github.com/rust-lang/rust/issues/110338)).
//! Spellings that work: pass the `with(..)` future to `tokio::spawn` as it
//! is, make the body an `async fn` item (`with(manager, body).await`), or
//! write `async_with!`.
//!
//! ```
//! use async_with::{with, BoxError, ExitAction, Outcome, SendContextManager};
//! use std::borrow::Cow;
//!
//! struct Greeting;
//! impl SendContextManager for Greeting {
//!     type Target = Cow<'static, str>;
//!     type Error = BoxError;
//!     async fn enter(&mut self) -> Result<Cow<'static, str>, BoxError> { Ok("hello".into()) }
//!     async fn exit(&mut self, _: Cow<'static, str>, _: Outcome<'_>) -> Result<ExitAction, BoxError> {
//!         Ok(ExitAction::Propagate)
//!     }
//! }
//!
//! async fn shout(text: &mut Cow<'static, str>) -> Result<usize, BoxError> {
//!     text.to_mut().make_ascii_uppercase();
//!     Ok(text.len())
//! }
//!
//! fn assert_send<F: Future + Send>(future: F) -> F { future }
//! let task = assert_send(async { with(Greeting, shout).await });
//! assert_eq!(futures_executor::block_on(task).unwrap(), Some(5));
//! ```
//!
//! # Errors, runtimes
//!
//! Enter and exit errors propagate with `From`, like `?`. A manager whose
//! error type is [`Infallible`](core::convert::Infallible) works in any
//! function, including ones returning `()` or `Option`. Nothing here needs
//! an async runtime; the tests run the same code on tokio and on a bare
//! executor.
//!
//! # Features
//!
//! None is on by default. `tokio`: the `tokio` module, managers for real
//! resources on tokio (TCP connection, child process, temporary directory,
//! task group, timeout scope), tokio's `Mutex`, `RwLock` and `Semaphore`
//! as managers, and the async exit after cancellation
//! (`exit_on_cancel`). `sqlx` (implies `tokio`): the `sqlx` module,
//! a transaction on any sqlx database that commits or rolls back. `tracing`: each manager's enter and exit as
//! a `tracing` span (target `async_with`, level `DEBUG`) with the block's
//! outcome, the result and the duration.
#![deny(missing_docs)]
// docs.rs builds with `--cfg docsrs` on nightly: each feature-gated item
// shows the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

// `#[async_context]` names `::async_with::...` by default (`crate = path`
// otherwise); this lets the crate's own tests use it. (`async_with!` names
// this crate through `$crate`.)
extern crate self as async_with;

mod exit_stack;
mod generator;
mod manager;
mod managers;
mod outcome;
mod protocol;
mod suppressed;
mod sync;
mod with;

// What generated code calls (`expansion/mod.rs`). Declared before
// `__private` (and kept apart from it, so that rustfmt does not sort the
// two): of two hidden paths to an item, rustc names it in errors by the
// one in the module declared first, so errors say `expansion`.
#[doc(hidden)]
pub mod expansion;

// The names the macros emit, `$crate::__private::NAME`: re-exports only.
#[doc(hidden)]
pub mod __private;

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;

#[cfg(feature = "sqlx")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlx")))]
pub mod sqlx;

#[cfg(feature = "tracing")]
mod trace;

pub use exit_stack::{AsyncExitStack, BoxError, Local, SendExitStack, Sendable, Threading};
pub use generator::{Exit, Generator, GeneratorBody};
pub use manager::{
    AsyncContextManager, ByRef, ExitAction, PinnedContextManager, SendContextManager, by_ref,
};
pub use managers::{
    AsyncClose, Closing, FromFn, NullContext, Suppress, closing, from_fn, nullcontext, suppress,
    suppress_if,
};
pub use outcome::{Failure, Outcome, Panic};
pub use suppressed::{KeepSuppressed, SuppressedError};
pub use sync::{ContextManager, SyncManager, sync};
pub use with::with;

/// `async with` for Rust: `async_with!(PAT = MANAGER, ... => { BLOCK })` or
/// `async_with!(MANAGER => { BLOCK })`.
///
/// Enters each manager left to right, runs the block with each pattern
/// bound to `&mut target`, and awaits each exit right to left on every way
/// out of the block. It is an expression: its value is the block's value.
/// Each manager goes through the crate's one protocol (see the [crate
/// docs](crate), "One protocol"), and the rules there say how each way out
/// of the block is replayed.
///
/// `MANAGER` is any expression up to the `,` or `=>` that ends it: a
/// struct literal needs no parentheses (`async_with!(cursor = Snapshot {
/// table } => { .. })`), and `&mut manager` lends a manager that is not
/// `Send` too (see "`Send` and spawned tasks").
///
/// The generated code names this crate through `$crate`, so a crate that
/// renames the dependency (`aw = { package = "async-with", .. }`) or
/// re-exports the macro works. A nested `async_with!` is recognised by a
/// path ending in `async_with` (`async_with!`, `aw::async_with!`); one
/// called through an alias (`use async_with::async_with as with_cm;`)
/// inside another's block is expanded on its own, so its `return`, `?` and
/// `break` cannot cross the enclosing block: call it by its name there.
///
/// ```
/// use async_with::{async_context, async_with};
///
/// #[async_context]
/// async fn resource(name: &'static str, log: &std::cell::RefCell<Vec<String>>) -> Result<u32, String> {
///     log.borrow_mut().push(format!("enter {name}"));
///     let (_, exit) = yield_!(1);
///     log.borrow_mut().push(format!("exit {name}: {}", exit.inspect(|o| o.to_string())));
///     Ok(())
/// }
///
/// async fn run(log: &std::cell::RefCell<Vec<String>>) -> Result<u32, String> {
///     let sum = async_with!(a = resource("a", log), b = resource("b", log) => {
///         let n: u32 = "41".parse().map_err(|_| "bad number".to_string())?;
///         *a + *b + n
///     });
///     Ok(sum)
/// }
///
/// let log = Default::default();
/// assert_eq!(futures_executor::block_on(run(&log)), Ok(43));
/// assert_eq!(log.into_inner(), ["enter a", "enter b", "exit b: completed", "exit a: completed"]);
/// ```
#[macro_export]
macro_rules! async_with {
    ($($input:tt)*) => {
        $crate::expansion::async_with!($crate; $($input)*)
    };
}

/// Turns an `async fn` with exactly one [`yield_!`](macro@yield_) into a
/// function returning a manager (Python's `@asynccontextmanager`).
///
/// Code before `yield_!(target)` is enter (its `?` failures are enter
/// failures); `yield_!` hands the target to the block and evaluates to
/// `(target, exit)` once the block has ended: the target given back, and an
/// [`Exit`] telling how the block ended; code after it is exit (its `?`
/// failures are exit failures). `-> Result<T, E>`, or any alias of it
/// named `Result` or `...Result<..>` (`io::Result<T>`,
/// `anyhow::Result<T>`): the target is `T`, the error `E`, and the body
/// ends like a `Result<(), E>` function (`Ok(())`). `-> T`: infallible,
/// the body ends like a `()` function.
///
/// Options: `#[async_context(fallible)]` for a `Result` alias named
/// otherwise; `#[async_context(infallible)]` to yield a `Result` value
/// from a generator that cannot fail; `#[async_context(crate = path)]`
/// when the `async-with` crate is renamed or re-exported.
///
/// The body's state lives inside the returned [`Generator`], which
/// `async_with!` pins on the stack: no allocation. The protocol is checked
/// at compile time: zero or several `yield_!`, or one inside a loop,
/// closure, async block or nested fn, is an error. A run that returns before
/// its `yield_!` panics, naming the function.
///
/// ```
/// use async_with::{async_context, async_with};
///
/// #[derive(Debug, PartialEq)]
/// struct Db(Vec<&'static str>);
///
/// /// Commits on success, rolls back on failure or panic.
/// #[async_context]
/// async fn transaction(db: &mut Db) -> Result<Vec<&'static str>, String> {
///     db.0.push("BEGIN");
///     let (writes, exit) = yield_!(Vec::new());
///     if exit.is_completed() {
///         db.0.extend(writes);
///         db.0.push("COMMIT");
///     } else {
///         db.0.push("ROLLBACK");
///     }
///     Ok(())
/// }
///
/// async fn transfer(db: &mut Db, amount: &str) -> Result<(), String> {
///     async_with!(tx = transaction(db) => {
///         tx.push("debit");
///         amount.parse::<u32>().map_err(|e| e.to_string())?;
///         tx.push("credit");
///     });
///     Ok(())
/// }
///
/// let mut db = Db(Vec::new());
/// futures_executor::block_on(transfer(&mut db, "10")).unwrap();
/// assert!(futures_executor::block_on(transfer(&mut db, "ten")).is_err());
/// assert_eq!(db.0, ["BEGIN", "debit", "credit", "COMMIT", "BEGIN", "ROLLBACK"]);
/// ```
#[doc(inline)]
pub use async_with_macros::async_context;

/// The one suspension point of an [`#[async_context]`](macro@async_context)
/// function: `let (target, exit) = yield_!(value);`.
///
/// Written anywhere else it is a compile error.
///
/// ```
/// use async_with::{async_context, async_with};
///
/// #[async_context]
/// async fn answer() -> u32 {
///     let (answer, exit) = yield_!(42);
///     assert_eq!(answer, 43); // the block changed it
///     assert!(exit.is_completed());
/// }
///
/// let value = futures_executor::block_on(async {
///     async_with!(n = answer() => { *n += 1; *n })
/// });
/// assert_eq!(value, 43);
/// ```
#[doc(inline)]
pub use async_with_macros::yield_;
