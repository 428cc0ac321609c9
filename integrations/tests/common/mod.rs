//! Real SQLite files for the integration tests: a pool on a fresh file, and
//! a second connection outside the pool that checks what was committed.
#![allow(dead_code)] // Each test file uses part of this module.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection, Sqlite, Transaction};

/// How long a rollback spawned after a cancellation may take in these
/// tests; a second connection waits at most this long for the write lock.
pub const DEADLINE: Duration = Duration::from_secs(2);

/// Foreign keys on, and a connection waits for the write lock at most
/// [`DEADLINE`].
pub fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(true)
        .busy_timeout(DEADLINE)
}

/// A pool of two connections on `path`, with `items(name, parent)`, whose
/// `parent` is a foreign key checked at COMMIT.
pub async fn pool(path: &Path) -> SqlitePool {
    let pool = SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(options(path))
        .await
        .unwrap();
    sqlx::query(
        "CREATE TABLE parents (id INTEGER PRIMARY KEY);
         CREATE TABLE items (
             name TEXT PRIMARY KEY,
             parent INTEGER REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED
         );",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool
}

/// Inserts `name` in the transaction.
pub async fn insert(tx: &mut Transaction<'static, Sqlite>, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO items (name) VALUES (?)")
        .bind(name)
        .execute(&mut **tx)
        .await
        .map(drop)
}

/// The names in `items`, read by a fresh connection outside the pool.
pub async fn committed_items(path: &Path) -> Vec<String> {
    let mut second = options(path).connect().await.unwrap();
    let names = sqlx::query_scalar("SELECT name FROM items ORDER BY name")
        .fetch_all(&mut second)
        .await
        .unwrap();
    second.close().await.unwrap();
    names
}

/// A second connection, outside the pool, writes `after` (it needs the
/// write lock a cancelled transaction held, and waits at most [`DEADLINE`]
/// for it), then reads what is committed.
pub async fn after_cancellation(path: &Path) -> Vec<String> {
    let mut second = options(path).connect().await.unwrap();
    sqlx::query("INSERT INTO items (name) VALUES ('after')")
        .execute(&mut second)
        .await
        .expect("the cancelled transaction was rolled back within the deadline");
    second.close().await.unwrap();
    committed_items(path).await
}
