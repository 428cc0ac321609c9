//! Unwinding: running a stack's exits in reverse order of registration,
//! each seeing the outcome the ones before it left (see "Unwinding" in
//! [`AsyncExitStack`]); `close`, `exit`, and the stack as a manager.

use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::sync::atomic::Ordering;
use std::sync::PoisonError;

#[cfg(doc)]
use super::SendExitStack;
use super::entries::{ErasedEntry, SendEntries};
use super::{AsyncExitStack, Threading};
#[cfg(doc)]
use crate::AsyncContextManager;
use crate::protocol::catch_unwind;
use crate::{ExitAction, Outcome, Panic, PinnedContextManager};

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
    pub(super) async fn unwind(&mut self, mut outcome: Outcome<'_>) -> Result<ExitAction, E> {
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
                Ok(Err(error)) => now = self.failed(now, error),
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
unsafe impl<F, S: SendEntries, E: Send> Send for Unwind<F, S, E> {}

impl<F: Future, S, E> Future for Unwind<F, S, E> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut core::task::Context<'_>) -> core::task::Poll<F::Output> {
        self.project().future.poll(cx)
    }
}

/// What the next entry to exit will see.
pub(super) enum Unwinding<E> {
    /// The outcome the stack was given.
    Given,
    /// A failure was suppressed.
    Completed,
    /// An entry failed.
    Failed(E),
    /// An entry panicked.
    Panicked(Box<dyn core::any::Any + Send>),
}
