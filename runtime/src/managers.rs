//! Ready-made managers: Python's `contextlib.nullcontext`, `aclosing` and
//! `suppress`, and a manager built from two async closures.

use core::convert::Infallible;

use crate::{AsyncContextManager, ExitAction, Failure, Outcome, SendContextManager};

/// A manager whose target is `value` and whose exit does nothing (Python's
/// `nullcontext`): for code that takes a manager when there is nothing to
/// manage.
///
/// ```
/// use async_with::{async_with, nullcontext};
///
/// # futures_executor::block_on(async {
/// let doubled = async_with!(n = nullcontext(21) => { *n * 2 });
/// assert_eq!(doubled, 42);
/// # });
/// ```
pub fn nullcontext<T>(value: T) -> NullContext<T> {
    NullContext { value: Some(value) }
}

/// The manager [`nullcontext`] returns.
///
/// ```
/// let manager: async_with::NullContext<&str> = async_with::nullcontext("value");
/// # let _ = manager;
/// ```
#[derive(Debug)]
pub struct NullContext<T> {
    value: Option<T>,
}

impl<T: Send> SendContextManager for NullContext<T> {
    type Target = T;
    type Error = Infallible;

    async fn enter(&mut self) -> Result<T, Infallible> {
        Ok(take_once(&mut self.value, "nullcontext"))
    }

    async fn exit(&mut self, _value: T, _outcome: Outcome<'_>) -> Result<ExitAction, Infallible> {
        Ok(ExitAction::Propagate)
    }
}

/// A value with an async close, for [`closing`].
///
/// ```
/// struct Session { open: bool }
///
/// impl async_with::AsyncClose for Session {
///     type Error = std::convert::Infallible;
///
///     async fn close(mut self) -> Result<(), Self::Error> {
///         self.open = false;
///         Ok(())
///     }
/// }
/// # futures_executor::block_on(async {
/// # use async_with::AsyncClose;
/// # Session { open: true }.close().await.unwrap();
/// # });
/// ```
#[allow(async_fn_in_trait)] // Send-ness is visible wherever the type is concrete.
pub trait AsyncClose {
    /// What closing can fail with.
    type Error;

    /// Closes the value (Python's `aclose`).
    async fn close(self) -> Result<(), Self::Error>;
}

/// A manager whose target is `value` and whose exit awaits
/// [`value.close()`](AsyncClose::close) on every way out of the block
/// (Python's `aclosing`). A close error fails the block like any exit
/// error.
///
/// ```
/// use async_with::{async_with, closing, AsyncClose};
/// use std::cell::Cell;
///
/// struct Stream<'a> { closed: &'a Cell<bool> }
///
/// impl AsyncClose for Stream<'_> {
///     type Error = std::io::Error;
///     async fn close(self) -> std::io::Result<()> {
///         self.closed.set(true);
///         Ok(())
///     }
/// }
///
/// async fn read(closed: &Cell<bool>) -> std::io::Result<()> {
///     async_with!(_stream = closing(Stream { closed }) => {
///         return Err(std::io::Error::other("read failed")); // closes first
///     })
/// }
///
/// let closed = Cell::new(false);
/// assert!(futures_executor::block_on(read(&closed)).is_err());
/// assert!(closed.get());
/// ```
#[doc(alias = "aclosing")]
pub fn closing<T: AsyncClose>(value: T) -> Closing<T> {
    Closing { value: Some(value) }
}

/// The manager [`closing`] returns.
///
/// ```
/// struct Noop;
/// impl async_with::AsyncClose for Noop {
///     type Error = std::convert::Infallible;
///     async fn close(self) -> Result<(), Self::Error> { Ok(()) }
/// }
/// let manager: async_with::Closing<Noop> = async_with::closing(Noop);
/// # let _ = manager;
/// ```
#[derive(Debug)]
pub struct Closing<T> {
    value: Option<T>,
}

impl<T: AsyncClose> AsyncContextManager for Closing<T> {
    type Target = T;
    type Error = T::Error;

    async fn enter(&mut self) -> Result<T, T::Error> {
        Ok(take_once(&mut self.value, "closing"))
    }

    async fn exit(&mut self, value: T, _outcome: Outcome<'_>) -> Result<ExitAction, T::Error> {
        value.close().await.map(|()| ExitAction::Propagate)
    }
}

