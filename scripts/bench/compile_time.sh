#!/usr/bin/env bash
# Compile time: generates (in a temp dir, not committed) a crate with 500
# uses of `async_with!` (mixed `?`, `return`, nested blocks) and a crate with
# the same code written by hand (baseline (b): enter, panic-catching block,
# exit on every path; std and the public trait only), builds both (dev profile) and prints the times and the
# ratio (target <= 1.2x); also the build time of the proc-macro crate.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
uses=${USES:-500}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="$work/target"

python3 - "$work" "$repo" "$uses" <<'PY'
import os, sys

work, repo, uses = sys.argv[1], sys.argv[2], int(sys.argv[3])

common = '''#![allow(clippy::all, dead_code, unused_mut, unused_variables)]
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use async_with::{AsyncContextManager, ExitAction, Failure, Outcome, async_with};

#[derive(Debug)]
pub struct Error;
impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("error") }
}
impl std::error::Error for Error {}

pub struct Res(pub u64);
impl AsyncContextManager for Res {
    type Target = u64;
    type Error = Error;
    async fn enter(&mut self) -> Result<u64, Error> { Ok(self.0) }
    async fn exit(&mut self, _: u64, outcome: Outcome<'_>) -> Result<ExitAction, Error> {
        Ok(if outcome.is_failed() && self.0 % 7 == 0 { ExitAction::Suppress } else { ExitAction::Propagate })
    }
}

pub async fn step(x: u64) -> Result<u64, Error> { if x == 3 { Err(Error) } else { Ok(x + 1) } }

pub fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) { return output; }
    }
}
'''

def with_macro(i):
    kind = i % 3
    if kind == 0:
        return f'''pub async fn f{i}(x: u64) -> Result<u64, Error> {{
    let v = async_with!(n = Res({i}) => {{
        let y = step(*n + x).await?;
        y + 1
    }});
    Ok(v)
}}
'''
    if kind == 1:
        return f'''pub async fn f{i}(x: u64) -> Result<u64, Error> {{
    async_with!(n = Res({i}) => {{
        if x > *n {{
            return Ok(x);
        }}
        step(x).await?;
    }});
    Ok(0)
}}
'''
    return f'''pub async fn f{i}(x: u64) -> Result<u64, Error> {{
    let v = async_with!(a = Res({i}) => {{
        let inner = async_with!(b = Res({i} + 1) => {{
            step(*a + *b).await?
        }});
        inner + 1
    }});
    Ok(v)
}}
'''

def exit_arms(m, t, value, ret_err):
    return f'''Ok(Ok(v)) => {{ let _ = {m}.exit({t}, Outcome::Completed).await?; {value} }}
        Ok(Err(e)) => {{ let _ = {m}.exit({t}, Outcome::Failed(Failure::with_display(&e))).await?; {ret_err} }}
        Err(mut p) => {{ let _ = {m}.exit({t}, Outcome::Panicked(Panic::from_payload(&mut *p))).await; std::panic::resume_unwind(p) }}'''

def by_hand(i):
    kind = i % 3
    if kind == 0:
        return f'''pub async fn f{i}(x: u64) -> Result<u64, Error> {{
    let mut m = Res({i});
    let mut t = m.enter().await?;
    let r = {{
        let b = CatchPanic(pin!(async {{
            let n = &mut t;
            let y = step(*n + x).await?;
            Ok::<_, Error>(y + 1)
        }}));
        b.await
    }};
    match r {{
        {exit_arms("m", "t", "Ok(v)", "Err(e)")}
    }}
}}
'''
    if kind == 1:
        return f'''pub async fn f{i}(x: u64) -> Result<u64, Error> {{
    let mut m = Res({i});
    let mut t = m.enter().await?;
    let r = {{
        let b = CatchPanic(pin!(async {{
            let n = &mut t;
            if x > *n {{
                return Ok(Some(x));
            }}
            step(x).await?;
            Ok::<_, Error>(None)
        }}));
        b.await
    }};
    match r {{
        Ok(Ok(ret)) => {{
            let _ = m.exit(t, Outcome::Completed).await?;
            if let Some(v) = ret {{
                return Ok(v);
            }}
        }}
        Ok(Err(e)) => {{
            if m.exit(t, Outcome::Failed(Failure::with_display(&e))).await? != ExitAction::Suppress {{
                return Err(e);
            }}
        }}
        Err(mut p) => {{ let _ = m.exit(t, Outcome::Panicked(Panic::from_payload(&mut *p))).await; std::panic::resume_unwind(p) }}
    }}
    Ok(0)
}}
'''
    return f'''pub async fn f{i}(x: u64) -> Result<u64, Error> {{
    let mut m = Res({i});
    let mut t = m.enter().await?;
    let r = {{
        let b = CatchPanic(pin!(async {{
            let a = &mut t;
            let mut m2 = Res({i} + 1);
            let mut t2 = m2.enter().await?;
            let r2 = {{
                let b2 = CatchPanic(pin!(async {{
                    let b = &mut t2;
                    step(*a + *b).await
                }}));
                b2.await
            }};
            let inner = match r2 {{
                {exit_arms("m2", "t2", "v", "return Err(e)")}
            }};
            Ok::<_, Error>(inner + 1)
        }}));
        b.await
    }};
    match r {{
        {exit_arms("m", "t", "Ok(v)", "Err(e)")}
    }}
}}
'''

