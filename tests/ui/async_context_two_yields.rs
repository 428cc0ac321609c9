use async_with::async_context;

#[async_context]
async fn yields_twice() -> u8 {
    let (_a, _exit) = yield_!(1);
    let (_b, _exit) = yield_!(2);
}

fn main() {}
