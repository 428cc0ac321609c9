//! How a block ended, as the manager's exit sees it.

use core::any::Any;
use core::fmt;

use sync_wrapper::SyncWrapper;

/// How the block of an [`async_with!`](macro@crate::async_with) ended.
///
/// Exit receives it by value; it borrows the block's error or panic payload,
/// which stay owned by `async_with!` so that the original can propagate
/// untouched afterwards.
///
/// ```
/// use async_with::Outcome;
///
/// fn describe(outcome: &Outcome<'_>) -> String {
///     match outcome {
///         Outcome::Completed => "completed".to_string(),
///         Outcome::Failed(failure) => format!("failed: {failure}"),
///         Outcome::Panicked(panic) => format!("panicked: {:?}", panic.message()),
///         _ => "something else".to_string(),
///     }
/// }
/// assert_eq!(describe(&Outcome::Completed), "completed");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome<'a> {
    /// The block ran to its end with a value that is not an error, or left
    /// through `break`, `continue` or a `return` of a value that is not an
    /// error. None of these are failures.
    Completed,
    /// The block left with an error: a `?` failed, a `return` of `Err(e)`
    /// or `None` (also from `bail!`/`ensure!`), or the block's value is
    /// `Err(e)` or `None` (or, with several managers, an inner manager
    /// failed to enter or exit).
    Failed(Failure<'a>),
    /// The block panicked. The panic resumes after exit, whatever exit
    /// returns.
    Panicked(Panic<'a>),
    /// The future running the block was dropped (a timeout, `select!`, an
    /// aborted task). Exit cannot be awaited in the drop, so the scope
    /// calls [`cancel`](crate::AsyncContextManager::cancel) instead; a
    /// manager opted in with `tokio::exit_on_cancel` (feature `tokio`) then
    /// has its exit awaited on the runtime with this outcome.
    Cancelled,
}

impl Outcome<'_> {
    /// `true` when the block ended without a failure or a panic.
    ///
    /// ```
    /// assert!(async_with::Outcome::Completed.is_completed());
    /// ```
    pub fn is_completed(&self) -> bool {
        matches!(self, Outcome::Completed)
    }

    /// `true` when the block left with an error (see [`Outcome::Failed`]).
    ///
    /// ```
    /// assert!(!async_with::Outcome::Completed.is_failed());
    /// ```
    pub fn is_failed(&self) -> bool {
        matches!(self, Outcome::Failed(_))
    }

    /// `true` when the block panicked.
    ///
    /// ```
    /// assert!(!async_with::Outcome::Completed.is_panicked());
    /// ```
    pub fn is_panicked(&self) -> bool {
        matches!(self, Outcome::Panicked(_))
    }

    /// `true` when the future running the block was dropped.
    ///
    /// ```
    /// assert!(async_with::Outcome::Cancelled.is_cancelled());
    /// assert!(!async_with::Outcome::Completed.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Outcome::Cancelled)
    }

    /// The failure, when the block failed.
    ///
    /// ```
    /// assert!(async_with::Outcome::Completed.failure().is_none());
    /// ```
    pub fn failure(&self) -> Option<&Failure<'_>> {
        match self {
            Outcome::Failed(failure) => Some(failure),
            _ => None,
        }
    }

    /// The same outcome, borrowed for a shorter time, to hand to one exit
    /// after another (as an exit stack does) while keeping this one.
    ///
    /// ```
    /// use async_with::{Failure, Outcome};
    ///
    /// let error = "boom";
    /// let mut outcome = Outcome::Failed(Failure::new(&error));
    /// let first = outcome.reborrow().to_string();
    /// assert_eq!(first, outcome.to_string());
    /// ```
    pub fn reborrow(&mut self) -> Outcome<'_> {
        match self {
            Outcome::Completed => Outcome::Completed,
            Outcome::Failed(failure) => Outcome::Failed(*failure),
            Outcome::Panicked(panic) => Outcome::Panicked(panic.reborrow()),
            Outcome::Cancelled => Outcome::Cancelled,
        }
    }
}

/// The error a failed block left, borrowed from `async_with!`.
///
/// It can be formatted (`Display` uses the error's `Display` when it has
/// one, its `Debug` otherwise) and downcast to its concrete type. The error
/// is the one the `?` saw, before any `From` conversion.
///
/// Errors that are not `Debug + Send + Sync + 'static` can still fail a block;
/// exit then sees an opaque failure that only knows the type's name.
///
/// ```
/// use async_with::Failure;
///
/// #[derive(Debug)]
/// struct Timeout;
///
/// let error = Timeout;
/// let failure = Failure::new(&error);
/// assert!(failure.is::<Timeout>());
/// assert_eq!(failure.to_string(), "Timeout");
/// ```
#[derive(Clone, Copy)]
pub struct Failure<'a> {
    repr: Repr<'a>,
}

