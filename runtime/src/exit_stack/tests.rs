//! The `unsafe` of `entries.rs` and `unwind.rs`, exercised under miri by
//! `scripts/miri.sh`.

use super::*;
use crate::{from_fn, nullcontext};
use futures_executor::block_on;

#[test]
fn targets_stay_valid_while_the_entry_list_grows() {
    block_on(async {
        let mut stack = AsyncExitStack::new();
        let first = stack.enter(nullcontext(vec![0_u32])).await.unwrap();
        // Enough entries to reallocate the list several times.
        let mut others = Vec::new();
        for i in 1..40 {
            others.push(stack.enter(nullcontext(vec![i])).await.unwrap());
            stack.defer(async || Ok(()));
        }
        first.push(100);
        for other in &mut others {
            other.push(first[0]);
        }
        assert_eq!(first, &[0, 100]);
        assert_eq!(others[38], &[39, 0]);
        assert_eq!(stack.len(), 1 + 2 * 39);
        stack.close().await.unwrap();
        assert!(stack.is_empty());
    });
}

#[test]
fn exit_gets_back_the_target_the_block_changed() {
    block_on(async {
        let seen = std::cell::RefCell::new(Vec::new());
        let mut stack = AsyncExitStack::<String>::default();
        for name in ["a", "b"] {
            let target = stack
                .enter(from_fn(
                    async || Ok::<_, String>(name.to_string()),
                    async |target: String, _| {
                        seen.borrow_mut().push(target);
                        Ok(ExitAction::Propagate)
                    },
                ))
                .await
                .unwrap();
            target.push_str("+changed");
        }
        let mut moved = stack.take();
        drop(stack);
        moved.close().await.unwrap();
        drop(moved);
        assert_eq!(seen.into_inner(), ["b+changed", "a+changed"]);
    });
}

#[test]
fn a_send_stack_moves_to_another_thread_with_its_entries() {
    let mut stack = AsyncExitStack::new_send();
    block_on(async {
        for i in 0..20 {
            let target = stack.enter(nullcontext(vec![i])).await.unwrap();
            target.push(i + 100);
            stack.defer(|| async { Ok(()) });
        }
    });
    // The entries (and their `Unwind`) move to, and unwind on, another
    // thread: what the unsafe `Send` impl promises.
    let closed = std::thread::spawn(move || {
        let unwinding = stack.close();
        let output =
            std::thread::scope(|scope| scope.spawn(move || block_on(unwinding)).join().unwrap());
        output.is_ok()
    });
    assert!(closed.join().unwrap());
}

/// A stack dropped before exit drops its entries: the entered target
/// and the deferred callback's captures are released (and, under miri
/// and valgrind, their boxes freed).
#[test]
fn dropping_entries_without_exit_frees_them() {
    let alive = std::sync::Arc::new(());
    let stack = AsyncExitStack::new();
    block_on(async {
        stack
            .enter(nullcontext(std::sync::Arc::clone(&alive)))
            .await
            .unwrap();
    });
    let captured = std::sync::Arc::clone(&alive);
    stack.defer(async move || {
        drop(captured);
        Ok(())
    });
    assert_eq!(std::sync::Arc::strong_count(&alive), 3);
    drop(stack);
    assert_eq!(
        std::sync::Arc::strong_count(&alive),
        1,
        "an entry was not dropped"
    );
}
