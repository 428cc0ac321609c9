//! `break` and `continue` (docs/contract.md, "`return`, `?`, `break` and
//! `continue`"): leaving the block, labelled or not, they run exit with
//! `Completed` first; loops inside the block keep their own. Each test runs
//! on the runtime-free executor and on tokio.

#[path = "common/app_error.rs"]
mod app_error;
mod common;

use app_error::AppError;
use async_with::async_with;
use common::{Log, Quiet, Recorder, run_both};

#[test]
fn labelled_break_from_an_inner_loop_leaves_the_outer_loop_after_exit() {
    let (result, events) = run_both(|| async {
        let log = Log::default();
        let mut rounds = 0;
        let result: Result<u32, AppError> = async {
            let found = 'outer: loop {
                rounds += 1;
                if rounds > 3 {
                    break 0;
                }
                async_with!(_conn = Recorder::new("a", &log) => {
                    for i in 0.. {
                        if i == 3 {
                            break 'outer i * 10;
                        }
                    }
                });
            };
            Ok(found)
        }
        .await;
        (result.map(|found| (found, rounds)), log.events())
    });
    assert_eq!(result, Ok((30, 1)));
    assert_eq!(events, ["enter a", "exit a (a-target): completed"]);
}

#[test]
fn continue_and_break_run_exit_every_time() {
    let (visited, events) = run_both(|| async {
        let log = Log::default();
        let mut visited = Vec::new();
        let result: Result<(), AppError> = async {
            for i in 0..5 {
                async_with!(_conn = Recorder::new("a", &log) => {
                    if i % 2 == 0 {
                        continue;
                    }
                    if i == 3 {
                        break;
                    }
                    visited.push(i);
                });
            }
            Ok(())
        }
        .await;
        result.unwrap();
        (visited, log.events())
    });
    // i = 0 (continue), 1 (visit), 2 (continue), 3 (break): each round
    // enters and exits, and exit sees a completed block every time.
    assert_eq!(visited, [1]);
    let round = ["enter a", "exit a (a-target): completed"];
    assert_eq!(events, round.repeat(4));
}

#[test]
fn a_loop_inside_the_block_keeps_its_own_break_and_continue() {
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
