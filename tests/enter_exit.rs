//! Entering and exiting (docs/contract.md, "Entering and exiting" and
//! "Exactly once"): a failed enter runs neither block nor exit, a completed
//! block gives exit `Completed` and the macro its value, and every manager
//! that entered exits exactly once on every way out. The tests run on the
//! runtime-free executor, and all but the exactly-once one on tokio too.

#[path = "common/app_error.rs"]
mod app_error;
mod common;

use app_error::AppError;
use async_with::async_with;
use common::{Counter, Log, ManagerError, Recorder, run_both};

#[test]
fn enter_fails_block_and_exit_never_run() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let ran = std::cell::Cell::new(false);
        let result: Result<u32, AppError> = async {
            let value = async_with!(_conn = Recorder::new("a", &log).failing_enter() => {
                ran.set(true);
                1
            });
            Ok(value)
        }
        .await;
        assert!(!ran.get(), "the block ran although enter failed");
        (result, log.events())
    });
    assert_eq!(
        result,
        Err(AppError::Manager(ManagerError {
            name: "a",
            step: "enter",
            saw: None
        }))
    );
    assert_eq!(events, ["enter a failed"]);
}

#[test]
fn block_completes_exit_sees_completed_and_value_is_returned() {
    let (value, events) = run_both(|| async {
        let log = Log::default();
        let value: Result<usize, AppError> = async {
            Ok(async_with!(conn = Recorder::new("a", &log) => {
                common::yield_now().await;
                conn.len()
            }))
        }
        .await;
        (value, log.events())
    });
    assert_eq!(value, Ok("a-target".len()));
    assert_eq!(events, ["enter a", "exit a (a-target): completed"]);
}

async fn unit_fn(log: &Log) {
    async_with!(_quiet = common::Quiet::new(log) => {
        log.push("in unit fn");
    });
}

#[test]
fn infallible_managers_work_in_functions_returning_unit() {
    let events = run_both(|| async {
        let log = Log::default();
        unit_fn(&log).await;
        log.events()
    });
    assert_eq!(
        events,
        ["enter quiet", "in unit fn", "exit quiet: completed"]
    );
}

#[test]
fn every_entered_manager_exits_exactly_once_on_every_path() {
    use std::cell::RefCell;
    use std::rc::Rc;

    #[derive(Clone, Copy, Debug)]
    enum Path {
        Complete,
        Return,
        Question,
        Break,
        Continue,
        Panic,
    }

    async fn run(path: Path, mut counter: Counter) -> Option<u8> {
        let mut iterations = 0;
        loop {
            iterations += 1;
            if iterations > 1 {
                return Some(0);
            }
            // `Counter` holds `Rc`s: not `Send`, lent with `by_ref`.
            async_with!(_c = async_with::by_ref(&mut counter) => {
                match path {
                    Path::Complete => {}
                    Path::Return => return Some(1),
                    Path::Question => {
                        None::<u8>?;
                    }
                    Path::Break => break,
                    Path::Continue => continue,
                    Path::Panic => panic!("path panic"),
                }
            });
            return Some(2);
        }
        Some(3)
    }

    for path in [
        Path::Complete,
        Path::Return,
        Path::Question,
        Path::Break,
        Path::Continue,
        Path::Panic,
    ] {
        let entered = Rc::new(RefCell::new(0));
        let exited = Rc::new(RefCell::new(0));
        let counter = Counter {
            entered: entered.clone(),
            exited: exited.clone(),
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            futures_executor::block_on(run(path, counter))
        }));
        let expected = match path {
            Path::Complete => Ok(Some(2)),
            Path::Return => Ok(Some(1)),
            Path::Question => Ok(None),
            Path::Break => Ok(Some(3)),
            Path::Continue => Ok(Some(0)),
            Path::Panic => Err(()),
        };
        assert_eq!(result.map_err(|_| ()), expected, "{path:?}");
        assert_eq!((*entered.borrow(), *exited.borrow()), (1, 1), "{path:?}");
    }
}

#[test]
fn a_manager_whose_enter_failed_is_never_exited() {
    let events = run_both(|| async {
        let log = Log::default();
        let _: Result<(), AppError> = async {
            async_with!(_a = Recorder::new("a", &log).failing_enter(), _b = Recorder::new("b", &log) => {});
            Ok(())
        }
        .await;
        log.events()
    });
    assert_eq!(events, ["enter a failed"]);
}
