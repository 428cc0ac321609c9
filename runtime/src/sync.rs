//! Synchronous managers (Python's `__enter__`/`__exit__`, JavaScript's
//! `Symbol.dispose`), usable wherever an async manager is.

use crate::{AsyncContextManager, ExitAction, Outcome};

/// A manager whose enter and exit do not await: Python's class with
/// `__enter__`/`__exit__`, JavaScript's `[Symbol.dispose]`. Guards and
/// other synchronous resources mixed into async code.
///
/// Wrap it in [`sync`] to use it in
/// [`async_with!`](macro@crate::async_with), an
/// [`AsyncExitStack`](crate::AsyncExitStack) or [`with()`](crate::with()),
/// with the same guarantees as an async manager: exit runs exactly once on
/// every way out of the block, sees how the block ended, may suppress a
/// failure, and [`cancel`](Self::cancel) runs if the future is dropped
/// between enter and exit. The adapter adds no state and no await: its
/// futures are ready on their first poll.
///
/// ```
/// use async_with::{async_with, sync, ContextManager, ExitAction, Outcome};
/// use std::convert::Infallible;
///
/// /// Counts the blocks in flight.
/// struct InFlight<'a>(&'a std::cell::Cell<u32>);
///
/// impl ContextManager for InFlight<'_> {
///     type Target = u32;
///     type Error = Infallible;
///
///     fn enter(&mut self) -> Result<u32, Infallible> {
///         self.0.set(self.0.get() + 1);
///         Ok(self.0.get())
///     }
///
///     fn exit(&mut self, _: u32, _: Outcome<'_>) -> Result<ExitAction, Infallible> {
///         self.0.set(self.0.get() - 1);
///         Ok(ExitAction::Propagate)
///     }
/// }
///
/// let counter = std::cell::Cell::new(0);
/// let seen = futures_executor::block_on(async {
///     async_with!(n = sync(InFlight(&counter)) => { *n })
/// });
/// assert_eq!((seen, counter.get()), (1, 0));
/// ```
pub trait ContextManager {
    /// What `enter` produces and the block borrows.
    type Target;
    /// What `enter` and `exit` can fail with.
    type Error;

    /// Sets up the resource (Python's `__enter__`). An error here means the
    /// block and `exit` never run.
    fn enter(&mut self) -> Result<Self::Target, Self::Error>;

    /// Tears the resource down (Python's `__exit__`), given back the target
    /// and how the block ended; see [`AsyncContextManager::exit`].
    fn exit(
        &mut self,
        target: Self::Target,
        outcome: Outcome<'_>,
    ) -> Result<ExitAction, Self::Error>;

    /// Called instead of `exit` when the future running the block is
    /// dropped between enter and exit; see [`AsyncContextManager::cancel`].
    /// The default calls `exit` with [`Outcome::Cancelled`], which a
    /// synchronous manager can always do, and drops its result: nobody is
    /// left to report an error to.
    ///
    /// ```
    /// use async_with::{ContextManager, ExitAction, Outcome};
    /// use std::convert::Infallible;
    ///
    /// struct Flag(bool);
    ///
    /// impl ContextManager for Flag {
    ///     type Target = ();
    ///     type Error = Infallible;
    ///     fn enter(&mut self) -> Result<(), Infallible> { self.0 = true; Ok(()) }
    ///     fn exit(&mut self, _: (), outcome: Outcome<'_>) -> Result<ExitAction, Infallible> {
    ///         assert!(outcome.is_cancelled());
    ///         self.0 = false;
    ///         Ok(ExitAction::Propagate)
    ///     }
    /// }
    ///
    /// let mut flag = Flag(false);
    /// flag.enter().unwrap();
    /// flag.cancel(());
    /// assert!(!flag.0);
    /// ```
    fn cancel(&mut self, target: Self::Target) {
        let _ = self.exit(target, Outcome::Cancelled);
    }
}

/// `&mut M` is a manager when `M` is, so a manager can be inspected after
/// the block that used it.
impl<M: ContextManager + ?Sized> ContextManager for &mut M {
    type Target = M::Target;
    type Error = M::Error;

    fn enter(&mut self) -> Result<Self::Target, Self::Error> {
        (**self).enter()
    }

    fn exit(
        &mut self,
        target: Self::Target,
        outcome: Outcome<'_>,
    ) -> Result<ExitAction, Self::Error> {
        (**self).exit(target, outcome)
    }

