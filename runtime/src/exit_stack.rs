//! A stack of exits built at run time: Python's `contextlib.AsyncExitStack`,
//! JavaScript's `AsyncDisposableStack`.

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

#[cfg(doc)]
use crate::AsyncContextManager;
use crate::protocol::{Scope, catch_unwind, scope};
use crate::suppressed::suppressed_error;
use crate::{ExitAction, Failure, Outcome, Panic, PinnedContextManager, SendContextManager};

/// The default error type of an [`AsyncExitStack`]: any error.
///
/// ```
/// let error: async_with::BoxError = "any error converts".into();
/// assert_eq!(error.to_string(), "any error converts");
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Managers entered, callbacks and exit handlers registered at run time,
/// exited last-in first-out.
///
/// `async_with!` takes a fixed list of managers; an exit stack takes any
/// number, decided at run time (open one connection per address in a
/// list), with the same guarantees once it is itself used as the manager
/// of an `async_with!`: every entry is exited exactly once, on every way
/// out of the block, and sees how the block ended. Each entry goes through
/// the crate's one protocol (see the crate docs, "One protocol"): traced,
/// and cancelled through its `cancel` hook if the stack is dropped with it.
///
/// | Python `AsyncExitStack` | JavaScript `AsyncDisposableStack` | here |
/// |---|---|---|
/// | `await enter_async_context(cm)` | `use(value)` | [`enter(manager).await`](Self::enter) |
/// | `push_async_callback(f)` | `defer(f)` | [`defer(f)`](Self::defer) |
/// | `push_async_exit(f)` | `adopt(value, f)` | [`push_exit(f)`](Self::push_exit) |
/// | `pop_all()` | `move()` | [`take()`](Self::take) |
/// | `await aclose()` | `await disposeAsync()` | [`close().await`](Self::close) |
/// | `async with stack:` | `await using stack` | `async_with!(stack = AsyncExitStack::new() => { .. })` |
///
/// # Unwinding
///
/// Entries exit in reverse order of registration. Each sees the outcome
/// left by the ones that exited before it (the block's outcome for the
/// first):
/// - one that suppresses a failure turns the outcome into completed for
///   the ones after it;
/// - one that fails replaces the outcome with its error, so the next entry
///   sees that error in [`Outcome::Failed`] and can keep the one before it
///   (the chain Python builds with `__context__`); the last error is the
///   stack's error;
/// - one that panics: the others still run, seeing the panic, and the
///   last panic resumes once all have run. While a panic is the outcome, an
///   entry's error is dropped, as `async_with!` drops an exit's error
///   after a panic.
///
/// Every entry runs, whatever the ones before it did. Unwinding is a loop:
/// ten thousand entries use no more stack than one.
///
/// From outside, the stack is one manager, as Python's is: it suppresses
/// a failure it was given when an entry suppressed it and no later entry
/// failed, and fails with the last error otherwise. One consequence, also
/// Python's: when a block leaves by `return` or `break` and one entry's
/// error is suppressed by a later entry, the jump still happens (nested
/// `async_with!` levels would drop it, as nested `async with` does).
///
/// # Targets
///
/// [`enter`](Self::enter) takes `&self` and hands out `&mut Target`, so
/// several targets can be used at once while the stack keeps each manager
/// and its target for exit. The targets stay borrowed from the stack, so
/// [`take`](Self::take) and [`close`](Self::close), which need
/// `&mut self`, can only run once they are no longer used.
///
/// # Closed stacks
///
/// [`close`](Self::close) closes the stack (JavaScript's `disposeAsync`),
/// and so does [`take`](Self::take) for the stack it moves the entries out
/// of (JavaScript's `move()`); [`is_closed`](Self::is_closed) tells. An entry
/// added to a closed stack would never be unwound, so
/// [`enter`](Self::enter), [`defer`](Self::defer),
/// [`push_exit`](Self::push_exit) and [`take`](Self::take) **panic** on a
/// closed stack (JavaScript throws): a program error, as using a
/// `RefCell` twice mutably is, and the methods keep their signatures
/// (`enter` returns the manager's own error type, which has no "closed"
/// value). `close` again is a no-op; the stack `take` returned is open.
/// [`exit`](Self::exit), the stack's side of the manager protocol, unwinds
/// and leaves the stack open, as before: `async_with!` hands the stack
/// to exit by value, so nothing can be added to it afterwards.
///
/// ```should_panic
/// # futures_executor::block_on(async {
/// let mut stack = async_with::AsyncExitStack::new();
/// stack.close().await.unwrap();
/// stack.defer(async || Ok(())); // panics: it would never run
/// # });
/// ```
///
/// # `Send`
///
/// This stack keeps its entries' exit futures behind `dyn Future`, which
/// need not be `Send`: the stack is neither `Send` nor `Sync`. For a
/// spawned task or an axum handler, use a [`SendExitStack`]
/// ([`AsyncExitStack::new_send`]), whose entries are `Send`.
///
/// # Dropped without exiting
///
/// A stack dropped with entries left (its future was cancelled, or it was
/// never closed) cannot await their exits: it calls each entered manager's
/// [`cancel`](AsyncContextManager::cancel) hook, last in first out, and
/// drops callbacks and handlers without running them. A stack whose
/// unwinding is cancelled does the same for the entries not yet exited.
///
/// ```
/// use async_with::{async_with, AsyncExitStack, from_fn, ExitAction};
/// use std::cell::RefCell;
///
/// async fn run(names: &[&'static str], log: &RefCell<Vec<String>>) -> Result<usize, std::io::Error> {
///     let total = async_with!(stack = AsyncExitStack::<std::io::Error>::default() => {
///         let mut total = 0;
///         for &name in names {
///             let conn = stack.enter(from_fn(
///                 async move || { log.borrow_mut().push(format!("open {name}")); Ok::<_, std::io::Error>(name.len()) },
///                 async move |_len, _outcome| { log.borrow_mut().push(format!("close {name}")); Ok(ExitAction::Propagate) },
///             )).await?;
///             total += *conn;
///         }
///         total
///     });
///     Ok(total)
/// }
///
/// let log = RefCell::new(Vec::new());
/// assert_eq!(futures_executor::block_on(run(&["a", "bb"], &log)).unwrap(), 3);
/// assert_eq!(log.into_inner(), ["open a", "open bb", "close bb", "close a"]);
/// ```
pub struct AsyncExitStack<'a, E = BoxError, S: Threading = Local> {
    // A `Mutex`, not a `RefCell`: `enter` takes `&self`, and the future of
    // a `SendExitStack`'s `enter` holds that `&self` across its await, which
    // is `Send` only if the stack is `Sync`. The lock is never held across
    // an await or user code.
    entries: Mutex<Entries<'a, E, S>>,
    /// How a failure is kept when another entry fails after it (see
    /// "Unwinding"); `None`: the later error replaces it.
    suppressed: Option<fn(E, E) -> E>,
    /// How an entry's error is shown to the entries after it, chosen where
    /// the stack is made (the error type's bounds are checked there, not
    /// by the methods: see `Unwind` for why).
    view: fn(&E) -> Failure<'_>,
    /// Set by [`close`](Self::close), [`exit`](Self::exit) and
    /// [`take`](Self::take): what is added after them would never be
    /// unwound, so adding panics (see "Closed stacks").
    closed: AtomicBool,
    /// Set by the last unwinding: an entry suppressed the failure given
    /// to it before the error it ends with (that error does not come after
    /// the block's failure; `PinnedContextManager::handled_block_failure`).
    handled_block_failure: AtomicBool,
}

