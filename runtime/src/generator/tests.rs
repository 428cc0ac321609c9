//! These exercise every `unsafe` block of `channel.rs`, through the
//! driver; `scripts/miri.sh` runs them under miri.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use crate::{Exit, Outcome, PinnedContextManager, async_context, async_with};

fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

async fn suspend() {
    let mut done = false;
    std::future::poll_fn(|_| {
        if done {
            Poll::Ready(())
        } else {
            done = true;
            Poll::Pending
        }
    })
    .await
}

#[async_context]
async fn resource(log: &RefCell<Vec<String>>, name: &'static str) -> Result<String, String> {
    suspend().await;
    log.borrow_mut().push(format!("enter {name}"));
    let (target, exit) = yield_!(format!("{name}-target"));
    suspend().await;
    let seen = exit.inspect(|outcome| outcome.to_string());
    log.borrow_mut()
        .push(format!("exit {name}: {target} {seen}"));
    if exit.is_failed() {
        exit.suppress();
    }
    Ok(())
}

#[test]
fn target_goes_out_and_comes_back_with_the_outcome() {
    let log = RefCell::new(Vec::new());
    let result: Result<(), String> = run(async {
        async_with!(t = resource(&log, "a") => {
            t.push('!');
            suspend().await;
        });
        async_with!(_t = resource(&log, "b") => {
            Err("boom".to_string())?;
        });
        Ok(())
    });
    assert_eq!(result, Ok(()));
    assert_eq!(
        log.into_inner(),
        [
            "enter a",
            "exit a: a-target! completed",
            "enter b",
            "exit b: b-target failed(\"boom\")"
        ]
    );
}

#[async_context]
async fn outer(log: &RefCell<Vec<String>>) -> Result<String, String> {
    // A generator polled inside another generator's poll.
    async_with!(inner = resource(log, "inner") => {
        let (t, exit) = yield_!(format!("outer({inner})"));
        log.borrow_mut().push(format!("outer exit: {t} {}", exit.is_completed()));
    });
    Ok(())
}

#[test]
fn generators_nest() {
    let log = RefCell::new(Vec::new());
    let result: Result<usize, String> =
        run(async { Ok(async_with!(t = outer(&log) => { t.len() })) });
    assert_eq!(result, Ok("outer(inner-target)".len()));
    assert_eq!(
        log.into_inner(),
        [
            "enter inner",
            "outer exit: outer(inner-target) true",
            "exit inner: inner-target completed"
        ]
    );
}

/// Counts its drops.
struct Tracked<'a>(&'a Cell<u32>);

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[async_context]
async fn tracked<'a>(drops: &'a Cell<u32>, seen: &RefCell<Vec<String>>) -> Tracked<'a> {
    let (target, exit) = yield_!(Tracked(drops));
    seen.borrow_mut()
        .push(exit.inspect(|outcome| outcome.to_string()));
    drop(target);
}

#[test]
fn a_yielded_value_dropped_after_a_panicking_block_is_dropped_once() {
    let drops = Cell::new(0);
    let seen = RefCell::new(Vec::new());
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        run(async {
            async_with!(_t = tracked(&drops, &seen) => {
                suspend().await;
                panic!("block");
            })
        })
    }));
    assert!(result.is_err());
    assert_eq!(drops.get(), 1);
    assert_eq!(seen.into_inner(), ["panicked(block)"]);
}

#[test]
fn a_generator_dropped_while_suspended_drops_its_target_and_locals_once() {
    let drops = Cell::new(0);
    let seen = RefCell::new(Vec::new());
    {
        let mut manager = pin!(tracked(&drops, &seen));
        let target = run(PinnedContextManager::enter(manager.as_mut()));
        let Ok(target) = target;
        drop(target);
        assert_eq!(drops.get(), 1);
        // Never exited: the suspended body is dropped with the manager.
    }
    assert_eq!(drops.get(), 1);
    assert!(seen.into_inner().is_empty());
}

