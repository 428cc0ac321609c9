//! How control leaves an `async_with!` block early, on stable Rust: the
//! block's `?` and the manager's enter and exit errors.
//!
//! A `?` in the block is rewritten (`macros/src/rewrite.rs`) into
//! `match __private::branch(expr) { Continue(v) => v, Break(residual) =>
//! /* leave the block with the residual */ }`: the residual is kept until
//! exit has run, then replayed with a real `?` in the enclosing function,
//! so that its conversion (`From`) is the one `?` makes. [`Branch`] is the
//! unstable `Try::branch`, for the two types `?` works on in the block.
//!
//! An enter or exit error leaves through [`raise!`](super::raise!), which
//! converts it with [`FromError`] (the `From` of `?`, with a message that
//! says what the enclosing function must return).

use core::convert::Infallible;
use core::ops::ControlFlow;

/// `?` on stable Rust: split a value into the value it continues with or the
/// residual it returns early with (the unstable `Try::branch`).
#[diagnostic::on_unimplemented(
    message = "`?` inside `async_with!` works on `Result` and `Option`, not on `{Self}`",
    label = "this `?` is applied to `{Self}`"
)]
pub trait Branch {
    /// What `?` evaluates to on success.
    type Output;
    /// What `?` returns early with, replayed with `?` after exit.
    type Residual;
    /// Splits the value.
    fn branch(self) -> ControlFlow<Self::Residual, Self::Output>;
}

/// `Branch::branch`, with the branch's types as parameters rather than
/// projections: a `?` on a type that is neither `Result` nor `Option` is
/// then reported once, at the `?` (the unresolved types are not reported
/// again).
#[inline(always)]
pub fn branch<T, O, R>(value: T) -> ControlFlow<R, O>
where
    T: Branch<Output = O, Residual = R>,
{
    value.branch()
}

impl<T, E> Branch for Result<T, E> {
    type Output = T;
    type Residual = Result<Infallible, E>;

    fn branch(self) -> ControlFlow<Self::Residual, T> {
        match self {
            Ok(value) => ControlFlow::Continue(value),
            Err(error) => ControlFlow::Break(Err(error)),
        }
    }
}

impl<T> Branch for Option<T> {
    type Output = T;
    type Residual = Option<Infallible>;

    fn branch(self) -> ControlFlow<Self::Residual, T> {
        match self {
            Some(value) => ControlFlow::Continue(value),
            None => ControlFlow::Break(None),
        }
    }
}

/// Converts a manager's error into the enclosing function's return value,
/// as `?` would (`From`), for enter and exit errors.
#[diagnostic::on_unimplemented(
    message = "`async_with!` cannot propagate the manager's error `{E}` from a function returning `{Self}`",
    label = "the manager can fail with `{E}`",
    note = "enter and exit errors propagate like `?`: the enclosing function must return `Result<_, F>` with `F: From<{E}>`",
    note = "a manager whose error type is `Infallible` works in any function"
)]
pub trait FromError<E> {
    /// The early return value.
    fn from_error(error: E) -> Self;
}

impl<T, E, F: From<E>> FromError<E> for Result<T, F> {
    fn from_error(error: E) -> Self {
        Err(F::from(error))
    }
}