#[derive(Clone, Copy)]
enum Repr<'a> {
    Error {
        error: &'a (dyn Any + Send + Sync),
        fmt_debug: fn(&(dyn Any + Send + Sync), &mut fmt::Formatter<'_>) -> fmt::Result,
        fmt_display: Option<fn(&(dyn Any + Send + Sync), &mut fmt::Formatter<'_>) -> fmt::Result>,
        type_name: &'static str,
    },
    None,
    Opaque {
        type_name: &'static str,
    },
}

impl<'a> Failure<'a> {
    /// A failure viewing `error`, formatted with `Debug`.
    ///
    /// ```
    /// let failure = async_with::Failure::new(&42_u8);
    /// assert_eq!(failure.downcast_ref::<u8>(), Some(&42));
    /// ```
    pub fn new<E>(error: &'a E) -> Self
    where
        E: fmt::Debug + Send + Sync + 'static,
    {
        Failure {
            repr: Repr::Error {
                error,
                fmt_debug: fmt_debug::<E>,
                fmt_display: None,
                type_name: core::any::type_name::<E>(),
            },
        }
    }

    /// A failure viewing `error`, formatted with its `Display` impl.
    ///
    /// ```
    /// let error = std::io::Error::other("disk full");
    /// let failure = async_with::Failure::with_display(&error);
    /// assert_eq!(failure.to_string(), "disk full");
    /// ```
    pub fn with_display<E>(error: &'a E) -> Self
    where
        E: fmt::Debug + fmt::Display + Send + Sync + 'static,
    {
        Failure {
            repr: Repr::Error {
                error,
                fmt_debug: fmt_debug::<E>,
                fmt_display: Some(fmt_display::<E>),
                type_name: core::any::type_name::<E>(),
            },
        }
    }

    /// The failure of a `?` applied to `None`.
    ///
    /// ```
    /// assert!(async_with::Failure::none().is_none());
    /// ```
    pub fn none() -> Self {
        Failure { repr: Repr::None }
    }

    /// A failure whose error cannot be viewed (it is not
    /// `Debug + Send + Sync + 'static`); only its type name is known.
    ///
    /// ```
    /// let failure = async_with::Failure::opaque::<std::rc::Rc<String>>();
    /// assert!(failure.downcast_ref::<std::rc::Rc<String>>().is_none());
    /// ```
    pub fn opaque<E: ?Sized>() -> Self {
        Failure {
            repr: Repr::Opaque {
                type_name: core::any::type_name::<E>(),
            },
        }
    }

    /// The error, if it has type `E`.
    ///
    /// ```
    /// let failure = async_with::Failure::new(&"boom");
    /// assert_eq!(failure.downcast_ref::<&str>(), Some(&"boom"));
    /// assert_eq!(failure.downcast_ref::<String>(), None);
    /// ```
    pub fn downcast_ref<E: 'static>(&self) -> Option<&'a E> {
        match self.repr {
            Repr::Error { error, .. } => error.downcast_ref(),
            _ => None,
        }
    }

    /// `true` if the error has type `E`.
    ///
    /// ```
    /// assert!(async_with::Failure::new(&1_i32).is::<i32>());
    /// ```
    pub fn is<E: 'static>(&self) -> bool {
        self.downcast_ref::<E>().is_some()
    }

    /// `true` if the failure is a `?` applied to `None`.
    ///
    /// ```
    /// assert!(!async_with::Failure::new(&1_i32).is_none());
    /// ```
    pub fn is_none(&self) -> bool {
        matches!(self.repr, Repr::None)
    }

    /// The name of the error's type (`"Option::None"` for a `None`).
    ///
    /// ```
    /// assert_eq!(async_with::Failure::new(&1_i32).type_name(), "i32");
    /// ```
    pub fn type_name(&self) -> &'static str {
        match self.repr {
            Repr::Error { type_name, .. } | Repr::Opaque { type_name } => type_name,
            Repr::None => "Option::None",
        }
    }
}

fn fmt_debug<E: fmt::Debug + 'static>(
    error: &(dyn Any + Send + Sync),
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    match error.downcast_ref::<E>() {
        Some(error) => fmt::Debug::fmt(error, f),
        None => f.write_str("<error>"),
    }
}

