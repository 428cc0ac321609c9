//! The driver behind `#[async_context]`: an `async fn` body suspended at its
//! one `yield_!`, kept inside the manager (no allocation).
//!
//! The body and its driver talk through a slot that lives on the driver's
//! stack for the duration of one poll, published in a thread-local (the
//! design of `async-stream`). Each generator has a unique id, and every
//! access checks it, so a handle used anywhere but inside its own
//! generator's poll panics instead of reading another slot.

use core::cell::Cell;
use core::convert::Infallible;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::task::{Context, Poll};

use crate::{ExitAction, Outcome, PinnedContextManager};

/// What the generator's body publishes while one of its polls runs.
#[derive(Clone, Copy)]
struct Current {
    id: usize,
    /// `*mut Option<T>` of the generator with this id: the target going
    /// out at `yield_!`, or coming back in at resumption.
    target: *mut (),
    /// `*const ExitShared` during teardown polls, null before.
    exit: *const ExitShared<'static>,
}

const NONE: Current = Current {
    id: 0,
    target: ptr::null_mut(),
    exit: ptr::null(),
};

std::thread_local! {
    static CURRENT: Cell<Current> = const { Cell::new(NONE) };
}

/// Ids start at 1; 0 means "no generator is being polled".
static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

/// What the teardown shares with the exit in progress.
struct ExitShared<'a> {
    outcome: &'a Outcome<'a>,
    suppress: Cell<bool>,
}

/// Publishes a slot for one poll, restoring the previous one on drop (also
/// on unwind), so generators polled inside other generators nest.
struct Publish {
    previous: Current,
}

impl Publish {
    fn new(current: Current) -> Self {
        Publish {
            previous: CURRENT.with(|cell| cell.replace(current)),
        }
    }
}

impl Drop for Publish {
    fn drop(&mut self) {
        CURRENT.with(|cell| cell.set(self.previous));
    }
}

/// The published slot, if the generator `id` is the one being polled.
fn current(id: usize) -> Option<Current> {
    let current = CURRENT.with(Cell::get);
    (current.id == id && id != 0).then_some(current)
}

/// The capability to yield `T` from one generator's body. Created by the
/// generator, moved into its body; `yield_!` uses it.
pub struct Co<T> {
    id: usize,
    _target: PhantomData<fn(T) -> T>,
}

impl<T> Co<T> {
    /// `yield_!(value)`: hands `value` to the `async_with!` block, suspends
    /// until the block has ended, then evaluates to the target given back
    /// and the [`Exit`] describing how the block ended.
    pub fn yield_(&self, value: T) -> YieldFuture<T> {
        YieldFuture {
            id: self.id,
            value: Some(value),
        }
    }
}

/// The future of `yield_!`.
pub struct YieldFuture<T> {
    id: usize,
    value: Option<T>,
}

impl<T> Unpin for YieldFuture<T> {}

