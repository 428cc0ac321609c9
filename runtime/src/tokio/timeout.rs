//! A timeout scope: one deadline for every await the block runs through it.

use core::fmt;
use core::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use ::tokio::time::Instant;

use crate::{ExitAction, Outcome, SendContextManager};

/// A timeout scope, like Python's `asyncio.timeout` (and, with
/// [`move_on_after`](Timeout::move_on_after), trio's `move_on_after`).
///
/// A manager cannot cancel the block it wraps: the block is not awaited
/// through it. So the target, a [`TimeoutScope`], holds the deadline, and
/// the block awaits what the deadline bounds through
/// [`scope.run(future)`](TimeoutScope::run), which fails with [`Elapsed`]
/// once the deadline has passed. All the runs of a scope share one deadline
/// (unlike a timeout per await), which the block can read and
/// [`reschedule`](TimeoutScope::reschedule). Awaits not made through the
/// scope are not bounded.
///
/// - [`Timeout::after`] / [`Timeout::at`]: the block's `scope.run(..).await?`
///   leaves it with `Elapsed`, which propagates like any error
///   (`asyncio.timeout` raising `TimeoutError`).
/// - [`Timeout::move_on_after`]: exit suppresses an `Elapsed` of *its own*
///   scope that failed the block, and execution goes on after
///   `async_with!` (an inner scope's `Elapsed` still propagates). As for
///   any suppression, the block's value must be `()`, and the `?` must see
///   the `Elapsed` itself (not an error converted from it).
///
/// Whether a run of the scope hit the deadline is then in
/// [`expired`](Timeout::expired). The deadline is measured with tokio's
/// clock ([`tokio::time::Instant`](::tokio::time::Instant)), so paused time
/// in tests applies. Dropping the future running the block drops the run
/// in progress; nothing else is left.
///
/// ```
/// use std::time::Duration;
/// use async_with::async_with;
/// use async_with::tokio::{Elapsed, Timeout};
///
/// async fn run() -> Result<&'static str, Elapsed> {
///     let reply = async_with!(scope = Timeout::after(Duration::from_secs(5)) => {
///         scope.run(tokio::time::sleep(Duration::from_millis(1))).await?;
///         scope.run(async { "fast" }).await? // the same deadline bounds both
///     });
///     let mut slow = Timeout::move_on_after(Duration::from_millis(10));
///     async_with!(scope = &mut slow => {
///         scope.run(tokio::time::sleep(Duration::from_secs(60))).await?;
///         unreachable!("the deadline passes first");
///     }); // suppressed: execution goes on here
///     assert!(slow.expired());
///     Ok(reply)
/// }
///
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// assert_eq!(runtime.block_on(run()), Ok("fast"));
/// ```
#[derive(Debug)]
pub struct Timeout {
    deadline: Deadline,
    suppress: bool,
    scope: u64,
    expired: bool,
}

#[derive(Debug, Clone, Copy)]
enum Deadline {
    After(Duration),
    At(Instant),
}

/// The target of a [`Timeout`]: the deadline, and the way to await under it.
///
/// ```
/// use std::time::Duration;
/// use async_with::async_with;
/// use async_with::tokio::{Elapsed, Timeout};
///
/// async fn run() -> Result<(), Elapsed> {
///     async_with!(scope = Timeout::after(Duration::from_secs(1)) => {
///         assert!(scope.remaining() <= Duration::from_secs(1));
///         scope.reschedule(scope.deadline() + Duration::from_secs(1));
///         assert!(scope.remaining() > Duration::from_secs(1));
///         assert!(!scope.expired());
///     });
///     Ok(())
/// }
///
/// tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
/// ```
#[derive(Debug)]
pub struct TimeoutScope {
    deadline: Instant,
    scope: u64,
    expired: AtomicBool,
}

/// The error of a [`TimeoutScope::run`] that reached the scope's deadline.
///
/// ```
/// use std::time::Duration;
/// use async_with::async_with;
/// use async_with::tokio::{Elapsed, Timeout};
///
/// async fn run() -> Result<(), Elapsed> {
///     async_with!(scope = Timeout::after(Duration::from_millis(1)) => {
///         scope.run(std::future::pending::<()>()).await?;
///     });
///     Ok(())
/// }
///
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// assert_eq!(runtime.block_on(run()).unwrap_err().to_string(), "deadline has elapsed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed {
    deadline: Instant,
    scope: u64,
}

