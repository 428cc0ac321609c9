//! `#[async_context]`: an `async fn` with exactly one `yield_!(target)`
//! becomes a function returning a manager (Python's
//! `@asynccontextmanager`). The protocol is checked here, at compile time:
//! exactly one `yield_!`, not in a loop, closure, async block, nested fn or
//! another macro's arguments. After a misuse the function is still emitted
//! (its signature kept, its body replaced), so only the misuse is reported.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{
    Expr, FnArg, GenericParam, Ident, ItemFn, Lifetime, LifetimeParam, Macro, Meta, Pat, PatIdent,
    ReturnType, Stmt, Token, Type,
};

use crate::parse::AsyncWith;

pub fn async_context(args: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        // Not a function: the parse error, and the item as written if it
        // is one (so that its uses are not reported too).
        Err(error) => {
            let error = error.into_compile_error();
            return match syn::parse2::<syn::Item>(item) {
                Ok(item) => quote!(#error #item),
                Err(_) => error,
            };
        }
    };
    let mut errors = Vec::new();
    let options = Options::parse(args.clone()).unwrap_or_else(|error| {
        errors.push(error);
        Options::default()
    });
    if errors.is_empty()
        && let Some(reordered) = after_instrument(&func, &args, &options.krate)
    {
        return reordered;
    }
    let func = expand(func, &options, &mut errors);
    let errors = errors.into_iter().map(syn::Error::into_compile_error);
    quote!(#(#errors)* #func)
}

/// `#[tracing::instrument]` written below `#[async_context]`: the function
/// is emitted again with the attributes swapped, so that `instrument`
/// wraps the `async fn` body (setup and teardown run inside its span, with
/// its fields) and this attribute then sees `instrument`'s output, as when
/// written in that order. `None` when there is no such attribute.
fn after_instrument(func: &ItemFn, args: &TokenStream, krate: &syn::Path) -> Option<TokenStream> {
    let last = func.attrs.iter().rposition(is_instrument)?;
    let (above, below) = func.attrs.split_at(last + 1);
    let ItemFn {
        vis, sig, block, ..
    } = func;
    Some(quote! {
        #(#above)*
        #[#krate::async_context(#args)]
        #(#below)*
        #vis #sig #block
    })
}

fn is_instrument(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "instrument")
}

/// The function's own body inside `#[tracing::instrument]`'s output for an
/// `async fn`: `let __tracing_instrument_future = async move BODY;` or,
/// with `ret`/`err`, `async move { .. async move BODY.await .. }` (the
/// first statement). Instrumenting polls it in place, so a `yield_!` in it
/// is in the function's body.
fn instrumented_body(local: &mut syn::Local) -> Option<&mut syn::Block> {
    let Pat::Ident(name) = &local.pat else {
        return None;
    };
    if name.ident != "__tracing_instrument_future" {
        return None;
    }
    let Expr::Async(wrapper) = &mut *local.init.as_mut()?.expr else {
        return None;
    };
    let awaited = match wrapper.block.stmts.first() {
        Some(Stmt::Local(syn::Local {
            init: Some(init), ..
        })) => Some(&*init.expr),
        Some(Stmt::Expr(Expr::Match(matched), _)) => Some(&*matched.expr),
        _ => None,
    };
    let inner =
        matches!(awaited, Some(Expr::Await(awaited)) if matches!(&*awaited.base, Expr::Async(_)));
    let body = if inner {
        let awaited = match wrapper.block.stmts.first_mut()? {
            Stmt::Local(syn::Local {
                init: Some(init), ..
            }) => &mut *init.expr,
            Stmt::Expr(Expr::Match(matched), _) => &mut *matched.expr,
            _ => return None,
        };
        match awaited {
            Expr::Await(awaited) => match &mut *awaited.base {
                Expr::Async(body) => &mut body.block,
                _ => return None,
            },
            _ => return None,
        }
    } else {
        &mut wrapper.block
    };
    // `instrument` ties the body's type to the declared return type with
    // an `if false { return <value of that type>; }`; a generator's body
    // ends like `Result<(), E>` or `()` instead.
    body.stmts.retain(|stmt| !is_fake_return(stmt));
    Some(body)
}

