//! What `async_with!` evaluates to when exit suppressed a failure
//! (`ExitAction::Suppress`): only a block whose value is `()` can go on as
//! if it had completed (`Some(())`); for any other type there is no value
//! to go on with, so the failure propagates (`None`).
//!
//! The expansion writes, with the block's [`value_of`](super::value_of)
//! witness `value_type`:
//!
//! ```text
//! use __private::{SuppressedOther as _, SuppressedUnit as _};
//! let suppressed = (&&SuppressedValue(value_type)).async_with_suppressed();
//! match suppressed_way(action, &way, suppressed) { Some(value) => value, None => /* go on */ }
//! ```
//!
//! A two-rung autoref ladder: [`SuppressedUnit`] on `&SuppressedValue<()>`
//! first, [`SuppressedOther`] on `SuppressedValue<V>` for any `V`.

use core::marker::PhantomData;

use crate::ExitAction;

/// The value `async_with!` evaluates to when exit suppressed a failure:
/// `Some(())` for a `()` block, `None` (suppression impossible) otherwise.
/// Call as `(&&SuppressedValue(value_type)).async_with_suppressed()`, with the block's
/// [`value_of`](super::value_of) witness.
pub struct SuppressedValue<V>(pub PhantomData<fn() -> V>);

/// The block's value is `()`.
pub trait SuppressedUnit {
    /// `Some(())`.
    fn async_with_suppressed(&self) -> Option<()>;
}
impl SuppressedUnit for &SuppressedValue<()> {
    fn async_with_suppressed(&self) -> Option<()> {
        Some(())
    }
}

/// The block has a value that a suppressed failure never produced.
pub trait SuppressedOther<V> {
    /// `None`.
    fn async_with_suppressed(&self) -> Option<V>;
}
impl<V> SuppressedOther<V> for SuppressedValue<V> {
    fn async_with_suppressed(&self) -> Option<V> {
        None
    }
}

/// `Some(value)` if exit suppressed the failure `way` is; `None` when the
/// way out goes on (it is no failure, or exit let it propagate, or the
/// block has a value a suppressed failure cannot give).
#[inline(always)]
pub fn suppressed_way<W: super::WayOut, V>(
    action: ExitAction,
    way: &W,
    value: Option<V>,
) -> Option<V> {
    match action {
        ExitAction::Suppress if way.outcome().is_failed() => value,
        _ => None,
    }
}
