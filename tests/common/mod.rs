//! Test managers that record what happens to them.
#![allow(dead_code)]

use std::cell::RefCell;
use std::convert::Infallible;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use async_with::{AsyncContextManager, ExitAction, Outcome};

/// A shared event log.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, event: impl Into<String>) {
        self.0.lock().unwrap().push(event.into());
    }

    pub fn events(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// What a [`Recorder`] does at exit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OnExit {
    Propagate,
    Suppress,
    Fail,
}

/// Error of a [`Recorder`]: which manager failed, and in which step.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagerError {
    pub name: &'static str,
    pub step: &'static str,
    /// For exit failures: what the exit saw (`Display` of the outcome).
    pub saw: Option<String>,
}

impl std::fmt::Display for ManagerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed to {}", self.name, self.step)
    }
}

impl std::error::Error for ManagerError {}

/// Renders an outcome as a log entry: `completed`, `failed(<error>)`,
/// `panicked(<message>)`.
pub fn describe(outcome: &Outcome<'_>) -> String {
    match outcome {
        Outcome::Completed => "completed".to_string(),
        Outcome::Failed(failure) => format!("failed({failure})"),
        Outcome::Panicked(panic) => format!("panicked({})", panic.message().unwrap_or("?")),
        Outcome::Cancelled => "cancelled".to_string(),
        _ => "other".to_string(),
    }
}

/// A manager that logs `enter NAME` and `exit NAME: OUTCOME`, and can fail
/// either step or suppress.
pub struct Recorder {
    pub name: &'static str,
    pub log: Log,
    pub fail_enter: bool,
    pub on_exit: OnExit,
}

impl Recorder {
    pub fn new(name: &'static str, log: &Log) -> Self {
        Recorder {
            name,
            log: log.clone(),
            fail_enter: false,
            on_exit: OnExit::Propagate,
        }
    }

    pub fn failing_enter(mut self) -> Self {
        self.fail_enter = true;
        self
    }

    pub fn on_exit(mut self, on_exit: OnExit) -> Self {
        self.on_exit = on_exit;
        self
    }
}

impl AsyncContextManager for Recorder {
    type Target = String;
    type Error = ManagerError;

    async fn enter(&mut self) -> Result<String, ManagerError> {
        yield_now().await;
        if self.fail_enter {
            self.log.push(format!("enter {} failed", self.name));
            return Err(ManagerError {
                name: self.name,
                step: "enter",
                saw: None,
            });
        }
        self.log.push(format!("enter {}", self.name));
        Ok(format!("{}-target", self.name))
    }

    async fn exit(
        &mut self,
        target: String,
        outcome: Outcome<'_>,
    ) -> Result<ExitAction, ManagerError> {
        yield_now().await;
        let saw = describe(&outcome);
        self.log
            .push(format!("exit {} ({target}): {saw}", self.name));
        match self.on_exit {
            OnExit::Propagate => Ok(ExitAction::Propagate),
            OnExit::Suppress => Ok(ExitAction::Suppress),
            OnExit::Fail => Err(ManagerError {
                name: self.name,
                step: "exit",
                saw: Some(saw),
            }),
        }
    }
}

/// An infallible manager that counts its enters and exits.
#[derive(Default)]
pub struct Counter {
    pub entered: Rc<RefCell<u32>>,
    pub exited: Rc<RefCell<u32>>,
}

impl AsyncContextManager for Counter {
    type Target = u32;
    type Error = Infallible;

    async fn enter(&mut self) -> Result<u32, Infallible> {
        *self.entered.borrow_mut() += 1;
        Ok(0)
    }

    async fn exit(&mut self, _: u32, _: Outcome<'_>) -> Result<ExitAction, Infallible> {
        *self.exited.borrow_mut() += 1;
        Ok(ExitAction::Propagate)
    }
}

/// Returns `Pending` once (after waking itself), so every step really
/// suspends.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

/// Runs a future on both executors the crate supports: the runtime-free
/// `block_on` and tokio's current-thread runtime. Returns the first result
/// after checking both agree.
pub fn run_both<F, T>(make: impl Fn() -> F) -> T
where
    F: std::future::Future<Output = T>,
    T: PartialEq + std::fmt::Debug,
{
    let plain = futures_executor::block_on(make());
    let tokio = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(make());
    assert_eq!(plain, tokio, "the two executors disagree");
    plain
}

/// An infallible manager that logs `enter quiet` and `exit quiet: OUTCOME`.
pub struct Quiet {
    pub log: Log,
}

impl Quiet {
    pub fn new(log: &Log) -> Self {
        Quiet { log: log.clone() }
    }
}

impl AsyncContextManager for Quiet {
    type Target = ();
    type Error = Infallible;

    async fn enter(&mut self) -> Result<(), Infallible> {
        yield_now().await;
        self.log.push("enter quiet");
        Ok(())
    }

    async fn exit(&mut self, _: (), outcome: Outcome<'_>) -> Result<ExitAction, Infallible> {
        yield_now().await;
        self.log.push(format!("exit quiet: {}", describe(&outcome)));
        Ok(ExitAction::Propagate)
    }
}

/// The message of a panic payload (`panic!` with a literal or a formatted
/// string); empty for any other payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|message| message.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Polls a future to completion with a no-op waker: no runtime and no
/// allocation of its own (the futures it runs wake themselves, or are ready
/// at once).
pub fn poll_to_end<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}
