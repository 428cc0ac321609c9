//! The arguments of a macro called inside an `async_with!` block: both the
//! expansion of nested `async_with!` and the rewrite of the block's ways
//! out look inside the expressions among them (`println!("{}", x?)`,
//! `vec![x?; n]`, `tracing::info!(?id, n = x?, "..")`, `matches!(x?, ..)`,
//! `tokio::select! { v = fut => { v? } }`).
//!
//! Arguments are read in one of these shapes:
//! - `select!` (tokio's and futures'): `[biased;] PAT = FUT [, if COND] =>
//!   HANDLER, ..., else => HANDLER` (`complete`/`default` for futures');
//!   the future, the condition and the handler are expressions;
//! - `matches!(EXPR, PAT [if GUARD])`: the expression and the guard;
//! - `x; n` (`vec![x; n]`);
//! - otherwise a comma-separated list whose items are expressions, possibly
//!   after a prefix that is not one (`?field`, `%field = x`, `target:`,
//!   tracing's field syntax: the `?` and `%` there are sigils, not the `?`
//!   operator). An item that is none of these is kept as it is written.

use proc_macro2::{Spacing, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Macro, Pat, Token};

/// A macro's arguments, parsed.
pub enum Args {
    /// Comma-separated items.
    List(Vec<Item>),
    /// `x; n`, as in `vec![x; n]`.
    Repeat(Box<Expr>, Token![;], Box<Expr>),
    /// `matches!(expr, pat if guard)`.
    Matches {
        expr: Box<Expr>,
        pattern: TokenStream,
        guard: Option<Box<Expr>>,
    },
    /// `select! { .. }`.
    Select {
        biased: TokenStream,
        branches: Vec<SelectBranch>,
    },
}

/// One comma-separated item: an expression after a prefix that is kept as
/// written (`?name =`, `%`, `target:`), or tokens that are no expression.
pub enum Item {
    Expr { prefix: TokenStream, expr: Expr },
    Tokens(TokenStream),
}

/// `PAT = FUT [, if COND] => HANDLER` or `else => HANDLER`.
pub struct SelectBranch {
    /// `PAT =`, or `else`/`complete`/`default`.
    head: TokenStream,
    future: Option<Expr>,
    condition: Option<Expr>,
    handler: Expr,
}

impl Args {
    /// The arguments of `mac`, if they can be read.
    pub fn parse(mac: &Macro) -> Option<Args> {
        let name = mac.path.segments.last()?.ident.to_string();
        let tokens = mac.tokens.clone();
        match name.as_str() {
            // async-stream's generators: their body runs as an `async`
            // block of their own, whose `?`, `return` and `yield` are
            // theirs (like an `async { }` block in the block).
            "stream" | "try_stream" => return None,
            "select" | "select_biased" => {
                if let Ok(select) = parse_select.parse2(tokens.clone()) {
                    return Some(select);
                }
            }
            "matches" => {
                if let Ok(matches) = parse_matches.parse2(tokens.clone()) {
                    return Some(matches);
                }
            }
            _ => {}
        }
        let repeat = |input: ParseStream| {
            let element: Expr = input.parse()?;
            let semi: Token![;] = input.parse()?;
            let count: Expr = input.parse()?;
            Ok(Args::Repeat(Box::new(element), semi, Box::new(count)))
        };
        let list = Punctuated::<Expr, Token![,]>::parse_terminated;
        if let Ok(list) = list.parse2(tokens.clone()) {
            let items = list.into_iter().map(|expr| Item::Expr {
                prefix: TokenStream::new(),
                expr,
            });
            return Some(Args::List(items.collect()));
        }
        if let Ok(repeat) = repeat.parse2(tokens.clone()) {
            return Some(repeat);
        }
        Some(Args::List(split_items(tokens)))
    }

