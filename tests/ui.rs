//! Compile-fail snapshots: every misuse of the macros is reported at the
//! user's mistake with a clear message (`tests/ui/*.rs` + `*.stderr`).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
