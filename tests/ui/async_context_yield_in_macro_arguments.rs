use async_with::{async_context, async_with};

#[async_context]
async fn yields_in_println() -> u8 {
    println!("{:?}", yield_!(1));
}

// Callers compile: only the misuse above is reported.
async fn caller() -> u8 {
    async_with!(n = yields_in_println() => { *n })
}

fn main() {
    let _ = caller();
}
