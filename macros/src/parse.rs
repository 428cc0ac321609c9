//! The input of `async_with!`: `PAT = EXPR, ... => { BLOCK }` or
//! `EXPR => { BLOCK }`, after the runtime crate's path (`$crate;`).

use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::parse::discouraged::Speculative;
use syn::parse::{Parse, ParseStream};
use syn::{Block, Expr, Pat, Stmt, Token};

/// What the runtime's `async_with!` forwards: `$crate; INPUT`.
pub struct Invocation {
    /// The path of the runtime crate, as the user's crate names it.
    pub krate: TokenStream,
    pub input: AsyncWith,
}

impl Parse for Invocation {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut krate = TokenStream::new();
        while !input.peek(Token![;]) {
            if input.is_empty() {
                return Err(input
                    .error("expected `$crate;` before the input (use `async_with::async_with!`)"));
            }
            krate.extend([input.parse::<TokenTree>()?]);
        }
        // Only a path that may start a `use` makes the generated
        // `use #krate::__private::..` Rust (`$crate` is one identifier here;
        // `Self::x` is a path, but no `use` path). A path holds no group,
        // not even an invisible one, which syn's `use` would see through.
        let grouped = krate
            .clone()
            .into_iter()
            .any(|token| matches!(token, TokenTree::Group(_)));
        let not_a_path =
            grouped || syn::parse2::<syn::ItemUse>(quote::quote!(use #krate::__private;)).is_err();
        if not_a_path {
            return Err(syn::Error::new_spanned(
                &krate,
                "expected the runtime crate's path before `;` (use `async_with::async_with!`)",
            ));
        }
        input.parse::<Token![;]>()?;
        Ok(Invocation {
            krate,
            input: input.parse()?,
        })
    }
}

pub struct AsyncWith {
    /// Left to right: entered in this order, exited in reverse.
    pub managers: Vec<Manager>,
    pub body: Block,
}

pub struct Manager {
    /// `None` for the `EXPR => { .. }` form (Python's `async with lock:`).
    pub pat: Option<Pat>,
    pub expr: Expr,
}

impl Parse for AsyncWith {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(input.error(
                "expected a manager: `async_with!(target = manager => { ... })` or `async_with!(manager => { ... })`",
            ));
        }
        let mut managers = Vec::new();
        loop {
            managers.push(input.parse()?);
            if input.peek(Token![=>]) {
                let arrow: Token![=>] = input.parse()?;
                if input.is_empty() {
                    return Err(syn::Error::new_spanned(
                        arrow,
                        "expected a block `{ ... }` after `=>`",
                    ));
                }
                break;
            }
            if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
                continue;
            }
            if input.peek(syn::token::Brace) {
                return Err(input.error(
                    "expected `=>` before the block: `async_with!(target = manager => { ... })`",
                ));
            }
            return Err(input
                .error("expected `=>` followed by the block, or `,` followed by another manager"));
        }
        if !input.peek(syn::token::Brace) {
            return Err(input.error("expected a block `{ ... }` after `=>`"));
        }
        let body = input.parse()?;
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the block of `async_with!`"));
        }
        Ok(AsyncWith { managers, body })
    }
}

impl Parse for Manager {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let pat = if has_binding(input) {
            // A `let` pattern: no top-level `|` (the target is bound with
            // `let PAT = target;`).
            let pat = Pat::parse_single(input).map_err(|error| {
                syn::Error::new(
                    error.span(),
                    format!("invalid pattern before `=` in `async_with!`: {error}"),
                )
            })?;
            if !input.peek(Token![=]) || input.peek(Token![=>]) {
                return Err(input.error(
                    "invalid pattern: expected `=` after the pattern, as in `async_with!(pattern = manager => { ... })`",
                ));
            }
            input.parse::<Token![=]>()?;
            Some(pat)
        } else {
            None
        };
        Ok(Manager {
            pat,
            expr: manager_expr(input)?,
        })
    }
}

/// The manager expression, which ends at the `,` before another manager or
/// at the `=>` before the block. First parsed as the scrutinee of `match`
/// is (a `{` ends it); if that does not end at `,` or `=>`, the `{` was a
/// struct literal's (`Snapshot { table, log } => { .. }`: `=>` ends the
/// expression, so there is no ambiguity), and the expression is parsed
/// again in full. If that fails too, the first parse stands and the error
/// is reported after it (a missing `=>`).
fn manager_expr(input: ParseStream) -> syn::Result<Expr> {
    let ends = |stream: ParseStream| stream.peek(Token![,]) || stream.peek(Token![=>]);
    let scrutinee = input.fork();
    let expr = Expr::parse_without_eager_brace(&scrutinee)?;
    if !ends(&scrutinee) && scrutinee.peek(syn::token::Brace) {
        let full = input.fork();
        if let Ok(expr) = full.parse::<Expr>() {
            if ends(&full) {
                input.advance_to(&full);
                return Ok(expr);
            }
        }
    }
    input.advance_to(&scrutinee);
    Ok(expr)
}

/// Whether `mac` is a nested `async_with!`: its path ends in `async_with`
/// (`async_with!`, `async_with::async_with!`, `aw::async_with!` for a
/// renamed crate). A nested invocation through an alias
/// (`use async_with::async_with as aw; aw!(..)`) is not recognised: rustc
/// expands it later, on its own, and its jumps out of the enclosing block
/// do not compile (documented in the crate docs).
pub fn is_async_with(mac: &syn::Macro) -> bool {
    mac.path
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "async_with")
}

