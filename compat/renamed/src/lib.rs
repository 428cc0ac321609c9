//! A user crate that renames `async-with` to `aw` (SPEC rule 12: the
//! generated code names the crate through `$crate`). Its tests are in
//! `tests/`; this library re-exports the macro, as a facade crate would.

pub use aw::async_with as facade_async_with;
