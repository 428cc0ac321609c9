//! SPEC rule 12: the block borrows the target and its surroundings, and
//! `.await`, `?`, `return`, `break` and `continue` work in it as in any Rust
//! block, including through nested `async_with!` and other macros.

mod common;

use async_with::async_with;
use common::{Log, ManagerError, Quiet, Recorder, run_both};

#[derive(Debug, PartialEq)]
enum AppError {
    Manager(&'static str),
    Parse,
    Text(String),
}

impl From<ManagerError> for AppError {
    fn from(error: ManagerError) -> Self {
        AppError::Manager(error.name)
    }
}

impl From<std::num::ParseIntError> for AppError {
    fn from(_: std::num::ParseIntError) -> Self {
        AppError::Parse
    }
}

impl From<String> for AppError {
    fn from(error: String) -> Self {
        AppError::Text(error)
    }
}

#[test]
fn rule_12_the_block_uses_the_target_and_outer_locals_mutably() {
    let (target, total) = run_both(|| async {
        let log = Log::default();
        let mut total = 0;
        let result: Result<String, AppError> = async {
            Ok(async_with!(mut conn = Recorder::new("a", &log) => {
                conn.push_str("-changed");
                total += conn.len();
                common::yield_now().await;
                conn.clone()
            }))
        }
        .await;
        (result, total)
    });
    assert_eq!(target, Ok("a-target-changed".to_string()));
    assert_eq!(total, "a-target-changed".len());
}

#[test]
fn rule_12_exit_gets_back_the_target_the_block_changed() {
    let events = run_both(|| async {
        let log = Log::default();
        let _: Result<(), AppError> = async {
            async_with!(conn = Recorder::new("a", &log) => {
                conn.push_str("+used");
            });
            Ok(())
        }
        .await;
        log.events()
    });
    assert_eq!(events[1], "exit a (a-target+used): completed");
}

#[test]
fn rule_12_tuple_and_wildcard_patterns_bind_like_let() {
    use async_with::{AsyncContextManager, ExitAction, Outcome};
    struct Pair(Log);
    impl AsyncContextManager for Pair {
        type Target = (u8, String);
        type Error = std::convert::Infallible;
        async fn enter(&mut self) -> Result<(u8, String), Self::Error> {
            Ok((1, "one".into()))
        }
        async fn exit(
            &mut self,
            pair: (u8, String),
            _: Outcome<'_>,
        ) -> Result<ExitAction, Self::Error> {
            self.0.push(format!("{pair:?}"));
            Ok(ExitAction::Propagate)
        }
    }
    let (first, second, events) = run_both(|| async {
        let log = Log::default();
        let first = async_with!((n, s) = Pair(log.clone()) => {
            *n += 1;
            s.push('!');
            format!("{n} {s}")
        });
        let second = async_with!(_ = Pair(log.clone()) => { 5 });
        let third = async_with!(Pair(log.clone()) => { 6 });
        (first, second + third, log.events())
    });
    assert_eq!(first, "2 one!");
    assert_eq!(second, 11);
    assert_eq!(events, ["(2, \"one!\")", "(1, \"one\")", "(1, \"one\")"]);
}

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
fn rule_12_nested_return_runs_inner_exit_then_outer_exit_then_returns() {
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
fn rule_12_nested_question_mark_fails_both_exits_then_propagates() {
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
fn rule_12_nested_labelled_break_crosses_both_blocks() {
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

#[test]
fn rule_12_a_loop_inside_the_block_keeps_its_own_break_and_continue() {
    // The block's own loops take unlabelled `break`/`continue`; after them
    // an unlabelled `break` leaves the block for the enclosing loop.
    let (passes, events) = run_both(|| async {
        let log = Log::default();
        let mut passes = 0;
        loop {
            passes += 1;
            async_with!(_q = Quiet::new(&log) => {
                for i in 0.. {
                    if i < 2 {
                        continue;
                    }
                    break;
                }
                let mut n = 0;
                loop {
                    n += 1;
                    if n == 2 {
                        break;
                    }
                }
                while n < 5 {
                    n += 1;
                    if n == 4 {
                        break;
                    }
                }
                if passes == 2 {
                    break;
                }
            });
        }
        (passes, log.events())
    });
    assert_eq!(passes, 2);
    assert_eq!(
        events,
        [
            "enter quiet",
            "exit quiet: completed",
            "enter quiet",
            "exit quiet: completed"
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
fn rule_12_nested_async_with_as_a_tail_inside_macros_and_inside_async_blocks() {
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

fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
    text.parse()
}

fn check(ok: bool) -> Result<bool, String> {
    if ok {
        Ok(true)
    } else {
        Err("check failed".into())
    }
}

async fn question_in_macros(text: &str, ok: bool, log: &Log) -> Result<Vec<u32>, AppError> {
    async_with!(_q = Quiet::new(log) => {
        log.push(format!("parsed {}", parse(text)?));
        let values = vec![parse(text)?, parse("2")?];
        assert!(check(ok)?);
        Ok(values)
    })
}

#[test]
fn rule_12_question_mark_inside_other_macros_arguments() {
    let ok = run_both(|| async {
        let log = Log::default();
        (question_in_macros("1", true, &log).await, log.events())
    });
    assert_eq!(ok.0, Ok(vec![1, 2]));
    assert_eq!(ok.1, ["enter quiet", "parsed 1", "exit quiet: completed"]);

    let bad_parse = run_both(|| async {
        let log = Log::default();
        (question_in_macros("x", true, &log).await, log.events())
    });
    assert_eq!(bad_parse.0, Err(AppError::Parse));
    assert_eq!(
        bad_parse.1[1],
        "exit quiet: failed(invalid digit found in string)"
    );

    let bad_check = run_both(|| async {
        let log = Log::default();
        (question_in_macros("1", false, &log).await, log.events())
    });
    assert_eq!(bad_check.0, Err(AppError::Text("check failed".into())));
    assert_eq!(bad_check.1[2], "exit quiet: failed(\"check failed\")");
}

async fn return_in_format(log: &Log) -> u32 {
    async_with!(_q = Quiet::new(log) => {
        println!("{}", if log.events().len() == 1 { return 5 } else { 0 });
    });
    6
}

#[test]
fn rule_12_return_inside_another_macros_arguments() {
    let (value, events) = run_both(|| async {
        let log = Log::default();
        (return_in_format(&log).await, log.events())
    });
    assert_eq!(value, 5);
    assert_eq!(events, ["enter quiet", "exit quiet: completed"]);
}

#[test]
fn rule_12_closures_async_blocks_and_fn_items_keep_their_own_control_flow() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let result: Result<u32, AppError> = async {
            Ok(async_with!(_q = Quiet::new(&log) => {
                // `?` and `return` in a closure act on the closure.
                let closure = |text: &str| -> Result<u32, std::num::ParseIntError> {
                    if text.is_empty() {
                        return Ok(0);
                    }
                    let n: u32 = text.parse()?;
                    Ok(n)
                };
                assert!(closure("x").is_err());
                // ... in an async block, on the async block.
                let inner = async {
                    let n: u32 = "y".parse()?;
                    Ok::<u32, std::num::ParseIntError>(n)
                };
                assert!(inner.await.is_err());
                // ... in a fn item, on the fn.
                fn helper() -> Option<u32> {
                    None?;
                    Some(1)
                }
                assert_eq!(helper(), None);
                // Loops inside the block keep their own break/continue.
                let mut sum = 0;
                for i in 0..10 {
                    if i % 2 == 0 {
                        continue;
                    }
                    if i > 6 {
                        break;
                    }
                    sum += i;
                }
                let labelled = 'block: {
                    if sum > 0 {
                        break 'block sum * 2;
                    }
                    0
                };
                closure("")? + labelled
            }))
        }
        .await;
        (result, log.events())
    });
    assert_eq!(result, Ok((1 + 3 + 5) * 2));
    assert_eq!(events, ["enter quiet", "exit quiet: completed"]);
}

#[test]
fn rule_12_the_future_is_send_and_runs_on_the_multi_thread_runtime() {
    async fn uses_managers(log: Log) -> Result<usize, AppError> {
        Ok(
            async_with!(a = Recorder::new("a", &log), b = Recorder::new("b", &log) => {
                tokio::task::yield_now().await;
                let n: usize = "3".parse()?;
                a.len() + b.len() + n
            }),
        )
    }
    fn assert_send<T: Send>(value: T) -> T {
        value
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let log = Log::default();
    let handle = runtime.spawn(assert_send(uses_managers(log.clone())));
    let value = runtime.block_on(handle).unwrap();
    assert_eq!(value, Ok(8 + 8 + 3));
    assert_eq!(log.events().len(), 4);
}

#[test]
fn rule_12_the_expansion_does_not_shadow_the_users_names() {
    // Names the expansion uses for its own locals, used by the block.
    let (entered, guard, manager, target, outcome, flow) = (1, 2, 3, 4, 5, 6);
    let sum = run_both(|| async {
        let log = Log::default();
        async_with!(_q = common::Quiet::new(&log) => {
            entered + guard + manager + target + outcome + flow
        })
    });
    assert_eq!(sum, 21);
}

#[test]
fn rule_12_a_parenthesised_struct_literal_manager() {
    // Parentheses are required here; the expansion must not make rustc warn
    // about them (the test crate denies warnings in CI through clippy).
    let events = run_both(|| async {
        let log = Log::default();
        async_with!(_q = (common::Quiet { log: log.clone() }) => {});
        log.events()
    });
    assert_eq!(events, ["enter quiet", "exit quiet: completed"]);
}

#[test]
fn rule_12_deep_nesting_with_every_way_out_compiles_and_runs() {
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
