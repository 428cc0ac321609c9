//! `AsyncExitStack`, with the cases of CPython's own `test_contextlib_async`
//! (`TestAsyncExitStack`) ported, each run on both executors.

mod common;

// The trait in scope on purpose: `stack.enter(manager)` on the block's
// `&mut AsyncExitStack` must still reach the stack's own `enter`.
#[allow(unused_imports)]
use async_with::AsyncContextManager as _;
use async_with::{AsyncExitStack, BoxError, ExitAction, Outcome, async_context, async_with};
use common::{Log, ManagerError, OnExit, Recorder, describe, run_both, yield_now};

/// Registers an exit handler that logs what it saw under `name` and then
/// does `on_exit`; a failing one returns an error naming what it saw.
fn handler(stack: &AsyncExitStack<'_, String>, log: &Log, name: &'static str, on_exit: OnExit) {
    let log = log.clone();
    stack.push_exit(move |outcome: Outcome<'_>| {
        let saw = describe(&outcome);
        async move {
            yield_now().await;
            log.push(format!("{name}: {saw}"));
            match on_exit {
                OnExit::Propagate => Ok(ExitAction::Propagate),
                OnExit::Suppress => Ok(ExitAction::Suppress),
                OnExit::Fail => Err(format!("{name} failed after {saw}")),
            }
        }
    });
}

#[test]
fn callbacks_run_last_in_first_out_with_their_arguments() {
    let events = run_both(|| async {
        let log = Log::default();
        let mut stack = AsyncExitStack::<String>::default();
        for (n, word) in [(1, "one"), (2, "two"), (3, "three")] {
            let log = log.clone();
            stack.defer(async move || {
                yield_now().await;
                log.push(format!("callback({n}, {word})"));
                Ok(())
            });
        }
        assert_eq!(stack.len(), 3);
        stack.close().await.unwrap();
        assert!(stack.is_empty());
        log.events()
    });
    assert_eq!(
        events,
        ["callback(3, three)", "callback(2, two)", "callback(1, one)"]
    );
}

#[test]
fn a_suppressor_in_the_middle_turns_the_failure_into_completed_for_outer_entries() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<&str, String> = async {
            async_with!(stack = AsyncExitStack::<String>::default() => {
                handler(stack, &log, "outer", OnExit::Propagate);
                handler(stack, &log, "suppressor", OnExit::Suppress);
                handler(stack, &log, "inner", OnExit::Propagate);
                Err("block failed".to_string())?;
            });
            Ok("went on after the block")
        }
        .await;
        (result, log.events())
    });
    assert_eq!(result, Ok("went on after the block"));
    assert_eq!(
        events,
        [
            // A `String` is not an `Error`, so the block's failure shows
            // it with `Debug`.
            "inner: failed(\"block failed\")",
            "suppressor: failed(\"block failed\")",
            "outer: completed",
        ]
    );
}

#[test]
fn entering_after_a_callback_runs_enter_block_exit_callback() {
    let events = run_both(|| async {
        let log = Log::default();
        let result: Result<(), BoxError> = async {
            async_with!(stack = AsyncExitStack::new() => {
                let callback_log = log.clone();
                stack.defer(async move || {
                    callback_log.push("callback");
                    Ok(())
                });
                let target = stack.enter(Recorder::new("cm", &log)).await?;
                log.push(format!("block uses {target}"));
            });
            Ok(())
        }
        .await;
        result.unwrap();
        log.events()
    });
    assert_eq!(
        events,
        [
            "enter cm",
            "block uses cm-target",
            "exit cm (cm-target): completed",
            "callback",
        ]
    );
}

#[test]
fn three_failing_handlers_chain_and_no_error_is_lost() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<(), String> = async {
            async_with!(stack = AsyncExitStack::<String>::default() => {
                handler(stack, &log, "third", OnExit::Fail);
                handler(stack, &log, "second", OnExit::Fail);
                handler(stack, &log, "first", OnExit::Fail);
                Err("block failed".to_string())?;
            });
            Ok(())
        }
        .await;
        (result, log.events())
    });
    // Each handler saw the error of the one before it, which saw the
    // block's: the final error reaches every earlier one.
    assert_eq!(
        result,
        Err(
            "third failed after failed(second failed after failed(first failed after \
             failed(\"block failed\")))"
                .to_string()
        )
    );
    assert_eq!(events.len(), 3, "every handler ran: {events:?}");
}

#[test]
fn failing_handlers_after_a_completed_block_still_all_run() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let mut stack = AsyncExitStack::<String>::default();
        handler(&stack, &log, "outer", OnExit::Propagate);
        handler(&stack, &log, "inner", OnExit::Fail);
        let result = stack.close().await;
        (result, log.events())
    });
    assert_eq!(result, Err("inner failed after completed".to_string()));
    assert_eq!(
        events,
        [
            "inner: completed",
            // The stack shows its entries' errors with `Display`.
            "outer: failed(inner failed after completed)"
        ]
    );
}

