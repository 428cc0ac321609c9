use async_with::async_context;

#[async_context]
async fn yields_in_closure() -> u8 {
    let f = || yield_!(1);
    let _ = f;
}

fn main() {}
