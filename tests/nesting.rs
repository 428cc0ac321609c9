//! Nested `async_with!` (docs/contract.md, "Several managers and
//! nesting"): `return`, `?` and a labelled `break` crossing several blocks
//! run the inner exit, then the outer exit, then jump; a nested invocation
//! as a tail, inside another macro's arguments, an async block or a fn item
//! belongs where it is written; twelve levels build and run.

#[path = "common/app_error_brief.rs"]
mod app_error_brief;
mod common;

use app_error_brief::AppError;
use async_with::async_with;
use common::{Log, Recorder, run_both};

async fn nested_return(log: &Log) -> Result<u32, AppError> {
    async_with!(_a = Recorder::new("a", log) => {
        async_with!(_b = Recorder::new("b", log) => {
            log.push("inner block");
            return Ok(7);
        });
        log.push("not reached");
    });
    Ok(0)
}

#[test]
fn nested_return_runs_inner_exit_then_outer_exit_then_returns() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (nested_return(&log).await, log.events())
    });
    assert_eq!(result, Ok(7));
    assert_eq!(
        events,
        [
            "enter a",
            "enter b",
            "inner block",
            "exit b (b-target): completed",
            "exit a (a-target): completed"
        ]
    );
}

async fn nested_question(log: &Log) -> Result<u32, AppError> {
    async_with!(_a = Recorder::new("a", log) => {
        async_with!(_b = Recorder::new("b", log) => {
            let n: u32 = "nan".parse()?;
            log.push(format!("not reached {n}"));
        });
    });
    Ok(0)
}

#[test]
fn nested_question_mark_fails_both_exits_then_propagates() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (nested_question(&log).await, log.events())
    });
    let error = "nan".parse::<u32>().unwrap_err();
    assert_eq!(result, Err(AppError::Parse));
    assert_eq!(
        events,
        [
            "enter a".to_string(),
            "enter b".to_string(),
            format!("exit b (b-target): failed({error})"),
            format!("exit a (a-target): failed({error})"),
        ]
    );
}

#[test]
fn nested_labelled_break_crosses_both_blocks() {
    let (found, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<u32, AppError> = async {
            let mut attempts = 0;
            let found = 'search: loop {
                attempts += 1;
                async_with!(_a = Recorder::new("a", &log) => {
                    async_with!(_b = Recorder::new("b", &log) => {
                        for i in 1.. {
                            if i * i > 50 {
                                break 'search i;
                            }
                        }
                    });
                });
            };
            Ok(found * 100 + attempts)
        }
        .await;
        (result, log.events())
    });
    assert_eq!(found, Ok(801));
    assert_eq!(
        events,
        [
            "enter a",
            "enter b",
            "exit b (b-target): completed",
            "exit a (a-target): completed"
        ]
    );
}

/// The nested `async_with!` is the outer block's tail (an expression, not
/// a statement): still expanded as a nested invocation, so the `return`
/// crosses both.
async fn nested_as_tail(log: &Log, found: bool) -> Result<u32, AppError> {
    async_with!(_a = Recorder::new("a", log) => {
        async_with!(_b = Recorder::new("b", log) => {
            if found {
                return Ok(7);
            }
            log.push("not found");
        })
    });
    Ok(0)
}

/// The nested `async_with!` is inside another macro's arguments.
async fn nested_in_macro_arguments(log: &Log, text: &str) -> Result<Vec<u32>, AppError> {
    let found = async_with!(_a = Recorder::new("a", log) => {
        vec![async_with!(_b = Recorder::new("b", log) => { text.parse::<u32>()? })]
    });
    Ok(found)
}

/// An `async_with!` inside an async block inside the block belongs to
/// that async block: its `?` leaves the async block, not the function.
async fn nested_in_async_block(log: &Log) -> Result<String, AppError> {
    let inner = async_with!(_a = Recorder::new("a", log) => {
        let attempt: Result<u32, AppError> = async {
            async_with!(_b = Recorder::new("b", log) => {
                let n: u32 = "nan".parse()?;
                Ok(n)
            })
        }
        .await;
        format!("{attempt:?}")
    });
    Ok(inner)
}

/// An `async_with!` inside a function item inside the block belongs to
/// that function.
async fn nested_in_fn_item(log: &Log) -> Result<String, AppError> {
    let inner = async_with!(_a = Recorder::new("a", log) => {
        async fn attempt(log: &Log) -> Result<u32, AppError> {
            async_with!(_b = Recorder::new("b", log) => {
                let n: u32 = "nan".parse()?;
                Ok(n)
            })
        }
        format!("{:?}", attempt(log).await)
    });
    Ok(inner)
}

