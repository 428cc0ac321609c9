//! `async-with-transparency`: the README promises that the block of
//! `async_with!(pat = manager => { BLOCK })` is a plain Rust block (control
//! flow and typing). This tool checks the promise on code nobody here
//! wrote: it takes real crates from crates.io, wraps the body of every
//! `async fn` (with `--blocks`, every async block too) in
//! `async_with!(_scope = nullcontext(()) => { BODY })`, and builds and runs
//! each crate's own tests, unwrapped (the baseline) then wrapped.
//!
//! A wrapped file that fails to build is reverted to its source, its first
//! distinct compiler errors recorded, and the build retried, so the tests
//! of the other files still run. See DESIGN.md, "Transparency harness".

mod cfg;
mod json;
mod rewrite;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use json::Json;

/// A crate from crates.io whose sources are wrapped.
struct Corpus {
    name: &'static str,
    krate: &'static str,
    version: &'static str,
    /// The directories of the crate whose `.rs` files are rewritten
    /// (a directory named `ui` is skipped: compile-fail fixtures).
    dirs: &'static [&'static str],
    /// Dev-dependencies the tests use that the published manifest lacks.
    extra_dev_deps: &'static [(&'static str, &'static str)],
}

const CORPORA: &[Corpus] = &[
    Corpus {
        name: "mini-redis",
        krate: "mini-redis",
        version: "0.4.1",
        dirs: &["src", "tests", "examples"],
        extra_dev_deps: &[],
    },
    Corpus {
        name: "async-stream",
        krate: "async-stream",
        version: "0.3.6",
        dirs: &["tests"],
        // `tests/stream.rs` uses `tokio_test::assert_ok`, a dev-dependency
        // of the repository's workspace not in the published manifest.
        extra_dev_deps: &[("tokio-test", "0.4")],
    },
    // tokio's integration tests, built in a package of their own against the
    // registry tokio (see `prepare_tokio`).
    Corpus {
        name: "tokio",
        krate: "tokio",
        version: "1.54.1",
        dirs: &["tests"],
        extra_dev_deps: &[],
    },
];

/// The tokio test files of `--subset` (with `tests/support/`): the macros
/// (join, select), sync, tasks, time, TCP, UDP, I/O and the runtime's
/// metrics, a few seconds each; they include each shape the full run found
/// failing when wrapped.
const TOKIO_SUBSET: &[&str] = &[
    "macros_join.rs",
    "macros_select.rs",
    "macros_try_join.rs",
    "sync_mutex.rs",
    "sync_mpsc.rs",
    "task_abort.rs",
    "task_join_set.rs",
    "time_sleep.rs",
    "time_timeout.rs",
    "tcp_echo.rs",
    "tcp_stream.rs",
    "udp.rs",
    "io_copy.rs",
    "rt_metrics.rs",
];

/// The features of the package that builds tokio's tests: the tests gate
/// themselves on tokio's feature names (`#![cfg(feature = "full")]`), which
/// in that package are its own features, all on, with tokio's `full` and
/// `test-util` enabled.
const TOKIO_FEATURES: &[&str] = &[
    "full",
    "fs",
    "io-std",
    "io-util",
    "macros",
    "net",
    "process",
    "rt",
    "rt-multi-thread",
    "signal",
    "sync",
    "test-util",
    "time",
];

/// Tests that assert the exact size (or a size bound) of a future: they
/// measure the documented cost of the wrap (the scope and the manager
/// live in the future), not transparency, so they are not counted.
/// (corpus, test target, test name)
const EXCLUDED: &[(&str, &str, &str)] = &[
    ("tokio", "macros_join", "join_size"),
    ("tokio", "macros_join", "join_size_biased"),
    ("tokio", "macros_try_join", "try_join_size"),
    ("tokio", "macros_try_join", "try_join_size_biased"),
    ("tokio", "macros_select", "pointer_64_tests::struct_size_1"),
    ("tokio", "macros_select", "pointer_64_tests::struct_size_2"),
    ("tokio", "macros_select", "pointer_64_tests::struct_size_3"),
    // `assert!(size_of_val(&fut) < 1000)` for a future holding a 4 KiB
    // buffer only across no `.await`.
    ("tokio", "tcp_stream", "buffer_not_included_in_future"),
    // `tracing_task.rs` records spawned futures' sizes too, but builds only
    // with `--cfg tokio_unstable` (never here).
    ("tokio", "tracing_task", "task_spawn_sizes_recorded"),
    ("tokio", "tracing_task", "task_big_spawn_sizes_recorded"),
];