impl<T> Future for YieldFuture<T> {
    type Output = (T, Exit);

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<(T, Exit)> {
        let this = self.get_mut();
        let current =
            current(this.id).expect("`yield_!` polled outside its own #[async_context] function");
        // SAFETY: `current(this.id)` matched, so `target` was published by
        // `Generator<T, ..>::poll_body` of the generator that created this
        // future's `Co<T>` (ids are unique), for a slot of type `Option<T>`
        // that lives on that poll's stack frame. We are inside that poll
        // (the slot is unpublished when it returns), and the driver does not
        // touch the slot until the body's poll returns, so this is the only
        // live access.
        let slot = unsafe { &mut *current.target.cast::<Option<T>>() };
        match this.value.take() {
            Some(value) => {
                // First poll: hand the target out and suspend. The driver
                // sees it when the body's poll returns; no wake-up needed.
                *slot = Some(value);
                Poll::Pending
            }
            None => match (slot.take(), current.exit.is_null()) {
                (Some(target), false) => {
                    // SAFETY: non-null `exit` was published by
                    // `ExitFuture::poll` from a reference to an
                    // `ExitShared` that outlives that poll; we only read it.
                    let shared = unsafe { &*current.exit };
                    let kind = OutcomeKind::of(shared.outcome);
                    Poll::Ready((target, Exit { id: this.id, kind }))
                }
                _ => Poll::Pending,
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OutcomeKind {
    Completed,
    Failed,
    Panicked,
}

impl OutcomeKind {
    fn of(outcome: &Outcome<'_>) -> Self {
        match outcome {
            Outcome::Failed(_) => OutcomeKind::Failed,
            Outcome::Panicked(_) => OutcomeKind::Panicked,
            _ => OutcomeKind::Completed,
        }
    }
}

/// How the block ended, as the teardown of an `#[async_context]` function
/// sees it: what `yield_!` evaluates to, beside the target given back.
///
/// The kind of ending is known at once. The block's error or panic payload
/// stays with `async_with!` (so that it can propagate untouched) and is
/// viewed through [`Exit::inspect`], which works while the teardown runs.
///
/// ```
/// use async_with::{async_context, async_with, Exit};
///
/// #[async_context]
/// async fn transaction(log: &mut Vec<String>) -> Result<Vec<String>, String> {
///     log.push("begin".to_string());
///     let (writes, exit): (Vec<String>, Exit) = yield_!(Vec::new());
///     if exit.is_completed() {
///         log.push(format!("commit {}", writes.join(",")));
///     } else {
///         let why = exit.inspect(|outcome| outcome.to_string());
///         log.push(format!("rollback: {why}"));
///     }
///     Ok(())
/// }
///
/// async fn run(log: &mut Vec<String>) -> Result<(), String> {
///     async_with!(writes = transaction(log) => {
///         writes.push("a=1".to_string());
///     });
///     Ok(())
/// }
///
/// let mut log = Vec::new();
/// async_with::__private::block_on(run(&mut log)).unwrap();
/// assert_eq!(log, ["begin", "commit a=1"]);
/// ```
#[derive(Debug)]
pub struct Exit {
    id: usize,
    kind: OutcomeKind,
}

impl Exit {
    /// `true` when the block ended normally (end, `return`, `break`,
    /// `continue`).
    pub fn is_completed(&self) -> bool {
        self.kind == OutcomeKind::Completed
    }

    /// `true` when a `?` in the block failed.
    pub fn is_failed(&self) -> bool {
        self.kind == OutcomeKind::Failed
    }

    /// `true` when the block panicked.
    ///
    /// ```
    /// use async_with::{async_context, async_with};
    ///
    /// #[async_context]
    /// async fn report(seen: &mut Vec<(bool, bool, bool)>) {
    ///     let ((), exit) = yield_!(());
    ///     seen.push((exit.is_completed(), exit.is_failed(), exit.is_panicked()));
    /// }
    ///
    /// let mut seen = Vec::new();
    /// let _: Option<()> = async_with::__private::block_on(async {
    ///     async_with!(report(&mut seen) => { None::<u8>?; });
    ///     Some(())
    /// });
    /// assert_eq!(seen, [(false, true, false)]);
    /// ```
    pub fn is_panicked(&self) -> bool {
        self.kind == OutcomeKind::Panicked
    }

    /// Runs `f` on the block's [`Outcome`] (to format or downcast the error,
    /// or read the panic message).
    ///
    /// # Panics
    ///
    /// When called anywhere but in the teardown of the function whose
    /// `yield_!` returned this `Exit` (for example from a spawned task).
    ///
    /// ```
    /// use async_with::{async_context, async_with};
    ///
    /// #[async_context]
    /// async fn describe(into: &mut String) {
    ///     let ((), exit) = yield_!(());
    ///     *into = exit.inspect(|outcome| outcome.to_string());
    /// }
    ///
    /// let mut text = String::new();
    /// async_with::__private::block_on(async { async_with!(describe(&mut text) => {}) });
    /// assert_eq!(text, "completed");
    /// ```
    pub fn inspect<R>(&self, f: impl FnOnce(&Outcome<'_>) -> R) -> R {
        f(self.shared().outcome)
    }

    /// Suppresses the block's failure (Python: the generator catches the
    /// exception and does not re-raise it). Has no effect on a completed
    /// block or a panic; see [`ExitAction::Suppress`] for how a suppressed
    /// block's value is typed.
    ///
    /// # Panics
    ///
    /// Like [`Exit::inspect`], outside the function's teardown.
    ///
    /// ```
    /// use async_with::{async_context, async_with};
    ///
    /// /// Python's `contextlib.suppress(ValueError)`, as a generator.
    /// #[async_context]
    /// async fn ignore_parse_errors() {
    ///     let ((), exit) = yield_!(());
    ///     if exit.inspect(|o| o.failure().is_some_and(|f| f.is::<std::num::ParseIntError>())) {
    ///         exit.suppress();
    ///     }
    /// }
    ///
    /// async fn run() -> Result<&'static str, std::num::ParseIntError> {
    ///     async_with!(ignore_parse_errors() => {
    ///         let _: u8 = "not a number".parse()?;
    ///     });
    ///     Ok("went on")
    /// }
    /// assert_eq!(async_with::__private::block_on(run()), Ok("went on"));
    /// ```
    pub fn suppress(&self) {
        self.shared().suppress.set(true);
    }

    fn shared(&self) -> &ExitShared<'_> {
        let current = current(self.id)
            .filter(|current| !current.exit.is_null())
            .expect("`Exit` used outside the teardown of its own #[async_context] function");
        // SAFETY: the id matched and `exit` is non-null, so it was published
        // by this generator's `ExitFuture::poll`, from an `ExitShared` that
        // outlives the poll we are inside of; the returned borrow cannot
        // escape `self`'s use within this poll (callers only use it inside
        // `inspect`/`suppress`).
        unsafe { &*current.exit }
    }
}

/// Turns the body's output into `Result<(), E>`: `()` for infallible
/// functions (`-> T`), `Result<(), E>` for fallible ones.
pub trait BodyResult<E> {
    /// The conversion.
    fn into_result(self) -> Result<(), E>;
}

impl BodyResult<Infallible> for () {
    fn into_result(self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl<E> BodyResult<E> for Result<(), E> {
    fn into_result(self) -> Result<(), E> {
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Fresh,
    Entered,
    Done,
}

pin_project_lite::pin_project! {
    /// The manager an [`#[async_context]`](crate::async_context) function
    /// returns: the function's body, suspended at its `yield_!` between
    /// enter and exit, stored inline (no allocation).
    ///
    /// `T` is the target, `E` the error, `F` the body's future. It
    /// implements [`PinnedContextManager`]; use it with
    /// [`async_with!`](macro@crate::async_with).
    ///
    /// ```
    /// use async_with::{async_context, Generator};
    ///
    /// #[async_context]
    /// async fn answer() -> u32 {
    ///     let (_answer, _exit) = yield_!(42);
    /// }
    ///
    /// let manager: Generator<u32, std::convert::Infallible, _> = answer();
    /// # drop(manager);
    /// ```
    pub struct Generator<T, E, F> {
        name: &'static str,
        id: usize,
        phase: Phase,
        #[pin]
        body: F,
        _types: PhantomData<fn() -> (T, E)>,
    }
}

impl<T, E, F> Generator<T, E, F>
where
    F: Future,
    F::Output: BodyResult<E>,
{
    /// Creates the body with its [`Co`]; nothing of it runs until enter.
    #[doc(hidden)]
    pub fn new(name: &'static str, body: impl FnOnce(Co<T>) -> F) -> Self {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Generator {
            name,
            id,
            phase: Phase::Fresh,
            body: body(Co {
                id,
                _target: PhantomData,
            }),
            _types: PhantomData,
        }
    }

    /// Polls the body once with `target` published.
    fn poll_body(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        target: &mut Option<T>,
        exit: *const ExitShared<'static>,
    ) -> Poll<Result<(), E>> {
        let this = self.project();
        let _published = Publish::new(Current {
            id: *this.id,
            target: ptr::from_mut(target).cast(),
            exit,
        });
        this.body.poll(cx).map(BodyResult::into_result)
    }
}

impl<T, E, F> PinnedContextManager for Generator<T, E, F>
where
    F: Future,
    F::Output: BodyResult<E>,
{
    type Target = T;
    type Error = E;

    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<T, E>> {
        EnterFuture { generator: self }
    }

    fn exit<'a>(
        self: Pin<&'a mut Self>,
        target: T,
        outcome: Outcome<'a>,
    ) -> impl Future<Output = Result<ExitAction, E>> + 'a {
        ExitFuture {
            generator: self,
            target: Some(target),
            outcome,
        }
    }
}

struct EnterFuture<'a, T, E, F> {
    generator: Pin<&'a mut Generator<T, E, F>>,
}

impl<T, E, F> Future for EnterFuture<'_, T, E, F>
where
    F: Future,
    F::Output: BodyResult<E>,
{
    type Output = Result<T, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, E>> {
        let mut generator = self.generator.as_mut();
        // Fields are reached through `project` only: a `&Generator` would
        // also cover the self-referential body.
        let this = generator.as_mut().project();
        assert_eq!(
            *this.phase,
            Phase::Fresh,
            "the manager of `{}` was entered twice",
            this.name
        );
        let mut target = None;
        let polled = generator.as_mut().poll_body(cx, &mut target, ptr::null());
        let this = generator.project();
        match (polled, target) {
            (Poll::Pending, Some(target)) => {
                *this.phase = Phase::Entered;
                Poll::Ready(Ok(target))
            }
            (Poll::Pending, None) => Poll::Pending,
            (Poll::Ready(Err(error)), _) => {
                *this.phase = Phase::Done;
                Poll::Ready(Err(error))
            }
            (Poll::Ready(Ok(())), _) => {
                *this.phase = Phase::Done;
                panic!("#[async_context] function `{}` didn't yield", this.name)
            }
        }
    }
}

struct ExitFuture<'a, T, E, F> {
    generator: Pin<&'a mut Generator<T, E, F>>,
    target: Option<T>,
    outcome: Outcome<'a>,
}

impl<T, E, F> Unpin for ExitFuture<'_, T, E, F> {}

impl<T, E, F> Future for ExitFuture<'_, T, E, F>
where
    F: Future,
    F::Output: BodyResult<E>,
{
    type Output = Result<ExitAction, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<ExitAction, E>> {
        let this = self.get_mut();
        let generator = this.generator.as_mut().project();
        assert_eq!(
            *generator.phase,
            Phase::Entered,
            "the manager of `{}` was exited without a successful enter",
            generator.name
        );
        let shared = ExitShared {
            outcome: &this.outcome,
            suppress: Cell::new(false),
        };
        // The target goes back in on the first poll; the body takes it.
        let mut target = this.target.take();
        let exit = ptr::from_ref(&shared).cast::<ExitShared<'static>>();
        let polled = this.generator.as_mut().poll_body(cx, &mut target, exit);
        if target.is_some() && this.target.is_none() {
            // Not taken yet (the body had not been resumed): keep it.
            this.target = target;
        }
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                *this.generator.as_mut().project().phase = Phase::Done;
                Poll::Ready(result.map(|()| {
                    if shared.suppress.get() {
                        ExitAction::Suppress
                    } else {
                        ExitAction::Propagate
                    }
                }))
            }
        }
    }
}

