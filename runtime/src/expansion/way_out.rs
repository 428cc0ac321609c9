//! The ways out of an `async_with!` block other than its end, for the
//! macro's expansion: a `?`'s residual, a `return`'s value, a `break` or
//! `continue` to a loop outside the block, an inner level's enter or exit
//! error.
//!
//! The block runs as a closure or an `async` block that returns a
//! [`Flow`]: its value, or one way out. All levels of one expansion (the
//! managers of one invocation, and the `async_with!`s nested in its block)
//! share one enum of ways out, declared once with [`ways_out!`], with one
//! variant per place in the code that leaves a block. A level hands a way
//! out that is not its own to replay to the enclosing level unchanged
//! (`return Flow::Left(way)`), so each is written once however deep it
//! is: the expansion grows linearly with the code it wraps.
//!
//! Exit sees a way out through [`WayOut`]: how it sees each one was chosen
//! where it was written, by autoref on [`Way`] (an error with its
//! `Display`, its `Debug`, opaque, or no failure at all), and recorded in
//! its [`Leave`]: a zero-sized kind for a residual, a [`View`] function
//! for a `return`'s value. A level that replays none of the others still
//! hands them on in a match arm that never runs: it makes every level's
//! use of the enum one type, whose type parameters the other levels fix.

use core::marker::PhantomData;

use core::fmt;

use super::keep::HeldError;
use super::{Ending, Fallible};
use crate::{BoxError, Failure, Outcome};

/// How a block ended without panicking: with its value, or by a way out.
pub enum Flow<V, W> {
    /// The block's value.
    Value(V),
    /// A way out (the expansion's enum of them).
    Left(W),
}

impl<V, W: WayOut> Flow<V, W> {
    /// The outcome exit sees: the way out's, or what `of_value` makes of
    /// the block's value.
    #[inline(always)]
    pub fn outcome<'a>(&'a self, of_value: impl FnOnce(&'a V) -> Outcome<'a>) -> Outcome<'a> {
        match self {
            Flow::Value(value) => of_value(value),
            Flow::Left(way) => way.outcome(),
        }
    }
}

/// What exit needs of a way out: how it sees it, and the error it holds
/// (kept by an exit error that comes after it).
pub trait WayOut {
    /// The outcome exit sees.
    fn outcome(&self) -> Outcome<'_>;
    /// The failure it holds, boxed, if any.
    fn held_error(self) -> Option<BoxError>;
}

/// A way out's value, and how exit sees it (`V`: a zero-sized kind for a
/// residual, whose type is known where it is written; a [`View`] for a
/// `return`'s value, whose type may not be), and the error it holds as `H`
/// (zero-sized) tells. Both chosen where the value was written.
pub struct Leave<T, V, H> {
    /// The value replayed after exit.
    pub value: T,
    view: V,
    held: PhantomData<fn() -> H>,
}

impl<T, V, H> Leave<T, V, H> {
    /// `value`, seen by exit through `view`, holding what `H` says (the
    /// value last: the expansion chooses both kinds by borrowing it).
    #[inline(always)]
    pub fn new(view: V, _: H, value: T) -> Self {
        Leave {
            value,
            view,
            held: PhantomData,
        }
    }
}

impl<T> Leave<T, Completed, HoldsNothing> {
    /// A way out that never is a failure: a `break`, a `continue`, a
    /// `return Ok(..)`.
    #[inline(always)]
    pub fn completed(value: T) -> Self {
        Leave::new(Completed, HoldsNothing, value)
    }
}

impl<T, V: ViewOf<T>, H: HeldOf<T>> WayOut for Leave<T, V, H> {
    #[inline(always)]
    fn outcome(&self) -> Outcome<'_> {
        self.view.outcome(&self.value)
    }

    #[inline]
    fn held_error(self) -> Option<BoxError> {
        H::held_error(self.value)
    }
}

/// How exit sees a value of type `T`.
pub trait ViewOf<T> {
    /// The outcome for `value`.
    fn outcome<'a>(&self, value: &'a T) -> Outcome<'a>;
}

/// The error is shown with its `Display`.
pub struct ShowsDisplay;
/// The error is shown with its `Debug`.
pub struct ShowsDebug;
/// Only the error's type name is known.
pub struct ShowsOpaque;
/// Never a failure: a value that is no `Result` or `Option`, a jump.
pub struct Completed;

impl<T: Fallible> ViewOf<T> for ShowsDisplay
where
    T::Error: std::error::Error + Send + Sync + 'static,
{
    #[inline(always)]
    fn outcome<'a>(&self, value: &'a T) -> Outcome<'a> {
        display_outcome(value)
    }
}

