//! The channel between a generator's body and its driver: the one `unsafe`
//! part of the generator.
//!
//! The body reaches the [`Shared`] block of its pinned generator through
//! raw pointers ([`Co`], [`YieldFuture`], and the [`ExitHandle`] inside an
//! [`Exit`]), because the body is itself a field of that generator: a
//! reference would make the generator self-borrowing. Everything that
//! dereferences those pointers, or says why they may cross threads, is in
//! this file; the driver and [`Exit`] only call the safe methods below.

use core::cell::Cell;
use core::future::Future;
use core::marker::{PhantomData, PhantomPinned};
use core::pin::Pin;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use core::task::{Context, Poll};

use super::Exit;
use crate::Outcome;

/// What the body and the driver share, inside the pinned generator.
///
/// Reached by the driver through the generator's pinned projection and by
/// the body through the pointer in its [`Co`]; only shared references are
/// ever made to it (every field is a `Cell`), and it is `!Unpin` so that a
/// `&mut Generator` never claims it uniquely.
pub(super) struct Shared<T> {
    exit: ExitChannel,
    /// The target: put here by `yield_!` on its way out, taken by enter;
    /// put back by exit, taken by `yield_!` when it resumes. The one place
    /// the target is kept while it travels.
    target: Cell<Option<T>>,
    _pinned: PhantomPinned,
}

impl<T> Shared<T> {
    /// Nothing yielded, nothing published.
    pub(super) fn new() -> Self {
        Shared {
            exit: ExitChannel {
                outcome: AtomicPtr::new(ptr::null_mut()),
                kind: Cell::new(OutcomeKind::Completed),
                suppress: AtomicBool::new(false),
            },
            target: Cell::new(None),
            _pinned: PhantomPinned,
        }
    }

    /// Enter: the target `yield_!` put out during this poll, if it was
    /// reached.
    pub(super) fn take_yielded(&self) -> Option<T> {
        self.target.take()
    }

    /// Exit: gives the target back for the suspended `yield_!` to take on
    /// its first poll, and records how the block ended (before any
    /// [`Exit`] exists).
    pub(super) fn give_back(&self, target: T, outcome: &Outcome<'_>) {
        self.target.set(Some(target));
        self.exit.kind.set(OutcomeKind::of(outcome));
    }

    /// Whether the teardown called [`Exit::suppress`].
    pub(super) fn suppressed(&self) -> bool {
        self.exit.suppress.load(Ordering::Relaxed)
    }

    /// Publishes the block's outcome for one poll of the body; it is
    /// unpublished when the returned guard drops (also by unwinding), so
    /// that nothing keeps a pointer to an outcome that may move or be
    /// dropped between polls.
    pub(super) fn publish<'s>(&'s self, outcome: &Outcome<'_>) -> Unpublish<'s> {
        // The lifetime is erased; `Exit::inspect` lends the outcome for a
        // shorter one.
        let outcome = ptr::from_ref(outcome).cast::<Outcome<'static>>();
        self.exit
            .outcome
            .store(outcome.cast_mut(), Ordering::Relaxed);
        Unpublish(&self.exit)
    }
}

/// The part of [`Shared`] that [`Exit`] reads: not generic, so `Exit` is not.
struct ExitChannel {
    /// The block's outcome, published by [`Shared::publish`] for the
    /// duration of one poll of the body, null otherwise. Atomic because
    /// `Exit` is `Sync` (relaxed: a scoped thread reading it was spawned
    /// during the poll, after the store).
    outcome: AtomicPtr<Outcome<'static>>,
    /// How the block ended: set when exit is called, before any `Exit`
    /// exists, and only read afterwards.
    kind: Cell<OutcomeKind>,
    /// Set by [`Exit::suppress`] (atomic: `Exit` is `Sync`).
    suppress: AtomicBool,
}

/// Resets the published outcome when a poll of the body ends, also by
/// unwinding, so that the pointer never outlives the poll.
pub(super) struct Unpublish<'a>(&'a ExitChannel);

impl Drop for Unpublish<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.outcome.store(ptr::null_mut(), Ordering::Relaxed);
    }
}

/// The capability to yield `T` from one generator's body. Made by the
/// generator when it starts its body, and moved into it; `yield_!` uses it.
pub struct Co<T> {
    /// The `shared` field of the pinned generator whose body holds this
    /// `Co`: valid for as long as the body exists, because the body is
    /// another field of the same generator, dropped first.
    shared: NonNull<Shared<T>>,
}

// SAFETY: a `Co` is only dereferenced by the body that holds it, while its
// generator polls that body, which takes `Pin<&mut Generator>`: the thread
// doing so has exclusive access to the whole generator, `Shared` included.
// Sending the body (inside the generator) sends that access with it; the
// target travelling through `Shared` is a `T`, hence `T: Send`.
unsafe impl<T: Send> Send for Co<T> {}

impl<T> Co<T> {
    /// The `Co` of the generator whose pinned `shared` field this is, to be
    /// moved into that generator's body (and nowhere else: see the field).
    pub(super) fn new(shared: Pin<&Shared<T>>) -> Self {
        Co {
            shared: NonNull::from(shared.get_ref()),
        }
    }

