//! Async exit after a cancellation (docs/contract.md, "Cancellation"): the
//! part of async `Drop` that stable Rust can have.
//!
//! Rust cannot await in `Drop`, so when the future running a block is
//! dropped between enter and exit, the protocol's scope can only call the
//! manager's synchronous `cancel` hook. A manager whose exit can run
//! detached (it is a [`SendContextManager`] and `'static`) opts in once, by
//! being wrapped in [`exit_on_cancel`]: its hook then hands the manager and
//! its target to the runtime, which awaits its exit with
//! [`Outcome::Cancelled`], under a deadline. [`spawn_exit`] is the same
//! mechanism for a manager that builds it into its own `cancel` (as
//! [`PoolTransaction`](crate::sqlx::PoolTransaction) does).
//!
//! Nothing is given up silently: every detached exit is counted
//! ([`cancelled_exits`]), one the runtime drops before it finished (it was
//! shutting down) or that could not be spawned (no runtime) is reported as
//! *abandoned* (a `tracing` warning with feature `tracing`, and the
//! counter), and [`wait_for_cancelled_exits`] waits, bounded, for those in
//! flight, to call before a runtime shuts down.

use core::future::Future;
use core::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::outcome::OutcomeCopy;
use crate::{ExitAction, Outcome, SendContextManager};

/// How long a detached exit may take unless told otherwise: 5 seconds.
///
/// ```
/// assert_eq!(async_with::tokio::DEFAULT_CANCELLED_EXIT_DEADLINE.as_secs(), 5);
/// ```
pub const DEFAULT_CANCELLED_EXIT_DEADLINE: Duration = Duration::from_secs(5);

/// Opts `manager` in to an async exit after cancellation, bounded by
/// [`DEFAULT_CANCELLED_EXIT_DEADLINE`] or [`ExitOnCancel::deadline`], on a
/// task of the current tokio runtime, whenever the future running its
/// block is dropped:
///
/// - in the block: the manager and its target move to the task, which
///   awaits exit with [`Outcome::Cancelled`];
/// - while enter is awaiting (after a side effect: `BEGIN` sent, a lease
///   granted): that enter goes on in the task; if it produces a target,
///   exit runs on it with `Cancelled`; if it fails, the failure is counted
///   (and a `tracing` warning);
/// - while exit is awaiting: that exit goes on in the task to its end,
///   once (it is not restarted with `Cancelled`).
///
/// So that a step can move to a task, each enter and exit owns the manager
/// in one allocation, and exit sees a copy of the block's outcome: the
/// same kind, text and type name, not the error value (its
/// [`downcast_ref`](crate::Failure::downcast_ref) is `None`), which stays
/// in the block's frame. On every other way out of the block the wrapper
/// changes nothing else.
///
/// A generator (`#[async_context]`) opts in boxed:
/// `exit_on_cancel(Box::pin(generator()))`, one allocation when it is
/// made, whether or not the block is cancelled.
///
/// ```
/// use async_with::{async_with, ExitAction, Outcome, SendContextManager};
/// use async_with::tokio::{exit_on_cancel, wait_for_cancelled_exits};
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
///
/// struct Lease(Arc<Mutex<Vec<String>>>);
///
/// impl SendContextManager for Lease {
///     type Target = &'static str;
///     type Error = std::io::Error;
///     async fn enter(&mut self) -> std::io::Result<&'static str> { Ok("lease-1") }
///     async fn exit(&mut self, id: &'static str, outcome: Outcome<'_>) -> std::io::Result<ExitAction> {
///         tokio::task::yield_now().await; // an awaited release
///         self.0.lock().unwrap().push(format!("released {id}: {outcome}"));
///         Ok(ExitAction::Propagate)
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let log = Arc::new(Mutex::new(Vec::new()));
/// let block = async {
///     async_with!(_id = exit_on_cancel(Lease(log.clone())) => {
///         std::future::pending::<()>().await
///     });
///     Ok::<(), std::io::Error>(())
/// };
/// assert!(tokio::time::timeout(Duration::from_millis(10), block).await.is_err());
/// wait_for_cancelled_exits(Duration::from_secs(5)).await;
/// assert_eq!(*log.lock().unwrap(), ["released lease-1: cancelled"]);
/// # });
/// ```
pub fn exit_on_cancel<M>(manager: M) -> ExitOnCancel<M>
where
    M: SendContextManager + 'static,
    M::Target: Send + 'static,
{
    ExitOnCancel {
        manager: Some(manager),
        deadline: DEFAULT_CANCELLED_EXIT_DEADLINE,
    }
}

