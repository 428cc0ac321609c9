//! A transaction on a real PostgreSQL server (`DATABASE_URL`, started by
//! `scripts/postgres.sh start`) cancelled at each of its await points, by
//! each way a future is dropped: `tokio::time::timeout`, `select!`,
//! `JoinHandle::abort` and a client hanging up on an axum server; for
//! `async_with::sqlx::transaction` and the README's generator opted in with
//! `exit_on_cancel(Box::pin(..))`.
//!
//! Each await point is held open by the test, and the test checks on the
//! server that the transaction is really there before it cancels:
//!
//! | point | held by | seen on the server as |
//! |---|---|---|
//! | `BEGIN` | a proxy between the pool and the server holds the server's reply | the session `idle in transaction` after `BEGIN` |
//! | a query | a second connection holds the row lock it needs | the `UPDATE` waiting on a lock |
//! | between queries | the block awaits forever after two statements | `idle in transaction` |
//! | `COMMIT` | a deferred constraint trigger waits for an advisory lock a second connection holds | `COMMIT` waiting on a lock |
//! | `ROLLBACK` | the block fails, and the proxy holds the `ROLLBACK` before it reaches the server | `idle in transaction`, the rollback held |
//!
//! Once the cancellation has reached the library (a detached step is
//! counted as spawned), the test lets the point go, waits for the detached
//! step, and checks: (a) no session of the pool is `idle in transaction`;
//! (b) no row the transaction wrote is visible (except when the cancellation
//! arrived during `COMMIT`: the shielded exit finishes that commit, so the
//! transaction is committed whole); (c) the next user of the pool's only
//! connection (the same server process) is outside any transaction; (d) a
//! second connection can update the rows within a short `lock_timeout`; (e)
//! exactly one detached step ran, and completed (the process-wide counts:
//! the cases run one after another in this file's only test).
//!
//! A last case holds a query past the detached step's deadline: the step is
//! counted as timed out, and once the query ends, sqlx's own queued
//! `ROLLBACK` leaves the same (a) to (d).

use std::future::{Future, pending};
use std::net::SocketAddr;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_with::tokio::{cancelled_exits, exit_on_cancel, wait_for_cancelled_exits};
use async_with::{SendContextManager, async_context, async_with};
use axum::Router;
use axum::routing::get;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Row, Transaction};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The detached steps' deadline in these tests.
const DEADLINE: Duration = Duration::from_secs(2);

/// How long to wait for the transaction to reach the point under test.
const REACH: Duration = Duration::from_secs(10);

/// The server's URL: `DATABASE_URL` (what `.ci/run` sets), else a
/// throwaway server this test starts with `scripts/postgres.sh` and stops
/// when the returned guard drops, so that `cargo test --workspace` works on
/// a fresh machine too. Never skipped: a server that cannot be had is a
/// failure saying how to start one.
fn database_url() -> (String, Option<StartedServer>) {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return (url, None);
    }
    let started = postgres_script("start").unwrap_or_else(|why| {
        panic!(
            "DATABASE_URL is not set and no PostgreSQL server could be started ({why}). \
             Start one with `scripts/postgres.sh start` and run these tests with \
             `DATABASE_URL=$(scripts/postgres.sh url) cargo test -p async-with-integrations --test postgres_cancel` \
             (`scripts/postgres.sh stop` afterwards); .ci/run does both"
        )
    });
    (started, Some(StartedServer))
}

/// Stops the server [`database_url`] started.
struct StartedServer;

impl Drop for StartedServer {
    fn drop(&mut self) {
        let _ = postgres_script("stop");
    }
}

/// Runs `scripts/postgres.sh COMMAND`; its last line of output.
fn postgres_script(command: &str) -> Result<String, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/postgres.sh");
    let output = std::process::Command::new("bash")
        .arg(script)
        .arg(command)
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    Ok(stdout.lines().last().unwrap_or_default().trim().to_string())
}

