//! The rewriter: every `async fn` body `{ BODY }` (and with `blocks`, every
//! `async { BODY }` / `async move { BODY }`) becomes
//! `{ ::async_with::async_with!(_scope = ::async_with::nullcontext(()) => { BODY }) }`.
//!
//! syn finds the bodies; the wrap is spliced into the source text at their
//! byte offsets (proc-macro2's `span-locations`) instead of reprinting the
//! file, so comments, formatting and line numbers are kept: a compiler
//! error in a wrapped file points at the original line. The opening of the
//! wrap goes after the body's inner attributes (`#![..]`), which stay
//! outside it. Bodies inside macro tokens (`macro_rules!` definitions and
//! macro calls) are not parsed by syn and not wrapped; they are counted.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::visit::{self, Visit};
use syn::{AttrStyle, Attribute, Block};

/// Inserted after the body's `{` (and its inner attributes).
pub const OPEN: &str = "::async_with::async_with!(_scope = ::async_with::nullcontext(()) => {";
/// Inserted before the body's `}`.
pub const CLOSE: &str = "})";

/// A rewritten file.
#[derive(Debug)]
pub struct Rewritten {
    pub text: String,
    /// Bodies wrapped.
    pub wrapped: usize,
    /// Async bodies in `macro_rules!` definitions, not wrapped.
    pub in_macro_rules: usize,
    /// Async bodies in the tokens of other macro calls, not wrapped.
    pub in_macro_calls: usize,
}

/// Rewrites `source`; `blocks` also wraps async blocks.
pub fn rewrite(source: &str, blocks: bool) -> syn::Result<Rewritten> {
    // `syn::parse_file` strips a BOM and a shebang line before parsing, and
    // its offsets would then be those of the rest: strip them here instead.
    let mut start = 0;
    if source.starts_with('\u{feff}') {
        start = '\u{feff}'.len_utf8();
    }
    let rest = &source[start..];
    if rest.starts_with("#!") && !rest[2..].trim_start().starts_with('[') {
        start += rest.find('\n').unwrap_or(rest.len());
    }
    let file: syn::File = syn::parse_str(&source[start..])?;
    let mut finder = Finder {
        blocks,
        edits: Vec::new(),
        wrapped: 0,
        in_macro_rules: 0,
        in_macro_calls: 0,
    };
    finder.visit_file(&file);
    drop(file);
    // Offsets of one parse are only meaningful for it; release the thread's
    // source map so a long run does not keep every file parsed.
    proc_macro2::extra::invalidate_current_thread_spans();

    let mut text = source.to_string();
    // From the end, so earlier offsets stay valid. An opening and a closing
    // share an offset only in an empty body (`{}`): the closing is inserted
    // first, so the opening lands before it.
    finder
        .edits
        .sort_by(|a, b| b.0.cmp(&a.0).then((a.1 == OPEN).cmp(&(b.1 == OPEN))));
    for (offset, insert) in finder.edits {
        text.insert_str(start + offset, insert);
    }
    Ok(Rewritten {
        text,
        wrapped: finder.wrapped,
        in_macro_rules: finder.in_macro_rules,
        in_macro_calls: finder.in_macro_calls,
    })
}

struct Finder {
    blocks: bool,
    edits: Vec<(usize, &'static str)>,
    wrapped: usize,
    in_macro_rules: usize,
    in_macro_calls: usize,
}

impl Finder {
    /// Records the wrap of `block`, whose inner attributes are among `attrs`.
    fn wrap(&mut self, attrs: &[Attribute], block: &Block) {
        let mut open = block.brace_token.span.open().byte_range().end;
        for attr in attrs {
            if matches!(attr.style, AttrStyle::Inner(_)) {
                open = open.max(attr.bracket_token.span.close().byte_range().end);
            }
        }
        let close = block.brace_token.span.close().byte_range().start;
        self.edits.push((open, OPEN));
        self.edits.push((close, CLOSE));
        self.wrapped += 1;
    }
}

impl<'ast> Visit<'ast> for Finder {
    // Each visit recurses first, so the bodies nested in a body (inner
    // items, async blocks) are found too; each body is wrapped once.
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        visit::visit_item_fn(self, f);
        if f.sig.asyncness.is_some() {
            self.wrap(&f.attrs, &f.block);
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        visit::visit_impl_item_fn(self, f);
        if f.sig.asyncness.is_some() {
            self.wrap(&f.attrs, &f.block);
        }
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        visit::visit_trait_item_fn(self, f);
        // A bodiless `async fn` of a trait has nothing to wrap.
        if let (Some(_), Some(block)) = (&f.sig.asyncness, &f.default) {
            self.wrap(&f.attrs, block);
        }
    }

