//! One protocol (docs/contract.md, "One protocol"): `async_with!`, `with()`
//! and an exit stack entry give the same guarantees. Every scenario below
//! runs through each entry point and must leave the same log: exit once with
//! the block's outcome on every way out, the panic resumed after exit,
//! `cancel` once when the future is dropped between enter and exit, nothing
//! when it is dropped during enter or during exit.

mod common;

use std::future::{Future, pending};
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use async_with::{AsyncContextManager, AsyncExitStack, ExitAction, Outcome, async_with, with};
use common::{Log, describe, panic_message};

/// The entry points under test.
#[derive(Clone, Copy, Debug)]
enum EntryPoint {
    Macro,
    With,
    /// `stack.enter(manager)` inside `async_with!(stack = AsyncExitStack ..)`.
    ExitStack,
}

const ENTRY_POINTS: [EntryPoint; 3] = [EntryPoint::Macro, EntryPoint::With, EntryPoint::ExitStack];

/// How the block ends.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Block {
    Complete,
    Fail,
    Panic,
    /// Suspends forever: the test drops the future there.
    Suspend,
}

impl Block {
    async fn run(self, target: &mut u8) -> Result<u8, String> {
        match self {
            Block::Complete => Ok(*target),
            Block::Fail => Err("block failed".to_string()),
            Block::Panic => panic!("block panicked"),
            Block::Suspend => pending().await,
        }
    }
}

/// Where the manager's own steps suspend forever.
#[derive(Clone, Copy, PartialEq)]
enum Hang {
    Nowhere,
    Enter,
    Exit,
}

/// Logs `enter`, `exit TARGET OUTCOME` and `cancel TARGET`.
struct Probe {
    log: Log,
    hang: Hang,
}

impl AsyncContextManager for Probe {
    type Target = u8;
    type Error = String;

    async fn enter(&mut self) -> Result<u8, String> {
        if self.hang == Hang::Enter {
            self.log.push("entering hangs");
            pending::<()>().await;
        }
        self.log.push("enter");
        Ok(1)
    }

    async fn exit(&mut self, target: u8, outcome: Outcome<'_>) -> Result<ExitAction, String> {
        if self.hang == Hang::Exit {
            self.log.push("exiting hangs");
            pending::<()>().await;
        }
        self.log
            .push(format!("exit {target} {}", describe(&outcome)));
        Ok(ExitAction::Propagate)
    }

    fn cancel(&mut self, target: u8) {
        self.log.push(format!("cancel {target}"));
    }
}

/// Uses `manager` for `block` through `entry`.
async fn use_through(entry: EntryPoint, manager: Probe, block: Block) -> Result<u8, String> {
    match entry {
        EntryPoint::Macro => Ok(async_with!(target = manager => { block.run(target).await? })),
        EntryPoint::With => with(manager, async |target: &mut u8| block.run(target).await)
            .await
            .map(|value| value.expect("never suppressed")),
        EntryPoint::ExitStack => Ok(async_with!(stack = AsyncExitStack::<String>::default() => {
            let target = stack.enter(manager).await?;
            block.run(target).await?
        })),
    }
}

/// Polls once with a no-op waker, then drops the future.
fn poll_once_then_drop<F: Future>(future: F) -> Poll<F::Output> {
    let mut future = pin!(future);
    future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
}

fn scenario(entry: EntryPoint, hang: Hang, block: Block) -> (Log, Poll<Result<u8, String>>) {
    let log = Log::default();
    let manager = Probe {
        log: log.clone(),
        hang,
    };
    let polled = poll_once_then_drop(use_through(entry, manager, block));
    (log, polled)
}

#[test]
fn a_completed_block_exits_once_with_completed() {
    for entry in ENTRY_POINTS {
        let (log, polled) = scenario(entry, Hang::Nowhere, Block::Complete);
        assert_eq!(polled, Poll::Ready(Ok(1)), "{entry:?}");
        assert_eq!(log.events(), ["enter", "exit 1 completed"], "{entry:?}");
    }
}

#[test]
fn a_failed_block_exits_once_with_the_error_which_then_propagates() {
    for entry in ENTRY_POINTS {
        let (log, polled) = scenario(entry, Hang::Nowhere, Block::Fail);
        assert_eq!(polled, Poll::Ready(Err("block failed".into())), "{entry:?}");
        assert_eq!(
            log.events(),
            ["enter", "exit 1 failed(\"block failed\")"],
            "{entry:?}"
        );
    }
}

#[test]
fn a_panicking_block_exits_once_then_the_same_panic_resumes() {
    for entry in ENTRY_POINTS {
        let log = Log::default();
        let probe = Probe {
            log: log.clone(),
            hang: Hang::Nowhere,
        };
        let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
            poll_once_then_drop(use_through(entry, probe, Block::Panic))
        }));
        let payload = caught.expect_err("the panic resumes");
        assert_eq!(panic_message(&*payload), "block panicked", "{entry:?}");
        assert_eq!(
            log.events(),
            ["enter", "exit 1 panicked(block panicked)"],
            "{entry:?}"
        );
    }
}

#[test]
fn dropped_while_suspended_in_the_block_cancels_exactly_once() {
    for entry in ENTRY_POINTS {
        let (log, polled) = scenario(entry, Hang::Nowhere, Block::Suspend);
        assert!(polled.is_pending(), "{entry:?}");
        assert_eq!(log.events(), ["enter", "cancel 1"], "{entry:?}");
    }
}

#[test]
fn dropped_during_enter_neither_exits_nor_cancels() {
    for entry in ENTRY_POINTS {
        let (log, polled) = scenario(entry, Hang::Enter, Block::Complete);
        assert!(polled.is_pending(), "{entry:?}");
        assert_eq!(log.events(), ["entering hangs"], "{entry:?}");
    }
}

#[test]
fn dropped_during_exit_does_not_cancel_as_well() {
    for entry in ENTRY_POINTS {
        let (log, polled) = scenario(entry, Hang::Exit, Block::Complete);
        assert!(polled.is_pending(), "{entry:?}");
        assert_eq!(log.events(), ["enter", "exiting hangs"], "{entry:?}");
    }
}

/// The reproduction: a pinned `with(..)` future polled once,
/// suspended in the body, then dropped, calls `cancel` once.
#[test]
fn a_pinned_with_future_dropped_mid_body_cancels_once() {
    let log = Log::default();
    {
        let manager = Probe {
            log: log.clone(),
            hang: Hang::Nowhere,
        };
        let mut future = pin!(with(manager, async |_: &mut u8| {
            pending::<Result<(), String>>().await
        }));
        let polled = future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        assert!(polled.is_pending());
        assert_eq!(log.events(), ["enter"]);
    }
    assert_eq!(log.events(), ["enter", "cancel 1"]);
}

/// A standalone exit stack (not itself under `async_with!`), dropped with
/// an entered manager: its scope cancels it.
#[test]
fn a_dropped_exit_stack_entry_cancels_exactly_once() {
    let log = Log::default();
    {
        let stack = AsyncExitStack::<String>::default();
        let manager = Probe {
            log: log.clone(),
            hang: Hang::Nowhere,
        };
        let entered = poll_once_then_drop(stack.enter(manager));
        assert!(matches!(entered, Poll::Ready(Ok(1))));
        assert_eq!(log.events(), ["enter"]);
    }
    assert_eq!(log.events(), ["enter", "cancel 1"]);
}
