//! Both errors reach the caller (docs/contract.md, "When exit fails"): when
//! cleanup fails while an earlier failure is in flight, the error that goes
//! on keeps the earlier one, where its type can hold both.
//!
//! - Error types that hold any error, [`BoxError`], `anyhow::Error` and
//!   `eyre::Report` (any `E: From<SuppressedError> + Into<BoxError>`), get
//!   a [`SuppressedError`] without the user's help.
//! - A typed error says how by implementing [`KeepSuppressed`].
//! - Any other keeps exit's error, which saw the earlier one in
//!   [`Outcome::Failed`](crate::Outcome::Failed).
//!
//! `async_with!` chooses by autoref at the place where exit failed, where
//! both types are known (`expansion/keep.rs`, for generated code);
//! [`with`](crate::with()) is generic and keeps both for [`BoxError`].

use core::any::Any;
use core::fmt;

use crate::BoxError;

/// Cleanup failed while an earlier failure was in flight: the later
/// error, and the earlier one it suppressed (JavaScript's
/// `SuppressedError`; Python keeps the earlier one as `__context__`).
///
/// Made wherever two failures meet and the error type can hold both (see
/// the crate docs, "Both errors"): an exit failing after the block failed
/// (`async_with!`, generators, several and nested managers, `with()`), and
/// several entries of an exit stack failing (the stacks of
/// [`AsyncExitStack::new`](crate::AsyncExitStack::new) and
/// [`new_send`](crate::AsyncExitStack::new_send)). The chain is reached
/// by [`source`](std::error::Error::source) (the earlier failure) or
/// [`errors`](SuppressedError::errors), in the order they happened.
///
/// ```
/// use async_with::{AsyncExitStack, SuppressedError};
///
/// # futures_executor::block_on(async {
/// let mut stack = AsyncExitStack::new();
/// for name in ["a", "b", "c"] {
///     stack.defer(async move || Err(format!("{name} failed").into()));
/// }
/// let error = stack.close().await.unwrap_err();
/// let chain = error.downcast_ref::<SuppressedError>().unwrap();
/// let all: Vec<String> = chain.errors().map(|e| e.to_string()).collect();
/// assert_eq!(all, ["c failed", "b failed", "a failed"]);
/// # });
/// ```
#[derive(Debug)]
pub struct SuppressedError {
    /// The later failure.
    pub error: BoxError,
    /// The earlier failure it came after (itself a `SuppressedError` when
    /// more than two entries failed).
    pub suppressed: BoxError,
}

impl SuppressedError {
    /// Every failure, in the order they happened (the first entry to exit
    /// first).
    ///
    /// ```
    /// let error = async_with::SuppressedError { error: "later".into(), suppressed: "earlier".into() };
    /// let all: Vec<String> = error.errors().map(|e| e.to_string()).collect();
    /// assert_eq!(all, ["earlier", "later"]);
    /// ```
    pub fn errors(&self) -> impl Iterator<Item = &(dyn std::error::Error + Send + Sync + 'static)> {
        let mut chain = Vec::new();
        let mut at = self;
        loop {
            chain.push(&*at.error);
            match at.suppressed.downcast_ref::<SuppressedError>() {
                Some(earlier) => at = earlier,
                None => {
                    chain.push(&*at.suppressed);
                    break;
                }
            }
        }
        chain.into_iter().rev()
    }
}

impl fmt::Display for SuppressedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (after: {})", self.error, self.suppressed)
    }
}

impl std::error::Error for SuppressedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.suppressed)
    }
}

/// How [`AsyncExitStack::new`](crate::AsyncExitStack::new)'s stacks keep several failures.
pub(crate) fn suppressed_error(error: BoxError, earlier: BoxError) -> BoxError {
    Box::new(SuppressedError {
        error,
        suppressed: earlier,
    })
}

/// How a typed error keeps an earlier failure that it came after: an exit
/// failing after the block failed (Python's `__context__`, JavaScript's
/// `SuppressedError`). `earlier` is the block's error boxed (any error
/// that converts into a [`BoxError`]: every `std::error::Error + Send +
/// Sync`, `String`, `&str`, `anyhow::Error`).
///
/// Without it, a typed error that cannot hold a [`SuppressedError`] goes on
/// alone (its exit saw the earlier failure in
/// [`Outcome::Failed`](crate::Outcome::Failed)). The exit stack's own
/// entries keep theirs with
/// [`AsyncExitStack::keep_suppressed`](crate::AsyncExitStack::keep_suppressed).
///
/// ```
/// use async_with::{async_with, from_fn, ExitAction, KeepSuppressed, BoxError};
///
/// #[derive(Debug)]
/// struct DbError { message: String, during: Option<BoxError> }
///
/// impl KeepSuppressed for DbError {
///     fn keep_suppressed(mut self, earlier: BoxError) -> Self {
///         self.during = Some(earlier);
///         self
///     }
/// }
///
/// async fn transfer() -> Result<(), DbError> {
///     let tx = from_fn(
///         async || Ok::<_, DbError>(()),
///         async |(), _| Err(DbError { message: "rollback failed".into(), during: None }),
///     );
///     async_with!(tx => {
///         Err(std::io::Error::other("debit failed")).map_err(|e| DbError { message: e.to_string(), during: None })?;
///     });
///     Ok(())
/// }
///
/// # impl std::fmt::Display for DbError {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(&self.message) }
/// # }
/// # impl std::error::Error for DbError {}
/// let error = futures_executor::block_on(transfer()).unwrap_err();
/// assert_eq!(error.message, "rollback failed");
/// assert_eq!(error.during.unwrap().to_string(), "debit failed");
/// ```
pub trait KeepSuppressed {
    /// `self`, keeping `earlier`.
    fn keep_suppressed(self, earlier: BoxError) -> Self;
}

/// `later`, come after `earlier`: a chain stays one line in the order the
/// failures happened (`later` may already be a chain, from an exit stack
/// whose entries failed: `earlier` goes at its far end).
pub(crate) fn after(later: BoxError, earlier: BoxError) -> SuppressedError {
    match later.downcast::<SuppressedError>() {
        Ok(chain) => {
            let SuppressedError { error, suppressed } = *chain;
            SuppressedError {
                error,
                suppressed: Box::new(after(suppressed, earlier)),
            }
        }
        Err(later) => SuppressedError {
            error: later,
            suppressed: earlier,
        },
    }
}

/// `later` keeping `earlier` when `E` is [`BoxError`] (the one type
/// generic code can recognise without a bound: by `TypeId`); otherwise
/// `later` alone. For [`with`](crate::with()).
pub(crate) fn keep_if_boxed<E: 'static>(later: E, earlier: E) -> E {
    let later: Box<dyn Any> = Box::new(later);
    match later.downcast::<BoxError>() {
        Ok(later) => {
            let earlier: Box<dyn Any> = Box::new(earlier);
            let earlier = earlier
                .downcast::<BoxError>()
                .expect("both are `E`, which is `BoxError`");
            let kept: BoxError = Box::new(after(*later, *earlier));
            let kept: Box<dyn Any> = Box::new(kept);
            *kept.downcast::<E>().expect("`E` is `BoxError`")
        }
        Err(later) => *later.downcast::<E>().expect("`later` is an `E`"),
    }
}
