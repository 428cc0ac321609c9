//! The manager traits: the friendly one users implement, and the pinned one
//! `async_with!` drives.

use core::future::Future;
use core::pin::Pin;

use crate::Outcome;

/// What exit decided about a failed block.
///
/// Python's `__aexit__` returns a truthy value to swallow the exception;
/// here exit returns [`ExitAction::Suppress`].
///
/// Suppression applies only to [`Outcome::Failed`]: a completed block has
/// nothing to suppress and a panic always resumes. A suppressed failure makes
/// `async_with!` evaluate to `()` and go on after the macro; this needs the
/// block's value to be `()`. For a block of any other type there is no value
/// to go on with, so the failure propagates as if exit had returned
/// [`ExitAction::Propagate`] (see the crate docs, "Suppression").
///
/// ```
/// use async_with::{ExitAction, Outcome};
///
/// fn swallow_timeouts(outcome: &Outcome<'_>) -> ExitAction {
///     match outcome.failure() {
///         Some(failure) if failure.is::<std::io::Error>() => ExitAction::Suppress,
///         _ => ExitAction::Propagate,
///     }
/// }
/// assert_eq!(swallow_timeouts(&Outcome::Completed), ExitAction::Propagate);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[must_use]
pub enum ExitAction {
    /// Let the block's failure go on (the usual answer).
    #[default]
    Propagate,
    /// Swallow the block's failure; execution continues after `async_with!`.
    Suppress,
}

/// An async context manager: Python's class with `__aenter__`/`__aexit__`.
///
/// `enter` produces the *target*. The block of
/// [`async_with!`](macro@crate::async_with) borrows it (`let PAT = &mut target;`),
/// and `exit` gets it back by value afterwards, together with how the block
/// ended, so that it can close, commit or roll back the resource the block
/// used.
///
/// `exit` is awaited exactly once on every way out of the block: normal end,
/// `return`, `break`, `continue`, a failing `?` and a panic.
///
/// ```
/// use async_with::{async_with, AsyncContextManager, ExitAction, Outcome};
///
/// struct Connection {
///     log: Vec<String>,
/// }
///
/// impl AsyncContextManager for Connection {
///     type Target = String;
///     type Error = std::convert::Infallible;
///
///     async fn enter(&mut self) -> Result<String, Self::Error> {
///         self.log.push("open".into());
///         Ok("Connected".into())
///     }
///
///     async fn exit(&mut self, conn: String, outcome: Outcome<'_>) -> Result<ExitAction, Self::Error> {
///         self.log.push(format!("close {conn} ({})", if outcome.is_completed() { "ok" } else { "failed" }));
///         Ok(ExitAction::Propagate)
///     }
/// }
///
/// # async fn run() {
/// let mut manager = Connection { log: Vec::new() };
/// // `&mut manager` lends it (the macro writes `by_ref` for a manager that is not `Send`).
/// let len = async_with!(conn = &mut manager => { conn.len() });
/// assert_eq!(len, 9);
/// assert_eq!(manager.log, ["open", "close Connected (ok)"]);
/// # }
/// # futures_executor::block_on(run());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an async context manager",
    label = "this is not an `AsyncContextManager`",
    note = "implement `async_with::AsyncContextManager` for it, or write it as an `#[async_context]` async fn",
    note = "`&mut manager` is a manager in `async_with!` when the manager is one; elsewhere lend a manager that is not a `SendContextManager` as `async_with::by_ref(&mut manager)`"
)]
// Send-ness is visible wherever the manager's type is concrete, as in
// `async_with!`; generic code bounds on the `Send` variant,
// `SendContextManager`.
#[allow(async_fn_in_trait)]
pub trait AsyncContextManager {
    /// What `enter` produces and the block borrows.
    type Target;
    /// The error `enter` and `exit` can fail with. Use
    /// [`Infallible`](core::convert::Infallible) for managers that cannot
    /// fail: they then work in functions returning `()` or `Option`.
    type Error;

    /// Sets up the resource (Python's `__aenter__`). An error here means the
    /// block and `exit` never run.
    async fn enter(&mut self) -> Result<Self::Target, Self::Error>;

    /// Tears the resource down (Python's `__aexit__`), given back the target
    /// and how the block ended. Returning an error replaces a failure of the
    /// block (Python's semantics); the block's error is in `outcome` for the
    /// error to keep (see the crate docs, "When exit fails too").
    async fn exit(
        &mut self,
        target: Self::Target,
        outcome: Outcome<'_>,
    ) -> Result<ExitAction, Self::Error>;

