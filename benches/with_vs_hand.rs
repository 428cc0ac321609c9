//! Item 1: `async_with!` with a trivial hand-written manager vs the same
//! enter/block/exit written by hand. Target: `async_with` / `by_hand_b` ≤ 1.05.
//! `inline_a` (no manager) and `unguarded_c` (no panic catching) are printed
//! beside them. Three suspensions per use; see `support` for the workloads.

use async_with_benches as support;

use support::run;

fn main() {
    support::divan_main();
}

/// `async_with!(n = Trivial => { .. })`.
#[divan::bench]
fn async_with() -> u64 {
    run(support::macro_1())
}

/// Baseline (b): by hand, panic caught and resumed, exit on every path.
#[divan::bench]
fn by_hand_b() -> u64 {
    run(support::by_hand_1())
}

/// Baseline (a): the same work inline, no manager.
#[divan::bench]
fn inline_a() -> u64 {
    run(support::inline_1())
}

/// Baseline (c): by hand through the trait, no panic catching.
#[divan::bench]
fn unguarded_c() -> u64 {
    run(support::unguarded_1())
}
