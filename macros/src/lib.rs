//! Procedural macros of the [`async-with`](https://docs.rs/async-with) crate.
//! Use them through that crate, which re-exports them and holds the items
//! the generated code names.

mod emit;
mod expand;
#[cfg(test)]
mod fuzz;
mod generator;
#[cfg(test)]
mod growth;
mod macro_args;
mod parse;
mod raise;
mod rewrite;

use proc_macro::TokenStream;

/// `async with` for Rust. Documented in the `async-with` crate, whose
/// `async_with!` forwards here as `async_with!($crate; INPUT)`: the
/// generated code names that crate through `$crate`, so a renamed or
/// re-exported dependency works.
#[proc_macro]
pub fn async_with(input: TokenStream) -> TokenStream {
    expand::invocation(input.into()).into()
}

/// `@asynccontextmanager` for Rust. Documented in the `async-with` crate, which re-exports it.
#[proc_macro_attribute]
pub fn async_context(args: TokenStream, item: TokenStream) -> TokenStream {
    generator::async_context(args.into(), item.into()).into()
}

/// The suspension point of an `#[async_context]` function. Outside an `#[async_context]` function (which
/// rewrites every `yield_!` itself) it is an error.
#[proc_macro]
pub fn yield_(input: TokenStream) -> TokenStream {
    let _ = input;
    syn::Error::new(
        proc_macro2::Span::call_site(),
        "`yield_!` can only be used inside an `#[async_context]` async fn",
    )
    .into_compile_error()
    .into()
}
