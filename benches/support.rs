//! What every benchmark pair shares: the executor, the suspension, the
//! managers, and the workloads (each written once, used by the timed
//! benches and by the allocation/size report).
//!
//! Every workload does the same work: enter suspends once and produces a
//! target, the block suspends once and reads it, exit suspends once and
//! looks at the outcome. Three real suspensions per use, driven by [`run`].
//! The baselines follow docs/contract.md, "Performance measurement":
//!
//! - (a) the limit: the same code inline, no manager, no guarantees;
//! - (b) the manager driven by hand through the trait with the macro's
//!   guarantees: the block's panic caught with `std::panic::catch_unwind`
//!   on every poll ([`catch_panic`]) and resumed after exit, exit awaited on
//!   every way out. It uses nothing of the library but the trait,
//!   `Outcome`, `Failure` and `Panic::from_payload`: never its machinery;
//! - (c) the manager driven by hand through the trait, no panic catching.

use std::any::Any;
use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::panic::AssertUnwindSafe;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use async_with::{
    AsyncContextManager, ExitAction, Failure, Outcome, Panic, async_context, async_with,
};

/// The baselines' panic catching, as a user writes it with std alone: the
/// pinned block polled under `std::panic::catch_unwind`, every poll.
/// (Written as a `std::future::poll_fn` closure instead, it measured about
/// 35% slower on the success path: the baseline is the faster form.)
pub fn catch_panic<F: Future>(block: Pin<&mut F>) -> CatchPanic<'_, F> {
    CatchPanic(block)
}

/// The future of [`catch_panic`]: `Err(payload)` if a poll panicked.
pub struct CatchPanic<'a, F>(Pin<&'a mut F>);

impl<F: Future> Future for CatchPanic<'_, F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// The one executor of every pair: a poll loop with a no-op waker. No
/// runtime, no allocation, no thread parking.
pub fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// A real suspension: `Pending` once (after waking), then `Ready`.
pub struct YieldOnce {
    yielded: bool,
}

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            Poll::Ready(())
        } else {
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Suspends once.
pub fn yield_once() -> YieldOnce {
    YieldOnce { yielded: false }
}

/// The trivial hand-written manager (Python's class form).
pub struct Trivial;

impl AsyncContextManager for Trivial {
    type Target = u64;
    type Error = Infallible;

    async fn enter(&mut self) -> Result<u64, Infallible> {
        yield_once().await;
        Ok(black_box(1))
    }

    async fn exit(&mut self, target: u64, outcome: Outcome<'_>) -> Result<ExitAction, Infallible> {
        yield_once().await;
        black_box(target);
        black_box(outcome.is_completed());
        Ok(ExitAction::Propagate)
    }
}

/// The same manager as an `#[async_context]` generator (Python's
/// `@asynccontextmanager` form).
#[async_context]
pub async fn generator() -> u64 {
    yield_once().await;
    let (target, exit) = yield_!(black_box(1));
    yield_once().await;
    black_box(target);
    black_box(exit.is_completed());
}

/// The block's error in the error-path pair.
#[derive(Debug)]
pub struct Oops;

impl std::fmt::Display for Oops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("oops")
    }
}

impl std::error::Error for Oops {}

/// Fails when asked to (through `black_box`, so the compiler cannot know).
pub fn check(fail: bool) -> Result<(), Oops> {
    if fail { Err(Oops) } else { Ok(()) }
}

/// [`Trivial`] with a real error type; its exit looks at the failure.
pub struct Fallible;

impl AsyncContextManager for Fallible {
    type Target = u64;
    type Error = Oops;

    async fn enter(&mut self) -> Result<u64, Oops> {
        yield_once().await;
        Ok(black_box(1))
    }

    async fn exit(&mut self, target: u64, outcome: Outcome<'_>) -> Result<ExitAction, Oops> {
        yield_once().await;
        black_box(target);
        black_box(
            outcome
                .failure()
                .is_some_and(|failure| failure.is::<Oops>()),
        );
        Ok(ExitAction::Propagate)
    }
}

/// Baseline (b) for `Infallible` managers, nested like `async_with!` nests:
/// `by_hand!([a = A, b = B] { BLOCK })`.
macro_rules! by_hand {
    ([] $body:block) => { $body };
    ([$name:ident = $manager:expr $(, $rest:ident = $rest_manager:expr)*] $body:block) => {{
        let mut manager = $manager;
        let Ok(mut target) = AsyncContextManager::enter(&mut manager).await;
        let result = {
            let block = pin!(async {
                let $name = &mut target;
                by_hand!([$($rest = $rest_manager),*] $body)
            });
            catch_panic(block).await
        };
        match result {
            Ok(value) => {
                let Ok(_) = AsyncContextManager::exit(&mut manager, target, Outcome::Completed).await;
                value
            }
            Err(mut payload) => {
                let panic = Outcome::Panicked(Panic::from_payload(&mut *payload));
                let Ok(_) = AsyncContextManager::exit(&mut manager, target, panic).await;
                std::panic::resume_unwind(payload)
            }
        }
    }};
}

