//! The code of one level, piece by piece (`expand.rs` says how the pieces
//! fit). Generated locals have mixed-site hygiene: a user span's own
//! hygiene differs from the call site's when `async_with!` is written
//! inside a `macro_rules!` macro. Where rustc may report an error about a
//! piece, it is located at the user's code that causes it.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Block, Expr};

use crate::expand::Expansion;
use crate::parse::Manager;
use crate::raise;
use crate::rewrite::{self, Site};

/// What `level` needs of one level.
pub struct LevelInput<'a> {
    pub depth: usize,
    pub manager: &'a Manager,
    /// The block, rewritten.
    pub body: &'a Block,
    /// The span of the block's tail, if exit looks at the block's value.
    pub tail: Option<Span>,
    /// The block ends in an expression (whatever exit makes of it): the
    /// context's type must reach it (`typed_by_context`).
    pub has_tail: bool,
    /// The block awaits nothing: it runs as a closure.
    pub sync: bool,
    /// The ways out that reach this level's exit.
    pub arriving: &'a [usize],
    /// The way out this level's own enter and exit errors take, when it
    /// is nested.
    pub raised: Option<usize>,
}

/// A generated local (mixed-site hygiene).
fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// The expansion's enum of ways out.
fn ways_enum() -> Ident {
    local("AsyncWithWays")
}

