use async_with::yield_;

async fn plain() -> u8 {
    let (a, _exit) = yield_!(1);
    a
}

fn main() {
    let _ = plain();
}
