//! Rewrites the control flow of an `async_with!` block so that the block can
//! run as a closure or an `async` block (whose panics can be caught) and
//! every way out of it is replayed after exit.
//!
//! Each `return`, `?`, and `break`/`continue` that leaves the block becomes
//! `return Flow::Left(AsyncWithWays::Wn(leave))` out of the closure or
//! `async` block, `leave` holding its value and how exit sees it (chosen
//! here, where its type is known); [`Site`] records what to replay.
//! Closures, async blocks, items and const blocks keep their own control
//! flow and are not entered. A nested `async_with!` is expanded where the
//! rewrite meets it (knowing the loops and labels around it), and its
//! expansion is not looked into again: the ways out it hands on are
//! already written.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, Lifetime, Macro, Stmt};

use crate::emit;
use crate::expand::{self, Context, Expansion};
use crate::macro_args::{Args, find_jump};
use crate::parse::{self, AsyncWith};

/// One way out of a block.
pub enum Site {
    /// `return`, at its span.
    Return { span: Span },
    /// A `?`, replayed with a `?` carrying the original span.
    Question { span: Span },
    /// An enter or exit error of a nested level's manager (at its span),
    /// replayed as the outermost level's own are.
    Raise { span: Span },
    /// `break` or `continue` to a loop outside the block.
    Jump {
        keyword: TokenStream,
        label: Option<Lifetime>,
        has_value: bool,
    },
}

struct Rewriter<'a> {
    expansion: &'a mut Expansion,
    /// The blocks of the enclosing levels, around this one.
    contexts: &'a [Context],
    /// Loops and labelled blocks entered inside the block.
    loop_depth: usize,
    labels: Vec<String>,
    /// The ways out that reach this level's exit: its own, and those
    /// nested levels hand on.
    arriving: Vec<usize>,
    errors: Vec<syn::Error>,
    /// Rewrites done so far, to tell whether a macro's arguments changed.
    rewrites: usize,
}

/// Rewrites the ways out of `body`, the block of the level at depth
/// `contexts.len()`, expanding the levels nested in it: returns the ways
/// out that reach its exit, or the errors found.
pub fn rewrite(
    body: &mut Block,
    expansion: &mut Expansion,
    contexts: &[Context],
) -> syn::Result<Vec<usize>> {
    let mut rewriter = Rewriter {
        expansion,
        contexts,
        loop_depth: 0,
        labels: Vec::new(),
        arriving: Vec::new(),
        errors: Vec::new(),
        rewrites: 0,
    };
    rewriter.visit_block_mut(body);
    let mut errors = rewriter.errors.into_iter();
    match errors.next() {
        None => Ok(rewriter.arriving),
        Some(mut error) => {
            errors.for_each(|other| error.combine(other));
            Err(error)
        }
    }
}

/// The variant of the way out at `index` in the expansion's enum, named
/// by what it carries: `Return0`, `Try1`, `Raise2`, `Break3`, `Continue4`.
pub fn variant(index: usize, site: &Site) -> Ident {
    let kind = match site {
        Site::Return { .. } => "Return",
        Site::Question { .. } => "Try",
        Site::Raise { .. } => "Raise",
        Site::Jump { keyword, .. } if keyword.to_string() == "continue" => "Continue",
        Site::Jump { .. } => "Break",
    };
    format_ident!("{}{}", kind, index, span = Span::mixed_site())
}

impl Rewriter<'_> {
    fn push(&mut self, site: Site) -> Ident {
        let index = self.expansion.push(site, self.contexts);
        self.arriving.push(index);
        self.rewrites += 1;
        variant(index, &self.expansion.ways[index].site)
    }

    /// `return Flow::Left(AsyncWithWays::variant(leave))`, at `span`.
    fn leave(&self, variant: &Ident, leave: TokenStream, span: Span) -> Expr {
        let left = emit::left(&self.expansion.krate, variant, leave, span);
        Expr::Return(syn::ExprReturn {
            attrs: Vec::new(),
            return_token: syn::Token![return](span),
            expr: Some(Box::new(Expr::Verbatim(left))),
        })
    }

    /// The nested `async_with!` `mac`, expanded.
    fn nested(&mut self, mac: &Macro) -> Expr {
        let mut contexts = self.contexts.to_vec();
        contexts.push(Context {
            loops: self.loop_depth,
            labels: self.labels.clone(),
        });
        self.rewrites += 1;
        let expanded = mac
            .parse_body::<AsyncWith>()
            .and_then(|input| expand::level(self.expansion, input, &contexts));
        match expanded {
            Ok(level) => {
                self.arriving.extend(level.passing.iter().copied());
                level.into_expr()
            }
            Err(error) => expand::opaque_block(error.to_compile_error()),
        }
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

    /// Rewrites the arguments of a macro call in the block, where they are
    /// expressions (`println!`, `vec!`, `assert!`, `matches!`, `select!`,
    /// tracing's events, ...; see `macro_args.rs`). Returns the replacement
    /// when the macro is a nested `async_with!` or a raising macro
    /// (`bail!`, `ensure!`).
    fn rewrite_macro(&mut self, mac: &mut Macro) -> Option<Expr> {
        if parse::is_async_with(mac) {
            return Some(self.nested(mac));
        }
        if is_raising(mac) {
            return self.rewrite_raising(mac);
        }
        let before = self.rewrites;
        let mut args = Args::parse(mac)?;
        if let Some(span) = args.unforwardable() {
            let name = macro_name(mac);
            self.errors.push(syn::Error::new(
                span,
                format!(
                    "`async_with!` cannot forward this out of `{name}!`: its arguments here are not expressions; \
                     compute the value before the macro call (`let value = expr?;`) and pass `value`"
                ),
            ));
            return None;
        }
        for arg in args.exprs_mut() {
            self.visit_expr_mut(arg);
        }
        if self.rewrites != before {
            mac.tokens = args.into_tokens();
        }
        None
    }

    /// `bail!(..)` / `ensure!(..)` (anyhow's, eyre's, any path ending so):
    /// their `return Err(..)` is in the macro's own definition, which this
    /// rewrite cannot see. So the macro runs in an `async` block of its
    /// own, whose `Result<(), E>` then goes through a `?` like any other:
    /// exit sees the error, and the same error leaves the function (the
    /// macro's `return Err(e)` would have converted `e` with `From`, as the
    /// `?` does).
    fn rewrite_raising(&mut self, mac: &Macro) -> Option<Expr> {
        let name = macro_name(mac);
        if let Some(span) = find_jump(mac.tokens.clone()) {
            self.errors.push(syn::Error::new(
                span,
                format!(
                    "`async_with!` runs `{name}!` in an `async` block of its own to see the error it raises, \
                     so this cannot leave the block from inside its arguments; \
                     compute the value before (`let value = expr?;`) and pass `value`"
                ),
            ));
            return None;
        }
        let span = mac.span();
        let variant = self.push(Site::Question { span });
        let raised = quote_spanned!(Span::mixed_site()=> raised);
        let question = emit::question(&self.expansion.krate, &raised, &variant, span);
        Some(expand::opaque_block(quote_spanned! {span=> {
            #[allow(unreachable_code)]
            let #raised = async {
                #mac;
                ::core::result::Result::Ok(())
            }
            .await;
            #question
        }}))
    }
}

