use async_with::{async_context, async_with};

#[async_context]
async fn yields_in_closure() -> u8 {
    let f = || yield_!(1);
    let _ = f;
}

// Callers compile: only the misuse above is reported.
async fn caller() -> u8 {
    async_with!(n = yields_in_closure() => { *n })
}

fn main() {
    let _ = caller();
}
