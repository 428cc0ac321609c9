use async_with::async_context;

#[async_context]
async fn yields_in_async_block() -> u8 {
    let inner = async { yield_!(1) };
    let _ = inner;
}

fn main() {}
