//! An edition 2021 user crate of `async-with` (docs/contract.md, "The block
//! is a plain Rust block": both editions are supported). Its tests are in
//! `tests/`.

use async_with::async_context;

/// A pool with a generator method using elided lifetimes, which an
/// edition 2021 `impl Trait` only captures when they are named.
pub struct Pool {
    /// Its name.
    pub name: String,
}

impl Pool {
    /// Lends a session named after the pool.
    #[async_context]
    pub async fn session(&self, suffix: &str) -> Result<String, String> {
        let (session, _exit) = yield_!(format!("{}-{suffix}", self.name));
        drop(session);
        Ok(())
    }
}
