//! The panic path: the block panics, exit sees the panic
//! (`Outcome::Panicked`), the panic resumes and is caught by the bench.
//! Target: `async_with` / `by_hand_b` ≤ 1.10. The panic hook is silenced,
//! so both sides pay for unwinding only. (a) and (c) have no panic path
//! with exit: they are not run here.

use std::hint::black_box;
use std::panic::catch_unwind;

use async_with_benches as support;

use support::run;

fn main() {
    std::panic::set_hook(Box::new(|_| {}));
    support::divan_main();
}

/// `async_with!(n = Trivial => { ..; panic!(..) })`.
#[divan::bench]
fn async_with() -> bool {
    catch_unwind(|| run(support::macro_panic(black_box(true)))).is_err()
}

/// Baseline (b): by hand, panic caught and resumed, exit on every path.
#[divan::bench]
fn by_hand_b() -> bool {
    catch_unwind(|| run(support::by_hand_panic(black_box(true)))).is_err()
}
