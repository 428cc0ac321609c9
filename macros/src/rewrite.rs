//! Rewrites the control flow of an `async_with!` block so that the block can
//! run as an `async` block (whose panics can be caught) and every way out of
//! it is replayed after exit.
//!
//! Each `return`, `?`, and `break`/`continue` that leaves the block becomes
//! `return Flow::Variant(..)` out of the async block; [`Site`] records what
//! to replay. Closures, async blocks, items and const blocks keep their own
//! control flow and are not entered. Nested `async_with!` invocations are
//! expanded here, eagerly, so that the jumps their replay code performs are
//! rewritten in turn (inner exit, then outer exit, then the jump).

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Lifetime, Macro, Stmt, Token};

/// One way out of the block, in order of first appearance.
pub enum Site {
    /// `return` (all `return`s share one variant: they have one type).
    Return,
    /// A `?`, replayed with a `?` carrying the original span.
    Question { span: Span },
    /// An enter or exit error of a nested manager, replayed with `raise!`.
    Raise,
    /// `break` or `continue` to a loop outside the block.
    Jump {
        keyword: TokenStream,
        label: Option<Lifetime>,
        has_value: bool,
    },
}

pub struct Rewriter {
    /// Name of the block's flow enum.
    pub flow: Ident,
    /// Path of the runtime crate.
    krate: TokenStream,
    /// Nesting depth of the `async_with!` being expanded.
    depth: usize,
    pub sites: Vec<Site>,
    /// Index of the shared `Return` site, once used.
    return_site: Option<usize>,
    /// Loops and labelled blocks entered inside the block.
    loop_depth: usize,
    labels: Vec<String>,
    pub errors: Vec<syn::Error>,
    /// Rewrites done so far (sites and nested expansions), to tell whether
    /// a macro's arguments changed.
    rewrites: usize,
}

impl Rewriter {
    pub fn new(flow: Ident, krate: TokenStream, depth: usize) -> Self {
        Rewriter {
            flow,
            krate,
            depth,
            sites: Vec::new(),
            return_site: None,
            loop_depth: 0,
            labels: Vec::new(),
            errors: Vec::new(),
            rewrites: 0,
        }
    }

    pub fn variant(index: usize) -> Ident {
        format_ident!("Exit{}", index, span = Span::mixed_site())
    }

    fn push(&mut self, site: Site) -> Ident {
        self.sites.push(site);
        self.rewrites += 1;
        Self::variant(self.sites.len() - 1)
    }

