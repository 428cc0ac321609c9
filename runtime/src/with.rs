//! The closure form, for code that avoids macros.

use core::fmt;
use core::pin::pin;

use crate::protocol::{after_exit, catch_unwind, scope};
use crate::suppressed::keep_if_boxed;
use crate::{ExitAction, Failure, Outcome, PinnedContextManager};

/// Enters `manager`, awaits `body` with its target, and awaits exit on
/// every way out of `body`: the guarantees of
/// [`async_with!`](macro@crate::async_with) without a macro, from the same
/// implementation (see the crate docs, "One protocol"): exit once on
/// every way out, the panic resumed after exit, the manager's `cancel`
/// hook if this future is dropped while `body` runs, and with feature
/// `tracing`, enter and exit spans.
///
/// `body` is an async closure returning `Result<T, E>`; an `Err` is the
/// block's failure, which exit sees in [`Outcome::Failed`] (as the closure
/// returned it, so after its `?` converted it). The result is
/// `Ok(Some(value))` when the body succeeded, `Ok(None)` when exit
/// suppressed its failure, and `Err` with the body's error, or with enter's
/// or exit's error converted by `From`. A panic in `body` reaches exit as
/// [`Outcome::Panicked`] and then resumes.
///
/// # `with` or `async_with!`
///
/// The body is a closure, so `return` and `?` leave the closure, not the
/// enclosing function, and `break`/`continue` cannot reach an enclosing
/// loop; an early exit is a value the caller matches on. Prefer
/// `async_with!` where the block is code of the enclosing function, and
/// `with` where a macro is unwelcome (generated code, a team rule) or the
/// body is already a closure. Because the body's error must be viewable in
/// generic code, `E` is `Debug + Send + Sync + 'static` and is shown with
/// `Debug`; `async_with!` also accepts other errors.
///
/// ```
/// use async_with::{with, from_fn, ExitAction};
/// use std::cell::RefCell;
///
/// # futures_executor::block_on(async {
/// let log = RefCell::new(Vec::new());
/// let connection = from_fn(
///     async || Ok::<_, String>("Connected".to_string()),
///     async |conn, outcome| {
///         log.borrow_mut().push(format!("close {conn}: {outcome}"));
///         Ok(ExitAction::Propagate)
///     },
/// );
/// let len = with(connection, async |conn: &mut String| {
///     if conn.is_empty() {
///         return Err("nothing to read".to_string());
///     }
///     Ok(conn.len())
/// })
/// .await;
/// assert_eq!(len, Ok(Some(9)));
/// assert_eq!(log.into_inner(), ["close Connected: completed"]);
/// # });
/// ```
pub async fn with<M, T, E>(
    manager: M,
    body: impl AsyncFnOnce(&mut M::Target) -> Result<T, E>,
) -> Result<Option<T>, E>
where
    M: PinnedContextManager,
    E: From<M::Error> + fmt::Debug + Send + Sync + 'static,
{
    let mut scope = pin!(scope(manager));
    let target = scope.as_mut().enter().await?;
    let mut ended = catch_unwind(body(target)).await;
    let exited = scope
        .as_mut()
        .exit_after(&mut ended, |result| match result {
            Ok(_) => Outcome::Completed,
            Err(error) => Outcome::Failed(Failure::new(error)),
        })
        .await;
    match after_exit(ended, exited) {
        Ok((Ok(value), _)) => Ok(Some(value)),
        Ok((Err(_), ExitAction::Suppress)) => Ok(None),
        Ok((Err(error), ExitAction::Propagate)) => Err(error),
        // Exit failed: its error goes on, keeping the body's when the error
        // type is `BoxError` (docs/contract.md, "When exit fails").
        Err((error, Ok(_))) => Err(E::from(error)),
        Err((error, Err(_))) if scope.as_ref().handled_block_failure() => Err(E::from(error)),
        Err((error, Err(body))) => Err(keep_if_boxed(E::from(error), body)),
    }
}
