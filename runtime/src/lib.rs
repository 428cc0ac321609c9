//! Python's `async with` for Rust.
#![deny(missing_docs)]

mod manager;
mod outcome;

#[doc(hidden)]
pub mod __private;

pub use async_with_macros::async_with;
pub use manager::{AsyncContextManager, ExitAction, PinnedContextManager};
pub use outcome::{Failure, Outcome, Panic};