/// Whether `expr` is written as a success value, `Ok(..)` or `Some(..)`:
/// it never is an error, whatever its type, so exit's outcome needs no
/// look at it (and its error type, often not known yet, is not needed).
pub fn is_success(expr: &Expr) -> bool {
    match expr {
        Expr::Paren(paren) => is_success(&paren.expr),
        Expr::Group(group) => is_success(&group.expr),
        Expr::Call(call) => matches!(
            &*call.func,
            Expr::Path(path) if path.path.segments.last().is_some_and(|segment| {
                segment.ident == "Ok" || segment.ident == "Some"
            })
        ),
        _ => false,
    }
}

/// Whether `mac` raises by returning from the enclosing function inside
/// its own definition: `bail!` and `ensure!` (anyhow, eyre).
fn is_raising(mac: &Macro) -> bool {
    let name = macro_name(mac);
    name == "bail" || name == "ensure"
}

/// The last segment of the macro's path.
fn macro_name(mac: &Macro) -> String {
    mac.path
        .segments
        .last()
        .map(|segment| segment.ident.to_string())
        .unwrap_or_default()
}

impl VisitMut for Rewriter<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            // Their own `return`, `?` and loops.
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            Expr::Return(ret) => {
                if let Some(value) = &mut ret.expr {
                    self.visit_expr_mut(value);
                }
                let may_fail = ret.expr.as_deref().is_some_and(|value| !is_success(value));
                let span = ret.return_token.span;
                let variant = self.push(Site::Return { span });
                let value = match &ret.expr {
                    Some(value) => value.to_token_stream(),
                    None => quote!(()),
                };
                let leave = emit::leave_returned(&self.expansion.krate, value, may_fail, span);
                *expr = self.leave(&variant, leave, span);
            }
            Expr::Try(try_expr) => {
                self.visit_expr_mut(&mut try_expr.expr);
                let span = try_expr.question_token.span;
                let variant = self.push(Site::Question { span });
                // Parentheses the `?` needed (`(a + b)?`) would be
                // unnecessary around the argument.
                let operand = match &*try_expr.expr {
                    Expr::Paren(paren) => &paren.expr,
                    operand => operand,
                };
                *expr = expand::opaque_block(emit::question(
                    &self.expansion.krate,
                    &operand.to_token_stream(),
                    &variant,
                    span,
                ));
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
                    let leave = emit::leave_completed(&self.expansion.krate, value);
                    *expr = self.leave(&variant, leave, brk.break_token.span);
                }
            }
            Expr::Continue(cont) => {
                if self.targets_outside(&cont.label) {
                    let variant = self.push(Site::Jump {
                        keyword: cont.continue_token.to_token_stream(),
                        label: cont.label.clone(),
                        has_value: false,
                    });
                    let leave = emit::leave_completed(&self.expansion.krate, None);
                    *expr = self.leave(&variant, leave, cont.continue_token.span);
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
                    *stmt = crate::parse::replaced_macro_stmt(expanded, stmt_mac.semi_token);
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

#[cfg(test)]
mod tests {
    use super::is_success;
    use syn::Expr;

    fn success(text: &str) -> bool {
        is_success(&syn::parse_str(text).expect("an expression"))
    }

    #[test]
    fn success_values_are_recognised_through_parentheses_and_groups() {
        for text in [
            "Ok(1)",
            "Some(x)",
            "std::result::Result::Ok(())",
            "(Ok(1))",
            "((Some(2)))",
        ] {
            assert!(success(text), "{text}");
        }
        // `$value:expr` of a `macro_rules!` macro arrives as an invisible group.
        let grouped = Expr::Group(syn::ExprGroup {
            attrs: Vec::new(),
            group_token: Default::default(),
            expr: Box::new(syn::parse_quote!(Ok(1))),
        });
        assert!(is_success(&grouped));
        for text in ["Err(e)", "None", "value", "make_ok(1)", "(Err(e))"] {
            assert!(!success(text), "{text}");
        }
    }
}
