//! Item 4: `AsyncExitStack` with 1, 10, 100 and 1000 entries (`Trivial`
//! managers: enter and exit suspend once each), in `async_with!`.
//! `scripts/bench/ratios.sh` prints the cost per entry; `benches/nesting.rs` has
//! the cost per level of statically nested managers for comparison.

use async_with_benches as support;

use support::run;

fn main() {
    // 1000 entries take tens of µs: fewer iterations per sample than the
    // other benches.
    divan::Divan::from_args()
        .sample_count(100)
        .sample_size(20)
        .main();
}

/// `entries` managers entered into one stack.
#[divan::bench(args = [1, 10, 100, 1000])]
fn entries(entries: usize) -> Result<u64, async_with::BoxError> {
    run(support::exit_stack(entries))
}