/// An [`AsyncExitStack`] that is `Send` (and `Sync`), for `tokio::spawn`ed
/// tasks and axum handlers: its entries are `Send` (managers that are
/// [`SendContextManager`]s, callbacks and handlers whose futures are
/// `Send`), kept behind `dyn Future + Send`.
///
/// The same stack as [`AsyncExitStack`] otherwise: same unwinding, same
/// methods; only the bounds of [`enter`](AsyncExitStack::enter),
/// [`defer`](AsyncExitStack::defer) and
/// [`push_exit`](AsyncExitStack::push_exit) differ. Its `defer` takes a
/// closure returning a future (`|| async move { .. }`) rather than an async
/// closure: an `AsyncFnOnce` bound cannot require its future to be `Send`
/// on stable Rust.
///
/// ```
/// use async_with::{async_with, nullcontext, AsyncExitStack};
///
/// async fn handler(names: Vec<String>) -> Result<usize, async_with::BoxError> {
///     let total = async_with!(stack = AsyncExitStack::new_send() => {
///         let mut total = 0;
///         for name in names {
///             let name = stack.enter(nullcontext(name)).await?;
///             total += name.len();
///         }
///         stack.defer(|| async { Ok(()) });
///         total
///     });
///     Ok(total)
/// }
///
/// fn assert_send<F: Future + Send>(future: F) -> F { future }
/// let future = assert_send(handler(vec!["a".into(), "bb".into()]));
/// assert_eq!(futures_executor::block_on(future).unwrap(), 3);
/// ```
pub type SendExitStack<'a, E = BoxError> = AsyncExitStack<'a, E, Sendable>;

/// Whether an exit stack's entries may be `!Send` ([`Local`], the
/// default) or must be `Send` ([`Sendable`], a [`SendExitStack`]).
/// Sealed.
///
/// ```
/// fn len_of<S: async_with::Threading>(stack: &async_with::AsyncExitStack<'_, String, S>) -> usize {
///     stack.len()
/// }
/// assert_eq!(len_of(&async_with::SendExitStack::<String>::default()), 0);
/// ```
pub trait Threading: sealed::Sealed + 'static {}

/// Entries may be `!Send`; the stack is neither `Send` nor `Sync`.
///
/// ```
/// let stack: async_with::AsyncExitStack<'_, String, async_with::Local> = Default::default();
/// # drop(stack);
/// ```
#[derive(Debug)]
pub enum Local {}

/// Entries are `Send`; the stack is `Send` and `Sync` ([`SendExitStack`]).
///
/// ```
/// let stack: async_with::AsyncExitStack<'_, String, async_with::Sendable> = Default::default();
/// fn assert_send_sync<T: Send + Sync>(_: &T) {}
/// assert_send_sync(&stack);
/// ```
#[derive(Debug)]
pub enum Sendable {}

impl Threading for Local {}
impl Threading for Sendable {}

mod sealed {
    use super::*;

    /// The type-erased entry each kind of stack keeps.
    pub trait Sealed {
        type Entry<'a, E>: ?Sized + ErasedEntry<E>;
    }

    impl Sealed for Local {
        type Entry<'a, E> = dyn Entry<E> + 'a;
    }

    /// The kinds of stack whose entries are `Send` (`dyn SendEntry<E>`).
    pub trait SendEntries: Threading {}

    impl SendEntries for Sendable {}

    impl Sealed for Sendable {
        type Entry<'a, E> = dyn SendEntry<E> + 'a;
    }

    /// Exits a type-erased entry, whichever kind of box it is.
    pub trait ErasedEntry<E> {
        type ExitFuture<'s>: Future<Output = Result<ExitAction, E>> + 's
        where
            Self: 's;
        fn exit<'s>(self: Pin<&'s mut Self>, outcome: Outcome<'s>) -> Self::ExitFuture<'s>;
    }

