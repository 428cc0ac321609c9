//! The README's transaction generator (`-> Result<Transaction<'static,
//! Sqlite>, sqlx::Error>`), unboxed, where Rust runs async code: an axum
//! handler served over real TCP and called through `tower::ServiceExt::oneshot`,
//! `tokio::spawn`, and a `JoinSet` of 100 tasks. A second connection checks
//! what was committed and what was rolled back.

mod common;

use async_with::tokio::TempDir;
use async_with::{async_context, async_with};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Request, StatusCode};
use axum::routing::get;
use common::{committed_items, insert, pool};
use sqlx::{Sqlite, SqlitePool, Transaction};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

/// The README's generator: commit when the block completed, roll back
/// otherwise.
#[async_context]
async fn transaction(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
    let tx = pool.begin().await?;
    let (tx, exit) = yield_!(tx);
    if exit.is_completed() {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(())
}

/// Inserts `name`; a name starting with `fail` then fails the block with `?`.
async fn add(pool: &SqlitePool, name: &str) -> Result<(), sqlx::Error> {
    async_with!(tx = transaction(pool) => {
        insert(tx, name).await?;
        if name.starts_with("fail") {
            sqlx::query("SELECT * FROM no_such_table").execute(&mut **tx).await?;
        }
    });
    Ok(())
}

async fn handler(State(pool): State<SqlitePool>, Path(name): Path<String>) -> StatusCode {
    match add(&pool, &name).await {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn router(pool: SqlitePool) -> Router {
    Router::new()
        .route("/add/{name}", get(handler))
        .with_state(pool)
}

/// Sends `GET path` over TCP and returns the status line.
async fn get_over_tcp(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response.lines().next().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_generator_commits_and_rolls_back_in_an_axum_handler_over_tcp()
-> std::io::Result<()> {
    async_with!(dir = TempDir::new("async-with-generator-axum") => {
        let path = dir.join("db.sqlite");
        let pool = pool(&path).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(axum::serve(listener, router(pool.clone())).into_future());
        assert_eq!(get_over_tcp(addr, "/add/kept").await, "HTTP/1.1 200 OK");
        assert_eq!(
            get_over_tcp(addr, "/add/failed").await,
            "HTTP/1.1 500 Internal Server Error"
        );
        server.abort();
        assert_eq!(committed_items(&path).await, ["kept"]);
        pool.close().await;
    });
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_generator_works_through_tower_oneshot() -> std::io::Result<()> {
    async_with!(dir = TempDir::new("async-with-generator-oneshot") => {
        let path = dir.join("db.sqlite");
        let pool = pool(&path).await;
        for (uri, status) in [("/add/one", StatusCode::OK), ("/add/fail-two", StatusCode::INTERNAL_SERVER_ERROR)] {
            let request = Request::get(uri).body(Body::empty()).unwrap();
            let response = router(pool.clone()).oneshot(request).await.unwrap();
            assert_eq!(response.status(), status, "{uri}");
        }
        assert_eq!(committed_items(&path).await, ["one"]);
        pool.close().await;
    });
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_generator_works_in_spawned_tasks_and_a_join_set_of_100() -> std::io::Result<()>
{
    async_with!(dir = TempDir::new("async-with-generator-spawn") => {
        let path = dir.join("db.sqlite");
        let pool = pool(&path).await;
        let spawned = pool.clone();
        tokio::spawn(async move { add(&spawned, "spawned").await }).await?.unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..100 {
            let pool = pool.clone();
            let name = if n % 10 == 0 { format!("fail{n:03}") } else { format!("task{n:03}") };
            tasks.spawn(async move { (n, add(&pool, &name).await.is_ok()) });
        }
        let mut succeeded = 0;
        while let Some(joined) = tasks.join_next().await {
            let (n, ok) = joined?;
            assert_eq!(ok, n % 10 != 0, "task {n}");
            succeeded += usize::from(ok);
        }
        assert_eq!(succeeded, 90);
        let committed = committed_items(&path).await;
        let mut expected: Vec<String> = (0..100).filter(|n| n % 10 != 0).map(|n| format!("task{n:03}")).collect();
        expected.insert(0, "spawned".to_string());
        assert_eq!(committed, expected);
        pool.close().await;
    });
    Ok(())
}
