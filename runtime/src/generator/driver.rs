//! The state machine: [`Generator`], the manager an `#[async_context]`
//! function returns, and its enter and exit futures. It polls the body and
//! reads the channel only through `channel.rs`'s safe methods.

use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};

use super::body::{BodyFn, BodyResult, GeneratorBody};
use super::channel::{Co, Shared};
use crate::{ExitAction, Outcome, PinnedContextManager, SendContextManager};
use std::boxed::Box;

pin_project_lite::pin_project! {
    /// Where the generator is, body and protocol at once: the one place
    /// this is tracked.
    #[project = StateProj]
    #[project_replace = StateReplace]
    enum State<B, F> {
        /// Not started: enter has not been polled yet.
        Fresh { body: B },
        /// Started by the first poll of enter. `yielded` is set in the
        /// poll in which enter returns the target (the body is then
        /// suspended at `yield_!`, and exit may run it to its end).
        Running { #[pin] future: F, yielded: bool },
        /// The body returned (enter failed, or exit finished) and was
        /// dropped.
        Finished,
    }
}

// Read through the pinned projection, never through `&State`: a shared
// reference over the running body would invalidate the borrows the body
// holds into itself across its awaits (miri, Stacked Borrows).
impl<B, F> State<B, F> {
    /// Enter may poll the body: it has not handed out the target yet.
    fn may_enter(self: Pin<&mut Self>) -> bool {
        match self.project() {
            StateProj::Fresh { .. } => true,
            StateProj::Running { yielded, .. } => !*yielded,
            StateProj::Finished => false,
        }
    }

    /// Exit may poll the body: enter returned the target, and the body has
    /// not returned since.
    fn may_exit(self: Pin<&mut Self>) -> bool {
        match self.project() {
            StateProj::Running { yielded, .. } => *yielded,
            StateProj::Fresh { .. } | StateProj::Finished => false,
        }
    }
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
                body: BodyFn::new(body),
            },
            shared: Shared::new(),
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
            let co = Co::new(this.shared.as_ref());
            this.state.set(State::Running {
                future: body.start(co),
                yielded: false,
            });
        }
        let StateProj::Running { future, .. } = this.state.as_mut().project() else {
            unreachable!("enter and exit check the state before they poll the body")
        };
        let polled = match outcome {
            // Enter: nothing to publish (nothing is published between polls).
            None => future.poll(cx),
            Some(outcome) => {
                let _unpublish = this.shared.as_ref().get_ref().publish(outcome);
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
        mut self: Pin<&'a mut Self>,
        target: B::Target,
        outcome: Outcome<'a>,
    ) -> impl Future<Output = Result<ExitAction, B::Error>> + 'a {
        // The target goes back at once (not held by the exit future): the
        // suspended `yield_!` takes it on the first poll. Unpolled, it is
        // dropped with the generator. How the block ended is known now too.
        // (Through the pinned projection: a `&Generator` would be a shared
        // reference over the suspended body, and invalidate the borrows it
        // holds into itself; see `State`.)
        let shared = self.as_mut().project().shared;
        shared.give_back(target, &outcome);
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
        if !generator.as_mut().project().state.may_enter() {
            misuse("was entered twice", Generator::<T, E, B>::name());
        }
        let polled = generator.as_mut().poll_body(cx, None);
        let this = generator.project();
        // A body that returned is `Finished` already (`poll_body`).
        match (polled, this.shared.take_yielded()) {
            (Poll::Pending, Some(target)) => {
                if let StateProj::Running { yielded, .. } = this.state.project() {
                    *yielded = true;
                }
                Poll::Ready(Ok(target))
            }
            (Poll::Pending, None) => Poll::Pending,
            (Poll::Ready(Err(error)), _) => Poll::Ready(Err(error)),
            (Poll::Ready(Ok(())), _) => didnt_yield(Generator::<T, E, B>::name()),
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
        if !this.generator.as_mut().project().state.may_exit() {
            misuse(
                "was exited without a successful enter",
                Generator::<T, E, B>::name(),
            );
        }
        let polled = this.generator.as_mut().poll_body(cx, Some(&this.outcome));
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                let shared = this.generator.as_mut().project().shared;
                Poll::Ready(result.map(|()| {
                    if shared.suppressed() {
                        ExitAction::Suppress
                    } else {
                        ExitAction::Propagate
                    }
                }))
            }
        }
    }
}