    impl<'a, E> ErasedEntry<E> for dyn Entry<E> + 'a {
        type ExitFuture<'s>
            = ExitFuture<'s, E>
        where
            Self: 's;
        fn exit<'s>(self: Pin<&'s mut Self>, outcome: Outcome<'s>) -> ExitFuture<'s, E> {
            Entry::exit(self, outcome)
        }
    }

    impl<'a, E> ErasedEntry<E> for dyn SendEntry<E> + 'a {
        type ExitFuture<'s>
            = SendExitFuture<'s, E>
        where
            Self: 's;
        fn exit<'s>(self: Pin<&'s mut Self>, outcome: Outcome<'s>) -> SendExitFuture<'s, E> {
            SendEntry::exit(self, outcome)
        }
    }
}

use sealed::{ErasedEntry, Sealed};

type EntryOf<'a, E, S> = <S as Sealed>::Entry<'a, E>;

impl<'a> AsyncExitStack<'a> {
    /// An empty stack whose error type is [`BoxError`]. For another error
    /// type, use `AsyncExitStack::<E>::default()` (as `HashMap::new` is for
    /// the default hasher only).
    ///
    /// ```
    /// let stack = async_with::AsyncExitStack::new();
    /// assert!(stack.is_empty());
    /// ```
    pub fn new() -> Self {
        AsyncExitStack {
            suppressed: Some(suppressed_error),
            ..Self::default()
        }
    }
}

impl<'a> SendExitStack<'a> {
    /// An empty [`SendExitStack`] whose error type is [`BoxError`]
    /// (`AsyncExitStack::new` is the one that is not `Send`; for another
    /// error type, `SendExitStack::<E>::default()`).
    ///
    /// ```
    /// let stack = async_with::AsyncExitStack::new_send();
    /// fn assert_send<T: Send>(_: &T) {}
    /// assert_send(&stack);
    /// ```
    pub fn new_send() -> Self {
        AsyncExitStack {
            suppressed: Some(suppressed_error),
            ..Self::default()
        }
    }
}

/// The error type of a stack: shown to the entries after a failing one
/// (formatted, downcast), and `Send + Sync` as `Outcome` is.
impl<E, S: Threading> Default for AsyncExitStack<'_, E, S>
where
    E: fmt::Debug + fmt::Display + Send + Sync + 'static,
{
    fn default() -> Self {
        AsyncExitStack {
            entries: Mutex::new(Entries(Vec::new())),
            suppressed: None,
            view: view::<E>,
            closed: AtomicBool::new(false),
            handled_block_failure: AtomicBool::new(false),
        }
    }
}

impl<'a, E, S: Threading> AsyncExitStack<'a, E, S> {
    /// Keeps every failure of an unwinding (JavaScript's `SuppressedError`):
    /// when an entry fails after another failed, `keep(later, earlier)`
    /// makes the error that goes on. Stacks made by
    /// [`new`](AsyncExitStack::new) and [`new_send`](AsyncExitStack::new_send)
    /// keep them in a [`SuppressedError`](crate::SuppressedError); without it, the later error
    /// replaces the earlier one (which the later entry saw in
    /// [`Outcome::Failed`], as Python's `__context__`).
    ///
    /// ```
    /// use async_with::{AsyncExitStack, Outcome};
    ///
    /// # futures_executor::block_on(async {
    /// let mut stack = AsyncExitStack::<String>::default()
    ///     .keep_suppressed(|later, earlier| format!("{earlier}; {later}"));
    /// stack.defer(async || Err("first registered".to_string()));
    /// stack.defer(async || Err("second registered".to_string()));
    /// let errors = stack.close().await.unwrap_err();
    /// assert_eq!(errors, "second registered; first registered");
    /// # });
    /// ```
    pub fn keep_suppressed(mut self, keep: fn(E, E) -> E) -> Self {
        self.suppressed = Some(keep);
        self
    }

