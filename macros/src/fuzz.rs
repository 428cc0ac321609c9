//! A token-stream fuzzer for both macros, on stable Rust.
//!
//! Every input must give either valid Rust (the expansion parses: an
//! expression for `async_with!`, items for `#[async_context]`) or Rust
//! that carries its `compile_error!`, never a panic, and within a second.
//! Inputs come from a grammar of the macros' syntax (right and nearly
//! right) and from mutations (a token deleted, doubled, swapped, replaced,
//! a group's delimiter changed) of every `async_with!` and
//! `#[async_context]` written in the repository's tests and examples.
//!
//! `cargo test -p async-with-macros fuzz` runs a short smoke run;
//! `scripts/fuzz.sh N` runs `N` inputs on a release build and prints
//! `fuzz: N inputs, P panics, I invalid, S slowest ms`. `FUZZ_INPUTS` and `FUZZ_SEED`
//! set the count and the seed.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit_mut::{self, VisitMut};

/// The inputs of the default run (`cargo test`), at a fixed seed: a few
/// seconds (an unoptimised build is about ten times slower).
const SMOKE_INPUTS: usize = if cfg!(debug_assertions) { 500 } else { 3_000 };
const SMOKE_SEED: u64 = 0x5eed_a51c;
/// The slowest an input may take.
const SLOWEST: Duration = Duration::from_secs(1);

#[test]
fn fuzz() {
    let inputs = env_number("FUZZ_INPUTS").unwrap_or(SMOKE_INPUTS as u64) as usize;
    let seed = env_number("FUZZ_SEED").unwrap_or(SMOKE_SEED);
    // rustc runs proc macros on its main thread, 8 MiB of stack by default;
    // the fuzzer gives them the same (a test thread has 2 MiB).
    let report = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || run(inputs, seed))
        .expect("spawns")
        .join()
        .expect("the fuzzer itself does not panic");
    println!(
        "fuzz: {} inputs, {} panics, {} invalid, {} slowest ms (seed {seed}, {} seeds from the repository)",
        report.inputs,
        report.panics.len(),
        report.invalid.len(),
        report.slowest.as_millis(),
        report.seeds,
    );
    if !report.panics.is_empty() {
        let mut places: Vec<(&str, usize, &str)> = Vec::new();
        for (input, place) in &report.panics {
            match places.iter_mut().find(|(p, ..)| p == place) {
                Some((_, count, _)) => *count += 1,
                None => places.push((place, 1, input)),
            }
        }
        for (place, count, input) in &places {
            println!("{count} panics at {place}, e.g.:\n  {input}");
        }
        panic!(
            "{} inputs panicked the macros, at {} places",
            report.panics.len(),
            places.len()
        );
    }
    if !report.invalid.is_empty() {
        for input in report.invalid.iter().take(5) {
            println!("invalid expansion of:\n  {input}");
        }
        panic!(
            "{} expansions are neither valid Rust nor one `compile_error!`",
            report.invalid.len()
        );
    }
    assert!(
        report.slowest < SLOWEST,
        "an input took {} ms:\n{}",
        report.slowest.as_millis(),
        report.slowest_input
    );
}

/// Inputs that fuzz runs of earlier versions found, each a panic or an
/// expansion that was not Rust.
#[test]
fn minimised_inputs_give_errors() {
    for input in [
        "::async_with ; x => { __private :: raise ! () }",
        "crate ; x => { __private :: raise ! () }",
        // Found by the 1,000,000-input run: a path, but not one a `use`
        // may start with.
        "Self :: async_with ; conn = open () => { conn . len () }",
        // Found by the second: a leading `|`, which no `let` pattern has.
        ":: async_with ; | status = last_status (& log) => { * status = Ok (0) ; }",
        // Found by the third: two mistakes, two `compile_error!`s, which
        // must stay one expression.
        ":: async_with ; c = open () => { tokio :: join ! (x y ?) ; tokio :: join ! (x y ?) ; }",
    ] {
        let output = crate::expand::invocation(tokens(input));
        assert!(is_valid(&output, Macro::AsyncWith), "{output}");
    }
    // Also found by the third: an invisible group in the crate's path (no
    // text shows it).
    let mut input: TokenStream =
        TokenTree::Group(Group::new(Delimiter::None, TokenStream::new())).into();
    input.extend(tokens(":: async_with ; c = open () => { c . read () ?; }"));
    let output = crate::expand::invocation(input);
    assert!(is_valid(&output, Macro::AsyncWith), "{output}");
    let output = crate::generator::async_context(
        TokenStream::new(),
        tokens("async fn x() -> x { yield_!{} return }"),
    );
    assert!(is_valid(&output, Macro::AsyncContext), "{output}");
}

