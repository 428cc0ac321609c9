//! A stack of exits built at run time: Python's `contextlib.AsyncExitStack`,
//! JavaScript's `AsyncDisposableStack`.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | the stack: its type, kinds, constructors, and the public methods that add entries |
//! | `entries.rs` | what it keeps: the entry traits and their implementations (written once for both kinds), the list that owns them, and the one body of `enter`, `defer` and `push_exit`; the `unsafe` of the leaked entry boxes |
//! | `unwind.rs` | running the exits in reverse: `close`, `exit`, the stack as a manager; the `unsafe impl Send` of the unwinding future |
//! | `chain.rs` | what an entry's failure does to the ones after it: how they see it, and how it keeps an earlier one (the public chain type itself, [`SuppressedError`](crate::SuppressedError), is in the crate's `suppressed` module) |

mod chain;
mod entries;
#[cfg(test)]
mod tests;
mod unwind;

use core::fmt;
use core::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

#[cfg(doc)]
use crate::AsyncContextManager;
use crate::suppressed::suppressed_error;
use crate::{ExitAction, Failure, Outcome, PinnedContextManager, SendContextManager};
use entries::{Deferred, Entries, ExitHandler};

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
pub trait Threading: entries::Sealed + 'static {}

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
            entries: Mutex::new(Entries::default()),
            suppressed: None,
            view: chain::view::<E>,
            closed: AtomicBool::new(false),
            handled_block_failure: AtomicBool::new(false),
        }
    }
}

impl<'a, E, S: Threading> AsyncExitStack<'a, E, S> {
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
        self.entries().len()
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
        self.enter_entry(manager, |scope| scope).await
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
        self.push_entry("defer", Box::new(Deferred::<F>::new(callback)));
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
        self.push_entry("push_exit", Box::new(ExitHandler::new(handler)));
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
        self.enter_entry(manager, |scope| scope).await
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
        self.push_entry("defer", Box::new(Deferred::<F, Fut>::new(callback)));
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
        self.push_entry("push_exit", Box::new(ExitHandler::new(handler)));
    }
}

impl<E, S: Threading> fmt::Debug for AsyncExitStack<'_, E, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncExitStack")
            .field("len", &self.len())
            .finish()
    }
}