/// Uses its `Exit` from its `Drop`.
struct InspectOnDrop<'e, 'co>(&'e Exit<'co>, &'e Cell<bool>);

impl Drop for InspectOnDrop<'_, '_> {
    fn drop(&mut self) {
        let outside = std::panic::catch_unwind(AssertUnwindSafe(|| self.0.inspect(|_| ())));
        self.1.set(outside.is_err());
    }
}

#[test]
fn an_exit_used_after_its_teardown_was_cancelled_panics_instead_of_reading_memory() {
    #[async_context]
    async fn cancelled_in_teardown(panicked: &Cell<bool>) {
        let ((), exit) = yield_!(());
        let _guard = InspectOnDrop(&exit, panicked);
        // Inside the teardown: the outcome is there.
        assert!(exit.inspect(|outcome| outcome.is_completed()));
        std::future::pending::<()>().await;
    }
    let panicked = Cell::new(false);
    {
        let mut manager = pin!(cancelled_in_teardown(&panicked));
        let Ok(()) = run(PinnedContextManager::enter(manager.as_mut()));
        let mut cx = Context::from_waker(Waker::noop());
        let mut exit = Box::pin(manager.as_mut().exit((), Outcome::Completed));
        assert!(exit.as_mut().poll(&mut cx).is_pending());
        drop(exit); // cancelled mid-teardown; the body stays suspended
    } // the manager, and the guard in its body, are dropped here
    assert!(panicked.get());
}

#[test]
fn exit_is_usable_from_a_scoped_thread_during_the_teardown() {
    #[async_context]
    async fn threaded(seen: &RefCell<Vec<String>>) {
        let ((), exit) = yield_!(());
        let text = std::thread::scope(|scope| {
            let worker = scope.spawn(|| {
                exit.suppress();
                exit.inspect(|outcome| outcome.to_string())
            });
            worker.join().unwrap()
        });
        seen.borrow_mut().push(text);
    }
    let seen = RefCell::new(Vec::new());
    let result: Option<()> = run(async {
        async_with!(threaded(&seen) => { None::<u8>?; });
        Some(())
    });
    assert_eq!(result, Some(()), "suppressed");
    assert_eq!(seen.into_inner(), ["failed(None)"]);
}

#[test]
fn a_manager_driven_against_the_protocol_panics_naming_its_function() {
    #[async_context]
    async fn once() -> u8 {
        let (_n, _exit) = yield_!(1);
    }
    let message = |payload: Box<dyn std::any::Any + Send>| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    };
    let mut manager = pin!(once());
    assert_eq!(run(PinnedContextManager::enter(manager.as_mut())), Ok(1));
    let again = std::panic::catch_unwind(AssertUnwindSafe(|| {
        run(PinnedContextManager::enter(manager.as_mut()))
    }));
    let again = message(again.unwrap_err());
    assert!(again.ends_with("::once` was entered twice"), "{again}");

    let mut fresh = pin!(once());
    let early = std::panic::catch_unwind(AssertUnwindSafe(|| {
        run(PinnedContextManager::exit(
            fresh.as_mut(),
            1,
            Outcome::Completed,
        ))
    }));
    let early = message(early.unwrap_err());
    assert!(
        early.ends_with("::once` was exited without a successful enter"),
        "{early}"
    );
}

#[test]
fn a_body_keeps_borrows_into_itself_across_yield_and_its_awaits() {
    #[async_context]
    async fn borrowing(seen: &RefCell<Vec<String>>) -> Result<u8, String> {
        let mut local = vec![1];
        let held = &mut local;
        suspend().await;
        held.push(2);
        let (_n, exit) = yield_!(7);
        held.push(3);
        suspend().await;
        held.push(4);
        seen.borrow_mut()
            .push(format!("{held:?} {}", exit.is_completed()));
        Ok(())
    }
    let seen = RefCell::new(Vec::new());
    let result: Result<u8, String> = run(async {
        let n = async_with!(n = borrowing(&seen) => {
            suspend().await;
            *n
        });
        Ok(n)
    });
    assert_eq!(result, Ok(7));
    assert_eq!(seen.into_inner(), ["[1, 2, 3, 4] true"]);
}
