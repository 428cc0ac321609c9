//! A task group (Python's `asyncio.TaskGroup`): fan out work, one task
//! fails, the others are cancelled, and the failure surfaces from
//! `async_with!`. Run with `cargo run --example task_group`.

use std::time::{Duration, Instant};

use async_with::async_with;
use async_with::tokio::{TaskFailure, TaskGroup, TaskGroupError};

#[derive(Debug)]
struct JobError(String);

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JobError {}

/// Prints "job N cancelled" if the job is dropped before it finished.
struct CancelReport(u32, bool);

impl Drop for CancelReport {
    fn drop(&mut self) {
        if !self.1 {
            println!("job {} cancelled", self.0);
        }
    }
}

/// Job 3 fails after 50 ms; the others would take 10 s.
async fn job(n: u32) -> Result<u32, JobError> {
    let mut report = CancelReport(n, false);
    if n == 3 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        report.1 = true;
        println!("job 3 fails");
        return Err(JobError("job 3: bad input".into()));
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    report.1 = true;
    Ok(n * n)
}

async fn fan_out() -> Result<Vec<u32>, TaskGroupError<JobError>> {
    let mut group = TaskGroup::new();
    async_with!(tasks = &mut group => {
        for n in 1..=5 {
            tasks.spawn(job(n));
        }
        println!("spawned {} jobs", tasks.len());
    }); // awaits the jobs; the failure of job 3 aborts the others
    Ok(group.into_outputs())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let start = Instant::now();
    let error = fan_out().await.expect_err("job 3 fails");
    println!("error: {error}");
    for failure in error.failures() {
        if let TaskFailure::Failed(JobError(message)) = failure {
            println!("failure: {message}");
        }
    }
    println!("cancelled: {}", error.cancelled());
    let fast = start.elapsed() < Duration::from_secs(5);
    println!("done before the 10 s jobs would have finished: {fast}");
}
