//! The block of `async_with!` is a plain Rust block in typing too (issue
//! 23): what compiles as `{ BODY }` compiles as
//! `async_with!(_s = nullcontext(()) => { BODY })`, with the same type.
//! Each shape here failed to compile before; each runs, and where the
//! block's value is an error of a known type, exit still sees the failure.

mod common;

use std::future::Future;
use std::io;

use async_with::{async_with, nullcontext};
use common::{Log, Quiet, run_both};

struct Row {
    name: &'static str,
}

/// Shape 1: the block's value typed by a `let` with a type.
#[test]
fn the_value_is_typed_by_a_let() {
    let (names, n, log) = run_both(|| async {
        let log = Log::default();
        let rows = [1, 2, 3];
        let names: Vec<String> = async_with!(_q = Quiet::new(&log) => {
            rows.iter().map(|r| r.to_string()).collect()
        });
        let n: u32 = async_with!(_s = nullcontext(()) => { "7".parse().unwrap() });
        (names, n, log.events())
    });
    assert_eq!(names, ["1", "2", "3"]);
    assert_eq!(n, 7);
    assert_eq!(log, ["enter quiet", "exit quiet: completed"]);
}

async fn names(rows: &[Row]) -> Vec<String> {
    async_with!(_c = nullcontext(()) => { rows.iter().map(|r| r.name.to_string()).collect() })
}

async fn parsed(text: &str) -> io::Result<u32> {
    Ok(async_with!(_s = nullcontext(()) => { text.parse().unwrap() }))
}

/// Shape 1: typed by the function's return type, and by an argument.
#[test]
fn the_value_is_typed_by_the_return_type_and_an_argument() {
    let (names, parsed) = run_both(|| async {
        let rows = [Row { name: "a" }, Row { name: "b" }];
        (names(&rows).await, parsed("12").await.unwrap())
    });
    assert_eq!(names, ["a", "b"]);
    assert_eq!(parsed, 12);
}

/// The expected type reaches the block's tail as in a plain block: its
/// coercions (`&String` to `&str`, two boxes to one `Box<dyn Fn>`) happen
/// there.
#[test]
fn the_tail_is_coerced_to_the_expected_type() {
    let (text, calls) = run_both(|| async {
        let owned = "text".to_string();
        let text: &str = async_with!(_s = nullcontext(()) => { &owned });
        let mut calls = Vec::new();
        for one in [true, false] {
            let call: Box<dyn Fn() -> u32> = async_with!(_s = nullcontext(()) => {
                if one { Box::new(|| 1) } else { Box::new(|| 2) }
            });
            calls.push(call());
        }
        (text.to_string(), calls)
    });
    assert_eq!(text, "text");
    assert_eq!(calls, [1, 2]);
}

async fn check(ok: bool) -> Result<u32, String> {
    if ok {
        Ok(1)
    } else {
        Err("refused".to_string())
    }
}

/// An `Err` block value whose type is known inside the block, or given by
/// the context only, is a failure exit sees (and the macro's value).
#[test]
fn an_error_value_of_a_known_type_is_a_failure_for_exit() {
    let (values, log) = run_both(|| async {
        let log = Log::default();
        let known = async_with!(_q = Quiet::new(&log) => { check(false).await });
        let from_context: Result<u32, String> = async_with!(_q = Quiet::new(&log) => {
            "x".parse().map_err(|error: std::num::ParseIntError| error.to_string())
        });
        let fine: Result<u32, String> = async_with!(_q = Quiet::new(&log) => {
            "5".parse().map_err(|error: std::num::ParseIntError| error.to_string())
        });
        ((known, from_context, fine), log.events())
    });
    assert_eq!(
        values,
        (
            Err("refused".to_string()),
            Err("invalid digit found in string".to_string()),
            Ok(5)
        )
    );
    assert_eq!(
        log,
        [
            "enter quiet",
            "exit quiet: failed(\"refused\")",
            "enter quiet",
            "exit quiet: failed(\"invalid digit found in string\")",
            "enter quiet",
            "exit quiet: completed",
        ]
    );
}

/// Shape 2: `Err(e)?` as a match arm whose siblings diverge.
async fn diverging_arms(mode: u32, log: &Log) -> Result<u32, String> {
    'outer: loop {
        async_with!(_q = Quiet::new(log) => {
            match mode {
                0 => return Ok(100),
                1 => Err("inner".to_string())?,
                _ => break 'outer,
            }
        });
    }
    Ok(7)
}

