//! The doorway of generated code: what `async_with!` and `#[async_context]`
//! expansions name, as `$crate::__private::..`. Not public API: no
//! stability guarantees. Behaviour lives in the modules re-exported here
//! (the protocol in `protocol.rs`); what is defined here are the small
//! helpers only generated code needs: stable `?` ([`Branch`]), and the
//! autoref choices made where a type is concrete (how an error is viewed,
//! how it leaves the function, what a suppressed block evaluates to).

use core::convert::Infallible;
use core::fmt;
use core::marker::PhantomData;
use core::ops::ControlFlow;

use crate::manager::Unpinned;
use crate::{AsyncContextManager, ByRef, ExitAction, Failure, PinnedContextManager, by_ref};

pub use crate::executor::block_on;
pub use crate::generator::{BodyFn, BodyResult, Co, FallibleReturn, Generator, YieldFuture};
pub use crate::protocol::{
    CatchUnwind, Ended, Scope, after_exit, catch_unwind, catch_unwind_now, outcome, scope,
};
pub use crate::suppressed::keep;
pub use crate::way_out::{
    Flow, Held, HeldErrorKind, HeldNothingKind, HoldsNothing, Leave, ViewsCompleted, ViewsDebug,
    ViewsDisplay, ViewsOpaque, Way, WayOut, returning, suppressed_way, way_outcome, ways_out,
};
pub use async_with_macros::async_with;
pub use core::pin::pin;

/// The manager expression of `async_with!`, unchanged, checked before
/// anything else uses it: the one place where an expression that is no
/// manager is reported (at the expression, with the trait's message).
///
/// The return type is `M` for a manager, through a projection whose self
/// type is the manager's target type `T`: for a non-manager `T` is never
/// resolved, so neither is the value's type, and rustc reports nothing
/// more about the later uses of the value (the scope, its `enter` and
/// `exit`), since an error was reported already. A manager's call is
/// inlined away.
#[inline(always)]
pub fn manager<M, T>(manager: M) -> <T as Checked<M>>::Manager
where
    M: PinnedContextManager<Target = T>,
{
    manager
}

/// How the manager expression of `async_with!` is lent to the scope,
/// chosen by autoref where its type is concrete: call as
/// `(&&&&Lend(&expr)).lend_kind().lend(expr)`, then check the result with
/// [`manager`].
///
/// 1. A manager ([`PinnedContextManager`]) is passed unchanged: every
///    manager that worked before this choice existed (a `&mut M` of a
///    `SendContextManager` included, so generic code bounded on the `Send`
///    variant keeps its `Send` futures).
/// 2. `&mut M` of any other [`AsyncContextManager`] (one that is not
///    `Send`, or implements only the local trait) is lent through
///    [`by_ref`](crate::by_ref): the `&mut` impl that coherence forbids on
///    the local trait (DESIGN.md, "`&mut M` moved to the `Send` variant"),
///    made here instead.
/// 3. Any other [`AsyncContextManager`], one that is not `Unpin` (generic
///    code bounded without `+ Unpin`), is lent as `Unpinned`: its
///    methods take `&mut self`, so it needs no pinning.
/// 4. Anything else is passed unchanged, and [`manager`] reports it once.
///
/// An expression whose type is still unknown takes the first choice, as
/// before.
pub struct Lend<'a, M>(pub &'a M);

/// First choice: a manager as it is.
pub trait LendManager {
    /// [`AsIs`].
    fn lend_kind(&self) -> AsIs;
}
impl<M: PinnedContextManager> LendManager for &&&Lend<'_, M> {
    #[inline(always)]
    fn lend_kind(&self) -> AsIs {
        AsIs
    }
}

/// Second: `&mut M` of a manager that is not `Send`.
pub trait LendByRef {
    /// [`AsByRef`].
    fn lend_kind(&self) -> AsByRef;
}
impl<M: AsyncContextManager + ?Sized> LendByRef for &&Lend<'_, &mut M> {
    #[inline(always)]
    fn lend_kind(&self) -> AsByRef {
        AsByRef
    }
}

/// Third: a manager that is not `Unpin`.
pub trait LendUnpinned {
    /// [`AsUnpinned`].
    fn lend_kind(&self) -> AsUnpinned;
}
impl<M: AsyncContextManager> LendUnpinned for &Lend<'_, M> {
    #[inline(always)]
    fn lend_kind(&self) -> AsUnpinned {
        AsUnpinned
    }
}

/// Last: not a manager; [`manager`] reports it.
pub trait LendOther {
    /// [`AsIs`].
    fn lend_kind(&self) -> AsIs;
}
impl<M> LendOther for Lend<'_, M> {
    #[inline(always)]
    fn lend_kind(&self) -> AsIs {
        AsIs
    }
}

/// The expression is lent as it is.
pub struct AsIs;
impl AsIs {
    /// `manager`.
    #[inline(always)]
    pub fn lend<M>(self, manager: M) -> M {
        manager
    }
}

/// The expression, a `&mut M`, is lent as `by_ref(manager)`.
pub struct AsByRef;
impl AsByRef {
    /// `by_ref(manager)`.
    #[inline(always)]
    pub fn lend<M: AsyncContextManager + ?Sized>(self, manager: &mut M) -> ByRef<'_, M> {
        by_ref(manager)
    }
}