impl<T: Fallible> ViewOf<T> for ShowsDebug
where
    T::Error: ViewableError,
{
    #[inline(always)]
    fn outcome<'a>(&self, value: &'a T) -> Outcome<'a> {
        debug_outcome(value)
    }
}

impl<T: Fallible> ViewOf<T> for ShowsOpaque {
    #[inline(always)]
    fn outcome<'a>(&self, value: &'a T) -> Outcome<'a> {
        opaque_outcome(value)
    }
}

impl<T> ViewOf<T> for Completed {
    #[inline(always)]
    fn outcome<'a>(&self, _: &'a T) -> Outcome<'a> {
        Outcome::Completed
    }
}

/// How exit sees a value whose type may be known only after the macro:
/// chosen by autoref on [`Way`] as a function, so that what the choice
/// needs of `T` is required once, where it is made (a kind would require
/// it again where exit's outcome is built, a second error).
pub struct View<T>(for<'a> fn(&'a T) -> Outcome<'a>);

impl<T> ViewOf<T> for View<T> {
    #[inline(always)]
    fn outcome<'a>(&self, value: &'a T) -> Outcome<'a> {
        (self.0)(value)
    }
}

/// Exit's outcome for the block's value, seen through `view` (chosen by
/// autoref on [`Way`]).
#[inline(always)]
pub fn way_outcome<T>(value: &T, view: View<T>) -> Outcome<'_> {
    (view.0)(value)
}

/// What exit needs to format and downcast an error: `Debug + Send + Sync +
/// 'static`. A trait of its own so that the one case where it becomes a
/// requirement (an error type unknown where exit's view of it is chosen,
/// see [`Way`]) is reported with the fix.
#[diagnostic::on_unimplemented(
    message = "`async_with!` cannot show exit the error type `{Self}` of this value: its type was not known yet where exit's outcome is built",
    label = "write the error type out here, e.g. `Ok::<_, {Self}>(..)`",
    note = "an error returned or left as the block's value is shown to exit with `Debug`; an error type that is not `Debug + Send + Sync + 'static` must be known where the value is written"
)]
pub trait ViewableError: fmt::Debug + Send + Sync + 'static {}
// Not looked through in errors, so that the message above is the one shown.
#[diagnostic::do_not_recommend]
impl<E: fmt::Debug + Send + Sync + 'static> ViewableError for E {}

/// The failure a way out holds, for the choice of how exit's error keeps
/// it (`suppressed::keep`).
pub struct Held<W>(pub W);

impl<W: WayOut> HeldError for Held<W> {
    #[inline]
    fn held_error(self) -> Option<BoxError> {
        self.0.held_error()
    }
}

fn fallible_outcome<'a, T: Fallible>(
    value: &'a T,
    view: impl FnOnce(&'a T::Error) -> Failure<'a>,
) -> Outcome<'a> {
    match value.ending() {
        Ending::Completed => Outcome::Completed,
        Ending::None => Outcome::Failed(Failure::none()),
        Ending::Error(error) => Outcome::Failed(view(error)),
    }
}

fn display_outcome<T: Fallible>(value: &T) -> Outcome<'_>
where
    T::Error: std::error::Error + Send + Sync + 'static,
{
    fallible_outcome(value, Failure::with_display)
}

fn debug_outcome<T: Fallible>(value: &T) -> Outcome<'_>
where
    T::Error: ViewableError,
{
    fallible_outcome(value, Failure::new)
}

fn opaque_outcome<T: Fallible>(value: &T) -> Outcome<'_> {
    fallible_outcome(value, |_| Failure::opaque::<T::Error>())
}

fn completed<T>(_: &T) -> Outcome<'_> {
    Outcome::Completed
}

/// The error a value of type `T` holds, for exit's error to keep.
pub trait HeldOf<T> {
    /// The error, boxed.
    fn held_error(value: T) -> Option<BoxError>;
}

/// It holds its error (`Result<_, E>` with `E: Into<BoxError>`).
pub struct HoldsError;
/// Nothing to keep.
pub struct HoldsNothing;

impl<T: HeldError> HeldOf<T> for HoldsError {
    #[inline]
    fn held_error(value: T) -> Option<BoxError> {
        value.held_error()
    }
}

impl<T> HeldOf<T> for HoldsNothing {
    #[inline(always)]
    fn held_error(_: T) -> Option<BoxError> {
        None
    }
}