fn fmt_display<E: fmt::Display + 'static>(
    error: &(dyn Any + Send + Sync),
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    match error.downcast_ref::<E>() {
        Some(error) => fmt::Display::fmt(error, f),
        None => f.write_str("<error>"),
    }
}

impl fmt::Debug for Failure<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.repr {
            Repr::Error {
                error, fmt_debug, ..
            } => fmt_debug(error, f),
            Repr::None => f.write_str("None"),
            Repr::Opaque { type_name } => write!(f, "<{type_name}>"),
        }
    }
}

impl fmt::Display for Failure<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.repr {
            Repr::Error {
                error,
                fmt_display: Some(fmt_display),
                ..
            } => fmt_display(error, f),
            _ => fmt::Debug::fmt(self, f),
        }
    }
}

/// The panic a block raised, borrowed from the caught payload.
///
/// The usual payloads (`&'static str` and `String`, what `panic!` produces)
/// are readable through [`Panic::message`]. Any other payload (from
/// `std::panic::panic_any`) is reachable through [`Panic::payload_mut`]:
/// a payload is `Send` but not `Sync`, so it is only handed out through
/// `&mut`, which keeps `&Outcome` usable across an `.await` in a `Send`
/// future.
///
/// ```
/// let mut payload = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
/// let panic = async_with::Panic::from_payload(&mut *payload);
/// assert_eq!(panic.message(), Some("boom"));
/// ```
pub struct Panic<'a> {
    message: Option<&'a str>,
    payload: Option<SyncWrapper<&'a mut (dyn Any + Send)>>,
}

impl<'a> Panic<'a> {
    /// Views a panic payload caught with [`std::panic::catch_unwind`], to
    /// hand to exit as [`Outcome::Panicked`] while the payload itself stays
    /// with the caller, who resumes it afterwards
    /// ([`std::panic::resume_unwind`]). This is what `async_with!` does; a
    /// manager driven by hand does the same with it.
    ///
    /// ```
    /// use async_with::{Outcome, Panic};
    ///
    /// let mut payload = std::panic::catch_unwind(|| std::panic::panic_any(7_u32)).unwrap_err();
    /// let outcome = Outcome::Panicked(Panic::from_payload(&mut *payload));
    /// assert_eq!(outcome.to_string(), "panicked(<non-string payload>)");
    /// drop(outcome);
    /// // std::panic::resume_unwind(payload) would go on with the same panic.
    /// assert_eq!(payload.downcast_ref::<u32>(), Some(&7));
    /// ```
    pub fn from_payload(payload: &'a mut (dyn Any + Send)) -> Self {
        if payload.is::<&'static str>() || payload.is::<String>() {
            let payload: &'a (dyn Any + Send) = payload;
            let message = match payload.downcast_ref::<&'static str>() {
                Some(message) => message,
                None => payload.downcast_ref::<String>().map_or("", String::as_str),
            };
            return Panic {
                message: Some(message),
                payload: None,
            };
        }
        Panic {
            message: None,
            payload: Some(SyncWrapper::new(payload)),
        }
    }

    fn reborrow(&mut self) -> Panic<'_> {
        Panic {
            message: self.message,
            payload: self.payload_mut().map(SyncWrapper::new),
        }
    }

    /// The panic message, when the payload is a `&str` or a `String`.
    ///
    /// ```
    /// let mut payload: Box<dyn std::any::Any + Send> = Box::new(String::from("x"));
    /// assert_eq!(async_with::Panic::from_payload(&mut *payload).message(), Some("x"));
    /// ```
    pub fn message(&self) -> Option<&'a str> {
        self.message
    }

    /// A payload that is neither `&str` nor `String`, for downcasting.
    ///
    /// ```
    /// let mut payload: Box<dyn std::any::Any + Send> = Box::new(7_u32);
    /// let mut panic = async_with::Panic::from_payload(&mut *payload);
    /// assert_eq!(panic.payload_mut().and_then(|p| p.downcast_mut::<u32>()), Some(&mut 7));
    /// assert_eq!(format!("{panic:?}"), "Panic(<non-string payload>)");
    ///
    /// let mut message: Box<dyn std::any::Any + Send> = Box::new("boom");
    /// assert_eq!(format!("{:?}", async_with::Panic::from_payload(&mut *message)), r#"Panic("boom")"#);
    /// ```
    pub fn payload_mut(&mut self) -> Option<&mut (dyn Any + Send)> {
        match &mut self.payload {
            Some(payload) => Some(&mut **payload.get_mut()),
            None => None,
        }
    }
}

impl fmt::Debug for Panic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message {
            Some(message) => f.debug_tuple("Panic").field(&message).finish(),
            None => f.write_str("Panic(<non-string payload>)"),
        }
    }
}

