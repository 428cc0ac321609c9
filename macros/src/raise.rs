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

/// The raised error, if `mac` is the marker.
pub fn recognise(mac: &Macro) -> Option<Expr> {
    let segments = &mac.path.segments;
    let is_marker = segments.len() >= 2
        && segments[segments.len() - 1].ident == "raise"
        && segments[segments.len() - 2].ident == "__private";
    if !is_marker {
        return None;
    }
    Some(
        mac.parse_body()
            .expect("the marker's argument is an expression"),
    )
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