/// A manager that suppresses a failure whose error has type `E` (Python's
/// `suppress(E)`); [`Suppress::or`] adds more types.
///
/// Errors are matched by downcast, so they must be viewable: the error
/// the `?` saw (before `From` conversion) is `Debug + Send + Sync + 'static`.
/// As for every manager, a failure is suppressed only in a block whose
/// value is `()` (see the crate docs, "Suppression"), and panics never
/// are.
///
/// ```
/// use async_with::{async_with, suppress};
///
/// async fn remove(path: &str) -> std::io::Result<&'static str> {
///     async_with!(suppress::<std::io::Error>() => {
///         std::fs::remove_file(path)?; // a missing file is fine
///     });
///     Ok("done")
/// }
///
/// assert_eq!(futures_executor::block_on(remove("/no/such/file")).unwrap(), "done");
/// ```
pub fn suppress<E: 'static>() -> Suppress<impl Fn(&Failure<'_>) -> bool> {
    suppress_if(|failure: &Failure<'_>| failure.is::<E>())
}

/// A manager that suppresses a failure for which `matches` is `true`.
///
/// ```
/// use async_with::{async_with, suppress_if};
///
/// async fn first(items: &[u8]) -> Option<u8> {
///     async_with!(suppress_if(|failure| failure.is_none()) => {
///         let first = items.first()?; // an empty slice is not an error here
///         println!("{first}");
///     });
///     Some(0)
/// }
///
/// assert_eq!(futures_executor::block_on(first(&[])), Some(0));
/// ```
pub fn suppress_if<P>(matches: P) -> Suppress<P>
where
    P: Fn(&Failure<'_>) -> bool,
{
    Suppress { matches }
}

/// The manager [`suppress`] and [`suppress_if`] return.
///
/// ```
/// use async_with::{Failure, Suppress};
///
/// let manager: Suppress<fn(&Failure<'_>) -> bool> = async_with::suppress_if(|f| f.is_none());
/// # let _ = manager;
/// ```
#[derive(Debug)]
pub struct Suppress<P> {
    matches: P,
}

impl<P> Suppress<P>
where
    P: Fn(&Failure<'_>) -> bool,
{
    /// Suppresses errors of type `E` too.
    ///
    /// ```
    /// use async_with::{async_with, suppress};
    ///
    /// async fn parse(text: &str) -> Result<(), Box<dyn std::error::Error>> {
    ///     async_with!(suppress::<std::num::ParseIntError>().or::<std::num::ParseFloatError>() => {
    ///         text.parse::<u8>()?;
    ///         text.parse::<f32>()?;
    ///     });
    ///     Ok(())
    /// }
    ///
    /// assert!(futures_executor::block_on(parse("x")).is_ok());
    /// ```
    pub fn or<E: 'static>(self) -> Suppress<impl Fn(&Failure<'_>) -> bool> {
        let matches = self.matches;
        suppress_if(move |failure: &Failure<'_>| matches(failure) || failure.is::<E>())
    }
}

impl<P> AsyncContextManager for Suppress<P>
where
    P: Fn(&Failure<'_>) -> bool,
{
    type Target = ();
    type Error = Infallible;

    async fn enter(&mut self) -> Result<(), Infallible> {
        Ok(())
    }

    async fn exit(&mut self, _: (), outcome: Outcome<'_>) -> Result<ExitAction, Infallible> {
        Ok(match outcome.failure() {
            Some(failure) if (self.matches)(failure) => ExitAction::Suppress,
            _ => ExitAction::Propagate,
        })
    }
}

/// A manager made of two async closures, without declaring a type: `enter`
/// produces the target, `exit` gets it back with the outcome.
///
/// ```
/// use async_with::{async_with, from_fn, ExitAction};
/// use std::cell::RefCell;
///
/// # futures_executor::block_on(async {
/// let log = RefCell::new(Vec::new());
/// let lease = from_fn(
///     async || { log.borrow_mut().push("acquire".to_string()); Ok::<_, std::io::Error>(7) },
///     async |id, outcome| {
///         log.borrow_mut().push(format!("release {id} after {outcome}"));
///         Ok(ExitAction::Propagate)
///     },
/// );
/// let id: std::io::Result<u32> = async { Ok(async_with!(id = lease => { *id })) }.await;
/// assert_eq!(id.unwrap(), 7);
/// assert_eq!(log.into_inner(), ["acquire", "release 7 after completed"]);
/// # });
/// ```
pub fn from_fn<Enter, Exit, T, E>(enter: Enter, exit: Exit) -> FromFn<Enter, Exit>
where
    Enter: AsyncFnOnce() -> Result<T, E>,
    Exit: AsyncFnOnce(T, Outcome<'_>) -> Result<ExitAction, E>,
{
    FromFn {
        enter: Some(enter),
        exit: Some(exit),
    }
}

/// The manager [`from_fn`] returns.
///
/// ```
/// use async_with::{from_fn, ExitAction};
///
/// let manager = from_fn(
///     async || Ok::<_, std::io::Error>(1),
///     async |_one, _outcome| Ok(ExitAction::Propagate),
/// );
/// fn is_manager(_: &impl async_with::AsyncContextManager<Target = i32>) {}
/// is_manager(&manager);
/// ```
#[derive(Debug)]
pub struct FromFn<Enter, Exit> {
    enter: Option<Enter>,
    exit: Option<Exit>,
}

impl<Enter, Exit, T, E> AsyncContextManager for FromFn<Enter, Exit>
where
    Enter: AsyncFnOnce() -> Result<T, E>,
    Exit: AsyncFnOnce(T, Outcome<'_>) -> Result<ExitAction, E>,
{
    type Target = T;
    type Error = E;

    async fn enter(&mut self) -> Result<T, E> {
        take_once(&mut self.enter, "from_fn")().await
    }

    async fn exit(&mut self, target: T, outcome: Outcome<'_>) -> Result<ExitAction, E> {
        take_once(&mut self.exit, "from_fn")(target, outcome).await
    }
}

/// Managers are used once; a second use is a bug in the caller.
fn take_once<T>(slot: &mut Option<T>, manager: &str) -> T {
    match slot.take() {
        Some(value) => value,
        None => panic!("`{manager}` manager used twice: a manager is entered and exited once"),
    }
}
