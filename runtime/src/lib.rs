//! Python's `async with` for Rust.
#![deny(missing_docs)]

// The macros name `::async_with::...`; this lets the crate's own tests use them.
extern crate self as async_with;

mod manager;
mod outcome;

#[doc(hidden)]
pub mod __private;

pub use async_with_macros::{async_context, async_with, yield_};
pub use manager::{AsyncContextManager, ExitAction, PinnedContextManager};
pub use outcome::{Failure, Outcome, Panic};

mod generator;
pub use generator::{Exit, Generator};
