//! `#[async_context]` through a renamed dependency (`aw`): `crate = aw`
//! names the crate in the generated code, since no `async_with` exists here.

use std::cell::RefCell;

use aw::async_context;

#[async_context(crate = aw)]
async fn logged(log: &RefCell<Vec<String>>) -> Result<u32, String> {
    log.borrow_mut().push("enter".to_string());
    let (n, exit) = yield_!(1);
    log.borrow_mut().push(format!(
        "exit {n}: {}",
        exit.inspect(|outcome| outcome.to_string())
    ));
    Ok(())
}

async fn run(log: &RefCell<Vec<String>>, input: &str) -> Result<u32, String> {
    let value = aw::async_with!(n = logged(log) => {
        let parsed: u32 = input.parse().map_err(|_| format!("bad {input}"))?;
        *n + parsed
    });
    Ok(value)
}

#[test]
fn a_generator_works_through_a_renamed_dependency() {
    let log = RefCell::new(Vec::new());
    assert_eq!(futures_executor::block_on(run(&log, "2")), Ok(3));
    assert_eq!(
        futures_executor::block_on(run(&log, "x")),
        Err("bad x".to_string())
    );
    assert_eq!(
        log.into_inner(),
        [
            "enter",
            "exit 1: completed",
            "enter",
            "exit 1: failed(\"bad x\")"
        ]
    );
}
