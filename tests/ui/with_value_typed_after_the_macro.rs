use async_with::{async_with, nullcontext};

// Residual limitation of the block's value typing: the block's value has a type only the
// code after the macro fixes (here `parse`'s target, fixed by `total`),
// so exit cannot be told whether it is an error. One error at the macro,
// saying to write the type (`let n: u32 = async_with!(..)`).
async fn run() -> u32 {
    let n = async_with!(_s = nullcontext(()) => { "7".parse().unwrap() });
    let total: u32 = n;
    total
}

fn main() {
    futures_executor::block_on(run());
}
