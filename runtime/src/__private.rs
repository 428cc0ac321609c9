//! Items named by the code that `async_with!` and `#[async_context]`
//! generate. Not public API: no stability guarantees.

use core::any::Any;
use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::ops::ControlFlow;
use core::panic::AssertUnwindSafe;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::boxed::Box;
use std::string::String;

use crate::{ExitAction, Failure, Outcome, Panic, PinnedContextManager};

pub use crate::generator::{Body, BodyResult, Co, FallibleReturn, Generator, YieldFuture};
pub use core::pin::pin;

/// Names a lifetime in an `impl Trait` return type so that it is captured
/// on edition 2021 as on 2024.
pub trait Captures<'a> {}
impl<T: ?Sized> Captures<'_> for T {}

/// Awaits the manager's enter and arms a [`CancelGuard`] with the target in
/// the same poll. A function (not a method call) so that a non-manager
/// expression is reported at the user's expression.
pub async fn enter<'m, M: PinnedContextManager + ?Sized>(
    mut manager: Pin<&'m mut M>,
) -> Result<CancelGuard<'m, M, M::Target>, M::Error> {
    #[cfg(feature = "tracing")]
    let target = crate::trace::enter::<M, _, _>(manager.as_mut().enter()).await?;
    #[cfg(not(feature = "tracing"))]
    let target = manager.as_mut().enter().await?;
    Ok(CancelGuard {
        manager,
        target: Some(target),
        cancel: M::cancel,
    })
}

/// Owns the target between enter and exit, so that a dropped `async_with!`
/// future (cancellation) still reaches the manager, through `cancel`.
///
/// No trait bound on the type itself (the hook is a function pointer taken
/// in [`enter`]): a non-manager is then reported once, at `enter`.
pub struct CancelGuard<'m, M: ?Sized, T> {
    manager: Pin<&'m mut M>,
    target: Option<T>,
    cancel: fn(Pin<&mut M>, T),
}

impl<M: ?Sized, T> CancelGuard<'_, M, T> {
    /// The target the block borrows.
    pub fn target(&mut self) -> &mut T {
        self.target.as_mut().expect("the target is lent until exit")
    }

    /// Disarms the guard and hands the manager and target to exit.
    pub fn exit<'a>(
        &'a mut self,
        outcome: Outcome<'a>,
    ) -> impl Future<Output = Result<ExitAction, M::Error>> + 'a
    where
        M: PinnedContextManager<Target = T>,
    {
        let target = self.target.take().expect("exit runs once");
        #[cfg(feature = "tracing")]
        return crate::trace::exit(
            crate::trace::exit_span::<M>(&outcome),
            self.manager.as_mut().exit(target, outcome),
        );
        #[cfg(not(feature = "tracing"))]
        self.manager.as_mut().exit(target, outcome)
    }
}

impl<M: ?Sized, T> Drop for CancelGuard<'_, M, T> {
    fn drop(&mut self) {
        let Some(target) = self.target.take() else {
            return;
        };
        let (cancel, manager) = (self.cancel, self.manager.as_mut());
        run_cancel_hook(|| cancel(manager, target));
    }
}

/// Runs a `cancel` hook from a `Drop` impl. While a panic unwinds, a second
/// panic from the hook would abort the process, so it is caught and
/// dropped then.
pub(crate) fn run_cancel_hook(hook: impl FnOnce()) {
    if std::thread::panicking() {
        let _ = std::panic::catch_unwind(AssertUnwindSafe(hook));
    } else {
        hook();
    }
}

/// `true` if exit asked to suppress.
pub fn suppresses<E>(action: &Result<ExitAction, E>) -> bool {
    matches!(action, Ok(ExitAction::Suppress))
}

pin_project_lite::pin_project! {
    /// Polls the block's future, catching a panic of any poll.
    pub struct CatchUnwind<F> {
        #[pin]
        future: F,
    }
}