    fn cancel(&mut self, target: Self::Target) {
        (**self).cancel(target);
    }
}

/// Makes a synchronous [`ContextManager`] an [`AsyncContextManager`], for
/// [`async_with!`](macro@crate::async_with), the exit stack and
/// [`with()`](crate::with()).
///
/// ```
/// use async_with::{sync, AsyncExitStack, ContextManager, ExitAction, Outcome};
/// use std::convert::Infallible;
///
/// struct Noted<'a>(&'a std::cell::RefCell<Vec<&'static str>>);
///
/// impl ContextManager for Noted<'_> {
///     type Target = ();
///     type Error = Infallible;
///     fn enter(&mut self) -> Result<(), Infallible> { self.0.borrow_mut().push("enter"); Ok(()) }
///     fn exit(&mut self, _: (), _: Outcome<'_>) -> Result<ExitAction, Infallible> {
///         self.0.borrow_mut().push("exit");
///         Ok(ExitAction::Propagate)
///     }
/// }
///
/// let log = std::cell::RefCell::new(Vec::new());
/// futures_executor::block_on(async {
///     let mut stack = AsyncExitStack::new();
///     stack.enter(sync(Noted(&log))).await.unwrap();
///     stack.close().await.unwrap();
/// });
/// assert_eq!(*log.borrow(), ["enter", "exit"]);
/// ```
pub fn sync<M: ContextManager>(manager: M) -> SyncManager<M> {
    SyncManager(manager)
}

/// The adapter [`sync`] returns: an [`AsyncContextManager`] whose enter,
/// exit and cancel are the synchronous manager's.
///
/// ```
/// # use async_with::{ContextManager, ExitAction, Outcome};
/// # struct Unit;
/// # impl ContextManager for Unit {
/// #     type Target = ();
/// #     type Error = std::convert::Infallible;
/// #     fn enter(&mut self) -> Result<(), Self::Error> { Ok(()) }
/// #     fn exit(&mut self, _: (), _: Outcome<'_>) -> Result<ExitAction, Self::Error> { Ok(ExitAction::Propagate) }
/// # }
/// let mut adapter = async_with::sync(Unit);
/// let inner: &mut Unit = adapter.get_mut();
/// # let _ = inner;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncManager<M>(M);

impl<M> SyncManager<M> {
    /// The synchronous manager.
    ///
    /// ```
    /// # use async_with::{ContextManager, ExitAction, Outcome};
    /// # struct Unit;
    /// # impl ContextManager for Unit {
    /// #     type Target = ();
    /// #     type Error = std::convert::Infallible;
    /// #     fn enter(&mut self) -> Result<(), Self::Error> { Ok(()) }
    /// #     fn exit(&mut self, _: (), _: Outcome<'_>) -> Result<ExitAction, Self::Error> { Ok(ExitAction::Propagate) }
    /// # }
    /// let _unit: Unit = async_with::sync(Unit).into_inner();
    /// ```
    pub fn into_inner(self) -> M {
        self.0
    }

    /// The synchronous manager, by reference.
    ///
    /// ```
    /// # use async_with::{ContextManager, ExitAction, Outcome};
    /// # struct Unit;
    /// # impl ContextManager for Unit {
    /// #     type Target = ();
    /// #     type Error = std::convert::Infallible;
    /// #     fn enter(&mut self) -> Result<(), Self::Error> { Ok(()) }
    /// #     fn exit(&mut self, _: (), _: Outcome<'_>) -> Result<ExitAction, Self::Error> { Ok(ExitAction::Propagate) }
    /// # }
    /// let mut adapter = async_with::sync(Unit);
    /// let _unit: &mut Unit = adapter.get_mut();
    /// ```
    pub fn get_mut(&mut self) -> &mut M {
        &mut self.0
    }
}

impl<M: ContextManager> AsyncContextManager for SyncManager<M> {
    type Target = M::Target;
    type Error = M::Error;

    async fn enter(&mut self) -> Result<Self::Target, Self::Error> {
        self.0.enter()
    }

    async fn exit(
        &mut self,
        target: Self::Target,
        outcome: Outcome<'_>,
    ) -> Result<ExitAction, Self::Error> {
        self.0.exit(target, outcome)
    }

    fn cancel(&mut self, target: Self::Target) {
        self.0.cancel(target);
    }
}
