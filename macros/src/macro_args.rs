//! The arguments of a macro called inside an `async_with!` block, when they
//! parse as expressions (`println!("{}", x?)`, `vec![a?, b?]`,
//! `vec![x?; n]`): both the expansion of nested `async_with!` and the
//! rewrite of the block's ways out look inside them.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, Macro, Token};

/// A macro's arguments, parsed.
pub enum Args {
    /// `a, b, c`.
    List(Punctuated<Expr, Token![,]>),
    /// `x; n`, as in `vec![x; n]`.
    Repeat(Box<Expr>, Token![;], Box<Expr>),
}

impl Args {
    /// The arguments of `mac`, if they parse as expressions.
    pub fn parse(mac: &Macro) -> Option<Args> {
        let list = Punctuated::<Expr, Token![,]>::parse_terminated;
        if let Ok(list) = list.parse2(mac.tokens.clone()) {
            return Some(Args::List(list));
        }
        let repeat = |input: syn::parse::ParseStream| {
            let element: Expr = input.parse()?;
            let semi: Token![;] = input.parse()?;
            let count: Expr = input.parse()?;
            Ok(Args::Repeat(Box::new(element), semi, Box::new(count)))
        };
        repeat.parse2(mac.tokens.clone()).ok()
    }

    /// Each argument.
    pub fn exprs_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Args::List(list) => list.iter_mut().collect(),
            Args::Repeat(element, _, count) => vec![&mut **element, &mut **count],
        }
    }

    /// The arguments printed back, for the macro's tokens.
    pub fn into_tokens(self) -> TokenStream {
        match self {
            Args::List(list) => list.into_token_stream(),
            Args::Repeat(element, semi, count) => quote!(#element #semi #count),
        }
    }
}
