use async_with::{async_with, nullcontext};

// Residual limitation of the block's value typing: an unlabelled `continue` leaving the block
// is replayed where the `let`'s type cannot reach the block (a labelled
// block there would capture it, E0695), so the value's type is not known
// where exit's outcome is built. One error at the macro, saying to label
// the loop or to write the type in the block.
async fn run(rows: &[u32]) -> Vec<Vec<String>> {
    let mut all = Vec::new();
    for row in rows {
        let names: Vec<String> = async_with!(_s = nullcontext(()) => {
            if *row == 0 {
                continue;
            }
            (0..*row).map(|r| r.to_string()).collect()
        });
        all.push(names);
    }
    all
}

fn main() {
    futures_executor::block_on(run(&[1]));
}
