//! The expansion of `async_with!`, one way: parse (`parse.rs`) → for each
//! level, rewrite its block's ways out (`rewrite.rs`, which expands the
//! `async_with!`s nested in the block as it meets them, innermost first)
//! → emit (`emit.rs`). A level is one manager: `a = A(), b = B() => {..}`
//! is `a = A() => { async_with!(b = B() => {..}) }`.
//!
//! Each level runs over the runtime's protocol (`runtime/src/protocol.rs`):
//! a `Scope` owns the pinned manager and, from enter to exit, its target;
//! the block runs as a panic-catching closure or `async` block that ends
//! with its value or one way out (`runtime/src/way_out.rs`); exit sees the
//! [`Outcome`]; then the way out is replayed, or handed to the enclosing
//! level unchanged. All levels of an expansion share one enum of ways
//! out, so each `return`, `?` or jump is written once however deep it is:
//! the expansion grows linearly with its input.
//!
//! [`Outcome`]: https://docs.rs/async-with/latest/async_with/enum.Outcome.html

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Block, Expr, Macro, Stmt};

use crate::emit;
use crate::parse::{self, AsyncWith};
use crate::raise;
use crate::rewrite::{self, Site};

/// `async_with!($crate; INPUT)`: the expansion, or its errors.
/// The entry point as a `proc_macro2` function, for tests and the fuzzer.
pub fn invocation(tokens: TokenStream) -> TokenStream {
    syn::parse2::<parse::Invocation>(tokens)
        .and_then(|parse::Invocation { krate, input }| expand(input, krate))
        .unwrap_or_else(compile_errors)
}

