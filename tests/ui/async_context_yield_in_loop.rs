use async_with::{async_context, async_with};

#[async_context]
async fn yields_in_loop() -> u8 {
    for i in 0..3 {
        let (_a, _exit) = yield_!(i);
    }
}

// Callers compile: only the misuse above is reported.
async fn caller() -> u8 {
    async_with!(n = yields_in_loop() => { *n })
}

fn main() {
    let _ = caller();
}