fn tokens(text: &str) -> TokenStream {
    TokenStream::from_str(text).expect("lexes")
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value}: not a number")),
    )
}

#[derive(Clone, Copy, PartialEq)]
enum Macro {
    AsyncWith,
    AsyncContext,
}

/// One input: the macro and its argument tokens (`args` only for the
/// attribute).
struct Input {
    which: Macro,
    args: TokenStream,
    item: TokenStream,
}

impl std::fmt::Display for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.which {
            Macro::AsyncWith => write!(f, "async_with!({})", self.item),
            Macro::AsyncContext => write!(f, "#[async_context({})] {}", self.args, self.item),
        }
    }
}

#[derive(Default)]
struct Report {
    inputs: usize,
    seeds: usize,
    panics: Vec<(String, String)>,
    /// Inputs whose expansion is neither valid Rust nor one
    /// `compile_error!`.
    invalid: Vec<String>,
    slowest: Duration,
    slowest_input: String,
}

fn run(inputs: usize, seed: u64) -> Report {
    let seeds = repository_seeds();
    let mut rng = Rng(seed);
    let mut report = Report {
        seeds: seeds.len(),
        ..Report::default()
    };
    let previous_hook = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        PANIC.with(|panic| *panic.borrow_mut() = location.or(Some(String::new())));
    }));
    for index in 0..inputs {
        let input = match index % 3 {
            0 => grammar_input(&mut rng),
            _ if seeds.is_empty() => grammar_input(&mut rng),
            _ => {
                let seed = &seeds[rng.below(seeds.len())];
                mutate(seed, &mut rng)
            }
        };
        report.inputs += 1;
        if std::env::var_os("FUZZ_TRACE").is_some() {
            eprintln!("input {index}: {input}");
        }
        let start = Instant::now();
        let output = panic::catch_unwind(AssertUnwindSafe(|| expand(&input)));
        let elapsed = start.elapsed();
        if elapsed > report.slowest {
            report.slowest = elapsed;
            report.slowest_input = input.to_string();
        }
        match output {
            Ok(output) => {
                if !is_valid(&output, input.which) {
                    report.invalid.push(input.to_string());
                }
            }
            Err(_) => {
                let location = PANIC.with(|panic| panic.borrow_mut().take());
                report
                    .panics
                    .push((input.to_string(), location.unwrap_or_default()));
            }
        }
    }
    panic::set_hook(previous_hook);
    report
}