/// `if false { let __tracing_attr_fake_return: R = loop {}; return .. }`.
fn is_fake_return(stmt: &Stmt) -> bool {
    let Stmt::Expr(Expr::If(branch), _) = stmt else {
        return false;
    };
    matches!(
        branch.then_branch.stmts.first(),
        Some(Stmt::Local(syn::Local { pat: Pat::Type(typed), .. }))
            if matches!(&*typed.pat, Pat::Ident(name) if name.ident == "__tracing_attr_fake_return")
    )
}

/// `#[async_context(...)]` options.
struct Options {
    /// `crate = path`: how the generated code names the `async-with`
    /// crate, for a crate that renames or re-exports it.
    krate: syn::Path,
    /// `infallible`: the return type is the target, whatever it is.
    infallible: bool,
    /// `fallible`: the return type is a `Result`, whatever its name.
    fallible: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            krate: syn::parse_quote!(::async_with),
            infallible: false,
            fallible: false,
        }
    }
}

impl Options {
    fn parse(args: TokenStream) -> syn::Result<Options> {
        let mut options = Options::default();
        let list = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
        for meta in list {
            let span = meta.path().span();
            match &meta {
                Meta::Path(path) if path.is_ident("infallible") => options.infallible = true,
                Meta::Path(path) if path.is_ident("fallible") => options.fallible = true,
                Meta::NameValue(name_value) if name_value.path.is_ident("crate") => {
                    match &name_value.value {
                        Expr::Path(path) if path.qself.is_none() => {
                            options.krate = path.path.clone();
                        }
                        other => {
                            return Err(syn::Error::new(
                                other.span(),
                                "`crate = ...` takes the path of the `async-with` crate, \
                                 as in `crate = ::my_reexport::async_with`",
                            ));
                        }
                    }
                }
                _ => {
                    return Err(syn::Error::new(
                        span,
                        "unknown option: `#[async_context]` takes `infallible` (the return type \
                         is the target), `fallible` (the return type is a `Result` alias) \
                         or `crate = path` (where the `async-with` crate is)",
                    ));
                }
            }
            if options.infallible && options.fallible {
                return Err(syn::Error::new(
                    span,
                    "`infallible` and `fallible` exclude each other",
                ));
            }
        }
        Ok(options)
    }
}

/// What the declared return type means.
enum Returns {
    /// `-> T` (or nothing): infallible, `T` is the target.
    Target(TokenStream),
    /// `-> R` where `R` is a `Result`: its `Ok` type is the target, its
    /// `Err` type the error (read by the type system, [`FallibleReturn`]).
    Result(Type),
}

impl Returns {
    /// A return type named `Result` (`Result<T, E>`, `io::Result<T>`,
    /// `anyhow::Result<T>`, `fmt::Result`) or `...Result<..>` with generic
    /// arguments (`MyResult<T>`) is read as a `Result`, unless the options
    /// say otherwise; the type system then checks that it is one and gives
    /// its target and error, whatever the alias's parameters are.
    fn of(output: &ReturnType, options: &Options) -> Returns {
        let ty = match output {
            ReturnType::Default => return Returns::Target(quote!(())),
            ReturnType::Type(_, ty) => ty,
        };
        let named_result = match &**ty {
            Type::Path(path) if path.qself.is_none() => {
                path.path.segments.last().is_some_and(|last| {
                    last.ident == "Result"
                        || (last.ident.to_string().ends_with("Result") && !last.arguments.is_none())
                })
            }
            _ => false,
        };
        if options.fallible || (named_result && !options.infallible) {
            Returns::Result((**ty).clone())
        } else {
            Returns::Target(ty.to_token_stream())
        }
    }

