//! Procedural macros of the [`async-with`](https://docs.rs/async-with) crate.
//! Use them through that crate, which re-exports them and holds the items
//! the generated code names.

mod expand;
mod parse;
mod rewrite;

use proc_macro::TokenStream;

/// See `async_with::async_with!`.
#[proc_macro]
pub fn async_with(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as parse::AsyncWith);
    expand::async_with(input, 0)
        .map(|expr| quote::quote!(#expr))
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
