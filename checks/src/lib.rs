//! Checks of async-with that need dependencies of their own (proptest,
//! futures-executor), kept out of the root package's builds. No library
//! code: see `tests/`.