    /// Called instead of `exit` when the future running the block is
    /// dropped after enter succeeded and before exit started (a timeout,
    /// `select!`, an aborted task): Rust cannot await in `Drop`, so this is
    /// synchronous. Python would deliver `CancelledError` and await
    /// `__aexit__`.
    ///
    /// The default drops the target, so its `Drop` runs. A manager whose
    /// cleanup must await spawns it here, on the runtime it knows, bounded
    /// in time, passing [`Outcome::Cancelled`] to its own exit logic (see
    /// the crate docs, "Cancellation"). Called at most once, and never
    /// after `exit` has started: once exit owns the target, dropping
    /// exit's future drops whatever exit was doing.
    ///
    /// ```
    /// use async_with::{AsyncContextManager, ExitAction, Outcome};
    /// use std::convert::Infallible;
    ///
    /// struct Lease { released: Vec<&'static str> }
    ///
    /// impl AsyncContextManager for Lease {
    ///     type Target = &'static str;
    ///     type Error = Infallible;
    ///     async fn enter(&mut self) -> Result<&'static str, Infallible> { Ok("lease-1") }
    ///     async fn exit(&mut self, id: &'static str, _: Outcome<'_>) -> Result<ExitAction, Infallible> {
    ///         self.released.push(id);
    ///         Ok(ExitAction::Propagate)
    ///     }
    ///     fn cancel(&mut self, id: &'static str) {
    ///         // Synchronous fallback: record it; a real lease would spawn its release.
    ///         self.released.push(id);
    ///     }
    /// }
    ///
    /// let mut lease = Lease { released: Vec::new() };
    /// {
    ///     let mut block = std::pin::pin!(async {
    ///         async_with::async_with!(_id = &mut lease => { std::future::pending::<()>().await });
    ///     });
    ///     // Poll once, so the block is suspended inside, then drop it.
    ///     let waker = std::task::Waker::noop();
    ///     let _ = block.as_mut().poll(&mut std::task::Context::from_waker(&waker));
    /// }
    /// assert_eq!(lease.released, ["lease-1"]);
    /// ```
    fn cancel(&mut self, target: Self::Target) {
        drop(target);
    }
}

/// The `Send` variant of [`AsyncContextManager`] (docs/contract.md, "`Send`
/// and generic code"): the same trait, with futures that are `Send`.
///
/// This is the async working group's `trait_variant::make` convention,
/// written by hand: a manager that can move between threads implements
/// `SendContextManager` once, and gets [`AsyncContextManager`] (and so
/// [`PinnedContextManager`]) from a blanket impl that returns its futures
/// unchanged. Code generic over a manager then bounds on this trait, and the
/// future of an `async_with!`, [`with()`](crate::with()) or a
/// [`SendExitStack`](crate::SendExitStack) using it is `Send`, so it can be
/// `tokio::spawn`ed or be an axum handler:
///
/// ```
/// use async_with::{async_with, ExitAction, Outcome, SendContextManager};
/// use std::convert::Infallible;
///
/// struct Lease(u32);
///
/// impl SendContextManager for Lease {
///     type Target = u32;
///     type Error = Infallible;
///     async fn enter(&mut self) -> Result<u32, Infallible> { Ok(self.0) }
///     async fn exit(&mut self, _: u32, _: Outcome<'_>) -> Result<ExitAction, Infallible> {
///         Ok(ExitAction::Propagate)
///     }
/// }
///
/// // Generic code: the bound says the futures are `Send`.
/// async fn use_it<M: SendContextManager<Target = u32, Error = Infallible> + Unpin>(manager: M) -> u32 {
///     async_with!(n = manager => { *n + 1 })
/// }
///
/// fn assert_send<F: Future + Send>(future: F) -> F { future }
/// let future = assert_send(use_it(Lease(41)));
/// assert_eq!(futures_executor::block_on(future), 42);
/// ```
///
/// Write `async fn` in the impl as for [`AsyncContextManager`]; the compiler
/// checks there that the futures are `Send`. A manager that is not `Send`
/// (it holds an `Rc`, a `RefCell` borrowed across an await) implements
/// [`AsyncContextManager`] instead.
///
/// `&mut M` is a manager when `M` is one, so a manager can be inspected
/// after the block that used it. That impl lives here, on the `Send`
/// variant: a blanket impl from this trait to [`AsyncContextManager`] and
/// an impl of [`AsyncContextManager`] for `&mut M` would overlap (E0119:
/// downstream crates may implement this trait for `&mut TheirType`).
/// [`async_with!`](macro@crate::async_with) lends `&mut manager` of a
/// manager that implements only [`AsyncContextManager`] through
/// [`by_ref`](crate::by_ref) by itself; [`with()`](crate::with()) and an
/// exit stack's `enter` take `by_ref(&mut manager)` for it.
///
/// Generators (`#[async_context]`) are pinned and implement
/// [`PinnedContextManager`] directly; their future is `Send` wherever their
/// type is concrete. Generic code that asks for this trait takes a boxed
/// generator, `Box::pin(generator())`, which implements it when the
/// generator's state is `Send` (one allocation, paid by that caller).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Send` async context manager",
    label = "this is not a `SendContextManager`",
    note = "implement `async_with::SendContextManager` for it (its futures must be `Send`), or box an `#[async_context]` generator with `Box::pin`"
)]
pub trait SendContextManager: Send {
    /// See [`AsyncContextManager::Target`].
    type Target;
    /// See [`AsyncContextManager::Error`].
    type Error;