#[test]
fn a_block_whose_every_arm_diverges() {
    let (results, log) = run_both(|| async {
        let log = Log::default();
        let results = [
            diverging_arms(0, &log).await,
            diverging_arms(1, &log).await,
            diverging_arms(2, &log).await,
        ];
        (results, log.events())
    });
    assert_eq!(results, [Ok(100), Err("inner".to_string()), Ok(7)]);
    assert_eq!(
        log,
        [
            "enter quiet",
            "exit quiet: completed",
            "enter quiet",
            "exit quiet: failed(\"inner\")",
            "enter quiet",
            "exit quiet: completed",
        ]
    );
}

/// A `()` function whose body is a `loop` left by `return`.
async fn loop_left_by_return(log: &Log) {
    let mut turns = 0;
    async_with!(_q = Quiet::new(log) => {
        loop {
            turns += 1;
            if turns == 3 {
                return;
            }
        }
    })
}

#[test]
fn a_loop_left_by_return_in_a_unit_function() {
    let log = run_both(|| async {
        let log = Log::default();
        loop_left_by_return(&log).await;
        log.events()
    });
    assert_eq!(log, ["enter quiet", "exit quiet: completed"]);
}

/// A spawned task whose block is a `loop`: nothing types the block's value
/// but the loop (`!`), as in the plain `async move { loop { .. } }`.
#[test]
fn a_spawned_task_whose_block_is_a_loop() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            async_with!(_s = nullcontext(()) => {
                loop {
                    sender.send(1).unwrap();
                    tokio::task::yield_now().await;
                }
            })
        });
        assert_eq!(receiver.recv().await, Some(1));
        assert_eq!(receiver.recv().await, Some(1));
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());

        let mut left = 3;
        let task = tokio::spawn(async move {
            async_with!(_s = nullcontext(()) => {
                loop {
                    left -= 1;
                    if left == 0 {
                        return;
                    }
                }
            })
        });
        task.await.unwrap();
    });
}

/// A block value whose type is fixed only after the macro: the one-line
/// fix is to give the `let` its type (README, "Errors in the block").
#[test]
fn a_value_typed_after_the_macro_with_its_type_written() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        sender.send(1).unwrap();
        let v: i32 = async_with!(_s = nullcontext(()) => {
            tokio::select! { v = receiver => v.unwrap() }
        });
        assert_eq!(1, v);
    });
}

/// A `-> !` function: the block's value is `!` only after the macro.
async fn never() -> ! {
    async_with!(_s = nullcontext(()) => { std::future::pending().await })
}

#[test]
fn a_never_returning_function() {
    let mut future = std::pin::pin!(never());
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_pending());
}

/// A nested `async_with!` that is the outer block's value while its own
/// block always returns: the function's return type types both.
async fn nested_always_returning(log: &Log) -> Result<u32, String> {
    async_with!(_a = Quiet::new(log) => {
        async_with!(_b = nullcontext(()) => { return Ok(7); })
    })
}

#[test]
fn a_nested_block_that_always_returns_is_the_outer_value() {
    let (value, log) = run_both(|| async {
        let log = Log::default();
        (nested_always_returning(&log).await, log.events())
    });
    assert_eq!(value, Ok(7));
    assert_eq!(log, ["enter quiet", "exit quiet: completed"]);
}

/// The residue (README, "Errors in the block"): with an unlabelled
/// `continue` of the loop around the macro, the `let`'s type does not
/// reach the block (tests/ui/with_unlabelled_jump_and_value_typed_by_let.rs);
/// the fixes: label the loop, or write the type in the block.
#[test]
fn a_jump_out_of_the_block_with_the_value_typed_by_a_let() {
    let all = run_both(|| async {
        let mut all = Vec::new();
        'rows: for row in [0, 2] {
            let names: Vec<String> = async_with!(_s = nullcontext(()) => {
                if row == 0 {
                    continue 'rows;
                }
                (0..row).map(|r| r.to_string()).collect()
            });
            all.push(names);
        }
        for row in [0, 1] {
            let names = async_with!(_s = nullcontext(()) => {
                if row == 0 {
                    continue;
                }
                (0..row).map(|r| r.to_string()).collect::<Vec<String>>()
            });
            all.push(names);
        }
        all
    });
    assert_eq!(all, [vec!["0", "1"], vec!["0"]]);
}

