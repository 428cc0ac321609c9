//! What a stack keeps: its entries (entered managers, deferred callbacks,
//! exit handlers), type-erased, and the list that owns them. The `unsafe`
//! of the exit stack is here: entries are leaked boxes, so that the targets
//! `enter` lends stay valid while the list grows.
//!
//! The two kinds of stack keep different entries: `dyn Entry<E>` for an
//! [`AsyncExitStack`], `dyn SendEntry<E>` (`Send`, with a `Send` exit
//! future) for a [`SendExitStack`](super::SendExitStack). The traits and
//! their three implementations each are written once, by `entry_kind!`:
//! only the bounds differ between the kinds, not the code.

use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::ptr::NonNull;
use std::sync::{MutexGuard, PoisonError};

use super::{AsyncExitStack, Local, Sendable, Threading};
use crate::protocol::{Scope, scope};
use crate::{ExitAction, Outcome, PinnedContextManager, SendContextManager};

/// The type-erased entry each kind of stack keeps. Sealed: `Threading`
/// requires it, and it is not reachable from outside the crate.
pub trait Sealed {
    type Entry<'a, E>: ?Sized + ErasedEntry<E>;
}

/// The kinds of stack whose entries are `Send` (`dyn SendEntry<E>`).
pub trait SendEntries: Threading {}

impl SendEntries for Sendable {}

/// Exits a type-erased entry, whichever kind of box it is.
pub trait ErasedEntry<E> {
    type ExitFuture<'s>: Future<Output = Result<ExitAction, E>> + 's
    where
        Self: 's;
    fn exit<'s>(self: Pin<&'s mut Self>, outcome: Outcome<'s>) -> Self::ExitFuture<'s>;
}

/// The entry type of a stack of kind `S`.
pub(super) type EntryOf<'a, E, S> = <S as Sealed>::Entry<'a, E>;

/// A callback registered by `defer`, run once whatever the outcome.
///
/// `Fut` is the future a [`SendExitStack`](super::SendExitStack)'s
/// callback returns, a parameter so that it lives as long as the entry; an
/// [`AsyncExitStack`]'s callback is an async closure, whose future has no
/// name (`()` here).
pub(super) struct Deferred<F, Fut = ()> {
    callback: Option<F>,
    _future: PhantomData<fn() -> Fut>,
}

// The callback is moved out before it is called, never pinned.
impl<F, Fut> Unpin for Deferred<F, Fut> {}

impl<F, Fut> Deferred<F, Fut> {
    pub(super) fn new(callback: F) -> Self {
        Deferred {
            callback: Some(callback),
            _future: PhantomData,
        }
    }
}

/// An exit handler registered by `push_exit`: sees the outcome, may
/// suppress a failure.
pub(super) struct ExitHandler<F, Fut> {
    handler: Option<F>,
    _future: PhantomData<fn() -> Fut>,
}

// The handler is moved out before it is called, never pinned.
impl<F, Fut> Unpin for ExitHandler<F, Fut> {}

impl<F, Fut> ExitHandler<F, Fut> {
    pub(super) fn new(handler: F) -> Self {
        ExitHandler {
            handler: Some(handler),
            _future: PhantomData,
        }
    }
}

