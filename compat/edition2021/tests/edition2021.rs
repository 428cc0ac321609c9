//! The same control flow as the main suite, compiled as edition 2021.

use async_with::{async_context, async_with};
use async_with_edition2021::Pool;

#[async_context]
async fn counter(log: &std::cell::RefCell<Vec<String>>) -> Result<u32, String> {
    log.borrow_mut().push("enter".to_string());
    let (_, exit) = yield_!(1);
    log.borrow_mut()
        .push(format!("exit {}", exit.inspect(|o| o.to_string())));
    Ok(())
}

async fn flow(log: &std::cell::RefCell<Vec<String>>, input: &str) -> Result<u32, String> {
    let mut total = 0;
    'outer: for round in 0..3 {
        async_with!(n = counter(log) => {
            if round == 1 {
                continue 'outer;
            }
            let parsed: u32 = input.parse().map_err(|_| format!("bad {input}"))?;
            if round == 2 {
                break 'outer;
            }
            total += *n + parsed;
        });
    }
    Ok(total)
}

#[test]
fn control_flow_works_in_edition_2021() {
    let log = Default::default();
    let result = futures_executor::block_on(flow(&log, "4"));
    assert_eq!(result, Ok(5));
    assert_eq!(log.take().len(), 6);

    let result = futures_executor::block_on(flow(&log, "x"));
    assert_eq!(result, Err("bad x".to_string()));
    assert_eq!(log.take(), ["enter", "exit failed(\"bad x\")"]);
}

#[test]
fn generator_methods_with_elided_lifetimes_work_in_edition_2021() {
    let pool = Pool { name: "db".into() };
    let suffix = String::from("1");
    let result: Result<String, String> = futures_executor::block_on(async {
        Ok(async_with!(s = pool.session(&suffix) => { s.clone() }))
    });
    assert_eq!(result, Ok("db-1".to_string()));
}
