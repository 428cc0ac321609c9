//! Tests and examples of async-with's integrations with heavy dependencies
//! (sqlx). No library code: the integrations themselves live in the
//! `async-with` crate, behind features; this package only keeps their
//! dependencies out of the root package's builds.
