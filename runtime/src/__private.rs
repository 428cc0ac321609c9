//! The doorway of generated code: every name the expansions of
//! `async_with!` and `#[async_context]` write as `$crate::__private::NAME`
//! (`macros/src`), and nothing else. Not public API: no stability
//! guarantees, not for users. What these names are, why they exist and how
//! the macros use them is documented in `expansion/` (`expansion/mod.rs`
//! first); the behaviour in the modules that module re-exports.

pub use crate::expansion::{
    AsByRef, AsIs, AsUnpinned, BodyFn, BodyResult, Branch, Captures, CatchUnwind, Checked, Co,
    Ended, Ending, Fallible, FallibleReturn, FromError, Generator, HasOutput, Lend, LendByRef,
    LendManager, LendOther, LendUnpinned, Never, Scope, Shape, ShapeFallible, ShapeOther,
    SuppressedOther, SuppressedUnit, SuppressedValue, View, ViewDebug, ViewError, ViewOpaque,
    ViewableError, YieldFuture, after_exit, async_with, branch, catch_unwind, catch_unwind_now,
    keep, manager, outcome, pin, raise, return_type, returns, scope, suppressed, typed, value_of,
};