    fn leave(&self, variant: &Ident, value: Option<TokenStream>, span: Span) -> Expr {
        let flow = &self.flow;
        let expr = match value {
            Some(value) => quote_spanned!(span=> return #flow::#variant(#value)),
            None => quote_spanned!(span=> return #flow::#variant),
        };
        syn::parse2(expr).expect("generated return parses")
    }

    fn targets_outside(&self, label: &Option<Lifetime>) -> bool {
        match label {
            Some(label) => !self.labels.contains(&label.ident.to_string()),
            None => self.loop_depth == 0,
        }
    }

    fn in_loop<T>(&mut self, label: Option<&syn::Label>, f: impl FnOnce(&mut Self) -> T) -> T {
        self.in_label(label, true, f)
    }

    fn in_label<T>(
        &mut self,
        label: Option<&syn::Label>,
        is_loop: bool,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        if let Some(label) = label {
            self.labels.push(label.name.ident.to_string());
        }
        self.loop_depth += usize::from(is_loop);
        let result = f(self);
        self.loop_depth -= usize::from(is_loop);
        if label.is_some() {
            self.labels.pop();
        }
        result
    }

    /// Rewrites the arguments of a macro call in the block, if they parse as
    /// expressions (`println!`, `vec!`, `assert!`, ...). Returns the
    /// expansion when the macro is a nested `async_with!`.
    fn rewrite_macro(&mut self, mac: &mut Macro) -> Option<Expr> {
        if is_path(mac, &["async_with"]) {
            return Some(self.expand_nested(mac));
        }
        if let Some(error) = crate::raise::recognise(mac) {
            // `raise!(error)`: this block's exit sees `error` first.
            let variant = self.push(Site::Raise);
            let value =
                quote!(::core::result::Result::<::core::convert::Infallible, _>::Err(#error));
            return Some(self.leave(&variant, Some(value), mac.span()));
        }
        let before = self.rewrites;
        let comma_list = Punctuated::<Expr, Token![,]>::parse_terminated;
        if let Ok(mut args) = comma_list.parse2(mac.tokens.clone()) {
            for arg in args.iter_mut() {
                self.visit_expr_mut(arg);
            }
            if self.rewrites != before {
                mac.tokens = args.into_token_stream();
            }
            return None;
        }
        let repeat = |input: syn::parse::ParseStream| {
            let element: Expr = input.parse()?;
            let semi: Token![;] = input.parse()?;
            let count: Expr = input.parse()?;
            Ok((element, semi, count))
        };
        if let Ok((mut element, semi, mut count)) = repeat.parse2(mac.tokens.clone()) {
            self.visit_expr_mut(&mut element);
            self.visit_expr_mut(&mut count);
            mac.tokens = quote!(#element #semi #count);
            return None;
        }
        if let Some(span) = find_jump(mac.tokens.clone()) {
            self.errors.push(syn::Error::new(
                span,
                "`async_with!` cannot forward `?`, `return`, `break` or `continue` written inside the arguments of this macro, \
                 because they do not parse as expressions; compute the value before the macro call (`let value = expr?;`) and pass `value`",
            ));
        }
        None
    }

    fn expand_nested(&mut self, mac: &Macro) -> Expr {
        self.rewrites += 1;
        let expanded = mac
            .parse_body::<crate::parse::AsyncWith>()
            .and_then(|input| crate::expand::async_with(input, &self.krate, self.depth + 1));
        match expanded {
            Ok(mut expr) => {
                // The replay code of the nested block jumps out of this one.
                self.visit_expr_mut(&mut expr);
                expr
            }
            Err(error) => {
                let error = error.to_compile_error();
                syn::parse2(quote!({ #error })).expect("compile_error! parses")
            }
        }
    }
}

fn is_path(mac: &Macro, suffix: &[&str]) -> bool {
    let segments: Vec<String> = mac
        .path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    segments.ends_with(&suffix.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

/// The first `?`, `return`, `break` or `continue` among the tokens.
fn find_jump(tokens: TokenStream) -> Option<Span> {
    tokens.into_iter().find_map(|token| match token {
        TokenTree::Punct(punct) if punct.as_char() == '?' => Some(punct.span()),
        TokenTree::Ident(ident)
            if ["return", "break", "continue"].contains(&ident.to_string().as_str()) =>
        {
            Some(ident.span())
        }
        TokenTree::Group(group) => find_jump(group.stream()),
        _ => None,
    })
}

impl VisitMut for Rewriter {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            // Their own `return`, `?` and loops.
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            Expr::Return(ret) => {
                if let Some(value) = &mut ret.expr {
                    self.visit_expr_mut(value);
                }
                let variant = match self.return_site {
                    Some(index) => Self::variant(index),
                    None => {
                        let variant = self.push(Site::Return);
                        self.return_site = Some(self.sites.len() - 1);
                        variant
                    }
                };
                let value = match &ret.expr {
                    Some(value) => value.to_token_stream(),
                    None => quote!(()),
                };
                *expr = self.leave(&variant, Some(value), ret.return_token.span);
            }
            Expr::Try(try_expr) => {
                self.visit_expr_mut(&mut try_expr.expr);
                let span = try_expr.question_token.span;
                let variant = self.push(Site::Question { span });
                let flow = &self.flow;
                let operand = &try_expr.expr;
                let krate = &self.krate;
                let branch = quote_spanned!(span=> #krate::__private::Branch::branch);
                *expr = syn::parse2(quote_spanned! {span=>
                    match #branch(#operand) {
                        ::core::ops::ControlFlow::Continue(value) => value,
                        ::core::ops::ControlFlow::Break(residual) => return #flow::#variant(residual),
                    }
                })
                .expect("generated match parses");
            }
            Expr::Break(brk) => {
                if let Some(value) = &mut brk.expr {
                    self.visit_expr_mut(value);
                }
                if self.targets_outside(&brk.label) {
                    let variant = self.push(Site::Jump {
                        keyword: brk.break_token.to_token_stream(),
                        label: brk.label.clone(),
                        has_value: brk.expr.is_some(),
                    });
                    let value = brk.expr.as_ref().map(|value| value.to_token_stream());
                    *expr = self.leave(&variant, value, brk.break_token.span);
                }
            }
            Expr::Continue(cont) => {
                if self.targets_outside(&cont.label) {
                    let variant = self.push(Site::Jump {
                        keyword: cont.continue_token.to_token_stream(),
                        label: cont.label.clone(),
                        has_value: false,
                    });
                    *expr = self.leave(&variant, None, cont.continue_token.span);
                }
            }
            Expr::ForLoop(for_loop) => {
                self.visit_expr_mut(&mut for_loop.expr);
                let label = for_loop.label.clone();
                self.in_loop(label.as_ref(), |this| {
                    this.visit_block_mut(&mut for_loop.body)
                });
            }
            Expr::While(while_loop) => {
                let label = while_loop.label.clone();
                self.in_loop(label.as_ref(), |this| {
                    this.visit_expr_mut(&mut while_loop.cond);
                    this.visit_block_mut(&mut while_loop.body);
                });
            }
            Expr::Loop(loop_expr) => {
                let label = loop_expr.label.clone();
                self.in_loop(label.as_ref(), |this| {
                    this.visit_block_mut(&mut loop_expr.body)
                });
            }
            Expr::Block(block) if block.label.is_some() => {
                let label = block.label.clone();
                self.in_label(label.as_ref(), false, |this| {
                    this.visit_block_mut(&mut block.block)
                });
            }
            Expr::Macro(mac) => {
                if let Some(expanded) = self.rewrite_macro(&mut mac.mac) {
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
                if let Some(expanded) = self.rewrite_macro(&mut stmt_mac.mac) {
                    *stmt = Stmt::Expr(expanded, stmt_mac.semi_token);
                }
            }
            _ => visit_mut::visit_stmt_mut(self, stmt),
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}

    fn visit_macro_mut(&mut self, mac: &mut Macro) {
        // Macros in patterns and types: their arguments are left alone.
        let _ = mac;
    }
}