// These exercise every `unsafe` block above; `scripts/miri.sh` runs them
// under miri.
#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use crate::{Exit, async_context, async_with};

    fn run<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
        }
    }

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

    #[async_context]
    async fn resource(log: &RefCell<Vec<String>>, name: &'static str) -> Result<String, String> {
        suspend().await;
        log.borrow_mut().push(format!("enter {name}"));
        let (target, exit) = yield_!(format!("{name}-target"));
        suspend().await;
        let seen = exit.inspect(|outcome| outcome.to_string());
        log.borrow_mut()
            .push(format!("exit {name}: {target} {seen}"));
        if exit.is_failed() {
            exit.suppress();
        }
        Ok(())
    }

    #[test]
    fn target_goes_out_and_comes_back_with_the_outcome() {
        let log = RefCell::new(Vec::new());
        let result: Result<(), String> = run(async {
            async_with!(t = resource(&log, "a") => {
                t.push('!');
                suspend().await;
            });
            async_with!(_t = resource(&log, "b") => {
                Err("boom".to_string())?;
            });
            Ok(())
        });
        assert_eq!(result, Ok(()));
        assert_eq!(
            log.into_inner(),
            [
                "enter a",
                "exit a: a-target! completed",
                "enter b",
                "exit b: b-target failed(\"boom\")"
            ]
        );
    }

    #[async_context]
    async fn outer(log: &RefCell<Vec<String>>) -> Result<String, String> {
        // A generator polled inside another generator's poll.
        async_with!(inner = resource(log, "inner") => {
            let (t, exit) = yield_!(format!("outer({inner})"));
            log.borrow_mut().push(format!("outer exit: {t} {}", exit.is_completed()));
        });
        Ok(())
    }

    #[test]
    fn generators_nest() {
        let log = RefCell::new(Vec::new());
        let result: Result<usize, String> =
            run(async { Ok(async_with!(t = outer(&log) => { t.len() })) });
        assert_eq!(result, Ok("outer(inner-target)".len()));
        assert_eq!(
            log.into_inner(),
            [
                "enter inner",
                "outer exit: outer(inner-target) true",
                "exit inner: inner-target completed"
            ]
        );
    }

    #[test]
    fn an_exit_handle_outside_its_teardown_panics_instead_of_reading_memory() {
        let leaked = RefCell::new(None::<Exit>);
        #[async_context]
        async fn leak(into: &RefCell<Option<Exit>>) {
            let ((), exit) = yield_!(());
            *into.borrow_mut() = Some(exit);
        }
        run(async { async_with!(leak(&leaked) => {}) });
        let exit = leaked.into_inner().unwrap();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| exit.suppress()));
        assert!(result.is_err());
    }

    #[test]
    fn dropping_a_suspended_generator_is_fine() {
        let log = RefCell::new(Vec::new());
        let manager = pin!(resource(&log, "dropped"));
        let mut manager = manager;
        let entered = run(crate::PinnedContextManager::enter(manager.as_mut()));
        assert_eq!(entered, Ok("dropped-target".to_string()));
        // Never exited: dropped while suspended at `yield_!`.
    }
}
