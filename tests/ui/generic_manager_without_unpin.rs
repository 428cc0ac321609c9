// A generic manager bounded without `Unpin`: `async_with!` pins managers
// that are `Unpin` in place; the error names `Unpin` and the fix.
use async_with::{async_with, SendContextManager};
use std::convert::Infallible;

async fn use_it<M>(manager: M) -> u8
where
    M: SendContextManager<Target = u8, Error = Infallible>,
{
    async_with!(n = manager => { *n })
}

fn main() {
    let _ = use_it(async_with::nullcontext(1));
}