/// Whether the next manager has the `PAT =` form: a lone `=` (not part of
/// `==`, `=>`, `<=`, `+=`, ...) before the next top-level `,` or `=>`.
fn has_binding(input: ParseStream) -> bool {
    let tokens: Vec<TokenTree> = input.fork().cursor().token_stream().into_iter().collect();
    let mut previous_joint = false;
    for (index, token) in tokens.iter().enumerate() {
        if let TokenTree::Punct(punct) = token {
            let next = tokens.get(index + 1);
            let next_char = match next {
                Some(TokenTree::Punct(next)) => Some(next.as_char()),
                _ => None,
            };
            let joined_with_next = punct.spacing() == Spacing::Joint && next_char.is_some();
            match punct.as_char() {
                ',' => return false,
                '=' if next_char == Some('>') && joined_with_next => return false,
                '=' if !previous_joint && !joined_with_next => return true,
                _ => {}
            }
            previous_joint = punct.spacing() == Spacing::Joint;
        } else {
            previous_joint = false;
        }
    }
    false
}

/// Printed back by `#[async_context]`, which rewrites the `yield_!` inside
/// an `async_with!` block and leaves the invocation in place.
impl quote::ToTokens for AsyncWith {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let managers = self.managers.iter().map(|Manager { pat, expr }| match pat {
            Some(pat) => quote::quote!(#pat = #expr),
            None => quote::quote!(#expr),
        });
        let body = &self.body;
        tokens.extend(quote::quote!(#(#managers),* => #body));
    }
}

/// The statement replacing a statement macro by its expansion. A macro
/// with braces needs no `;` in the middle of a block, but an expression
/// that is not block-like does: without a `;` it is wrapped in a block,
/// which keeps its value when it is the tail.
pub fn replaced_macro_stmt(expansion: Expr, semi: Option<Token![;]>) -> Stmt {
    let block_like = matches!(
        expansion,
        Expr::Block(_)
            | Expr::If(_)
            | Expr::Match(_)
            | Expr::Loop(_)
            | Expr::While(_)
            | Expr::ForLoop(_)
            | Expr::Unsafe(_)
    );
    if semi.is_some() || block_like {
        return Stmt::Expr(expansion, semi);
    }
    let block = Block {
        brace_token: Default::default(),
        stmts: vec![Stmt::Expr(expansion, None)],
    };
    Stmt::Expr(
        Expr::Block(syn::ExprBlock {
            attrs: Vec::new(),
            label: None,
            block,
        }),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::AsyncWith;
    use quote::ToTokens;

    /// Each manager's pattern, printed, or `None` for a manager without one.
    fn patterns(input: &str) -> Vec<Option<String>> {
        let input: AsyncWith = syn::parse_str(input).expect("valid input");
        let patterns = input.managers.iter().map(|manager| {
            let pat = manager.pat.as_ref();
            pat.map(|pat| pat.to_token_stream().to_string())
        });
        patterns.collect()
    }

    fn error(input: &str) -> String {
        match syn::parse_str::<AsyncWith>(input) {
            Ok(_) => panic!("`{input}` parsed"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn a_lone_equals_sign_binds_a_pattern() {
        assert_eq!(patterns("conn = open() => {}"), [Some("conn".into())]);
        assert_eq!(
            patterns("(a, b) = pair(), _ = other() => { a = b; }"),
            [Some("(a , b)".into()), Some("_".into())]
        );
        assert_eq!(
            patterns("open(), tx = begin() => {}"),
            [None, Some("tx".into())]
        );
        // A comma right after other punctuation still ends the manager.
        assert_eq!(
            patterns("open()?, tx = begin() => {}"),
            [None, Some("tx".into())]
        );
    }

    #[test]
    fn operators_containing_equals_are_not_a_binding() {
        for input in [
            "open() => { x = 1; }",
            "pick(a == b) => {}",
            "a == b => {}",
            "a <= b => {}",
            "a >= b => {}",
            "a != b => {}",
        ] {
            assert_eq!(patterns(input), [None], "{input}");
        }
    }

    /// The manager expression, printed.
    fn managers(input: &str) -> Vec<String> {
        let input: AsyncWith = syn::parse_str(input).expect("valid input");
        let exprs = input.managers.iter();
        exprs
            .map(|manager| manager.expr.to_token_stream().to_string())
            .collect()
    }

    #[test]
    fn a_struct_literal_manager_ends_at_the_arrow_or_comma() {
        assert_eq!(
            managers("cursor = Snapshot { table, log: log.clone() } => { cursor.next() }"),
            ["Snapshot { table , log : log . clone () }"]
        );
        assert_eq!(managers("Snapshot { table } => {}"), ["Snapshot { table }"]);
        assert_eq!(
            managers("a = open(), b = Snapshot { table } => {}"),
            ["open ()", "Snapshot { table }"]
        );
        assert_eq!(
            managers("a = Snapshot { table }, b = open() => {}"),
            ["Snapshot { table }", "open ()"]
        );
        assert_eq!(
            managers("c = exit_on_cancel(Snapshot { table }) => {}"),
            ["exit_on_cancel (Snapshot { table })"]
        );
        // Parenthesised, as before.
        assert_eq!(
            managers("(Snapshot { table }) => {}"),
            ["(Snapshot { table })"]
        );
        // A block that is not a struct literal's is still a missing `=>`.
        let message = error("n = Lock { let _ = n; }");
        assert!(
            message.contains("expected `=>` before the block"),
            "{message}"
        );
    }

    #[test]
    fn a_binding_needs_an_expression_then_the_block() {
        let message = error("a b = open() => {}");
        assert!(
            message.contains("invalid pattern: expected `=` after the pattern"),
            "{message}"
        );
        // What follows `=>` is the block, never a pattern's `=`.
        let message = error("open() => x = 1");
        assert!(message.contains("expected a block"), "{message}");
    }
}