/// The manager [`exit_on_cancel`] returns: `M`, whose exit also runs (on
/// the runtime, bounded) when its block is cancelled.
///
/// ```
/// use async_with::tokio::exit_on_cancel;
/// use std::time::Duration;
///
/// let manager = exit_on_cancel(async_with::nullcontext(1)).deadline(Duration::from_millis(500));
/// assert!(manager.get_ref().is_some());
/// ```
#[derive(Debug)]
pub struct ExitOnCancel<M> {
    // `None` once moved into its detached exit.
    manager: Option<M>,
    deadline: Duration,
}

impl<M> ExitOnCancel<M> {
    /// Sets how long the detached exit may take; past it, its future is
    /// dropped and the exit counted as timed out.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let manager = async_with::tokio::exit_on_cancel(async_with::nullcontext(()))
    ///     .deadline(Duration::from_secs(1));
    /// # drop(manager);
    /// ```
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The manager, unless it was moved into its detached exit.
    ///
    /// ```
    /// let manager = async_with::tokio::exit_on_cancel(async_with::nullcontext(()));
    /// assert!(manager.get_ref().is_some());
    /// ```
    pub fn get_ref(&self) -> Option<&M> {
        self.manager.as_ref()
    }
}

impl<M> SendContextManager for ExitOnCancel<M>
where
    M: SendContextManager + 'static,
    M::Target: Send + 'static,
{
    type Target = M::Target;
    type Error = M::Error;

    /// The manager's enter, shielded: dropped while it is awaiting (the
    /// block's future was cancelled during enter), it goes on in a task on
    /// the runtime, and if it produces a target, exit runs on it with
    /// [`Outcome::Cancelled`], all within the deadline.
    fn enter(&mut self) -> impl Future<Output = Result<M::Target, M::Error>> + Send {
        let mut manager = self.take_manager();
        Shielded {
            step: Some(Box::pin(async move {
                let entered = manager.enter().await;
                (manager, entered)
            })),
            home: &mut self.manager,
            deadline: self.deadline,
            detach: finish_enter::<M>,
        }
    }

    /// The manager's exit, shielded: dropped while it is awaiting (the
    /// future was cancelled during exit), it goes on to its end in a task
    /// on the runtime, within the deadline, never restarted. So that it
    /// can outlive the block, the manager sees a copy of the outcome: the
    /// same kind, text and type name, but not the error value itself
    /// ([`Failure::downcast_ref`](crate::Failure::downcast_ref) is `None`)
    /// nor a panic's non-string payload.
    fn exit(
        &mut self,
        target: M::Target,
        outcome: Outcome<'_>,
    ) -> impl Future<Output = Result<ExitAction, M::Error>> + Send {
        let outcome = OutcomeCopy::of(&outcome);
        let mut manager = self.take_manager();
        Shielded {
            step: Some(Box::pin(async move {
                let exited = manager.exit(target, outcome.view()).await;
                (manager, exited)
            })),
            home: &mut self.manager,
            deadline: self.deadline,
            detach: finish_exit::<M>,
        }
    }

    fn cancel(&mut self, target: M::Target) {
        let manager = self.take_manager();
        // No runtime to await on: the manager's own synchronous hook.
        if let Some((mut manager, target)) = try_spawn_exit(manager, target, self.deadline) {
            manager.cancel(target);
        }
    }
}

impl<M> ExitOnCancel<M> {
    fn take_manager(&mut self) -> M {
        self.manager
            .take()
            .expect("an `exit_on_cancel` manager used after its block was cancelled")
    }
}

