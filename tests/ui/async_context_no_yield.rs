use async_with::{async_context, async_with};

#[async_context]
async fn never_yields() -> u8 {
    println!("setup only");
}

// Callers compile: only the misuse above is reported.
async fn caller() -> u8 {
    async_with!(n = never_yields() => { *n })
}

fn main() {
    let _ = caller();
}