/// The README's generator, owning its pool (`'static`, so that it can be
/// opted in to the shielded steps).
#[async_context]
async fn generator_transaction(
    pool: PgPool,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let tx = pool.begin().await?;
    let (tx, exit) = yield_!(tx);
    if exit.is_completed() {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Point {
    Begin,
    Query,
    Between,
    Commit,
    Rollback,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cancel {
    Timeout,
    Select,
    Abort,
    HangUp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Manager {
    PoolTransaction,
    Generator,
}

/// A TCP proxy between the pool and the server that can hold the bytes
/// going either way.
struct Proxy {
    addr: SocketAddr,
    /// Hold what the client sends (a `ROLLBACK` not yet at the server).
    hold_up: watch::Sender<bool>,
    /// Hold what the server sends (a `BEGIN` done, its reply not back).
    hold_down: watch::Sender<bool>,
    /// Chunks being held now.
    held: Arc<AtomicUsize>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Arc<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Arc::new(Proxy {
            addr: listener.local_addr().unwrap(),
            hold_up: watch::Sender::new(false),
            hold_down: watch::Sender::new(false),
            held: Arc::new(AtomicUsize::new(0)),
        });
        let (up, down, held) = (
            proxy.hold_up.clone(),
            proxy.hold_down.clone(),
            proxy.held.clone(),
        );
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(upstream).await.unwrap();
                client.set_nodelay(true).unwrap();
                server.set_nodelay(true).unwrap();
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pump(
                    client_read,
                    server_write,
                    up.subscribe(),
                    held.clone(),
                ));
                tokio::spawn(pump(
                    server_read,
                    client_write,
                    down.subscribe(),
                    held.clone(),
                ));
            }
        });
        proxy
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut hold: watch::Receiver<bool>,
    held: Arc<AtomicUsize>,
) {
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if *hold.borrow_and_update() {
            held.fetch_add(1, Ordering::SeqCst);
            let released = hold.wait_for(|hold| !hold).await.is_ok();
            held.fetch_sub(1, Ordering::SeqCst);
            if !released {
                break;
            }
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// What the block tells the test.
#[derive(Default)]
struct Flags {
    /// The block awaits forever after its two statements.
    waiting: AtomicBool,
    /// The block is failing (its `ROLLBACK` is next).
    failing: AtomicBool,
}

/// The transaction under test: an `UPDATE` (a row lock) and an `INSERT`,
/// then what `point` asks for.
async fn run<M>(
    manager: M,
    point: Point,
    proxy: Arc<Proxy>,
    flags: Arc<Flags>,
) -> Result<(), sqlx::Error>
where
    M: SendContextManager<Target = Transaction<'static, Postgres>, Error = sqlx::Error> + Unpin,
{
    async_with!(tx = manager => {
        sqlx::query("UPDATE items SET n = n + 1 WHERE id = 0").execute(&mut **tx).await?;
        sqlx::query("INSERT INTO items (id, name) VALUES (2, 'written')").execute(&mut **tx).await?;
        match point {
            // Never reached before the cancellation: `BEGIN` is held.
            Point::Begin => {}
            // Waits for the row lock a second connection holds.
            Point::Query => {
                sqlx::query("UPDATE items SET n = n + 1 WHERE id = 1").execute(&mut **tx).await?;
            }
            Point::Between => {
                flags.waiting.store(true, Ordering::SeqCst);
                pending::<()>().await;
            }
            // The deferred trigger waits at `COMMIT`.
            Point::Commit => {}
            Point::Rollback => {
                proxy.hold_up.send_replace(true);
                flags.failing.store(true, Ordering::SeqCst);
                Err(sqlx::Error::RowNotFound)?;
            }
        }
    });
    Ok(())
}

/// [`run`] with a fresh manager of the kind asked for (made before the
/// future, which then borrows nothing).
fn run_with(
    manager: Manager,
    pool: PgPool,
    point: Point,
    proxy: Arc<Proxy>,
    flags: Arc<Flags>,
) -> Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send>> {
    match manager {
        Manager::PoolTransaction => {
            let manager = async_with::sqlx::transaction(&pool).rollback_deadline(DEADLINE);
            Box::pin(run(manager, point, proxy, flags))
        }
        Manager::Generator => {
            let manager = exit_on_cancel(Box::pin(generator_transaction(pool))).deadline(DEADLINE);
            Box::pin(run(manager, point, proxy, flags))
        }
    }
}

/// The pool's sessions in `state`, as `(pid, state, query, wait_event_type)`.
async fn sessions(
    observer: &mut PgConnection,
    name: &str,
) -> Vec<(i32, String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT pid, coalesce(state, ''), coalesce(query, ''), wait_event_type
         FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(name)
    .fetch_all(observer)
    .await
    .unwrap()
}

/// Waits until the server shows the transaction at `point`; returns the
/// session's process id.
async fn reached(
    observer: &mut PgConnection,
    name: &str,
    point: Point,
    proxy: &Proxy,
    flags: &Flags,
) -> i32 {
    let started = Instant::now();
    loop {
        for (pid, state, query, wait) in sessions(observer, name).await {
            let waiting_on_lock = state == "active" && wait.as_deref() == Some("Lock");
            let idle_in_transaction = state == "idle in transaction";
            let held = proxy.held.load(Ordering::SeqCst) > 0;
            let at_point = match point {
                Point::Begin => idle_in_transaction && query == "BEGIN" && held,
                Point::Query => {
                    waiting_on_lock && query.starts_with("UPDATE items SET n = n + 1 WHERE id = 1")
                }
                Point::Between => idle_in_transaction && flags.waiting.load(Ordering::SeqCst),
                Point::Commit => waiting_on_lock && query == "COMMIT",
                Point::Rollback => {
                    idle_in_transaction && held && flags.failing.load(Ordering::SeqCst)
                }
            };
            if at_point {
                return pid;
            }
        }
        assert!(
            started.elapsed() < REACH,
            "{name}: the transaction never reached {point:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The connection's server process, and whether it is outside any
/// transaction: no transaction id assigned, and the transaction's start is
/// this statement's (one simple-protocol message, so that both are the
/// time it arrived; inside a transaction `now()` is when it began).
async fn next_user(connection: &mut PgConnection) -> (i32, bool) {
    let row = sqlx::raw_sql(
        "SELECT pg_backend_pid(), txid_current_if_assigned() IS NULL AND now() = statement_timestamp()",
    )
    .fetch_one(connection)
    .await
    .unwrap();
    (row.get(0), row.get(1))
}

async fn connect(url: &str, name: &str) -> PgConnection {
    let options = PgConnectOptions::from_str(url)
        .unwrap()
        .application_name(name);
    PgConnection::connect_with(&options).await.unwrap()
}

/// One case; returns what it saw, for the summary.
///
/// With `past_deadline`, the point is let go only after the detached
/// step's deadline: the step is dropped there (counted as timed out), and
/// what is left of the transaction is sqlx's own (its `Transaction`'s drop
/// queues a `ROLLBACK`, which the pool sends when the connection comes
/// back, once the held statement has ended).
async fn case(
    url: &str,
    index: usize,
    manager: Manager,
    point: Point,
    cancel: Cancel,
    past_deadline: bool,
) {
    let name = format!(
        "awpg_{manager:?}_{point:?}_{cancel:?}{}",
        if past_deadline { "_past_deadline" } else { "" }
    )
    .to_lowercase();
    let key = 4_000 + index as i64; // the advisory lock the `COMMIT` trigger waits for
    let mut admin = connect(url, &format!("{name}_admin")).await;
    sqlx::raw_sql(&format!(
        "DROP SCHEMA IF EXISTS {name} CASCADE;
         CREATE SCHEMA {name};
         CREATE TABLE {name}.items (id int PRIMARY KEY, n int NOT NULL DEFAULT 0, name text);
         INSERT INTO {name}.items (id, name) VALUES (0, 'locked'), (1, 'blocker');
         CREATE FUNCTION {name}.slow_commit() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN PERFORM pg_advisory_xact_lock({key}); RETURN NULL; END $$;
         CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON {name}.items
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {name}.slow_commit();"
    ))
    .execute(&mut admin)
    .await
    .unwrap();

    let options = PgConnectOptions::from_str(url).unwrap();
    let upstream: SocketAddr = format!("{}:{}", options.get_host(), options.get_port())
        .parse()
        .expect("DATABASE_URL's host is an IP address (scripts/postgres.sh: 127.0.0.1)");
    let proxy = Proxy::start(upstream).await;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        // No ping on acquire: the proxy would hold it when the point is `BEGIN`.
        .test_before_acquire(false)
        .connect_with(
            options
                .host("127.0.0.1")
                .port(proxy.addr.port())
                .application_name(&name)
                .options([("search_path", name.as_str())]),
        )
        .await
        .unwrap();
    let mut blocker = connect(url, &format!("{name}_blocker")).await;
    match point {
        Point::Begin => {
            proxy.hold_down.send_replace(true);
        }
        Point::Query => {
            sqlx::raw_sql(&format!(
                "BEGIN; SELECT * FROM {name}.items WHERE id = 1 FOR UPDATE"
            ))
            .execute(&mut blocker)
            .await
            .unwrap();
        }
        Point::Commit => {
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(key)
                .execute(&mut blocker)
                .await
                .unwrap();
        }
        Point::Between | Point::Rollback => {}
    }

    let flags = Arc::new(Flags::default());
    let mut observer = connect(url, &format!("{name}_observer")).await;
    let before = cancelled_exits();
    let transaction = run_with(manager, pool.clone(), point, proxy.clone(), flags.clone());
    let pid = match cancel {
        Cancel::Timeout => {
            let cancel_after = Duration::from_secs(1);
            let started = Instant::now();
            let task = tokio::spawn(tokio::time::timeout(cancel_after, transaction));
            let pid = reached(&mut observer, &name, point, &proxy, &flags).await;
            assert!(
                started.elapsed() < cancel_after,
                "{name}: reached the point too late"
            );
            assert!(task.await.unwrap().is_err(), "{name}: the timeout fired");
            pid
        }
        Cancel::Select => {
            tokio::select! {
                result = transaction => panic!("{name}: the transaction ended: {result:?}"),
                pid = reached(&mut observer, &name, point, &proxy, &flags) => pid,
            }
        }
        Cancel::Abort => {
            let task = tokio::spawn(transaction);
            let pid = reached(&mut observer, &name, point, &proxy, &flags).await;
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled(), "{name}");
            pid
        }
        Cancel::HangUp => {
            let transaction = Arc::new(std::sync::Mutex::new(Some(transaction)));
            let router = Router::new().route(
                "/transaction",
                get(move || {
                    let transaction = transaction.lock().unwrap().take().expect("one request");
                    async move { format!("{:?}", transaction.await) }
                }),
            );
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
            let mut client = TcpStream::connect(addr).await.unwrap();
            client
                .write_all(b"GET /transaction HTTP/1.1\r\nHost: test\r\n\r\n")
                .await
                .unwrap();
            let pid = reached(&mut observer, &name, point, &proxy, &flags).await;
            drop(client); // hang up: hyper drops the handler's future
            // Shut down once the detached step has started (below).
            tokio::spawn(async move {
                tokio::time::sleep(REACH).await;
                server.abort();
            });
            pid
        }
    };
    // The cancellation reached the library: one detached step, spawned when
    // the future was dropped (for a hang-up, once hyper noticed it).
    let started = Instant::now();
    while cancelled_exits().spawned == before.spawned {
        assert!(
            started.elapsed() < REACH,
            "{name}: no detached step after the cancellation"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cancelled_at = Instant::now();

    if past_deadline {
        tokio::time::sleep(DEADLINE + Duration::from_millis(200)).await;
        assert_eq!(
            cancelled_exits().in_flight,
            0,
            "{name}: dropped at the deadline"
        );
    }
    // Let the point go: the detached step finishes it.
    match point {
        Point::Begin => {
            proxy.hold_down.send_replace(false);
        }
        Point::Query => {
            sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
        }
        Point::Commit => {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(key)
                .execute(&mut blocker)
                .await
                .unwrap();
        }
        Point::Rollback => {
            proxy.hold_up.send_replace(false);
        }
        Point::Between => {}
    }
    assert_eq!(
        wait_for_cancelled_exits(DEADLINE).await,
        0,
        "{name}: a detached step still running"
    );
    if !past_deadline {
        assert!(
            cancelled_at.elapsed() < DEADLINE,
            "{name}: within the deadline"
        );
    }

    // (e) Exactly one detached step, and it completed.
    let after = cancelled_exits();
    let delta = (
        after.spawned - before.spawned,
        after.completed - before.completed,
        after.failed - before.failed,
        after.timed_out - before.timed_out,
        after.abandoned - before.abandoned,
    );
    assert_eq!(
        delta,
        if past_deadline {
            (1, 0, 0, 1, 0)
        } else {
            (1, 1, 0, 0, 0)
        },
        "{name}: (spawned, completed, failed, timed out, abandoned)"
    );

    // (a) No session of the pool left inside a transaction (past the
    // deadline, once sqlx has sent its queued `ROLLBACK`: within a second).
    let started = Instant::now();
    loop {
        let open: Vec<_> = sessions(&mut observer, &name)
            .await
            .into_iter()
            .filter(|(_, state, _, _)| state.starts_with("idle in transaction"))
            .collect();
        if open.is_empty() {
            break;
        }
        assert!(
            past_deadline && started.elapsed() < Duration::from_secs(1),
            "{name}: {open:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // (b) Nothing written is visible, unless the cancellation arrived
    // during `COMMIT`, which the shielded exit finished: then all of it.
    let (written, n): (i64, i32) = sqlx::query_as(&format!(
        "SELECT (SELECT count(*) FROM {name}.items WHERE id = 2), (SELECT n FROM {name}.items WHERE id = 0)"
    ))
    .fetch_one(&mut admin)
    .await
    .unwrap();
    let committed = point == Point::Commit;
    assert_eq!(
        (written, n),
        if committed { (1, 1) } else { (0, 0) },
        "{name}"
    );

    // (c) The next user of the pool's only connection (the same server
    // process) is outside any transaction.
    let mut next = pool.acquire().await.unwrap();
    let (next_pid, clean) = next_user(&mut next).await;
    assert_eq!(next_pid, pid, "{name}: the same pooled connection");
    assert!(
        clean,
        "{name}: the next user of the connection is inside a transaction"
    );
    drop(next);

    // (d) No row lock left: a second connection updates both rows at once.
    sqlx::raw_sql(&format!(
        "SET lock_timeout = '500ms'; UPDATE {name}.items SET n = n WHERE id IN (0, 1); RESET lock_timeout"
    ))
    .execute(&mut admin)
    .await
    .unwrap_or_else(|e| panic!("{name}: a row lock is still held: {e}"));

    pool.close().await;
    sqlx::raw_sql(&format!("DROP SCHEMA {name} CASCADE"))
        .execute(&mut admin)
        .await
        .unwrap();
    for connection in [admin, blocker, observer] {
        connection.close().await.unwrap();
    }
    eprintln!("ok: {name} (pid {pid})");
}

/// Every case, one after another (the counts are process-wide).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_cancelled_at_each_await_point_leaves_postgres_clean() {
    let (url, _server) = database_url();
    // The check of (c) itself: it sees a transaction that only began.
    let mut check = connect(&url, "awpg_check").await;
    assert!(next_user(&mut check).await.1, "outside a transaction");
    sqlx::raw_sql("BEGIN").execute(&mut check).await.unwrap();
    assert!(
        !next_user(&mut check).await.1,
        "inside a transaction that only began"
    );
    check.close().await.unwrap();
    let mut index = 0;
    for manager in [Manager::PoolTransaction, Manager::Generator] {
        for point in [
            Point::Begin,
            Point::Query,
            Point::Between,
            Point::Commit,
            Point::Rollback,
        ] {
            for cancel in [
                Cancel::Timeout,
                Cancel::Select,
                Cancel::Abort,
                Cancel::HangUp,
            ] {
                case(&url, index, manager, point, cancel, false).await;
                index += 1;
            }
        }
    }
    assert_eq!(index, 40);
    // The deadline: a query held past it.
    case(
        &url,
        index,
        Manager::PoolTransaction,
        Point::Query,
        Cancel::Abort,
        true,
    )
    .await;
}
