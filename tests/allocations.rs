//! Zero heap allocations per use: a count (not a timing) of the allocations
//! made by enter + block + exit, for a hand-written and a generator manager.

mod common;
#[path = "common/counting_allocator.rs"]
mod counting_allocator;

use std::convert::Infallible;
use std::task::Poll;

use async_with::{AsyncContextManager, ExitAction, Outcome, async_context, async_with};
use common::poll_to_end as run;
use counting_allocator::{CountingAllocator, allocations};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Suspends once, like real I/O would.
async fn suspend() {
    let mut done = false;
    std::future::poll_fn(|_| {
        if done {
            Poll::Ready(())
        } else {
            done = true;
            Poll::Pending
        }
    })
    .await
}

struct Handwritten;

impl AsyncContextManager for Handwritten {
    type Target = u64;
    type Error = Infallible;

    async fn enter(&mut self) -> Result<u64, Infallible> {
        suspend().await;
        Ok(1)
    }

    async fn exit(&mut self, _: u64, outcome: Outcome<'_>) -> Result<ExitAction, Infallible> {
        suspend().await;
        Ok(if outcome.is_failed() {
            ExitAction::Suppress
        } else {
            ExitAction::Propagate
        })
    }
}

#[async_context]
async fn generator() -> u64 {
    suspend().await;
    let (_, exit) = yield_!(1);
    suspend().await;
    if exit.is_failed() {
        exit.suppress();
    }
}

async fn uses(rounds: u64) -> Option<u64> {
    let mut total = 0;
    for round in 0..rounds {
        total += async_with!(n = Handwritten => { suspend().await; *n + round });
        total += async_with!(n = generator() => { suspend().await; *n });
        total += async_with!(a = Handwritten, b = generator() => { *a + *b });
        // The failure path: `?` fails, exit sees it and suppresses.
        async_with!(_n = Handwritten, _m = generator() => {
            None::<u8>?;
        });
    }
    Some(total)
}

#[test]
fn enter_block_and_exit_allocate_nothing() {
    // Warm up anything lazily allocated (thread-locals, ids).
    run(uses(1));
    let before = allocations();
    let total = run(uses(100));
    let made = allocations() - before;
    assert_eq!(total, Some((0..100).map(|r| 1 + r + 1 + 2).sum()));
    println!("allocations for 100 rounds of 4 uses (6 managers): {made}");
    assert_eq!(made, 0, "async_with! allocated {made} times");
}

#[test]
fn the_counter_sees_allocations() {
    // The counter itself works: a Box is counted.
    let before = allocations();
    let boxed = std::hint::black_box(Box::new(5));
    assert_eq!(allocations() - before, 1);
    drop(boxed);
}