/// Files that fail to build wrapped for a reason the README documents as a
/// limit of stable Rust, with its one-line fix (issue 23's residue). They
/// still count as failing in the figures; the run fails only for a file
/// not listed here (a new shape), or for a test that fails wrapped.
/// (corpus, file, the limit)
const KNOWN_RESIDUE: &[(&str, &str, &str)] = &[
    // `let res = async { select! { .., ret = rx => ret.unwrap() } }` whose
    // value's type only `assert_eq!(1, res)` after the macro fixes.
    (
        "tokio",
        "tests/macros_select.rs",
        "a block value typed only by code after the macro",
    ),
    // A spawned block that reads a pipe (`.await`) after using a
    // `std::sync::mpsc::Receiver` (`Send`, not `Sync`).
    (
        "tokio",
        "tests/rt_unstable_eager_driver_handoff.rs",
        "a block that awaits after using a !Sync local",
    ),
];

/// Tests not run at all: (corpus, test target, test name).
const SKIPPED: &[(&str, &str, &str)] = &[
    // trybuild's compile-fail suite of `tests/ui/` (fixtures expected to
    // fail to build, not rewritten): it builds every fixture against the
    // crate and compares the messages of one compiler version.
    ("async-stream", "stream", "test"),
];

/// How long one test binary may run before it is killed (its tests not
/// reported as passing count as failed).
const TEST_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Fns,
    Blocks,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Fns => "fns",
            Mode::Blocks => "blocks",
        }
    }
}

struct Options {
    runs: Vec<(&'static Corpus, Mode, bool)>,
    keep: bool,
    report_only: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: async-with-transparency [--corpus mini-redis|async-stream|tokio|all] [--blocks] \
         [--subset] [--keep] [--report-only]"
    );
    std::process::exit(2)
}

fn options() -> Options {
    let mut corpus = "all".to_string();
    let (mut blocks, mut subset, mut keep, mut report_only) = (false, false, false, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--corpus" => corpus = args.next().unwrap_or_else(|| usage()),
            "--blocks" => blocks = true,
            "--subset" => subset = true,
            "--keep" => keep = true,
            "--report-only" => report_only = true,
            _ => usage(),
        }
    }
    let find = |name: &str| CORPORA.iter().find(|c| c.name == name).unwrap();
    let runs = if subset {
        // The CI subset: the two small crates, and `TOKIO_SUBSET` of
        // tokio's tests, in both modes.
        vec![
            (find("mini-redis"), Mode::Fns, false),
            (find("mini-redis"), Mode::Blocks, false),
            (find("async-stream"), Mode::Fns, false),
            (find("async-stream"), Mode::Blocks, false),
            (find("tokio"), Mode::Fns, true),
            (find("tokio"), Mode::Blocks, true),
        ]
    } else {
        let mode = if blocks { Mode::Blocks } else { Mode::Fns };
        let chosen: Vec<&Corpus> = match corpus.as_str() {
            "all" => CORPORA.iter().collect(),
            name => match CORPORA.iter().find(|c| c.name == name) {
                Some(c) => vec![c],
                None => usage(),
            },
        };
        chosen.into_iter().map(|c| (c, mode, false)).collect()
    };
    Options {
        runs,
        keep,
        report_only,
    }
}

