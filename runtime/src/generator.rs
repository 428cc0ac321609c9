//! The driver behind `#[async_context]`: an `async fn` body suspended at its
//! one `yield_!`, kept inside the manager (no allocation).
//!
//! The body and its driver exchange values through a [`Shared`] block that
//! is a field of the pinned [`Generator`] itself: the target going out at
//! `yield_!`, the target coming back in at exit, and the block's outcome
//! while the teardown runs. The body is started lazily, on the first poll
//! of enter, when the generator is pinned: only then is the block's address
//! final, and the body receives it inside its [`Co`]. No thread-local, no
//! global id: a `Co` is made by its own generator, for its own block, and
//! lives inside that generator's body.

use core::cell::Cell;
use core::convert::Infallible;
use core::future::Future;
use core::marker::{PhantomData, PhantomPinned};
use core::pin::Pin;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use core::task::{Context, Poll};

use crate::{ExitAction, Outcome, PinnedContextManager, SendContextManager};
use std::boxed::Box;

/// What the body and the driver share, inside the pinned generator.
///
/// Reached by the driver through the generator's pinned projection and by
/// the body through the pointer in its [`Co`]; only shared references are
/// ever made to it (every field is a `Cell`), and it is `!Unpin` so that a
/// `&mut Generator` never claims it uniquely.
struct Shared<T> {
    exit: ExitChannel,
    /// The target: put here by `yield_!` on its way out, taken by enter;
    /// put back by exit, taken by `yield_!` when it resumes. The one place
    /// the target is kept while it travels.
    target: Cell<Option<T>>,
    _pinned: PhantomPinned,
}

/// The part of [`Shared`] that [`Exit`] reads: not generic, so `Exit` is not.
struct ExitChannel {
    /// The block's outcome, published by `ExitFuture::poll` for the
    /// duration of one poll of the body, null otherwise. Atomic because
    /// `Exit` is `Sync` (relaxed: a scoped thread reading it was spawned
    /// during the poll, after the store).
    outcome: AtomicPtr<Outcome<'static>>,
    /// How the block ended: set when exit is called, before any `Exit`
    /// exists, and only read afterwards.
    kind: Cell<OutcomeKind>,
    /// Set by [`Exit::suppress`] (atomic: `Exit` is `Sync`).
    suppress: AtomicBool,
}

/// Resets the published outcome when a poll of the body ends, also by
/// unwinding, so that the pointer never outlives the poll.
struct Unpublish<'a>(&'a ExitChannel);

impl Drop for Unpublish<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.outcome.store(ptr::null_mut(), Ordering::Relaxed);
    }
}

/// The capability to yield `T` from one generator's body. Made by the
/// generator when it starts its body, and moved into it; `yield_!` uses it.
pub struct Co<T> {
    /// The `shared` field of the pinned generator whose body holds this
    /// `Co`: valid for as long as the body exists, because the body is
    /// another field of the same generator, dropped first.
    shared: NonNull<Shared<T>>,
}

// SAFETY: a `Co` is only dereferenced by the body that holds it, while its
// generator polls that body, which takes `Pin<&mut Generator>`: the thread
// doing so has exclusive access to the whole generator, `Shared` included.
// Sending the body (inside the generator) sends that access with it; the
// target travelling through `Shared` is a `T`, hence `T: Send`.
unsafe impl<T: Send> Send for Co<T> {}

impl<T> Co<T> {
    /// `yield_!(value)`: hands `value` to the `async_with!` block, suspends
    /// until the block has ended, then evaluates to the target given back
    /// and the [`Exit`] describing how the block ended.
    pub fn yield_(&self, value: T) -> YieldFuture<'_, T> {
        // The body runs only inside its generator's polls: enter takes the
        // target when this poll returns.
        self.shared().target.set(Some(value));
        YieldFuture {
            shared: self.shared,
            _co: PhantomData,
        }
    }

    fn shared(&self) -> &Shared<T> {
        // SAFETY: see the `shared` field: the pointee is alive while the
        // body holding this `Co` exists, and is only accessed through
        // shared references (its fields are `Cell`s).
        unsafe { self.shared.as_ref() }
    }
}