    /// See [`AsyncContextManager::enter`].
    fn enter(&mut self) -> impl Future<Output = Result<Self::Target, Self::Error>> + Send;

    /// See [`AsyncContextManager::exit`].
    fn exit(
        &mut self,
        target: Self::Target,
        outcome: Outcome<'_>,
    ) -> impl Future<Output = Result<ExitAction, Self::Error>> + Send;

    /// See [`AsyncContextManager::cancel`].
    ///
    /// ```
    /// use async_with::{ExitAction, Outcome, SendContextManager};
    /// use std::convert::Infallible;
    ///
    /// struct Quiet;
    /// impl SendContextManager for Quiet {
    ///     type Target = ();
    ///     type Error = Infallible;
    ///     async fn enter(&mut self) -> Result<(), Infallible> { Ok(()) }
    ///     async fn exit(&mut self, _: (), _: Outcome<'_>) -> Result<ExitAction, Infallible> { Ok(ExitAction::Propagate) }
    /// }
    /// SendContextManager::cancel(&mut Quiet, ()); // the default drops the target
    /// ```
    fn cancel(&mut self, target: Self::Target) {
        drop(target);
    }
}

/// The blanket impl of the `trait_variant` convention: every `Send`
/// manager is a manager, with its futures returned as they are (no extra
/// state machine, and their `Send`-ness visible to generic code).
// Not looked through in errors: an expression that is no manager at all is
// reported as not an `AsyncContextManager` (the trait to implement), not
// as not a `SendContextManager`.
#[diagnostic::do_not_recommend]
impl<M: SendContextManager + ?Sized> AsyncContextManager for M {
    type Target = <M as SendContextManager>::Target;
    type Error = <M as SendContextManager>::Error;

    #[inline]
    fn enter(&mut self) -> impl Future<Output = Result<Self::Target, Self::Error>> {
        SendContextManager::enter(self)
    }

    #[inline]
    fn exit(
        &mut self,
        target: Self::Target,
        outcome: Outcome<'_>,
    ) -> impl Future<Output = Result<ExitAction, Self::Error>> {
        SendContextManager::exit(self, target, outcome)
    }

    fn cancel(&mut self, target: Self::Target) {
        SendContextManager::cancel(self, target);
    }
}

/// `&mut M` is a manager when `M` is, so a manager can be inspected after
/// the block that used it (see [`SendContextManager`] for why this impl is
/// on the `Send` variant, and [`by_ref`](crate::by_ref) for the others).
impl<M: SendContextManager + ?Sized> SendContextManager for &mut M {
    type Target = M::Target;
    type Error = M::Error;

    #[inline]
    fn enter(&mut self) -> impl Future<Output = Result<Self::Target, Self::Error>> + Send {
        (**self).enter()
    }

    #[inline]
    fn exit(
        &mut self,
        target: Self::Target,
        outcome: Outcome<'_>,
    ) -> impl Future<Output = Result<ExitAction, Self::Error>> + Send {
        (**self).exit(target, outcome)
    }

    fn cancel(&mut self, target: Self::Target) {
        (**self).cancel(target);
    }
}

