//! The `raise!` marker, in one place: how an enter or exit error leaves an
//! `async_with!` level.
//!
//! A level emits `$crate::__private::raise!(error)` (the runtime's macro
//! returns `error` from the enclosing function, converted like `?`). When
//! that level is nested in the block of an enclosing level of the same
//! expansion, the enclosing level's rewriter finds the marker
//! ([`recognise`]) and turns it into a failure its own exit sees first,
//! then raises it again itself.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::{Expr, Macro};

/// The marker raising `error`, reported at `span`: the crate path keeps
/// its own hygiene (`$crate` resolves where it was written) but is located
/// at `span`, so that an error about the conversion points at the user's
/// manager, not at the whole invocation.
pub fn emit(krate: &TokenStream, error: &TokenStream, span: Span) -> TokenStream {
    let krate = located_at(krate, span);
    quote_spanned!(span=> #krate::__private::raise!(#error))
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
    let krate = located_at(krate, span);
    let kind = quote::quote_spanned!(Span::mixed_site()=> kind);
    quote_spanned! {span=> {
        #[allow(unused_imports)]
        use #krate::__private::raise::{KindNever as _, KindPropagate as _};
        #[allow(unreachable_code)]
        let #kind = (&&#krate::__private::raise::Probe(&#error)).async_with_raise_kind();
        #[allow(unreachable_code)]
        #sink.send(#kind.stream_item(#error)).await;
        #[allow(unreachable_code)]
        return;
    }}
}

/// The raised error, if `mac` is the marker.
pub fn recognise(mac: &Macro) -> Option<Expr> {
    let segments = &mac.path.segments;
    let is_marker = segments.len() >= 2
        && segments[segments.len() - 1].ident == "raise"
        && segments[segments.len() - 2].ident == "__private";
    if !is_marker {
        return None;
    }
    // Anything else is the user's own call, left for the runtime's
    // `raise!` to report.
    mac.parse_body().ok()
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

#[cfg(test)]
mod tests {
    use super::recognise;
    use quote::ToTokens;

    fn raised(mac: &str) -> Option<String> {
        let mac: syn::Macro = syn::parse_str(mac).expect("a macro call");
        recognise(&mac).map(|expr| expr.to_token_stream().to_string())
    }

    #[test]
    fn the_marker_is_recognised_under_any_crate_path() {
        // `crate = ..` may name the library by a path of any length.
        for krate in ["aw", "::async_with", "facade::aw", "a::b::c", "a::b::c::d"] {
            let mac = format!("{krate}::__private::raise!(error)");
            assert_eq!(raised(&mac).as_deref(), Some("error"), "{mac}");
        }
    }

    #[test]
    fn other_macros_are_not_the_marker() {
        for mac in [
            "raise!(error)",
            "__private::other!(error)",
            "a::raise::__private!(error)",
            "a::__private::b::raise!(error)",
        ] {
            assert_eq!(raised(mac), None, "{mac}");
        }
    }
}
