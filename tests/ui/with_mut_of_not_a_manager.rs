// `&mut` of something that is no manager: one error, at the expression,
// as for the value itself (the `&mut` lending choice adds none).
use async_with::async_with;

async fn run() {
    let mut count = 5_u8;
    async_with!(n = &mut count => { let _ = n; });
}

fn main() {
    futures_executor::block_on(run());
}
