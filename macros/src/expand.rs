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
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, Macro, Stmt};

use crate::macro_args::Args;
use crate::parse::{self, AsyncWith, Manager};
use crate::raise;
use crate::rewrite::{self, Site};

/// `async_with!($crate; INPUT)`: the expansion, or one `compile_error!`.
/// The entry point as a `proc_macro2` function, for tests and the fuzzer.
pub fn invocation(tokens: TokenStream) -> TokenStream {
    syn::parse2::<parse::Invocation>(tokens)
        .and_then(|parse::Invocation { krate, input }| async_with(input, &krate, 0))
        .unwrap_or_else(syn::Error::into_compile_error)
}

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
    // Read as written: the rewrite turns `Err(e)?` into a `match`.
    let tail = tail_value(&body);
    let sites = rewrite::rewrite(&mut body, flow.clone(), krate.clone())?;
    Ok(expand_one(
        depth, &manager, &body, tail, &flow, &sites, krate,
    ))
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
                    *stmt = crate::parse::replaced_macro_stmt(expanded, stmt_mac.semi_token);
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
    depth: usize,
    manager: &Manager,
    body: &Block,
    tail: Option<Span>,
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
    let value_type = quote_spanned!(mixed=> value_type);
    let ok = quote!(::core::result::Result::Ok);
    let err = quote!(::core::result::Result::Err);
    let private = quote!(#krate::__private);

    // Parentheses around the manager (a struct literal needed them before
    // it parsed without) are not needed here, where rustc would warn about
    // them.
    let expr = match &manager.expr {
        Expr::Paren(paren) => &*paren.expr,
        expr => expr,
    };
    // The crate path keeps its hygiene but is reported at the manager, so
    // that a non-manager is reported there.
    let private_at_expr = raise::located_at(&private, expr_span);
    // `&mut manager` of a manager that is not `Send` is lent through
    // `by_ref`, a manager that is not `Unpin` as `Unpinned`, anything else
    // as it is (`__private::Lend`). In a tuple, so
    // that a struct literal is no `match` scrutinee, and its temporaries
    // live as long as before.
    let lent = quote_spanned!(mixed.located_at(expr_span)=> manager);
    let lend = quote_spanned! {expr_span=>
        match (#expr,) {
            (#lent,) => {
                #[allow(unused_imports)]
                use #private_at_expr::{LendByRef as _, LendManager as _, LendOther as _, LendUnpinned as _};
                (&&&&#private_at_expr::Lend(&#lent)).lend_kind().lend(#lent)
            }
        }
    };
    let new_scope = quote_spanned!(expr_span=> #private_at_expr::pin!(#private_at_expr::scope(#private_at_expr::manager(#lend))));
    let enter = quote_spanned!(expr_span=> #scope.as_mut().enter().await);
    // Every `.await` of the expansion is reported at the manager: outside
    // an `async` context rustc then gives one error (identical ones are
    // deduplicated), not one per `.await`.
    let await_ = quote_spanned!(expr_span=> .await);
    let exit = quote_spanned!(expr_span=> #scope.as_mut().exit);
    let exit_after = quote_spanned!(expr_span=> #scope.as_mut().exit_after);
    // Inside async-stream's `try_stream!`, errors leaving the outermost
    // level go to the stream (`raise::stream_sink`).
    let sink = (depth == 0)
        .then(|| raise::stream_sink(quote::ToTokens::to_token_stream(body)))
        .flatten();
    let raise_at = |span: Span| match &sink {
        Some(sink) => raise::emit_to_stream(krate, sink, &error, span),
        None => raise::emit(krate, &error, span),
    };
    let raise = raise_at(expr_span);
    // Exit failed after the block failed: the exit error keeps the
    // block's where its type can (rule 8; `suppressed.rs`).
    let keep = |held: &TokenStream| {
        quote! {
            if #scope.as_ref().handled_block_failure() {
                #error
            } else {
                #[allow(unused_imports)]
                use #private::keep::{KeepBoth as _, KeepByHook as _, KeepLater as _};
                (&&&#private::keep::Keep::of(&#error, &#held)).keep_kind().keep(#error, #held)
            }
        }
    };
    let bind = match &manager.pat {
        Some(pat) => quote! {
            #[allow(unused_mut)]
            let #pat = #target;
        },
        None => quote!(let _ = #target;),
    };

    // The block's value is a failure if it is `Err(_)` or `None` (rule 4).
    // A block without a tail expression (its value is `()`) needs no probe.
    let ending_imports = quote! {
        #[allow(unused_imports)]
        use #private::{
            ShapeFallible as _, ShapeOther as _, ViewDebug as _, ViewError as _, ViewOpaque as _,
        };
    };

    // A block with no way out but its end needs no flow enum: exit sees
    // `Completed` (or the panic, or a failure if the value is `Err`), the
    // block's value is the macro's.
    // A block that awaits nothing runs as a closure called at once: nothing
    // it borrows is then held across an await of the enclosing future, so
    // that future is `Send` exactly when it is without the macro (an
    // `async` block borrowing a `!Sync` local, a `std::sync::mpsc::Receiver`,
    // would make it `!Send`).
    let sync = !may_await(quote::ToTokens::to_token_stream(body));
    let block_runs = |contents: TokenStream| {
        if sync {
            quote!(#private::catch_unwind_now(|| { #contents }))
        } else {
            quote!(#private::catch_unwind(async { #contents }) #await_)
        }
    };

    if sites.is_empty() {
        let run_block = block_runs(quote! {
            #bind
            #private::typed(#value_type, #body)
        });
        // The block's value is kept only where exit's outcome looked at it
        // (its type is known then).
        let kept_value = if tail.is_some() {
            keep(&value)
        } else {
            quote!(#error)
        };
        let kept_binding = if tail.is_some() {
            value.clone()
        } else {
            quote!(_)
        };
        let of_tail = if let Some(tail) = tail {
            let outcome = outcome_of(&value, krate, Given::Value(tail));
            quote!(|#value| { #ending_imports #outcome })
        } else {
            quote!(|_| #krate::Outcome::Completed)
        };
        return typed_by_context(
            depth,
            &value_type,
            &private,
            quote! {
                let mut #scope = #new_scope;
                let #target = match #enter {
                    #ok(#target) => #target,
                    #err(#error) => #raise,
                };
                #[allow(unreachable_code, unused_braces, clippy::diverging_sub_expression)]
                let mut #ended = #run_block;
                let #exited = #exit(#private::outcome(&mut #ended, #of_tail)) #await_;
                match #private::after_exit(#ended, #exited) {
                    #ok((#value, _)) => #value,
                    #err((#error, #kept_binding)) => {
                        // The value is `!` in a block that never ends.
                        #[allow(unreachable_code)]
                        let #error = #kept_value;
                        #raise
                    }
                }
            },
            None,
            true,
        );
    }

    // The flow enum: one type parameter per way out that carries a value.
    let value_param = format_ident!("V", span = mixed);
    let mut params = vec![value_param.clone()];
    let mut variants = vec![quote!(Value(#value_param))];
    let mut replay_arms = Vec::new();
    let mut failed_arms = Vec::new();
    let suppressible = sites.iter().any(|site| {
        matches!(
            site,
            Site::Question { .. } | Site::Raise | Site::Return { may_fail: true, .. }
        )
    });
    // What exit's error keeps when it failed after the block: a `?`'s
    // residual, an inner level's raised error, the block's value.
    let mut keep_arms = Vec::new();
    let mut return_hint = None;
    let mut witness_decl = None;
    let witness = quote_spanned!(mixed=> return_type);
    for (index, site) in sites.iter().enumerate() {
        let variant = rewrite::variant(index);
        let param = format_ident!("T{}", index, span = mixed);
        // A failure gives exit a view of its residual, chosen where the
        // error type is concrete: `Error`, `Debug`, or opaque.
        let residual_outcome = outcome_of(&residual, krate, Given::Residual);
        let failed = quote!(#flow::#variant(#residual) => #residual_outcome,);
        // A suppressed failure of a `()` block evaluates to `()`; otherwise
        // the failure is replayed. The replay is written once: a nested
        // `async_with!` sees each `?` it contains as a site of its own, so a
        // copy per branch would double the code at every level of nesting.
        let suppressible = |replay: TokenStream| {
            quote! {{
                #[allow(unused_imports)]
                use #private::{SuppressedOther as _, SuppressedUnit as _};
                let suppressed = (&&#private::SuppressedValue(#value_type)).value();
                match #private::suppressed(#action, suppressed) {
                    ::core::option::Option::Some(#value) => #value,
                    ::core::option::Option::None => #replay,
                }
            }}
        };
        match site {
            Site::Return {
                span,
                may_fail: false,
            } => {
                // Every `return` is written `Ok(..)`, `Some(..)` or has no
                // value: completed, replayed as it is.
                params.push(param.clone());
                variants.push(quote!(#variant(#param)));
                let value_at = quote_spanned!(mixed.located_at(*span)=> value);
                let returned = quote_spanned!(*span=> return #value_at);
                replay_arms.push(quote!(#flow::#variant(#value) => #returned,));
            }
            Site::Return { span, .. } => {
                params.push(param.clone());
                variants.push(quote!(#variant(#param)));
                // `return Err(e)` / `return None` raises (rule 3): exit
                // sees it as a failure, which it may suppress (rule 5);
                // any other value completed the block.
                let value_outcome = outcome_of(&value, krate, Given::Value(*span));
                failed_arms.push(quote!(#flow::#variant(#value) => #value_outcome,));
                // The replay and the hint below return the value located at
                // the user's `return`: errors about it point there, and a
                // value of the wrong type is reported once (the two errors
                // are identical).
                let value_at = quote_spanned!(mixed.located_at(*span)=> value);
                let returned = quote_spanned!(*span=> return #value_at);
                let replay = suppressible(returned.clone());
                replay_arms.push(quote! {
                    #flow::#variant(#value) => {
                        #ending_imports
                        let #action = if (&&&#private::Shape(&#value)).ending().is_completed() {
                            #krate::ExitAction::Propagate
                        } else {
                            #action
                        };
                        #replay
                    }
                });
                // Never runs: ties the type of the block's `return` value
                // to the enclosing function's return type before exit's
                // outcome is built from it (DESIGN.md, "Errors in the
                // block"). The outermost level returns the value; a nested
                // level, inside the enclosing block, ties it to the
                // outermost level's witness.
                return_hint = Some(if depth == 0 {
                    quote! {
                        if false {
                            if let #ok(#flow::#variant(#value)) = #ended {
                                #returned;
                            }
                        }
                    }
                } else {
                    quote! {
                        if false {
                            if let #ok(#flow::#variant(#value)) = &#ended {
                                #private::returns(#witness, #value);
                            }
                        }
                    }
                });
                if depth == 0 {
                    witness_decl = Some(quote! {
                        let #witness = ::core::marker::PhantomData;
                        if false {
                            return #private::return_type(#witness);
                        }
                    });
                }
            }
            Site::Question { span } => {
                params.push(param.clone());
                variants.push(quote!(#variant(#param)));
                failed_arms.push(failed);
                let kept = keep(&residual);
                keep_arms.push(quote!(#flow::#variant(#residual) => #kept,));
                let residual_at = quote_spanned!(mixed.located_at(*span)=> residual);
                let replay = match &sink {
                    Some(_) => {
                        let raise = raise_at(*span);
                        suppressible(quote_spanned! {*span=> {
                            let #err(#error) = #residual_at;
                            #raise
                        }})
                    }
                    None => suppressible(quote_spanned!(*span=> match #residual_at? {})),
                };
                replay_arms.push(quote!(#flow::#variant(#residual) => #replay,));
            }
            Site::Raise => {
                params.push(param.clone());
                variants.push(quote!(#variant(#param)));
                failed_arms.push(failed);
                let kept = keep(&residual);
                keep_arms.push(quote!(#flow::#variant(#residual) => #kept,));
                let raise = raise_at(Span::call_site());
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
    if let Some(tail) = tail {
        let value_outcome = outcome_of(&value, krate, Given::Value(tail));
        failed_arms.push(quote!(#flow::Value(#value) => #value_outcome,));
        let kept = keep(&value);
        keep_arms.push(quote!(#flow::Value(#value) => #kept,));
    }
    let kept_flow_binding = if keep_arms.is_empty() {
        quote!(_)
    } else {
        quote!(flow)
    };
    let kept_flow = if keep_arms.is_empty() {
        quote!(#error)
    } else {
        quote! {
            match flow {
                #(#keep_arms)*
                #[allow(unreachable_patterns)]
                _ => #error,
            }
        }
    };
    let outcome_of_flow = if failed_arms.is_empty() {
        quote!(|_| #krate::Outcome::Completed)
    } else {
        quote! {
            |flow| {
                #ending_imports
                match flow {
                    #(#failed_arms)*
                    #[allow(unreachable_patterns)]
                    _ => #krate::Outcome::Completed,
                }
            }
        }
    };
    let action_pattern = if suppressible {
        quote!(#action)
    } else {
        quote!(_)
    };

    let run_block = block_runs(quote! {
        #bind
        let #value = #private::typed(#value_type, #body);
        #flow::Value(#value)
    });
    let expansion = quote! {
        let mut #scope = #new_scope;
        let #target = match #enter {
            #ok(#target) => #target,
            #err(#error) => #raise,
        };
        #[allow(non_camel_case_types, dead_code)]
        enum #flow<#(#params),*> {
            #(#variants),*
        }
        #[allow(unreachable_code, unused_braces, clippy::diverging_sub_expression)]
        let mut #ended = #run_block;
        #return_hint
        let #exited = #exit_after(&mut #ended, #outcome_of_flow) #await_;
        #[allow(unreachable_code, clippy::diverging_sub_expression)]
        match #private::after_exit(#ended, #exited) {
            #err((#error, #kept_flow_binding)) => {
                #[allow(unreachable_code)]
                let #error = #kept_flow;
                #raise
            }
            #ok((flow, #action_pattern)) => match flow {
                #flow::Value(#value) => #value,
                #(#replay_arms)*
            }
        }
    };
    // An unlabelled `break`/`continue` of a loop around the macro.
    let labelled = !sites
        .iter()
        .any(|site| matches!(site, Site::Jump { label: None, .. }));
    typed_by_context(
        depth,
        &value_type,
        &private,
        expansion,
        witness_decl,
        labelled,
    )
}

/// Whether `tokens` may await: an `await` anywhere, or a macro other than
/// std's that cannot (its expansion may hold one: `select!`, `join!`).
/// Only decides how the block runs; "may" is always safe.
fn may_await(tokens: TokenStream) -> bool {
    const CANNOT_AWAIT: &[&str] = &[
        "assert",
        "assert_eq",
        "assert_ne",
        "column",
        "concat",
        "dbg",
        "debug_assert",
        "debug_assert_eq",
        "debug_assert_ne",
        "env",
        "eprint",
        "eprintln",
        "file",
        "format",
        "format_args",
        "line",
        "matches",
        "module_path",
        "panic",
        "print",
        "println",
        "stringify",
        "todo",
        "unimplemented",
        "unreachable",
        "vec",
        "write",
        "writeln",
    ];
    let tokens: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
    tokens.iter().enumerate().any(|(index, token)| match token {
        proc_macro2::TokenTree::Ident(ident) if ident == "await" => true,
        proc_macro2::TokenTree::Ident(ident) => {
            let is_macro = matches!(
                tokens.get(index + 1),
                Some(proc_macro2::TokenTree::Punct(bang)) if bang.as_char() == '!'
            ) && matches!(
                tokens.get(index + 2),
                Some(proc_macro2::TokenTree::Group(_))
            );
            is_macro && !CANNOT_AWAIT.contains(&ident.to_string().as_str())
        }
        proc_macro2::TokenTree::Group(group) => may_await(group.stream()),
        _ => false,
    })
}

/// The expansion's outer block. The type the context expects of the
/// macro's value (a `let` with a type, the function's return type, an
/// argument, an `async` block's output that a `return` fixes) reaches only
/// that block's tail; a labelled block coerces its `break` values to it,
/// and rustc checks statements in order. So a `break` that never runs,
/// first in the block, gives `value_type` that type before the block and
/// exit's outcome are checked (DESIGN.md, "Errors in the block").
///
/// Not with an unlabelled `break`/`continue` leaving the block: its replay
/// cannot be inside a labelled block (E0695), nor a loop of ours. There
/// the block's value is typed inside the block, as before.
fn typed_by_context(
    depth: usize,
    value_type: &TokenStream,
    private: &TokenStream,
    expansion: TokenStream,
    witness_decl: Option<TokenStream>,
    labelled: bool,
) -> TokenStream {
    let value = quote_spanned!(Span::mixed_site()=> value);
    let declared = quote! {
        #witness_decl
        let #value_type = ::core::marker::PhantomData;
    };
    if !labelled {
        return quote! {{
            #declared
            #expansion
        }};
    }
    let label = syn::Lifetime::new(&format!("'async_with_value{depth}"), Span::mixed_site());
    quote! {{
        #declared
        #label: {
            // `value` is `!` when the block never ends.
            #[allow(clippy::diverging_sub_expression)]
            if false {
                let #value = #private::value_of(#value_type);
                break #label #value;
            }
            #expansion
        }
    }}
}

/// The outcome exit sees for `value` (a reference to a `?` residual, a
/// `return` value or the block's value): `Failed` with a view of the error
/// if it is `Err(_)`, `Failed` for `None`, else `Completed`. Both choices
/// are autoref at the call site, where the types are concrete
/// (`__private::Shape`, `__private::View`).
fn outcome_of(value: &TokenStream, krate: &TokenStream, given: Given) -> TokenStream {
    let private = quote!(#krate::__private);
    let error = quote_spanned!(Span::mixed_site()=> error);
    // A `?` residual's error type is known at the `?`; a value's may not be
    // yet, so its view starts at `Debug` (see `__private::View`).
    let (ending, view) = match given {
        Given::Residual => (
            quote!((&&&#private::Shape(#value)).ending()),
            quote!((&&&#private::View(#error)).failure()),
        ),
        Given::Value(span) => {
            // Located at the value: the one error a value's unknown type
            // or unknown error type can cause points there.
            let private = raise::located_at(&private, span);
            let error = quote_spanned!(Span::mixed_site().located_at(span)=> error);
            (
                quote_spanned!(span=> (&&&#private::Shape(#value)).ending()),
                quote_spanned!(span=> (&&#private::View(#error)).failure()),
            )
        }
    };
    quote! {
        match #ending {
            #private::Ending::Completed => #krate::Outcome::Completed,
            #private::Ending::None => #krate::Outcome::Failed(#krate::Failure::none()),
            #private::Ending::Error(#error) => {
                #krate::Outcome::Failed(#view)
            }
        }
    }
}

/// How a value reaches exit's outcome.
#[derive(Clone, Copy)]
enum Given {
    /// A `?` residual.
    Residual,
    /// A `return` value or the block's value, written at this span.
    Value(Span),
}

/// The span of the block's tail expression, if its value could be `Err` or
/// `None`: not for a block ending in `;` (its value is `()`, and it pays
/// for no probe), nor one whose tail diverges as written (its value's type
/// is never known, and the probe would force it to a `Result`). Read before
/// the rewrite, as the user wrote the block.
fn tail_value(body: &Block) -> Option<Span> {
    match body.stmts.last() {
        Some(Stmt::Expr(expr, None)) => match expr {
            // Never an error: `Ok(..)`, `Some(..)`.
            expr if rewrite::is_success(expr) => None,
            expr if diverges(expr) => None,
            // Their value is `()`.
            Expr::If(syn::ExprIf {
                else_branch: None, ..
            })
            | Expr::While(_)
            | Expr::ForLoop(_)
            | Expr::Assign(_) => None,
            expr => Some(expr.span()),
        },
        Some(Stmt::Macro(mac)) if mac.semi_token.is_none() && !diverging_macro(&mac.mac) => {
            Some(mac.mac.span())
        }
        _ => None,
    }
}

/// Whether `expr` never produces a value, as written: a jump, a panic,
/// `Err(..)?` or `None?`, a `loop` with no `break` in it, or a block, `if`
/// or `match` all of whose ways to a value are of those. Such a tail has
/// no value to probe (it never misses an error), and the probe would force
/// its type, unknown otherwise, to a `Result`.
fn diverges(expr: &Expr) -> bool {
    match expr {
        Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => true,
        Expr::Macro(mac) => diverging_macro(&mac.mac),
        Expr::Try(question) => match &*question.expr {
            Expr::Call(call) => {
                matches!(&*call.func, Expr::Path(path) if path.path.is_ident("Err"))
            }
            Expr::Path(path) => path.path.is_ident("None"),
            _ => false,
        },
        // Any `break` in it, even one of an inner loop or in a macro's
        // arguments, counts: a probe too many is only a cost.
        Expr::Loop(lp) => !mentions_break(lp.body.to_token_stream()),
        Expr::Block(block) => block_diverges(&block.block),
        Expr::Unsafe(block) => block_diverges(&block.block),
        Expr::If(syn::ExprIf {
            then_branch,
            else_branch: Some((_, else_branch)),
            ..
        }) => block_diverges(then_branch) && diverges(else_branch),
        Expr::Match(matched) => matched.arms.iter().all(|arm| diverges(&arm.body)),
        Expr::Paren(paren) => diverges(&paren.expr),
        Expr::Group(group) => diverges(&group.expr),
        _ => false,
    }
}

/// A block whose last statement, with or without `;`, diverges.
fn block_diverges(block: &Block) -> bool {
    match block.stmts.last() {
        Some(Stmt::Expr(expr, _)) => diverges(expr),
        Some(Stmt::Macro(mac)) => diverging_macro(&mac.mac),
        _ => false,
    }
}

/// `panic!`, `unreachable!`, `todo!`, `unimplemented!` (any path ending so).
fn diverging_macro(mac: &Macro) -> bool {
    mac.path.segments.last().is_some_and(|segment| {
        ["panic", "unreachable", "todo", "unimplemented"]
            .iter()
            .any(|name| segment.ident == name)
    })
}

fn mentions_break(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|token| match token {
        proc_macro2::TokenTree::Ident(ident) => ident == "break",
        proc_macro2::TokenTree::Group(group) => mentions_break(group.stream()),
        _ => false,
    })
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

    /// A block ending in `;`: no probe of its value, nothing but the
    /// protocol (what a block with no way out and no value costs).
    #[test]
    fn a_block_without_a_value() {
        check("no_value", "conn = Connection::open() => { conn.touch(); }");
    }

    /// A `return`: its value's type is tied to the function's before exit
    /// sees whether it is an error (rule 3).
    #[test]
    fn a_block_with_a_return() {
        check(
            "return",
            "conn = Connection::open() => { if conn.is_empty() { return Err(Empty); } }",
        );
    }

    /// Only success values are returned: no `return` needs a look at its
    /// value, so the expansion has no probe.
    #[test]
    fn a_block_returning_only_success_values() {
        check(
            "success_returns",
            "conn = Connection::open() => { if conn.is_empty() { return Ok(1); } return Ok(2); }",
        );
    }

    /// An unlabelled `continue` of a loop around the macro: its replay
    /// cannot be in a labelled block, so the context's type does not reach
    /// the block's value before exit's outcome (the residue in the README).
    #[test]
    fn a_block_with_an_unlabelled_jump() {
        check(
            "unlabelled_jump",
            "conn = Connection::open() => { if conn.is_empty() { continue; } conn.len() }",
        );
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

#[cfg(test)]
mod tests {
    use super::tail_value;

    fn probed(block: &str) -> bool {
        let block: syn::Block = syn::parse_str(block).expect("a block");
        tail_value(&block).is_some()
    }

    #[test]
    fn a_tail_that_could_be_an_error_is_probed() {
        for block in [
            "{ conn.read() }",
            "{ value }",
            "{ Err(error) }",
            "{ if ok { a } else { b } }",
            "{ make!() }",
            "{ let x = 1; vec![x] }",
            "{ make! { x } }",
            "{ match mode { 0 => return Ok(1), _ => value } }",
            "{ if b { return } else { value } }",
            "{ loop { if b { break 7; } } }",
            "{ loop { select! { _ = f => break } } }",
            "{ Err(e)?.into() }",
            "{ Some(x)? }",
        ] {
            assert!(probed(block), "{block}");
        }
    }

    #[test]
    fn a_tail_that_cannot_be_an_error_is_not_probed() {
        for block in [
            "{}",
            "{ conn.read(); }",
            "{ make!(); }",
            "{ Ok(1) }",
            "{ Some(1) }",
            "{ return value }",
            "{ break }",
            "{ continue }",
            "{ if ok { a } }",
            "{ while ok {} }",
            "{ for x in xs {} }",
            "{ x = 1 }",
            "{ panic!() }",
            "{ std::unreachable!() }",
            "{ todo!() }",
            "{ unimplemented!(\"later\") }",
            "{ panic! { \"braces\" } }",
            "{ match mode { 0 => return Ok(1), 1 => Err(e)?, _ => break 'outer } }",
            "{ match x { 0 => { return; } _ => None?, } }",
            "{ if b { panic!() } else { unreachable!() } }",
            "{ if b { return } else if c { continue } else { todo!() } }",
            "{ loop { if b { return; } } }",
            "{ loop { tick().await; } }",
            "{ { return x } }",
            "{ match never {} }",
        ] {
            assert!(!probed(block), "{block}");
        }
    }
}
