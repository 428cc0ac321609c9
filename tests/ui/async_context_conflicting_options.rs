use async_with::{async_context, async_with};

#[async_context(fallible, infallible)]
async fn both() -> Result<u8, String> {
    let (_n, _exit) = yield_!(1);
    Ok(())
}

// Callers compile: only the misuse above is reported.
async fn caller() -> Result<u8, String> {
    Ok(async_with!(n = both() => { *n }))
}

fn main() {
    let _ = caller();
}
