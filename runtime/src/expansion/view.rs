//! How the value that leaves an `async_with!` block becomes exit's
//! outcome, second step: the error of an `Err` seen as a
//! [`Failure`], as richly as its type allows (after
//! [`Shape`](super::Shape) found the value to be an `Err`).
//!
//! The ladder has three rungs: [`ViewError`] on `&&View` (the error is a
//! `std::error::Error`: `Failure::with_display`, so exit can `Display` and
//! downcast it), [`ViewDebug`] on `&View` (`Debug` only), [`ViewOpaque`]
//! on `View` (only the type's name). The expansion starts a `?` residual
//! at the top rung (`(&&&View(error)).failure()`) and an error given by
//! value, a `return` or the block's value, one rung lower
//! (`(&&View(error)).failure()`): see [`View`] for why.

use core::fmt;

use crate::Failure;

/// Views an error as a [`Failure`], choosing at the call site, where `E` is
/// concrete, the richest view `E` allows. Call as
/// `(&&&View(error)).failure()` for a `?` residual (`Error` with its
/// `Display`, `Debug`, or opaque), and `(&&View(error)).failure()` for an
/// error given by value (a `return`, the block's value: `Debug` or opaque).
///
/// A value's error type may still be unknown where exit's outcome is built
/// (the block's `Ok(v)` whose error type the function fixes, a `return
/// Ok(v)` in an `async` block whose error type its tail fixes): the first
/// candidate that may apply is then taken and its bound becomes a
/// requirement. For values that candidate is `Debug`, which every usual
/// error type has (`anyhow::Error` and `eyre::Report` are not
/// `std::error::Error`).
pub struct View<'a, E>(pub &'a E);

/// Highest priority for a `?` residual: the error implements
/// `std::error::Error`.
pub trait ViewError<'a> {
    /// The view.
    fn failure(&self) -> Failure<'a>;
}
impl<'a, E> ViewError<'a> for &&View<'a, E>
where
    E: std::error::Error + Send + Sync + 'static,
{
    #[inline(always)]
    fn failure(&self) -> Failure<'a> {
        Failure::with_display(self.0)
    }
}

/// The error is `Debug` (the first choice for an error given by value).
pub trait ViewDebug<'a> {
    /// The view.
    fn failure(&self) -> Failure<'a>;
}
impl<'a, E> ViewDebug<'a> for &View<'a, E>
where
    E: ViewableError,
{
    #[inline(always)]
    fn failure(&self) -> Failure<'a> {
        Failure::new(self.0)
    }
}

/// What exit needs to format and downcast an error: `Debug + Send + Sync +
/// 'static`. A trait of its own so that the one case where it becomes a
/// requirement (an error type unknown where exit's outcome is built, see
/// [`View`]) is reported with the fix.
#[diagnostic::on_unimplemented(
    message = "`async_with!` cannot show exit the error type `{Self}` of this value: its type was not known yet where exit's outcome is built",
    label = "write the error type out here, e.g. `Ok::<_, {Self}>(..)`",
    note = "an error returned or left as the block's value is shown to exit with `Debug`; an error type that is not `Debug + Send + Sync + 'static` must be known where the value is written"
)]
pub trait ViewableError: fmt::Debug + Send + Sync + 'static {}
// Not looked through in errors, so that the message above is the one shown.
#[diagnostic::do_not_recommend]
impl<E: fmt::Debug + Send + Sync + 'static> ViewableError for E {}

/// Last: nothing is known but the type's name.
pub trait ViewOpaque<'a> {
    /// The view.
    fn failure(&self) -> Failure<'a>;
}
impl<'a, E> ViewOpaque<'a> for View<'a, E> {
    #[inline(always)]
    fn failure(&self) -> Failure<'a> {
        Failure::opaque::<E>()
    }
}
