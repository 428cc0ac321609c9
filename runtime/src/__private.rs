//! The doorway of generated code: every name the expansions of
//! `async_with!` and `#[async_context]` write as `$crate::__private::NAME`
//! (`macros/src`), and nothing else. Not public API: no stability
//! guarantees, not for users. What these names are, why they exist and how
//! the macros use them is documented in `expansion/` (`expansion/mod.rs`
//! first); the behaviour in the modules that module re-exports.

pub use crate::expansion::{
    AsByRef, AsIs, AsUnpinned, BodyFn, BodyResult, Branch, Captures, CatchUnwind, Checked, Co,
    Ended, Fallible, FallibleReturn, Flow, FromError, Generator, HasOutput, Held, HoldsNothing,
    Leave, Lend, Never, Scope, SuppressedValue, ViewableError, Way, WayOut, YieldFuture,
    after_exit, async_with, branch, catch_unwind, catch_unwind_now, keep, manager, methods, pin,
    raise, return_type, returning, scope, suppressed_way, typed, value_of, way_outcome, ways_out,
};
