use async_with::{async_context, async_with};

#[async_context]
async fn yields_in_nested_fn() -> u8 {
    fn helper() {
        yield_!(1);
    }
    helper();
}

// Callers compile: only the misuse above is reported.
async fn caller() -> u8 {
    async_with!(n = yields_in_nested_fn() => { *n })
}

fn main() {
    let _ = caller();
}
