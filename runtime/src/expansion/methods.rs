//! The traits of every autoref choice, in scope once per expansion: the
//! outermost level writes `use $crate::__private::methods::*;` and each
//! choice below it is one method call, `(&&&Way(&residual)).async_with_view_kind()`, with
//! no `use` of its own.
//!
//! Underscore imports: a glob brings the traits' methods into scope and
//! no name, so nothing the user's block names can be shadowed. The
//! methods apply only to the wrappers of this module's siblings (`Lend`,
//! `Way`, `Keep`, `Probe`, `SuppressedValue`), never to a user's type.
//!
//! Two ladders share method names (`kind`/`view` of the `Views*` traits):
//! a residual starts at `&&&&Way`, a value at `&&&Way`, so a value's first
//! candidate is `ViewsDebug` with `ViewsDisplay` in scope too (by value
//! before autoref at each step).

pub use super::keep::{KeepBoth as _, KeepByHook as _, KeepLater as _};
pub use super::lend::{LendByRef as _, LendManager as _, LendOther as _, LendUnpinned as _};
pub use super::raise::{KindNever as _, KindPropagate as _};
pub use super::suppress::{SuppressedOther as _, SuppressedUnit as _};
pub use super::way_out::{
    HeldErrorKind as _, HeldNothingKind as _, ViewsCompleted as _, ViewsDebug as _,
    ViewsDisplay as _, ViewsOpaque as _,
};
