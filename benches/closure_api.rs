//! Item 5: the closure API `with(manager, async |target| ..)` vs
//! `async_with!`, on item 1's workload and on item 6's failing block.

use async_with_benches as support;

use std::hint::black_box;

use support::{Oops, run};

fn main() {
    support::divan_main();
}

/// `with(Trivial, async |n| { ..; Ok(value) })`.
#[divan::bench]
fn with() -> Result<Option<u64>, std::convert::Infallible> {
    run(support::closure_1())
}

/// `async_with!(n = Trivial => { .. })`.
#[divan::bench]
fn async_with() -> u64 {
    run(support::macro_1())
}

/// The failing block through `with`.
#[divan::bench]
fn with_error() -> Result<Option<u64>, Oops> {
    run(support::closure_error(black_box(true)))
}

/// The failing block through `async_with!`.
#[divan::bench]
fn async_with_error() -> Result<u64, Oops> {
    run(support::macro_error(black_box(true)))
}
