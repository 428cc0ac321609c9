//! How the expansion's size and time grow with its input: nesting depth,
//! managers in one invocation, statements in one block. `scripts/growth.sh`
//! prints the table (a release build; `cargo test` builds proc macros
//! unoptimised).

use std::str::FromStr;
use std::time::Instant;

use proc_macro2::TokenStream;

/// The generated inputs, by shape, for `n`.
pub fn input(shape: &str, n: usize) -> String {
    match shape {
        "nesting" => {
            let mut block = "{ f(a)?; conn.touch() }".to_string();
            for level in (1..n).rev() {
                block = format!("{{ async_with!(c{level} = open() => {block}) }}");
            }
            format!("::async_with ; c0 = open() => {block}")
        }
        "managers" => {
            let managers: Vec<String> = (0..n).map(|i| format!("c{i} = open({i})")).collect();
            format!(
                "::async_with ; {} => {{ f(a)?; c0.touch() }}",
                managers.join(", ")
            )
        }
        "statements" => {
            let statements = "f(a)?; ".repeat(n);
            format!("::async_with ; c = open() => {{ {statements} c.touch() }}")
        }
        _ => unreachable!("{shape}"),
    }
}

fn count(tokens: TokenStream) -> usize {
    tokens
        .into_iter()
        .map(|token| match token {
            proc_macro2::TokenTree::Group(group) => 2 + count(group.stream()),
            _ => 1,
        })
        .sum()
}

/// Output tokens per input token and microseconds per input token.
pub fn measure(shape: &str, n: usize) -> (usize, f64, f64) {
    let input = TokenStream::from_str(&input(shape, n)).expect("lexes");
    let input_tokens = count(input.clone());
    let start = Instant::now();
    let mut runs = 0;
    let mut output = TokenStream::new();
    while runs == 0 || (start.elapsed().as_millis() < 200 && runs < 1000) {
        output = crate::expand::invocation(input.clone());
        runs += 1;
    }
    let micros = start.elapsed().as_secs_f64() * 1e6 / runs as f64;
    let output_tokens = count(output);
    (
        output_tokens,
        output_tokens as f64 / input_tokens as f64,
        micros / input_tokens as f64,
    )
}

#[test]
#[ignore = "prints figures: scripts/growth.sh"]
fn growth_table() {
    println!("| input | n | output tokens | per input token | µs per input token |");
    println!("|---|---|---|---|---|");
    for shape in ["nesting", "managers", "statements"] {
        for n in [8, 16, 32, 64] {
            let (tokens, per_token, micros) = measure(shape, n);
            println!("| {shape} | {n} | {tokens} | {per_token:.1} | {micros:.2} |");
        }
    }
}

/// The lines of an expansion as `cargo expand` prints it (prettyplease),
/// without the function around it.
fn expansion_lines(input: &str) -> usize {
    let output = crate::expand::invocation(TokenStream::from_str(input).expect("lexes"));
    let expr: syn::Expr = syn::parse2(output).expect("an expression");
    let file: syn::File = syn::parse_quote!(fn f() { #expr });
    prettyplease::unparse(&file).lines().count() - 2
}

#[test]
#[ignore = "prints figures: scripts/growth.sh"]
fn expansion_line_counts() {
    for (what, input) in [
        (
            "the smallest block",
            "::async_with ; conn = open() => { conn.touch(); }",
        ),
        (
            "a block with a value",
            "::async_with ; conn = open() => { conn.len() }",
        ),
        (
            "a block with one `?`",
            "::async_with ; conn = open() => { conn.read()?; }",
        ),
    ] {
        println!("lines: {what}: {}", expansion_lines(input));
    }
}

/// Output tokens per input token from n = 8 to n = 64 stay within 2x, in
/// each shape: the expansion's size grows linearly with its input (a
/// count, not a time: it holds on any machine).
#[test]
fn expansion_size_grows_linearly() {
    for shape in ["nesting", "managers", "statements"] {
        let ratio = |n| {
            let input = TokenStream::from_str(&input(shape, n)).expect("lexes");
            let input_tokens = count(input.clone());
            count(crate::expand::invocation(input)) as f64 / input_tokens as f64
        };
        let (small, large) = (ratio(8), ratio(64));
        assert!(
            large <= 2.0 * small,
            "{shape}: {small:.1} output tokens per input token at n = 8, {large:.1} at n = 64"
        );
    }
}
