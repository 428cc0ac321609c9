//! The benchmark targets that are counts, not times, asserted so that a
//! regression fails `.ci/run`: zero heap allocations per use, and the
//! future-size overhead over the hand-written baseline (b). Times are never
//! asserted (they live in `cargo bench` and `scripts/bench/`).

#[path = "../../tests/common/counting_allocator.rs"]
mod counting_allocator;

use std::future::Future;
use std::hint::black_box;

use async_with_benches as support;
use counting_allocator::{CountingAllocator, allocations};
use support::run;

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Allocations made by 100 uses of `make()`'s future, after one warm-up.
fn allocations_in_100_uses<F: Future>(make: impl Fn() -> F) -> usize {
    black_box(run(make()));
    let before = allocations();
    for _ in 0..100 {
        black_box(run(make()));
    }
    allocations() - before
}

#[test]
fn no_use_allocates() {
    let workloads: [(&str, usize); 9] = [
        (
            "async_with!, hand-written manager",
            allocations_in_100_uses(support::macro_1),
        ),
        (
            "async_with!, #[async_context]",
            allocations_in_100_uses(support::macro_generator_1),
        ),
        (
            "depth 8, hand-written",
            allocations_in_100_uses(support::macro_8),
        ),
        (
            "depth 8, #[async_context]",
            allocations_in_100_uses(support::macro_generator_8),
        ),
        (
            "`?` fails",
            allocations_in_100_uses(|| support::macro_error(black_box(true))),
        ),
        (
            "`?` fails, #[async_context]",
            allocations_in_100_uses(|| support::macro_generator_error(black_box(true))),
        ),
        ("with()", allocations_in_100_uses(support::closure_1)),
        (
            "with(), failing body",
            allocations_in_100_uses(|| support::closure_error(black_box(true))),
        ),
        (
            "(b) by hand, for reference",
            allocations_in_100_uses(support::by_hand_1),
        ),
    ];
    for (workload, made) in workloads {
        assert_eq!(made, 0, "{workload}: {made} allocations in 100 uses");
    }
}

#[test]
fn the_counter_sees_allocations() {
    let before = allocations();
    let boxed = black_box(Box::new(5));
    assert_eq!(allocations() - before, 1);
    drop(boxed);
}

/// Future layout is decided by the optimizing build the benchmarks use;
/// `.ci/run` runs this test with `--release`.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "a target of the release profile: run with `cargo test --release`"
)]
fn future_size_overhead_stays_within_the_targets() {
    let per_manager = |with: usize, by_hand: usize, managers: usize| {
        (with as f64 - by_hand as f64) / managers as f64
    };
    let pairs = [
        (
            1,
            size_of_val(&support::macro_1()),
            size_of_val(&support::by_hand_1()),
        ),
        (
            2,
            size_of_val(&support::macro_2()),
            size_of_val(&support::by_hand_2()),
        ),
        (
            4,
            size_of_val(&support::macro_4()),
            size_of_val(&support::by_hand_4()),
        ),
    ];
    for (managers, with, by_hand) in pairs {
        let overhead = per_manager(with, by_hand, managers);
        assert!(
            overhead <= 16.0,
            "{managers} managers: {with} B vs (b) {by_hand} B, {overhead:+} B per manager (target ≤ 16)"
        );
    }
    // The generator form against the hand-written manager, both in async_with!.
    let generator = size_of_val(&support::macro_generator_1());
    let hand_written = size_of_val(&support::macro_1());
    assert!(
        generator <= hand_written + 32,
        "#[async_context]: {generator} B vs {hand_written} B (target ≤ +32 B)"
    );
}
