//! Compile-fail snapshots: every misuse of the macros is reported at the
//! user's mistake with a clear message (`tests/ui/*.rs` + `*.stderr`, one
//! misuse per file; paths in the snapshots are relative to `tests/ui/`).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("*.rs");
}