fn main() -> ExitCode {
    let opts = options();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let base = root.join("target").join("transparency");
    let start = Instant::now();
    let mut total = Report::default();
    let mut broken = false;
    if let Err(e) = fetch(&base, &opts.runs) {
        eprintln!("transparency: fetching the corpora failed: {e}");
        return ExitCode::from(2);
    }
    for &(corpus, mode, subset) in &opts.runs {
        let label = format!(
            "{}{} ({})",
            corpus.name,
            if subset { " subset" } else { "" },
            mode.name()
        );
        println!("== {label}");
        let t = Instant::now();
        match run(&root, &base, corpus, mode, subset, opts.keep) {
            Ok(report) => {
                report.print();
                println!("({label}: {:.0} s)", t.elapsed().as_secs_f64());
                total.add(&report);
            }
            Err(e) => {
                println!("transparency: {label}: the harness failed: {e}");
                broken = true;
            }
        }
    }
    println!("== total");
    println!(
        "transparency: {}/{} wrapped files compile, {}/{} tests pass",
        total.files_ok, total.files, total.tests_ok, total.tests
    );
    println!(
        "wrapped bodies: {} ({} in files that compile wrapped); tests not run wrapped (their file fails to build wrapped): {}",
        total.bodies, total.bodies_ok, total.tests_unwrapped
    );
    println!("(total: {:.0} s)", start.elapsed().as_secs_f64());
    let full = total.files_ok == total.files && total.tests_ok == total.tests;
    // Only the documented residue may fail: every file that failed to build
    // wrapped is a known one, and every test that ran wrapped passed.
    let only_residue = total.failed_tests.is_empty()
        && total.failing_files.iter().all(|(corpus, file)| {
            KNOWN_RESIDUE
                .iter()
                .any(|&(c, f, _)| c == corpus && f == file)
        });
    for (corpus, file) in &total.failing_files {
        if let Some((_, _, why)) = KNOWN_RESIDUE
            .iter()
            .find(|&&(c, f, _)| c == corpus && f == file)
        {
            println!("known residue ({corpus}): {file}: {why} (README, limits)");
        }
    }
    if broken {
        ExitCode::from(2)
    } else if full || only_residue || opts.report_only {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[derive(Default)]
struct Report {
    /// The corpus of one run (empty for the total).
    corpus: String,
    files: usize,
    files_ok: usize,
    tests: usize,
    tests_ok: usize,
    bodies: usize,
    bodies_ok: usize,
    in_macro_rules: usize,
    in_macro_calls: usize,
    not_parsed: Vec<String>,
    not_counted: Vec<String>,
    /// File, then its first distinct errors (line, message).
    errors: BTreeMap<String, Vec<(u64, String)>>,
    failed_tests: Vec<String>,
    /// Tests that pass unwrapped whose file failed to build wrapped.
    tests_unwrapped: usize,
    /// (corpus, file) of each file that failed to build wrapped, over
    /// every run added up.
    failing_files: Vec<(String, String)>,
    excluded: Vec<String>,
}

impl Report {
    fn add(&mut self, other: &Report) {
        self.files += other.files;
        self.files_ok += other.files_ok;
        self.tests += other.tests;
        self.tests_ok += other.tests_ok;
        self.tests_unwrapped += other.tests_unwrapped;
        self.bodies += other.bodies;
        self.bodies_ok += other.bodies_ok;
        self.failed_tests.extend(other.failed_tests.iter().cloned());
        self.failing_files
            .extend(other.failing_files.iter().cloned());
        for file in other.errors.keys() {
            self.failing_files
                .push((other.corpus.clone(), file.clone()));
        }
    }

    fn print(&self) {
        println!(
            "transparency: {}/{} wrapped files compile, {}/{} tests pass",
            self.files_ok, self.files, self.tests_ok, self.tests
        );
        println!(
            "wrapped bodies: {} ({} in files that compile wrapped); not wrapped, in macro tokens: {} in macro_rules!, {} in macro calls",
            self.bodies, self.bodies_ok, self.in_macro_rules, self.in_macro_calls
        );
        for (file, errors) in &self.errors {
            println!("fails only when wrapped: {file}");
            for (line, message) in errors {
                println!("  {file}:{line}: {message}");
            }
        }
        if self.tests_unwrapped > 0 {
            println!(
                "not run wrapped (their file fails to build wrapped): {} tests",
                self.tests_unwrapped
            );
        }
        for test in &self.failed_tests {
            println!("passes unwrapped, fails wrapped: {test}");
        }
        if !self.excluded.is_empty() {
            println!("excluded (future sizes): {}", self.excluded.join(", "));
        }
        if !self.not_counted.is_empty() {
            println!(
                "not counted (compiled out by their #![cfg] or failing unwrapped): {}",
                self.not_counted.join(", ")
            );
        }
        for file in &self.not_parsed {
            println!("not parsed by syn, left as is: {file}");
        }
    }
}

/// `cargo fetch` of a throwaway package that depends on the exact versions.
fn fetch(base: &Path, runs: &[(&Corpus, Mode, bool)]) -> Result<(), String> {
    let dir = base.join("fetch");
    std::fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    let mut manifest = "[package]\nname = \"transparency-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n[dependencies]\n".to_string();
    let mut seen = BTreeSet::new();
    for (corpus, _, _) in runs {
        if seen.insert(corpus.krate) {
            manifest += &format!("{} = \"={}\"\n", corpus.krate, corpus.version);
        }
    }
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("src/lib.rs"), "").map_err(|e| e.to_string())?;
    let status = Command::new(cargo())
        .args(["fetch", "--quiet"])
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("cargo fetch: {status}"));
    }
    Ok(())
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// The unpacked registry source `$CARGO_HOME/registry/src/*/NAME-VERSION`.
fn registry_source(corpus: &Corpus) -> Result<PathBuf, String> {
    let home = match std::env::var_os("CARGO_HOME") {
        Some(home) => PathBuf::from(home),
        None => PathBuf::from(std::env::var_os("HOME").ok_or("no HOME")?).join(".cargo"),
    };
    let name = format!("{}-{}", corpus.krate, corpus.version);
    let registries = std::fs::read_dir(home.join("registry/src")).map_err(|e| e.to_string())?;
    for registry in registries.flatten() {
        let dir = registry.path().join(&name);
        if dir.join("Cargo.toml").is_file() {
            return Ok(dir);
        }
    }
    Err(format!(
        "{name} not found under {}/registry/src",
        home.display()
    ))
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            if entry.file_name() != "target" {
                copy_dir(&path, &dest)?;
            }
        } else {
            std::fs::copy(&path, &dest)?;
        }
    }
    Ok(())
}

