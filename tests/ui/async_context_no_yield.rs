use async_with::async_context;

#[async_context]
async fn never_yields() -> u8 {
    println!("setup only");
}

fn main() {}