/// An enter or exit step that owns the manager, boxed so that it can move
/// to a task.
type Step<M, T> = core::pin::Pin<Box<dyn Future<Output = (M, T)> + Send>>;

/// The future of a shielded enter or exit: polls the step, and puts the
/// manager back where it lives when the step ends. Dropped before that,
/// it hands the step to the runtime (`detach`), which finishes it.
struct Shielded<'a, M, T> {
    step: Option<Step<M, T>>,
    home: &'a mut Option<M>,
    deadline: Duration,
    detach: fn(Step<M, T>, Duration),
}

impl<M, T> Future for Shielded<'_, M, T> {
    type Output = T;

    fn poll(
        mut self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<T> {
        let this = &mut *self;
        let step = this.step.as_mut().expect("polled after it ended");
        let (manager, output) = core::task::ready!(step.as_mut().poll(cx));
        this.step = None;
        *this.home = Some(manager);
        core::task::Poll::Ready(output)
    }
}

impl<M, T> Drop for Shielded<'_, M, T> {
    fn drop(&mut self) {
        if let Some(step) = self.step.take() {
            (self.detach)(step, self.deadline);
        }
    }
}

/// The rest of an enter cancelled mid-way: enter to its end, then, if it
/// produced a target, exit with [`Outcome::Cancelled`].
fn finish_enter<M>(step: Step<M, Result<M::Target, M::Error>>, deadline: Duration)
where
    M: SendContextManager + 'static,
    M::Target: Send + 'static,
{
    spawn_detached(core::any::type_name::<M>(), deadline, async move {
        // Matched in one statement, so that no error (which need not be
        // `Send`) is kept across the exit's await.
        let (mut manager, target) = match step.await {
            (manager, Ok(target)) => (manager, target),
            (_, Err(_)) => return Err("its enter failed, after the cancellation"),
        };
        match manager.exit(target, Outcome::Cancelled).await {
            Ok(_) => Ok(()),
            Err(_) => Err("its exit failed, after the cancellation"),
        }
    });
}

/// The rest of an exit cancelled mid-way.
fn finish_exit<M>(step: Step<M, Result<ExitAction, M::Error>>, deadline: Duration)
where
    M: SendContextManager + 'static,
{
    spawn_detached(core::any::type_name::<M>(), deadline, async move {
        match step.await {
            (_, Ok(_)) => Ok(()),
            (_, Err(_)) => Err("its exit failed, after the cancellation"),
        }
    });
}

/// Awaits `manager`'s exit of `target` with [`Outcome::Cancelled`] in a
/// task on the current tokio runtime, bounded by `deadline`; the mechanism
/// behind [`exit_on_cancel`], for a manager's own
/// [`cancel`](SendContextManager::cancel) hook.
///
/// Counted in [`cancelled_exits`]. Outside a runtime it cannot await: the
/// target is dropped, and the exit is reported as abandoned.
///
/// ```
/// use async_with::{ExitAction, Outcome, SendContextManager};
/// use async_with::tokio::{spawn_exit, wait_for_cancelled_exits};
/// use std::time::Duration;
///
/// struct Conn;
/// impl SendContextManager for Conn {
///     type Target = u32;
///     type Error = std::convert::Infallible;
///     async fn enter(&mut self) -> Result<u32, Self::Error> { Ok(1) }
///     async fn exit(&mut self, _: u32, outcome: Outcome<'_>) -> Result<ExitAction, Self::Error> {
///         assert!(outcome.is_cancelled());
///         Ok(ExitAction::Propagate)
///     }
///     fn cancel(&mut self, id: u32) {
///         spawn_exit(Conn, id, Duration::from_secs(1));
///     }
/// }
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// Conn.cancel(1);
/// assert_eq!(wait_for_cancelled_exits(Duration::from_secs(1)).await, 0);
/// # });
/// ```
pub fn spawn_exit<M>(manager: M, target: M::Target, deadline: Duration)
where
    M: SendContextManager + 'static,
    M::Target: Send + 'static,
{
    drop(try_spawn_exit(manager, target, deadline));
}