/// The `.rs` files under `dir`, relative to `root`.
fn rust_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "ui") {
                rust_files(root, &path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).unwrap();
            out.push(rel.to_string_lossy().into_owned());
        }
    }
}

/// A copied registry crate with its own `[workspace]` and `async-with`.
fn prepare_crate(corpus: &Corpus, src: &Path, work: &Path, runtime: &Path) -> Result<(), String> {
    // Only the tests are wrapped: async-with is a dev-dependency.
    let dev_only = !corpus.dirs.contains(&"src");
    copy_dir(src, work).map_err(|e| e.to_string())?;
    // Resolved afresh, with async-with added.
    let _ = std::fs::remove_file(work.join("Cargo.lock"));
    let manifest_path = work.join("Cargo.toml");
    let mut manifest = std::fs::read_to_string(&manifest_path).map_err(|e| e.to_string())?;
    if !manifest.lines().any(|l| l.trim() == "[workspace]") {
        manifest += "\n[workspace]\n";
    }
    let table = if dev_only {
        "dev-dependencies"
    } else {
        "dependencies"
    };
    manifest += &format!(
        "\n[{table}.async-with]\npath = {:?}\n",
        runtime.display().to_string()
    );
    for (name, version) in corpus.extra_dev_deps {
        manifest += &format!("\n[dev-dependencies.{name}]\nversion = {version:?}\n");
    }
    std::fs::write(&manifest_path, manifest).map_err(|e| e.to_string())
}

/// tokio's integration tests in a package of their own, against the
/// registry tokio, with tokio's test dev-dependencies.
fn prepare_tokio(src: &Path, work: &Path, runtime: &Path, subset: bool) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    std::fs::create_dir_all(work.join("src")).map_err(io)?;
    std::fs::write(work.join("src/lib.rs"), "").map_err(io)?;
    if subset {
        copy_dir(&src.join("tests/support"), &work.join("tests/support")).map_err(io)?;
        for file in TOKIO_SUBSET {
            std::fs::copy(src.join("tests").join(file), work.join("tests").join(file))
                .map_err(io)?;
        }
    } else {
        copy_dir(&src.join("tests"), &work.join("tests")).map_err(io)?;
    }
    let features: String = TOKIO_FEATURES
        .iter()
        .map(|f| format!("{f} = []\n"))
        .collect();
    let default: Vec<String> = TOKIO_FEATURES.iter().map(|f| format!("{f:?}")).collect();
    let manifest = format!(
        r#"[package]
name = "tokio-tests"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[features]
default = [{default}]
{features}
[dependencies]
tokio = {{ version = "={version}", features = ["full", "test-util"] }}

[dev-dependencies]
async-with = {{ path = {runtime:?} }}
async-stream = "0.3"
# tokio's own dependencies, which its tests use by name.
bytes = "1"
pin-project-lite = "0.2"
futures = {{ version = "0.3.0", features = ["async-await"] }}
futures-concurrency = "7.6.3"
futures-test = "0.3.31"
mockall = "0.13.0"
tokio-stream = "0.1"
tokio-test = "0.4.0"
tempfile = "3.1.0"
rand = "0.9"
proptest = "1"
socket2 = "0.6.0"
libc = "0.2.168"
nix = {{ version = "0.31.0", default-features = false, features = ["aio", "fs", "socket"] }}

[lints.rust]
unexpected_cfgs = "allow"
"#,
        default = default.join(", "),
        version = CORPORA.iter().find(|c| c.name == "tokio").unwrap().version,
        runtime = runtime.display().to_string(),
    );
    std::fs::write(work.join("Cargo.toml"), manifest).map_err(io)
}

