//! No cleanup error lost in an exit stack: CPython's `TestBaseExitStack`
//! chaining cases (`test_exit_exception_chaining_reference`,
//! `test_exit_exception_chaining`, gh-102201's several failing callbacks),
//! each with `defer` entries and with `push_exit` entries, on a local and a
//! `Send` stack. A stack of `BoxError` keeps every failure in a
//! `SuppressedError` chain (Python's `__context__`, JavaScript's
//! `SuppressedError`), reachable in order by `source()` and `errors()`.

use std::sync::{Arc, Mutex};

use async_with::{AsyncExitStack, BoxError, ExitAction, Outcome, SuppressedError, async_with};

/// How a failing entry is registered.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Defer,
    PushExit,
}

fn raise(stack: &AsyncExitStack<'_>, kind: Kind, name: &'static str) {
    match kind {
        Kind::Defer => stack.defer(async move || Err(name.into())),
        Kind::PushExit => stack.push_exit(move |_: Outcome<'_>| async move { Err(name.into()) }),
    }
}

fn raise_send(stack: &async_with::SendExitStack<'_>, kind: Kind, name: &'static str) {
    match kind {
        Kind::Defer => stack.defer(move || async move { Err(name.into()) }),
        Kind::PushExit => stack.push_exit(move |_: Outcome<'_>| async move { Err(name.into()) }),
    }
}

/// The failures in the order they happened, read through `source()`.
fn by_source(error: &BoxError) -> Vec<String> {
    let mut names = Vec::new();
    let mut at: Option<&(dyn std::error::Error + 'static)> = Some(&**error);
    while let Some(error) = at {
        match error.downcast_ref::<SuppressedError>() {
            Some(chain) => names.push(chain.error.to_string()),
            None => names.push(error.to_string()),
        }
        at = error.source();
    }
    names.reverse();
    names
}

/// The same, through `SuppressedError::errors`.
fn by_errors(error: &BoxError) -> Vec<String> {
    match error.downcast_ref::<SuppressedError>() {
        Some(chain) => chain.errors().map(|e| e.to_string()).collect(),
        None => vec![error.to_string()],
    }
}

/// CPython's reference: `with RaiseExc(IndexError): with
/// RaiseExcWithContext(KeyError, AttributeError): with SuppressExc(): with
/// RaiseExc(ValueError): 1 / 0` raises IndexError, whose context is
/// KeyError, whose context is AttributeError, and nothing before it (the
/// inner ones were suppressed); the suppressor saw ValueError.
#[test]
fn chaining_reference_with_defer_and_with_push_exit() {
    for kind in [Kind::Defer, Kind::PushExit] {
        let suppressor_saw = Arc::new(Mutex::new(String::new()));
        let saw = suppressor_saw.clone();
        let result: Result<(), BoxError> = futures_executor::block_on(async {
            async_with!(stack = AsyncExitStack::new() => {
                raise(stack, kind, "IndexError");
                raise(stack, kind, "KeyError");
                raise(stack, kind, "AttributeError");
                stack.push_exit(move |outcome: Outcome<'_>| {
                    *saw.lock().unwrap() = outcome.to_string();
                    async { Ok(ExitAction::Suppress) }
                });
                raise(stack, kind, "ValueError");
                Err::<(), BoxError>("ZeroDivisionError".into())?;
            });
            Ok(())
        });
        let error = result.unwrap_err();
        assert_eq!(
            error.to_string().split(' ').next(),
            Some("IndexError"),
            "{kind:?}"
        );
        let expected = ["AttributeError", "KeyError", "IndexError"];
        assert_eq!(by_source(&error), expected, "{kind:?}");
        assert_eq!(by_errors(&error), expected, "{kind:?}");
        assert!(
            suppressor_saw.lock().unwrap().contains("ValueError"),
            "{kind:?}: {}",
            suppressor_saw.lock().unwrap()
        );
    }
}

/// gh-102201: several failing callbacks and no body error: the caller
/// reaches every one of them, in the order they ran (last registered
/// first).
#[test]
fn three_failing_callbacks_reach_the_caller_in_order() {
    for kind in [Kind::Defer, Kind::PushExit] {
        let error = futures_executor::block_on(async {
            let mut stack = AsyncExitStack::new();
            for name in ["first", "second", "third"] {
                raise(&stack, kind, name);
            }
            stack.close().await.unwrap_err()
        });
        let expected = ["third", "second", "first"];
        assert_eq!(by_errors(&error), expected, "{kind:?}");
        assert_eq!(by_source(&error), expected, "{kind:?}");
    }
}

/// CPython's `test_exit_exception_chaining` with a suppressor last to run:
/// every failure before it is swallowed, the stack completes.
#[test]
fn a_suppressor_after_several_failures_swallows_them_all() {
    for kind in [Kind::Defer, Kind::PushExit] {
        let seen = Arc::new(Mutex::new(String::new()));
        let saw = seen.clone();
        let action = futures_executor::block_on(async {
            let mut stack = AsyncExitStack::new();
            stack.push_exit(move |outcome: Outcome<'_>| {
                *saw.lock().unwrap() = outcome.to_string();
                async { Ok(ExitAction::Suppress) }
            });
            raise(&stack, kind, "one");
            raise(&stack, kind, "two");
            let block_error = std::io::Error::other("block");
            stack
                .exit(Outcome::Failed(async_with::Failure::new(&block_error)))
                .await
        });
        assert_eq!(action.unwrap(), ExitAction::Suppress, "{kind:?}");
        // The suppressor saw the whole chain: "one" after "two".
        let seen = seen.lock().unwrap().clone();
        assert!(
            seen.contains("one") && seen.contains("two"),
            "{kind:?}: {seen}"
        );
    }
}

#[test]
fn a_send_stack_keeps_every_failure_too() {
    for kind in [Kind::Defer, Kind::PushExit] {
        let error = futures_executor::block_on(async {
            let mut stack = AsyncExitStack::new_send();
            for name in ["a", "b"] {
                raise_send(&stack, kind, name);
            }
            stack.close().await.unwrap_err()
        });
        assert_eq!(by_errors(&error), ["b", "a"], "{kind:?}");
    }
}

#[test]
fn a_typed_stack_keeps_them_with_keep_suppressed() {
    let errors = futures_executor::block_on(async {
        let mut stack = AsyncExitStack::<String>::default()
            .keep_suppressed(|later, earlier| format!("{earlier}, then {later}"));
        stack.defer(async || Err("a".to_string()));
        stack.push_exit(|_: Outcome<'_>| async { Err("b".to_string()) });
        stack.defer(async || Err("c".to_string()));
        stack.close().await.unwrap_err()
    });
    assert_eq!(errors, "c, then b, then a");
}

/// The same reference through `with()`: the stack's entries suppressed the
/// body's failure and then failed, so the error does not keep the body's
/// failure (`with` asks the stack, as `async_with!` does).
#[test]
fn chaining_reference_through_with() {
    for kind in [Kind::Defer, Kind::PushExit] {
        let result: Result<Option<()>, BoxError> =
            futures_executor::block_on(async_with::with(AsyncExitStack::new(), async |stack| {
                raise(stack, kind, "IndexError");
                raise(stack, kind, "KeyError");
                raise(stack, kind, "AttributeError");
                stack.push_exit(|_: Outcome<'_>| async { Ok(ExitAction::Suppress) });
                raise(stack, kind, "ValueError");
                Err::<(), BoxError>("ZeroDivisionError".into())
            }));
        let error = result.unwrap_err();
        let expected = ["AttributeError", "KeyError", "IndexError"];
        assert_eq!(by_source(&error), expected, "{kind:?}");
        assert_eq!(by_errors(&error), expected, "{kind:?}");
    }
}