thread_local! {
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn expand(input: &Input) -> TokenStream {
    match input.which {
        Macro::AsyncWith => crate::expand::invocation(input.item.clone()),
        Macro::AsyncContext => {
            crate::generator::async_context(input.args.clone(), input.item.clone())
        }
    }
}

/// Valid Rust, or one `compile_error!`: an `async_with!` expands to an
/// expression (a nested level's error is a `{ compile_error!(..) }` inside
/// it) or to `compile_error!`s alone; an attribute to items.
fn is_valid(output: &TokenStream, which: Macro) -> bool {
    match which {
        Macro::AsyncWith => {
            syn::parse2::<syn::Expr>(output.clone()).is_ok() || is_one_compile_error(output)
        }
        Macro::AsyncContext => syn::parse2::<syn::File>(output.clone()).is_ok(),
    }
}

fn is_one_compile_error(output: &TokenStream) -> bool {
    let Ok(file) = syn::parse2::<syn::File>(output.clone()) else {
        return false;
    };
    file.items.len() == 1
        && matches!(&file.items[0], syn::Item::Macro(item)
            if item.mac.path.segments.last().is_some_and(|s| s.ident == "compile_error"))
}

/// Every `async_with!(..)` and `#[async_context]` function in the
/// repository's Rust files (the macro crate's parent folder), as inputs.
fn repository_seeds() -> Vec<Input> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for folder in [
        "tests",
        "examples",
        "integrations",
        "runtime/src",
        "benches",
    ] {
        rust_files(&root.join(folder), &mut files);
    }
    let mut collect = Seeds(Vec::new());
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        if let Ok(mut file) = syn::parse_file(&text) {
            collect.visit_file_mut(&mut file);
        }
    }
    collect.0
}

fn rust_files(folder: &Path, files: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

struct Seeds(Vec<Input>);

impl VisitMut for Seeds {
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if mac
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "async_with")
        {
            let mut item = tokens("::async_with ;");
            item.extend(mac.tokens.clone());
            self.0.push(Input {
                which: Macro::AsyncWith,
                args: TokenStream::new(),
                item,
            });
        }
    }

    fn visit_item_fn_mut(&mut self, func: &mut syn::ItemFn) {
        let mut item = func.clone();
        if let Some(args) = take_async_context(&mut item.attrs) {
            self.attributed(args, item.to_token_stream());
        }
        visit_mut::visit_item_fn_mut(self, func);
    }

    fn visit_impl_item_fn_mut(&mut self, func: &mut syn::ImplItemFn) {
        let mut item = func.clone();
        if let Some(args) = take_async_context(&mut item.attrs) {
            self.attributed(args, item.to_token_stream());
        }
        visit_mut::visit_impl_item_fn_mut(self, func);
    }
}

impl Seeds {
    fn attributed(&mut self, args: TokenStream, item: TokenStream) {
        self.0.push(Input {
            which: Macro::AsyncContext,
            args,
            item,
        });
    }
}

/// The arguments of the `#[async_context]` attribute, removed from `attrs`.
fn take_async_context(attrs: &mut Vec<syn::Attribute>) -> Option<TokenStream> {
    let index = attrs.iter().position(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "async_context")
    })?;
    Some(match attrs.remove(index).meta {
        syn::Meta::List(list) => list.tokens,
        _ => TokenStream::new(),
    })
}

/// A small, fast, seedable generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
        choices[self.below(choices.len())]
    }
}

/// A token tree or stream mutated 1 to 3 times.
fn mutate(seed: &Input, rng: &mut Rng) -> Input {
    let mut item = seed.item.clone();
    let mut args = seed.args.clone();
    for _ in 0..1 + rng.below(3) {
        if seed.which == Macro::AsyncContext && rng.chance(10) {
            args = mutate_stream(args, rng);
        } else {
            item = mutate_stream(item, rng);
        }
    }
    Input {
        which: seed.which,
        args,
        item,
    }
}