#[test]
fn take_leaves_the_stack_empty_and_the_new_one_owns_the_cleanup() {
    let events = run_both(|| async {
        let log = Log::default();
        let result: Result<(), BoxError> = async {
            let mut kept = async_with!(stack = AsyncExitStack::new() => {
                stack.enter(Recorder::new("a", &log)).await?;
                stack.enter(Recorder::new("b", &log)).await?;
                let kept = stack.take();
                assert!(stack.is_empty());
                assert_eq!(kept.len(), 2);
                kept
            });
            log.push("block ended: nothing exited");
            kept.close().await?;
            Ok(())
        }
        .await;
        result.unwrap();
        log.events()
    });
    assert_eq!(
        events,
        [
            "enter a",
            "enter b",
            "block ended: nothing exited",
            "exit b (b-target): completed",
            "exit a (a-target): completed",
        ]
    );
}

#[test]
fn closing_inside_the_block_runs_the_handlers_once() {
    let events = run_both(|| async {
        let log = Log::default();
        let result: Result<(), BoxError> = async {
            async_with!(stack = AsyncExitStack::new() => {
                stack.enter(Recorder::new("a", &log)).await?;
                stack.close().await?;
                log.push("closed in the block");
            });
            Ok(())
        }
        .await;
        result.unwrap();
        log.events()
    });
    assert_eq!(
        events,
        [
            "enter a",
            "exit a (a-target): completed",
            "closed in the block"
        ]
    );
}

#[test]
fn an_empty_stack_changes_nothing() {
    let (value, failed) = run_both(|| async {
        let value: Result<u32, String> =
            async { Ok(async_with!(_stack = AsyncExitStack::<String>::default() => { 7 })) }.await;
        let failed: Result<(), String> = async {
            async_with!(_stack = AsyncExitStack::<String>::default() => {
                Err("not suppressed".to_string())?;
            });
            Ok(())
        }
        .await;
        (value, failed)
    });
    assert_eq!(value, Ok(7));
    assert_eq!(failed, Err("not suppressed".to_string()));
}

#[test]
fn ten_thousand_handlers_unwind_in_order_without_overflow() {
    const N: usize = 10_000;
    // A small stack for the executor thread: unwinding must be a loop.
    let order = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let order = std::rc::Rc::new(std::cell::RefCell::new(Vec::with_capacity(N)));
            futures_executor::block_on(async {
                let mut stack = AsyncExitStack::<String>::default();
                for i in 0..N {
                    let order = order.clone();
                    stack.push_exit(move |outcome: Outcome<'_>| {
                        assert!(outcome.is_completed());
                        async move {
                            order.borrow_mut().push(i);
                            Ok(ExitAction::Propagate)
                        }
                    });
                }
                stack.close().await.unwrap();
            });
            std::rc::Rc::try_unwrap(order).unwrap().into_inner()
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(order, (0..N).rev().collect::<Vec<_>>());
}

#[test]
fn nested_in_async_with_between_other_managers() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<u32, BoxError> = async {
            let sum = async_with!(
                a = Recorder::new("a", &log),
                stack = AsyncExitStack::new(),
                b = Recorder::new("b", &log) => {
                let mut sum = 0;
                for name in ["x", "y"] {
                    let target = stack.enter(Recorder::new(name, &log)).await?;
                    sum += target.len() as u32;
                }
                sum += (a.len() + b.len()) as u32;
                "not a number".parse::<u32>()?;
                sum
            });
            Ok(sum)
        }
        .await;
        (result.map_err(|error| error.to_string()), log.events())
    });
    assert_eq!(result, Err("invalid digit found in string".to_string()));
    let failed = "failed(invalid digit found in string)";
    assert_eq!(
        events,
        [
            "enter a".to_string(),
            "enter b".to_string(),
            "enter x".to_string(),
            "enter y".to_string(),
            format!("exit b (b-target): {failed}"),
            format!("exit y (y-target): {failed}"),
            format!("exit x (x-target): {failed}"),
            format!("exit a (a-target): {failed}"),
        ]
    );
}

#[test]
fn a_failed_enter_registers_nothing_and_the_earlier_entries_see_it() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<(), BoxError> = async {
            async_with!(stack = AsyncExitStack::new() => {
                stack.enter(Recorder::new("a", &log)).await?;
                stack.enter(Recorder::new("b", &log).failing_enter()).await?;
                log.push("unreachable");
            });
            Ok(())
        }
        .await;
        let error = result.unwrap_err();
        let error = error.downcast_ref::<ManagerError>().cloned();
        (error, log.events())
    });
    assert_eq!(result.map(|e| (e.name, e.step)), Some(("b", "enter")));
    assert_eq!(
        events,
        [
            "enter a",
            "enter b failed",
            "exit a (a-target): failed(b failed to enter)"
        ]
    );
}

