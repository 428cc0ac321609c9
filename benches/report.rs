//! Not timed: heap allocations per use (a counting global allocator) and
//! future sizes (`size_of_val` of the `async fn`'s future), for the
//! workloads of the timed benches. Printed as tables; `scripts/bench/report.sh`
//! runs it. Targets: 0 allocations per use (items 1, 2, 3, 6); at most 16
//! bytes of future per manager over the hand-written baseline (b).

use async_with_benches as support;

#[path = "../tests/common/counting_allocator.rs"]
mod counting_allocator;

use std::future::Future;
use std::hint::black_box;

use counting_allocator::{CountingAllocator, allocations};
use support::run;

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const USES: usize = 1000;

/// Allocations per use of `make()`'s future, after one warm-up use.
fn allocations_per_use<F: Future>(make: impl Fn() -> F) -> f64 {
    black_box(run(make()));
    let before = allocations();
    for _ in 0..USES {
        black_box(run(make()));
    }
    (allocations() - before) as f64 / USES as f64
}

fn allocation_row<F: Future>(item: &str, form: &str, make: impl Fn() -> F) {
    println!("| {item} | {form} | {} |", allocations_per_use(make));
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that names nothing here
    // (as when another bench target is chosen) skips the report.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filters.is_empty() && !filters.iter().any(|f| "report".contains(f.as_str())) {
        return;
    }

    println!("Heap allocations per use ({USES} uses after one warm-up; target 0)");
    println!();
    println!("| item | form | allocations/use |");
    println!("|---|---|---|");
    allocation_row("1", "async_with!, hand-written manager", support::macro_1);
    allocation_row("1", "(b) by hand", support::by_hand_1);
    allocation_row(
        "2",
        "async_with!, #[async_context] manager",
        support::macro_generator_1,
    );
    allocation_row("3", "depth 8, hand-written managers", support::macro_8);
    allocation_row(
        "3",
        "depth 8, #[async_context] managers",
        support::macro_generator_8,
    );
    allocation_row("6", "error path, async_with!", || {
        support::macro_error(black_box(true))
    });
    allocation_row("6", "error path, (b) by hand", || {
        support::by_hand_error(black_box(true))
    });
    allocation_row(
        "2",
        "error path, async_with!, #[async_context] manager",
        || support::macro_generator_error(black_box(true)),
    );
    allocation_row("5", "with(), closure API", support::closure_1);
    allocation_row("5", "with(), failing block", || {
        support::closure_error(black_box(true))
    });
    println!();

    println!(
        "Exit stack: heap allocations per use and per entry (target: amortised O(1) per entry)"
    );
    println!();
    println!("| entries | allocations/use | allocations/entry |");
    println!("|---|---|---|");
    for entries in [1, 10, 100, 1000] {
        let made = allocations_per_use(|| support::exit_stack(black_box(entries)));
        println!("| {entries} | {made} | {:.2} |", made / entries as f64);
    }
    println!();

    println!(
        "Future sizes in bytes (size_of_val of the async fn's future; target ≤ 16 bytes/manager over (b))"
    );
    println!();
    println!(
        "| managers | async_with! | (b) by hand | overhead/manager | async_with!, #[async_context] |"
    );
    println!("|---|---|---|---|---|");
    let rows = [
        (
            1,
            size_of_val(&support::macro_1()),
            size_of_val(&support::by_hand_1()),
            size_of_val(&support::macro_generator_1()),
        ),
        (
            2,
            size_of_val(&support::macro_2()),
            size_of_val(&support::by_hand_2()),
            size_of_val(&support::macro_generator_2()),
        ),
        (
            4,
            size_of_val(&support::macro_4()),
            size_of_val(&support::by_hand_4()),
            size_of_val(&support::macro_generator_4()),
        ),
    ];
    for (managers, with, by_hand, generator) in rows {
        let overhead = (with as f64 - by_hand as f64) / managers as f64;
        println!("| {managers} | {with} | {by_hand} | {overhead:+} | {generator} |");
    }
    println!();
    // Item 2: the generator form against the same manager written by hand,
    // both in `async_with!`.
    let (generator, hand_written) = (
        size_of_val(&support::macro_generator_1()),
        size_of_val(&support::macro_1()),
    );
    println!(
        "Item 2, one manager in async_with!: #[async_context] {generator} bytes, hand-written {hand_written} bytes: {:+} (target ≤ +32)",
        generator as i64 - hand_written as i64
    );
    println!();
    println!(
        "For scale: (a) inline {} bytes, (c) unguarded {} bytes, one `generator()` manager {} bytes.",
        size_of_val(&support::inline_1()),
        size_of_val(&support::unguarded_1()),
        size_of_val(&support::generator()),
    );
}
