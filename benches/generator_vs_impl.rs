//! Item 2: an `#[async_context]` manager in `async_with!` against the same
//! setup and teardown written as a hand-written manager, on the success path
//! and on the error path (`?` fails in the block, the teardown sees it).
//! Targets: `generator` / `by_hand_b` and `generator_error` /
//! `by_hand_b_error` ≤ 1.25, baseline (b) being the hand-written manager
//! driven by hand (docs/contract.md, "Performance measurement"). `trait_impl`
//! (the hand-written manager in `async_with!`) is printed beside them, and so
//! are both managers driven by hand without panic catching (`generator_c`,
//! `trait_impl_c`): their difference is the generator driver's own cost.
//! `bare_body_c` is the floor of the generator's design: one async block
//! polled across enter and exit, exchanging nothing.

use async_with_benches as support;

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

use async_with::{ExitAction, Outcome, PinnedContextManager};
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

pin_project_lite::pin_project! {
    /// A manager that is one async block, polled twice by enter and until
    /// it ends by exit; the target is a constant, the outcome is not passed
    /// in: the generator's shape without its value exchange.
    struct BareBody<F> {
        #[pin]
        body: F,
    }
}

impl<F: Future<Output = ()>> PinnedContextManager for BareBody<F> {
    type Target = u64;
    type Error = Infallible;

    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<u64, Infallible>> {
        let mut body = self.project().body;
        let mut polls = 0;
        std::future::poll_fn(move |cx: &mut Context<'_>| {
            let _ = body.as_mut().poll(cx);
            polls += 1;
            if polls == 2 {
                Poll::Ready(Ok(black_box(1)))
            } else {
                Poll::Pending
            }
        })
    }

    fn exit<'a>(
        self: Pin<&'a mut Self>,
        _: u64,
        _: Outcome<'a>,
    ) -> impl Future<Output = Result<ExitAction, Infallible>> + 'a {
        let mut body = self.project().body;
        std::future::poll_fn(move |cx: &mut Context<'_>| {
            body.as_mut().poll(cx).map(|()| Ok(ExitAction::Propagate))
        })
    }
}

/// [`BareBody`] driven like `generator_c`: the same three suspensions, the
/// body suspending where the generator's `yield_!` does.
#[divan::bench]
fn bare_body_c() -> u64 {
    run(async {
        let mut manager = pin!(BareBody {
            body: async {
                yield_once().await;
                let mut suspended = false;
                std::future::poll_fn(|_| {
                    if suspended {
                        Poll::Ready(())
                    } else {
                        suspended = true;
                        Poll::Pending
                    }
                })
                .await;
                yield_once().await;
                black_box(true);
            }
        });
        let Ok(mut target) = manager.as_mut().enter().await;
        let n = &mut target;
        yield_once().await;
        let value = *n + black_box(1);
        let Ok(_) = manager.as_mut().exit(target, Outcome::Completed).await;
        value
    })
}
