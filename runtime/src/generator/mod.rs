//! The driver behind `#[async_context]`: an `async fn` body suspended at its
//! one `yield_!`, kept inside the manager (no allocation).
//!
//! The body and its driver exchange values through a
//! [`Shared`](channel::Shared) block that is a field of the pinned
//! [`Generator`] itself: the target going out at `yield_!`, the target
//! coming back in at exit, and the block's outcome while the teardown runs.
//! The body is started lazily, on the first poll of enter, when the
//! generator is pinned: only then is the block's address final, and the
//! body receives it inside its [`Co`]. No thread-local, no global id: a
//! `Co` is made by its own generator, for its own block, and lives inside
//! that generator's body.
//!
//! # Layout
//!
//! | file | what | `unsafe` |
//! |---|---|---|
//! | `channel.rs` | the shared block, [`Co`], [`YieldFuture`], the handle inside an [`Exit`] | all of it |
//! | `exit.rs` | [`Exit`], the public view of how the block ended | none |
//! | `driver.rs` | [`Generator`]: the state machine, its enter and exit futures, its manager impls | none |
//! | `body.rs` | what `#[async_context]`'s output names: [`GeneratorBody`], [`BodyFn`], [`BodyResult`], [`FallibleReturn`] | none |
//!
//! The generator tracks where it is in one place, its `State` (in
//! `driver.rs`): not started, running (with whether enter has handed out
//! the target), finished. Each future checks it before polling the body,
//! and a manager driven against the protocol panics naming its function.

mod body;
mod channel;
mod driver;
mod exit;

pub use body::{BodyFn, BodyResult, FallibleReturn, GeneratorBody};
pub use channel::{Co, YieldFuture};
pub use driver::Generator;
pub use exit::Exit;

#[cfg(test)]
mod tests;