    /// Each expression among the arguments.
    pub fn exprs_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Args::List(items) => items
                .iter_mut()
                .filter_map(|item| match item {
                    Item::Expr { expr, .. } => Some(expr),
                    Item::Tokens(_) => None,
                })
                .collect(),
            Args::Repeat(element, _, count) => vec![&mut **element, &mut **count],
            Args::Matches { expr, guard, .. } => {
                let mut exprs = vec![&mut **expr];
                exprs.extend(guard.as_deref_mut());
                exprs
            }
            Args::Select { branches, .. } => branches
                .iter_mut()
                .flat_map(|branch| {
                    let mut exprs: Vec<&mut Expr> = Vec::new();
                    exprs.extend(branch.future.as_mut());
                    exprs.extend(branch.condition.as_mut());
                    exprs.push(&mut branch.handler);
                    exprs
                })
                .collect(),
        }
    }

    /// The first `?`, `return`, `break` or `continue` among the tokens that
    /// were kept as written: they cannot be forwarded.
    pub fn unforwardable(&self) -> Option<Span> {
        match self {
            Args::List(items) => items.iter().find_map(|item| match item {
                Item::Tokens(tokens) => find_jump(tokens.clone()),
                Item::Expr { .. } => None,
            }),
            Args::Matches { pattern, .. } => find_jump(pattern.clone()),
            Args::Repeat(..) | Args::Select { .. } => None,
        }
    }

    /// The arguments printed back, for the macro's tokens.
    pub fn into_tokens(self) -> TokenStream {
        match self {
            Args::List(items) => {
                let items = items.into_iter().map(|item| match item {
                    Item::Expr { prefix, expr } => quote!(#prefix #expr),
                    Item::Tokens(tokens) => tokens,
                });
                quote!(#(#items),*)
            }
            Args::Repeat(element, semi, count) => quote!(#element #semi #count),
            Args::Matches {
                expr,
                pattern,
                guard,
            } => {
                let guard = guard.map(|guard| quote!(if #guard));
                quote!(#expr, #pattern #guard)
            }
            Args::Select { biased, branches } => {
                let branches = branches.into_iter().map(|branch| {
                    let SelectBranch {
                        head,
                        future,
                        condition,
                        handler,
                    } = branch;
                    let condition = condition.map(|condition| quote!(, if #condition));
                    quote!(#head #future #condition => #handler,)
                });
                quote!(#biased #(#branches)*)
            }
        }
    }
}

/// The first `?`, `return`, `break` or `continue` among the tokens.
pub fn find_jump(tokens: TokenStream) -> Option<Span> {
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

/// Splits `tokens` at top-level commas into items.
fn split_items(tokens: TokenStream) -> Vec<Item> {
    let mut items = Vec::new();
    let mut current: Vec<TokenTree> = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match &token {
            TokenTree::Punct(punct) if punct.as_char() == ',' => {
                items.push(item(std::mem::take(&mut current)));
            }
            _ => current.push(token),
        }
        if tokens.peek().is_none() && !current.is_empty() {
            items.push(item(std::mem::take(&mut current)));
        }
    }
    items
}

/// One item: an expression, an expression after a prefix of sigils and
/// names (`?name`, `%name = value`, `target:`), or tokens kept as written.
fn item(tokens: Vec<TokenTree>) -> Item {
    for start in 0..tokens.len() {
        let prefix = &tokens[..start];
        if !is_field_prefix(prefix) {
            continue;
        }
        let rest: TokenStream = tokens[start..].iter().cloned().collect();
        if let Ok(expr) = syn::parse2::<Expr>(rest) {
            return Item::Expr {
                prefix: prefix.iter().cloned().collect(),
                expr,
            };
        }
    }
    Item::Tokens(tokens.into_iter().collect())
}

/// Whether `prefix` is one of tracing's field prefixes: an optional
/// `name:` (`target:`, `parent:`), then a dotted field name and `=`, or
/// nothing; then an optional sigil (`?`, `%`).
fn is_field_prefix(prefix: &[TokenTree]) -> bool {
    let punct = |token: &TokenTree, ch: char| matches!(token, TokenTree::Punct(punct) if punct.as_char() == ch && punct.spacing() == Spacing::Alone);
    let mut rest = prefix;
    if let [TokenTree::Ident(_), colon, tail @ ..] = rest {
        if punct(colon, ':') {
            rest = tail;
        }
    }
    if let [init @ .., sigil] = rest {
        if punct(sigil, '?') || punct(sigil, '%') {
            rest = init;
        }
    }
    match rest {
        [] => true,
        [name @ .., eq] if punct(eq, '=') => {
            name.len() % 2 == 1
                && name.iter().enumerate().all(|(index, token)| match token {
                    TokenTree::Ident(_) => index % 2 == 0,
                    other => index % 2 == 1 && punct(other, '.'),
                })
        }
        _ => false,
    }
}

/// `matches!(EXPR, PAT [if GUARD] [,])`.
fn parse_matches(input: ParseStream) -> syn::Result<Args> {
    let expr: Expr = input.parse()?;
    input.parse::<Token![,]>()?;
    let pattern = Pat::parse_multi_with_leading_vert(input)?;
    let guard = if input.peek(Token![if]) {
        input.parse::<Token![if]>()?;
        Some(Box::new(input.parse()?))
    } else {
        None
    };
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
    }
    Ok(Args::Matches {
        expr: Box::new(expr),
        pattern: pattern.into_token_stream(),
        guard,
    })
}

/// `select!`'s branches (tokio's syntax, and futures' `complete`/`default`).
fn parse_select(input: ParseStream) -> syn::Result<Args> {
    let mut biased = TokenStream::new();
    if input.peek(syn::Ident) && input.peek2(Token![;]) {
        let fork = input.fork();
        let ident: syn::Ident = fork.parse()?;
        if ident == "biased" {
            input.parse::<syn::Ident>()?;
            let semi: Token![;] = input.parse()?;
            biased = quote!(#ident #semi);
        }
    }
    let mut branches = Vec::new();
    while !input.is_empty() {
        let is_fallback = (input.peek(Token![else])
            || input.peek(syn::Ident) && {
                let fork = input.fork();
                let ident: syn::Ident = fork.parse()?;
                (ident == "complete" || ident == "default") && fork.peek(Token![=>])
            })
            && input.peek2(Token![=>]);
        let (head, future, condition) = if is_fallback {
            let head: TokenTree = input.parse()?;
            (head.into_token_stream(), None, None)
        } else {
            let pattern = Pat::parse_multi_with_leading_vert(input)?;
            let eq: Token![=] = input.parse()?;
            let future = Expr::parse_without_eager_brace(input)?;
            let condition = if input.peek(Token![,]) && input.peek2(Token![if]) {
                input.parse::<Token![,]>()?;
                input.parse::<Token![if]>()?;
                Some(Expr::parse_without_eager_brace(input)?)
            } else {
                None
            };
            (quote!(#pattern #eq), Some(future), condition)
        };
        input.parse::<Token![=>]>()?;
        let handler: Expr = input.parse()?;
        let is_block = matches!(handler, Expr::Block(_));
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        } else if !is_block && !input.is_empty() {
            return Err(input.error("expected `,` after a `select!` branch"));
        }
        branches.push(SelectBranch {
            head,
            future,
            condition,
            handler,
        });
    }
    Ok(Args::Select { biased, branches })
}

#[cfg(test)]
mod tests {
    //! The shapes of arguments, read as the rewrite reads them.

    use super::Args;
    use quote::ToTokens;

    /// The expressions `Args` finds in `mac`, printed, and the span of an
    /// unforwardable jump if there is one.
    fn exprs(mac: &str) -> (Vec<String>, bool) {
        let mac: syn::Macro = syn::parse_str(mac).expect("a macro call");
        let mut args = Args::parse(&mac).expect("arguments");
        let unforwardable = args.unforwardable().is_some();
        let exprs = args
            .exprs_mut()
            .into_iter()
            .map(|expr| expr.to_token_stream().to_string())
            .collect();
        (exprs, unforwardable)
    }

    #[test]
    fn tokio_select_branches() {
        let (exprs, unforwardable) = exprs(
            "tokio::select! { biased; Some(v) = rx.recv(), if open? => { v? } \
             n = fut(a?) => return n, else => break }",
        );
        assert_eq!(
            exprs,
            [
                "rx . recv ()",
                "open ?",
                "{ v ? }",
                "fut (a ?)",
                "return n",
                "break"
            ]
        );
        assert!(!unforwardable);
    }

    #[test]
    fn futures_select_branches() {
        let (exprs, _) =
            exprs("futures::select! { a = one => a?, complete => return Ok(()), default => 0 }");
        assert_eq!(exprs, ["one", "a ?", "return Ok (())", "0"]);
    }

    #[test]
    fn tracing_fields_keep_their_sigils_out_of_the_expressions() {
        let (exprs, unforwardable) = exprs(
            "tracing::info!(target: \"db\", ?id, %name, count = n?, user.id = ?u, \"msg {}\", x?)",
        );
        // `count = n?` is an expression itself (an assignment); in
        // `user.id = ?u` the prefix ends with the sigil.
        assert_eq!(
            exprs,
            [
                "\"db\"",
                "id",
                "name",
                "count = n ?",
                "u",
                "\"msg {}\"",
                "x ?"
            ]
        );
        assert!(!unforwardable);
    }

    #[test]
    fn matches_expression_and_guard() {
        let (exprs, _) = exprs("matches!(parse(s)?, Some(1..=3) | None if check()?)");
        assert_eq!(exprs, ["parse (s) ?", "check () ?"]);
    }

    #[test]
    fn tokens_that_are_no_expressions_keep_their_jumps_unforwardable() {
        let (found, unforwardable) = exprs("opaque!(a b c?)");
        assert!(found.is_empty());
        assert!(unforwardable);
        // A jump nested in a group, or written as a keyword, is one too.
        for mac in [
            "opaque!(a b (c?))",
            "opaque!(a b return)",
            "opaque!(a b break)",
            "opaque!(a b { continue })",
        ] {
            assert_eq!(exprs(mac), (vec![], true), "{mac}");
        }
        assert_eq!(exprs("opaque!(a b c)"), (vec![], false));
    }

    #[test]
    fn select_branches_with_any_pattern() {
        let (exprs, _) = exprs("tokio::select! { (a, b) = pair() => a?, [x] = one() => x }");
        assert_eq!(exprs, ["pair ()", "a ?", "one ()", "x"]);
    }

    #[test]
    fn tracing_field_names_are_dotted_identifiers() {
        // One name or several joined by dots, then `=` and a sigil.
        let (fields, _) = exprs("tracing::info!(user = ?u, a.b.c = %v)");
        assert_eq!(fields, ["u", "v"]);
        // Anything else before `= ?` is no field name: kept as tokens,
        // whose `?` cannot be forwarded.
        for mac in ["tracing::info!(a b c = ?u)", "tracing::info!(a - b = ?u)"] {
            assert_eq!(exprs(mac), (vec![], true), "{mac}");
        }
    }
}