#[test]
fn nested_async_with_as_a_tail_inside_macros_and_inside_async_blocks() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (nested_as_tail(&log, true).await, log.events())
    });
    assert_eq!(result, Ok(7));
    assert_eq!(
        events,
        [
            "enter a",
            "enter b",
            "exit b (b-target): completed",
            "exit a (a-target): completed"
        ]
    );

    let (results, events) = run_both(|| async {
        let log = Log::default();
        let results = (
            nested_in_macro_arguments(&log, "5").await,
            nested_in_macro_arguments(&log, "x").await,
        );
        (results, log.events())
    });
    assert_eq!(results, (Ok(vec![5]), Err(AppError::Parse)));
    let error = "x".parse::<u32>().unwrap_err();
    assert_eq!(
        events,
        [
            "enter a".to_string(),
            "enter b".to_string(),
            "exit b (b-target): completed".to_string(),
            "exit a (a-target): completed".to_string(),
            "enter a".to_string(),
            "enter b".to_string(),
            format!("exit b (b-target): failed({error})"),
            format!("exit a (a-target): failed({error})"),
        ]
    );

    let (result, events) = run_both(|| async {
        let log = Log::default();
        (nested_in_async_block(&log).await, log.events())
    });
    assert_eq!(result, Ok("Err(Parse)".to_string()));
    let error = "nan".parse::<u32>().unwrap_err();
    assert_eq!(
        events,
        [
            "enter a".to_string(),
            "enter b".to_string(),
            format!("exit b (b-target): failed({error})"),
            "exit a (a-target): completed".to_string(),
        ]
    );

    let (result, events) = run_both(|| async {
        let log = Log::default();
        (nested_in_fn_item(&log).await, log.events())
    });
    assert_eq!(result, Ok("Err(Parse)".to_string()));
    let error = "nan".parse::<u32>().unwrap_err();
    assert_eq!(
        events,
        [
            "enter a".to_string(),
            "enter b".to_string(),
            format!("exit b (b-target): failed({error})"),
            "exit a (a-target): completed".to_string(),
        ]
    );
}

#[test]
fn deep_nesting_with_every_way_out_compiles_and_runs() {
    // Twelve levels, each crossed by `?`, `return` and a labelled `break`:
    // the expansion grows with the nesting, never doubles per level (a
    // replay written twice once made eight levels take minutes to build).
    async fn deep(n: u8) -> Result<u8, std::num::ParseIntError> {
        #[allow(clippy::never_loop)]
        let out = 'out: loop {
            async_with!(_l0 = async_with::nullcontext(0) => {
            async_with!(_l1 = async_with::nullcontext(1) => {
            async_with!(_l2 = async_with::nullcontext(2) => {
            async_with!(_l3 = async_with::nullcontext(3) => {
            async_with!(_l4 = async_with::nullcontext(4) => {
            async_with!(_l5 = async_with::nullcontext(5) => {
            async_with!(_l6 = async_with::nullcontext(6) => {
            async_with!(_l7 = async_with::nullcontext(7) => {
            async_with!(_l8 = async_with::nullcontext(8) => {
            async_with!(_l9 = async_with::nullcontext(9) => {
            async_with!(_l10 = async_with::nullcontext(10) => {
            async_with!(_l11 = async_with::nullcontext(11) => {
                match n {
                    0 => return Ok(100),
                    1 => break 'out 101,
                    _ => { "x".parse::<u8>()?; }
                }
            }); }); }); }); }); }); }); }); }); }); }); });
            break 0;
        };
        Ok(out)
    }
    let results = run_both(|| async { (deep(0).await, deep(1).await, deep(2).await.is_err()) });
    assert_eq!(results, (Ok(100), Ok(101), true));
}

/// A jump whose loop is in the enclosing block is replayed between the two
/// exits: the inner level's exit runs, the loop goes on, and the outer
/// level's exit runs once, at the end.
async fn loop_between_levels(log: &Log) -> Result<u32, AppError> {
    let mut total = 0;
    async_with!(_a = Recorder::new("a", log) => {
        for i in 1..=4_u32 {
            async_with!(_b = Recorder::new("b", log) => {
                if i == 2 {
                    continue;
                }
                if i == 4 {
                    break;
                }
                total += i;
            });
            log.push(format!("after b {i}"));
        }
    });
    Ok(total)
}

