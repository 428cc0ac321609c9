//! The expansion of one `async_with!` level, over the runtime's protocol
//! (`runtime/src/protocol.rs`): a `Scope` owns the pinned manager and, from
//! enter to exit, its target (dropped in between, it cancels); the block
//! runs as a panic-catching `async` block whose ways out were rewritten
//! into a flow enum ([`crate::rewrite`]); exit sees the [`Outcome`]; then
//! the way out is replayed. Several managers nest: `a = A(), b = B() => {..}`
//! is `a = A() => { async_with!(b = B() => {..}) }`.
//!
//! [`Outcome`]: https://docs.rs/async-with/latest/async_with/enum.Outcome.html

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, Macro, Stmt};

use crate::macro_args::Args;
use crate::parse::{self, AsyncWith, Manager};
use crate::raise;
use crate::rewrite::{self, Site};

/// Expands `input`, `depth` levels inside other `async_with!` blocks of
/// the same expansion. `krate` is the path of the runtime crate. The
/// tokens of the expression (parsed again only where an enclosing level
/// rewrites them).
///
/// Innermost first: the nested levels in the block are expanded, then this
/// level's rewrite sees their replays as ordinary jumps and routes them
/// through this level's exit.
pub fn async_with(
    mut input: AsyncWith,
    krate: &TokenStream,
    depth: usize,
) -> syn::Result<TokenStream> {
    let manager = input.managers.remove(0);
    let mut body = if input.managers.is_empty() {
        let mut body = input.body;
        let mut nested = Nested {
            krate,
            depth: depth + 1,
            expanded: 0,
        };
        nested.visit_block_mut(&mut body);
        body
    } else {
        // The remaining managers form the body: exactly nested semantics.
        let inner = syn::parse2(async_with(input, krate, depth + 1)?)?;
        Block {
            brace_token: Default::default(),
            stmts: vec![Stmt::Expr(inner, None)],
        }
    };
    let flow = format_ident!("AsyncWithFlow{}", depth, span = Span::mixed_site());
    let sites = rewrite::rewrite(&mut body, flow.clone(), krate.clone())?;
    Ok(expand_one(&manager, &body, &flow, &sites, krate))
}

/// Expands the `async_with!` invocations nested in a block, where the
/// block's own control flow reaches (not in closures, async blocks, const
/// blocks or items, which keep their own, and which rustc expands later).
struct Nested<'a> {
    krate: &'a TokenStream,
    depth: usize,
    /// Invocations expanded so far, to tell whether a macro's arguments
    /// changed.
    expanded: usize,
}