/// The expression, a manager that is not `Unpin`, is lent as
/// `Unpinned`.
pub struct AsUnpinned;
impl AsUnpinned {
    /// `Unpinned(manager)`.
    #[inline(always)]
    pub fn lend<M: AsyncContextManager>(self, manager: M) -> Unpinned<M> {
        Unpinned(manager)
    }
}

/// `M`, through a projection on the manager's target type (see
/// [`manager`]).
pub trait Checked<M> {
    /// `M`.
    type Manager;
}
impl<T, M> Checked<M> for T {
    type Manager = M;
}

/// Names a lifetime in an `impl Trait` return type so that it is captured
/// on edition 2021 as on 2024.
pub trait Captures<'a> {}
impl<T: ?Sized> Captures<'_> for T {}

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

impl<E> Ending<'_, E> {
    /// `true` unless the value is `Err(_)` or `None`.
    #[inline]
    pub fn is_completed(&self) -> bool {
        matches!(self, Ending::Completed)
    }
}

/// The shape of a value leaving the block, chosen by autoref at the call
/// site: a `Result` or an `Option` ([`Fallible`]: failed when `Err` or
/// `None`), any other type (completed). Call as
/// `(&&&Shape(&value)).ending()`.
///
/// The first choice has one bound, `V: Fallible`, and no other
/// requirement: for a known type the bound holds or not; for a type not
/// known yet (the block's value typed only by code after the macro) it may
/// hold, so the first choice is taken and the bound is checked when the
/// type is known: a `Result` or an `Option` then works, any other type is
/// the one error that says to write the type (`Fallible`'s message). The
/// view of the error ([`View`]) is chosen afterwards.
pub struct Shape<'a, V>(pub &'a V);

/// First choice: a `Result` or an `Option`.
pub trait ShapeFallible<'a> {
    /// The error type.
    type Error;
    /// `Error(&e)` for `Err(e)`, `None` for `None`.
    fn ending(&self) -> Ending<'a, Self::Error>;
}
impl<'a, V: Fallible> ShapeFallible<'a> for &&Shape<'a, V> {
    type Error = V::Error;
    #[inline(always)]
    fn ending(&self) -> Ending<'a, V::Error> {
        self.0.ending()
    }
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

/// Last: any other type never fails the block.
pub trait ShapeOther<'a> {
    /// `Completed`.
    fn ending(&self) -> Ending<'a, Infallible>;
}
impl<'a, V> ShapeOther<'a> for Shape<'a, V> {
    #[inline(always)]
    fn ending(&self) -> Ending<'a, Infallible> {
        Ending::Completed
    }
}

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

/// A value of the enclosing function's return type `R`, never produced:
/// `if false { return return_type(witness) }` makes `witness` a
/// `PhantomData<fn() -> R>` before the block is type-checked.
/// (`fn() -> R` keeps the witness `Send` and `Sync` whatever `R` is.)
pub fn return_type<R>(_: PhantomData<fn() -> R>) -> R {
    unreachable!("only named in code that never runs")
}

/// Ties the type of a block's `return` value to the enclosing function's
/// return type, before exit's outcome is built from it (so that the view
/// of its error is chosen from a known type). Called in code that never
/// runs.
pub fn returns<R>(_: PhantomData<fn() -> R>, _: &R) {}

/// The value `async_with!` evaluates to when exit suppressed a failure:
/// `Some(())` for a `()` block, `None` (suppression impossible) otherwise.
/// Call as `(&&SuppressedValue(value_type)).value()`, with the block's
/// [`value_of`] witness.
pub struct SuppressedValue<V>(pub PhantomData<fn() -> V>);

/// The block's value is `()`.
pub trait SuppressedUnit {
    /// `Some(())`.
    fn value(&self) -> Option<()>;
}
impl SuppressedUnit for &SuppressedValue<()> {
    fn value(&self) -> Option<()> {
        Some(())
    }
}

/// The block has a value that a suppressed failure never produced.
pub trait SuppressedOther<V> {
    /// `None`.
    fn value(&self) -> Option<V>;
}
impl<V> SuppressedOther<V> for SuppressedValue<V> {
    fn value(&self) -> Option<V> {
        None
    }
}

/// A value of the block's type `V`, never produced. The expansion is
/// `{ let value_type = PhantomData; if false { value_of(value_type) } else
/// { .. } }`: the type the context expects of `async_with!` (a `let` with a
/// type, a function's return type, an argument) reaches the `if`'s first
/// branch before the block is type-checked, so `value_type` is a
/// `PhantomData<fn() -> V>` of that type there (`fn() -> V` keeps the
/// witness `Send`, `Sync` and `Copy` whatever `V` is).
pub fn value_of<V>(_: PhantomData<fn() -> V>) -> V {
    unreachable!("only named in code that never runs")
}

/// The block's value, checked as the block of a plain `let v: V = { .. }`:
/// the expected type `V` (from [`value_of`]) reaches the block's tail
/// (its coercions, `collect()`, `parse()`), and exit's outcome is built
/// from a value of a known type.
#[inline(always)]
pub fn typed<V>(_: PhantomData<fn() -> V>, value: V) -> V {
    value
}

/// The value a failed block evaluates to: `value` (from the autoref
/// choice above) if exit suppressed the failure.
pub fn suppressed<V>(action: ExitAction, value: Option<V>) -> Option<V> {
    match action {
        ExitAction::Suppress => value,
        ExitAction::Propagate => None,
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

/// Picks how an enter/exit error leaves the function: an `Infallible` one
/// never does, so it needs nothing of the return type.
pub mod raise {
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
pub use crate::__async_with_raise as raise;