struct Wrapped {
    rel: String,
    original: String,
    text: String,
    bodies: usize,
    /// Compiled out by a crate- or module-level `#![cfg(..)]`.
    cfg_off: bool,
}

fn run(
    root: &Path,
    base: &Path,
    corpus: &Corpus,
    mode: Mode,
    subset: bool,
    keep: bool,
) -> Result<Report, String> {
    let src = registry_source(corpus)?;
    let suffix = if subset { "-subset" } else { "" };
    let work = base.join(format!("{}{suffix}-{}", corpus.name, mode.name()));
    let target_dir = base.join(format!("target-{}", corpus.name));
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(|e| e.to_string())?;
    }
    let runtime = root.join("runtime");
    let features: &[&str] = if corpus.name == "tokio" {
        prepare_tokio(&src, &work, &runtime, subset)?;
        TOKIO_FEATURES
    } else {
        prepare_crate(corpus, &src, &work, &runtime)?;
        &[]
    };

    let mut report = Report {
        corpus: corpus.name.to_string(),
        ..Report::default()
    };
    let mut files = Vec::new();
    for dir in corpus.dirs {
        rust_files(&work, &work.join(dir), &mut files);
    }
    let mut wrapped = Vec::new();
    for rel in files {
        let original = std::fs::read_to_string(work.join(&rel)).map_err(|e| e.to_string())?;
        match rewrite::rewrite(&original, mode == Mode::Blocks) {
            Ok(out) => {
                report.in_macro_rules += out.in_macro_rules;
                report.in_macro_calls += out.in_macro_calls;
                if out.wrapped > 0 {
                    let cfg_off = !cfg::file_active(&original, features);
                    wrapped.push(Wrapped {
                        rel,
                        original,
                        text: out.text,
                        bodies: out.wrapped,
                        cfg_off,
                    });
                }
            }
            Err(e) => report.not_parsed.push(format!("{rel} ({e})")),
        }
    }

    println!("baseline build ...");
    let baseline = build(&work, &target_dir)?;
    let base_tests = run_tests(corpus, &work, &baseline.executables);

    for w in &wrapped {
        std::fs::write(work.join(&w.rel), &w.text).map_err(|e| e.to_string())?;
    }
    let mut still: BTreeSet<String> = wrapped.iter().map(|w| w.rel.clone()).collect();
    let wrapped_build = loop {
        println!("wrapped build ({} files wrapped) ...", still.len());
        let b = build(&work, &target_dir)?;
        let new: Vec<&Diag> = b
            .errors
            .iter()
            .filter(|d| !baseline.failed_targets.contains(&d.target))
            .collect();
        if new.is_empty() {
            break b;
        }
        let mut culprits: BTreeMap<String, Vec<&Diag>> = BTreeMap::new();
        for d in &new {
            let file = d.files.iter().map(|(f, _)| f).find(|f| still.contains(*f));
            let file = file.or(still.get(&d.src_path));
            if let Some(file) = file {
                culprits.entry(file.clone()).or_default().push(d);
            }
        }
        if culprits.is_empty() {
            // Errors in no wrapped file (nor a wrapped target root): revert
            // everything left, so the tests still run.
            if still.is_empty() {
                break b;
            }
            let first = new[0];
            for file in std::mem::take(&mut still) {
                revert(&work, &wrapped, &file)?;
                report.errors.insert(
                    file,
                    vec![(
                        0,
                        format!("(reverted with every other file) {}", first.message),
                    )],
                );
            }
            continue;
        }
        for (file, diags) in culprits {
            let mut distinct: Vec<(u64, String)> = Vec::new();
            for d in diags {
                let line = d
                    .files
                    .iter()
                    .find(|(f, _)| *f == file)
                    .map_or(0, |(_, l)| *l);
                if !distinct.iter().any(|(_, m)| *m == d.message) {
                    distinct.push((line, d.message.clone()));
                }
            }
            distinct.truncate(3);
            revert(&work, &wrapped, &file)?;
            still.remove(&file);
            report.errors.insert(file, distinct);
        }
    };
    let wrapped_tests = run_tests(corpus, &work, &wrapped_build.executables);

    // Files: those with a wrapped body that built unwrapped.
    let base_bad: BTreeSet<&String> = baseline
        .errors
        .iter()
        .flat_map(|d| d.files.iter().map(|(f, _)| f))
        .collect();
    for w in &wrapped {
        let failed_root = baseline
            .failed_targets
            .iter()
            .any(|t| baseline.roots.get(t) == Some(&w.rel));
        if w.cfg_off || failed_root || base_bad.contains(&w.rel) {
            report.not_counted.push(w.rel.clone());
            report.errors.remove(&w.rel);
            continue;
        }
        report.files += 1;
        report.bodies += w.bodies;
        if still.contains(&w.rel) {
            report.files_ok += 1;
            report.bodies_ok += w.bodies;
        }
    }
    // Tests: those that pass unwrapped, minus the excluded.
    for (test, passed) in &base_tests {
        if !passed {
            continue;
        }
        let (target, name) = test.split_once(' ').unwrap();
        let target_name = target.split_once(':').map_or(target, |(_, n)| n);
        if EXCLUDED
            .iter()
            .any(|&(c, t, n)| c == corpus.name && t == target_name && n == name)
        {
            report.excluded.push(test.clone());
            continue;
        }
        report.tests += 1;
        // A test whose target's root file was reverted ran unwrapped: it
        // does not count as passing wrapped (nor as a failure to list).
        let reverted = |rel: &String| wrapped.iter().any(|w| w.rel == *rel) && !still.contains(rel);
        if baseline.roots.get(target).is_some_and(reverted) {
            report.tests_unwrapped += 1;
        } else if wrapped_tests.get(test) == Some(&true) {
            report.tests_ok += 1;
        } else {
            report.failed_tests.push(test.clone());
        }
    }
    if !keep {
        std::fs::remove_dir_all(&work).map_err(|e| e.to_string())?;
    }
    Ok(report)
}

