use async_with::{AsyncContextManager, Outcome, PinnedContextManager};
use async_with_benches as support;
use std::hint::black_box;
use std::pin::pin;
use support::{Trivial, run, yield_once};

fn main() {
    eprintln!(
        "sizes: generator {} body-less manager; macro_generator_1 {}; macro_1 {}; by_hand_1 {}",
        std::mem::size_of_val(&support::generator()),
        std::mem::size_of_val(&support::macro_generator_1()),
        std::mem::size_of_val(&support::macro_1()),
        std::mem::size_of_val(&support::by_hand_1())
    );
    support::divan_main();
}

#[divan::bench]
fn trivial_direct() -> u64 {
    run(async {
        let mut m = Trivial;
        let Ok(mut t) = AsyncContextManager::enter(&mut m).await;
        let n = &mut t;
        yield_once().await;
        let v = *n + black_box(1);
        let Ok(_) = AsyncContextManager::exit(&mut m, t, Outcome::Completed).await;
        v
    })
}

#[divan::bench]
fn generator_direct() -> u64 {
    run(async {
        let mut m = pin!(support::generator());
        let Ok(mut t) = PinnedContextManager::enter(m.as_mut()).await;
        let n = &mut t;
        yield_once().await;
        let v = *n + black_box(1);
        let Ok(_) = PinnedContextManager::exit(m.as_mut(), t, Outcome::Completed).await;
        v
    })
}
