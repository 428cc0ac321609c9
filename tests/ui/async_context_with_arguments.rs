use async_with::{async_context, async_with};

#[async_context(name = "x")]
async fn with_arguments() -> u8 {
    let (_a, _exit) = yield_!(1);
}

// Callers compile: only the misuse above is reported.
async fn caller() -> u8 {
    async_with!(n = with_arguments() => { *n })
}

fn main() {
    let _ = caller();
}
