//! The managers of `async_with::tokio` (feature `tokio`) against real
//! sockets, processes, directories, tasks and clocks, on every way out of
//! the block.

mod common;

use std::future::Future;
use std::io;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_with::async_with;
use async_with::tokio::{
    Elapsed, TaskFailure, TaskGroup, TaskGroupError, TcpConnection, TempDir, Timeout,
};
use common::panic_message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Polls `future`, catching a panic of any poll (what `async_with!` does
/// for its block), so a test can look at a manager after a panicking block.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

fn catch_unwind<F: Future>(future: F) -> CatchUnwind<F> {
    CatchUnwind(Box::pin(future))
}

// ---------------------------------------------------------------- TCP

/// A server that reads until EOF, then waits for `release` before closing.
async fn holding_server(
    listener: TcpListener,
    release: tokio::sync::oneshot::Receiver<()>,
) -> io::Result<Vec<u8>> {
    let (mut socket, _) = listener.accept().await?;
    let mut received = Vec::new();
    socket.read_to_end(&mut received).await?;
    let _ = release.await;
    Ok(received)
}

#[tokio::test]
async fn tcp_completed_block_shuts_down_and_drains_what_the_peer_still_sends() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await?;
        let mut received = Vec::new();
        socket.read_to_end(&mut received).await?; // returns on the client's FIN
        // Data sent after the client finished: drained and discarded by exit.
        socket.write_all(&[7; 100_000]).await?;
        io::Result::Ok(received)
    });
    async_with!(conn = TcpConnection::connect(addr) => {
        conn.write_all(b"request").await?;
    });
    assert_eq!(server.await.unwrap()?, b"request");
    Ok(())
}

#[tokio::test]
async fn tcp_completed_block_fails_exit_when_the_peer_never_closes() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (release, released) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(holding_server(listener, released));
    let manager = TcpConnection::connect(addr).drain_timeout(Duration::from_millis(100));
    let result: io::Result<()> = async {
        async_with!(conn = manager => {
            conn.write_all(b"hi").await?;
        });
        Ok(())
    }
    .await;
    let error = result.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    // The shutdown did reach the server before exit gave up.
    release.send(()).unwrap();
    assert_eq!(server.await.unwrap()?, b"hi");
    Ok(())
}

#[derive(Debug, PartialEq)]
struct Protocol(&'static str);

#[derive(Debug)]
#[allow(dead_code)] // `Io` is read through `Debug` in assertion messages.
enum ClientError {
    Io(io::ErrorKind),
    Protocol(Protocol),
}

impl From<io::Error> for ClientError {
    fn from(error: io::Error) -> Self {
        ClientError::Io(error.kind())
    }
}

impl From<Protocol> for ClientError {
    fn from(error: Protocol) -> Self {
        ClientError::Protocol(error)
    }
}

#[tokio::test]
async fn tcp_failed_block_closes_at_once_without_waiting_for_the_peer() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (release, released) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(holding_server(listener, released));
    // A graceful close would wait 30 s for this server.
    let manager = TcpConnection::connect(addr).drain_timeout(Duration::from_secs(30));
    let start = Instant::now();
    let result: Result<(), ClientError> = async {
        async_with!(conn = manager => {
            conn.write_all(b"bad").await?;
            Err(Protocol("unexpected reply"))?;
        });
        Ok(())
    }
    .await;
    assert!(matches!(
        result,
        Err(ClientError::Protocol(Protocol("unexpected reply")))
    ));
    assert!(start.elapsed() < Duration::from_secs(10));
    // Dropping the stream closed it: the server still reads EOF.
    release.send(()).unwrap();
    assert_eq!(server.await.unwrap()?, b"bad");
    Ok(())
}

