use async_with::{async_context, async_with};

#[async_context]
async fn yields_twice() -> u8 {
    let (_a, _exit) = yield_!(1);
    let (_b, _exit) = yield_!(2);
}

// Callers compile: only the misuse above is reported.
async fn caller() -> u8 {
    async_with!(n = yields_twice() => { *n })
}

fn main() {
    let _ = caller();
}