/// Writes the entries of one kind of stack: their trait, its boxed exit
/// future, the stack kind's `Sealed` impl, the trait's `ErasedEntry` impl,
/// and its three implementations (an entered manager's [`Scope`], a
/// [`Deferred`] callback, an [`ExitHandler`]). The bodies are the same for
/// both kinds; the caller gives what differs: the trait's supertrait
/// (`Send` or none) and each implementation's generics and bounds.
macro_rules! entry_kind {
    (
        $(#[$trait_doc:meta])*
        trait $Entry:ident $(: $Send:ident)?, boxed as $ExitFuture:ident, kept by $Kind:ty;
        manager where { $($manager:tt)* }
        deferred impl<$($deferred_generic:ident),*> for $Deferred:ty where { $($deferred:tt)* }
        handler where { $($handler:tt)* }
    ) => {
        $(#[$trait_doc])*
        pub trait $Entry<E> $(: $Send)? {
            /// Runs the exit; called once, after which the entry is dropped.
            fn exit<'s>(self: Pin<&'s mut Self>, outcome: Outcome<'s>) -> $ExitFuture<'s, E>;
        }

        /// The exit future of this kind of entry, boxed.
        pub type $ExitFuture<'s, E> =
            Pin<Box<dyn Future<Output = Result<ExitAction, E>> $(+ $Send)? + 's>>;

        impl Sealed for $Kind {
            type Entry<'a, E> = dyn $Entry<E> + 'a;
        }

        impl<'a, E> ErasedEntry<E> for dyn $Entry<E> + 'a {
            type ExitFuture<'s>
                = $ExitFuture<'s, E>
            where
                Self: 's;
            fn exit<'s>(self: Pin<&'s mut Self>, outcome: Outcome<'s>) -> $ExitFuture<'s, E> {
                $Entry::exit(self, outcome)
            }
        }

        /// An entered manager: its scope exits it, or cancels it when
        /// dropped still entered (see
        /// [`AsyncContextManager::cancel`](crate::AsyncContextManager::cancel)).
        impl<M, E> $Entry<E> for Scope<M>
        where
            $($manager)*
        {
            fn exit<'s>(self: Pin<&'s mut Self>, outcome: Outcome<'s>) -> $ExitFuture<'s, E> {
                let exit = Scope::exit(self, outcome);
                Box::pin(async move { exit.await.map_err(Into::into) })
            }
        }

        impl<$($deferred_generic,)* E> $Entry<E> for $Deferred
        where
            $($deferred)*
        {
            fn exit<'s>(self: Pin<&'s mut Self>, _outcome: Outcome<'s>) -> $ExitFuture<'s, E> {
                let callback = self.get_mut().callback.take();
                let future = callback.expect("an entry exits once")();
                Box::pin(async move { future.await.map(|()| ExitAction::Propagate) })
            }
        }

        impl<F, Fut, E> $Entry<E> for ExitHandler<F, Fut>
        where
            $($handler)*
        {
            fn exit<'s>(self: Pin<&'s mut Self>, outcome: Outcome<'s>) -> $ExitFuture<'s, E> {
                let handler = self.get_mut().handler.take();
                Box::pin(handler.expect("an entry exits once")(outcome))
            }
        }
    };
}

entry_kind! {
    /// One registered exit of an [`AsyncExitStack`], type-erased (not
    /// reachable from outside the crate: the module is private).
    trait Entry, boxed as ExitFuture, kept by Local;
    manager where {
        M: PinnedContextManager,
        M::Error: Into<E>,
    }
    deferred impl<F> for Deferred<F> where {
        F: AsyncFnOnce() -> Result<(), E>,
    }
    handler where {
        F: FnOnce(Outcome<'_>) -> Fut,
        Fut: Future<Output = Result<ExitAction, E>>,
    }
}

entry_kind! {
    /// One registered exit of a [`SendExitStack`](super::SendExitStack):
    /// `Send`, with a `Send` exit future.
    trait SendEntry: Send, boxed as SendExitFuture, kept by Sendable;
    manager where {
        M: SendContextManager + Unpin,
        M::Target: Send,
        M::Error: Into<E>,
    }
    deferred impl<F, Fut> for Deferred<F, Fut> where {
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<(), E>> + Send,
    }
    handler where {
        F: FnOnce(Outcome<'_>) -> Fut + Send,
        Fut: Future<Output = Result<ExitAction, E>> + Send,
    }
}

/// The registered entries, in order. Each is a leaked box reached only
/// through raw pointers, so that `&mut` targets handed out by `enter` stay
/// valid while the list grows; dropped last-in first-out.
pub(super) struct Entries<'a, E, S: Threading>(Vec<NonNull<EntryOf<'a, E, S>>>);

// SAFETY: the pointers own their boxes (like `Box<EntryOf<..>>`), so the
// list may move to another thread exactly when the entries may: for a
// `SendExitStack`, whose entries are `dyn SendEntry<E>` (`Send`).
// (Stated on the threading marker rather than as `EntryOf<'a, E, S>: Send`:
// a bound naming `'a` cannot be proven for the erased lifetimes of an
// async block's state, and the stack's futures would not be `Send`.)
unsafe impl<E: Send, S: SendEntries> Send for Entries<'_, E, S> {}

impl<'a, E, S: Threading> Entries<'a, E, S> {
    fn push(&mut self, entry: *mut EntryOf<'a, E, S>) {
        self.0
            .push(NonNull::new(entry).expect("Box::into_raw is never null"));
    }

    fn push_boxed(&mut self, entry: Box<EntryOf<'a, E, S>>) {
        self.push(Box::into_raw(entry));
    }

    /// Takes the last entry back as an owned, pinned box.
    pub(super) fn pop(&mut self) -> Option<Pin<Box<EntryOf<'a, E, S>>>> {
        let entry = self.0.pop()?;
        // SAFETY: the pointer came from `Box::into_raw` and was removed from
        // the list, so this is its only owner; the `&mut self` this needs
        // (through the stack) means no target borrowed from it is alive.
        // It was never moved, so pinning it again is sound.
        Some(unsafe { Pin::new_unchecked(Box::from_raw(entry.as_ptr())) })
    }

    /// How many entries are registered.
    pub(super) fn len(&self) -> usize {
        self.0.len()
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

/// The one body of `enter`, `defer` and `push_exit` for both kinds of
/// stack: each public method only states its bounds and makes its entry.
impl<'a, E, S: Threading> AsyncExitStack<'a, E, S> {
    /// Enters `manager` in a scope of its own and keeps the scope as the
    /// newest entry. `erase` is the unsizing coercion of the scope into
    /// the entry type (`|scope| scope`), which generic code cannot name.
    pub(super) async fn enter_entry<M: PinnedContextManager + 'a>(
        &self,
        manager: M,
        erase: impl FnOnce(*mut Scope<M>) -> *mut EntryOf<'a, E, S>,
    ) -> Result<&mut M::Target, M::Error> {
        self.assert_open("enter");
        let mut scope = Box::pin(scope(manager));
        // From the poll in which enter returns, the scope keeps the
        // target: a drop from here on cancels.
        scope.as_mut().enter().await?;
        Ok(self.keep_entered(scope, erase))
    }

    /// Registers a callback or handler (`operation` names the public
    /// method, for the panic on a closed stack).
    #[track_caller]
    pub(super) fn push_entry(&self, operation: &str, entry: Box<EntryOf<'a, E, S>>) {
        self.assert_open(operation);
        self.entries().push_boxed(entry);
    }

    /// Keeps an entered scope as the newest entry and lends its target.
    #[allow(
        clippy::mut_from_ref,
        reason = "each target is in its own heap allocation, lent as `enter` lends it"
    )]
    fn keep_entered<M: PinnedContextManager + 'a>(
        &self,
        scope: Pin<Box<Scope<M>>>,
        erase: impl FnOnce(*mut Scope<M>) -> *mut EntryOf<'a, E, S>,
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

    pub(super) fn entries(&self) -> MutexGuard<'_, Entries<'a, E, S>> {
        // A panic never leaves the list half-changed (each change is one
        // `Vec` call), so a poisoned lock is still a valid list.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