    /// Target, error, and what the body evaluates to.
    fn types(&self, krate: &syn::Path) -> (TokenStream, TokenStream, TokenStream) {
        match self {
            Returns::Target(target) => (
                target.clone(),
                quote!(::core::convert::Infallible),
                quote!(()),
            ),
            Returns::Result(ty) => {
                let span = ty.span();
                let fallible = quote_spanned!(span=> <#ty as #krate::__private::FallibleReturn>);
                (
                    quote_spanned!(span=> #fallible::Target),
                    quote_spanned!(span=> #fallible::Error),
                    quote_spanned!(span=> ::core::result::Result<(), #fallible::Error>),
                )
            }
        }
    }
}

/// The function with its new signature, and its body rewritten. After a
/// misuse, the body is replaced by one that type-checks, so that the
/// function's callers compile and only the misuse is reported.
fn expand(mut func: ItemFn, options: &Options, errors: &mut Vec<syn::Error>) -> ItemFn {
    if func.sig.asyncness.is_none() {
        errors.push(syn::Error::new(
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
    errors.append(&mut finder.errors);
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
    let body_ok = errors.is_empty();

    let lifetimes = name_elided_lifetimes(&mut func);
    let returns = Returns::of(&func.sig.output, options);
    let krate = &options.krate;
    let (target, error, body_output) = returns.types(krate);
    let captures: Vec<TokenStream> = lifetimes
        .iter()
        .map(|lifetime| quote!(+ #krate::__private::Captures<#lifetime>))
        .collect();
    // The concrete manager type (not `impl PinnedContextManager`) so that
    // the enter/exit futures' auto traits (`Send`) are visible to callers.
    func.sig.output = syn::parse_quote! {
        -> #krate::Generator<
            #target,
            #error,
            impl #krate::GeneratorBody<
                Target = #target,
                Error = #error,
                Future = impl ::core::future::Future<Output = #body_output> #(#captures)*
            > #(#captures)*
        >
    };
    // A trait may declare the method as returning `impl PinnedContextManager`.
    func.attrs
        .push(syn::parse_quote!(#[allow(refining_impl_trait)]));
    func.sig.asyncness = None;

    // Arguments move into the body as an `async fn` moves them, patterns
    // included.
    let mut rebind = Vec::new();
    let mut args = Vec::new();
    for (index, arg) in func.sig.inputs.iter_mut().enumerate() {
        if let FnArg::Typed(typed) = arg {
            // A plain name stays the argument's name (for the messages of
            // the borrow checker); other patterns bind from a fresh name.
            let ident = match &*typed.pat {
                Pat::Ident(PatIdent {
                    by_ref: None,
                    subpat: None,
                    ident,
                    ..
                }) if ident != "self" => ident.clone(),
                _ => format_ident!("arg{}", index, span = Span::mixed_site()),
            };
            let pat = std::mem::replace(&mut *typed.pat, syn::parse_quote!(#ident));
            rebind.push(quote!(let #pat = #ident;));
            args.push(ident);
        }
    }
    let block = &func.block;
    let body = if body_ok {
        quote_spanned! {Span::mixed_site()=>
            {
                #krate::__private::Generator::<#target, #error, _>::new(move |#co| async move {
                    #(#rebind)*
                    #block
                })
            }
        }
    } else {
        quote_spanned! {Span::mixed_site()=>
            {
                #krate::__private::Generator::<#target, #error, _>::new(move |#co| async move {
                    let _ = (#co, #(#args,)*);
                    let output: #body_output = ::core::unimplemented!();
                    #[allow(unreachable_code)]
                    output
                })
            }
        }
    };
    func.block = syn::parse2(body).expect("a block");
    func
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
    let mut receiver_lifetime = None;
    for arg in func.sig.inputs.iter_mut() {
        match arg {
            FnArg::Receiver(receiver) => {
                if let Some((_, lifetime)) = &mut receiver.reference {
                    receiver_lifetime = Some(lifetime.get_or_insert_with(|| namer.fresh()).clone());
                }
            }
            FnArg::Typed(typed) => namer.visit_type_mut(&mut typed.ty),
        }
    }
    // The return type's elided lifetimes get the one elision would give
    // them (`&self`'s, or the only input lifetime), written out like the
    // inputs' (rustc's `mismatched_lifetime_syntaxes` lint warns about a
    // `'_` whose lifetime is named elsewhere, here by this macro).
    let elided_output = receiver_lifetime.or_else(|| {
        let mut inputs = InputLifetimes(Vec::new());
        for arg in &func.sig.inputs {
            if let FnArg::Typed(typed) = arg {
                // `visit_mut` is the visitor this crate builds syn with.
                inputs.visit_type_mut(&mut typed.ty.clone());
            }
        }
        match &inputs.0[..] {
            [only] => Some(only.clone()),
            _ => None,
        }
    });
    if let (Some(lifetime), ReturnType::Type(_, output)) = (elided_output, &mut func.sig.output) {
        OutputNamer(lifetime).visit_type_mut(output);
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

/// The lifetimes written in the arguments' types, in order.
struct InputLifetimes(Vec<Lifetime>);

impl VisitMut for InputLifetimes {
    fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
        if !self.0.contains(lifetime) {
            self.0.push(lifetime.clone());
        }
    }
    fn visit_type_impl_trait_mut(&mut self, _: &mut syn::TypeImplTrait) {}
    fn visit_type_bare_fn_mut(&mut self, _: &mut syn::TypeBareFn) {}
}

/// Writes the elided lifetimes of the return type out as `.0`.
struct OutputNamer(Lifetime);

impl VisitMut for OutputNamer {
    fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
        if reference.lifetime.is_none() {
            reference.lifetime = Some(self.0.clone());
        }
        visit_mut::visit_type_reference_mut(self, reference);
    }
    fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
        if lifetime.ident == "_" {
            *lifetime = self.0.clone();
        }
    }
    fn visit_type_impl_trait_mut(&mut self, _: &mut syn::TypeImplTrait) {}
    fn visit_type_bare_fn_mut(&mut self, _: &mut syn::TypeBareFn) {}
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
                let value = match yielded_value(mac) {
                    Ok(value) => value,
                    Err(error) => {
                        self.errors.push(error);
                        quote!(::core::unimplemented!())
                    }
                };
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

/// The value of `yield_!(value)`; `yield_!()` yields `()`.
fn yielded_value(mac: &Macro) -> syn::Result<TokenStream> {
    let values = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)?;
    match values.len() {
        0 => Ok(quote!(())),
        1 => Ok(values[0].to_token_stream()),
        _ => Err(syn::Error::new(
            values[1].span(),
            "`yield_!` hands the block one target: to lend several values, yield a tuple, \
             `yield_!((a, b))`",
        )),
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
            Stmt::Local(local) if self.inside.is_none() => match instrumented_body(local) {
                Some(body) => self.visit_block_mut(body),
                None => visit_mut::visit_local_mut(self, local),
            },
            Stmt::Macro(stmt_mac) => {
                if let Some(replacement) = self.visit_macro_call(&mut stmt_mac.mac) {
                    *stmt = crate::parse::replaced_macro_stmt(replacement, stmt_mac.semi_token);
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

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::{ToTokens, quote};

    #[test]
    fn crate_option_names_the_crate_everywhere() {
        let output = super::async_context(
            quote!(crate = ::facade::aw),
            quote! {
                async fn f() -> std::io::Result<u8> {
                    let (_n, _exit) = yield_!(1);
                    Ok(())
                }
            },
        )
        .to_string();
        assert!(output.contains(":: facade :: aw :: Generator"), "{output}");
        assert!(
            output.contains(":: facade :: aw :: __private :: FallibleReturn"),
            "{output}"
        );
        assert!(!output.contains(":: async_with ::"), "{output}");
    }

    fn options(args: TokenStream) -> Result<(bool, bool, String), String> {
        super::Options::parse(args)
            .map(|options| {
                let krate = options.krate.to_token_stream().to_string();
                (options.infallible, options.fallible, krate)
            })
            .map_err(|error| error.to_string())
    }

    #[test]
    fn options_are_read_and_anything_else_is_refused() {
        let default = ":: async_with".to_string();
        assert_eq!(options(quote!()), Ok((false, false, default.clone())));
        assert_eq!(
            options(quote!(infallible)),
            Ok((true, false, default.clone()))
        );
        assert_eq!(options(quote!(fallible)), Ok((false, true, default)));
        assert_eq!(
            options(quote!(crate = ::facade::aw)),
            Ok((false, false, ":: facade :: aw".to_string()))
        );
        for args in [
            quote!(bogus),
            quote!(bogus = ::aw),
            quote!(fallible = ::aw),
            quote!(crate = <T as X>::aw),
            quote!(crate = 1),
            quote!(infallible, fallible),
        ] {
            assert!(options(args.clone()).is_err(), "{args}");
        }
    }

    /// Whether the return type is read as a `Result`.
    fn fallible(output: TokenStream, args: TokenStream) -> bool {
        let output: syn::ReturnType = syn::parse2(output).expect("a return type");
        let options = super::Options::parse(args).expect("options");
        matches!(
            super::Returns::of(&output, &options),
            super::Returns::Result(_)
        )
    }

    #[test]
    fn a_return_type_named_result_is_fallible_unless_told_otherwise() {
        for output in [
            quote!(-> Result<u8, E>),
            quote!(-> io::Result<u8>),
            quote!(-> MyResult<u8>),
            quote!(-> fmt::Result),
        ] {
            assert!(fallible(output.clone(), quote!()), "{output}");
            assert!(!fallible(output, quote!(infallible)));
        }
        for output in [
            quote!(),
            quote!(-> u8),
            quote!(-> MyResult),
            quote!(-> <T as Trait>::Result),
            quote!(-> (Result<u8, E>,)),
        ] {
            assert!(!fallible(output.clone(), quote!()), "{output}");
        }
        assert!(fallible(quote!(-> Outcome<u8>), quote!(fallible)));
    }

    #[test]
    fn arguments_keep_plain_names_and_elided_lifetimes_get_names() {
        let output = super::async_context(
            quote!(),
            quote! {
                async fn f(n: u8, (a, b): (u8, u8), text: &str, cell: Ref<'_, u8>) -> u8 {
                    let (_n, _exit) = yield_!(n + a + b);
                }
            },
        )
        .to_string();
        // A plain name stays (the borrow checker's messages use it); a
        // pattern binds from a fresh name.
        assert!(output.contains("let n = n ;"), "{output}");
        assert!(output.contains("let (a , b) = arg1 ;"), "{output}");
        // `&str` and `'_` get named lifetimes the returned type captures.
        assert!(output.contains("text : & 'async_with0 str"), "{output}");
        assert!(output.contains("Ref < 'async_with1 , u8 >"), "{output}");
    }

    /// The errors `#[async_context]` reports for a body.
    fn errors(body: TokenStream) -> Vec<String> {
        let output = super::async_context(quote!(), quote!(async fn f() -> u8 { #body }));
        let file: syn::File = syn::parse2(output).expect("items");
        let errors = file.items.iter().filter_map(|item| match item {
            syn::Item::Macro(mac)
                if mac.mac.path.segments.last().unwrap().ident == "compile_error" =>
            {
                Some(mac.mac.tokens.to_string())
            }
            _ => None,
        });
        errors.collect()
    }

    #[test]
    fn yield_inside_other_macros_arguments_is_found_and_nothing_else() {
        let found = errors(quote! {
            println!("{}", (yield_!(1)).0);
        });
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("inside the arguments of another macro"));
        // Other macros in the arguments, and a variable named `yield_`,
        // are not a `yield_!`.
        let none = errors(quote! {
            let yield_ = 1;
            println!("{} {}", format!("{}", yield_), yield_ + 1);
            let (_target, _exit) = yield_!(1);
        });
        assert!(none.is_empty(), "{none:?}");
    }

    #[test]
    fn a_misuse_keeps_the_function_with_its_signature() {
        let output = super::async_context(
            quote!(),
            quote! {
                pub async fn twice(n: u8) -> u8 {
                    let (_a, _exit) = yield_!(n);
                    let (_b, _exit) = yield_!(n);
                }
            },
        )
        .to_string();
        assert!(output.contains("compile_error !"), "{output}");
        assert!(output.contains("pub fn twice"), "{output}");
        assert!(output.contains("unimplemented !"), "{output}");
    }
}
