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

use crate::{ExitAction, Failure};

pub use crate::executor::block_on;
pub use crate::generator::{Body, BodyResult, Co, FallibleReturn, Generator, YieldFuture};
pub use crate::protocol::{CatchUnwind, Ended, Scope, after_exit, catch_unwind, outcome, scope};
pub use async_with_macros::async_with;
pub use core::pin::pin;

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

/// Views a residual (`Result<Infallible, E>` or `Option<Infallible>`) as a
/// [`Failure`], choosing at the call site, where `E` is concrete, the
/// richest view `E` allows: `Error` (Display), `Debug`, or opaque. Call as
/// `(&&&Erase(&residual)).failure()`.
pub struct Erase<'a, R>(pub &'a R);

/// Highest priority: the error implements `std::error::Error`.
pub trait EraseError<'a> {
    /// The view.
    fn failure(&self) -> Failure<'a>;
}
impl<'a, E> EraseError<'a> for &&Erase<'a, Result<Infallible, E>>
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn failure(&self) -> Failure<'a> {
        match self.0 {
            Err(error) => Failure::with_display(error),
            Ok(never) => match *never {},
        }
    }
}
impl<'a> EraseError<'a> for &&Erase<'a, Option<Infallible>> {
    fn failure(&self) -> Failure<'a> {
        Failure::none()
    }
}

/// Second: the error is only `Debug`.
pub trait EraseDebug<'a> {
    /// The view.
    fn failure(&self) -> Failure<'a>;
}
impl<'a, E> EraseDebug<'a> for &Erase<'a, Result<Infallible, E>>
where
    E: fmt::Debug + Send + Sync + 'static,
{
    fn failure(&self) -> Failure<'a> {
        match self.0 {
            Err(error) => Failure::new(error),
            Ok(never) => match *never {},
        }
    }
}

/// Last: nothing is known but the type's name.
pub trait EraseOpaque<'a> {
    /// The view.
    fn failure(&self) -> Failure<'a>;
}
impl<'a, E> EraseOpaque<'a> for Erase<'a, Result<Infallible, E>> {
    fn failure(&self) -> Failure<'a> {
        Failure::opaque::<E>()
    }
}

/// The value `async_with!` evaluates to when exit suppressed a failure:
/// `Some(())` for a `()` block, `None` (suppression impossible) otherwise.
/// Call as `(&&SuppressedValue(PhantomData::<V>)).value()`.
pub struct SuppressedValue<V>(pub PhantomData<V>);

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

/// The type of the block's value, for [`SuppressedValue`]. Generic over
/// the value's type only, so that it is compiled once per type, not once
/// per use.
pub fn type_of<V>(_: &V) -> PhantomData<V> {
    PhantomData
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