#[tokio::test]
async fn tcp_panicking_block_closes_at_once_and_the_panic_resumes() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (release, released) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(holding_server(listener, released));
    let manager = TcpConnection::connect(addr).drain_timeout(Duration::from_secs(30));
    let start = Instant::now();
    let result = catch_unwind(async {
        async_with!(conn = manager => {
            conn.write_all(b"boom").await?;
            panic!("client bug");
        });
        io::Result::Ok(())
    })
    .await;
    assert_eq!(panic_message(&*result.unwrap_err()), "client bug");
    assert!(start.elapsed() < Duration::from_secs(10));
    release.send(()).unwrap();
    assert_eq!(server.await.unwrap()?, b"boom");
    Ok(())
}

#[tokio::test]
async fn tcp_connection_refused_is_an_enter_failure() -> io::Result<()> {
    // Bound but not listening: connections are refused, and the port stays
    // ours for the whole test (no other process can take it meanwhile).
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind("127.0.0.1:0".parse().unwrap())?;
    let addr = socket.local_addr()?;
    let mut ran = false;
    let result: io::Result<()> = async {
        async_with!(_conn = TcpConnection::connect(addr) => {
            ran = true;
        });
        Ok(())
    }
    .await;
    assert_eq!(result.unwrap_err().kind(), io::ErrorKind::ConnectionRefused);
    assert!(!ran);
    drop(socket);
    Ok(())
}

// ---------------------------------------------------------------- processes

#[cfg(unix)]
mod process {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;

    use async_with::async_with;
    use async_with::tokio::{ChildProcess, StopBy};
    use tokio::io::{AsyncBufReadExt, BufReader};
    use tokio::process::Command;

    use super::*;

    const SIGTERM: i32 = 15;
    const SIGKILL: i32 = 9;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.arg("-c").arg(script).stdout(Stdio::piped());
        command
    }

    /// Waits for the child to print `ready` (its signal handling is set up).
    async fn ready(child: &mut tokio::process::Child) -> io::Result<()> {
        let stdout = child.stdout.as_mut().unwrap();
        let line = BufReader::new(stdout).lines().next_line().await?;
        assert_eq!(line.as_deref(), Some("ready"));
        Ok(())
    }

    #[tokio::test]
    async fn a_running_child_is_asked_to_stop_with_sigterm_and_reaped() -> io::Result<()> {
        let mut server = ChildProcess::new(sh("echo ready; exec sleep 30"));
        async_with!(child = &mut server => {
            ready(child).await?;
        });
        let stopped = server.stopped().unwrap();
        assert_eq!(stopped.by, StopBy::Terminated);
        assert_eq!(stopped.status.signal(), Some(SIGTERM));
        Ok(())
    }

    #[tokio::test]
    async fn a_child_ignoring_sigterm_is_killed_after_the_stop_timeout() -> io::Result<()> {
        // SIG_IGN survives exec: `sleep` ignores SIGTERM.
        let mut server = ChildProcess::new(sh("trap '' TERM; echo ready; exec sleep 30"))
            .stop_timeout(Duration::from_millis(200));
        let start = Instant::now();
        async_with!(child = &mut server => {
            ready(child).await?;
        });
        let stopped = server.stopped().unwrap();
        assert_eq!(stopped.by, StopBy::Killed);
        assert_eq!(stopped.status.signal(), Some(SIGKILL));
        // Killed only once the stop timeout had passed.
        assert!(start.elapsed() >= Duration::from_millis(200));
        Ok(())
    }

    #[tokio::test]
    async fn a_child_that_already_exited_keeps_its_status() -> io::Result<()> {
        let mut server = ChildProcess::new(sh("exit 3"));
        async_with!(child = &mut server => {
            child.wait().await?;
        });
        let stopped = server.stopped().unwrap();
        assert_eq!(stopped.by, StopBy::Exited);
        assert_eq!(stopped.status.code(), Some(3));
        Ok(())
    }

    #[tokio::test]
    async fn closing_stdin_lets_a_reader_finish() -> io::Result<()> {
        // The child ignores SIGTERM and exits with 7 only when its stdin
        // reaches end-of-file: exit code 7 proves exit closed stdin (had it
        // not, the child would be killed after the stop timeout, SIGKILL).
        let mut command = sh("trap '' TERM; echo ready; cat >/dev/null; exit 7");
        command.stdin(Stdio::piped());
        let mut server = ChildProcess::new(command).stop_timeout(Duration::from_secs(30));
        async_with!(child = &mut server => {
            ready(child).await?;
            assert!(child.stdin.is_some());
        });
        let stopped = server.stopped().unwrap();
        assert_eq!(stopped.status.code(), Some(7), "{stopped:?}");
        assert_ne!(stopped.by, StopBy::Killed);
        Ok(())
    }

    #[tokio::test]
    async fn the_child_is_stopped_after_a_failed_block_and_the_error_propagates() {
        let mut server = ChildProcess::new(sh("echo ready; exec sleep 30"));
        let result: Result<(), ClientError> = async {
            async_with!(child = &mut server => {
                ready(child).await?;
                Err(Protocol("the server said no"))?;
            });
            Ok(())
        }
        .await;
        assert!(matches!(result, Err(ClientError::Protocol(_))));
        assert_eq!(server.stopped().unwrap().by, StopBy::Terminated);
    }

    #[tokio::test]
    async fn the_child_is_stopped_after_a_panicking_block() {
        let mut server = ChildProcess::new(sh("echo ready; exec sleep 30"));
        let result = catch_unwind(async {
            async_with!(child = &mut server => {
                ready(child).await?;
                panic!("test bug");
            });
            io::Result::Ok(())
        })
        .await;
        assert_eq!(panic_message(&*result.unwrap_err()), "test bug");
        assert_eq!(server.stopped().unwrap().by, StopBy::Terminated);
    }

    #[tokio::test]
    async fn a_command_that_cannot_start_is_an_enter_failure() {
        let result: io::Result<()> = async {
            async_with!(_child = ChildProcess::new(Command::new("/nonexistent/async-with")) => {
                unreachable!();
            });
            Ok(())
        }
        .await;
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::NotFound);
    }
}