fn revert(work: &Path, wrapped: &[Wrapped], rel: &str) -> Result<(), String> {
    let w = wrapped.iter().find(|w| w.rel == rel).unwrap();
    std::fs::write(work.join(rel), &w.original).map_err(|e| e.to_string())
}

/// An error of the compiler.
struct Diag {
    /// `KIND:NAME` of the target it belongs to.
    target: String,
    /// The target's root file, relative to the package.
    src_path: String,
    /// The files (relative to the package) and lines of its spans: primary
    /// spans first, then the others, then the macro call sites they come
    /// from.
    files: Vec<(String, u64)>,
    /// `error[CODE]: message`.
    message: String,
}

struct Build {
    errors: Vec<Diag>,
    failed_targets: BTreeSet<String>,
    /// Target label to its root file.
    roots: BTreeMap<String, String>,
    /// Test executables, by target label.
    executables: Vec<(String, PathBuf)>,
}

fn target_label(target: &Json) -> String {
    let kind = target
        .get("kind")
        .arr()
        .first()
        .and_then(Json::str)
        .unwrap_or("?");
    format!("{kind}:{}", target.get("name").str().unwrap_or("?"))
}

fn relative(work: &Path, file: &str) -> String {
    let path = Path::new(file);
    match path.strip_prefix(work) {
        Ok(rel) => rel.to_string_lossy().into_owned(),
        Err(_) => file.to_string(),
    }
}

fn spans_files(work: &Path, spans: &[Json], out: &mut Vec<(String, u64)>) {
    let mut push = |span: &Json| {
        if let Some(file) = span.get("file_name").str() {
            let line = span.get("line_start").num().unwrap_or(0.0) as u64;
            out.push((relative(work, file), line));
        }
    };
    for span in spans.iter().filter(|s| s.get("is_primary").bool()) {
        push(span);
    }
    for span in spans.iter().filter(|s| !s.get("is_primary").bool()) {
        push(span);
    }
    for span in spans {
        let mut expansion = span.get("expansion");
        while let Json::Obj(_) = expansion {
            push(expansion.get("span"));
            expansion = expansion.get("span").get("expansion");
        }
    }
}