/// The future of `yield_!`. It borrows its [`Co`] for `'co`, and so does the
/// [`Exit`] it evaluates to: neither can leave the function's body.
pub struct YieldFuture<'co, T> {
    shared: NonNull<Shared<T>>,
    _co: PhantomData<&'co Co<T>>,
}

// SAFETY: as for `Co`: the pointer is the `Co`'s own, used only while the
// generator polls the body holding this future.
unsafe impl<T: Send> Send for YieldFuture<'_, T> {}

impl<T> Unpin for YieldFuture<'_, T> {}

impl<'co, T> Future for YieldFuture<'co, T> {
    type Output = (T, Exit<'co>);

    #[inline]
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<(T, Exit<'co>)> {
        // SAFETY: the pointer was copied from the `Co` this future borrows,
        // so the body holding both is alive (see `Co::shared`).
        let shared = unsafe { self.shared.as_ref() };
        // Resumed only by exit, which publishes the block's outcome and has
        // given the target back. Before that (the poll of enter that reached
        // `yield_!`), stay suspended with the target out: enter takes it
        // when the body's poll returns, no wake-up needed.
        if shared.exit.outcome.load(Ordering::Relaxed).is_null() {
            return Poll::Pending;
        }
        let Some(target) = shared.target.take() else {
            return Poll::Pending;
        };
        let exit = Exit {
            channel: NonNull::from(&shared.exit),
            _co: PhantomData,
        };
        Poll::Ready((target, exit))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OutcomeKind {
    Completed,
    Failed,
    Panicked,
    Cancelled,
}

impl OutcomeKind {
    fn of(outcome: &Outcome<'_>) -> Self {
        match outcome {
            Outcome::Failed(_) => OutcomeKind::Failed,
            Outcome::Panicked(_) => OutcomeKind::Panicked,
            Outcome::Cancelled => OutcomeKind::Cancelled,
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
/// futures_executor::block_on(run(&mut log)).unwrap();
/// assert_eq!(log, ["begin", "commit a=1"]);
/// ```
///
/// An `Exit` borrows the function's hidden [`Co`], so it cannot leave the
/// function's body (for a spawned task or a caller's variable).
pub struct Exit<'co> {
    /// The `exit` field of the generator's `Shared`, valid while the body
    /// holding this `Exit` exists (the borrow of `'co` guarantees it is in
    /// the body).
    channel: NonNull<ExitChannel>,
    _co: PhantomData<&'co ()>,
}

// SAFETY: an `Exit` lives in its generator's body and is used while that
// body is polled by whoever holds `Pin<&mut Generator>`. Through `&Exit`,
// other threads (scoped threads spawned during the poll) touch the channel
// only through atomics (the outcome pointer, `suppress`) and the `kind`
// cell, which is written before any `Exit` exists; the `Outcome` pointed to
// is `Sync` and only read.
unsafe impl Send for Exit<'_> {}
// SAFETY: as for `Send`.
unsafe impl Sync for Exit<'_> {}

impl core::fmt::Debug for Exit<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Exit")
            .field("kind", &self.channel().kind.get())
            .finish()
    }
}

impl Exit<'_> {
    /// `true` when the block ended normally (end, `return`, `break`,
    /// `continue`).
    pub fn is_completed(&self) -> bool {
        self.channel().kind.get() == OutcomeKind::Completed
    }

    /// `true` when a `?` in the block failed.
    pub fn is_failed(&self) -> bool {
        self.channel().kind.get() == OutcomeKind::Failed
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
    /// let _: Option<()> = futures_executor::block_on(async {
    ///     async_with!(report(&mut seen) => { None::<u8>?; });
    ///     Some(())
    /// });
    /// assert_eq!(seen, [(false, true, false)]);
    /// ```
    pub fn is_panicked(&self) -> bool {
        self.channel().kind.get() == OutcomeKind::Panicked
    }

    /// `true` when the block was cancelled and this teardown runs detached
    /// on the runtime ([`exit_on_cancel`](crate::tokio::exit_on_cancel),
    /// feature `tokio`): not completed, so a transaction rolls back.
    ///
    /// ```
    /// use async_with::{async_context, PinnedContextManager, Outcome};
    ///
    /// #[async_context]
    /// async fn report(seen: &mut Option<bool>) {
    ///     let ((), exit) = yield_!(());
    ///     *seen = Some(exit.is_cancelled() && !exit.is_completed());
    /// }
    ///
    /// let mut seen = None;
    /// futures_executor::block_on(async {
    ///     let mut manager = std::pin::pin!(report(&mut seen));
    ///     manager.as_mut().enter().await.unwrap();
    ///     manager.as_mut().exit((), Outcome::Cancelled).await.unwrap();
    /// });
    /// assert_eq!(seen, Some(true));
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.channel().kind.get() == OutcomeKind::Cancelled
    }

    /// Runs `f` on the block's [`Outcome`] (to format or downcast the error,
    /// or read the panic message).
    ///
    /// # Panics
    ///
    /// When called while the teardown is not running: from the `Drop` of
    /// one of the function's locals when the suspended function is dropped
    /// (the block's future was cancelled during exit).
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
    /// futures_executor::block_on(async { async_with!(describe(&mut text) => {}) });
    /// assert_eq!(text, "completed");
    /// ```
    pub fn inspect<R>(&self, f: impl FnOnce(&Outcome<'_>) -> R) -> R {
        let outcome = NonNull::new(self.channel().outcome.load(Ordering::Relaxed))
            .expect("`Exit` used while its #[async_context] function's teardown is not running");
        // SAFETY: a published outcome points to the `Outcome` held by the
        // `ExitFuture` that is polling the body right now (it is unpublished
        // before that poll returns); it is only read.
        f(unsafe { outcome.as_ref() })
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
    /// assert_eq!(futures_executor::block_on(run()), Ok("went on"));
    /// ```
    pub fn suppress(&self) {
        self.inspect(|_| ());
        self.channel().suppress.store(true, Ordering::Relaxed);
    }

    fn channel(&self) -> &ExitChannel {
        // SAFETY: see the `channel` field: the generator holding this
        // `Exit`'s body is alive and pinned; the channel is only accessed
        // through shared references.
        unsafe { self.channel.as_ref() }
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

/// The return type of a fallible `#[async_context]` function: any `Result`,
/// however it is spelled (`Result<T, E>`, `io::Result<T>`,
/// `anyhow::Result<T>`, a crate's own alias), gives its target and error.
#[diagnostic::on_unimplemented(
    message = "the return type `{Self}` of this `#[async_context]` function is not a `Result`",
    label = "read as `Result<target, error>` because of its name",
    note = "to yield a `{Self}` from a function that cannot fail, write `#[async_context(infallible)]`"
)]
pub trait FallibleReturn {
    /// What `yield_!` hands to the block.
    type Target;
    /// What setup and teardown can fail with.
    type Error;
}

impl<T, E> FallibleReturn for Result<T, E> {
    type Target = T;
    type Error = E;
}

/// The body of an [`#[async_context]`](crate::async_context) function
/// before it starts, named in the function's return type:
/// `Generator<T, E, impl GeneratorBody<Target = T, ..>>`. Implemented by
/// the macro's output only; nothing to implement or call by hand.
///
/// The target is the body's own associated type, not a parameter of the
/// trait: a future holding a generator whose target has a lifetime
/// (`Transaction<'static, _>`, `MutexGuard<'a, _>`) is then `Send` where
/// its parts are. With the target as a trait parameter, proving `Send`
/// inside an `async` block (where rustc erases every lifetime, `'static`
/// included) needs `Body<T>` for any lifetime in `T`, which the returned
/// `impl Body<T>` does not promise (rust-lang/rust#110338).
///
/// ```
/// use async_with::{async_context, Generator, GeneratorBody};
///
/// #[async_context]
/// async fn greeting() -> &'static str {
///     let (_text, _exit) = yield_!("hello");
/// }
///
/// fn target_of<B: GeneratorBody>(_: &Generator<B::Target, std::convert::Infallible, B>) {}
/// target_of(&greeting());
/// ```
pub trait GeneratorBody {
    /// What `yield_!` hands to the block.
    type Target;
    /// What setup and teardown can fail with.
    type Error;
    /// The body's future.
    type Future: Future;
    /// Makes the future.
    #[doc(hidden)]
    fn start(self, co: Co<Self::Target>) -> Self::Future;
    /// The function's path (see [`PinnedContextManager::name`]).
    #[doc(hidden)]
    fn name() -> &'static str;
}

/// The body closure with its target type (a closure cannot implement
/// [`GeneratorBody`] by a blanket impl: the target would be unconstrained).
#[doc(hidden)]
pub struct BodyFn<T, E, C> {
    body: C,
    _types: PhantomData<fn(Co<T>) -> E>,
}

impl<T, E, C, F> GeneratorBody for BodyFn<T, E, C>
where
    C: FnOnce(Co<T>) -> F,
    F: Future,
{
    type Target = T;
    type Error = E;
    type Future = F;

    #[inline(always)]
    fn start(self, co: Co<T>) -> F {
        (self.body)(co)
    }

    /// Read from the closure's type (it is defined in the function):
    /// `crate::module::function`, or `crate::Type::method` and
    /// `<crate::Type as crate::Trait>::method`.
    fn name() -> &'static str {
        let body = core::any::type_name::<C>();
        body.strip_suffix("::{{closure}}").unwrap_or(body)
    }
}

pin_project_lite::pin_project! {
    /// The body: not started, running (suspended at `yield_!` between enter
    /// and exit), or finished.
    #[project = StateProj]
    #[project_replace = StateReplace]
    enum State<B, F> {
        Fresh { body: B },
        Running { #[pin] future: F },
        Finished,
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
    /// `T` is the target, `E` the error, `B` the body (whose own
    /// [`GeneratorBody::Target`] is `T`). It implements
    /// [`PinnedContextManager`]; use it with
    /// [`async_with!`](macro@crate::async_with). It is `Send` where its
    /// arguments and target are, whatever lifetimes the target has.
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
    pub struct Generator<T, E, B>
    where
        B: GeneratorBody,
    {
        // Declared first, so dropped first: the body's `Co`, `YieldFuture`
        // and `Exit` point into `shared`.
        #[pin]
        state: State<B, B::Future>,
        #[pin]
        shared: Shared<B::Target>,
        phase: Phase,
        _labels: PhantomData<fn() -> (T, E)>,
    }
}

impl<T, E, C, F> Generator<T, E, BodyFn<T, E, C>>
where
    C: FnOnce(Co<T>) -> F,
    F: Future,
{
    /// Keeps the body; nothing of it runs until enter.
    #[doc(hidden)]
    #[inline(always)]
    pub fn new(body: C) -> Self {
        Generator {
            state: State::Fresh {
                body: BodyFn {
                    body,
                    _types: PhantomData,
                },
            },
            shared: Shared {
                exit: ExitChannel {
                    outcome: AtomicPtr::new(ptr::null_mut()),
                    kind: Cell::new(OutcomeKind::Completed),
                    suppress: AtomicBool::new(false),
                },
                target: Cell::new(None),
                _pinned: PhantomPinned,
            },
            phase: Phase::Fresh,
            _labels: PhantomData,
        }
    }
}

impl<T, E, B> Generator<T, E, B>
where
    B: GeneratorBody,
    <B::Future as Future>::Output: BodyResult<B::Error>,
{
    /// Polls the body once (starting it on the first call), with the
    /// block's outcome published during exit; the finished body is dropped
    /// at once.
    #[inline(always)]
    fn poll_body(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        outcome: Option<&Outcome<'_>>,
    ) -> Poll<Result<(), B::Error>> {
        let mut this = self.project();
        if let StateProj::Fresh { .. } = this.state.as_mut().project() {
            let StateReplace::Fresh { body } = this.state.as_mut().project_replace(State::Finished)
            else {
                unreachable!("the state was `Fresh`")
            };
            // The generator is pinned: `shared` stays where it is until the
            // generator is dropped, after the body.
            let co = Co {
                shared: NonNull::from(this.shared.as_ref().get_ref()),
            };
            this.state.set(State::Running {
                future: body.start(co),
            });
        }
        let StateProj::Running { future } = this.state.as_mut().project() else {
            misuse("was used after its exit", Self::name())
        };
        let polled = match outcome {
            // Enter: nothing to publish (nothing is published between polls).
            None => future.poll(cx),
            Some(outcome) => {
                let channel = &this.shared.as_ref().get_ref().exit;
                // The lifetime is erased; `Exit::inspect` lends the outcome
                // for a shorter one. Unpublished when this poll ends (also
                // by unwinding), so that nothing keeps a pointer to an
                // outcome that may move or be dropped between polls.
                let outcome = ptr::from_ref(outcome).cast::<Outcome<'static>>();
                channel.outcome.store(outcome.cast_mut(), Ordering::Relaxed);
                let _unpublish = Unpublish(channel);
                future.poll(cx)
            }
        };
        if polled.is_ready() {
            this.state.set(State::Finished);
        }
        polled.map(BodyResult::into_result)
    }
}

impl<T, E, B> PinnedContextManager for Generator<T, E, B>
where
    B: GeneratorBody,
    <B::Future as Future>::Output: BodyResult<B::Error>,
{
    type Target = B::Target;
    type Error = B::Error;

    /// The function's path, read from its body's type (the body is a
    /// closure defined in the function): `crate::module::function`, or
    /// `crate::Type::method` and `<crate::Type as crate::Trait>::method`.
    fn name() -> &'static str {
        B::name()
    }

    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<B::Target, B::Error>> {
        EnterFuture { generator: self }
    }

    fn exit<'a>(
        self: Pin<&'a mut Self>,
        target: B::Target,
        outcome: Outcome<'a>,
    ) -> impl Future<Output = Result<ExitAction, B::Error>> + 'a {
        // The target goes back at once (not held by the exit future): the
        // suspended `yield_!` takes it on the first poll. Unpolled, it is
        // dropped with the generator. How the block ended is known now too.
        let shared = self.as_ref().project_ref().shared.get_ref();
        shared.target.set(Some(target));
        shared.exit.kind.set(OutcomeKind::of(&outcome));
        ExitFuture {
            generator: self,
            outcome,
        }
    }
}

/// A boxed generator is a [`SendContextManager`] when its state is `Send`,
/// for generic code that asks for one (and for
/// [`exit_on_cancel`](crate::tokio::exit_on_cancel)): `Box::pin(generator())`,
/// one allocation, paid by the caller who boxes. Unboxed, a generator is
/// `Send` wherever its type is concrete, with nothing to write.
///
/// ```
/// use async_with::{async_context, async_with, SendContextManager};
///
/// #[async_context]
/// async fn numbered(n: u32) -> u32 {
///     let (_n, _exit) = yield_!(n);
/// }
///
/// async fn generic<M: SendContextManager<Target = u32, Error = std::convert::Infallible> + Unpin>(m: M) -> u32 {
///     async_with!(n = m => { *n })
/// }
///
/// fn assert_send<F: Send>(future: F) -> F { future }
/// let future = assert_send(generic(Box::pin(numbered(7))));
/// assert_eq!(futures_executor::block_on(future), 7);
/// ```
impl<T, E, B> SendContextManager for Pin<Box<Generator<T, E, B>>>
where
    B: GeneratorBody + Send,
    B::Future: Send,
    <B::Future as Future>::Output: BodyResult<B::Error>,
    B::Target: Send,
{
    type Target = B::Target;
    type Error = B::Error;

    #[inline]
    fn enter(&mut self) -> impl Future<Output = Result<B::Target, B::Error>> + Send {
        PinnedContextManager::enter(self.as_mut())
    }

    // An `async fn`: the pinned exit takes one lifetime for the manager
    // and the outcome, this signature two.
    async fn exit(
        &mut self,
        target: B::Target,
        outcome: Outcome<'_>,
    ) -> Result<ExitAction, B::Error> {
        PinnedContextManager::exit(self.as_mut(), target, outcome).await
    }

    fn cancel(&mut self, target: B::Target) {
        PinnedContextManager::cancel(self.as_mut(), target);
    }
}

/// Panics for a manager driven against the protocol (by hand: `async_with!`
/// never does). Out of line, so the polls stay small enough to inline.
#[cold]
#[inline(never)]
#[track_caller]
fn misuse(what: &str, name: &str) -> ! {
    panic!("the manager of `{name}` {what}")
}

/// docs/contract.md, "Generators" (Python's "generator didn't yield").
#[cold]
#[inline(never)]
fn didnt_yield(name: &str) -> ! {
    panic!("#[async_context] function `{name}` didn't yield")
}

struct EnterFuture<'a, T, E, B: GeneratorBody> {
    generator: Pin<&'a mut Generator<T, E, B>>,
}

impl<T, E, B> Future for EnterFuture<'_, T, E, B>
where
    B: GeneratorBody,
    <B::Future as Future>::Output: BodyResult<B::Error>,
{
    type Output = Result<B::Target, B::Error>;

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<B::Target, B::Error>> {
        let mut generator = self.generator.as_mut();
        let this = generator.as_mut().project();
        if *this.phase != Phase::Fresh {
            misuse("was entered twice", Generator::<T, E, B>::name());
        }
        let polled = generator.as_mut().poll_body(cx, None);
        let this = generator.project();
        match (polled, this.shared.target.take()) {
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
                didnt_yield(Generator::<T, E, B>::name())
            }
        }
    }
}

