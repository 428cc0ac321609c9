//! Whether a value leaving an `async_with!` block is a failure: a
//! `Result` or an `Option` ([`Fallible`]) is one when it is `Err` or `None`
//! (the values `?` would propagate); a value of any other type completed
//! the block. How exit then sees it is chosen by the [`Way`](super::Way)
//! ladder (`way_out.rs`), whose first rungs need `Fallible`: for a type
//! not known yet where the choice is made (the block's value typed only by
//! code after the macro), that bound becomes the requirement, and
//! `Fallible`'s message says what to write.

use core::convert::Infallible;

/// How a value that leaves an `async_with!` block ended, as far as exit is
/// concerned: a `?` residual, the value of a `return`, or the block's own
/// value. A value that `?` would propagate (`Err(e)`, `None`) is a failure;
/// anything else completed the block.
pub enum Ending<'a, E> {
    /// Not a failure: `Ok(_)`, `Some(_)`, or a value of another type.
    Completed,
    /// `Err(error)`.
    Error(&'a E),
    /// `None`.
    None,
}

/// A value that can be a failure: `Result` (when `Err`) and `Option` (when
/// `None`).
#[diagnostic::on_unimplemented(
    message = "the type of this `async_with!` block's value is not known inside the block, so exit cannot be told whether it is an error",
    label = "write the type where the value is bound (`let value: T = async_with!(..);`) or in the block (`.parse::<T>()`)",
    note = "the type is `{Self}` only after the macro; exit sees a `Result` or an `Option` as a failure when it is `Err` or `None`",
    note = "an unlabelled `break` or `continue` in the block keeps the type of the `let` from reaching it: label the loop (`'rows: for ..` and `continue 'rows`) or write the type in the block"
)]
pub trait Fallible {
    /// The error type.
    type Error;
    /// How the value ends the block.
    fn ending(&self) -> Ending<'_, Self::Error>;
}

// Not listed in errors: the message above is the one shown.
#[diagnostic::do_not_recommend]
impl<T, E> Fallible for Result<T, E> {
    type Error = E;
    #[inline(always)]
    fn ending(&self) -> Ending<'_, E> {
        match self {
            Ok(_) => Ending::Completed,
            Err(error) => Ending::Error(error),
        }
    }
}

#[diagnostic::do_not_recommend]
impl<T> Fallible for Option<T> {
    type Error = Infallible;
    #[inline(always)]
    fn ending(&self) -> Ending<'_, Infallible> {
        match self {
            Some(_) => Ending::Completed,
            None => Ending::None,
        }
    }
}

/// `!` written on stable Rust: the output of `fn() -> !`.
pub trait HasOutput {
    /// `T` for `fn() -> T`.
    type Output;
}
impl<T> HasOutput for fn() -> T {
    type Output = T;
}
/// The never type, `!`.
pub type Never = <fn() -> ! as HasOutput>::Output;

// The types a value typed only by a block that never ends falls back to
// (`!`, `()` on edition 2021): never an error. A `-> !` function's block
// value (`std::future::pending().await`) is typed `!` only after the macro.
#[diagnostic::do_not_recommend]
impl Fallible for Never {
    type Error = Infallible;
    #[inline(always)]
    fn ending(&self) -> Ending<'_, Infallible> {
        *self
    }
}

#[diagnostic::do_not_recommend]
impl Fallible for () {
    type Error = Infallible;
    #[inline(always)]
    fn ending(&self) -> Ending<'_, Infallible> {
        Ending::Completed
    }
}