// ---------------------------------------------------------------- temporary directories

#[tokio::test]
async fn tempdir_exists_in_the_block_and_is_removed_with_its_contents() -> io::Result<()> {
    let path = async_with!(dir = TempDir::new("async-with-test") => {
        assert!(dir.is_dir());
        assert!(dir.starts_with(std::env::temp_dir()));
        tokio::fs::create_dir(dir.join("sub")).await?;
        tokio::fs::write(dir.join("sub/file"), "x").await?;
        dir.to_path_buf()
    });
    assert!(!path.exists());
    Ok(())
}

#[tokio::test]
async fn tempdir_is_removed_after_a_failed_block() {
    let mut seen = None;
    let result: Result<(), ClientError> = async {
        async_with!(dir = TempDir::new("async-with-test") => {
            seen = Some(dir.to_path_buf());
            tokio::fs::write(dir.join("file"), "x").await?;
            Err(Protocol("failed"))?;
        });
        Ok(())
    }
    .await;
    assert!(matches!(result, Err(ClientError::Protocol(_))));
    assert!(!seen.unwrap().exists());
}

#[tokio::test]
async fn tempdir_is_removed_after_a_panicking_block() {
    let mut seen = None;
    let result = catch_unwind(async {
        async_with!(dir = TempDir::new("async-with-test") => {
            seen = Some(dir.to_path_buf());
            panic!("in the block");
        });
        io::Result::Ok(())
    })
    .await;
    assert_eq!(panic_message(&*result.unwrap_err()), "in the block");
    assert!(!seen.unwrap().exists());
}

