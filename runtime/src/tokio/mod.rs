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

mod cancelled;
mod process;
mod task_group;
mod tcp;
mod tempdir;
mod timeout;

pub use cancelled::{
    CancelledExits, DEFAULT_CANCELLED_EXIT_DEADLINE, ExitOnCancel, cancelled_exits, exit_on_cancel,
    spawn_exit, wait_for_cancelled_exits,
};
pub use process::{ChildProcess, StopBy, Stopped};
pub use task_group::{TaskFailure, TaskGroup, TaskGroupError, TaskPanic, Tasks};
pub use tcp::TcpConnection;
pub use tempdir::{TempDir, TempPath};
pub use timeout::{Elapsed, Timeout, TimeoutScope};
