//! The chain of failures an unwinding builds: how an entry's error is shown
//! to the entries after it (Python's `__context__`), and how a later error
//! keeps the earlier one (JavaScript's `SuppressedError`; the stacks of
//! [`AsyncExitStack::new`] and [`new_send`](AsyncExitStack::new_send) keep
//! both in a [`SuppressedError`](crate::SuppressedError), made by the
//! crate's `suppressed` module).

use core::fmt;

use super::unwind::Unwinding;
use super::{AsyncExitStack, Threading};
use crate::Failure;
#[cfg(doc)]
use crate::Outcome;

impl<'a, E, S: Threading> AsyncExitStack<'a, E, S> {
    /// Keeps every failure of an unwinding (JavaScript's `SuppressedError`):
    /// when an entry fails after another failed, `keep(later, earlier)`
    /// makes the error that goes on. Stacks made by
    /// [`new`](AsyncExitStack::new) and [`new_send`](AsyncExitStack::new_send)
    /// keep them in a [`SuppressedError`](crate::SuppressedError); without it, the later error
    /// replaces the earlier one (which the later entry saw in
    /// [`Outcome::Failed`], as Python's `__context__`).
    ///
    /// ```
    /// use async_with::{AsyncExitStack, Outcome};
    ///
    /// # futures_executor::block_on(async {
    /// let mut stack = AsyncExitStack::<String>::default()
    ///     .keep_suppressed(|later, earlier| format!("{earlier}; {later}"));
    /// stack.defer(async || Err("first registered".to_string()));
    /// stack.defer(async || Err("second registered".to_string()));
    /// let errors = stack.close().await.unwrap_err();
    /// assert_eq!(errors, "second registered; first registered");
    /// # });
    /// ```
    pub fn keep_suppressed(mut self, keep: fn(E, E) -> E) -> Self {
        self.suppressed = Some(keep);
        self
    }

    /// What the entries after one that failed with `error` see: that
    /// error, keeping the error it came after if the stack keeps both
    /// (`keep_suppressed`), else replacing it.
    pub(super) fn failed(&self, now: Unwinding<E>, error: E) -> Unwinding<E> {
        Unwinding::Failed(match (now, self.suppressed) {
            (Unwinding::Failed(earlier), Some(keep)) => keep(error, earlier),
            _ => error,
        })
    }
}

/// How an entry's error is shown to the entries after it.
pub(super) fn view<E>(error: &E) -> Failure<'_>
where
    E: fmt::Debug + fmt::Display + Send + Sync + 'static,
{
    Failure::with_display(error)
}