/// [`spawn_exit`], giving the manager and the target back when there is no
/// runtime to spawn on.
fn try_spawn_exit<M>(
    mut manager: M,
    target: M::Target,
    deadline: Duration,
) -> Option<(M, M::Target)>
where
    M: SendContextManager + 'static,
    M::Target: Send + 'static,
{
    if ::tokio::runtime::Handle::try_current().is_err() {
        COUNTS.abandoned.fetch_add(1, Ordering::Relaxed);
        report_abandoned(core::any::type_name::<M>(), "no tokio runtime to run it on");
        return Some((manager, target));
    }
    spawn_detached(core::any::type_name::<M>(), deadline, async move {
        match manager.exit(target, Outcome::Cancelled).await {
            Ok(_) => Ok(()),
            Err(_) => Err("its exit failed, after the cancellation"),
        }
    });
    None
}

/// Runs what is left of a manager after a cancellation (`rest`) in a task
/// on the current runtime, bounded by `deadline`, and counts how it ended
/// in [`cancelled_exits`]: every detached exit, whichever step it started
/// from, goes through here. Without a runtime, `rest` is dropped and
/// reported as abandoned.
fn spawn_detached<F>(name: &'static str, deadline: Duration, rest: F)
where
    F: Future<Output = Result<(), &'static str>> + Send + 'static,
{
    let Ok(runtime) = ::tokio::runtime::Handle::try_current() else {
        COUNTS.abandoned.fetch_add(1, Ordering::Relaxed);
        report_abandoned(name, "no tokio runtime to run it on");
        return;
    };
    COUNTS.spawned.fetch_add(1, Ordering::Relaxed);
    let in_flight = InFlight { name, ended: false };
    runtime.spawn(async move {
        let mut in_flight = in_flight;
        let counter = match ::tokio::time::timeout(deadline, rest).await {
            Ok(Ok(())) => &COUNTS.completed,
            Ok(Err(_why)) => {
                #[cfg(feature = "tracing")]
                tracing::warn!(target: "async_with", manager = name, reason = _why, "async exit after cancellation failed");
                &COUNTS.failed
            }
            Err(_) => {
                #[cfg(feature = "tracing")]
                tracing::warn!(
                    target: "async_with",
                    manager = name,
                    deadline_ms = deadline.as_millis() as u64,
                    "async exit after cancellation timed out"
                );
                &COUNTS.timed_out
            }
        };
        counter.fetch_add(1, Ordering::Relaxed);
        in_flight.ended = true;
    });
}

/// Keeps a detached exit counted as in flight; dropped before the exit
/// ended (the runtime dropped the task while shutting down), it reports the
/// exit as abandoned.
struct InFlight {
    name: &'static str,
    ended: bool,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.ended && std::thread::panicking() {
            // The exit panicked: it ran, and failed.
            COUNTS.failed.fetch_add(1, Ordering::Relaxed);
        } else if !self.ended {
            COUNTS.abandoned.fetch_add(1, Ordering::Relaxed);
            report_abandoned(self.name, "the runtime shut down before it ended");
        }
        COUNTS.ended.fetch_add(1, Ordering::Release);
    }
}

fn report_abandoned(_name: &'static str, _why: &'static str) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        target: "async_with",
        manager = _name,
        reason = _why,
        "async exit after cancellation abandoned"
    );
}

struct Counts {
    spawned: AtomicU64,
    ended: AtomicU64,
    completed: AtomicU64,
    failed: AtomicU64,
    timed_out: AtomicU64,
    abandoned: AtomicU64,
}

static COUNTS: Counts = Counts {
    spawned: AtomicU64::new(0),
    ended: AtomicU64::new(0),
    completed: AtomicU64::new(0),
    failed: AtomicU64::new(0),
    timed_out: AtomicU64::new(0),
    abandoned: AtomicU64::new(0),
};