#[test]
fn a_jump_to_a_loop_in_the_enclosing_block_runs_only_the_inner_exit() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (loop_between_levels(&log).await, log.events())
    });
    assert_eq!(result, Ok(1 + 3));
    assert_eq!(
        events,
        [
            "enter a",
            "enter b",
            "exit b (b-target): completed",
            "after b 1",
            "enter b",
            "exit b (b-target): completed",
            "enter b",
            "exit b (b-target): completed",
            "after b 3",
            "enter b",
            "exit b (b-target): completed",
            "exit a (a-target): completed",
        ]
    );
}

/// Three levels, a labelled loop between the first and the second: a
/// `break 'rows` from the third runs the third and second exits, then
/// leaves the loop inside the first level's block.
async fn labelled_loop_two_levels_up(log: &Log) -> Result<Vec<u32>, AppError> {
    let mut seen = Vec::new();
    async_with!(_a = Recorder::new("a", log) => {
        'rows: for row in 0..3_u32 {
            async_with!(_b = Recorder::new("b", log), _c = Recorder::new("c", log) => {
                if row == 1 {
                    break 'rows;
                }
                seen.push(row);
            });
        }
        log.push("after the loop");
    });
    Ok(seen)
}

#[test]
fn a_labelled_jump_two_levels_up_runs_the_exits_it_crosses() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (labelled_loop_two_levels_up(&log).await, log.events())
    });
    assert_eq!(result, Ok(vec![0]));
    assert_eq!(
        events,
        [
            "enter a",
            "enter b",
            "enter c",
            "exit c (c-target): completed",
            "exit b (b-target): completed",
            "enter b",
            "enter c",
            "exit c (c-target): completed",
            "exit b (b-target): completed",
            "after the loop",
            "exit a (a-target): completed",
        ]
    );
}

/// Twenty managers in one invocation: a `?` in the block fails every exit,
/// innermost first, then leaves the function.
async fn twenty_managers(log: &Log) -> Result<u32, AppError> {
    async_with!(
        _m0 = Recorder::new("m0", log), _m1 = Recorder::new("m1", log),
        _m2 = Recorder::new("m2", log), _m3 = Recorder::new("m3", log),
        _m4 = Recorder::new("m4", log), _m5 = Recorder::new("m5", log),
        _m6 = Recorder::new("m6", log), _m7 = Recorder::new("m7", log),
        _m8 = Recorder::new("m8", log), _m9 = Recorder::new("m9", log),
        _m10 = Recorder::new("m10", log), _m11 = Recorder::new("m11", log),
        _m12 = Recorder::new("m12", log), _m13 = Recorder::new("m13", log),
        _m14 = Recorder::new("m14", log), _m15 = Recorder::new("m15", log),
        _m16 = Recorder::new("m16", log), _m17 = Recorder::new("m17", log),
        _m18 = Recorder::new("m18", log), _m19 = Recorder::new("m19", log) => {
        let n: u32 = "nan".parse()?;
        Ok(n)
    })
}

#[test]
fn twenty_managers_all_see_the_failure_innermost_first() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (twenty_managers(&log).await, log.events())
    });
    let error = "nan".parse::<u32>().unwrap_err();
    assert_eq!(result, Err(AppError::Parse));
    let mut expected: Vec<String> = (0..20).map(|i| format!("enter m{i}")).collect();
    expected.extend(
        (0..20)
            .rev()
            .map(|i| format!("exit m{i} (m{i}-target): failed({error})")),
    );
    assert_eq!(events, expected);
}

/// An unlabelled `break` and `continue` in a nested level, to a loop
/// outside the outermost macro (no loop between the levels): both exits
/// run, then the outermost level replays the jump.
async fn loop_outside_both_levels(log: &Log) -> Result<u32, AppError> {
    let mut total = 0;
    for i in 1..=4_u32 {
        async_with!(_a = Recorder::new("a", log) => {
            async_with!(_b = Recorder::new("b", log) => {
                if i == 2 {
                    continue;
                }
                if i == 3 {
                    break;
                }
                total += i;
            });
        });
        log.push(format!("after a {i}"));
    }
    Ok(total)
}

#[test]
fn a_jump_from_a_nested_level_to_a_loop_outside_both_runs_both_exits() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        (loop_outside_both_levels(&log).await, log.events())
    });
    assert_eq!(result, Ok(1));
    let round = [
        "enter a",
        "enter b",
        "exit b (b-target): completed",
        "exit a (a-target): completed",
    ];
    let expected: Vec<String> = [&round[..], &["after a 1"], &round[..], &round[..]]
        .concat()
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(events, expected);
}