impl<F: Future> CatchUnwind<F> {
    /// Wraps the block's future.
    pub fn new(future: F) -> Self {
        CatchUnwind { future }
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, PanicPayload>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.project().future;
        // The block's state is never observed again after a panic: it is
        // dropped, exit sees the payload, and the panic resumes.
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(PanicPayload::new(payload))),
        }
    }
}

/// A caught panic payload, split so that its message can be viewed through
/// `&` while the payload itself (only `Send`) is viewed through `&mut`.
/// The original box is kept and resumed as it was.
pub enum PanicPayload {
    /// `panic!("literal")`.
    Static(Box<&'static str>),
    /// `panic!("formatted {x}")`.
    Message(Box<String>),
    /// `std::panic::panic_any(value)`.
    Other(Box<dyn Any + Send>),
}

impl PanicPayload {
    /// Classifies a payload returned by `catch_unwind`.
    pub fn new(payload: Box<dyn Any + Send>) -> Self {
        match payload.downcast::<&'static str>() {
            Ok(message) => PanicPayload::Static(message),
            Err(payload) => match payload.downcast::<String>() {
                Ok(message) => PanicPayload::Message(message),
                Err(payload) => PanicPayload::Other(payload),
            },
        }
    }

    /// The view exit receives.
    pub fn view(&mut self) -> Panic<'_> {
        match self {
            PanicPayload::Static(message) => Panic::message_only(message),
            PanicPayload::Message(message) => Panic::message_only(message),
            PanicPayload::Other(payload) => Panic::other(&mut **payload),
        }
    }

    /// Resumes the original panic with its original payload.
    pub fn resume(self) -> ! {
        let payload: Box<dyn Any + Send> = match self {
            PanicPayload::Static(message) => message,
            PanicPayload::Message(message) => message,
            PanicPayload::Other(payload) => payload,
        };
        std::panic::resume_unwind(payload)
    }
}

impl fmt::Debug for PanicPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PanicPayload")
    }
}

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
/// never does, so it needs nothing of the return type. The choice is made
/// from a reference to the `Result` (an inhabited value), before matching.
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

    /// Wraps `&Result<T, E>` for the choice.
    pub struct Probe<'a, T>(pub &'a T);

    /// First choice.
    pub trait KindNever {
        /// [`Never`].
        fn async_with_raise_kind(&self) -> Never;
    }
    impl<T> KindNever for &Probe<'_, Result<T, Infallible>> {
        fn async_with_raise_kind(&self) -> Never {
            Never
        }
    }

    /// Fallback.
    pub trait KindPropagate {
        /// [`Propagate`].
        fn async_with_raise_kind(&self) -> Propagate;
    }
    impl<T, E> KindPropagate for Probe<'_, Result<T, E>> {
        fn async_with_raise_kind(&self) -> Propagate {
            Propagate
        }
    }
}

/// How the error of the `Result` behind the reference leaves the function.
#[doc(hidden)]
#[macro_export]
macro_rules! __async_with_raise_kind {
    ($result:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::raise::{KindNever as _, KindPropagate as _};
        (&&$crate::__private::raise::Probe($result)).async_with_raise_kind()
    }};
}
pub use crate::__async_with_raise_kind as raise_kind;

/// `raise!(kind, error)` returns an enter or exit error from the enclosing
/// function. Inside the block of an enclosing `async_with!`, that macro
/// rewrites this into a failure its own exit sees first.
#[doc(hidden)]
#[macro_export]
macro_rules! __async_with_raise {
    ($kind:expr, $error:expr) => {{
        #[allow(unreachable_code, clippy::diverging_sub_expression)]
        return $kind.raise($error);
    }};
}
pub use crate::__async_with_raise as raise;

/// Drives a future to completion on the current thread, without a runtime.
/// For doc examples and tests of the runtime-agnostic core.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = core::pin::pin!(future);
    let thread = std::thread::current();
    let waker = std::sync::Arc::new(ThreadWaker(thread)).into();
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

struct ThreadWaker(std::thread::Thread);

impl std::task::Wake for ThreadWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.unpark();
    }
}
