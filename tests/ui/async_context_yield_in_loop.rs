use async_with::async_context;

#[async_context]
async fn yields_in_loop() -> u8 {
    for i in 0..3 {
        let (_a, _exit) = yield_!(i);
    }
}

fn main() {}
