// `yield_!` takes one target.
use async_with::async_context;

#[async_context]
async fn pair() -> u8 {
    let (_a, _exit) = yield_!(1, 2);
}

fn main() {}
