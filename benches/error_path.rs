//! Item 6: the error path. The block fails with `?`, exit sees the failure
//! (`Outcome::Failed`, downcast to the error type), the error propagates.
//! Target: `async_with` / `by_hand_b` ≤ 1.10; (a) and (c) beside them.

use async_with_benches as support;

use std::hint::black_box;

use support::{Oops, run};

fn main() {
    support::divan_main();
}

/// `async_with!(n = Fallible => { ..; check(true)?; .. })`.
#[divan::bench]
fn async_with() -> Result<u64, Oops> {
    run(support::macro_error(black_box(true)))
}

/// Baseline (b): by hand, panic caught and resumed, exit on every path.
#[divan::bench]
fn by_hand_b() -> Result<u64, Oops> {
    run(support::by_hand_error(black_box(true)))
}

/// Baseline (a): the same work inline, no manager.
#[divan::bench]
fn inline_a() -> Result<u64, Oops> {
    run(support::inline_error(black_box(true)))
}

/// Baseline (c): by hand through the trait, no panic catching.
#[divan::bench]
fn unguarded_c() -> Result<u64, Oops> {
    run(support::unguarded_error(black_box(true)))
}