struct ExitFuture<'a, T, E, B: GeneratorBody> {
    generator: Pin<&'a mut Generator<T, E, B>>,
    outcome: Outcome<'a>,
}

impl<T, E, B: GeneratorBody> Unpin for ExitFuture<'_, T, E, B> {}

impl<T, E, B> Future for ExitFuture<'_, T, E, B>
where
    B: GeneratorBody,
    <B::Future as Future>::Output: BodyResult<B::Error>,
{
    type Output = Result<ExitAction, B::Error>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<ExitAction, B::Error>> {
        let this = self.get_mut();
        let generator = this.generator.as_mut().project();
        if *generator.phase != Phase::Entered {
            misuse(
                "was exited without a successful enter",
                Generator::<T, E, B>::name(),
            );
        }
        let polled = this.generator.as_mut().poll_body(cx, Some(&this.outcome));
        let generator = this.generator.as_mut().project();
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                *generator.phase = Phase::Done;
                Poll::Ready(result.map(|()| {
                    if generator.shared.exit.suppress.load(Ordering::Relaxed) {
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
    use std::cell::{Cell, RefCell};
    use std::future::Future;
    use std::panic::AssertUnwindSafe;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use crate::{Exit, Outcome, PinnedContextManager, async_context, async_with};

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

    /// Counts its drops.
    struct Tracked<'a>(&'a Cell<u32>);

    impl Drop for Tracked<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[async_context]
    async fn tracked<'a>(drops: &'a Cell<u32>, seen: &RefCell<Vec<String>>) -> Tracked<'a> {
        let (target, exit) = yield_!(Tracked(drops));
        seen.borrow_mut()
            .push(exit.inspect(|outcome| outcome.to_string()));
        drop(target);
    }

    #[test]
    fn a_yielded_value_dropped_after_a_panicking_block_is_dropped_once() {
        let drops = Cell::new(0);
        let seen = RefCell::new(Vec::new());
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            run(async {
                async_with!(_t = tracked(&drops, &seen) => {
                    suspend().await;
                    panic!("block");
                })
            })
        }));
        assert!(result.is_err());
        assert_eq!(drops.get(), 1);
        assert_eq!(seen.into_inner(), ["panicked(block)"]);
    }

    #[test]
    fn a_generator_dropped_while_suspended_drops_its_target_and_locals_once() {
        let drops = Cell::new(0);
        let seen = RefCell::new(Vec::new());
        {
            let mut manager = pin!(tracked(&drops, &seen));
            let target = run(PinnedContextManager::enter(manager.as_mut()));
            let Ok(target) = target;
            drop(target);
            assert_eq!(drops.get(), 1);
            // Never exited: the suspended body is dropped with the manager.
        }
        assert_eq!(drops.get(), 1);
        assert!(seen.into_inner().is_empty());
    }

    /// Uses its `Exit` from its `Drop`.
    struct InspectOnDrop<'e, 'co>(&'e Exit<'co>, &'e Cell<bool>);

    impl Drop for InspectOnDrop<'_, '_> {
        fn drop(&mut self) {
            let outside = std::panic::catch_unwind(AssertUnwindSafe(|| self.0.inspect(|_| ())));
            self.1.set(outside.is_err());
        }
    }

    #[test]
    fn an_exit_used_after_its_teardown_was_cancelled_panics_instead_of_reading_memory() {
        #[async_context]
        async fn cancelled_in_teardown(panicked: &Cell<bool>) {
            let ((), exit) = yield_!(());
            let _guard = InspectOnDrop(&exit, panicked);
            // Inside the teardown: the outcome is there.
            assert!(exit.inspect(|outcome| outcome.is_completed()));
            std::future::pending::<()>().await;
        }
        let panicked = Cell::new(false);
        {
            let mut manager = pin!(cancelled_in_teardown(&panicked));
            let Ok(()) = run(PinnedContextManager::enter(manager.as_mut()));
            let mut cx = Context::from_waker(Waker::noop());
            let mut exit = Box::pin(manager.as_mut().exit((), Outcome::Completed));
            assert!(exit.as_mut().poll(&mut cx).is_pending());
            drop(exit); // cancelled mid-teardown; the body stays suspended
        } // the manager, and the guard in its body, are dropped here
        assert!(panicked.get());
    }

    #[test]
    fn exit_is_usable_from_a_scoped_thread_during_the_teardown() {
        #[async_context]
        async fn threaded(seen: &RefCell<Vec<String>>) {
            let ((), exit) = yield_!(());
            let text = std::thread::scope(|scope| {
                let worker = scope.spawn(|| {
                    exit.suppress();
                    exit.inspect(|outcome| outcome.to_string())
                });
                worker.join().unwrap()
            });
            seen.borrow_mut().push(text);
        }
        let seen = RefCell::new(Vec::new());
        let result: Option<()> = run(async {
            async_with!(threaded(&seen) => { None::<u8>?; });
            Some(())
        });
        assert_eq!(result, Some(()), "suppressed");
        assert_eq!(seen.into_inner(), ["failed(None)"]);
    }

    #[test]
    fn a_manager_driven_against_the_protocol_panics_naming_its_function() {
        #[async_context]
        async fn once() -> u8 {
            let (_n, _exit) = yield_!(1);
        }
        let message = |payload: Box<dyn std::any::Any + Send>| {
            payload
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_default()
        };
        let mut manager = pin!(once());
        assert_eq!(run(PinnedContextManager::enter(manager.as_mut())), Ok(1));
        let again = std::panic::catch_unwind(AssertUnwindSafe(|| {
            run(PinnedContextManager::enter(manager.as_mut()))
        }));
        let again = message(again.unwrap_err());
        assert!(again.ends_with("::once` was entered twice"), "{again}");

        let mut fresh = pin!(once());
        let early = std::panic::catch_unwind(AssertUnwindSafe(|| {
            run(PinnedContextManager::exit(
                fresh.as_mut(),
                1,
                Outcome::Completed,
            ))
        }));
        let early = message(early.unwrap_err());
        assert!(
            early.ends_with("::once` was exited without a successful enter"),
            "{early}"
        );
    }
}