/// One mutation, at a random depth of `stream`'s groups.
fn mutate_stream(stream: TokenStream, rng: &mut Rng) -> TokenStream {
    let mut tokens: Vec<TokenTree> = stream.into_iter().collect();
    let groups: Vec<usize> = (0..tokens.len())
        .filter(|&i| matches!(tokens[i], TokenTree::Group(_)))
        .collect();
    // Go into a group half of the time.
    if !groups.is_empty() && rng.chance(50) {
        let index = groups[rng.below(groups.len())];
        if let TokenTree::Group(group) = &tokens[index] {
            let inner = mutate_stream(group.stream(), rng);
            let mut mutated = Group::new(group.delimiter(), inner);
            mutated.set_span(group.span());
            tokens[index] = TokenTree::Group(mutated);
        }
        return tokens.into_iter().collect();
    }
    let at = rng.below(tokens.len() + 1);
    match rng.below(6) {
        0 if at < tokens.len() => {
            tokens.remove(at);
        }
        1 if at < tokens.len() => {
            let token = tokens[at].clone();
            tokens.insert(at, token);
        }
        2 if at + 1 < tokens.len() => tokens.swap(at, at + 1),
        3 if at < tokens.len() => {
            let len = tokens.len();
            tokens.truncate(at.max(1).min(len));
        }
        4 => {
            if let Some(TokenTree::Group(group)) = tokens.get(at) {
                let delimiter = [
                    Delimiter::Parenthesis,
                    Delimiter::Brace,
                    Delimiter::Bracket,
                    Delimiter::None,
                ][rng.below(4)];
                tokens[at] = TokenTree::Group(Group::new(delimiter, group.stream()));
            } else {
                tokens.insert(at, fragment(rng));
            }
        }
        _ => {
            let fragment: Vec<TokenTree> = fragment_stream(rng).into_iter().collect();
            tokens.splice(at..at, fragment);
        }
    }
    tokens.into_iter().collect()
}

/// One token of the macros' vocabulary.
fn fragment(rng: &mut Rng) -> TokenTree {
    fragment_stream(rng)
        .into_iter()
        .next()
        .unwrap_or_else(|| TokenTree::Group(Group::new(Delimiter::Brace, TokenStream::new())))
}

/// A few tokens of the macros' vocabulary, or a fragment of the grammar.
fn fragment_stream(rng: &mut Rng) -> TokenStream {
    const PIECES: &[&str] = &[
        "?",
        ";",
        ",",
        "=>",
        "=",
        "!",
        "&",
        "&mut",
        "*",
        "'a",
        "'a:",
        "_",
        "..",
        "::",
        "return",
        "break",
        "continue",
        "await",
        ".await",
        "async",
        "move",
        "yield",
        "loop",
        "match",
        "if",
        "else",
        "let",
        "fn",
        "impl",
        "dyn",
        "Self",
        "self",
        "crate",
        "$",
        "async_with",
        "yield_",
        "yield_!",
        "__private",
        "raise",
        "Err(e)",
        "None",
        "Ok(())",
        "{}",
        "()",
        "[]",
        "x",
        "0",
        "\"s\"",
        "#[inline]",
        "-> !",
        "<T>",
        "where",
        "__yield_tx",
        "async_with_value0",
        "AsyncWithFlow0",
        "try_stream!",
        "select!",
    ];
    match rng.below(4) {
        0 => tokens(&statements(rng, 2)),
        1 => tokens(&expression(rng, 2)),
        _ => tokens(rng.pick(PIECES)),
    }
}

/// An input written from the macros' grammar, with deliberate slips.
fn grammar_input(rng: &mut Rng) -> Input {
    if rng.chance(70) {
        let krate = rng.pick(&["::async_with ;", "crate ;", "$crate ;", "a::b ;", ""]);
        let krate = if rng.chance(90) {
            "::async_with ;"
        } else {
            krate
        };
        Input {
            which: Macro::AsyncWith,
            args: TokenStream::new(),
            item: tokens(&format!("{krate} {}", async_with_input(rng, 3))),
        }
    } else {
        let args = rng.pick(&[
            "",
            "",
            "",
            "Send",
            "send",
            "crate = ::async_with",
            "x",
            "Send, Send",
        ]);
        Input {
            which: Macro::AsyncContext,
            args: tokens(args),
            item: tokens(&generator_item(rng)),
        }
    }
}

fn async_with_input(rng: &mut Rng, depth: usize) -> String {
    let most = if rng.chance(10) { 9 } else { 3 };
    let count = 1 + rng.below(most);
    let managers: Vec<String> = (0..count).map(|_| manager(rng, depth)).collect();
    let arrow = if rng.chance(97) {
        "=>"
    } else {
        rng.pick(&["", "=", ",", "->"])
    };
    format!("{} {arrow} {}", managers.join(", "), block(rng, depth))
}

