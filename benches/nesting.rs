//! Item 3: nesting depth 1, 2, 4 and 8, with hand-written managers and with
//! `#[async_context]` managers (`async_with!(a = M, b = M, .. => { .. })`,
//! which nests exactly like `async_with!` blocks written inside each other).
//! Target: linear in depth (constant cost per level).

use async_with_benches as support;

use support::run;

fn main() {
    support::divan_main();
}

/// Hand-written managers.
#[divan::bench(consts = [1, 2, 4, 8])]
fn trait_impl<const DEPTH: usize>() -> u64 {
    match DEPTH {
        1 => run(support::macro_1()),
        2 => run(support::macro_2()),
        4 => run(support::macro_4()),
        8 => run(support::macro_8()),
        _ => unreachable!(),
    }
}

/// `#[async_context]` managers.
#[divan::bench(consts = [1, 2, 4, 8])]
fn generator<const DEPTH: usize>() -> u64 {
    match DEPTH {
        1 => run(support::macro_generator_1()),
        2 => run(support::macro_generator_2()),
        4 => run(support::macro_generator_4()),
        8 => run(support::macro_generator_8()),
        _ => unreachable!(),
    }
}
