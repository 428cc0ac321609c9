//! The expansion of `async_with!`.
//!
//! One manager expands to: pin the manager, enter (an error leaves like
//! `?`), hold the target in a guard that calls the manager's `cancel` if the
//! future is dropped before exit starts, run the block as a panic-catching `async` block whose ways out were
//! rewritten into a flow enum, build the [`Outcome`] exit sees, await exit,
//! then replay the way out. Several managers nest: `a = A(), b = B() => {..}`
//! is `a = A() => { async_with!(b = B() => {..}) }`.
//!
//! [`Outcome`]: https://docs.rs/async-with/latest/async_with/enum.Outcome.html

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Expr;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;

use crate::parse::{AsyncWith, Manager};
use crate::rewrite::{Rewriter, Site};

pub fn async_with(mut input: AsyncWith, depth: usize) -> syn::Result<Expr> {
    let manager = input.managers.remove(0);
    let body = if input.managers.is_empty() {
        let block = &input.body;
        quote!(#block)
    } else {
        // The remaining managers form the body: exactly nested semantics.
        quote!({ ::async_with::async_with!(#input) })
    };
    let mut body: syn::Block = syn::parse2(body)?;

    let flow = format_ident!("AsyncWithFlow{}", depth, span = Span::mixed_site());
    let mut rewriter = Rewriter::new(flow.clone(), depth);
    rewriter.visit_block_mut(&mut body);
    if let Some(mut error) = rewriter.errors.pop() {
        for other in rewriter.errors {
            error.combine(other);
        }
        return Err(error);
    }
    let expanded = expand_one(&manager, &body, &flow, &rewriter.sites);
    syn::parse2(expanded)
}

fn expand_one(
    manager: &Manager,
    body: &syn::Block,
    flow: &syn::Ident,
    sites: &[Site],
) -> TokenStream {
    let mixed = Span::mixed_site();
    let expr_span = manager.expr.span();
    // Hygienic like the other locals, but reported at the user's expression.
    let manager_var = quote_spanned!(mixed.located_at(expr_span)=> manager);
    let guard = quote_spanned!(mixed=> guard);
    let entered = quote_spanned!(mixed=> entered);
    let flow_var = quote_spanned!(mixed=> flow);
    let action = quote_spanned!(mixed=> action);

    // Parentheses the parser required (around a struct literal) are not
    // needed here, where rustc would warn about them.
    let expr = match &manager.expr {
        Expr::Paren(paren) => &*paren.expr,
        expr => expr,
    };
    let pin = quote_spanned!(expr_span=> ::async_with::__private::pin!(#expr));
    let enter = quote_spanned!(expr_span=> ::async_with::__private::enter(#manager_var.as_mut()));
    // Generated locals named next to user tokens get mixed-site hygiene
    // (located at the user's span for messages): a user span's own hygiene
    // differs from the call site's when `async_with!` is written inside a
    // `macro_rules!` macro.
    let outcome = quote_spanned!(mixed=> outcome);
    let error = quote_spanned!(mixed=> error);
    let residual = quote_spanned!(mixed=> residual);
    let exit = quote_spanned!(expr_span=> #guard.exit(#outcome));
    let enter_await = quote_spanned!(expr_span=> #enter.await);
    let exit_await = quote_spanned!(expr_span=> #exit.await);
    let raise_kind = quote_spanned!(mixed=> raise_kind);
    let raise = quote_spanned!(expr_span=> ::async_with::__private::raise!(#raise_kind, #error));
    let bind = match &manager.pat {
        Some(pat) => quote! {
            #[allow(unused_mut)]
            let #pat = #guard.target();
        },
        None => quote!(let _ = #guard.target();),
    };

    // The flow enum: one type parameter per way out that carries a value.
    let value_param = format_ident!("V", span = mixed);
    let mut params = vec![value_param.clone()];
    let mut variants = vec![quote!(Value(#value_param))];
    let mut replay_arms = Vec::new();
    for (index, site) in sites.iter().enumerate() {
        let variant = Rewriter::variant(index);
        let param = format_ident!("T{}", index, span = mixed);
        // The replay is written once: a nested `async_with!` sees each `?`
        // it contains as a site of its own, so a copy per branch would
        // double the code at every level of nesting.
        let suppressible = |replay: TokenStream| {
            quote! {{
                #[allow(unused_imports)]
                use ::async_with::__private::{SuppressedOther as _, SuppressedUnit as _};
                let suppressed = if suppress {
                    (&&::async_with::__private::SuppressedValue(value_type)).value()
                } else {
                    ::core::option::Option::None
                };
                match suppressed {
                    ::core::option::Option::Some(value) => value,
                    ::core::option::Option::None => #replay,
                }
            }}
        };
        match site {
            Site::Return => {
                params.push(param.clone());
                variants.push(quote!(#variant(#param)));
                replay_arms.push(quote!(#flow::#variant(value) => return value,));
            }
            Site::Question { span } => {
                params.push(param.clone());
                variants.push(quote!(#variant(#param)));
                let replay = suppressible(quote_spanned!(*span=> match #residual? {}));
                replay_arms.push(quote!(#flow::#variant(#residual) => #replay,));
            }
            Site::Raise => {
                params.push(param.clone());
                variants.push(quote!(#variant(#param)));
                let replay = suppressible(quote! {{
                    let raise_kind = ::async_with::__private::raise_kind!(&residual);
                    let ::core::result::Result::Err(error) = residual;
                    ::async_with::__private::raise!(raise_kind, error)
                }});
                replay_arms.push(quote!(#flow::#variant(residual) => #replay,));
            }
            Site::Jump {
                keyword,
                label,
                has_value,
            } => {
                if *has_value {
                    params.push(param.clone());
                    variants.push(quote!(#variant(#param)));
                    replay_arms.push(quote!(#flow::#variant(value) => #keyword #label value,));
                } else {
                    variants.push(quote!(#variant));
                    replay_arms.push(quote!(#flow::#variant => #keyword #label,));
                }
            }
        }
    }
    // Each failed site gives the outcome a view of its residual. The view is
    // chosen where the error type is concrete: Error, Debug, or opaque.
    let outcome_failed = sites.iter().enumerate().filter_map(|(index, site)| match site {
        Site::Question { .. } | Site::Raise => {
            let variant = Rewriter::variant(index);
            Some(quote! {
                #flow::#variant(residual) => {
                    #[allow(unused_imports)]
                    use ::async_with::__private::{EraseDebug as _, EraseError as _, EraseOpaque as _};
                    ::async_with::Outcome::Failed((&&&::async_with::__private::Erase(&*residual)).failure())
                }
            })
        }
        _ => None,
    });

    quote! {{
        let mut #manager_var = #pin;
        let #entered = #enter_await;
        let #raise_kind = ::async_with::__private::raise_kind!(&#entered);
        // From here until exit starts, dropping this future cancels.
        let mut #guard = match #entered {
            ::core::result::Result::Ok(guard) => guard,
            ::core::result::Result::Err(#error) => #raise,
        };
        #[allow(non_camel_case_types, dead_code)]
        enum #flow<#(#params),*> {
            #(#variants),*
        }
        impl<#(#params),*> #flow<#(#params),*> {
            fn value_type(&self) -> ::core::marker::PhantomData<#value_param> {
                ::core::marker::PhantomData
            }
        }
        let mut #flow_var = {
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            let block = ::async_with::__private::pin!(::async_with::__private::CatchUnwind::new(async {
                #bind
                let value = #body;
                #flow::Value(value)
            }));
            block.await
        };
        // Exit is awaited in two places so that each way out pays only for
        // itself: after a panic exit's result is ignored and the panic
        // resumes; otherwise no panic payload is kept across exit's await
        // and a block without `?` gives exit a constant `Completed`
        // (measured: benches/with_vs_hand.rs). The replay is still written
        // once.
        #[allow(unreachable_code, clippy::diverging_sub_expression)]
        let value = match #flow_var {
            ::core::result::Result::Err(mut payload) => {
                let #outcome = ::async_with::Outcome::Panicked(payload.view());
                let _ = #exit_await;
                payload.resume()
            }
            ::core::result::Result::Ok(mut flow) => {
                let value_type = flow.value_type();
                let #outcome = match &mut flow {
                    #(#outcome_failed)*
                    _ => ::async_with::Outcome::Completed,
                };
                let #action = #exit_await;
                let #raise_kind = ::async_with::__private::raise_kind!(&#action);
                let suppress = ::async_with::__private::suppresses(&#action);
                let _ = (&value_type, suppress);
                match #action {
                    ::core::result::Result::Err(#error) => #raise,
                    ::core::result::Result::Ok(_) => match flow {
                        #flow::Value(value) => value,
                        #(#replay_arms)*
                    },
                }
            }
        };
        value
    }}
}