    /// Keeps an entered scope as the newest entry and lends its target,
    /// for both `enter`s. `erase` is the unsizing coercion of the scope
    /// into the entry type, which generic code cannot name.
    #[allow(
        clippy::mut_from_ref,
        reason = "each target is in its own heap allocation, lent as `enter` lends it"
    )]
    fn keep_entered<M: PinnedContextManager + 'a>(
        &self,
        scope: Pin<Box<Scope<M>>>,
        erase: fn(*mut Scope<M>) -> *mut EntryOf<'a, E, S>,
    ) -> &mut M::Target {
        // SAFETY: the allocation is never moved out of: it is only reached
        // through `Pin::new_unchecked` and freed in place by `Box::from_raw`.
        let scope = Box::into_raw(unsafe { Pin::into_inner_unchecked(scope) });
        // SAFETY: `scope` is valid (just allocated) and pinned (never moved).
        // The reference points into a heap allocation that lives until the
        // entry is exited or dropped, which needs `&mut self`: so not while
        // the returned borrow of `&self` lives. Nothing else reads or writes
        // the target before then.
        let target = unsafe { Pin::new_unchecked(&mut *scope) }.lent_target();
        self.entries().push(erase(scope));
        target.expect("the scope was entered")
    }

    fn entries(&self) -> MutexGuard<'_, Entries<'a, E, S>> {
        // A panic never leaves the list half-changed (each change is one
        // `Vec` call), so a poisoned lock is still a valid list.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves every entry into a new stack and leaves this one empty and
    /// closed (Python's `pop_all`, JavaScript's `move`): the usual way to
    /// keep resources opened in a block once all of them opened.
    ///
    /// # Panics
    ///
    /// On a closed stack (see "Closed stacks").
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let mut stack = async_with::AsyncExitStack::new();
    /// stack.defer(async || Ok(()));
    /// let mut kept = stack.take();
    /// assert!(stack.is_empty());
    /// assert_eq!(kept.len(), 1);
    /// kept.close().await.unwrap();
    /// # });
    /// ```
    #[doc(alias = "pop_all")]
    #[doc(alias = "move")]
    #[track_caller]
    pub fn take(&mut self) -> Self {
        self.assert_open("take");
        let entries = core::mem::take(
            self.entries
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner),
        );
        *self.closed.get_mut() = true;
        AsyncExitStack {
            entries: Mutex::new(entries),
            suppressed: self.suppressed,
            view: self.view,
            closed: AtomicBool::new(false),
            handled_block_failure: AtomicBool::new(false),
        }
    }

    /// `true` once the stack was closed ([`close`](Self::close)) or its
    /// entries moved out ([`take`](Self::take)): adding an entry then
    /// panics.
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let mut stack = async_with::AsyncExitStack::new();
    /// assert!(!stack.is_closed());
    /// stack.close().await.unwrap();
    /// assert!(stack.is_closed());
    /// # });
    /// ```
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Panics if the stack is closed: `operation` would add an entry that
    /// is never unwound.
    #[track_caller]
    fn assert_open(&self, operation: &str) {
        if self.is_closed() {
            closed(operation);
        }
    }

    /// How many entries are registered.
    ///
    /// ```
    /// assert_eq!(async_with::AsyncExitStack::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.entries().0.len()
    }

    /// `true` when no entry is registered.
    ///
    /// ```
    /// assert!(async_with::AsyncExitStack::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a, E: 'a> AsyncExitStack<'a, E, Local> {
    /// Enters `manager` and registers its exit; returns its target
    /// (Python's `enter_async_context`).
    ///
    /// If enter fails, nothing is registered and the error is returned
    /// as it is. The manager's error must convert into the stack's error
    /// type `E` for exit; for managers that cannot fail (error
    /// [`Infallible`](core::convert::Infallible)) that takes
    /// `E: From<Infallible>`, which [`BoxError`] and `anyhow::Error` have
    /// and `String` and `std::io::Error` lack. Once enter has succeeded, the exit is registered before
    /// this future returns, with no `.await` in between, so no cancellation
    /// can lose it.
    ///
    /// ```
    /// use async_with::{AsyncExitStack, nullcontext};
    ///
    /// # futures_executor::block_on(async {
    /// let mut stack = AsyncExitStack::new();
    /// let a = stack.enter(nullcontext(1)).await.unwrap();
    /// let b = stack.enter(nullcontext(2)).await.unwrap();
    /// *a += *b;
    /// assert_eq!(*a, 3);
    /// assert_eq!(stack.len(), 2);
    /// stack.close().await.unwrap();
    /// # });
    /// ```
    ///
    /// # Panics
    ///
    /// On a closed stack (see "Closed stacks").
    pub async fn enter<M>(&self, manager: M) -> Result<&mut M::Target, M::Error>
    where
        M: PinnedContextManager + 'a,
        M::Error: Into<E>,
    {
        self.assert_open("enter");
        let mut scope = Box::pin(scope(manager));
        // From the poll in which enter returns, the scope keeps the
        // target: a drop from here on cancels.
        scope.as_mut().enter().await?;
        Ok(self.keep_entered(scope, |scope| scope))
    }

    /// Registers a callback to await on unwinding, whatever the outcome
    /// (Python's `push_async_callback`, JavaScript's `defer`). An error it
    /// returns fails the unwinding like a failing exit.
    ///
    /// ```
    /// use std::cell::Cell;
    ///
    /// # futures_executor::block_on(async {
    /// let closed = Cell::new(false);
    /// let mut stack = async_with::AsyncExitStack::new();
    /// stack.defer(async || { closed.set(true); Ok(()) });
    /// stack.close().await.unwrap();
    /// assert!(closed.get());
    /// # });
    /// ```
    ///
    /// # Panics
    ///
    /// On a closed stack (see "Closed stacks").
    #[track_caller]
    pub fn defer<F>(&self, callback: F)
    where
        F: AsyncFnOnce() -> Result<(), E> + 'a,
    {
        self.assert_open("defer");
        self.entries().push_boxed(Box::new(Deferred {
            callback: Some(callback),
        }));
    }

    /// Registers an exit handler: it sees the outcome left by the entries
    /// after it and may suppress a failure or fail (Python's
    /// `push_async_exit`).
    ///
    /// The handler looks at the outcome synchronously and returns the
    /// future to await: the outcome borrows the failed block's error, which
    /// an owned future cannot keep, so copy what you need out of it first.
    ///
    /// ```
    /// use async_with::{AsyncExitStack, ExitAction, Failure, Outcome};
    ///
    /// # futures_executor::block_on(async {
    /// let mut stack = AsyncExitStack::<String>::default();
    /// stack.push_exit(|outcome: Outcome<'_>| {
    ///     let failed = outcome.is_failed();
    ///     async move { Ok(if failed { ExitAction::Suppress } else { ExitAction::Propagate }) }
    /// });
    /// let error = "lost connection";
    /// let action = stack.exit(Outcome::Failed(Failure::new(&error))).await;
    /// assert_eq!(action, Ok(ExitAction::Suppress));
    /// # });
    /// ```
    ///
    /// # Panics
    ///
    /// On a closed stack (see "Closed stacks").
    #[track_caller]
    pub fn push_exit<F, Fut>(&self, handler: F)
    where
        F: FnOnce(Outcome<'_>) -> Fut + 'a,
        Fut: Future<Output = Result<ExitAction, E>> + 'a,
    {
        self.assert_open("push_exit");
        self.entries().push_boxed(Box::new(ExitHandler {
            handler: Some(handler),
            _future: PhantomData,
        }));
    }
}

