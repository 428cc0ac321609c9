use async_with::async_context;

#[async_context(name = "x")]
async fn with_arguments() -> u8 {
    let (_a, _exit) = yield_!(1);
}

fn main() {}
