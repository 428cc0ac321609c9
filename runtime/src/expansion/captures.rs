//! What `#[async_context]` writes into the signature it rewrites
//! (`macros/src/generator.rs`): an `impl AsyncContextManager<..> +
//! Captures<'a>` return type names every lifetime of the function.

/// Names a lifetime in an `impl Trait` return type so that it is captured
/// on edition 2021 as on 2024.
pub trait Captures<'a> {}
impl<T: ?Sized> Captures<'_> for T {}
