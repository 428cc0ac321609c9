//! Cancellation (docs/contract.md, "Cancellation"), the shutdown edge: a
//! runtime shutting down with async exits in flight after cancellations.
//! `wait_for_cancelled_exits` waits for them, bounded; one the runtime drops
//! is reported as abandoned (counted, and a `tracing` warning with feature
//! `tracing`), never silently lost. A binary of its own: the counters are the
//! process's.

mod common;

use std::future::{Future, pending};
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Waker};
use std::time::Duration;

use async_with::tokio::{cancelled_exits, exit_on_cancel, wait_for_cancelled_exits};
use async_with::{ExitAction, Outcome, SendContextManager, async_with};
use common::{Log, describe};

/// The counters are global: the tests of this binary take turns.
static SERIAL: Mutex<()> = Mutex::new(());

/// A manager whose exit takes `takes` before it logs.
struct Slow {
    log: Log,
    takes: Duration,
}

impl SendContextManager for Slow {
    type Target = ();
    type Error = std::convert::Infallible;

    async fn enter(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn exit(&mut self, (): (), outcome: Outcome<'_>) -> Result<ExitAction, Self::Error> {
        let outcome = describe(&outcome);
        tokio::time::sleep(self.takes).await;
        self.log.push(format!("exit: {outcome}"));
        Ok(ExitAction::Propagate)
    }

    fn cancel(&mut self, (): ()) {
        self.log.push("cancel hook");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap()
}

/// Enters `manager` in a block that never ends, and cancels it.
async fn cancel_a_block(
    manager: impl SendContextManager<Target = (), Error = std::convert::Infallible> + Unpin,
) {
    let block = async {
        async_with!(manager => { pending::<()>().await });
    };
    assert!(
        tokio::time::timeout(Duration::from_millis(10), block)
            .await
            .is_err()
    );
}

#[test]
fn waiting_before_shutdown_lets_every_exit_finish() {
    let _serial = SERIAL.lock().unwrap();
    let log = Log::default();
    let before = cancelled_exits();
    let runtime = runtime();
    let left = runtime.block_on(async {
        for _ in 0..3 {
            let slow = Slow {
                log: log.clone(),
                takes: Duration::from_millis(50),
            };
            cancel_a_block(exit_on_cancel(slow)).await;
        }
        wait_for_cancelled_exits(Duration::from_secs(10)).await
    });
    drop(runtime);
    let after = cancelled_exits();
    assert_eq!(left, 0);
    assert_eq!(after.completed - before.completed, 3);
    assert_eq!(after.abandoned, before.abandoned);
    assert_eq!(log.events(), ["exit: cancelled"; 3]);
}

#[test]
fn a_runtime_dropped_with_exits_in_flight_reports_each_as_abandoned() {
    let _serial = SERIAL.lock().unwrap();
    let log = Log::default();
    let before = cancelled_exits();
    let runtime = runtime();
    let left = runtime.block_on(async {
        for _ in 0..2 {
            let slow = Slow {
                log: log.clone(),
                takes: Duration::from_secs(3600),
            };
            cancel_a_block(exit_on_cancel(slow).deadline(Duration::from_secs(7200))).await;
        }
        // Bounded: gives up after 20 ms with both still running.
        wait_for_cancelled_exits(Duration::from_millis(20)).await
    });
    assert_eq!(left, 2);
    drop(runtime); // shuts down: the two exits are dropped mid-way
    let after = cancelled_exits();
    assert_eq!(after.spawned - before.spawned, 2);
    assert_eq!(after.abandoned - before.abandoned, 2);
    assert_eq!(after.in_flight, 0);
    assert!(log.events().is_empty(), "neither exit finished");
}

#[test]
fn without_a_runtime_the_manager_is_cancelled_and_the_exit_reported_as_abandoned() {
    let _serial = SERIAL.lock().unwrap();
    let log = Log::default();
    let before = cancelled_exits();
    {
        let slow = Slow {
            log: log.clone(),
            takes: Duration::ZERO,
        };
        let mut future = pin!(async move {
            async_with!(exit_on_cancel(slow) => { pending::<()>().await });
        });
        let _ = future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
    } // dropped here, outside any runtime
    let after = cancelled_exits();
    assert_eq!(after.abandoned - before.abandoned, 1);
    assert_eq!(after.spawned, before.spawned);
    assert_eq!(log.events(), ["cancel hook"]);
}