/// `cargo build --tests --examples --keep-going`, its JSON messages read.
fn build(work: &Path, target_dir: &Path) -> Result<Build, String> {
    let output = Command::new(cargo())
        .args([
            "build",
            "--quiet",
            "--tests",
            "--examples",
            "--keep-going",
            "--message-format=json",
        ])
        .arg("--manifest-path")
        .arg(work.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir)
        .current_dir(work)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    let mut b = Build {
        errors: Vec::new(),
        failed_targets: BTreeSet::new(),
        roots: BTreeMap::new(),
        executables: Vec::new(),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    for line in stdout.lines() {
        let Some(msg) = json::parse(line) else {
            continue;
        };
        let target = msg.get("target");
        let label = target_label(target);
        if let Some(src) = target.get("src_path").str() {
            b.roots.insert(label.clone(), relative(work, src));
        }
        match msg.get("reason").str() {
            Some("compiler-artifact") if msg.get("profile").get("test").bool() => {
                if let Some(exe) = msg.get("executable").str() {
                    b.executables.push((label, PathBuf::from(exe)));
                }
            }
            Some("compiler-message") => {
                let m = msg.get("message");
                if m.get("level").str() != Some("error") {
                    continue;
                }
                let text = m.get("message").str().unwrap_or("");
                let spans = m.get("spans").arr();
                if spans.is_empty() && text.starts_with("aborting due to") {
                    continue;
                }
                let mut message = match m.get("code").get("code").str() {
                    Some(code) => format!("error[{code}]: {text}"),
                    None => format!("error: {text}"),
                };
                // The primary span's label says what was expected and found.
                let span_label = spans
                    .iter()
                    .find(|s| s.get("is_primary").bool())
                    .and_then(|s| s.get("label").str());
                if let Some(span_label) = span_label.filter(|l| !l.is_empty()) {
                    message = format!("{message} ({span_label})");
                }
                let mut files = Vec::new();
                spans_files(work, spans, &mut files);
                b.failed_targets.insert(label.clone());
                b.errors.push(Diag {
                    target: label,
                    src_path: relative(work, target.get("src_path").str().unwrap_or("")),
                    files,
                    message,
                });
            }
            _ => {}
        }
    }
    if !output.status.success() && b.errors.is_empty() {
        return Err(format!(
            "cargo build failed without a compiler error in {}",
            work.display()
        ));
    }
    Ok(b)
}

/// Runs each test binary (cwd: the package), libtest's `test NAME ... ok`
/// lines read: `"KIND:TARGET NAME"` to passed.
fn run_tests(
    corpus: &Corpus,
    work: &Path,
    executables: &[(String, PathBuf)],
) -> BTreeMap<String, bool> {
    let mut results = BTreeMap::new();
    for (label, exe) in executables {
        let target_name = label.split_once(':').map_or(label.as_str(), |(_, n)| n);
        let mut skips = vec![];
        for &(c, t, name) in SKIPPED {
            if c == corpus.name && t == target_name {
                skips.extend(["--exact", "--skip", name]);
            }
        }
        let child = Command::new(exe)
            .args(skips)
            .current_dir(work)
            .env("CARGO_MANIFEST_DIR", work)
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let Ok(mut child) = child else {
            println!("  could not run {}", exe.display());
            continue;
        };
        let mut stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut out = String::new();
            let _ = stdout.read_to_string(&mut out);
            out
        });
        let deadline = Instant::now() + TEST_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    println!("  {label}: killed after {} s", TEST_TIMEOUT.as_secs());
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
            }
        }
        let out = reader.join().unwrap_or_default();
        for line in out.lines() {
            let Some(rest) = line.strip_prefix("test ") else {
                continue;
            };
            let Some((name, result)) = rest.rsplit_once(" ... ") else {
                continue;
            };
            let passed = match result.trim() {
                r if r.starts_with("ok") => true,
                r if r.starts_with("FAILED") => false,
                _ => continue,
            };
            results.insert(format!("{label} {name}"), passed);
        }
    }
    results
}
