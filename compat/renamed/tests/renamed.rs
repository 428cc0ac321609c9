//! `async_with!` through a renamed dependency (`aw`) and through a facade
//! crate's re-export, with every way out that the expansion replays.

use std::cell::RefCell;

use aw::{AsyncContextManager, ExitAction, Outcome};

struct Logged<'a> {
    name: &'static str,
    log: &'a RefCell<Vec<String>>,
}

impl AsyncContextManager for Logged<'_> {
    type Target = u32;
    type Error = String;

    async fn enter(&mut self) -> Result<u32, String> {
        self.log.borrow_mut().push(format!("enter {}", self.name));
        Ok(1)
    }

    async fn exit(&mut self, _: u32, outcome: Outcome<'_>) -> Result<ExitAction, String> {
        self.log
            .borrow_mut()
            .push(format!("exit {}: {outcome}", self.name));
        Ok(ExitAction::Propagate)
    }
}

async fn nested(log: &RefCell<Vec<String>>, input: &str) -> Result<u32, String> {
    let sum = aw::async_with!(a = (Logged { name: "a", log }), b = (Logged { name: "b", log }) => {
        let parsed: u32 = input.parse().map_err(|_| format!("bad {input}"))?;
        let inner = aw::async_with!(c = (Logged { name: "c", log }) => {
            if parsed == 0 {
                return Ok(0);
            }
            *c + parsed
        });
        *a + *b + inner
    });
    Ok(sum)
}

#[test]
fn a_renamed_dependency_expands_and_replays_every_way_out() {
    let log = RefCell::new(Vec::new());
    assert_eq!(futures_executor::block_on(nested(&log, "5")), Ok(8));
    assert_eq!(
        log.take(),
        [
            "enter a",
            "enter b",
            "enter c",
            "exit c: completed",
            "exit b: completed",
            "exit a: completed"
        ]
    );
    assert_eq!(futures_executor::block_on(nested(&log, "0")), Ok(0));
    assert_eq!(
        log.take(),
        [
            "enter a",
            "enter b",
            "enter c",
            "exit c: completed",
            "exit b: completed",
            "exit a: completed"
        ]
    );
    assert_eq!(
        futures_executor::block_on(nested(&log, "x")),
        Err("bad x".to_string())
    );
    assert_eq!(
        log.take(),
        [
            "enter a",
            "enter b",
            "exit b: failed(\"bad x\")",
            "exit a: failed(\"bad x\")"
        ]
    );
}

#[test]
fn a_facade_re_export_expands() {
    use async_with_renamed::facade_async_with;
    let log = RefCell::new(Vec::new());
    let value: Result<u32, String> = futures_executor::block_on(async {
        Ok(facade_async_with!(n = (Logged { name: "f", log: &log }) => { *n + 1 }))
    });
    assert_eq!(value, Ok(2));
    assert_eq!(log.take(), ["enter f", "exit f: completed"]);
}

#[test]
fn with_works_through_the_renamed_path() {
    let log = RefCell::new(Vec::new());
    let value = futures_executor::block_on(aw::with(
        Logged {
            name: "w",
            log: &log,
        },
        async |n: &mut u32| Ok::<_, String>(*n),
    ));
    assert_eq!(value, Ok(Some(1)));
    assert_eq!(log.take(), ["enter w", "exit w: completed"]);
}
