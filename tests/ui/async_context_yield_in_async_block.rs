use async_with::{async_context, async_with};

#[async_context]
async fn yields_in_async_block() -> u8 {
    let inner = async { yield_!(1) };
    let _ = inner;
}

// Callers compile: only the misuse above is reported.
async fn caller() -> u8 {
    async_with!(n = yields_in_async_block() => { *n })
}

fn main() {
    let _ = caller();
}