/// Lends a manager that is not `Send` to [`with()`](crate::with()) or an
/// exit stack's `enter`, so it can be inspected afterwards:
/// `with(by_ref(&mut manager), ..)`. A `Send` manager is lent as
/// `&mut manager` directly (see [`SendContextManager`]), and
/// [`async_with!`](macro@crate::async_with) lends `&mut manager` of any
/// manager, writing this call itself.
///
/// ```
/// use async_with::{async_with, by_ref, AsyncContextManager, ExitAction, Outcome};
/// use std::convert::Infallible;
/// use std::rc::Rc;
///
/// struct Shared(Rc<()>, u32);
///
/// impl AsyncContextManager for Shared {
///     type Target = ();
///     type Error = std::convert::Infallible;
///     async fn enter(&mut self) -> Result<(), Self::Error> { self.1 += 1; Ok(()) }
///     async fn exit(&mut self, _: (), _: Outcome<'_>) -> Result<ExitAction, Self::Error> {
///         Ok(ExitAction::Propagate)
///     }
/// }
///
/// let mut manager = Shared(Rc::new(()), 0);
/// futures_executor::block_on(async {
///     let done = async_with::with(by_ref(&mut manager), async |_| Ok::<_, Infallible>(())).await;
///     assert_eq!(done, Ok(Some(())));
///     async_with!(by_ref(&mut manager) => {});
///     async_with!(&mut manager => {}); // the same: the macro writes `by_ref`
/// });
/// assert_eq!(manager.1, 3);
/// ```
pub fn by_ref<M: AsyncContextManager + ?Sized>(manager: &mut M) -> ByRef<'_, M> {
    ByRef(manager)
}

/// The manager [`by_ref`] returns: the borrowed manager's enter, exit and
/// cancel.
///
/// ```
/// let mut inner = async_with::nullcontext(1);
/// let lent: async_with::ByRef<'_, _> = async_with::by_ref(&mut inner);
/// # drop(lent);
/// ```
#[derive(Debug)]
pub struct ByRef<'a, M: ?Sized>(&'a mut M);

impl<M: AsyncContextManager + ?Sized> AsyncContextManager for ByRef<'_, M> {
    type Target = M::Target;
    type Error = M::Error;

    #[inline]
    fn enter(&mut self) -> impl Future<Output = Result<Self::Target, Self::Error>> {
        self.0.enter()
    }

    #[inline]
    fn exit(
        &mut self,
        target: Self::Target,
        outcome: Outcome<'_>,
    ) -> impl Future<Output = Result<ExitAction, Self::Error>> {
        self.0.exit(target, outcome)
    }

    fn cancel(&mut self, target: Self::Target) {
        self.0.cancel(target);
    }
}

/// A manager that is not `Unpin` (a generic `M: SendContextManager`
/// written without `+ Unpin`, or a type holding a `PhantomPinned`), driven
/// through `&mut` as its trait's methods ask: `async_with!` wraps such a
/// manager itself. Its methods never see a `Pin`, so the manager is never
/// pinned in place (`Unpinned` is `Unpin` whatever `M` is) and nothing can
/// rely on it staying put; the futures are `M`'s own, so a `Send` manager's
/// stay `Send`.
#[doc(hidden)]
#[derive(Debug)]
pub struct Unpinned<M>(pub M);

// No `Pin<&mut M>` is ever made from a `Pin<&mut Unpinned<M>>`: the field
// is not structurally pinned, which is what makes this impl sound (and,
// `Unpin` being a safe trait, an ordinary impl).
impl<M> Unpin for Unpinned<M> {}

#[diagnostic::do_not_recommend]
impl<M: AsyncContextManager> AsyncContextManager for Unpinned<M> {
    type Target = M::Target;
    type Error = M::Error;

    #[inline(always)]
    fn enter(&mut self) -> impl Future<Output = Result<Self::Target, Self::Error>> {
        self.0.enter()
    }

    #[inline(always)]
    fn exit(
        &mut self,
        target: Self::Target,
        outcome: Outcome<'_>,
    ) -> impl Future<Output = Result<ExitAction, Self::Error>> {
        self.0.exit(target, outcome)
    }

    fn cancel(&mut self, target: Self::Target) {
        self.0.cancel(target);
    }
}

