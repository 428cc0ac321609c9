//! Item 2: an `#[async_context]` manager in `async_with!` against the same
//! setup and teardown written as a hand-written manager, on the success path
//! and on the error path (`?` fails in the block, the teardown sees it).
//! Targets: `generator` / `by_hand_b` and `generator_error` /
//! `by_hand_b_error` ≤ 1.25, baseline (b) being the hand-written manager
//! driven by hand (`SPEC.md` section 5). `trait_impl` (the hand-written
//! manager in `async_with!`) is printed beside them, and so are both
//! managers driven by hand without panic catching (`generator_c`,
//! `trait_impl_c`): their difference is the generator driver's own cost.

use async_with_benches as support;

use std::hint::black_box;
use std::pin::pin;

use async_with::{Outcome, PinnedContextManager};
use support::{Oops, run, yield_once};

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

/// `async_with!(n = fallible_generator() => { ..; check(true)?; .. })`.
#[divan::bench]
fn generator_error() -> Result<u64, Oops> {
    run(support::macro_generator_error(black_box(true)))
}

/// `async_with!(n = Fallible => { ..; check(true)?; .. })`.
#[divan::bench]
fn trait_impl_error() -> Result<u64, Oops> {
    run(support::macro_error(black_box(true)))
}

/// Baseline (b) on the error path: `Fallible` driven by hand.
#[divan::bench]
fn by_hand_b_error() -> Result<u64, Oops> {
    run(support::by_hand_error(black_box(true)))
}

/// The generator driven by hand through the trait, no panic catching: the
/// same steps as `trait_impl_c`.
#[divan::bench]
fn generator_c() -> u64 {
    run(async {
        let mut manager = pin!(support::generator());
        let Ok(mut target) = manager.as_mut().enter().await;
        let n = &mut target;
        yield_once().await;
        let value = *n + black_box(1);
        let Ok(_) = manager.as_mut().exit(target, Outcome::Completed).await;
        value
    })
}

/// Baseline (c): `Trivial` driven by hand through the trait, no panic
/// catching.
#[divan::bench]
fn trait_impl_c() -> u64 {
    run(support::unguarded_1())
}
