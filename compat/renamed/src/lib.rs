//! A user crate that renames `async-with` to `aw` (docs/contract.md, "The
//! block is a plain Rust block": the generated code names the crate through
//! `$crate`). Its tests are in `tests/`; this library re-exports the macro,
//! as a facade crate would.

pub use aw::async_with as facade_async_with;