/// `completed`, `failed(<error>)`, `panicked(<message>)` or `cancelled`.
///
/// ```
/// assert_eq!(async_with::Outcome::Completed.to_string(), "completed");
/// let error = "boom";
/// let failed = async_with::Outcome::Failed(async_with::Failure::new(&error));
/// assert_eq!(failed.to_string(), "failed(\"boom\")");
/// ```
impl fmt::Display for Outcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Completed => f.write_str("completed"),
            Outcome::Failed(failure) => write!(f, "failed({failure})"),
            Outcome::Panicked(panic) => match panic.message() {
                Some(message) => write!(f, "panicked({message})"),
                None => f.write_str("panicked(<non-string payload>)"),
            },
            Outcome::Cancelled => f.write_str("cancelled"),
        }
    }
}

/// An owned copy of an [`Outcome`], for an exit that may outlive the block
/// whose failure it sees (a shielded exit, which a cancellation can move
/// to the runtime): the kind of ending, the failure's `Debug` and
/// `Display` text and type name, and a panic's message. Not the error
/// value itself, nor a non-string panic payload.
#[cfg(feature = "tokio")]
pub(crate) struct OutcomeCopy(CopiedKind);

#[cfg(feature = "tokio")]
enum CopiedKind {
    Completed,
    Cancelled,
    Failed(CopiedFailure),
    None,
    Opaque(&'static str),
    Panicked(Option<String>),
}

#[cfg(feature = "tokio")]
struct CopiedFailure {
    debug: String,
    display: Option<String>,
    type_name: &'static str,
}

#[cfg(feature = "tokio")]
impl OutcomeCopy {
    pub(crate) fn of(outcome: &Outcome<'_>) -> Self {
        OutcomeCopy(match outcome {
            Outcome::Completed => CopiedKind::Completed,
            Outcome::Cancelled => CopiedKind::Cancelled,
            Outcome::Panicked(panic) => CopiedKind::Panicked(panic.message().map(str::to_owned)),
            Outcome::Failed(failure) => match failure.repr {
                Repr::None => CopiedKind::None,
                Repr::Opaque { type_name } => CopiedKind::Opaque(type_name),
                Repr::Error {
                    fmt_display,
                    type_name,
                    ..
                } => CopiedKind::Failed(CopiedFailure {
                    debug: format!("{failure:?}"),
                    display: fmt_display.map(|_| failure.to_string()),
                    type_name,
                }),
            },
        })
    }

    /// The outcome as the copy shows it.
    pub(crate) fn view(&self) -> Outcome<'_> {
        match &self.0 {
            CopiedKind::Completed => Outcome::Completed,
            CopiedKind::Cancelled => Outcome::Cancelled,
            CopiedKind::None => Outcome::Failed(Failure::none()),
            CopiedKind::Opaque(type_name) => Outcome::Failed(Failure {
                repr: Repr::Opaque { type_name },
            }),
            CopiedKind::Panicked(message) => Outcome::Panicked(Panic {
                message: message.as_deref(),
                payload: None,
            }),
            CopiedKind::Failed(copy) => Outcome::Failed(Failure {
                repr: Repr::Error {
                    error: copy,
                    fmt_debug: |copy, f| match copy.downcast_ref::<CopiedFailure>() {
                        Some(copy) => f.write_str(&copy.debug),
                        None => f.write_str("<error>"),
                    },
                    fmt_display: copy.display.as_ref().map(|_| {
                        (|copy: &(dyn Any + Send + Sync), f: &mut fmt::Formatter<'_>| {
                            match copy.downcast_ref::<CopiedFailure>() {
                                Some(CopiedFailure {
                                    display: Some(display),
                                    ..
                                }) => f.write_str(display),
                                _ => f.write_str("<error>"),
                            }
                        })
                            as fn(&(dyn Any + Send + Sync), &mut fmt::Formatter<'_>) -> fmt::Result
                    }),
                    type_name: copy.type_name,
                },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Panic;

    #[test]
    fn a_panic_shows_its_message_or_says_it_has_none() {
        let mut message: Box<dyn std::any::Any + Send> = Box::new("boom");
        assert_eq!(
            format!("{:?}", Panic::from_payload(&mut *message)),
            "Panic(\"boom\")"
        );
        let mut number: Box<dyn std::any::Any + Send> = Box::new(7_u32);
        assert_eq!(
            format!("{:?}", Panic::from_payload(&mut *number)),
            "Panic(<non-string payload>)"
        );
    }
}
