//! What the expansions of `async_with!` and `#[async_context]` call, for
//! maintainers: not public API (hidden from the docs, no stability
//! guarantee), and not meant to be named by users.
//!
//! # Where things are
//!
//! The macros (`macros/src`) emit paths `$crate::__private::NAME`
//! (`::async_with::__private::NAME` for `#[async_context]`, or the path
//! of its `crate = ..` option). `__private.rs` is only the doorway: it
//! re-exports, name for name, what this module re-exports, and this
//! module's submodules hold the helpers generated code needs, cut by
//! topic:
//!
//! | file | what the expansion does with it |
//! |---|---|
//! | `lend.rs` | lends the manager expression to the scope (`Lend` ladder), and reports an expression that is no manager ([`manager`]) |
//! | `way_out.rs` | the ways out of a block other than its end (`?`, `return`, jumps, a nested level's errors): [`Flow`], [`Leave`], the expansion's enum of them ([`ways_out!`](ways_out)), and how exit sees each, chosen where it is written ([`Way`] ladder) |
//! | `shape.rs` | whether a value leaving the block is a failure: `Err`, `None` ([`Fallible`]) |
//! | `flow.rs` | `?` on stable ([`Branch`]), and the conversion of enter and exit errors ([`FromError`]) |
//! | `raise.rs` | how an enter or exit error of the outermost level leaves the function ([`raise::Probe`] ladder) |
//! | `keep.rs` | which error goes on when exit fails after the block failed ([`keep::Keep`] ladder) |
//! | `suppress.rs` | what a block evaluates to when exit suppressed its failure ([`SuppressedValue`] ladder) |
//! | `witness.rs` | never-run functions that carry the expected type into the block before it is checked |
//! | `captures.rs` | `Captures<'a>`, for `#[async_context]`'s rewritten signatures |
//! | `methods.rs` | the traits of every ladder, brought in scope once per expansion |
//!
//! The behaviour itself is elsewhere and only re-exported here: the
//! protocol every entry point shares (`protocol.rs`: [`scope`],
//! [`Scope::exit_after`], [`after_exit`], [`catch_unwind`], [`catch_unwind_now`]),
//! the generator behind `#[async_context]` (`generator.rs`), and the proc
//! macro itself ([`async_with!`](macro@async_with), reached through the
//! `async_with!` `macro_rules!` wrapper in `lib.rs`, which passes it
//! `$crate`).
//!
//! # Autoref specialization: why the order of a ladder matters
//!
//! Several choices depend on a type that is only concrete where the macro
//! is expanded (the manager, the block's value, an error), and stable
//! Rust has no specialization. The expansion makes them by method
//! resolution instead ("autoref specialization"): a probe value
//! `Probe(&x)` is called through several references,
//! `(&&&Probe(&x)).method()`, and each candidate is a trait whose one
//! impl is on a different number of references, `&&Probe<T>` bounded by
//! the most specific requirement, `&Probe<T>` by a looser one, `Probe<T>`
//! by none. Method lookup tries the receiver type as written first, then
//! one dereference at a time, and at each step takes the first impl whose
//! bounds hold: so the impl on the most references is the first choice
//! and the one on the bare probe the fallback. The number of `&`s written
//! in `macros/src` and the number on each impl here go together: adding
//! a rung, or moving one, means changing both, and listing a new trait in
//! `methods.rs`, whose underscore imports the outermost level brings in
//! scope once (`use $crate::__private::methods::*;`).
//!
//! Each method returns a zero-sized marker type (`AsIs`, `Propagate`, ..)
//! whose inherent method then does the work with the bounds that choice
//! needs, so the rest of the expansion is the same whichever rung was
//! taken. Everything is `#[inline(always)]` or trivially small: the
//! ladders cost nothing at run time.
//!
//! Two consequences shape the code:
//!
//! - A type that is not known yet where the probe is written (inferred
//!   from code after the macro) takes the *first* rung that may apply,
//!   and its bound becomes a requirement checked later. The first rungs
//!   are chosen so that this is right for the usual types, and their
//!   bounds are traits of their own with a `#[diagnostic::on_unimplemented]`
//!   message that says what to write ([`Fallible`], [`ViewableError`]).
//!   The functions of `witness.rs` exist to make types known earlier.
//! - Those messages, and the `#[diagnostic::do_not_recommend]` on impls
//!   that would only confuse, are what users see of this module: the
//!   compile-fail snapshots in `tests/ui` pin them.
//!
//! # What users see in diagnostics
//!
//! rustc names an item of another crate by the first public path it
//! finds, preferring paths through modules that are not `#[doc(hidden)]`
//! and, among hidden ones, the module declared first. This module is
//! declared before `__private` in `lib.rs` and re-exports every item flat,
//! so an error names `async_with::expansion::Branch` (the file's path
//! being `runtime/src/expansion/flow.rs`), never `__private`. An item
//! defined in a submodule and not re-exported here would be named by its
//! `__private` path. Keep this module declared first (apart from
//! `__private`, or rustfmt sorts the two), and re-export any new item here
//! as well as in `__private.rs`: the ui snapshots (`tests/ui`) show a
//! slip.

mod captures;
mod flow;
pub mod keep;
mod lend;
pub mod methods;
pub mod raise;
mod shape;
mod suppress;
mod way_out;
mod witness;

pub use crate::generator::{BodyFn, BodyResult, Co, FallibleReturn, Generator, YieldFuture};
pub use crate::protocol::{
    CatchUnwind, Ended, Scope, after_exit, catch_unwind, catch_unwind_now, scope,
};
pub use async_with_macros::async_with;
pub use captures::Captures;
pub use core::pin::pin;
pub use flow::{Branch, FromError, branch};
pub use lend::{
    AsByRef, AsIs, AsUnpinned, Checked, Lend, LendByRef, LendManager, LendOther, LendUnpinned,
    manager,
};
pub use shape::{Ending, Fallible, HasOutput, Never};
pub use suppress::{SuppressedOther, SuppressedUnit, SuppressedValue, suppressed_way};
pub use way_out::{
    Flow, Held, HeldErrorKind, HeldNothingKind, HoldsError, HoldsNothing, Leave, View,
    ViewableError, ViewsCompleted, ViewsDebug, ViewsDisplay, ViewsOpaque, Way, WayOut, way_outcome,
    ways_out,
};
pub use witness::{return_type, returning, typed, value_of};
