use async_with::{async_context, async_with};

#[async_context]
fn not_async() -> u8 {
    let (_a, _exit) = yield_!(1);
}

// Callers compile: only the misuse above is reported.
async fn caller() -> u8 {
    async_with!(n = not_async() => { *n })
}

fn main() {
    let _ = caller();
}