impl<'a, E: Send + 'a> SendExitStack<'a, E> {
    /// [`AsyncExitStack::enter`], for a `Send` manager: a
    /// [`SendContextManager`] (a generator boxed with `Box::pin`).
    ///
    /// ```
    /// use async_with::{nullcontext, AsyncExitStack};
    ///
    /// # futures_executor::block_on(async {
    /// let mut stack = AsyncExitStack::new_send();
    /// let n = stack.enter(nullcontext(1)).await.unwrap();
    /// *n += 1;
    /// stack.close().await.unwrap();
    /// # });
    /// ```
    ///
    /// # Panics
    ///
    /// On a closed stack (see "Closed stacks").
    pub async fn enter<M>(&self, manager: M) -> Result<&mut M::Target, M::Error>
    where
        M: SendContextManager + Unpin + 'a,
        M::Target: Send,
        M::Error: Into<E>,
    {
        self.assert_open("enter");
        let mut scope = Box::pin(scope(manager));
        scope.as_mut().enter().await?;
        Ok(self.keep_entered(scope, |scope| scope))
    }

    /// [`AsyncExitStack::defer`], with a closure returning a `Send` future.
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let mut stack = async_with::AsyncExitStack::new_send();
    /// stack.defer(|| async { Ok(()) });
    /// stack.close().await.unwrap();
    /// # });
    /// ```
    ///
    /// # Panics
    ///
    /// On a closed stack (see "Closed stacks").
    #[track_caller]
    pub fn defer<F, Fut>(&self, callback: F)
    where
        F: FnOnce() -> Fut + Send + 'a,
        Fut: Future<Output = Result<(), E>> + Send + 'a,
    {
        self.assert_open("defer");
        self.entries().push_boxed(Box::new(SendDeferred {
            callback: Some(callback),
            _future: PhantomData,
        }));
    }

    /// [`AsyncExitStack::push_exit`], with a `Send` handler and future.
    ///
    /// ```
    /// use async_with::{ExitAction, Outcome};
    ///
    /// # futures_executor::block_on(async {
    /// let mut stack = async_with::AsyncExitStack::new_send();
    /// stack.push_exit(|outcome: Outcome<'_>| {
    ///     let failed = outcome.is_failed();
    ///     async move { Ok(if failed { ExitAction::Suppress } else { ExitAction::Propagate }) }
    /// });
    /// stack.close().await.unwrap();
    /// # });
    /// ```
    ///
    /// # Panics
    ///
    /// On a closed stack (see "Closed stacks").
    #[track_caller]
    pub fn push_exit<F, Fut>(&self, handler: F)
    where
        F: FnOnce(Outcome<'_>) -> Fut + Send + 'a,
        Fut: Future<Output = Result<ExitAction, E>> + Send + 'a,
    {
        self.assert_open("push_exit");
        self.entries().push_boxed(Box::new(ExitHandler {
            handler: Some(handler),
            _future: PhantomData,
        }));
    }
}

impl<'a, E, S: Threading> AsyncExitStack<'a, E, S> {
    /// Unwinds every entry as after a completed block, leaving the stack
    /// empty and closed (Python's `aclose`, JavaScript's `disposeAsync`):
    /// adding to it afterwards panics (see "Closed stacks"). Returns the
    /// last error an entry failed with.
    ///
    /// ```
    /// use std::cell::RefCell;
    ///
    /// # futures_executor::block_on(async {
    /// let log = RefCell::new(Vec::new());
    /// let mut stack = async_with::AsyncExitStack::new();
    /// stack.defer(async || { log.borrow_mut().push(1); Ok(()) });
    /// stack.defer(async || { log.borrow_mut().push(2); Ok(()) });
    /// stack.close().await.unwrap();
    /// stack.close().await.unwrap(); // closed: nothing left to run
    /// drop(stack);
    /// assert_eq!(log.into_inner(), [2, 1]);
    /// # });
    /// ```
    #[doc(alias = "aclose")]
    #[doc(alias = "disposeAsync")]
    pub fn close(&mut self) -> impl Future<Output = Result<(), E>> + '_ {
        *self.closed.get_mut() = true;
        Unwind::<_, S, E>::new(async move { self.unwind(Outcome::Completed).await.map(drop) })
    }

    /// Unwinds every entry given how the block ended, leaving the stack
    /// empty (Python's `__aexit__` of the stack). Returns
    /// [`ExitAction::Suppress`] when the outcome was a failure that an
    /// entry suppressed and no later entry failed, and the last error an
    /// entry failed with (see "Unwinding" above).
    ///
    /// ```
    /// use async_with::{AsyncExitStack, ExitAction, Outcome};
    ///
    /// # futures_executor::block_on(async {
    /// let mut stack = AsyncExitStack::<String>::default();
    /// stack.defer(async || Err("first".to_string()));
    /// stack.push_exit(|outcome: Outcome<'_>| {
    ///     let saw = outcome.to_string();
    ///     async move { Err(format!("second, after {saw}")) }
    /// });
    /// let error = stack.exit(Outcome::Completed).await.unwrap_err();
    /// assert_eq!(error, "first");
    /// # });
    /// ```
    pub fn exit<'s>(
        &'s mut self,
        outcome: Outcome<'s>,
    ) -> impl Future<Output = Result<ExitAction, E>> + 's {
        Unwind::<_, S, E>::new(self.unwind(outcome))
    }

    /// The unwinding loop of [`exit`](Self::exit).
    async fn unwind(&mut self, mut outcome: Outcome<'_>) -> Result<ExitAction, E> {
        let mut entries = core::mem::take(
            self.entries
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let block_failed = outcome.is_failed();
        // Whether the block's failure is still what the errors come after.
        let mut block_failure_in_flight = block_failed;
        let mut now = Unwinding::Given;
        while let Some(mut entry) = entries.pop() {
            let view = match &mut now {
                Unwinding::Given => outcome.reborrow(),
                Unwinding::Completed => Outcome::Completed,
                Unwinding::Failed(error) => Outcome::Failed((self.view)(error)),
                Unwinding::Panicked(payload) => {
                    Outcome::Panicked(Panic::from_payload(&mut **payload))
                }
            };
            let (failed, panicked) = (view.is_failed(), view.is_panicked());
            let result = catch_unwind(entry.as_mut().exit(view)).await;
            match result {
                Ok(Ok(ExitAction::Suppress)) if failed => {
                    now = Unwinding::Completed;
                    block_failure_in_flight = false;
                }
                Ok(Ok(_)) => {}
                Ok(Err(_)) if panicked => {}
                Ok(Err(error)) => {
                    now = Unwinding::Failed(match (now, self.suppressed) {
                        (Unwinding::Failed(earlier), Some(keep)) => keep(error, earlier),
                        _ => error,
                    })
                }
                Err(payload) => now = Unwinding::Panicked(payload),
            }
        }
        self.handled_block_failure
            .store(block_failed && !block_failure_in_flight, Ordering::Relaxed);
        match now {
            Unwinding::Failed(error) => Err(error),
            Unwinding::Panicked(payload) => std::panic::resume_unwind(payload),
            Unwinding::Completed if block_failed => Ok(ExitAction::Suppress),
            Unwinding::Given | Unwinding::Completed => Ok(ExitAction::Propagate),
        }
    }
}