// ---- item 1 (and the sizes): one manager, the macro and the baselines ----

/// `async_with!` with one hand-written manager.
pub async fn macro_1() -> u64 {
    async_with!(n = Trivial => {
        yield_once().await;
        *n + black_box(1)
    })
}

/// (a) the limit: the same work inline.
pub async fn inline_1() -> u64 {
    yield_once().await; // enter
    let mut target = black_box(1);
    let n = &mut target;
    yield_once().await; // block
    let value = *n + black_box(1);
    yield_once().await; // exit
    black_box(target);
    black_box(true);
    value
}

/// (b) by hand through the trait, with the macro's guarantees.
pub async fn by_hand_1() -> u64 {
    by_hand!([n = Trivial] {
        yield_once().await;
        *n + black_box(1)
    })
}

/// (c) by hand through the trait, without panic catching.
pub async fn unguarded_1() -> u64 {
    let mut manager = Trivial;
    let Ok(mut target) = manager.enter().await;
    let n = &mut target;
    yield_once().await;
    let value = *n + black_box(1);
    let Ok(_) = manager.exit(target, Outcome::Completed).await;
    value
}

// ---- item 2: the generator form ----

/// `async_with!` with one `#[async_context]` manager.
pub async fn macro_generator_1() -> u64 {
    async_with!(n = generator() => {
        yield_once().await;
        *n + black_box(1)
    })
}

// ---- item 3 and the sizes: several managers ----

/// `async_with!` with two hand-written managers.
pub async fn macro_2() -> u64 {
    async_with!(a = Trivial, b = Trivial => {
        yield_once().await;
        *a + *b
    })
}

/// (b) with two managers.
pub async fn by_hand_2() -> u64 {
    by_hand!([a = Trivial, b = Trivial] {
        yield_once().await;
        *a + *b
    })
}

/// `async_with!` with four hand-written managers.
pub async fn macro_4() -> u64 {
    async_with!(a = Trivial, b = Trivial, c = Trivial, d = Trivial => {
        yield_once().await;
        *a + *b + *c + *d
    })
}

/// (b) with four managers.
pub async fn by_hand_4() -> u64 {
    by_hand!([a = Trivial, b = Trivial, c = Trivial, d = Trivial] {
        yield_once().await;
        *a + *b + *c + *d
    })
}

/// `async_with!` with eight hand-written managers.
pub async fn macro_8() -> u64 {
    async_with!(
        a = Trivial, b = Trivial, c = Trivial, d = Trivial,
        e = Trivial, f = Trivial, g = Trivial, h = Trivial => {
        yield_once().await;
        *a + *b + *c + *d + *e + *f + *g + *h
    })
}

/// `async_with!` with two generator managers.
pub async fn macro_generator_2() -> u64 {
    async_with!(a = generator(), b = generator() => {
        yield_once().await;
        *a + *b
    })
}

/// `async_with!` with four generator managers.
pub async fn macro_generator_4() -> u64 {
    async_with!(a = generator(), b = generator(), c = generator(), d = generator() => {
        yield_once().await;
        *a + *b + *c + *d
    })
}

/// `async_with!` with eight generator managers.
pub async fn macro_generator_8() -> u64 {
    async_with!(
        a = generator(), b = generator(), c = generator(), d = generator(),
        e = generator(), f = generator(), g = generator(), h = generator() => {
        yield_once().await;
        *a + *b + *c + *d + *e + *f + *g + *h
    })
}

// ---- item 6: the error path ----

/// [`Fallible`] as an `#[async_context]` generator: its teardown looks at
/// the failure as `Fallible::exit` does.
#[async_context]
pub async fn fallible_generator() -> Result<u64, Oops> {
    yield_once().await;
    let (target, exit) = yield_!(black_box(1));
    yield_once().await;
    black_box(target);
    black_box(exit.inspect(|outcome| {
        outcome
            .failure()
            .is_some_and(|failure| failure.is::<Oops>())
    }));
    Ok(())
}

/// [`macro_error`] with the generator: the block fails with `?`, the
/// teardown sees the failure, the error propagates.
pub async fn macro_generator_error(fail: bool) -> Result<u64, Oops> {
    let value = async_with!(n = fallible_generator() => {
        yield_once().await;
        check(fail)?;
        *n
    });
    Ok(value)
}