/// The choices, by autoref where the value's type is known:
/// `(&&&&Way(&residual)).async_with_view()` for a `?`'s residual or a raised error,
/// `(&&&Way(&value)).async_with_view()` for a `return`'s value or the block's (whose
/// type may be known only later: the first candidate's bounds then become
/// requirements), and `(&&Way(&residual)).async_with_held()`.
pub struct Way<'a, T>(pub &'a T);

/// First for a residual: its error is a `std::error::Error`, shown with
/// its `Display`.
pub trait ViewsDisplay<T> {
    /// The kind, for a residual.
    fn async_with_view_kind(&self) -> ShowsDisplay;
    /// The view, for a value.
    fn async_with_view(&self) -> View<T>;
}
impl<T: Fallible> ViewsDisplay<T> for &&&Way<'_, T>
where
    T::Error: std::error::Error + Send + Sync + 'static,
{
    #[inline(always)]
    fn async_with_view_kind(&self) -> ShowsDisplay {
        ShowsDisplay
    }
    #[inline(always)]
    fn async_with_view(&self) -> View<T> {
        View(display_outcome)
    }
}

/// Then (first for a value): its error is shown with its `Debug`.
pub trait ViewsDebug<T> {
    /// The kind, for a residual.
    fn async_with_view_kind(&self) -> ShowsDebug;
    /// The view, for a value.
    fn async_with_view(&self) -> View<T>;
}
impl<T: Fallible> ViewsDebug<T> for &&Way<'_, T>
where
    T::Error: ViewableError,
{
    #[inline(always)]
    fn async_with_view_kind(&self) -> ShowsDebug {
        ShowsDebug
    }
    #[inline(always)]
    fn async_with_view(&self) -> View<T> {
        View(debug_outcome)
    }
}

/// Then: a `Result` or an `Option` whose error only has a type name.
pub trait ViewsOpaque<T> {
    /// The kind, for a residual.
    fn async_with_view_kind(&self) -> ShowsOpaque;
    /// The view, for a value.
    fn async_with_view(&self) -> View<T>;
}
impl<T: Fallible> ViewsOpaque<T> for &Way<'_, T> {
    #[inline(always)]
    fn async_with_view_kind(&self) -> ShowsOpaque {
        ShowsOpaque
    }
    #[inline(always)]
    fn async_with_view(&self) -> View<T> {
        View(opaque_outcome)
    }
}

/// Last: any other value never fails the block.
pub trait ViewsCompleted<T> {
    /// The kind, for a residual.
    fn async_with_view_kind(&self) -> Completed;
    /// The view, for a value.
    fn async_with_view(&self) -> View<T>;
}
impl<T> ViewsCompleted<T> for Way<'_, T> {
    #[inline(always)]
    fn async_with_view_kind(&self) -> Completed {
        Completed
    }
    #[inline(always)]
    fn async_with_view(&self) -> View<T> {
        View(completed)
    }
}

/// First: the value holds an error exit's error can keep.
pub trait HeldErrorKind {
    /// [`HoldsError`].
    fn async_with_held(&self) -> HoldsError;
}
impl<T: HeldError> HeldErrorKind for &Way<'_, T> {
    #[inline(always)]
    fn async_with_held(&self) -> HoldsError {
        HoldsError
    }
}

/// Last: nothing to keep.
pub trait HeldNothingKind {
    /// [`HoldsNothing`].
    fn async_with_held(&self) -> HoldsNothing;
}
impl<T> HeldNothingKind for Way<'_, T> {
    #[inline(always)]
    fn async_with_held(&self) -> HoldsNothing {
        HoldsNothing
    }
}

/// Declares an expansion's enum of ways out, one variant per place that
/// leaves a block, each with a type parameter (its [`Leave`]), and makes
/// it a [`WayOut`] by delegating to the variant.
#[doc(hidden)]
#[macro_export]
macro_rules! __async_with_ways_out {
    ($name:ident { $($variant:ident($param:ident)),+ $(,)? }) => {
        #[allow(non_camel_case_types)]
        enum $name<$($param),+> {
            $($variant($param)),+
        }
        impl<$($param: $crate::__private::WayOut),+> $crate::__private::WayOut for $name<$($param),+> {
            #[inline(always)]
            fn outcome(&self) -> $crate::Outcome<'_> {
                match self {
                    $($name::$variant(way) => $crate::__private::WayOut::outcome(way)),+
                }
            }
            #[inline]
            fn held_error(self) -> ::core::option::Option<$crate::BoxError> {
                match self {
                    $($name::$variant(way) => $crate::__private::WayOut::held_error(way)),+
                }
            }
        }
    };
}
pub use crate::__async_with_ways_out as ways_out;