/// The stack is a manager: `async_with!(stack = AsyncExitStack::new() => { .. })`
/// lends the block the stack (moved out of the manager), and unwinds it
/// with the block's outcome on every way out.
///
/// ```
/// use async_with::{async_with, AsyncExitStack};
/// use std::cell::Cell;
///
/// async fn run(closed: &Cell<u32>) -> Result<(), async_with::BoxError> {
///     async_with!(stack = AsyncExitStack::new() => {
///         for _ in 0..3 {
///             stack.defer(async || { closed.set(closed.get() + 1); Ok(()) });
///         }
///         "not a number".parse::<u32>()?; // fails: the three callbacks run, then `?` returns
///     });
///     Ok(())
/// }
///
/// let closed = Cell::new(0);
/// assert!(futures_executor::block_on(run(&closed)).is_err());
/// assert_eq!(closed.get(), 3);
/// ```
///
/// It implements [`PinnedContextManager`] rather than
/// [`AsyncContextManager`]: the block holds `&mut AsyncExitStack`, and with
/// `AsyncContextManager` in scope, `stack.enter(manager)` on that `&mut`
/// would resolve to the trait's `enter(&mut self)` before the stack's own.
// No bounds on `E` here: they are the constructors' (see `Unwind`).
/// Adding to a closed stack (see "Closed stacks" in [`AsyncExitStack`]).
#[cold]
#[inline(never)]
#[track_caller]
fn closed(operation: &str) -> ! {
    panic!(
        "`AsyncExitStack::{operation}` on a closed exit stack: it was closed (`close`) \
         or its entries were moved out (`take`), so nothing added now would be unwound; \
         use a new stack, or the one `take` returned"
    )
}

impl<'a, E, S: Threading> PinnedContextManager for AsyncExitStack<'a, E, S> {
    type Target = AsyncExitStack<'a, E, S>;
    type Error = E;

    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<Self::Target, E>> {
        core::future::ready(Ok(self.get_mut().take()))
    }

    fn exit<'s>(
        self: Pin<&'s mut Self>,
        mut stack: Self::Target,
        outcome: Outcome<'s>,
    ) -> impl Future<Output = Result<ExitAction, E>> + 's {
        let manager = self.get_mut();
        Unwind::<_, S, E>::new(async move {
            let exited = stack.unwind(outcome).await;
            let handled = stack.handled_block_failure.load(Ordering::Relaxed);
            manager
                .handled_block_failure
                .store(handled, Ordering::Relaxed);
            exited
        })
    }

    fn handled_block_failure(self: Pin<&Self>) -> bool {
        self.handled_block_failure.load(Ordering::Relaxed)
    }
}

impl<E, S: Threading> fmt::Debug for AsyncExitStack<'_, E, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncExitStack")
            .field("len", &self.len())
            .finish()
    }
}

pin_project_lite::pin_project! {
    /// The future of an unwinding: `Send` exactly when the stack's entries
    /// are (a [`SendExitStack`]).
    ///
    /// Why not let the compiler see it: the unwinding loop keeps the
    /// entries, the outcome (which views errors as `&dyn Any`) and `E`
    /// across awaits, all `Send` for a `SendExitStack`, but rustc cannot
    /// prove auto traits of an async block's state when they depend on
    /// lifetimes it erased (rust-lang/rust#110338, "implementation of `Send`
    /// is not general enough"), so the loop's future is opaque to it and
    /// `Send` is stated here.
    struct Unwind<F, S, E> {
        #[pin]
        future: F,
        _threading: PhantomData<(fn() -> S, fn() -> E)>,
    }
}

impl<F: Future, S: Threading, E> Unwind<F, S, E> {
    fn new(future: F) -> Self {
        Unwind {
            future,
            _threading: PhantomData,
        }
    }
}

