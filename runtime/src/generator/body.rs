//! The glue between `#[async_context]`'s output and the [`Generator`]: the
//! body as the macro hands it over ([`GeneratorBody`], made by [`BodyFn`])
//! and the two traits that read the function's signature ([`BodyResult`],
//! [`FallibleReturn`]). Named by generated code only.

use core::convert::Infallible;
use core::future::Future;
use core::marker::PhantomData;

use super::Co;
#[cfg(doc)]
use super::Generator;
#[cfg(doc)]
use crate::PinnedContextManager;

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

impl<T, E, C> BodyFn<T, E, C> {
    /// The body closure `#[async_context]` wrote, not called yet.
    #[inline(always)]
    pub(super) fn new(body: C) -> Self {
        BodyFn {
            body,
            _types: PhantomData,
        }
    }
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