fn manager(rng: &mut Rng, depth: usize) -> String {
    let expr = rng.pick(&[
        "open()",
        "conn",
        "&mut lease",
        "&lock",
        "Snapshot { table, log: log.clone() }",
        "(Snapshot { table })",
        "nullcontext(())",
        "open().await",
        "m!(a)",
        "|| 1",
        "if c { a } else { b }",
        "async { 1 }",
        "x?",
        "",
    ]);
    let expr = if rng.chance(5) {
        expression(rng, depth)
    } else {
        expr.to_string()
    };
    if rng.chance(80) {
        let pat = rng.pick(&[
            "conn",
            "_",
            "mut c",
            "(a, b)",
            "Snapshot { table, .. }",
            "&x",
            "ref r",
            "1",
            "x @ _",
        ]);
        format!("{pat} = {expr}")
    } else {
        expr
    }
}

fn block(rng: &mut Rng, depth: usize) -> String {
    let mut body = statements(rng, depth);
    if rng.chance(60) {
        body.push(' ');
        body.push_str(&expression(rng, depth));
    }
    format!("{{ {body} }}")
}

fn statements(rng: &mut Rng, depth: usize) -> String {
    let most = if rng.chance(5) { 12 } else { 4 };
    let count = rng.below(most);
    (0..count)
        .map(|_| statement(rng, depth))
        .collect::<Vec<_>>()
        .join(" ")
}

fn statement(rng: &mut Rng, depth: usize) -> String {
    let inner = depth.saturating_sub(1);
    match rng.below(if depth == 0 { 14 } else { 22 }) {
        0 => format!("let x = {};", expression(rng, inner)),
        1 => format!("{};", expression(rng, inner)),
        2 => format!("{}?;", expression(rng, inner)),
        3 => format!("return {};", expression(rng, inner)),
        4 => rng
            .pick(&[
                "return;",
                "break;",
                "continue;",
                "break 'outer;",
                "continue 'a;",
                "break 'a 1;",
            ])
            .to_string(),
        5 => rng
            .pick(&[
                "Err(e)?;",
                "None?;",
                "Err(\"x\".to_string())?;",
                "f(a)?;",
                "x.await?;",
            ])
            .to_string(),
        6 => rng
            .pick(&[
                "panic!();",
                "yield_!(x);",
                "yield x;",
                "__private::raise!(e);",
                "raise!(e);",
                "println!(\"{}\", x);",
            ])
            .to_string(),
        7 => format!(
            "let s = try_stream! {{ {} yield 1u8; }};",
            statements(rng, inner)
        ),
        8 => format!("f(|| {{ {} }});", statements(rng, inner)),
        9 => format!("async move {{ {} }}.await;", statements(rng, inner)),
        10 => format!(
            "tokio::select! {{ v = rx => {{ {} }}, }}",
            statements(rng, inner)
        ),
        11 => "let v: Vec<String> = it.collect();".to_string(),
        12 => format!("const _: () = {{ {} }};", statements(rng, inner)),
        13 => "fn inner() -> u8 { return 1; }".to_string(),
        14 => format!(
            "if c {{ {} }} else {{ {} }}",
            statements(rng, inner),
            statements(rng, inner)
        ),
        15 => format!("loop {{ {} }}", statements(rng, inner)),
        16 => format!("'a: loop {{ {} }}", statements(rng, inner)),
        17 => format!("while c {{ {} }}", statements(rng, inner)),
        18 => format!("for x in xs {{ {} }}", statements(rng, inner)),
        19 => format!(
            "match x {{ 0 => {}, 1 => {{ {} }} _ => {} }}",
            expression(rng, inner),
            statements(rng, inner),
            expression(rng, inner)
        ),
        _ => format!("async_with!({});", async_with_input(rng, inner)),
    }
}