// SAFETY: an `Unwind<_, Sendable>` is only made by the methods above, around
// the unwinding of a `SendExitStack<'_, E>` with `E: Send` (and `Sync`,
// checked where the stack was made): its state
// is that stack (`Send`: entries are `dyn SendEntry<E>`), its entries'
// exit futures (`dyn Future + Send`), `E`, a panic payload
// (`Box<dyn Any + Send>`) and `Outcome`s (`Send + Sync`). All `Send`; only
// the compiler's proof is missing (see the type's docs). With an explicit
// impl, `Unwind<_, Local>` is not `Send`.
unsafe impl<F, S: sealed::SendEntries, E: Send> Send for Unwind<F, S, E> {}

impl<F: Future, S, E> Future for Unwind<F, S, E> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut core::task::Context<'_>) -> core::task::Poll<F::Output> {
        self.project().future.poll(cx)
    }
}

/// What the next entry to exit will see.
enum Unwinding<E> {
    /// The outcome the stack was given.
    Given,
    /// A failure was suppressed.
    Completed,
    /// An entry failed.
    Failed(E),
    /// An entry panicked.
    Panicked(Box<dyn core::any::Any + Send>),
}

/// The exit future of an entry of an [`AsyncExitStack`].
pub type ExitFuture<'s, E> = Pin<Box<dyn Future<Output = Result<ExitAction, E>> + 's>>;
/// The exit future of an entry of a [`SendExitStack`].
pub type SendExitFuture<'s, E> = Pin<Box<dyn Future<Output = Result<ExitAction, E>> + Send + 's>>;

/// One registered exit, type-erased (not reachable from outside the
/// crate: the module is private).
pub trait Entry<E> {
    /// Runs the exit; called once, after which the entry is dropped.
    fn exit<'s>(self: Pin<&'s mut Self>, outcome: Outcome<'s>) -> ExitFuture<'s, E>;
}

/// One registered exit of a [`SendExitStack`]: `Send`, with a `Send` exit
/// future.
pub trait SendEntry<E>: Send {
    /// Runs the exit; called once, after which the entry is dropped.
    fn exit<'s>(self: Pin<&'s mut Self>, outcome: Outcome<'s>) -> SendExitFuture<'s, E>;
}

/// An entered `Send` manager.
impl<M, E> SendEntry<E> for Scope<M>
where
    M: SendContextManager + Unpin,
    M::Target: Send,
    M::Error: Into<E>,
{
    fn exit<'s>(self: Pin<&'s mut Self>, outcome: Outcome<'s>) -> SendExitFuture<'s, E> {
        let exit = Scope::exit(self, outcome);
        Box::pin(async move { exit.await.map_err(Into::into) })
    }
}

struct SendDeferred<F, Fut> {
    callback: Option<F>,
    _future: PhantomData<fn() -> Fut>,
}

// The callback is moved out before it is called, never pinned.
impl<F, Fut> Unpin for SendDeferred<F, Fut> {}

impl<F, Fut, E> SendEntry<E> for SendDeferred<F, Fut>
where
    F: FnOnce() -> Fut + Send,
    Fut: Future<Output = Result<(), E>> + Send,
{
    fn exit<'s>(self: Pin<&'s mut Self>, _outcome: Outcome<'s>) -> SendExitFuture<'s, E> {
        let callback = self.get_mut().callback.take();
        let future = callback.expect("an entry exits once")();
        Box::pin(async move { future.await.map(|()| ExitAction::Propagate) })
    }
}

impl<F, Fut, E> SendEntry<E> for ExitHandler<F, Fut>
where
    F: FnOnce(Outcome<'_>) -> Fut + Send,
    Fut: Future<Output = Result<ExitAction, E>> + Send,
{
    fn exit<'s>(self: Pin<&'s mut Self>, outcome: Outcome<'s>) -> SendExitFuture<'s, E> {
        let handler = self.get_mut().handler.take();
        Box::pin(handler.expect("an entry exits once")(outcome))
    }
}

/// An entered manager: its scope exits it, or cancels it when dropped
/// still entered (see [`AsyncContextManager::cancel`]).
impl<M, E> Entry<E> for Scope<M>
where
    M: PinnedContextManager,
    M::Error: Into<E>,
{
    fn exit<'s>(self: Pin<&'s mut Self>, outcome: Outcome<'s>) -> ExitFuture<'s, E> {
        let exit = Scope::exit(self, outcome);
        Box::pin(async move { exit.await.map_err(Into::into) })
    }
}

struct Deferred<F> {
    callback: Option<F>,
}

// The callback is moved out before it is called, never pinned.
impl<F> Unpin for Deferred<F> {}

impl<F, E> Entry<E> for Deferred<F>
where
    F: AsyncFnOnce() -> Result<(), E>,
{
    fn exit<'s>(self: Pin<&'s mut Self>, _outcome: Outcome<'s>) -> ExitFuture<'s, E> {
        let callback = self.get_mut().callback.take();
        let future = callback.expect("an entry exits once")();
        Box::pin(async move { future.await.map(|()| ExitAction::Propagate) })
    }
}

struct ExitHandler<F, Fut> {
    handler: Option<F>,
    _future: PhantomData<fn() -> Fut>,
}

// The handler is moved out before it is called, never pinned.
impl<F, Fut> Unpin for ExitHandler<F, Fut> {}

impl<F, Fut, E> Entry<E> for ExitHandler<F, Fut>
where
    F: FnOnce(Outcome<'_>) -> Fut,
    Fut: Future<Output = Result<ExitAction, E>>,
{
    fn exit<'s>(self: Pin<&'s mut Self>, outcome: Outcome<'s>) -> ExitFuture<'s, E> {
        let handler = self.get_mut().handler.take();
        Box::pin(handler.expect("an entry exits once")(outcome))
    }
}

/// The registered entries, in order. Each is a leaked box reached only
/// through raw pointers, so that `&mut` targets handed out by `enter` stay
/// valid while the list grows; dropped last-in first-out.
struct Entries<'a, E, S: Threading>(Vec<NonNull<EntryOf<'a, E, S>>>);

// SAFETY: the pointers own their boxes (like `Box<EntryOf<..>>`), so the
// list may move to another thread exactly when the entries may: for a
// `SendExitStack`, whose entries are `dyn SendEntry<E>` (`Send`).
// (Stated on the threading marker rather than as `EntryOf<'a, E, S>: Send`:
// a bound naming `'a` cannot be proven for the erased lifetimes of an
// async block's state, and the stack's futures would not be `Send`.)
unsafe impl<E: Send, S: sealed::SendEntries> Send for Entries<'_, E, S> {}

impl<'a, E, S: Threading> Entries<'a, E, S> {
    fn push(&mut self, entry: *mut EntryOf<'a, E, S>) {
        self.0
            .push(NonNull::new(entry).expect("Box::into_raw is never null"));
    }

    fn push_boxed(&mut self, entry: Box<EntryOf<'a, E, S>>) {
        self.push(Box::into_raw(entry));
    }

    /// Takes the last entry back as an owned, pinned box.
    fn pop(&mut self) -> Option<Pin<Box<EntryOf<'a, E, S>>>> {
        let entry = self.0.pop()?;
        // SAFETY: the pointer came from `Box::into_raw` and was removed from
        // the list, so this is its only owner; the `&mut self` this needs
        // (through the stack) means no target borrowed from it is alive.
        // It was never moved, so pinning it again is sound.
        Some(unsafe { Pin::new_unchecked(Box::from_raw(entry.as_ptr())) })
    }
}

