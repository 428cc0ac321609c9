//! Real resources on [tokio](https://tokio.rs) as managers (feature `tokio`).
//!
//! | manager | target the block borrows | exit |
//! |---|---|---|
//! | [`TcpConnection`] | [`TcpStream`](::tokio::net::TcpStream) | completed: shut down writes, drain reads until the peer closes (bounded); failed or panicked: close at once |
//! | [`ChildProcess`] | [`Child`](::tokio::process::Child) | close stdin, ask to stop (`SIGTERM` on unix), wait (bounded), kill if needed, always reap |
//! | [`TempDir`] | [`TempPath`] | remove the directory and everything in it |
//! | [`TaskGroup`] | [`Tasks`] | await every task; on any failure abort the rest and report every failure |
//! | [`exit_on_cancel`]`(manager)` | the manager's | the manager's, and after a cancellation, awaited on the runtime with `Outcome::Cancelled`, bounded |
//! | [`Timeout`] | [`TimeoutScope`] | a [`run`](TimeoutScope::run) past the deadline fails the block with [`Elapsed`]; [`Timeout::move_on_after`] suppresses it |
//! | `&Mutex<T>`, [`read_lock`], [`write_lock`], `&Semaphore`, `Arc<Semaphore>`, [`permits`], [`owned_permits`] | the guard or permit | release it (see "Locks and semaphores") |
//!
//! The core of the crate needs no runtime; only this module does. Every
//! manager here must be used inside a tokio runtime with the I/O and time
//! drivers enabled (`Builder::enable_all`, or `#[tokio::main]`).
//!
//! # When the future running the block is dropped
//!
//! Exit is async, so it cannot run inside the drop of the future holding
//! the block (a `select!` that lost, an aborted task, a client that hung
//! up). The manager's synchronous
//! [`cancel`](crate::AsyncContextManager::cancel) hook runs there instead,
//! documented on each manager: the temporary directory is removed with a
//! blocking `remove_dir_all`; the others leave it to the resource's own
//! `Drop`: the TCP stream is closed by the kernel without draining, the
//! child is killed by tokio (`kill_on_drop`) and reaped in the background,
//! the tasks of a group are aborted without being awaited.
//!
//! To have the async exit instead, wrap the manager once:
//! [`exit_on_cancel(manager)`](exit_on_cancel). Its hook moves the manager
//! and its target into a task on the current runtime that awaits exit with
//! [`Outcome::Cancelled`](crate::Outcome::Cancelled), under a deadline
//! ([`DEFAULT_CANCELLED_EXIT_DEADLINE`], 5 s, or
//! [`ExitOnCancel::deadline`]). What runs, when, and what is given up:
//!
//! | when | what happens |
//! |---|---|
//! | the block's future is dropped after enter, before exit started | the task is spawned at once, in the drop (no allocation before that) |
//! | the exit ends | counted in [`cancelled_exits`] as completed or failed (its error has no caller left) |
//! | the deadline passes | the exit's future is dropped, counted as timed out (a `tracing` warning with feature `tracing`) |
//! | the runtime shuts down first | the task is dropped; counted as abandoned, a `tracing` warning with feature `tracing`; [`wait_for_cancelled_exits`] before shutdown waits for them, bounded |
//! | no runtime at the drop | the manager's own `cancel` runs; counted as abandoned |
//!
//! ```
//! use async_with::async_with;
//! use async_with::tokio::{TaskGroup, TempDir};
//!
//! async fn run() -> Result<usize, Box<dyn std::error::Error>> {
//!     let mut group = TaskGroup::<usize, std::io::Error>::new();
//!     async_with!(dir = TempDir::new("example"), tasks = &mut group => {
//!         for i in 0..3 {
//!             let file = dir.join(format!("{i}.txt"));
//!             tasks.spawn(async move {
//!                 tokio::fs::write(&file, "x".repeat(i)).await?;
//!                 Ok(tokio::fs::read(&file).await?.len())
//!             });
//!         }
//!     }); // every task awaited, then the directory removed
//!     Ok(group.outputs().iter().sum())
//! }
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! assert_eq!(runtime.block_on(run()).unwrap(), 0 + 1 + 2);
//! ```
//!
//! # Locks and semaphores
//!
//! tokio's [`Mutex`](::tokio::sync::Mutex), [`RwLock`](::tokio::sync::RwLock)
//! and [`Semaphore`](::tokio::sync::Semaphore) are managers, Python's
//! `async with lock:`:
//!
//! | manager | target the block borrows | error of enter |
//! |---|---|---|
//! | `&Mutex<T>` | [`MutexGuard<'_, T>`](::tokio::sync::MutexGuard) | [`Infallible`](core::convert::Infallible) |
//! | [`read_lock`]`(&rwlock)` | [`RwLockReadGuard<'_, T>`](::tokio::sync::RwLockReadGuard) | [`Infallible`](core::convert::Infallible) |
//! | [`write_lock`]`(&rwlock)` | [`RwLockWriteGuard<'_, T>`](::tokio::sync::RwLockWriteGuard) | [`Infallible`](core::convert::Infallible) |
//! | `&Semaphore` | [`SemaphorePermit<'_>`](::tokio::sync::SemaphorePermit) | [`AcquireError`](::tokio::sync::AcquireError) (closed) |
//! | `Arc<Semaphore>` | [`OwnedSemaphorePermit`](::tokio::sync::OwnedSemaphorePermit) | [`AcquireError`](::tokio::sync::AcquireError) (closed) |
//! | [`permits`]`(&semaphore, n)` | [`SemaphorePermit<'_>`](::tokio::sync::SemaphorePermit) holding `n` | [`AcquireError`](::tokio::sync::AcquireError) (closed) |
//! | [`owned_permits`]`(arc, n)` | [`OwnedSemaphorePermit`](::tokio::sync::OwnedSemaphorePermit) holding `n` | [`AcquireError`](::tokio::sync::AcquireError) (closed) |
//!
//! Enter waits for the lock or the permits; the guard or permit is the
//! target, and it is released on every way out of the block: exit drops
//! it, and if the future running the block is dropped, the default
//! [`cancel`](crate::AsyncContextManager::cancel) hook drops it. A future
//! dropped while still *waiting* (a timeout, a `select!` that lost) leaves
//! the queue, as tokio's own `lock().await` does; nothing is held.
//!
//! All of them are [`SendContextManager`](crate::SendContextManager)s (for a `T: Send`, and for the
//! `RwLock`s a `T: Send + Sync`), so a block using them can be
//! `tokio::spawn`ed, and they go into a `Send` exit stack
//! ([`AsyncExitStack::new_send`](crate::AsyncExitStack::new_send)).
//!
//! Exit sees the block's outcome and releases whatever it is, as Python's
//! does. To act on a failure while still holding the lock
//! (Python's pattern of marking shared state as broken), wrap the manager
//! in a manager of your own and look at the outcome before releasing:
//!
//! ```
//! use async_with::{async_with, ExitAction, Outcome, SendContextManager};
//! use std::convert::Infallible;
//! use tokio::sync::{Mutex, MutexGuard};
//!
//! struct Ledger { balance: i64, poisoned: bool }
//!
//! /// `&Mutex<Ledger>`, and a ledger left half-updated by a failed block
//! /// is marked as poisoned before the lock is released.
//! struct Poisoning<'a>(&'a Mutex<Ledger>);
//!
//! impl<'a> SendContextManager for Poisoning<'a> {
//!     type Target = MutexGuard<'a, Ledger>;
//!     type Error = Infallible;
//!     async fn enter(&mut self) -> Result<Self::Target, Infallible> {
//!         SendContextManager::enter(&mut self.0).await
//!     }
//!     async fn exit(&mut self, mut guard: Self::Target, outcome: Outcome<'_>) -> Result<ExitAction, Infallible> {
//!         if !outcome.is_completed() {
//!             guard.poisoned = true;
//!         }
//!         SendContextManager::exit(&mut self.0, guard, outcome).await
//!     }
//! }
//!
//! async fn withdraw(ledger: &Mutex<Ledger>, amount: i64) -> Result<(), String> {
//!     async_with!(ledger = Poisoning(ledger) => {
//!         ledger.balance -= amount;
//!         if ledger.balance < 0 {
//!             return Err(format!("overdrawn by {}", -ledger.balance));
//!         }
//!     });
//!     Ok(())
//! }
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! runtime.block_on(async {
//!     let ledger = Mutex::new(Ledger { balance: 10, poisoned: false });
//!     assert_eq!(withdraw(&ledger, 4).await, Ok(()));
//!     assert!(!ledger.lock().await.poisoned);
//!     assert_eq!(withdraw(&ledger, 10).await, Err("overdrawn by 4".to_string()));
//!     let ledger = ledger.try_lock().expect("released after the failure");
//!     assert!(ledger.poisoned);
//! });
//! ```

mod cancelled;
mod primitives;
mod process;
mod task_group;
mod tcp;
mod tempdir;
mod timeout;

pub use cancelled::{
    CancelledExits, DEFAULT_CANCELLED_EXIT_DEADLINE, ExitOnCancel, cancelled_exits, exit_on_cancel,
    spawn_exit, wait_for_cancelled_exits,
};
pub use primitives::{
    OwnedPermits, Permits, ReadLock, WriteLock, owned_permits, permits, read_lock, write_lock,
};
pub use process::{ChildProcess, StopBy, Stopped};
pub use task_group::{TaskFailure, TaskGroup, TaskGroupError, TaskPanic, Tasks};
pub use tcp::TcpConnection;
pub use tempdir::{TempDir, TempPath};
pub use timeout::{Elapsed, Timeout, TimeoutScope};