impl Elapsed {
    /// The deadline that passed.
    ///
    /// ```
    /// fn when(elapsed: &async_with::tokio::Elapsed) -> tokio::time::Instant {
    ///     elapsed.deadline()
    /// }
    /// # let _ = when;
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// Distinguishes the scopes entered by one process.
static NEXT_SCOPE: AtomicU64 = AtomicU64::new(1);

impl Timeout {
    /// A scope whose deadline is `duration` after enter; its `Elapsed`
    /// propagates (`asyncio.timeout(delay)`).
    ///
    /// ```
    /// let manager = async_with::tokio::Timeout::after(std::time::Duration::from_secs(1));
    /// # drop(manager);
    /// ```
    pub fn after(duration: Duration) -> Self {
        Self::new(Deadline::After(duration), false)
    }

    /// A scope with a fixed deadline; its `Elapsed` propagates
    /// (`asyncio.timeout_at(when)`).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    /// let manager = async_with::tokio::Timeout::at(deadline);
    /// # drop(manager);
    /// # });
    /// ```
    pub fn at(deadline: Instant) -> Self {
        Self::new(Deadline::At(deadline), false)
    }

    /// A scope whose deadline is `duration` after enter, and whose own
    /// `Elapsed` is suppressed at exit (trio's `move_on_after`).
    ///
    /// ```
    /// let manager = async_with::tokio::Timeout::move_on_after(std::time::Duration::from_secs(1));
    /// # drop(manager);
    /// ```
    pub fn move_on_after(duration: Duration) -> Self {
        Self::new(Deadline::After(duration), true)
    }

    fn new(deadline: Deadline, suppress: bool) -> Self {
        Timeout {
            deadline,
            suppress,
            scope: 0,
            expired: false,
        }
    }

    /// `true` if a run of the last scope reached its deadline (read it
    /// after the block, using the manager as `&mut manager`).
    ///
    /// ```
    /// let manager = async_with::tokio::Timeout::after(std::time::Duration::from_secs(1));
    /// assert!(!manager.expired());
    /// ```
    pub fn expired(&self) -> bool {
        self.expired
    }
}

impl TimeoutScope {
    /// The deadline.
    ///
    /// See [`TimeoutScope`] for an example.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The time left before the deadline (zero once it has passed).
    ///
    /// See [`TimeoutScope`] for an example.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Moves the deadline (`asyncio.Timeout.reschedule`), for the runs
    /// that follow.
    ///
    /// See [`TimeoutScope`] for an example.
    pub fn reschedule(&mut self, deadline: Instant) {
        self.deadline = deadline;
    }

    /// `true` once a run has reached the deadline.
    ///
    /// See [`TimeoutScope`] for an example.
    pub fn expired(&self) -> bool {
        self.expired.load(Ordering::Relaxed)
    }

    /// Awaits `future` until the deadline: its output, or [`Elapsed`] if the
    /// deadline passes first (the future is then dropped). Past the
    /// deadline, fails at once without polling `future`.
    ///
    /// See [`Timeout`] for an example.
    pub async fn run<F: Future>(&self, future: F) -> Result<F::Output, Elapsed> {
        let elapsed = Elapsed {
            deadline: self.deadline,
            scope: self.scope,
        };
        if Instant::now() >= self.deadline {
            self.expired.store(true, Ordering::Relaxed);
            return Err(elapsed);
        }
        ::tokio::time::timeout_at(self.deadline, future)
            .await
            .map_err(|_| {
                self.expired.store(true, Ordering::Relaxed);
                elapsed
            })
    }
}

impl SendContextManager for Timeout {
    type Target = TimeoutScope;
    type Error = core::convert::Infallible;

    async fn enter(&mut self) -> Result<TimeoutScope, Self::Error> {
        self.scope = NEXT_SCOPE.fetch_add(1, Ordering::Relaxed);
        self.expired = false;
        Ok(TimeoutScope {
            deadline: match self.deadline {
                Deadline::After(duration) => Instant::now() + duration,
                Deadline::At(deadline) => deadline,
            },
            scope: self.scope,
            expired: AtomicBool::new(false),
        })
    }

    async fn exit(
        &mut self,
        scope: TimeoutScope,
        outcome: Outcome<'_>,
    ) -> Result<ExitAction, Self::Error> {
        self.expired = scope.expired();
        let own_elapsed = outcome
            .failure()
            .and_then(|failure| failure.downcast_ref::<Elapsed>())
            .is_some_and(|elapsed| elapsed.scope == self.scope);
        Ok(if self.suppress && own_elapsed {
            ExitAction::Suppress
        } else {
            ExitAction::Propagate
        })
    }
}
