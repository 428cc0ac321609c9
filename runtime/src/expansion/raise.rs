//! How an enter or exit error leaves the function: `raise!(error)`, and
//! the choice it makes between an error that can occur and an
//! `Infallible` one.
//!
//! Each `async_with!` level emits `$crate::__private::raise!(error)` where
//! its manager's `enter` or `exit` failed (`macros/src/raise.rs`). The
//! macro picks, by autoref on `&&Probe(&error)`, [`Never`] for an
//! `Infallible` error (no requirement on the enclosing function: a
//! manager that cannot fail works in a function returning `()` or
//! `Option`) or [`Propagate`] for any other (the function must return a
//! `Result` whose error converts from it, [`FromError`]).
//!
//! The path `__private::raise!` is also a marker of the macro crate's
//! contract: inside the block of an enclosing level of the same
//! `async_with!` (several managers), that level's rewriter recognises it
//! by its last two path segments (`macros/src/raise.rs`, `recognise`) and
//! turns it into a failure its own exit sees first. Keep the name and the
//! path: a user's own macro is unlikely to be called `__private::raise!`,
//! while `expansion::raise!` would be a plausible path in user code, which
//! the rewriter would then take for the marker. That is why rustc's note
//! "this error originates in the macro `$crate::__private::raise`" stays
//! in the two ui snapshots of a fallible manager in a function that cannot
//! return its error.
//!
//! In an `async-stream` generator, the outermost level sends the error as
//! the stream's item instead ([`Propagate::stream_item`], emitted inline
//! by `macros/src/raise.rs`, `emit_to_stream`).

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

/// `raise!(error)` returns an enter or exit error from the enclosing
/// function, converted like `?`. The marker of the macro crate's contract
/// (`macros/src/raise.rs`): inside the block of an enclosing
/// `async_with!`, that expansion rewrites it into a failure its own exit
/// sees first.
#[doc(hidden)]
#[macro_export]
macro_rules! __async_with_raise {
    ($error:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::raise::{KindNever as _, KindPropagate as _};
        let error = $error;
        #[allow(unreachable_code)]
        let kind = (&&$crate::__private::raise::Probe(&error)).async_with_raise_kind();
        #[allow(unreachable_code, clippy::diverging_sub_expression)]
        return kind.raise(error);
    }};
}