    fn visit_expr_async(&mut self, e: &'ast syn::ExprAsync) {
        visit::visit_expr_async(self, e);
        if self.blocks {
            self.wrap(&e.attrs, &e.block);
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let n = count_async_bodies(mac.tokens.clone(), self.blocks);
        if mac.path.is_ident("macro_rules") {
            self.in_macro_rules += n;
        } else {
            self.in_macro_calls += n;
        }
    }
}

/// Counts `async fn .. { }` (and with `blocks`, `async [move] { }`) in
/// macro tokens, which syn does not parse.
fn count_async_bodies(tokens: TokenStream, blocks: bool) -> usize {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut n = 0;
    for (i, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Group(g) => n += count_async_bodies(g.stream(), blocks),
            TokenTree::Ident(id) if id == "async" => {
                let is = |j: usize, word: &str| matches!(trees.get(j), Some(TokenTree::Ident(id)) if id == word);
                let is_brace = |j: usize| matches!(trees.get(j), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace);
                if is(i + 1, "fn") || (is(i + 1, "unsafe") && is(i + 2, "fn")) {
                    // A body, unless the signature ends in `;` (a trait's
                    // bodiless item).
                    let body = trees[i + 1..].iter().find_map(|t| match t {
                        TokenTree::Punct(p) if p.as_char() == ';' => Some(false),
                        TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => Some(true),
                        _ => None,
                    });
                    n += usize::from(body == Some(true));
                } else if blocks && (is_brace(i + 1) || (is(i + 1, "move") && is_brace(i + 2))) {
                    n += 1;
                }
            }
            _ => {}
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapped(body: &str) -> String {
        format!("{{{OPEN}{body}{CLOSE}}}")
    }

    #[test]
    fn an_async_fn_body_is_wrapped_and_comments_kept() {
        let src = "// top\nasync fn f() -> u8 { /* c */ 1 }\nfn g() -> u8 { 2 }\n";
        let out = rewrite(src, false).unwrap();
        assert_eq!(out.wrapped, 1);
        assert_eq!(
            out.text,
            format!(
                "// top\nasync fn f() -> u8 {}\nfn g() -> u8 {{ 2 }}\n",
                wrapped(" /* c */ 1 ")
            )
        );
    }

    #[test]
    fn methods_and_trait_default_bodies_are_wrapped_bodiless_items_untouched() {
        let src = "trait T { async fn a(&self); async fn b(&self) {} }\n\
                   impl S { async fn c(&self) {} }\n";
        let out = rewrite(src, false).unwrap();
        assert_eq!(out.wrapped, 2);
        assert_eq!(
            out.text,
            format!(
                "trait T {{ async fn a(&self); async fn b(&self) {} }}\nimpl S {{ async fn c(&self) {} }}\n",
                wrapped(""),
                wrapped("")
            )
        );
    }

    #[test]
    fn inner_attributes_stay_outside_the_wrap() {
        let src = "async fn f() {\n    #![allow(unused)]\n    let x = 1;\n}\n";
        let out = rewrite(src, false).unwrap();
        assert_eq!(
            out.text,
            format!("async fn f() {{\n    #![allow(unused)]{OPEN}\n    let x = 1;\n{CLOSE}}}\n")
        );
    }

    #[test]
    fn async_blocks_only_with_blocks() {
        let src = "fn f() { let a = async { 1 }; let b = async move { 2 }; }";
        let fns = rewrite(src, false).unwrap();
        assert_eq!((fns.wrapped, fns.text.as_str()), (0, src));
        let blocks = rewrite(src, true).unwrap();
        assert_eq!(blocks.wrapped, 2);
        assert_eq!(
            blocks.text,
            format!(
                "fn f() {{ let a = async {}; let b = async move {}; }}",
                wrapped(" 1 "),
                wrapped(" 2 ")
            )
        );
    }

    #[test]
    fn nested_async_blocks_are_wrapped_once_each() {
        let src = "async fn f() { async { async move { 1 }.await }.await }";
        let out = rewrite(src, true).unwrap();
        assert_eq!(out.wrapped, 3);
        let inner = wrapped(" 1 ");
        let middle = wrapped(&format!(" async move {inner}.await "));
        let outer = wrapped(&format!(" async {middle}.await "));
        assert_eq!(out.text, format!("async fn f() {outer}"));
        // Without `blocks`, only the fn.
        let out = rewrite(src, false).unwrap();
        assert_eq!(out.wrapped, 1);
    }

    #[test]
    fn bodies_in_macro_tokens_are_counted_not_wrapped() {
        let src = "macro_rules! m { () => { async fn g() {} async fn h(); }; }\n\
                   m! { async fn k() { async {} } }\n";
        let out = rewrite(src, true).unwrap();
        assert_eq!(
            (out.wrapped, out.in_macro_rules, out.in_macro_calls),
            (0, 1, 2)
        );
        assert_eq!(out.text, src);
    }

    #[test]
    fn a_shebang_and_a_bom_keep_offsets() {
        let src = "\u{feff}#!/usr/bin/env run\nasync fn f() {}\n";
        let out = rewrite(src, false).unwrap();
        assert_eq!(
            out.text,
            format!("\u{feff}#!/usr/bin/env run\nasync fn f() {}\n", wrapped(""))
        );
    }
}