fn expression(rng: &mut Rng, depth: usize) -> String {
    let inner = depth.saturating_sub(1);
    match rng.below(if depth == 0 { 8 } else { 14 }) {
        0 => rng
            .pick(&[
                "x",
                "1",
                "()",
                "conn.len()",
                "it.collect()",
                "\"7\".parse().unwrap()",
                "*id + 1",
            ])
            .to_string(),
        1 => rng
            .pick(&[
                "Ok(1)",
                "Err(e)",
                "Some(x)",
                "None",
                "Ok(())",
                "Err(e.into())",
            ])
            .to_string(),
        2 => rng
            .pick(&["x?", "f(a)?", "x.await", "x.await?", "None?", "Err(e)?"])
            .to_string(),
        3 => rng
            .pick(&[
                "loop {}",
                "return",
                "break",
                "continue",
                "todo!()",
                "std::future::pending().await",
            ])
            .to_string(),
        4 => rng
            .pick(&[
                "|| 1",
                "async { 1 }",
                "async move { x? }",
                "m!(x)",
                "vec![1]",
            ])
            .to_string(),
        5 => rng
            .pick(&[
                "Snapshot { table }",
                "[1, 2]",
                "(1, 2)",
                "&mut x",
                "x as u8",
            ])
            .to_string(),
        6 => "'b: { break 'b 1 }".to_string(),
        // The keyword is split so that the repository's audit of `unsafe`
        // (each with its `// SAFETY:` comment) counts only code.
        7 => concat!("un", "safe { x }").to_string(),
        8 => format!("async_with!({})", async_with_input(rng, inner)),
        9 => format!("{{ {} }}", statements(rng, inner)),
        10 => format!(
            "if c {{ {} }} else {{ {} }}",
            expression(rng, inner),
            expression(rng, inner)
        ),
        11 => format!(
            "match x {{ 0 => {}, _ => {} }}",
            expression(rng, inner),
            expression(rng, inner)
        ),
        12 => format!(
            "loop {{ {} break {}; }}",
            statements(rng, inner),
            expression(rng, inner)
        ),
        _ => format!("f({})", expression(rng, inner)),
    }
}

fn generator_item(rng: &mut Rng) -> String {
    let attrs = rng.pick(&[
        "",
        "",
        "#[tracing::instrument]",
        "#[tracing::instrument(err)]",
        "#[inline]",
        "pub",
    ]);
    let asyncness = if rng.chance(95) {
        "async fn"
    } else {
        rng.pick(&["fn", concat!("async un", "safe fn"), "const async fn"])
    };
    let generics = rng.pick(&[
        "",
        "",
        "<'a>",
        "<T: Send>",
        "<M: AsyncContextManager>",
        "<const N: usize>",
    ]);
    let args = rng.pick(&[
        "",
        "",
        "path: &str",
        "&self",
        "&mut self",
        "self",
        "lock: &'a Mutex<u32>",
        "(a, b): (u8, u8)",
        "mut x: u8",
        "_: u8, x: impl Fn()",
    ]);
    let output = rng.pick(&[
        "",
        "-> Result<u32, std::io::Error>",
        "-> Result<&'a str, E>",
        "-> Result<Transaction<'static, Sqlite>, sqlx::Error>",
        "-> x",
        "-> ()",
        "-> !",
        "-> impl Trait",
        "-> Result<Guard<'_, T>, Infallible>",
        "-> Option<u8>",
    ]);
    let yields = rng.below(4).min(2);
    let mut body = statements(rng, 1);
    for _ in 0..yields {
        let yield_ = rng.pick(&[
            "yield_!(x);",
            "yield_!(x)?;",
            "yield_!{}",
            "yield_!();",
            "let v = yield_!(conn);",
            "yield_!(a, b);",
        ]);
        body = format!("{body} {yield_} {}", statements(rng, 1));
    }
    if rng.chance(40) {
        body.push_str(rng.pick(&[" Ok(())", " return", " x", " Ok(x)", " loop {}"]));
    }
    format!("{attrs} {asyncness} name{generics}({args}) {output} {{ {body} }}")
}