    /// `yield_!(value)`: hands `value` to the `async_with!` block, suspends
    /// until the block has ended, then evaluates to the target given back
    /// and the [`Exit`] describing how the block ended.
    pub fn yield_(&self, value: T) -> YieldFuture<'_, T> {
        // The body runs only inside its generator's polls: enter takes the
        // target when this poll returns.
        self.shared().target.set(Some(value));
        YieldFuture {
            shared: self.shared,
            _co: PhantomData,
        }
    }

    fn shared(&self) -> &Shared<T> {
        // SAFETY: see the `shared` field: the pointee is alive while the
        // body holding this `Co` exists, and is only accessed through
        // shared references (its fields are `Cell`s).
        unsafe { self.shared.as_ref() }
    }
}

/// The future of `yield_!`. It borrows its [`Co`] for `'co`, and so does the
/// [`Exit`] it evaluates to: neither can leave the function's body.
pub struct YieldFuture<'co, T> {
    shared: NonNull<Shared<T>>,
    _co: PhantomData<&'co Co<T>>,
}

// SAFETY: as for `Co`: the pointer is the `Co`'s own, used only while the
// generator polls the body holding this future.
unsafe impl<T: Send> Send for YieldFuture<'_, T> {}

impl<T> Unpin for YieldFuture<'_, T> {}

impl<'co, T> Future for YieldFuture<'co, T> {
    type Output = (T, Exit<'co>);

    #[inline]
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<(T, Exit<'co>)> {
        // SAFETY: the pointer was copied from the `Co` this future borrows,
        // so the body holding both is alive (see `Co::shared`).
        let shared = unsafe { self.shared.as_ref() };
        // Resumed only by exit, which publishes the block's outcome and has
        // given the target back. Before that (the poll of enter that reached
        // `yield_!`), stay suspended with the target out: enter takes it
        // when the body's poll returns, no wake-up needed.
        if shared.exit.outcome.load(Ordering::Relaxed).is_null() {
            return Poll::Pending;
        }
        let Some(target) = shared.target.take() else {
            return Poll::Pending;
        };
        let exit = Exit::new(ExitHandle {
            channel: NonNull::from(&shared.exit),
            _co: PhantomData,
        });
        Poll::Ready((target, exit))
    }
}

/// How the block ended, as [`Exit`] tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OutcomeKind {
    Completed,
    Failed,
    Panicked,
    Cancelled,
}

impl OutcomeKind {
    fn of(outcome: &Outcome<'_>) -> Self {
        match outcome {
            Outcome::Failed(_) => OutcomeKind::Failed,
            Outcome::Panicked(_) => OutcomeKind::Panicked,
            Outcome::Cancelled => OutcomeKind::Cancelled,
            _ => OutcomeKind::Completed,
        }
    }
}

/// What an [`Exit`] holds: its generator's [`ExitChannel`], reached the way
/// [`Co`] reaches the whole block.
pub(super) struct ExitHandle<'co> {
    /// The `exit` field of the generator's `Shared`, valid while the body
    /// holding this handle's `Exit` exists (the borrow of `'co` guarantees
    /// it is in the body).
    channel: NonNull<ExitChannel>,
    _co: PhantomData<&'co ()>,
}

// SAFETY: an `Exit` (and the handle in it) lives in its generator's body
// and is used while that body is polled by whoever holds
// `Pin<&mut Generator>`. Through `&Exit`, other threads (scoped threads
// spawned during the poll) touch the channel only through atomics (the
// outcome pointer, `suppress`) and the `kind` cell, which is written before
// any `Exit` exists; the `Outcome` pointed to is `Sync` and only read.
unsafe impl Send for ExitHandle<'_> {}
// SAFETY: as for `Send`.
unsafe impl Sync for ExitHandle<'_> {}

impl ExitHandle<'_> {
    /// How the block ended.
    pub(super) fn kind(&self) -> OutcomeKind {
        self.channel().kind.get()
    }

    /// See [`Exit::inspect`].
    pub(super) fn inspect<R>(&self, f: impl FnOnce(&Outcome<'_>) -> R) -> R {
        let outcome = NonNull::new(self.channel().outcome.load(Ordering::Relaxed))
            .expect("`Exit` used while its #[async_context] function's teardown is not running");
        // SAFETY: a published outcome points to the `Outcome` held by the
        // `ExitFuture` that is polling the body right now (it is unpublished
        // before that poll returns); it is only read.
        f(unsafe { outcome.as_ref() })
    }

    /// See [`Exit::suppress`].
    pub(super) fn suppress(&self) {
        self.inspect(|_| ());
        self.channel().suppress.store(true, Ordering::Relaxed);
    }

    fn channel(&self) -> &ExitChannel {
        // SAFETY: see the `channel` field: the generator holding this
        // `Exit`'s body is alive and pinned; the channel is only accessed
        // through shared references.
        unsafe { self.channel.as_ref() }
    }
}