/// The enclosing future is `Send` exactly when it would be without the
/// macro: a block that awaits nothing borrows its locals only while it
/// runs (a `std::sync::mpsc::Receiver` is `Send` but not `Sync`; so are
/// `Cell` and `RefCell`).
async fn receive(rx: std::sync::mpsc::Receiver<u32>) -> Option<u32> {
    let value = async_with!(_s = nullcontext(()) => { rx.recv().ok() });
    tokio::task::yield_now().await;
    value
}

async fn count_in_a_cell(n: u32) -> u32 {
    let seen = std::cell::Cell::new(0);
    let doubled = std::cell::RefCell::new(Vec::new());
    for i in 0..n {
        async_with!(_s = nullcontext(()) => {
            seen.set(seen.get() + 1);
            doubled.borrow_mut().push(i * 2);
        });
        tokio::task::yield_now().await;
    }
    seen.get() + doubled.borrow().iter().sum::<u32>()
}

/// `future` spawned on a multi-thread runtime (which requires `Send`).
fn spawned<F>(future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime
        .block_on(async { tokio::spawn(future).await })
        .unwrap()
}

#[test]
fn a_block_that_awaits_nothing_keeps_the_future_send() {
    let (tx, rx) = std::sync::mpsc::channel();
    tx.send(5).unwrap();
    assert_eq!(spawned(receive(rx)), Some(5));
    let counted = spawned(count_in_a_cell(3));
    assert_eq!(counted, 3 + 2 + 4); // three turns, then 0 + 2 + 4
}

/// The documented fix for a block that awaits after using a `!Sync`
/// local: move the local into the block.
async fn receive_then_await(rx: std::sync::mpsc::Receiver<u32>) -> Option<u32> {
    async_with!(_s = nullcontext(()) => {
        let rx = rx;
        let value = rx.recv().ok();
        tokio::task::yield_now().await;
        value
    })
}

#[test]
fn a_block_that_awaits_owns_a_moved_local_and_stays_send() {
    let (tx, rx) = std::sync::mpsc::channel();
    tx.send(8).unwrap();
    assert_eq!(spawned(receive_then_await(rx)), Some(8));
}

/// The user's own traits stay usable around the macro, even one with a
/// blanket impl whose method names are common words: the expansion's
/// choices call methods whose names no user trait is likely to have.
mod blanket_traits {
    #![allow(dead_code)]
    pub trait Words {
        fn kind(&self) -> u8 {
            1
        }
        fn view(&self) -> u8 {
            2
        }
        fn held(&self) -> u8 {
            3
        }
        fn value(&self) -> u8 {
            4
        }
        fn lend_kind(&self) -> u8 {
            5
        }
        fn keep_kind(&self) -> u8 {
            6
        }
        fn raise(&self) -> u8 {
            7
        }
        fn lend(&self) -> u8 {
            8
        }
        fn keep(&self) -> u8 {
            9
        }
    }
    impl<T: ?Sized> Words for T {}
}

async fn with_blanket_trait(log: &Log, fail: bool) -> Result<u8, common::ManagerError> {
    use blanket_traits::Words as _;
    let manager = common::Recorder::new("a", log).on_exit(common::OnExit::Fail);
    let n = async_with!(conn = manager => {
        if fail {
            Err(common::ManagerError { name: "block", step: "run", saw: None })?;
        }
        conn.len().kind() + conn.view()
    });
    Ok(n)
}

#[test]
fn a_blanket_trait_with_common_method_names_is_in_scope() {
    let (ok, failed) = run_both(|| async {
        let log = Log::default();
        (
            with_blanket_trait(&log, false).await,
            with_blanket_trait(&log, true).await,
        )
    });
    let saw = |result: Result<u8, common::ManagerError>| result.unwrap_err().saw;
    assert_eq!(saw(ok), Some("completed".to_string()));
    assert_eq!(saw(failed), Some("failed(block failed to run)".to_string()));
}

/// A tail that is a brace-delimited macro call (a statement to syn) is a
/// tail: the type its context expects reaches it (here the closure in it
/// takes its parameter's type from the `let`).
#[test]
fn a_macro_call_as_the_tail_is_typed_by_the_context() {
    macro_rules! boxed {
        ($e:expr) => {
            Box::new($e)
        };
    }
    let (len, log) = run_both(|| async {
        let log = Log::default();
        let len: Box<dyn Fn(&str) -> usize> = async_with!(_q = Quiet::new(&log) => {
            boxed! { |s| s.len() }
        });
        (len("four"), log.events())
    });
    assert_eq!(len, 4);
    assert_eq!(log, ["enter quiet", "exit quiet: completed"]);
}
