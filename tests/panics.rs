//! Panics in enter and exit, in both forms: what runs, and which panic the
//! caller sees. None of these may abort the process.

mod common;

use std::panic::AssertUnwindSafe;

use async_with::{AsyncContextManager, ExitAction, Outcome, async_context, async_with};
use common::{Log, describe};

/// Where a [`Panicky`] manager panics.
#[derive(Clone, Copy, PartialEq)]
enum PanicIn {
    Enter,
    Exit,
}

struct Panicky {
    log: Log,
    panic_in: PanicIn,
}

impl AsyncContextManager for Panicky {
    type Target = ();
    type Error = String;

    async fn enter(&mut self) -> Result<(), String> {
        common::yield_now().await;
        if self.panic_in == PanicIn::Enter {
            panic!("enter panicked");
        }
        self.log.push("enter");
        Ok(())
    }

    async fn exit(&mut self, (): (), outcome: Outcome<'_>) -> Result<ExitAction, String> {
        common::yield_now().await;
        self.log.push(format!("exit saw {}", describe(&outcome)));
        if self.panic_in == PanicIn::Exit {
            panic!("exit panicked");
        }
        Ok(ExitAction::Propagate)
    }

    fn cancel(&mut self, (): ()) {
        self.log.push("cancel");
    }
}

/// How the block ends.
#[derive(Clone, Copy)]
enum Block {
    Completes,
    Fails,
    Panics,
}

async fn scenario(log: &Log, panic_in: PanicIn, block: Block) -> Result<(), String> {
    let manager = Panicky {
        log: log.clone(),
        panic_in,
    };
    async_with!(manager => {
        log.push("block");
        match block {
            Block::Completes => {}
            Block::Fails => Err("block failed".to_string())?,
            Block::Panics => panic!("block panicked"),
        }
    });
    Ok(())
}

/// Runs a scenario that must panic; returns the message and the log.
fn panic_of(panic_in: PanicIn, block: Block) -> (String, Vec<String>) {
    let log = Log::default();
    let payload = std::panic::catch_unwind(AssertUnwindSafe(|| {
        futures_executor::block_on(scenario(&log, panic_in, block))
    }))
    .expect_err("the scenario panics");
    (common::panic_message(&*payload), log.events())
}

#[test]
fn a_panic_in_enter_propagates_and_nothing_else_runs() {
    let (message, events) = panic_of(PanicIn::Enter, Block::Completes);
    assert_eq!(message, "enter panicked");
    assert_eq!(events, Vec::<String>::new(), "no block, no exit, no cancel");
}

#[test]
fn a_panic_in_exit_after_a_completed_block_propagates() {
    let (message, events) = panic_of(PanicIn::Exit, Block::Completes);
    assert_eq!(message, "exit panicked");
    assert_eq!(events, ["enter", "block", "exit saw completed"]);
}

#[test]
fn a_panic_in_exit_after_a_failed_block_replaces_the_failure() {
    let (message, events) = panic_of(PanicIn::Exit, Block::Fails);
    assert_eq!(message, "exit panicked");
    assert_eq!(
        events,
        ["enter", "block", "exit saw failed(\"block failed\")"]
    );
}

#[test]
fn a_panic_in_exit_after_a_panicking_block_surfaces_exit_panic_without_aborting() {
    // Exit runs outside any `Drop`, so its panic is an ordinary second
    // panic after the first was caught: the newer one (exit's) surfaces and
    // the block's payload is dropped, like Python's exception in
    // `__aexit__` replacing the body's.
    let (message, events) = panic_of(PanicIn::Exit, Block::Panics);
    assert_eq!(message, "exit panicked");
    assert_eq!(
        events,
        ["enter", "block", "exit saw panicked(block panicked)"]
    );
}

#[async_context]
async fn generator(log: &Log, panic_in: PanicIn) -> Result<(), String> {
    if panic_in == PanicIn::Enter {
        panic!("setup panicked");
    }
    log.push("setup");
    let ((), exit) = yield_!(());
    log.push(format!("teardown saw {}", exit.inspect(describe)));
    if panic_in == PanicIn::Exit {
        panic!("teardown panicked");
    }
    Ok(())
}

fn generator_panic(panic_in: PanicIn) -> (String, Vec<String>) {
    let log = Log::default();
    let payload = std::panic::catch_unwind(AssertUnwindSafe(|| {
        futures_executor::block_on(async {
            let result: Result<(), String> = async {
                async_with!(generator(&log, panic_in) => { log.push("block") });
                Ok(())
            }
            .await;
            result
        })
    }))
    .expect_err("the generator panics");
    (common::panic_message(&*payload), log.events())
}

#[test]
fn a_panic_in_generator_setup_propagates_without_teardown() {
    let (message, events) = generator_panic(PanicIn::Enter);
    assert_eq!(message, "setup panicked");
    assert_eq!(events, Vec::<String>::new());
}

#[test]
fn a_panic_in_generator_teardown_propagates() {
    let (message, events) = generator_panic(PanicIn::Exit);
    assert_eq!(message, "teardown panicked");
    assert_eq!(events, ["setup", "block", "teardown saw completed"]);
}