impl<E, S: Threading> Default for Entries<'_, E, S> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<E, S: Threading> Drop for Entries<'_, E, S> {
    fn drop(&mut self) {
        // Each entered manager's scope calls its `cancel` hook as it drops.
        while let Some(entry) = self.pop() {
            drop(entry);
        }
    }
}

/// How an entry's error is shown to the entries after it.
fn view<E>(error: &E) -> Failure<'_>
where
    E: fmt::Debug + fmt::Display + Send + Sync + 'static,
{
    Failure::with_display(error)
}

#[cfg(test)]
mod tests {
    //! The `unsafe` above, exercised under miri by `scripts/miri.sh`.

    use super::*;
    use crate::{from_fn, nullcontext};
    use futures_executor::block_on;

    #[test]
    fn targets_stay_valid_while_the_entry_list_grows() {
        block_on(async {
            let mut stack = AsyncExitStack::new();
            let first = stack.enter(nullcontext(vec![0_u32])).await.unwrap();
            // Enough entries to reallocate the list several times.
            let mut others = Vec::new();
            for i in 1..40 {
                others.push(stack.enter(nullcontext(vec![i])).await.unwrap());
                stack.defer(async || Ok(()));
            }
            first.push(100);
            for other in &mut others {
                other.push(first[0]);
            }
            assert_eq!(first, &[0, 100]);
            assert_eq!(others[38], &[39, 0]);
            assert_eq!(stack.len(), 1 + 2 * 39);
            stack.close().await.unwrap();
            assert!(stack.is_empty());
        });
    }

    #[test]
    fn exit_gets_back_the_target_the_block_changed() {
        block_on(async {
            let seen = std::cell::RefCell::new(Vec::new());
            let mut stack = AsyncExitStack::<String>::default();
            for name in ["a", "b"] {
                let target = stack
                    .enter(from_fn(
                        async || Ok::<_, String>(name.to_string()),
                        async |target: String, _| {
                            seen.borrow_mut().push(target);
                            Ok(ExitAction::Propagate)
                        },
                    ))
                    .await
                    .unwrap();
                target.push_str("+changed");
            }
            let mut moved = stack.take();
            drop(stack);
            moved.close().await.unwrap();
            drop(moved);
            assert_eq!(seen.into_inner(), ["b+changed", "a+changed"]);
        });
    }

    #[test]
    fn a_send_stack_moves_to_another_thread_with_its_entries() {
        let mut stack = AsyncExitStack::new_send();
        block_on(async {
            for i in 0..20 {
                let target = stack.enter(nullcontext(vec![i])).await.unwrap();
                target.push(i + 100);
                stack.defer(|| async { Ok(()) });
            }
        });
        // The entries (and their `Unwind`) move to, and unwind on, another
        // thread: what the unsafe `Send` impl promises.
        let closed = std::thread::spawn(move || {
            let unwinding = stack.close();
            let output = std::thread::scope(|scope| {
                scope.spawn(move || block_on(unwinding)).join().unwrap()
            });
            output.is_ok()
        });
        assert!(closed.join().unwrap());
    }

    /// A stack dropped before exit drops its entries: the entered target
    /// and the deferred callback's captures are released (and, under miri
    /// and valgrind, their boxes freed).
    #[test]
    fn dropping_entries_without_exit_frees_them() {
        let alive = std::sync::Arc::new(());
        let stack = AsyncExitStack::new();
        block_on(async {
            stack
                .enter(nullcontext(std::sync::Arc::clone(&alive)))
                .await
                .unwrap();
        });
        let captured = std::sync::Arc::clone(&alive);
        stack.defer(async move || {
            drop(captured);
            Ok(())
        });
        assert_eq!(std::sync::Arc::strong_count(&alive), 3);
        drop(stack);
        assert_eq!(
            std::sync::Arc::strong_count(&alive),
            1,
            "an entry was not dropped"
        );
    }
}
