//! How an enter or exit error of the outermost `async_with!` level leaves
//! the function, and the choice it makes between an error that can occur
//! and an `Infallible` one. The expansion writes, where the manager's
//! `enter` or `exit` failed (`macros/src/raise.rs`):
//!
//! ```text
//! let kind = (&&raise::Probe(&error)).async_with_raise_kind();
//! return kind.raise(error);
//! ```
//!
//! The autoref choice is [`Never`] for an `Infallible` error (no
//! requirement on the enclosing function: a manager that cannot fail works
//! in a function returning `()` or `Option`) or [`Propagate`] for any other
//! (the function must return a `Result` whose error converts from it,
//! [`FromError`]). A nested level's errors are ways out of the enclosing
//! block instead (`way_out.rs`).
//!
//! In an `async-stream` generator, the outermost level sends the error as
//! the stream's item instead ([`Propagate::stream_item`]).

use super::FromError;
use core::convert::Infallible;

/// The error type is `Infallible`.
pub struct Never;
/// Any other error type.
pub struct Propagate;

impl Never {
    /// Unreachable.
    pub fn raise<R>(self, error: Infallible) -> R {
        match error {}
    }
}

impl Propagate {
    /// `R::from_error(error)`.
    pub fn raise<R: FromError<E>, E>(self, error: E) -> R {
        R::from_error(error)
    }

    /// The item an async-stream generator's `?` would send:
    /// `Err(error.into())`.
    pub fn stream_item<T, F: From<E>, E>(self, error: E) -> Result<T, F> {
        Err(F::from(error))
    }
}

impl Never {
    /// Unreachable: nothing is sent.
    pub fn stream_item<T>(self, error: Infallible) -> T {
        match error {}
    }
}

/// Wraps `&error` for the choice.
pub struct Probe<'a, E>(pub &'a E);

/// First choice.
pub trait KindNever {
    /// [`Never`].
    fn async_with_raise_kind(&self) -> Never;
}
impl KindNever for &Probe<'_, Infallible> {
    fn async_with_raise_kind(&self) -> Never {
        Never
    }
}

/// Fallback.
pub trait KindPropagate {
    /// [`Propagate`].
    fn async_with_raise_kind(&self) -> Propagate;
}
impl<E> KindPropagate for Probe<'_, E> {
    fn async_with_raise_kind(&self) -> Propagate {
        Propagate
    }
}