/// The form of a manager that [`async_with!`](macro@crate::async_with) drives: the
/// same two steps, on a pinned manager.
///
/// Generator managers (`#[async_context]`) keep their suspended function
/// inside themselves, which must not move once started; they implement this
/// trait directly. Every `Unpin` [`AsyncContextManager`] gets it for free, so
/// hand-written managers never see `Pin`. Implement this trait by hand only
/// for a manager that itself needs pinning.
///
/// ```
/// use async_with::{async_context, PinnedContextManager};
///
/// #[async_context]
/// async fn seven() -> u8 {
///     let (_seven, _exit) = yield_!(7);
/// }
///
/// fn assert_manager<M: PinnedContextManager<Target = u8>>(_: M) {}
/// assert_manager(seven());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an async context manager",
    label = "this is not an `AsyncContextManager`",
    note = "implement `async_with::AsyncContextManager` for it, or write it as an `#[async_context]` async fn",
    note = "`async_with!` takes any manager; `with()` and an exit stack's `enter` need a hand-written one to be `Unpin` too (`Box::pin` it, or add `+ Unpin` to a generic bound)"
)]
pub trait PinnedContextManager {
    /// See [`AsyncContextManager::Target`].
    type Target;
    /// See [`AsyncContextManager::Error`].
    type Error;

    /// How the manager is named in panic messages and in the `tracing`
    /// spans of its enter and exit (feature `tracing`). The default is the
    /// type's name; the manager of an `#[async_context]` function is named
    /// by the function's path (with the impl's type for a method).
    ///
    /// ```
    /// use async_with::{async_context, PinnedContextManager};
    ///
    /// #[async_context]
    /// async fn connection() -> u8 {
    ///     let (_connection, _exit) = yield_!(1);
    /// }
    ///
    /// fn name_of<M: PinnedContextManager>(_: &M) -> &'static str {
    ///     M::name()
    /// }
    /// assert!(name_of(&connection()).ends_with("::connection"));
    /// assert_eq!(name_of(&async_with::nullcontext(1)), "async_with::managers::NullContext<i32>");
    /// ```
    fn name() -> &'static str {
        core::any::type_name::<Self>()
    }

    /// See [`AsyncContextManager::enter`].
    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<Self::Target, Self::Error>>;

    /// See [`AsyncContextManager::exit`].
    fn exit<'a>(
        self: Pin<&'a mut Self>,
        target: Self::Target,
        outcome: Outcome<'a>,
    ) -> impl Future<Output = Result<ExitAction, Self::Error>> + 'a;

    /// See [`AsyncContextManager::cancel`]. The default drops the target;
    /// a generator manager's suspended teardown is dropped with it (its
    /// locals' `Drop` runs, its code after `yield_!` does not).
    ///
    /// ```
    /// use async_with::{async_context, PinnedContextManager};
    /// use std::cell::Cell;
    ///
    /// struct Closes<'a>(&'a Cell<bool>);
    ///
    /// impl Drop for Closes<'_> {
    ///     fn drop(&mut self) {
    ///         self.0.set(true);
    ///     }
    /// }
    ///
    /// #[async_context]
    /// async fn resource(closed: &Cell<bool>) -> u8 {
    ///     let _connection = Closes(closed);
    ///     let (_target, _exit) = yield_!(1);
    ///     unreachable!("a cancelled manager's teardown does not run");
    /// }
    ///
    /// # futures_executor::block_on(async {
    /// let closed = Cell::new(false);
    /// {
    ///     let mut manager = std::pin::pin!(resource(&closed));
    ///     let Ok(target) = manager.as_mut().enter().await;
    ///     // The block holding the target was dropped: cancel, not exit.
    ///     manager.as_mut().cancel(target);
    ///     assert!(!closed.get());
    /// } // the suspended teardown is dropped with the manager
    /// assert!(closed.get());
    /// # });
    /// ```
    fn cancel(self: Pin<&mut Self>, target: Self::Target) {
        drop(target);
    }

    /// `true` when the error of the last exit does not come after the block's
    /// failure: the manager handled (suppressed) that failure before it
    /// failed itself, so the error must not keep it (docs/contract.md,
    /// "When exit fails").
    /// An exit stack, whose entries may suppress the block's failure and
    /// then fail, says so; every other manager's error comes after the
    /// failure it saw (Python sets `__context__` the same way).
    #[doc(hidden)]
    fn handled_block_failure(self: Pin<&Self>) -> bool {
        false
    }
}

impl<M: AsyncContextManager + Unpin> PinnedContextManager for M {
    type Target = M::Target;
    type Error = M::Error;

    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<Self::Target, Self::Error>> {
        AsyncContextManager::enter(self.get_mut())
    }

    fn exit<'a>(
        self: Pin<&'a mut Self>,
        target: Self::Target,
        outcome: Outcome<'a>,
    ) -> impl Future<Output = Result<ExitAction, Self::Error>> + 'a {
        AsyncContextManager::exit(self.get_mut(), target, outcome)
    }

    fn cancel(self: Pin<&mut Self>, target: Self::Target) {
        AsyncContextManager::cancel(self.get_mut(), target);
    }
}
