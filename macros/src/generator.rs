//! `#[async_context]`: an `async fn` with exactly one `yield_!(target)`
//! becomes a function returning a manager (Python's
//! `@asynccontextmanager`). The protocol is checked here, at compile time:
//! exactly one `yield_!`, not in a loop, closure, async block or nested fn.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{
    Expr, FnArg, GenericArgument, GenericParam, Ident, ItemFn, Lifetime, LifetimeParam, Macro,
    PathArguments, ReturnType, Stmt, Type,
};

use crate::parse::AsyncWith;

pub fn async_context(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    if let Some(first) = args.into_iter().next() {
        return Err(syn::Error::new(
            first.span(),
            "`#[async_context]` takes no arguments",
        ));
    }
    let mut func: ItemFn = syn::parse2(item)?;
    if func.sig.asyncness.is_none() {
        return Err(syn::Error::new(
            func.sig.fn_token.span,
            "`#[async_context]` goes on an `async fn`",
        ));
    }
    let name = func.sig.ident.to_string();
    let co = Ident::new("co", Span::mixed_site());

    let mut finder = YieldFinder {
        co: co.clone(),
        found: Vec::new(),
        errors: Vec::new(),
        inside: None,
    };
    finder.visit_block_mut(&mut func.block);
    let mut errors = finder.errors;
    match finder.found.len() {
        0 => errors.push(syn::Error::new(
            func.sig.ident.span(),
            format!(
                "`#[async_context]` function `{name}` has no `yield_!(...)`: \
                 write `yield_!(target)` once, between setup and teardown"
            ),
        )),
        1 => {}
        _ => errors.push(syn::Error::new(
            finder.found[1],
            "a second `yield_!`: an `#[async_context]` function yields exactly once",
        )),
    }
    if let Some(mut error) = errors.pop() {
        for other in errors {
            error.combine(other);
        }
        return Err(error);
    }

    let (target, error, body_output) = split_output(&func.sig.output);
    let lifetimes = name_elided_lifetimes(&mut func);
    let captures = lifetimes
        .iter()
        .map(|lifetime| quote!(+ ::async_with::__private::Captures<#lifetime>));
    // The concrete manager type (not `impl PinnedContextManager`) so that
    // the enter/exit futures' auto traits (`Send`) are visible to callers.
    func.sig.output = syn::parse2(quote! {
        -> ::async_with::Generator<
            #target,
            #error,
            impl ::core::future::Future<Output = #body_output> #(#captures)*
        >
    })?;
    // A trait may declare the method as returning `impl PinnedContextManager`.
    func.attrs
        .push(syn::parse_quote!(#[allow(refining_impl_trait)]));
    func.sig.asyncness = None;

    // Arguments move into the body as an `async fn` moves them, patterns
    // included.
    let mut rebind = Vec::new();
    for (index, arg) in func.sig.inputs.iter_mut().enumerate() {
        if let FnArg::Typed(typed) = arg {
            let ident = format_ident!("arg{}", index, span = Span::mixed_site());
            let pat = std::mem::replace(&mut *typed.pat, syn::parse_quote!(#ident));
            rebind.push(quote!(let #pat = #ident;));
        }
    }
    let block = &func.block;
    let body = quote_spanned! {Span::mixed_site()=>
        {
            ::async_with::__private::Generator::<#target, #error, _>::new(#name, move |#co| async move {
                #(#rebind)*
                #block
            })
        }
    };
    func.block = syn::parse2(body)?;
    Ok(func.into_token_stream())
}

/// `-> Result<T, E>` gives `(T, E, Result<(), E>)`; `-> T` gives
/// `(T, Infallible, ())`: target, error, and what the body evaluates to.
fn split_output(output: &ReturnType) -> (TokenStream, TokenStream, TokenStream) {
    let infallible = quote!(::core::convert::Infallible);
    let ty = match output {
        ReturnType::Default => return (quote!(()), infallible, quote!(())),
        ReturnType::Type(_, ty) => ty,
    };
    if let Type::Path(path) = &**ty {
        if let Some(last) = path.path.segments.last() {
            if last.ident == "Result" {
                if let PathArguments::AngleBracketed(args) = &last.arguments {
                    let types: Vec<&Type> = args
                        .args
                        .iter()
                        .filter_map(|arg| match arg {
                            GenericArgument::Type(ty) => Some(ty),
                            _ => None,
                        })
                        .collect();
                    if let [target, error] = types[..] {
                        return (
                            target.to_token_stream(),
                            error.to_token_stream(),
                            quote!(::core::result::Result<(), #error>),
                        );
                    }
                }
            }
        }
    }
    (ty.to_token_stream(), infallible, quote!(()))
}

/// Names the elided lifetimes of the arguments (`&T`, `'_`, `&self`) so the
/// returned `impl Trait` can capture them on edition 2021, and returns every
/// lifetime parameter of the function.
fn name_elided_lifetimes(func: &mut ItemFn) -> Vec<Lifetime> {
    struct Namer {
        named: Vec<Lifetime>,
    }
    impl Namer {
        fn fresh(&mut self) -> Lifetime {
            let lifetime = Lifetime::new(
                &format!("'async_with{}", self.named.len()),
                Span::call_site(),
            );
            self.named.push(lifetime.clone());
            lifetime
        }
    }
    impl VisitMut for Namer {
        fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
            if reference.lifetime.is_none() {
                reference.lifetime = Some(self.fresh());
            }
            visit_mut::visit_type_reference_mut(self, reference);
        }
        fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
            if lifetime.ident == "_" {
                *lifetime = self.fresh();
            }
        }
        fn visit_type_impl_trait_mut(&mut self, _: &mut syn::TypeImplTrait) {}
        fn visit_type_bare_fn_mut(&mut self, _: &mut syn::TypeBareFn) {}
    }
    let mut namer = Namer { named: Vec::new() };
    for arg in func.sig.inputs.iter_mut() {
        match arg {
            FnArg::Receiver(receiver) => {
                if let Some((_, lifetime)) = &mut receiver.reference {
                    if lifetime.is_none() {
                        *lifetime = Some(namer.fresh());
                    }
                }
            }
            FnArg::Typed(typed) => namer.visit_type_mut(&mut typed.ty),
        }
    }
    for lifetime in namer.named.iter().rev() {
        func.sig.generics.params.insert(
            0,
            GenericParam::Lifetime(LifetimeParam::new(lifetime.clone())),
        );
    }
    func.sig
        .generics
        .lifetimes()
        .map(|param| param.lifetime.clone())
        .collect()
}

/// Finds the `yield_!`s, rejects the misplaced ones, and rewrites each into
/// `co.yield_(target).await`.
struct YieldFinder {
    co: Ident,
    found: Vec<Span>,
    errors: Vec<syn::Error>,
    /// What the visitor is inside of that a `yield_!` cannot be in.
    inside: Option<&'static str>,
}

impl YieldFinder {
    fn within(&mut self, place: &'static str, f: impl FnOnce(&mut Self)) {
        let outer = self.inside.replace(place);
        f(self);
        self.inside = outer;
    }

    /// Handles a macro call; returns its replacement for a `yield_!`.
    fn visit_macro_call(&mut self, mac: &mut Macro) -> Option<Expr> {
        let last = mac
            .path
            .segments
            .last()
            .map(|segment| segment.ident.to_string());
        match last.as_deref() {
            Some("yield_") => {
                let span = mac.path.span();
                self.found.push(span);
                if let Some(place) = self.inside {
                    self.errors.push(syn::Error::new(
                        span,
                        format!(
                            "`yield_!` cannot be used inside {place}: an `#[async_context]` function \
                             yields exactly once, in its own body"
                        ),
                    ));
                }
                let co = &self.co;
                let value = &mac.tokens;
                Some(syn::parse_quote_spanned!(span=> #co.yield_(#value).await))
            }
            Some("async_with") => {
                // A `yield_!` in the block of an `async_with!` is allowed
                // (Python: `async with lock: yield x`).
                if let Ok(mut input) = mac.parse_body::<AsyncWith>() {
                    for manager in &mut input.managers {
                        self.visit_expr_mut(&mut manager.expr);
                    }
                    self.visit_block_mut(&mut input.body);
                    mac.tokens = input.into_token_stream();
                }
                None
            }
            _ => {
                if let Some(span) = find_yield(mac.tokens.clone()) {
                    self.found.push(span);
                    self.errors.push(syn::Error::new(
                        span,
                        "`yield_!` cannot be used inside the arguments of another macro; \
                         bind it first: `let (target, exit) = yield_!(value);`",
                    ));
                }
                None
            }
        }
    }
}

fn find_yield(tokens: TokenStream) -> Option<Span> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    tokens
        .iter()
        .enumerate()
        .find_map(|(index, token)| match token {
            TokenTree::Ident(ident) if ident == "yield_" => match tokens.get(index + 1) {
                Some(TokenTree::Punct(punct)) if punct.as_char() == '!' => Some(ident.span()),
                _ => None,
            },
            TokenTree::Group(group) => find_yield(group.stream()),
            _ => None,
        })
}

impl VisitMut for YieldFinder {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Closure(closure) => self.within("a closure", |this| {
                visit_mut::visit_expr_closure_mut(this, closure)
            }),
            Expr::Async(block) => self.within("a nested async block", |this| {
                visit_mut::visit_expr_async_mut(this, block)
            }),
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                self.within("a loop", |this| visit_mut::visit_expr_mut(this, expr))
            }
            Expr::Macro(mac) => {
                if let Some(replacement) = self.visit_macro_call(&mut mac.mac) {
                    *expr = replacement;
                }
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_stmt_mut(&mut self, stmt: &mut Stmt) {
        match stmt {
            Stmt::Macro(stmt_mac) => {
                if let Some(replacement) = self.visit_macro_call(&mut stmt_mac.mac) {
                    *stmt = Stmt::Expr(replacement, stmt_mac.semi_token);
                }
            }
            _ => visit_mut::visit_stmt_mut(self, stmt),
        }
    }

    fn visit_item_mut(&mut self, item: &mut syn::Item) {
        self.within("a nested item", |this| {
            visit_mut::visit_item_mut(this, item)
        });
    }
}