HELPER = '''use async_with::Panic;
use std::any::Any;
use std::panic::AssertUnwindSafe;

/// The block polled under `std::panic::catch_unwind`, every poll.
pub struct CatchPanic<'a, F>(std::pin::Pin<&'a mut F>);

impl<F: Future> Future for CatchPanic<'_, F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}
'''

def run_all(n):
    calls = "".join(f"    total += run(f{i}(x)).unwrap_or(0);\n" for i in range(n))
    return f"pub fn run_all(x: u64) -> u64 {{\n    let mut total = 0;\n{calls}    total\n}}\n"

for name, gen, extra in [("with_macro", with_macro, ""),
                         ("by_hand", by_hand, HELPER)]:
    os.makedirs(f"{work}/{name}/src", exist_ok=True)
    with open(f"{work}/{name}/Cargo.toml", "w") as f:
        f.write(f'[package]\nname = "{name}"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n'
                f'[dependencies]\nasync-with = {{ path = "{repo}/runtime" }}\n')
    with open(f"{work}/{name}/src/lib.rs", "w") as f:
        f.write(common + extra + "".join(gen(i) for i in range(uses)) + run_all(uses))

with open(f"{work}/Cargo.toml", "w") as f:
    f.write('[workspace]\nmembers = ["with_macro", "by_hand"]\nresolver = "3"\n')
PY
cp Cargo.lock "$work/"
cd "$work"

seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@"; exit 1; }
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.2f}')"
}

echo "== proc-macro crate (dev profile)"
full=$(seconds cargo build -p async-with-macros)
cargo clean -p async-with-macros >/dev/null 2>&1
alone=$(seconds cargo build -p async-with-macros)
echo "async-with-macros with proc-macro2, quote, syn from clean: ${full} s"
echo "async-with-macros alone (dependencies built):            ${alone} s"

echo "== $uses uses, each crate from clean (everything, dev profile)"
rm -rf "$CARGO_TARGET_DIR"
macro_clean=$(seconds cargo build -p with_macro)
rm -rf "$CARGO_TARGET_DIR"
hand_clean=$(seconds cargo build -p by_hand)
echo "async_with!: ${macro_clean} s   by hand: ${hand_clean} s"

echo "== $uses uses, the crate alone (dependencies built; best of 3)"
best() {
    local crate=$1 best=""
    for _ in 1 2 3; do
        cargo clean -p "$crate" >/dev/null 2>&1
        t=$(seconds cargo build -p "$crate")
        best=$(python3 -c "print(min(float('$t'), float('${best:-inf}')))")
    done
    echo "$best"
}
cargo build -p with_macro -p by_hand >/dev/null 2>&1
macro=$(best with_macro)
hand=$(best by_hand)
echo
echo "| build | async_with! | by hand | ratio | target |"
echo "|---|---|---|---|---|"
python3 - "$macro_clean" "$hand_clean" "$macro" "$hand" <<'PY'
import sys
mc, hc, m, h = map(float, sys.argv[1:])
print(f"| from clean, with dependencies | {mc:.2f} s | {hc:.2f} s | {mc / hc:.2f}× | — |")
r = m / h
print(f"| the crate alone | {m:.2f} s | {h:.2f} s | {r:.2f}× | ≤ 1.2×: {'met' if r <= 1.2 else 'MISSED'} |")
PY