#[test]
fn an_exit_error_replaces_the_block_failure_and_an_outer_suppressor_can_take_it() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<(), BoxError> = async {
            async_with!(stack = AsyncExitStack::new() => {
                let suppress_log = log.clone();
                stack.push_exit(move |outcome: Outcome<'_>| {
                    suppress_log.push(format!("suppressor: {}", describe(&outcome)));
                    async { Ok(ExitAction::Suppress) }
                });
                stack.enter(Recorder::new("a", &log).on_exit(OnExit::Fail)).await?;
                "x".parse::<u8>()?;
            });
            Ok(())
        }
        .await;
        (result.is_ok(), log.events())
    });
    assert!(result, "the suppressor took the exit's failure");
    assert_eq!(
        events,
        [
            "enter a",
            "exit a (a-target): failed(invalid digit found in string)",
            "suppressor: failed(a failed to exit)",
        ]
    );
}

#[test]
fn a_panicking_handler_does_not_stop_the_others_and_its_panic_resumes() {
    let log = Log::default();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures_executor::block_on(async {
            let mut stack = AsyncExitStack::<String>::default();
            handler(&stack, &log, "outer", OnExit::Propagate);
            stack.defer(async || panic!("handler panicked"));
            handler(&stack, &log, "inner", OnExit::Fail);
            let _ = stack.close().await;
        })
    }));
    let payload = outcome.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"handler panicked"));
    assert_eq!(
        log.events(),
        ["inner: completed", "outer: panicked(handler panicked)"]
    );
}

#[test]
fn a_panicking_block_reaches_every_entry_and_resumes() {
    let log = Log::default();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures_executor::block_on(async {
            let result: Result<(), BoxError> = async {
                async_with!(stack = AsyncExitStack::new() => {
                    stack.enter(Recorder::new("a", &log)).await?;
                    stack.enter(Recorder::new("b", &log).on_exit(OnExit::Fail)).await?;
                    panic!("block panicked");
                });
                #[allow(unreachable_code)]
                Ok(())
            }
            .await;
            let _ = result;
        })
    }));
    let payload = outcome.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"block panicked"));
    // b's exit error is dropped while a panic unwinds: a still sees the panic.
    assert_eq!(
        log.events(),
        [
            "enter a",
            "enter b",
            "exit b (b-target): panicked(block panicked)",
            "exit a (a-target): panicked(block panicked)",
        ]
    );
}

#[async_context]
async fn pinned_resource(name: &'static str, log: &Log) -> Result<String, ManagerError> {
    log.push(format!("setup {name}"));
    let (target, exit) = yield_!(format!("{name}-gen"));
    log.push(format!(
        "teardown {name} ({target}): {}",
        exit.inspect(describe)
    ));
    Ok(())
}

#[test]
fn generator_managers_are_entered_pinned_in_the_stack() {
    let events = run_both(|| async {
        let log = Log::default();
        let mut stack = AsyncExitStack::new();
        let first = stack.enter(pinned_resource("g1", &log)).await.unwrap();
        let second = stack.enter(pinned_resource("g2", &log)).await.unwrap();
        first.push_str("+used");
        second.push_str("+used");
        stack.close().await.unwrap();
        log.events()
    });
    assert_eq!(
        events,
        [
            "setup g1",
            "setup g2",
            "teardown g2 (g2-gen+used): completed",
            "teardown g1 (g1-gen+used): completed",
        ]
    );
}

#[test]
fn dropping_a_stack_drops_its_entries_last_in_first_out() {
    struct Noisy(&'static str, Log);
    impl Drop for Noisy {
        fn drop(&mut self) {
            self.1.push(format!("drop {}", self.0));
        }
    }
    let log = Log::default();
    {
        let stack = AsyncExitStack::<String>::default();
        for name in ["a", "b", "c"] {
            let noisy = Noisy(name, log.clone());
            stack.defer(async move || {
                let _keep = &noisy;
                Ok(())
            });
        }
    }
    assert_eq!(log.events(), ["drop c", "drop b", "drop a"]);
}

#[test]
fn an_error_raised_and_suppressed_among_entries_leaves_a_return_going_ahead() {
    // Python's `AsyncExitStack.__aexit__` returns false here (it was given
    // no exception), so the `return` in the block still happens.
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<&str, String> = async {
            async_with!(stack = AsyncExitStack::<String>::default() => {
                handler(stack, &log, "outer", OnExit::Suppress);
                handler(stack, &log, "inner", OnExit::Fail);
                return Ok("returned");
            });
            #[allow(unreachable_code)]
            Ok("went on")
        }
        .await;
        (result, log.events())
    });
    assert_eq!(result, Ok("returned"));
    assert_eq!(
        events,
        [
            "inner: completed",
            "outer: failed(inner failed after completed)"
        ]
    );
}

