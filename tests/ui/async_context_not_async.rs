use async_with::async_context;

#[async_context]
fn not_async() -> u8 {
    let (_a, _exit) = yield_!(1);
}

fn main() {}
