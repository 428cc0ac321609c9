//! Runs one workload of `support.rs` N times, for `scripts/bench/instructions.sh`,
//! which counts the instructions of two runs under callgrind and prints
//! their difference per use: a figure that does not move with the
//! machine's load, unlike the timed benches.
//!
//! `instructions CASE N`; CASE is one of the names in `CASES`.

use std::hint::black_box;

use async_with_benches as support;
use support::run;

const CASES: &[&str] = &[
    "macro",
    "generator",
    "by_hand_b",
    "unguarded_c",
    "macro_error",
    "generator_error",
    "by_hand_b_error",
];

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_default();
    let times: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    // The case is chosen once: the loop runs only the workload.
    let workload: fn() -> u64 = match case.as_str() {
        "macro" => || run(support::macro_1()),
        "generator" => || run(support::macro_generator_1()),
        "by_hand_b" => || run(support::by_hand_1()),
        "unguarded_c" => || run(support::unguarded_1()),
        "macro_error" => || run(support::macro_error(black_box(true))).map_or(1, |n| n),
        "generator_error" => {
            || run(support::macro_generator_error(black_box(true))).map_or(1, |n| n)
        }
        "by_hand_b_error" => || run(support::by_hand_error(black_box(true))).map_or(1, |n| n),
        other => panic!("unknown case {other:?}: one of {CASES:?}"),
    };
    let mut sum = 0u64;
    for _ in 0..times {
        sum = sum.wrapping_add(black_box(workload)());
    }
    black_box(sum);
}