impl Nested<'_> {
    /// The expansion of `mac` if it is `async_with!`; otherwise looks inside
    /// its arguments.
    fn expand_macro(&mut self, mac: &mut Macro) -> Option<Expr> {
        if parse::is_async_with(mac) {
            self.expanded += 1;
            let expanded = mac
                .parse_body::<AsyncWith>()
                .and_then(|input| async_with(input, self.krate, self.depth))
                .and_then(syn::parse2);
            return Some(expanded.unwrap_or_else(|error| {
                let error = error.to_compile_error();
                syn::parse_quote!({ #error })
            }));
        }
        let before = self.expanded;
        if let Some(mut args) = Args::parse(mac) {
            for arg in args.exprs_mut() {
                self.visit_expr_mut(arg);
            }
            if self.expanded != before {
                mac.tokens = args.into_tokens();
            }
        }
        None
    }
}

impl VisitMut for Nested<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            Expr::Macro(mac) => {
                if let Some(expanded) = self.expand_macro(&mut mac.mac) {
                    *expr = expanded;
                }
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_stmt_mut(&mut self, stmt: &mut Stmt) {
        match stmt {
            Stmt::Item(_) => {}
            Stmt::Macro(stmt_mac) => {
                if let Some(expanded) = self.expand_macro(&mut stmt_mac.mac) {
                    *stmt = Stmt::Expr(expanded, stmt_mac.semi_token);
                }
            }
            _ => visit_mut::visit_stmt_mut(self, stmt),
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}

    fn visit_macro_mut(&mut self, _: &mut Macro) {
        // Macros in patterns and types: their arguments are left alone.
    }
}

fn expand_one(
    manager: &Manager,
    body: &Block,
    flow: &syn::Ident,
    sites: &[Site],
    krate: &TokenStream,
) -> TokenStream {
    let mixed = Span::mixed_site();
    let expr_span = manager.expr.span();
    // Generated locals get mixed-site hygiene: a user span's own hygiene
    // differs from the call site's when `async_with!` is written inside a
    // `macro_rules!` macro. The scope is reported at the user's expression.
    let scope = quote_spanned!(mixed.located_at(expr_span)=> scope);
    let target = quote_spanned!(mixed=> target);
    let ended = quote_spanned!(mixed=> ended);
    let exited = quote_spanned!(mixed=> exited);
    let error = quote_spanned!(mixed=> error);
    let action = quote_spanned!(mixed=> action);
    let value = quote_spanned!(mixed=> value);
    let residual = quote_spanned!(mixed=> residual);
    let ok = quote!(::core::result::Result::Ok);
    let err = quote!(::core::result::Result::Err);
    let private = quote!(#krate::__private);

    // Parentheses the parser required (around a struct literal) are not
    // needed here, where rustc would warn about them.
    let expr = match &manager.expr {
        Expr::Paren(paren) => &*paren.expr,
        expr => expr,
    };
    // The crate path keeps its hygiene but is reported at the manager, so
    // that a non-manager is reported there.
    let private_at_expr = raise::located_at(&private, expr_span);
    let new_scope =
        quote_spanned!(expr_span=> #private_at_expr::pin!(#private_at_expr::scope(#expr)));
    let enter = quote_spanned!(expr_span=> #scope.as_mut().enter().await);
    let exit = quote_spanned!(expr_span=> #scope.exit);
    let exit_after = quote_spanned!(expr_span=> #scope.exit_after);
    let raise = raise::emit(krate, &error, expr_span);
    let bind = match &manager.pat {
        Some(pat) => quote! {
            #[allow(unused_mut)]
            let #pat = #target;
        },
        None => quote!(let _ = #target;),
    };

    // A block with no way out but its end needs no flow enum: exit sees
    // `Completed` (or the panic), the block's value is the macro's.
    if sites.is_empty() {
        let stmts = &body.stmts;
        return quote! {{
            let mut #scope = #new_scope;
            let #target = match #enter {
                #ok(#target) => #target,
                #err(#error) => #raise,
            };
            let mut #ended = #private::catch_unwind(async {
                #bind
                #(#stmts)*
            })
            .await;
            let #exited = #exit(#private::outcome(&mut #ended, |_| #krate::Outcome::Completed)).await;
            match #private::after_exit(#ended, #exited) {
                #ok((#value, _)) => #value,
                #err(#error) => #raise,
            }
        }};
    }

    // The flow enum: one type parameter per way out that carries a value.
    let value_param = format_ident!("V", span = mixed);
    let mut params = vec![value_param.clone()];
    let mut variants = vec![quote!(Value(#value_param))];
    let mut replay_arms = Vec::new();
    let mut failed_arms = Vec::new();
    let suppressible = sites
        .iter()
        .any(|site| matches!(site, Site::Question { .. } | Site::Raise));
    for (index, site) in sites.iter().enumerate() {
        let variant = rewrite::variant(index);
        let param = format_ident!("T{}", index, span = mixed);
        // A failure gives exit a view of its residual, chosen where the
        // error type is concrete: `Error`, `Debug`, or opaque.
        let failed = quote! {
            #flow::#variant(#residual) => {
                #[allow(unused_imports)]
                use #private::{EraseDebug as _, EraseError as _, EraseOpaque as _};
                #krate::Outcome::Failed((&&&#private::Erase(#residual)).failure())
            }
        };
        // A suppressed failure of a `()` block evaluates to `()`; otherwise
        // the failure is replayed. The replay is written once: a nested
        // `async_with!` sees each `?` it contains as a site of its own, so a
        // copy per branch would double the code at every level of nesting.
        let suppressible = |replay: TokenStream| {
            quote! {{
                #[allow(unused_imports)]
                use #private::{SuppressedOther as _, SuppressedUnit as _};
                let suppressed = (&&#private::SuppressedValue(value_type)).value();
                match #private::suppressed(#action, suppressed) {
                    ::core::option::Option::Some(#value) => #value,
                    ::core::option::Option::None => #replay,
                }
            }}
        };
        match site {
            Site::Return => {
                params.push(param.clone());
                variants.push(quote!(#variant(#param)));
                replay_arms.push(quote!(#flow::#variant(#value) => return #value,));
            }
            Site::Question { span } => {
                params.push(param.clone());
                variants.push(quote!(#variant(#param)));
                failed_arms.push(failed);
                let replay = suppressible(quote_spanned!(*span=> match #residual? {}));
                replay_arms.push(quote!(#flow::#variant(#residual) => #replay,));
            }
            Site::Raise => {
                params.push(param.clone());
                variants.push(quote!(#variant(#param)));
                failed_arms.push(failed);
                let raise = raise::emit(krate, &error, Span::call_site());
                let replay = suppressible(quote! {{
                    let #err(#error) = #residual;
                    #raise
                }});
                replay_arms.push(quote!(#flow::#variant(#residual) => #replay,));
            }
            Site::Jump {
                keyword,
                label,
                has_value,
            } => {
                if *has_value {
                    params.push(param.clone());
                    variants.push(quote!(#variant(#param)));
                    replay_arms.push(quote!(#flow::#variant(#value) => #keyword #label #value,));
                } else {
                    variants.push(quote!(#variant));
                    replay_arms.push(quote!(#flow::#variant => #keyword #label,));
                }
            }
        }
    }
    let outcome_of_flow = if failed_arms.is_empty() {
        quote!(|_| #krate::Outcome::Completed)
    } else {
        quote! {
            |flow| match flow {
                #(#failed_arms)*
                _ => #krate::Outcome::Completed,
            }
        }
    };
    let (action_pattern, value_type) = if suppressible {
        (
            quote!(#action),
            quote! {
                let value_type = match &flow {
                    #flow::Value(#value) => #private::type_of(#value),
                    _ => ::core::marker::PhantomData,
                };
            },
        )
    } else {
        (quote!(_), quote!())
    };

    quote! {{
        let mut #scope = #new_scope;
        let #target = match #enter {
            #ok(#target) => #target,
            #err(#error) => #raise,
        };
        #[allow(non_camel_case_types, dead_code)]
        enum #flow<#(#params),*> {
            #(#variants),*
        }
        #[allow(unreachable_code, clippy::diverging_sub_expression)]
        let mut #ended = #private::catch_unwind(async {
            #bind
            let #value = #body;
            #flow::Value(#value)
        })
        .await;
        let #exited = #exit_after(&mut #ended, #outcome_of_flow).await;
        #[allow(unreachable_code, clippy::diverging_sub_expression)]
        match #private::after_exit(#ended, #exited) {
            #err(#error) => #raise,
            #ok((flow, #action_pattern)) => {
                #value_type
                match flow {
                    #flow::Value(#value) => #value,
                    #(#replay_arms)*
                }
            }
        }
    }}
}

#[cfg(test)]
mod golden {
    //! Pins the expansion of small blocks, printed as `cargo expand` would,
    //! so that a change to the generated code is seen in review. After an
    //! intended change: `UPDATE_GOLDEN=1 cargo test -p async-with-macros`,
    //! then read the diff.

    use std::path::Path;

    fn check(name: &str, input: &str) {
        let input: crate::parse::AsyncWith = syn::parse_str(input).expect("valid input");
        let krate = quote::quote!(::async_with);
        let expanded = super::async_with(input, &krate, 0).expect("expands");
        let expanded: syn::Expr = syn::parse2(expanded).expect("parses");
        let file: syn::File = syn::parse_quote! {
            async fn golden() -> Result<u64, Error> {
                let value = #expanded;
                Ok(value)
            }
        };
        let printed = prettyplease::unparse(&file);
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(format!("{name}.rs"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &printed).unwrap();
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            printed,
            expected,
            "the expansion of `{name}` changed; rerun with UPDATE_GOLDEN=1 and review {}",
            path.display()
        );
    }

    /// The common case: a block with no way out but its end.
    #[test]
    fn a_block_without_a_way_out() {
        check("no_way_out", "conn = Connection::open() => { conn.len() }");
    }

    /// A `?` in the block: exit sees the failure, then the `?` is replayed.
    #[test]
    fn a_block_with_a_question_mark() {
        check(
            "question_mark",
            "conn = Connection::open() => { conn.read().await? }",
        );
    }
}