/// The level's code: a braced block.
pub fn level(expansion: &Expansion, input: &LevelInput) -> TokenStream {
    let krate = &expansion.krate;
    let private = quote!(#krate::__private);
    let expr_span = input.manager.expr.span();
    let [target, ended, exited, error, action, value, way, flow] = [
        "target", "ended", "exited", "error", "action", "value", "way", "flow",
    ]
    .map(local);
    // The scope is reported at the user's manager; so is every `.await` of
    // the expansion: outside an `async` context rustc then gives one error
    // (identical ones are deduplicated), not one per `.await`.
    let scope = Ident::new("scope", Span::mixed_site().located_at(expr_span));
    let await_ = quote_spanned!(expr_span=> .await);
    let raise = raise_at(expansion, input, expr_span);
    let lent = lend(&private, input.manager);
    let private_at_expr = raise::located_at(&private, expr_span);
    let new_scope = quote_spanned!(expr_span=> #private_at_expr::pin!(#private_at_expr::scope(#private_at_expr::manager(#lent))));
    let enter = quote! {
        let mut #scope = #new_scope;
        let #target = match #scope.as_mut().enter() #await_ {
            ::core::result::Result::Ok(#target) => #target,
            ::core::result::Result::Err(#error) => #raise,
        };
    };
    let bind = match &input.manager.pat {
        Some(pat) => quote!(#[allow(unused_mut)] let #pat = #target;),
        None => quote!(let _ = #target;),
    };
    let body = input.body;
    let value_type = local("value_type");
    let exit_after = quote_spanned!(expr_span=> #scope.as_mut().exit_after);
    // Exit failed after the block failed: exit's error keeps the block's
    // failure where its type can (`suppressed.rs`), unless the manager
    // handled that failure itself.
    let keep = |held: &Ident| {
        quote! {
            (&&&#private::keep::Keep::of(&#error, &#held)).async_with_keep().keep(#error, #held)
        }
    };
    let unless_handled = |kept: TokenStream| {
        quote! {
            if #scope.as_ref().handled_block_failure() {
                #error
            } else {
                #kept
            }
        }
    };
    // Exit's outcome for the block's value, and what exit's error keeps of
    // it: looked at only where its tail may be an error.
    let (value_outcome, kept_value) = match input.tail {
        Some(tail) => (outcome_of_value(&private, &value, tail), keep(&value)),
        None => (quote!(#krate::Outcome::Completed), quote!(#error)),
    };
    let run = |contents: TokenStream| run_block(&private, input.sync, &await_, contents);

    let code = if input.arriving.is_empty() {
        // No way out but the block's end: the block's value is the macro's.
        // Without a tail, nothing types the value but the block itself.
        let typed = match input.has_tail {
            true => quote!(#private::typed(#value_type, #body)),
            false => quote!(#body),
        };
        let ended_with = run(quote! {
            #bind
            #typed
        });
        let (kept_binding, keep_value) = match input.tail {
            Some(_) => {
                let kept = unless_handled(kept_value);
                // The value is `!` in a block that never ends.
                (
                    quote!(#value),
                    quote!(#[allow(unreachable_code)] let #error = #kept;),
                )
            }
            None => (quote!(_), quote!()),
        };
        quote! {
            #enter
            #[allow(unreachable_code, unused_braces, clippy::diverging_sub_expression)]
            let mut #ended = #ended_with;
            let #exited = #exit_after(&mut #ended, |#kept_binding| #value_outcome) #await_;
            match #private::after_exit(#ended, #exited) {
                ::core::result::Result::Ok((#value, _)) => #value,
                ::core::result::Result::Err((#error, #kept_binding)) => {
                    #keep_value
                    #raise
                }
            }
        }
    } else {
        let ended_with = run(quote! {
            #bind
            let #value = #private::typed(#value_type, #body);
            #private::Flow::Value(#value)
        });
        let kept_way = keep(&way);
        let kept = unless_handled(quote! {
            match #flow {
                #private::Flow::Value(#value) => #kept_value,
                #private::Flow::Left(#way) => {
                    let #way = #private::Held(#way);
                    #kept_way
                }
            }
        });
        let replayed = replay(expansion, input, &way);
        quote! {
            #enter
            #[allow(unreachable_code, unused_braces, clippy::diverging_sub_expression)]
            let mut #ended = #ended_with;
            let #exited = #exit_after(&mut #ended, |#flow| #flow.outcome(|#value| #value_outcome)) #await_;
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            match #private::after_exit(#ended, #exited) {
                ::core::result::Result::Err((#error, #flow)) => {
                    #[allow(unreachable_code)]
                    let #error = #kept;
                    #raise
                }
                ::core::result::Result::Ok((#private::Flow::Value(#value), _)) => #value,
                ::core::result::Result::Ok((#private::Flow::Left(#way), #action)) => {
                    let suppressed = (&&#private::SuppressedValue(#value_type)).async_with_suppressed();
                    match #private::suppressed_way(#action, &#way, suppressed) {
                        ::core::option::Option::Some(#value) => #value,
                        ::core::option::Option::None => #replayed,
                    }
                }
            }
        }
    };
    // A level that replays an unlabelled `break`/`continue` cannot be a
    // labelled block (E0695).
    let labelled = input.has_tail
        && !input.arriving.iter().any(|&index| {
            let way = &expansion.ways[index];
            way.replayed_at == input.depth && matches!(way.site, Site::Jump { label: None, .. })
        });
    let (witness, ways) = match input.depth {
        0 => declarations(expansion),
        _ => (None, None),
    };
    let typed = input.has_tail || !input.arriving.is_empty();
    typed_by_context(input.depth, &private, witness, ways, code, labelled, typed)
}

/// The outermost level's declarations, shared by every level: the return
/// type's witness (before any code that returns), the traits of the
/// autoref choices, and the enum of ways out.
fn declarations(expansion: &Expansion) -> (Option<TokenStream>, Option<TokenStream>) {
    let private = {
        let krate = &expansion.krate;
        quote!(#krate::__private)
    };
    let return_type = local("return_type");
    let witness = expansion
        .ways
        .iter()
        .any(|way| matches!(way.site, Site::Return { .. }))
        .then(|| {
            // Never runs: the type of every `return`'s value is the
            // function's before the block is type-checked (DESIGN.md,
            // "Errors in the block").
            let returned = local("returned");
            quote! {
                let #return_type = ::core::marker::PhantomData;
                if false {
                    return #private::return_type(#return_type);
                }
                let #returned = #private::returning(#return_type);
            }
        });
    let variants = expansion.ways.iter().enumerate().map(|(index, way)| {
        let variant = rewrite::variant(index, &way.site);
        let param = format_ident!("T{}", index, span = Span::mixed_site());
        quote!(#variant(#param))
    });
    let ways = ways_enum();
    let ways = (!expansion.ways.is_empty())
        .then(|| quote!(#private::ways_out!(#ways { #(#variants),* });));
    // The traits of every autoref choice of every level, once.
    let declared = quote! {
        #[allow(unused_imports)]
        use #private::methods::*;
        #ways
    };
    (witness, Some(declared))
}

/// `return Flow::Left(AsyncWithWays::variant(leave))`, out of the block
/// that the way out leaves, at `span`.
pub fn leave_block(
    krate: &TokenStream,
    variant: &Ident,
    leave: TokenStream,
    span: Span,
) -> TokenStream {
    let left = left(krate, variant, leave, span);
    quote_spanned!(span=> return #left)
}

/// `Flow::Left(AsyncWithWays::variant(leave))`, at `span`.
pub fn left(krate: &TokenStream, variant: &Ident, leave: TokenStream, span: Span) -> TokenStream {
    let ways = ways_enum();
    quote_spanned!(span=> #krate::__private::Flow::Left(#ways::#variant(#leave)))
}

/// `operand?`: its value, or a way out with its residual.
pub fn question(
    krate: &TokenStream,
    operand: &TokenStream,
    variant: &Ident,
    span: Span,
) -> TokenStream {
    // Located at the `?`, so that a `?` on a type that is no `Result` or
    // `Option` is reported once, there.
    let private = raise::located_at(&quote!(#krate::__private), span);
    let residual = local("residual");
    let leave = leave_block(krate, variant, leave_residual(&private, &residual), span);
    quote_spanned! {span=> {
        match #private::branch(#operand) {
            ::core::ops::ControlFlow::Continue(value) => value,
            ::core::ops::ControlFlow::Break(#residual) => #leave,
        }
    }}
}

/// A residual (`Result<Infallible, E>`, `Option<Infallible>`) leaving:
/// exit sees its error through `Display` if it has one, and exit's error
/// keeps it if it can be boxed.
fn leave_residual(private: &TokenStream, residual: &Ident) -> TokenStream {
    quote! {
        #private::Leave::new(
            (&&&&#private::Way(&#residual)).async_with_view_kind(),
            (&&#private::Way(&#residual)).async_with_held(),
            #residual,
        )
    }
}

/// A `return`'s value leaving, typed as the function's return value.
/// Unless it is written as a success, exit sees an `Err` or a `None` as a
/// failure, viewed from `Debug` down (its type may be known only later).
pub fn leave_returned(
    krate: &TokenStream,
    value: TokenStream,
    may_fail: bool,
    span: Span,
) -> TokenStream {
    let private = raise::located_at(&quote!(#krate::__private), span);
    // A value of the wrong type is reported at the `return`, as an
    // argument of a local `fn(R) -> R` (no item of ours is named).
    let returned = Ident::new("returned", Span::mixed_site().located_at(span));
    let returned = quote_spanned!(span=> #returned(#value));
    if !may_fail {
        return quote!(#private::Leave::completed(#returned));
    }
    let value = Ident::new("value", Span::mixed_site().located_at(span));
    quote_spanned! {span=> {
        let #value = #returned;
        #private::Leave::new((&&&#private::Way(&#value)).async_with_view(), #private::HoldsNothing, #value)
    }}
}

/// A jump leaving: never a failure.
pub fn leave_completed(krate: &TokenStream, value: Option<TokenStream>) -> TokenStream {
    let value = value.unwrap_or_else(|| quote!(()));
    quote!(#krate::__private::Leave::completed(#value))
}

/// Exit's outcome for the block's value `value` (a reference), written at
/// `tail`: a failure if it is `Err(_)` or `None`, viewed from `Debug` down.
/// Located at the value: the one error its unknown type can cause points
/// there.
fn outcome_of_value(private: &TokenStream, value: &Ident, tail: Span) -> TokenStream {
    let private = raise::located_at(private, tail);
    quote_spanned! {tail=>
        #private::way_outcome(#value, (&&&#private::Way(#value)).async_with_view())
    }
}

/// After exit: the ways out this level replays, and the others handed to
/// the enclosing level.
fn replay(expansion: &Expansion, input: &LevelInput, way: &Ident) -> TokenStream {
    let ways = ways_enum();
    let krate = &expansion.krate;
    let leave = local("leave");
    let error = local("error");
    let mut arms = Vec::new();
    for &index in input.arriving {
        let out = &expansion.ways[index];
        if out.replayed_at != input.depth {
            continue;
        }
        let variant = rewrite::variant(index, &out.site);
        // Replayed as written: errors about the replay point at the user's
        // `return` or `?`.
        let leave = match &out.site {
            Site::Return { span } | Site::Question { span } => {
                Ident::new("leave", Span::mixed_site().located_at(*span))
            }
            _ => leave.clone(),
        };
        let replayed = match &out.site {
            Site::Return { span, .. } => {
                let value = quote_spanned!(*span=> #leave.value);
                quote_spanned!(*span=> return #value)
            }
            Site::Question { span } => match &expansion.sink {
                Some(sink) => {
                    let raise = raise::emit_to_stream(krate, sink, &quote!(#error), *span);
                    quote!({
                        let ::core::result::Result::Err(#error) = #leave.value;
                        #raise
                    })
                }
                None => {
                    let value = quote_spanned!(*span=> #leave.value);
                    quote_spanned!(*span=> match #value? {})
                }
            },
            Site::Raise { span } => {
                let raise = raise_at(expansion, input, *span);
                quote!({
                    let ::core::result::Result::Err(#error) = #leave.value;
                    #raise
                })
            }
            Site::Jump {
                keyword,
                label,
                has_value: true,
            } => quote!(#keyword #label #leave.value),
            Site::Jump { keyword, label, .. } => quote!(#keyword #label),
        };
        arms.push(quote!(#ways::#variant(#leave) => #replayed,));
    }
    // A nested level hands every other way out on, even when none of them
    // reaches it: the arm also makes this level's use of the enum the
    // enclosing level's type, whose other variants would be unknown here.
    let rest = if input.depth > 0 {
        quote!(#way => return #krate::__private::Flow::Left(#way),)
    } else {
        quote!(_ => ::core::unreachable!(),)
    };
    let all_replayed = input.depth == 0 && input.arriving.len() == expansion.ways.len();
    let rest = (!all_replayed).then(|| quote!(#[allow(unreachable_patterns)] #rest));
    // A replayed `return` is the function's tail here: not needless.
    quote! {{
        #[allow(unreachable_code, clippy::needless_return)]
        match #way {
            #(#arms)*
            #rest
        }
    }}
}

/// How an enter or exit error of this level leaves, at `span`: out of the
/// function (or to the stream of an enclosing `stream!`) at the outermost
/// level, as a way out of the enclosing block when nested.
fn raise_at(expansion: &Expansion, input: &LevelInput, span: Span) -> TokenStream {
    let krate = &expansion.krate;
    let error = quote_spanned!(Span::mixed_site()=> error);
    match (input.raised, &expansion.sink) {
        (Some(raised), _) => {
            let private = quote!(#krate::__private);
            let residual = local("residual");
            let leave = leave_residual(&private, &residual);
            let leave = quote!({
                let #residual = ::core::result::Result::<::core::convert::Infallible, _>::Err(#error);
                #leave
            });
            let variant = rewrite::variant(raised, &expansion.ways[raised].site);
            leave_block(krate, &variant, leave, span)
        }
        (None, Some(sink)) => raise::emit_to_stream(krate, sink, &error, span),
        (None, None) => raise::emit(krate, &error, span),
    }
}

/// The manager expression, lent to the scope: `&mut manager` of a manager
/// that is not `Send` through `by_ref`, a manager that is not `Unpin` as
/// `Unpinned`, anything else as it is (`__private::Lend`). In a tuple, so
/// that a struct literal is no `match` scrutinee, and its temporaries live
/// as long as before. The crate path keeps its hygiene but is reported at
/// the manager, so that a non-manager is reported there.
fn lend(private: &TokenStream, manager: &Manager) -> TokenStream {
    let expr_span = manager.expr.span();
    // Parentheses around the manager (a struct literal needed them before
    // it parsed without) are not needed here, where rustc would warn.
    let expr = match &manager.expr {
        Expr::Paren(paren) => &*paren.expr,
        expr => expr,
    };
    let private = raise::located_at(private, expr_span);
    let lent = Ident::new("manager", Span::mixed_site().located_at(expr_span));
    quote_spanned! {expr_span=>
        match (#expr,) {
            (#lent,) => (&&&&#private::Lend(&#lent)).async_with_lend().lend(#lent),
        }
    }
}

/// The block runs at once as a closure when it awaits nothing: nothing it
/// borrows is then held across an await of the enclosing future, so that
/// future is `Send` exactly when it is without the macro (an `async` block
/// borrowing a `!Sync` local, a `std::sync::mpsc::Receiver`, would make it
/// `!Send`); otherwise as an `async` block.
fn run_block(
    private: &TokenStream,
    sync: bool,
    await_: &TokenStream,
    contents: TokenStream,
) -> TokenStream {
    if sync {
        quote!(#private::catch_unwind_now(|| { #contents }))
    } else {
        quote!(#private::catch_unwind(async { #contents }) #await_)
    }
}

/// The level's outer block. The type the context expects of the macro's
/// value (a `let` with a type, the function's return type, an argument,
/// an `async` block's output that a `return` fixes) reaches only that
/// block's tail; a labelled block coerces its `break` values to it, and
/// rustc checks statements in order. So a `break` that never runs, first
/// in the block, gives `value_type` that type before the block and exit's
/// outcome are checked (DESIGN.md, "Errors in the block").
///
/// Not with an unlabelled `break`/`continue` replayed here: it cannot be
/// inside a labelled block (E0695), nor a loop of ours. There the block's
/// value is typed inside the block. Nor for a block without a tail, whose
/// value (`()`, or none when it diverges) no expected type changes.
fn typed_by_context(
    depth: usize,
    private: &TokenStream,
    witness: Option<TokenStream>,
    ways: Option<TokenStream>,
    code: TokenStream,
    labelled: bool,
    typed: bool,
) -> TokenStream {
    let value = local("value");
    let value_type = local("value_type");
    let value_type_declared = typed.then(|| quote!(let #value_type = ::core::marker::PhantomData;));
    let declared = quote! {
        #witness
        #value_type_declared
    };
    if !labelled {
        return quote! {{
            #declared
            #ways
            #code
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
            #ways
            #code
        }
    }}
}
