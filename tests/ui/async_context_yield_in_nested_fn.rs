use async_with::async_context;

#[async_context]
async fn yields_in_nested_fn() -> u8 {
    fn helper() {
        yield_!(1);
    }
    helper();
}

fn main() {}