/// One `compile_error!`, or several in a block: the macro stands where an
/// expression goes, and rustc parses one expression there (a second
/// `compile_error!` after the first would be a confusing "macro expansion
/// ignores token" error instead of the user's).
fn compile_errors(error: syn::Error) -> TokenStream {
    let several = error.clone().into_iter().nth(1).is_some();
    let errors = error.into_compile_error();
    if several {
        quote::quote!({ #errors })
    } else {
        errors
    }
}

/// The expansion of `input`: its levels, innermost first, then what the
/// outermost declares for all of them.
pub fn expand(input: AsyncWith, krate: TokenStream) -> syn::Result<TokenStream> {
    let mut expansion = Expansion {
        sink: raise::stream_sink(input.body.to_token_stream()),
        krate,
        ways: Vec::new(),
    };
    Ok(level(&mut expansion, input, &[])?.tokens)
}

/// What the levels of one expansion share.
pub struct Expansion {
    /// The path of the runtime crate.
    pub krate: TokenStream,
    /// Inside async-stream's `stream!`/`try_stream!`: the sender its
    /// `yield` sends to, where errors leaving the outermost level go
    /// (`raise::stream_sink`).
    pub sink: Option<proc_macro2::Ident>,
    /// Every way out of a block, in order: the variants of the
    /// expansion's enum of them.
    pub ways: Vec<WayOut>,
}

/// One place in the code that leaves a block, and the level that replays
/// it after its exit: 0 (the outermost, after which the code is the
/// user's again) for a `return`, a `?` and a raised error; for a jump, the
/// innermost level whose enclosing block holds its loop.
pub struct WayOut {
    pub site: Site,
    pub replayed_at: usize,
}

/// The loops and labelled blocks around a nested level, inside the block
/// of the level that encloses it.
#[derive(Clone, Default)]
pub struct Context {
    pub loops: usize,
    pub labels: Vec<String>,
}

impl Context {
    fn holds(&self, label: &Option<syn::Lifetime>) -> bool {
        match label {
            Some(label) => self.labels.contains(&label.ident.to_string()),
            None => self.loops > 0,
        }
    }
}

impl Expansion {
    /// Records a way out of the block of the level at depth
    /// `contexts.len()`, whose enclosing blocks are `contexts`; returns its
    /// index (its variant).
    pub fn push(&mut self, site: Site, contexts: &[Context]) -> usize {
        let replayed_at = match &site {
            Site::Jump { label, .. } => (1..=contexts.len())
                .rev()
                .find(|&depth| contexts[depth - 1].holds(label))
                .unwrap_or(0),
            _ => 0,
        };
        self.ways.push(WayOut { site, replayed_at });
        self.ways.len() - 1
    }
}

/// One level, expanded: a braced block, and the ways out that leave it
/// for the enclosing level (those it does not replay, and its own raised
/// errors).
pub struct Level {
    pub tokens: TokenStream,
    pub passing: Vec<usize>,
}

impl Level {
    /// The level as an expression the enclosing level's rewrite does not
    /// look into: its ways out are handled already.
    pub fn into_expr(self) -> Expr {
        opaque_block(self.tokens)
    }
}

/// `tokens`, a braced block, as a block expression whose contents the
/// rewrite does not look into (syn prints it in parentheses where a block
/// would otherwise end an expression statement: `{ .. } + 1`).
pub fn opaque_block(tokens: TokenStream) -> Expr {
    let contents = match tokens.clone().into_iter().next() {
        Some(proc_macro2::TokenTree::Group(group))
            if group.delimiter() == proc_macro2::Delimiter::Brace =>
        {
            group.stream()
        }
        _ => tokens,
    };
    Expr::Block(syn::ExprBlock {
        attrs: Vec::new(),
        label: None,
        block: Block {
            brace_token: Default::default(),
            stmts: vec![Stmt::Expr(Expr::Verbatim(contents), None)],
        },
    })
}

/// Expands the first manager of `input` at depth `contexts.len()`: the
/// remaining managers form its block (nested semantics), in which the
/// rewrite expands nested `async_with!`s as it meets them.
pub fn level(
    expansion: &mut Expansion,
    mut input: AsyncWith,
    contexts: &[Context],
) -> syn::Result<Level> {
    let depth = contexts.len();
    let manager = input.managers.remove(0);
    // The tail is read as written (the rewrite turns `Err(e)?` into a
    // `match`): for several managers, each level's value is the user's.
    let tail = tail_value(&input.body);
    let has_tail = has_tail(&input.body);
    let (body, sync, mut arriving) = if input.managers.is_empty() {
        let mut body = input.body;
        // A block that awaits nothing runs as a closure (`emit::run_block`).
        let sync = !may_await(body.to_token_stream());
        let arriving = rewrite::rewrite(&mut body, expansion, contexts)?;
        (body, sync, arriving)
    } else {
        let mut inner_contexts = contexts.to_vec();
        inner_contexts.push(Context::default());
        let inner = level(expansion, input, &inner_contexts)?;
        let passing = inner.passing.clone();
        let body = Block {
            brace_token: Default::default(),
            stmts: vec![Stmt::Expr(inner.into_expr(), None)],
        };
        (body, false, passing)
    };
    arriving.sort_unstable();
    // The level's own enter and exit errors leave the enclosing block.
    let raised = (depth > 0).then(|| {
        expansion.push(
            Site::Raise {
                span: manager.expr.span(),
            },
            contexts,
        )
    });
    let tokens = emit::level(
        expansion,
        &emit::LevelInput {
            depth,
            manager: &manager,
            body: &body,
            tail,
            has_tail,
            sync,
            arriving: &arriving,
            raised,
        },
    );
    let mut passing: Vec<usize> = arriving
        .into_iter()
        .filter(|&way| expansion.ways[way].replayed_at < depth)
        .collect();
    passing.extend(raised);
    Ok(Level { tokens, passing })
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

/// Whether the block ends in an expression: only then may the type the
/// context expects of its value matter while it is checked (a closure's
/// signature, a coercion). Without one its value is `()`, or it diverges.
fn has_tail(body: &Block) -> bool {
    match body.stmts.last() {
        Some(Stmt::Expr(_, None)) => true,
        Some(Stmt::Macro(mac)) => mac.semi_token.is_none(),
        _ => false,
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
    //! intended change: `UPDATE_EXPECT=1 cargo test -p async-with-macros`,
    //! then read the diff.

    fn check(name: &str, input: &str) {
        let input: crate::parse::AsyncWith = syn::parse_str(input).expect("valid input");
        let krate = quote::quote!(::async_with);
        let expanded = super::expand(input, krate).expect("expands");
        let expanded: syn::Expr = syn::parse2(expanded).expect("parses");
        let file: syn::File = syn::parse_quote! {
            async fn golden() -> Result<u64, Error> {
                let value = #expanded;
                Ok(value)
            }
        };
        let printed = prettyplease::unparse(&file);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(format!("{name}.rs"));
        expect_test::expect_file![path].assert_eq(&printed);
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
    /// sees whether it is an error.
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
