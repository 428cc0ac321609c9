//! Cancellation and `Send` (docs/contract.md, "Cancellation" and "`Send` and
//! generic code") on real resources: a sqlx SQLite transaction cancelled by
//! `timeout`, `select!`, `JoinHandle::abort` and a client hanging up on an
//! axum server is rolled back by the library's detached exit within its
//! deadline; an axum handler uses a generic manager and a `Send` exit stack;
//! `with()` runs in a spawned task with a `Transaction<'static, Sqlite>`
//! target.

mod common;

use std::future::pending;
use std::sync::Arc;
use std::time::Duration;

use async_with::sqlx::{PoolTransaction, transaction};
use async_with::tokio::TempDir;
use async_with::{AsyncExitStack, BoxError, SendContextManager, async_with, with};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use common::{DEADLINE, after_cancellation, insert, pool};
use sqlx::{Sqlite, SqlitePool, Transaction};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Notify, oneshot};

/// Inserts a row, says so, then waits forever (to be cancelled).
async fn insert_and_hang(
    manager: PoolTransaction<Sqlite>,
    inserted: oneshot::Sender<()>,
) -> Result<(), sqlx::Error> {
    async_with!(tx = manager => {
        insert(tx, "cancelled").await?;
        let _ = inserted.send(());
        pending::<()>().await;
    });
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_select_that_drops_the_transaction_rolls_it_back() -> std::io::Result<()> {
    async_with!(dir = TempDir::new("async-with-cancel") => {
        let path = dir.join("db.sqlite");
        let pool = pool(&path).await;
        let (inserted, is_inserted) = oneshot::channel();
        let manager = transaction(&pool).rollback_deadline(DEADLINE);
        tokio::select! {
            _ = insert_and_hang(manager, inserted) => unreachable!("the block never ends"),
            _ = is_inserted => {}
        }
        assert_eq!(after_cancellation(&path).await, ["after"]);
        pool.close().await;
    });
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_task_rolls_its_transaction_back() -> std::io::Result<()> {
    async_with!(dir = TempDir::new("async-with-cancel") => {
        let path = dir.join("db.sqlite");
        let pool = pool(&path).await;
        let (inserted, is_inserted) = oneshot::channel();
        let task = tokio::spawn(insert_and_hang(transaction(&pool).rollback_deadline(DEADLINE), inserted));
        is_inserted.await.unwrap();
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        assert_eq!(after_cancellation(&path).await, ["after"]);
        pool.close().await;
    });
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_rolls_back_a_generic_manager_through_with() -> std::io::Result<()> {
    async_with!(dir = TempDir::new("async-with-cancel") => {
        let path = dir.join("db.sqlite");
        let pool = pool(&path).await;
        let (inserted, is_inserted) = oneshot::channel();
        let manager = transaction(&pool).rollback_deadline(DEADLINE);
        // `with()` spawned as it is: its body may be an async closure
        // borrowing a `Transaction<'static, Sqlite>`.
        let task = tokio::spawn(tokio::time::timeout(
            Duration::from_millis(300),
            with(manager, async |tx: &mut Transaction<'static, Sqlite>| {
                insert(tx, "cancelled").await?;
                let _ = inserted.send(());
                pending::<Result<(), sqlx::Error>>().await
            }),
        ));
        is_inserted.await.unwrap();
        assert!(task.await.unwrap().is_err(), "the timeout fired");
        assert_eq!(after_cancellation(&path).await, ["after"]);
        pool.close().await;
    });
    Ok(())
}

/// What an axum app keeps: anything that begins a `Send` transaction.
trait Begin: Send + Sync + 'static {
    type Tx: SendContextManager<Target = Transaction<'static, Sqlite>, Error = sqlx::Error>
        + Unpin
        + 'static;
    fn begin(&self) -> Self::Tx;
}

struct Db {
    pool: SqlitePool,
    inserted: Notify,
}

impl Begin for Db {
    type Tx = PoolTransaction<Sqlite>;
    fn begin(&self) -> PoolTransaction<Sqlite> {
        transaction(&self.pool).rollback_deadline(DEADLINE)
    }
}

/// A generic handler: a transaction from any `Begin`, and a `Send` exit
/// stack for a per-request resource.
async fn add<B: Begin>(State(app): State<Arc<B>>, name: String) -> Result<String, String> {
    let result: Result<usize, BoxError> = async {
        Ok(async_with!(tx = app.begin(), stack = AsyncExitStack::new_send() => {
            // A second transaction, kept by the request's exit stack: it does
            // not see the first one's uncommitted row.
            let second = stack.enter(app.begin()).await?;
            insert(tx, &name).await?;
            let count: i64 = sqlx::query_scalar("SELECT count(*) FROM items").fetch_one(&mut **tx).await?;
            let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM items").fetch_one(&mut **second).await?;
            assert_eq!((count, seen), (1, 0));
            count as usize
        }))
    }
    .await;
    result
        .map(|n| format!("{n} item(s)"))
        .map_err(|e| e.to_string())
}

/// Inserts, tells the test, then hangs until the client hangs up.
async fn insert_and_wait(State(app): State<Arc<Db>>) -> String {
    let result: Result<(), sqlx::Error> = async {
        async_with!(tx = app.begin() => {
            insert(tx, "cancelled").await?;
            app.inserted.notify_one();
            pending::<()>().await;
        });
        Ok(())
    }
    .await;
    format!("{result:?}")
}

async fn serve(app: Arc<Db>) -> std::net::SocketAddr {
    let router = Router::new()
        .route(
            "/add/{name}",
            get(
                |state, axum::extract::Path(name): axum::extract::Path<String>| {
                    add::<Db>(state, name)
                },
            ),
        )
        .route("/hang", get(insert_and_wait))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

async fn get_request(addr: std::net::SocketAddr, path: &str) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_axum_handler_uses_a_generic_manager_and_an_exit_stack() -> std::io::Result<()> {
    async_with!(dir = TempDir::new("async-with-axum") => {
        let path = dir.join("db.sqlite");
        let app = Arc::new(Db { pool: pool(&path).await, inserted: Notify::new() });
        let addr = serve(app.clone()).await;
        let mut response = String::new();
        get_request(addr, "/add/first").await.read_to_string(&mut response).await?;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("1 item(s)"), "{response}");
        app.pool.close().await;
    });
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_hanging_up_on_axum_rolls_the_handlers_transaction_back() -> std::io::Result<()> {
    async_with!(dir = TempDir::new("async-with-axum") => {
        let path = dir.join("db.sqlite");
        let app = Arc::new(Db { pool: pool(&path).await, inserted: Notify::new() });
        let addr = serve(app.clone()).await;
        let client = get_request(addr, "/hang").await;
        app.inserted.notified().await;
        drop(client); // hang up: hyper drops the handler's future
        assert_eq!(after_cancellation(&path).await, ["after"]);
        app.pool.close().await;
    });
    Ok(())
}
