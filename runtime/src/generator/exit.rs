//! [`Exit`], what `yield_!` evaluates to beside the target: how the block
//! ended, as the teardown sees it. Safe code only: it reads its generator's
//! channel through the handle made in `channel.rs`.

use super::channel::{ExitHandle, OutcomeKind};
use crate::Outcome;
#[cfg(doc)]
use {super::Co, crate::ExitAction};

/// How the block ended, as the teardown of an `#[async_context]` function
/// sees it: what `yield_!` evaluates to, beside the target given back.
///
/// The kind of ending is known at once. The block's error or panic payload
/// stays with `async_with!` (so that it can propagate untouched) and is
/// viewed through [`Exit::inspect`], which works while the teardown runs.
///
/// ```
/// use async_with::{async_context, async_with, Exit};
///
/// #[async_context]
/// async fn transaction(log: &mut Vec<String>) -> Result<Vec<String>, String> {
///     log.push("begin".to_string());
///     let (writes, exit): (Vec<String>, Exit) = yield_!(Vec::new());
///     if exit.is_completed() {
///         log.push(format!("commit {}", writes.join(",")));
///     } else {
///         let why = exit.inspect(|outcome| outcome.to_string());
///         log.push(format!("rollback: {why}"));
///     }
///     Ok(())
/// }
///
/// async fn run(log: &mut Vec<String>) -> Result<(), String> {
///     async_with!(writes = transaction(log) => {
///         writes.push("a=1".to_string());
///     });
///     Ok(())
/// }
///
/// let mut log = Vec::new();
/// futures_executor::block_on(run(&mut log)).unwrap();
/// assert_eq!(log, ["begin", "commit a=1"]);
/// ```
///
/// An `Exit` borrows the function's hidden [`Co`], so it cannot leave the
/// function's body (for a spawned task or a caller's variable).
pub struct Exit<'co> {
    /// The generator's exit channel; it borrows `'co`, so the `Exit` stays
    /// in the body.
    channel: ExitHandle<'co>,
}

impl core::fmt::Debug for Exit<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Exit")
            .field("kind", &self.channel.kind())
            .finish()
    }
}

impl Exit<'_> {
    /// `true` when the block ended normally (end, `return`, `break`,
    /// `continue`).
    pub fn is_completed(&self) -> bool {
        self.channel.kind() == OutcomeKind::Completed
    }

    /// `true` when a `?` in the block failed.
    pub fn is_failed(&self) -> bool {
        self.channel.kind() == OutcomeKind::Failed
    }

    /// `true` when the block panicked.
    ///
    /// ```
    /// use async_with::{async_context, async_with};
    ///
    /// #[async_context]
    /// async fn report(seen: &mut Vec<(bool, bool, bool)>) {
    ///     let ((), exit) = yield_!(());
    ///     seen.push((exit.is_completed(), exit.is_failed(), exit.is_panicked()));
    /// }
    ///
    /// let mut seen = Vec::new();
    /// let _: Option<()> = futures_executor::block_on(async {
    ///     async_with!(report(&mut seen) => { None::<u8>?; });
    ///     Some(())
    /// });
    /// assert_eq!(seen, [(false, true, false)]);
    /// ```
    pub fn is_panicked(&self) -> bool {
        self.channel.kind() == OutcomeKind::Panicked
    }

    /// `true` when the block was cancelled and this teardown runs detached
    /// on the runtime ([`exit_on_cancel`](crate::tokio::exit_on_cancel),
    /// feature `tokio`): not completed, so a transaction rolls back.
    ///
    /// ```
    /// use async_with::{async_context, PinnedContextManager, Outcome};
    ///
    /// #[async_context]
    /// async fn report(seen: &mut Option<bool>) {
    ///     let ((), exit) = yield_!(());
    ///     *seen = Some(exit.is_cancelled() && !exit.is_completed());
    /// }
    ///
    /// let mut seen = None;
    /// futures_executor::block_on(async {
    ///     let mut manager = std::pin::pin!(report(&mut seen));
    ///     manager.as_mut().enter().await.unwrap();
    ///     manager.as_mut().exit((), Outcome::Cancelled).await.unwrap();
    /// });
    /// assert_eq!(seen, Some(true));
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.channel.kind() == OutcomeKind::Cancelled
    }

    /// Runs `f` on the block's [`Outcome`] (to format or downcast the error,
    /// or read the panic message).
    ///
    /// # Panics
    ///
    /// When called while the teardown is not running: from the `Drop` of
    /// one of the function's locals when the suspended function is dropped
    /// (the block's future was cancelled during exit).
    ///
    /// ```
    /// use async_with::{async_context, async_with};
    ///
    /// #[async_context]
    /// async fn describe(into: &mut String) {
    ///     let ((), exit) = yield_!(());
    ///     *into = exit.inspect(|outcome| outcome.to_string());
    /// }
    ///
    /// let mut text = String::new();
    /// futures_executor::block_on(async { async_with!(describe(&mut text) => {}) });
    /// assert_eq!(text, "completed");
    /// ```
    pub fn inspect<R>(&self, f: impl FnOnce(&Outcome<'_>) -> R) -> R {
        self.channel.inspect(f)
    }

    /// Suppresses the block's failure (Python: the generator catches the
    /// exception and does not re-raise it). Has no effect on a completed
    /// block or a panic; see [`ExitAction::Suppress`] for how a suppressed
    /// block's value is typed.
    ///
    /// # Panics
    ///
    /// Like [`Exit::inspect`], outside the function's teardown.
    ///
    /// ```
    /// use async_with::{async_context, async_with};
    ///
    /// /// Python's `contextlib.suppress(ValueError)`, as a generator.
    /// #[async_context]
    /// async fn ignore_parse_errors() {
    ///     let ((), exit) = yield_!(());
    ///     if exit.inspect(|o| o.failure().is_some_and(|f| f.is::<std::num::ParseIntError>())) {
    ///         exit.suppress();
    ///     }
    /// }
    ///
    /// async fn run() -> Result<&'static str, std::num::ParseIntError> {
    ///     async_with!(ignore_parse_errors() => {
    ///         let _: u8 = "not a number".parse()?;
    ///     });
    ///     Ok("went on")
    /// }
    /// assert_eq!(futures_executor::block_on(run()), Ok("went on"));
    /// ```
    pub fn suppress(&self) {
        self.channel.suppress();
    }
}

impl<'co> Exit<'co> {
    /// Made by `yield_!`'s future when the teardown resumes the body.
    pub(super) fn new(channel: ExitHandle<'co>) -> Self {
        Exit { channel }
    }
}
