//! A child process started on enter and stopped on exit.

use std::io;
use std::process::ExitStatus;
use std::time::Duration;

use ::tokio::process::{Child, Command};

use crate::{ExitAction, Outcome, SendContextManager};

/// A child process, started on enter and stopped on exit: a "start a server
/// for this test" fixture. The target is the running
/// [`Child`](::tokio::process::Child), whose pipes the block can use.
///
/// Exit, on every way out of the block:
///
/// 1. if the child has already exited (the block waited for it, or it
///    crashed), records its status: [`StopBy::Exited`];
/// 2. otherwise asks it to stop: closes its stdin if it was piped, and on
///    unix sends `SIGTERM`; waits up to
///    [`stop_timeout`](ChildProcess::stop_timeout) (5 s by default):
///    [`StopBy::Terminated`];
/// 3. if it is still running, kills it (`SIGKILL` on unix,
///    `TerminateProcess` on Windows) and waits: [`StopBy::Killed`].
///
/// The child is always reaped; how it stopped is then in
/// [`stopped`](ChildProcess::stopped). Exit fails only if the operating
/// system refuses a step; its exit status is reported, never judged.
///
/// The command is spawned with tokio's `kill_on_drop(true)`: if the future
/// running the block is dropped (or a step of exit fails), dropping the
/// `Child` kills the process at once, and tokio reaps it in the background
/// (best effort, without the polite step).
///
/// ```
/// # #[cfg(unix)] {
/// use async_with::async_with;
/// use async_with::tokio::{ChildProcess, StopBy};
/// use tokio::process::Command;
///
/// async fn run() -> std::io::Result<StopBy> {
///     let mut command = Command::new("sleep");
///     command.arg("30");
///     let mut server = ChildProcess::new(command);
///     async_with!(child = &mut server => {
///         assert!(child.id().is_some()); // running
///     }); // SIGTERM, then reaped
///     Ok(server.stopped().unwrap().by)
/// }
///
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// assert_eq!(runtime.block_on(run()).unwrap(), StopBy::Terminated);
/// # }
/// ```
#[derive(Debug)]
pub struct ChildProcess {
    command: Command,
    stop_timeout: Duration,
    stopped: Option<Stopped>,
}

/// How the child of a [`ChildProcess`] stopped, recorded by exit.
///
/// ```
/// use async_with::tokio::{StopBy, Stopped};
///
/// fn describe(stopped: &Stopped) -> String {
///     format!("{:?} with {}", stopped.by, stopped.status)
/// }
/// # let _ = describe;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stopped {
    /// The status the child was reaped with.
    pub status: ExitStatus,
    /// What made it stop.
    pub by: StopBy,
}

/// What made the child of a [`ChildProcess`] stop.
///
/// ```
/// assert_ne!(async_with::tokio::StopBy::Exited, async_with::tokio::StopBy::Killed);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StopBy {
    /// It had exited by itself before exit began.
    Exited,
    /// It stopped when asked (stdin closed, `SIGTERM` on unix).
    Terminated,
    /// It was still running after the stop timeout, and was killed.
    Killed,
}

impl ChildProcess {
    /// A manager that spawns `command` on enter (a failure to spawn is an
    /// enter failure). Its stdio settings are kept; `kill_on_drop` is set.
    ///
    /// ```
    /// use std::process::Stdio;
    /// use tokio::process::Command;
    ///
    /// let mut command = Command::new("cat");
    /// command.stdin(Stdio::piped()).stdout(Stdio::piped());
    /// let manager = async_with::tokio::ChildProcess::new(command);
    /// # drop(manager);
    /// ```
    pub fn new(command: impl Into<Command>) -> Self {
        let mut command = command.into();
        command.kill_on_drop(true);
        ChildProcess {
            command,
            stop_timeout: Duration::from_secs(5),
            stopped: None,
        }
    }

    /// How long exit waits for the child to stop when asked, before killing
    /// it. 5 s by default.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let manager = async_with::tokio::ChildProcess::new(tokio::process::Command::new("sleep"))
    ///     .stop_timeout(Duration::from_millis(200));
    /// # drop(manager);
    /// ```
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = timeout;
        self
    }

    /// How the last child stopped, once exit has reaped it.
    ///
    /// ```
    /// let manager = async_with::tokio::ChildProcess::new(tokio::process::Command::new("true"));
    /// assert!(manager.stopped().is_none()); // not started yet
    /// ```
    pub fn stopped(&self) -> Option<Stopped> {
        self.stopped
    }
}

impl SendContextManager for ChildProcess {
    type Target = Child;
    type Error = io::Error;

    async fn enter(&mut self) -> io::Result<Child> {
        self.stopped = None;
        self.command.spawn()
    }

    async fn exit(&mut self, mut child: Child, _outcome: Outcome<'_>) -> io::Result<ExitAction> {
        self.stopped = Some(stop(&mut child, self.stop_timeout).await?);
        Ok(ExitAction::Propagate)
    }
}

/// Stops and reaps `child`; see [`ChildProcess`].
async fn stop(child: &mut Child, timeout: Duration) -> io::Result<Stopped> {
    if let Some(status) = child.try_wait()? {
        return Ok(Stopped {
            status,
            by: StopBy::Exited,
        });
    }
    drop(child.stdin.take());
    #[cfg(unix)]
    if let Some(pid) = child.id() {
        terminate(pid)?;
    }
    if let Ok(status) = ::tokio::time::timeout(timeout, child.wait()).await {
        return Ok(Stopped {
            status: status?,
            by: StopBy::Terminated,
        });
    }
    child.start_kill()?;
    Ok(Stopped {
        status: child.wait().await?,
        by: StopBy::Killed,
    })
}

/// Sends `SIGTERM` to the child `pid`.
#[cfg(unix)]
fn terminate(pid: u32) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    // SAFETY: kill(2) reads no memory of ours. `pid` is a child that has not
    // been reaped (tokio gives its id only until then), so it cannot name
    // another process.
    if unsafe { libc::kill(pid, libc::SIGTERM) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