/// What happened to the async exits run after a cancellation, in this
/// process so far ([`cancelled_exits`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CancelledExits {
    /// Spawned on a runtime.
    pub spawned: u64,
    /// Spawned and not ended yet.
    pub in_flight: u64,
    /// Ran to the end and returned `Ok`.
    pub completed: u64,
    /// Ran to the end and returned an error (nobody is left to see it).
    pub failed: u64,
    /// Dropped at their deadline.
    pub timed_out: u64,
    /// Given up without running to the end or to the deadline: the runtime
    /// shut down first, or there was no runtime to spawn on. Each is also
    /// a `tracing` warning with feature `tracing`.
    pub abandoned: u64,
}

/// The counts of async exits run after a cancellation, in this process so
/// far.
///
/// ```
/// let counts = async_with::tokio::cancelled_exits();
/// assert!(counts.completed + counts.failed + counts.timed_out <= counts.spawned);
/// ```
pub fn cancelled_exits() -> CancelledExits {
    let ended = COUNTS.ended.load(Ordering::Acquire);
    let spawned = COUNTS.spawned.load(Ordering::Relaxed);
    CancelledExits {
        spawned,
        in_flight: spawned.saturating_sub(ended),
        completed: COUNTS.completed.load(Ordering::Relaxed),
        failed: COUNTS.failed.load(Ordering::Relaxed),
        timed_out: COUNTS.timed_out.load(Ordering::Relaxed),
        abandoned: COUNTS.abandoned.load(Ordering::Relaxed),
    }
}

/// Waits until no async exit after a cancellation is in flight, for at
/// most `limit`; returns how many still are. Await it before a runtime
/// shuts down (at the end of `main`, after a server's graceful shutdown):
/// a runtime dropped with exits in flight drops them, and each is then
/// reported as abandoned.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let left = async_with::tokio::wait_for_cancelled_exits(std::time::Duration::from_secs(5)).await;
/// assert_eq!(left, 0);
/// # });
/// ```
pub async fn wait_for_cancelled_exits(limit: Duration) -> u64 {
    let waiting = async {
        while cancelled_exits().in_flight > 0 {
            ::tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    let _ = ::tokio::time::timeout(limit, waiting).await;
    cancelled_exits().in_flight
}

#[cfg(all(test, feature = "tracing"))]
mod tests {
    //! The report of an abandoned exit is a `tracing` warning (the counter
    //! is tested in `tests/cancel_shutdown.rs`).

    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;
    use tracing::{Event, Metadata, Subscriber, span};

    /// Records the message of each warning.
    #[derive(Default)]
    struct Warnings(Mutex<Vec<String>>, AtomicUsize);

    struct Message<'a>(&'a mut String);

    impl tracing::field::Visit for Message<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn core::fmt::Debug) {
            use core::fmt::Write;
            let _ = write!(self.0, "{}={value:?} ", field.name());
        }
    }

    impl Subscriber for &'static Warnings {
        fn enabled(&self, metadata: &Metadata<'_>) -> bool {
            *metadata.level() == tracing::Level::WARN
        }
        fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
            span::Id::from_u64(self.1.fetch_add(1, Ordering::Relaxed) as u64 + 1)
        }
        fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
        fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut text = String::new();
            event.record(&mut Message(&mut text));
            self.0.lock().unwrap().push(text);
        }
        fn enter(&self, _: &span::Id) {}
        fn exit(&self, _: &span::Id) {}
    }

    struct Forever;

    impl SendContextManager for Forever {
        type Target = ();
        type Error = core::convert::Infallible;
        async fn enter(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
        async fn exit(&mut self, (): (), _: Outcome<'_>) -> Result<ExitAction, Self::Error> {
            core::future::pending().await
        }
    }

    #[test]
    fn an_exit_dropped_by_a_shutting_down_runtime_is_a_warning() {
        let warnings: &'static Warnings = Box::leak(Box::default());
        tracing::subscriber::with_default(warnings, || {
            let runtime = ::tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut manager = exit_on_cancel(Forever);
                let () = manager.enter().await.unwrap();
                manager.cancel(()); // what the scope's drop does
                ::tokio::task::yield_now().await; // the exit starts, and waits
            });
            drop(runtime); // shutdown drops it
        });
        let warnings = warnings.0.lock().unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("abandoned") && warnings[0].contains("Forever"),
            "{warnings:?}"
        );
    }
}
