//! How an enter or exit error leaves the outermost `async_with!` level:
//! returned from the enclosing function, converted like `?`, or, inside
//! async-stream's `stream!`/`try_stream!`, sent to the stream. Both choose
//! by autoref whether the error can occur at all (`Infallible`: nothing is
//! required of the function or the stream; the runtime's
//! `expansion/raise.rs`). A nested level's errors are ways out of the
//! enclosing block (`emit.rs`).

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;

/// Returns `error` from the enclosing function, converted like `?`
/// (nothing is required of the function for an `Infallible` error),
/// reported at `span`: the crate path keeps its own hygiene (`$crate`
/// resolves where it was written) but is located at `span`, so that an
/// error about the conversion points at the user's manager, not at the
/// whole invocation.
pub fn emit(krate: &TokenStream, error: &TokenStream, span: Span) -> TokenStream {
    let kind = raise_kind(krate, error, span);
    quote_spanned! {span=> {
        #[allow(unreachable_code, clippy::diverging_sub_expression)]
        return #kind.raise(#error);
    }}
}

/// How `error` leaves, chosen by autoref on its type (the kind borrows
/// nothing: the error then moves), reported at `span`.
fn raise_kind(krate: &TokenStream, error: &TokenStream, span: Span) -> TokenStream {
    let krate = located_at(krate, span);
    quote_spanned! {span=>
        (&&#krate::__private::raise::Probe(&#error)).async_with_raise_kind()
    }
}

/// Inside async-stream's `stream!`/`try_stream!`, the sender its `yield`
/// sends to: the `__yield_tx` of a `yield` in the block, already rewritten
/// by that macro (which expands first, and rewrites `yield` in the tokens
/// of the macros in its body, but not their `?`). Its span keeps its
/// hygiene, so that it names async-stream's binding.
///
/// The outermost level of such a block then sends enter and exit errors
/// and its `?` failures to the stream as `Err(e.into())` and ends it
/// (`return`), as the generator's own `?` does, instead of returning them
/// from the generator's `async` block (whose output is `()`). A block with
/// no `yield` of its own cannot be told from one outside a stream.
pub fn stream_sink(tokens: TokenStream) -> Option<proc_macro2::Ident> {
    tokens.into_iter().find_map(|token| match token {
        proc_macro2::TokenTree::Ident(ident) if ident == "__yield_tx" => Some(ident),
        proc_macro2::TokenTree::Group(group) => stream_sink(group.stream()),
        _ => None,
    })
}

/// `error` sent to the stream of [`stream_sink`], which then ends (see
/// there), reported at `span`. An `Infallible` error sends nothing and
/// needs nothing of the stream's item (the runtime's `raise!` choice).
pub fn emit_to_stream(
    krate: &TokenStream,
    sink: &proc_macro2::Ident,
    error: &TokenStream,
    span: Span,
) -> TokenStream {
    let kind = raise_kind(krate, error, span);
    quote_spanned! {span=> {
        #[allow(unreachable_code)]
        #sink.send(#kind.stream_item(#error)).await;
        #[allow(unreachable_code)]
        return;
    }}
}

/// `tokens` with their hygiene, reported at `span`.
pub fn located_at(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut token| {
            token.set_span(token.span().located_at(span));
            token
        })
        .collect()
}