#[tokio::test]
async fn tempdir_is_removed_when_the_block_is_cancelled() {
    let (entered, in_block) = tokio::sync::oneshot::channel();
    let mut entered = Some(entered);
    let block = async {
        async_with!(dir = TempDir::new("async-with-test") => {
            let _ = entered.take().unwrap().send(dir.to_path_buf());
            std::future::pending::<()>().await;
        });
        io::Result::Ok(())
    };
    // Drop the block as soon as it is inside, with the directory created.
    let path = tokio::select! {
        _ = block => unreachable!("the block never ends"),
        path = in_block => path.unwrap(),
    };
    assert!(!path.exists(), "the cancel hook removed {}", path.display());
}

#[tokio::test]
async fn tempdirs_are_distinct_and_a_removed_one_is_fine() -> io::Result<()> {
    async_with!(parent = TempDir::new("async-with-test") => {
        let parent_path = parent.to_path_buf();
        async_with!(a = TempDir::in_dir(&parent_path, "x"), b = TempDir::in_dir(&parent_path, "x") => {
            assert_ne!(**a, **b);
            assert_eq!(a.parent(), Some(&*parent_path));
            tokio::fs::remove_dir(&**b).await?; // exit tolerates it
        });
        let mut left = tokio::fs::read_dir(&parent_path).await?;
        assert!(left.next_entry().await?.is_none());
    });
    Ok(())
}

/// Many directories with one prefix, created at once from several worker
/// threads: every name is distinct, and every directory is removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tempdirs_with_one_prefix_never_collide() -> io::Result<()> {
    async_with!(parent = TempDir::new("async-with-test") => {
        let parent_path = parent.to_path_buf();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..32 {
            let parent_path = parent_path.clone();
            tasks.spawn(async move {
                let path = async_with!(dir = TempDir::in_dir(parent_path, "same") => {
                    // Held open while the others are created.
                    tokio::task::yield_now().await;
                    dir.to_path_buf()
                });
                io::Result::Ok(path)
            });
        }
        let mut paths = std::collections::HashSet::new();
        while let Some(path) = tasks.join_next().await {
            let path = path.expect("no task panics")?;
            assert!(!path.exists(), "{} was left behind", path.display());
            assert!(paths.insert(path), "two directories had the same name");
        }
        assert_eq!(paths.len(), 32);
    });
    Ok(())
}

/// On unix only the owner may enter, list or write the directory.
#[cfg(unix)]
#[tokio::test]
async fn tempdir_is_private_to_its_owner() -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    async_with!(dir = TempDir::new("async-with-test") => {
        let mode = tokio::fs::metadata(&**dir).await?.permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "mode {:o}", mode & 0o777);
    });
    Ok(())
}

/// A directory that already exists under a name the prefix could produce is
/// never taken over: enter creates a new, empty directory every time.
#[tokio::test]
async fn tempdir_never_reuses_an_existing_path() -> io::Result<()> {
    async_with!(parent = TempDir::new("async-with-test") => {
        let parent_path = parent.to_path_buf();
        let mut planted = Vec::new();
        for i in 0..20 {
            let path = parent_path.join(format!("fixture{i}"));
            tokio::fs::create_dir(&path).await?;
            tokio::fs::write(path.join("planted"), "not yours").await?;
            planted.push(path);
        }
        for _ in 0..20 {
            async_with!(dir = TempDir::in_dir(&parent_path, "fixture") => {
                assert!(!planted.iter().any(|path| path == &**dir));
                let mut entries = tokio::fs::read_dir(&**dir).await?;
                assert!(entries.next_entry().await?.is_none(), "a fresh directory is empty");
            });
        }
        // The planted directories are untouched by the exits.
        for path in &planted {
            assert_eq!(tokio::fs::read_to_string(path.join("planted")).await?, "not yours");
        }
    });
    Ok(())
}

// ---------------------------------------------------------------- task groups

#[derive(Debug, PartialEq)]
struct JobError(u32);

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "job {} failed", self.0)
    }
}

impl std::error::Error for JobError {}

/// Counts the jobs dropped before they finished.
#[derive(Clone, Default)]
struct Cancellations(Arc<AtomicUsize>);