/// The stack's own answer: it reports `Suppress` only when the outcome it
/// was given was a failure that an entry suppressed. A completed block whose
/// entry failed and a later entry suppressed that failure stays completed.
#[test]
fn the_stack_suppresses_only_a_failure_it_was_given() {
    let (given_completed, given_failed, len_and_empty) = run_both(|| async {
        let mut stack = AsyncExitStack::<String>::default();
        stack.push_exit(|_: Outcome<'_>| async { Ok(ExitAction::Suppress) });
        stack.push_exit(|_: Outcome<'_>| async { Err("entry failed".to_string()) });
        let len_and_empty = (stack.len(), stack.is_empty(), format!("{stack:?}"));
        let given_completed = stack.exit(Outcome::Completed).await;

        stack.push_exit(|_: Outcome<'_>| async { Ok(ExitAction::Suppress) });
        let error = "block failed".to_string();
        let failure = async_with::Failure::new(&error);
        let given_failed = stack.exit(Outcome::Failed(failure)).await;
        (
            given_completed,
            given_failed,
            (len_and_empty, stack.is_empty()),
        )
    });
    assert_eq!(given_completed, Ok(ExitAction::Propagate));
    assert_eq!(given_failed, Ok(ExitAction::Suppress));
    assert_eq!(
        len_and_empty,
        ((2, false, "AsyncExitStack { len: 2 }".to_string()), true)
    );
}

/// What panics, as text, when `operation` runs on `stack`.
fn refusal<S>(stack: S, operation: impl FnOnce(S)) -> String {
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| operation(stack)))
        .expect_err("a closed stack refuses the operation");
    panicked
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default()
}

/// A closed stack (after `close()`, or the stack `take()` emptied) refuses
/// every operation that would add an entry, which would never be unwound
/// (JavaScript's "throws if disposed"); the stack `take()` returned is open.
#[test]
fn a_closed_stack_refuses_every_operation_that_would_add_an_entry() {
    fn closed_by_close() -> AsyncExitStack<'static> {
        let mut stack = AsyncExitStack::new();
        assert!(!stack.is_closed());
        drive(stack.close()).unwrap();
        assert!(stack.is_closed());
        stack
    }
    fn closed_by_take() -> AsyncExitStack<'static> {
        let mut stack = AsyncExitStack::new();
        stack.defer(async || Ok(()));
        let mut moved = stack.take();
        assert!(stack.is_closed() && stack.is_empty());
        assert!(!moved.is_closed());
        assert_eq!(moved.len(), 1);
        moved.defer(async || Ok(()));
        drive(moved.close()).unwrap();
        stack
    }
    for (how, make) in [
        ("close", closed_by_close as fn() -> AsyncExitStack<'static>),
        ("take", closed_by_take),
    ] {
        let enter = refusal(make(), |stack| {
            let _ = drive(stack.enter(async_with::nullcontext(1)));
        });
        let defer = refusal(make(), |stack| stack.defer(async || Ok(())));
        let push_exit = refusal(make(), |stack| {
            stack.push_exit(|_: Outcome<'_>| async { Ok(ExitAction::Propagate) })
        });
        let take = refusal(make(), |mut stack| drop(stack.take()));
        for (operation, message) in [
            ("enter", enter),
            ("defer", defer),
            ("push_exit", push_exit),
            ("take", take),
        ] {
            assert!(
                message.starts_with(&format!(
                    "`AsyncExitStack::{operation}` on a closed exit stack"
                )),
                "after {how}: {message}"
            );
        }
        // Closing again is a no-op.
        let mut stack = make();
        assert!(drive(stack.close()).is_ok(), "after {how}");
    }
}

/// The `Send` stack refuses the same way, and a closed stack's manager
/// (entered by `async_with!`) is refused before its block runs.
#[test]
fn a_closed_send_stack_refuses_too() {
    let mut stack = AsyncExitStack::new_send();
    drive(stack.close()).unwrap();
    let defer = refusal(&stack, |stack| stack.defer(|| async { Ok(()) }));
    assert!(
        defer.starts_with("`AsyncExitStack::defer` on a closed exit stack"),
        "{defer}"
    );
    let ran = std::cell::Cell::new(false);
    let entered = refusal(stack, |stack| {
        let _ = drive(async {
            async_with!(_inner = stack => { ran.set(true); });
            Ok::<(), BoxError>(())
        });
    });
    assert!(
        entered.starts_with("`AsyncExitStack::take` on a closed exit stack"),
        "{entered}"
    );
    assert!(!ran.get());
}

/// Drives a future to completion on the current thread.
fn drive<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}
