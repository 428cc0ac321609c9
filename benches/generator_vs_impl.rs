//! Item 2: an `#[async_context]` manager vs a hand-written trait impl doing
//! the same, both in `async_with!`. Target: `generator` / `trait_impl` ≤ 1.25.
//! `by_hand_b` (the impl driven by hand, baseline (b)) is printed beside them.

use async_with_benches as support;

use support::run;

fn main() {
    support::divan_main();
}

/// `async_with!(n = generator() => { .. })`.
#[divan::bench]
fn generator() -> u64 {
    run(support::macro_generator_1())
}

/// `async_with!(n = Trivial => { .. })`.
#[divan::bench]
fn trait_impl() -> u64 {
    run(support::macro_1())
}

/// Baseline (b): `Trivial` driven by hand with the same guarantees.
#[divan::bench]
fn by_hand_b() -> u64 {
    run(support::by_hand_1())
}
