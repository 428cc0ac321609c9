//! A client hanging up on an axum server while the handler's manager is
//! still entering (its side effect done, a round trip awaited): the
//! opted-in manager's enter finishes on the runtime and its lease is
//! released exactly once, within the deadline. A file of its own, so that
//! the process-wide counts of detached exits are this test's alone.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_with::tokio::{cancelled_exits, exit_on_cancel, wait_for_cancelled_exits};
use async_with::{ExitAction, Outcome, SendContextManager, async_with};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use tokio::io::AsyncWriteExt;
use tokio::sync::{Notify, Semaphore};

/// What the server's leases did, and the gate their enter waits at.
struct Leases {
    log: Mutex<Vec<String>>,
    reached: Notify,
    gate: Semaphore,
}

/// A lease granted remotely: the grant is the side effect of enter, whose
/// confirmation round trip waits at the gate.
struct Lease(Arc<Leases>);

impl SendContextManager for Lease {
    type Target = u32;
    type Error = std::io::Error;

    async fn enter(&mut self) -> std::io::Result<u32> {
        self.0.log.lock().unwrap().push("granted 7".to_string());
        self.0.reached.notify_one();
        self.0.gate.acquire().await.unwrap().forget();
        Ok(7)
    }

    async fn exit(&mut self, lease: u32, outcome: Outcome<'_>) -> std::io::Result<ExitAction> {
        tokio::task::yield_now().await; // the release round trip
        self.0
            .log
            .lock()
            .unwrap()
            .push(format!("released {lease}: {outcome}"));
        Ok(ExitAction::Propagate)
    }
}

async fn handler(State(leases): State<Arc<Leases>>) -> String {
    let result: std::io::Result<u32> =
        async { Ok(async_with!(lease = exit_on_cancel(Lease(leases.clone())) => { *lease })) }
            .await;
    format!("{result:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_hanging_up_during_enter_has_the_lease_released_once() {
    let leases = Arc::new(Leases {
        log: Mutex::new(Vec::new()),
        reached: Notify::new(),
        gate: Semaphore::new(0),
    });
    let router = Router::new()
        .route("/lease", get(handler))
        .with_state(leases.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let before = cancelled_exits();

    let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
    client
        .write_all(b"GET /lease HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    leases.reached.notified().await; // granted, confirmation in flight
    drop(client); // hang up: hyper drops the handler's future mid-enter
    // Give hyper the hang-up before the confirmation arrives.
    tokio::time::sleep(Duration::from_millis(100)).await;
    leases.gate.add_permits(1);

    assert_eq!(wait_for_cancelled_exits(Duration::from_secs(10)).await, 0);
    let after = cancelled_exits();
    assert_eq!(
        *leases.log.lock().unwrap(),
        ["granted 7", "released 7: cancelled"]
    );
    assert_eq!(after.spawned, before.spawned + 1, "{before:?} -> {after:?}");
    assert_eq!(
        after.completed,
        before.completed + 1,
        "{before:?} -> {after:?}"
    );
    server.abort();
}