/// `async_with!`: the block fails with `?`, exit sees the failure, the
/// error propagates.
pub async fn macro_error(fail: bool) -> Result<u64, Oops> {
    let value = async_with!(n = Fallible => {
        yield_once().await;
        check(fail)?;
        *n
    });
    Ok(value)
}

/// (a) the limit: the same work inline.
pub async fn inline_error(fail: bool) -> Result<u64, Oops> {
    yield_once().await; // enter
    let mut target = black_box(1);
    let n = &mut target;
    yield_once().await; // block
    let result = check(fail).map(|()| *n);
    yield_once().await; // exit
    black_box(target);
    black_box(result.is_err());
    result
}

/// (b) by hand through the trait, with the macro's guarantees.
pub async fn by_hand_error(fail: bool) -> Result<u64, Oops> {
    let mut manager = Fallible;
    let mut target = manager.enter().await?;
    let result = {
        let block = pin!(async {
            let n = &mut target;
            yield_once().await;
            check(fail)?;
            Ok::<_, Oops>(*n)
        });
        catch_panic(block).await
    };
    match result {
        Ok(Ok(value)) => {
            let _ = manager.exit(target, Outcome::Completed).await?;
            Ok(value)
        }
        Ok(Err(error)) => {
            // The block's value is not `()`: a suppression cannot apply.
            let _ = manager
                .exit(target, Outcome::Failed(Failure::with_display(&error)))
                .await?;
            Err(error)
        }
        Err(mut payload) => {
            let panic = Outcome::Panicked(Panic::from_payload(&mut *payload));
            let _ = manager.exit(target, panic).await;
            std::panic::resume_unwind(payload)
        }
    }
}

/// (c) by hand through the trait, without panic catching.
pub async fn unguarded_error(fail: bool) -> Result<u64, Oops> {
    let mut manager = Fallible;
    let mut target = manager.enter().await?;
    let n = &mut target;
    yield_once().await;
    let result = check(fail).map(|()| *n);
    match result {
        Ok(value) => {
            let _ = manager.exit(target, Outcome::Completed).await?;
            Ok(value)
        }
        Err(error) => {
            // The block's value is not `()`: a suppression cannot apply.
            let _ = manager
                .exit(target, Outcome::Failed(Failure::with_display(&error)))
                .await?;
            Err(error)
        }
    }
}

// ---- the panic path ----

/// `async_with!`: the block suspends once, then panics; exit sees the
/// panic, which then resumes.
pub async fn macro_panic(panic: bool) -> u64 {
    async_with!(n = Trivial => {
        yield_once().await;
        if panic {
            panic!("block panicked");
        }
        *n
    })
}

/// (b) by hand through the trait, with the macro's guarantees.
pub async fn by_hand_panic(panic: bool) -> u64 {
    by_hand!([n = Trivial] {
        yield_once().await;
        if panic {
            panic!("block panicked");
        }
        *n
    })
}

// ---- item 4: the exit stack ----

/// `async_with!` over an `AsyncExitStack` into which `entries` [`Trivial`]
/// managers are entered; the block suspends once, then the stack exits
/// them in reverse.
pub async fn exit_stack(entries: usize) -> Result<u64, async_with::BoxError> {
    let total = async_with!(stack = async_with::AsyncExitStack::new() => {
        let mut total = 0;
        for _ in 0..entries {
            total += *stack.enter(Trivial).await?;
        }
        yield_once().await;
        total
    });
    Ok(total)
}

// ---- item 5: the closure API ----

/// `with(Trivial, async |n| ..)`: item 1's workload through the closure API.
pub async fn closure_1() -> Result<Option<u64>, Infallible> {
    async_with::with(Trivial, async |n: &mut u64| {
        yield_once().await;
        Ok(*n + black_box(1))
    })
    .await
}

/// `with(Fallible, async |n| ..)`: item 6's failing block through the
/// closure API.
pub async fn closure_error(fail: bool) -> Result<Option<u64>, Oops> {
    async_with::with(Fallible, async |n: &mut u64| {
        yield_once().await;
        check(fail)?;
        Ok(*n)
    })
    .await
}

/// `divan::main()` with fixed sampling: 200 samples of 2000 uses. Divan's
/// automatic choice measured these ~30 ns functions one use per sample
/// (below the timer's precision) on the 2-core machine.
pub fn divan_main() {
    divan::Divan::from_args()
        .sample_count(200)
        .sample_size(2000)
        .main();
}