struct Guard(Cancellations, bool);

impl Guard {
    fn finished(mut self) {
        self.1 = true;
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.1 {
            (self.0).0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Cancellations {
    fn slow_job(&self, value: u32) -> impl Future<Output = Result<u32, JobError>> + use<> {
        let guard = Guard(self.clone(), false);
        async move {
            tokio::time::sleep(Duration::from_secs(30)).await;
            guard.finished();
            Ok(value)
        }
    }

    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// On a paused clock, so the finish order is the order of the deadlines,
/// whatever the machine's load.
#[tokio::test(start_paused = true)]
async fn task_group_awaits_every_task_and_keeps_their_outputs()
-> Result<(), TaskGroupError<JobError>> {
    let mut group = TaskGroup::new();
    async_with!(tasks = &mut group => {
        for n in 1..=4_u32 {
            tasks.spawn(async move {
                tokio::time::sleep(Duration::from_millis(10 * u64::from(5 - n))).await;
                Ok(n)
            });
        }
    });
    // All awaited; in the order they finished (the shortest sleep first).
    assert_eq!(group.outputs(), [4, 3, 2, 1]);
    Ok(())
}

#[tokio::test]
async fn task_group_aborts_the_others_when_one_task_fails() {
    let cancellations = Cancellations::default();
    let start = Instant::now();
    let result: Result<(), TaskGroupError<JobError>> = async {
        async_with!(tasks = TaskGroup::new() => {
            for n in 0..3 {
                tasks.spawn(cancellations.slow_job(n));
            }
            tasks.spawn(async { Err(JobError(9)) });
        });
        Ok(())
    }
    .await;
    let error = result.unwrap_err();
    assert!(matches!(
        error.failures(),
        [TaskFailure::Failed(JobError(9))]
    ));
    assert_eq!(error.cancelled(), 3);
    assert_eq!(error.block_failure(), None);
    assert_eq!(
        error.to_string(),
        "1 task failed (3 cancelled): job 9 failed"
    );
    assert_eq!(cancellations.count(), 3);
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn task_group_keeps_every_failure_and_panic() {
    let result: Result<(), TaskGroupError<JobError>> = async {
        async_with!(tasks = TaskGroup::new() => {
            tasks.spawn(async { Err::<(), _>(JobError(1)) });
            tasks.spawn(async { Err(JobError(2)) });
            tasks.spawn(async { panic!("job 3 panicked") });
            // Let all three finish before exit starts joining.
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
        });
        Ok(())
    }
    .await;
    let error = result.unwrap_err();
    let mut errors: Vec<u32> = Vec::new();
    let mut panics: Vec<String> = Vec::new();
    for failure in error.into_failures() {
        match failure {
            TaskFailure::Failed(JobError(n)) => errors.push(n),
            TaskFailure::Panicked(panic) => panics.push(panic.message().unwrap().to_string()),
            _ => unreachable!(),
        }
    }
    errors.sort();
    assert_eq!(errors, [1, 2]);
    assert_eq!(panics, ["job 3 panicked"]);
}

#[tokio::test]
async fn task_group_aborts_every_task_when_the_block_fails_and_the_block_error_propagates() {
    let cancellations = Cancellations::default();
    let start = Instant::now();
    let result: Result<(), Box<dyn std::error::Error>> = async {
        async_with!(tasks = TaskGroup::new() => {
            tasks.spawn(cancellations.slow_job(1));
            tasks.spawn(cancellations.slow_job(2));
            "not a number".parse::<u32>()?;
        });
        Ok(())
    }
    .await;
    let error = result.unwrap_err();
    assert!(error.is::<std::num::ParseIntError>(), "{error}");
    assert_eq!(cancellations.count(), 2);
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn task_group_error_replaces_a_block_failure_and_describes_it() {
    let result: Result<(), Box<dyn std::error::Error>> = async {
        async_with!(tasks = TaskGroup::new() => {
            tasks.spawn(async { Err::<(), _>(JobError(1)) });
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
            Err(JobError(0))?;
        });
        Ok(())
    }
    .await;
    let error = result.unwrap_err();
    let error = error.downcast_ref::<TaskGroupError<JobError>>().unwrap();
    assert_eq!(error.block_failure(), Some("failed(job 0 failed)"));
    assert!(matches!(
        error.failures(),
        [TaskFailure::Failed(JobError(1))]
    ));
    let source = std::error::Error::source(error).unwrap();
    assert_eq!(source.to_string(), "job 1 failed");
}

#[tokio::test]
async fn task_group_aborts_every_task_when_the_block_panics() {
    let cancellations = Cancellations::default();
    let result = catch_unwind(async {
        async_with!(tasks = TaskGroup::<u32, JobError>::new() => {
            tasks.spawn(cancellations.slow_job(1));
            panic!("block panicked");
        });
        Ok::<(), TaskGroupError<JobError>>(())
    })
    .await;
    assert_eq!(panic_message(&*result.unwrap_err()), "block panicked");
    assert_eq!(cancellations.count(), 1);
}

// ---------------------------------------------------------------- timeouts

#[tokio::test(start_paused = true)]
async fn timeout_runs_share_one_deadline() -> Result<(), Elapsed> {
    let mut manager = Timeout::after(Duration::from_millis(300));
    let result: Result<(), Elapsed> = async {
        async_with!(scope = &mut manager => {
            let deadline = scope.deadline();
            // Each run alone is within 300 ms; together they are not.
            for _ in 0..10 {
                scope.run(tokio::time::sleep(Duration::from_millis(100))).await?;
                assert_eq!(scope.deadline(), deadline);
            }
        });
        Ok(())
    }
    .await;
    let elapsed = result.unwrap_err();
    assert!(manager.expired());
    assert!(tokio::time::Instant::now() >= elapsed.deadline());
    Ok(())
}

#[tokio::test]
async fn timeout_run_past_the_deadline_fails_without_polling() {
    let result: Result<(), Elapsed> = async {
        async_with!(scope = Timeout::after(Duration::ZERO) => {
            scope.run(async { panic!("polled past the deadline") }).await?;
        });
        Ok(())
    }
    .await;
    assert!(result.is_err());
}

#[tokio::test]
async fn timeout_within_the_deadline_gives_the_value() -> Result<(), Elapsed> {
    let mut manager = Timeout::after(Duration::from_secs(30));
    let value = async_with!(scope = &mut manager => {
        scope.run(async { 42 }).await?
    });
    assert_eq!(value, 42);
    assert!(!manager.expired());
    Ok(())
}

#[tokio::test]
async fn move_on_after_suppresses_its_own_elapsed_only() {
    let mut outer = Timeout::move_on_after(Duration::from_millis(50));
    let mut inner = Timeout::move_on_after(Duration::from_secs(30));
    let mut after_inner = false;
    let mut after_outer = false;
    let result: Result<(), Elapsed> = async {
        async_with!(outer_scope = &mut outer => {
            async_with!(_inner_scope = &mut inner => {
                // The outer deadline passes; the inner scope does not own it.
                outer_scope.run(std::future::pending::<()>()).await?;
            });
            after_inner = true;
        });
        after_outer = true;
        Ok(())
    }
    .await;
    assert!(result.is_ok());
    assert!(!after_inner);
    assert!(after_outer);
    assert!(outer.expired());
    assert!(!inner.expired());
}

#[tokio::test]
async fn reschedule_moves_the_deadline_for_later_runs() -> Result<(), Elapsed> {
    async_with!(scope = Timeout::after(Duration::ZERO) => {
        assert!(scope.run(async {}).await.is_err());
        scope.reschedule(tokio::time::Instant::now() + Duration::from_secs(30));
        scope.run(async {}).await?;
    });
    Ok(())
}
