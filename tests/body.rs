//! The block is a plain Rust block (docs/contract.md, "The block is a
//! plain Rust block"): it borrows the target and its surroundings, and
//! `.await`, `?` and `return` work in it as in any Rust block, also inside
//! other macros' arguments, while closures, async blocks and fn items keep
//! their own. Nesting is in `tests/nesting.rs`, loops in
//! `tests/break_continue.rs`.

#[path = "common/app_error_brief.rs"]
mod app_error_brief;
mod common;

use app_error_brief::AppError;
use async_with::async_with;
use common::{Log, Quiet, Recorder, run_both};

#[test]
fn the_block_uses_the_target_and_outer_locals_mutably() {
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
fn exit_gets_back_the_target_the_block_changed() {
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
fn tuple_and_wildcard_patterns_bind_like_let() {
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
fn question_mark_inside_other_macros_arguments() {
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
fn return_inside_another_macros_arguments() {
    let (value, events) = run_both(|| async {
        let log = Log::default();
        (return_in_format(&log).await, log.events())
    });
    assert_eq!(value, 5);
    assert_eq!(events, ["enter quiet", "exit quiet: completed"]);
}

#[test]
fn closures_async_blocks_and_fn_items_keep_their_own_control_flow() {
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
fn the_future_is_send_and_runs_on_the_multi_thread_runtime() {
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
fn the_expansion_does_not_shadow_the_users_names() {
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
fn a_parenthesised_struct_literal_manager() {
    // Parentheses are required here; the expansion must not make rustc warn
    // about them (the test crate denies warnings in CI through clippy).
    let events = run_both(|| async {
        let log = Log::default();
        async_with!(_q = (common::Quiet { log: log.clone() }) => {});
        log.events()
    });
    assert_eq!(events, ["enter quiet", "exit quiet: completed"]);
}
