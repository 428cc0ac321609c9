use std::cell::RefCell;

use async_with::{Exit, async_context, async_with};

// An `Exit` lives in its function's teardown: it cannot be kept for later.
#[async_context]
async fn leaks<'a>(into: &RefCell<Option<Exit<'a>>>) {
    let ((), exit) = yield_!(());
    *into.borrow_mut() = Some(exit);
}

async fn caller() {
    let kept = RefCell::new(None);
    async_with!(leaks(&kept) => {});
}

fn main() {
    let _ = caller();
}
