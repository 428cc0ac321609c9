//! The choice `async_with!` makes where exit failed after the block
//! failed: which error goes on, and whether it keeps the block's earlier
//! failure (docs/contract.md, "When exit fails"; `SuppressedError`,
//! `KeepSuppressed`).
//!
//! The expansion writes, for the exit error `error` and the block's held
//! failure `held` (a `?` residual, an inner level's raised error, or the
//! block's `Err` value):
//!
//! ```text
//! use __private::keep::{KeepBoth as _, KeepByHook as _, KeepLater as _};
//! (&&&Keep::of(&error, &held)).async_with_keep().keep(error, held)
//! ```
//!
//! An autoref ladder of three rungs, most specific first: the error
//! type's own [`KeepSuppressed`] hook ([`KeepByHook`], on `&&&Keep`), an
//! error type that holds any error and converts from a
//! [`SuppressedError`] ([`KeepBoth`], on `&&Keep`: `BoxError`,
//! `anyhow::Error`), and otherwise the later error alone ([`KeepLater`],
//! on `&Keep`).

use core::marker::PhantomData;

use crate::suppressed::after;
use crate::{BoxError, KeepSuppressed, SuppressedError};

/// A value that may hold a failure: the block's `?` residual, an inner
/// level's raised error, or the block's `Err` value.
pub trait HeldError {
    /// The failure, boxed; `None` for a success or a `None`.
    fn held_error(self) -> Option<BoxError>;
}

impl<T, E: Into<BoxError>> HeldError for Result<T, E> {
    #[inline]
    fn held_error(self) -> Option<BoxError> {
        self.err().map(Into::into)
    }
}

impl<T> HeldError for Option<T> {
    #[inline]
    fn held_error(self) -> Option<BoxError> {
        None
    }
}

/// The two types, for the choice.
pub struct Keep<E, S>(PhantomData<fn(E, S)>);

impl<E, S> Keep<E, S> {
    /// The choice for `error` and `held`.
    #[inline(always)]
    pub fn of(_: &E, _: &S) -> Self {
        Keep(PhantomData)
    }
}

/// First: the error type's own [`KeepSuppressed`].
pub trait KeepByHook {
    /// [`ByHook`].
    fn async_with_keep(&self) -> ByHook;
}
impl<E: KeepSuppressed, S: HeldError> KeepByHook for &&&Keep<E, S> {
    #[inline(always)]
    fn async_with_keep(&self) -> ByHook {
        ByHook
    }
}

/// Then: an error type that holds any error.
pub trait KeepBoth {
    /// [`Both`].
    fn async_with_keep(&self) -> Both;
}
impl<E, S> KeepBoth for &&Keep<E, S>
where
    E: From<SuppressedError> + Into<BoxError>,
    S: HeldError,
{
    #[inline(always)]
    fn async_with_keep(&self) -> Both {
        Both
    }
}

/// Last: the later error goes on alone.
pub trait KeepLater {
    /// [`Later`].
    fn async_with_keep(&self) -> Later;
}
impl<E, S> KeepLater for &Keep<E, S> {
    #[inline(always)]
    fn async_with_keep(&self) -> Later {
        Later
    }
}

/// Keeps through [`KeepSuppressed`].
pub struct ByHook;
impl ByHook {
    /// `error.keep_suppressed(earlier)`, if `held` failed.
    pub fn keep<E: KeepSuppressed, S: HeldError>(self, error: E, held: S) -> E {
        match held.held_error() {
            Some(earlier) => error.keep_suppressed(earlier),
            None => error,
        }
    }
}

/// Keeps both in a [`SuppressedError`].
pub struct Both;
impl Both {
    /// `SuppressedError { error, suppressed }`, if `held` failed.
    pub fn keep<E, S>(self, error: E, held: S) -> E
    where
        E: From<SuppressedError> + Into<BoxError>,
        S: HeldError,
    {
        match held.held_error() {
            Some(earlier) => E::from(after(error.into(), earlier)),
            None => error,
        }
    }
}

/// Keeps the later error only.
pub struct Later;
impl Later {
    /// `error`.
    #[inline(always)]
    pub fn keep<E, S>(self, error: E, _: S) -> E {
        error
    }
}
