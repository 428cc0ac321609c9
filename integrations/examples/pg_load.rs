//! A load and fault run on a real PostgreSQL server (not a test: it prints
//! figures). `scripts/pg_load.sh` starts a throwaway server, runs this, and
//! stops it; by hand: `DATABASE_URL=... cargo run --release -p
//! async-with-integrations --example pg_load -- --requests 2000`.
//!
//! An axum server on 127.0.0.1 with three routes doing the same work, a
//! transaction of three statements (`UPDATE` a counter row, `INSERT` a log
//! row, `SELECT` the counter):
//!
//! - `generator`: the README's `#[async_context]` transaction generator,
//!   opted in to the shielded steps (`exit_on_cancel(Box::pin(..))`);
//! - `pool_transaction`: `async_with::sqlx::transaction(&pool)`;
//! - `plain_sqlx`: `pool.begin()`, the statements, `commit()` by hand, and
//!   nothing on cancellation (what users write today).
//!
//! A client sends each route `--requests` requests (one TCP connection
//! each) at concurrency 64, in `--rounds` interleaved rounds; 30% of them
//! hang up after a random delay (uniform, up to twice the route's median
//! latency measured in a warm-up). Then the server is shut down gracefully
//! with requests in flight on all three routes, the runtime is dropped, and
//! the server is asked what was left behind.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use async_with::tokio::{
    CancelledExits, cancelled_exits, exit_on_cancel, wait_for_cancelled_exits,
};
use async_with::{SendContextManager, async_context, async_with};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Row, Transaction};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const ROUTES: [&str; 3] = ["generator", "pool_transaction", "plain_sqlx"];
/// Requests in each route's warm-up.
const WARM_UP: u64 = 500;
const POOL_SIZE: u32 = 16;
/// The detached steps' deadline (the library's default).
const DEADLINE: Duration = Duration::from_secs(5);
/// Whether the connection is outside any transaction (one simple-protocol
/// statement: inside a transaction, `now()` is when it began).
const CLEAN: &str = "SELECT txid_current_if_assigned() IS NULL AND now() = statement_timestamp()";

struct Args {
    url: String,
    requests: u64,
    concurrency: usize,
    hang_up: f64,
    rounds: u64,
    seed: u64,
}

fn args() -> Args {
    let mut args = Args {
        url: std::env::var("DATABASE_URL").unwrap_or_default(),
        requests: 20_000,
        concurrency: 64,
        hang_up: 0.3,
        rounds: 3,
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let value = given
            .next()
            .unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = value,
            "--requests" => args.requests = value.parse().expect("--requests N"),
            "--concurrency" => args.concurrency = value.parse().expect("--concurrency N"),
            "--hang-up" => args.hang_up = value.parse().expect("--hang-up FRACTION"),
            "--rounds" => args.rounds = value.parse().expect("--rounds N"),
            "--seed" => args.seed = value.parse().expect("--seed N"),
            _ => panic!("unknown flag {flag}"),
        }
    }
    assert!(
        !args.url.is_empty(),
        "DATABASE_URL is not set: run scripts/pg_load.sh, or start a server with scripts/postgres.sh start"
    );
    args
}

/// What a route counts on the server side.
#[derive(Default)]
struct Counts {
    /// Requests whose transaction's enter began.
    started: AtomicU64,
    /// Requests whose transaction ended awaited, committed / failed.
    returned_ok: AtomicU64,
    returned_err: AtomicU64,
    /// The generator's own counts: `begin()` returned, and commit or
    /// rollback returned (awaited or detached).
    generator_enters: AtomicU64,
    generator_exits: AtomicU64,
    /// Pooled connections found inside a transaction when acquired.
    dirty: AtomicU64,
}

struct App {
    pools: Vec<PgPool>,
    counts: Vec<Arc<Counts>>,
}

/// The README's generator, owning its pool so that it can be opted in.
#[async_context]
async fn generator_transaction(
    pool: PgPool,
    counts: Arc<Counts>,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let tx = pool.begin().await?;
    counts.generator_enters.fetch_add(1, Relaxed);
    let (tx, exit) = yield_!(tx);
    let ended = if exit.is_completed() {
        tx.commit().await
    } else {
        tx.rollback().await
    };
    counts.generator_exits.fetch_add(1, Relaxed);
    ended?;
    Ok(())
}

/// The three statements.
async fn work(
    tx: &mut PgConnection,
    route: &'static str,
    request: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query("UPDATE accounts SET n = n + 1 WHERE id = $1")
        .bind(request)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO log (route, request) VALUES ($1, $2)")
        .bind(route)
        .bind(request)
        .execute(&mut *tx)
        .await?;
    sqlx::query_scalar("SELECT n FROM accounts WHERE id = $1")
        .bind(request)
        .fetch_one(&mut *tx)
        .await
}

/// A route's future, boxed as `Send` (the generator's future is `Send` for
/// each lifetime, which an `async fn` handler cannot show axum).
type Response = std::pin::Pin<Box<dyn std::future::Future<Output = (StatusCode, String)> + Send>>;

/// A transaction's future, boxed as `Send` where its type is known (the
/// generator's future is `Send` for every lifetime, which the compiler
/// cannot show through a second `async` block).
type Tx = std::pin::Pin<Box<dyn std::future::Future<Output = Result<i64, sqlx::Error>> + Send>>;

fn respond(counts: &Counts, result: Result<i64, sqlx::Error>) -> (StatusCode, String) {
    match result {
        Ok(n) => {
            counts.returned_ok.fetch_add(1, Relaxed);
            (StatusCode::OK, n.to_string())
        }
        Err(e) => {
            counts.returned_err.fetch_add(1, Relaxed);
            (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
    }
}

/// The transaction of the two async-with routes, under any manager.
async fn in_transaction<M>(
    manager: M,
    route: &'static str,
    request: i64,
) -> Result<i64, sqlx::Error>
where
    M: SendContextManager<Target = Transaction<'static, Postgres>, Error = sqlx::Error> + Unpin,
{
    Ok(async_with!(tx = manager => {
        // `work`, inline: the `Send` check of a handler cannot see through
        // a borrowed `&mut PgConnection` passed to another `async fn` here.
        sqlx::query("UPDATE accounts SET n = n + 1 WHERE id = $1")
            .bind(request)
            .execute(&mut **tx)
            .await?;
        sqlx::query("INSERT INTO log (route, request) VALUES ($1, $2)")
            .bind(route)
            .bind(request)
            .execute(&mut **tx)
            .await?;
        sqlx::query_scalar::<_, i64>("SELECT n FROM accounts WHERE id = $1")
            .bind(request)
            .fetch_one(&mut **tx)
            .await?
    }))
}

fn generator_route(State(app): State<Arc<App>>, Path(request): Path<i64>) -> Response {
    let counts = app.counts[0].clone();
    let manager = exit_on_cancel(Box::pin(generator_transaction(
        app.pools[0].clone(),
        counts.clone(),
    )));
    let transaction: Tx = Box::pin(in_transaction(manager, ROUTES[0], request));
    Box::pin(async move {
        counts.started.fetch_add(1, Relaxed);
        let result = transaction.await;
        respond(&counts, result)
    })
}

fn pool_transaction_route(State(app): State<Arc<App>>, Path(request): Path<i64>) -> Response {
    let counts = app.counts[1].clone();
    let transaction = in_transaction(
        async_with::sqlx::transaction(&app.pools[1]),
        ROUTES[1],
        request,
    );
    Box::pin(async move {
        counts.started.fetch_add(1, Relaxed);
        let result = transaction.await;
        respond(&counts, result)
    })
}

fn plain_sqlx_route(State(app): State<Arc<App>>, Path(request): Path<i64>) -> Response {
    Box::pin(async move {
        let counts = &app.counts[2];
        counts.started.fetch_add(1, Relaxed);
        let result = async {
            let mut tx = app.pools[2].begin().await?;
            let n = work(&mut tx, ROUTES[2], request).await?;
            tx.commit().await?;
            Ok(n)
        }
        .await;
        respond(counts, result)
    })
}

fn options(url: &str, name: &str) -> PgConnectOptions {
    PgConnectOptions::from_str(url)
        .expect("DATABASE_URL")
        .application_name(name)
        .options([("search_path", "load")])
}

/// Whether the connection is outside any transaction.
async fn is_clean(connection: &mut PgConnection) -> Result<bool, sqlx::Error> {
    Ok(sqlx::Executor::fetch_one(connection, CLEAN).await?.get(0))
}

async fn pool(url: &str, route: &str, counts: Arc<Counts>) -> PgPool {
    PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .before_acquire(move |connection, _| {
            let counts = counts.clone();
            Box::pin(async move {
                if !is_clean(connection).await? {
                    counts.dirty.fetch_add(1, Relaxed);
                }
                Ok(true)
            })
        })
        .connect_with(options(url, &format!("pg_load_{route}")))
        .await
        .expect("connect")
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Default)]
struct ClientStats {
    sent: u64,
    hang_ups: u64,
    ok: u64,
    failed: u64,
    latencies: Vec<Duration>,
}

/// A client's run on one route: requests `first..first + n` at
/// `concurrency`; a `hang_up` fraction of them closes the connection after
/// a random delay up to `max_delay`.
struct Drive {
    addr: SocketAddr,
    route: &'static str,
    first: u64,
    n: u64,
    concurrency: usize,
    hang_up: f64,
    max_delay: Duration,
    seed: u64,
}

/// Runs `drive`; stops early when `stop` is set or the server refuses;
/// sends each hang-up's request and time to `hung_up`.
async fn drive(
    drive: Drive,
    stop: Arc<AtomicBool>,
    hung_up: Option<mpsc::UnboundedSender<(i64, Instant)>>,
) -> ClientStats {
    let Drive {
        addr,
        route,
        first,
        n,
        concurrency,
        hang_up,
        max_delay,
        seed,
    } = drive;
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let (next, stop, hung_up) = (next.clone(), stop.clone(), hung_up.clone());
        tasks.spawn(async move {
            let mut rng = Rng(seed ^ (worker as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let mut stats = ClientStats::default();
            loop {
                let i = next.fetch_add(1, Relaxed);
                if i >= n || stop.load(Relaxed) {
                    break;
                }
                let started = Instant::now();
                let Ok(mut stream) = TcpStream::connect(addr).await else {
                    break;
                };
                let request = format!(
                    "GET /{route}/{} HTTP/1.1\r\nHost: load\r\nConnection: close\r\n\r\n",
                    first + i
                );
                stats.sent += 1;
                if stream.write_all(request.as_bytes()).await.is_err() {
                    stats.failed += 1;
                    continue;
                }
                if rng.unit() < hang_up {
                    let delay = max_delay.mul_f64(rng.unit());
                    tokio::time::sleep(delay).await;
                    drop(stream); // hang up
                    stats.hang_ups += 1;
                    if let Some(hung_up) = &hung_up {
                        let _ = hung_up.send(((first + i) as i64, Instant::now()));
                    }
                    continue;
                }
                let mut response = Vec::new();
                let read = stream.read_to_end(&mut response).await;
                if read.is_ok() && response.starts_with(b"HTTP/1.1 200") {
                    stats.ok += 1;
                    stats.latencies.push(started.elapsed());
                } else {
                    stats.failed += 1;
                }
            }
            stats
        });
    }
    let mut all = ClientStats::default();
    while let Some(stats) = tasks.join_next().await {
        let stats = stats.unwrap();
        all.sent += stats.sent;
        all.hang_ups += stats.hang_ups;
        all.ok += stats.ok;
        all.failed += stats.failed;
        all.latencies.extend(stats.latencies);
    }
    all
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Sessions of `application_name` inside a transaction, now.
async fn open_transactions(stats: &mut PgConnection, name: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'",
    )
    .bind(name)
    .fetch_one(stats)
    .await
    .unwrap()
}

async fn committed(stats: &mut PgConnection, route: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM load.log WHERE route = $1")
        .bind(route)
        .fetch_one(stats)
        .await
        .unwrap()
}

/// Samples, every 10 ms until `stop`, the longest a session of
/// `application_name` holding row locks (a transaction id: it wrote) has
/// sat idle in its transaction, in milliseconds.
async fn sample_idle_with_locks(url: String, name: String, stop: Arc<AtomicBool>) -> f64 {
    let mut sampler = PgConnection::connect_with(&options(&url, "pg_load_sampler"))
        .await
        .unwrap();
    let mut longest: f64 = 0.0;
    while !stop.load(Relaxed) {
        let ms: f64 = sqlx::query_scalar(
            "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - state_change) * 1000), 0)::float8
             FROM pg_stat_activity
             WHERE application_name = $1 AND state LIKE 'idle in transaction%' AND backend_xid IS NOT NULL",
        )
        .bind(&name)
        .fetch_one(&mut sampler)
        .await
        .unwrap();
        longest = longest.max(ms);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sampler.close().await.unwrap();
    longest
}

/// How long after its request was hung up the request's own row was last
/// seen locked (zero if never): probes `SELECT .. FOR UPDATE NOWAIT` every
/// 2 ms until the row is seen free twice, 20 ms apart (a statement already
/// sent may take the lock after the first probe), for at most 7 s.
async fn lock_outlived(probes: PgPool, id: i64, hung_up: Instant) -> Duration {
    let mut last_locked = None;
    let mut free_since: Option<Instant> = None;
    while hung_up.elapsed() < Duration::from_secs(7) {
        let probed = sqlx::query("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE NOWAIT")
            .bind(id)
            .execute(&probes)
            .await;
        match probed {
            Ok(_) => match free_since {
                Some(since) if since.elapsed() >= Duration::from_millis(20) => break,
                Some(_) => {}
                None => free_since = Some(Instant::now()),
            },
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => {
                last_locked = Some(Instant::now());
                free_since = None;
            }
            Err(e) => panic!("probe: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    last_locked.map_or(Duration::ZERO, |at| at - hung_up)
}

/// Probes every hung-up request's row; returns the longest a lock outlived
/// its request, and how many were probed.
async fn probe_hang_ups(
    probes: PgPool,
    mut hung_up: mpsc::UnboundedReceiver<(i64, Instant)>,
) -> (Duration, u64) {
    let mut probing = tokio::task::JoinSet::new();
    let mut probed = 0;
    while let Some((id, at)) = hung_up.recv().await {
        probing.spawn(lock_outlived(probes.clone(), id, at));
        probed += 1;
    }
    let mut longest = Duration::ZERO;
    while let Some(outlived) = probing.join_next().await {
        longest = longest.max(outlived.unwrap());
    }
    (longest, probed)
}

fn delta(after: CancelledExits, before: CancelledExits) -> [u64; 5] {
    [
        after.spawned - before.spawned,
        after.completed - before.completed,
        after.failed - before.failed,
        after.timed_out - before.timed_out,
        after.abandoned - before.abandoned,
    ]
}

#[derive(Default)]
struct RouteTotals {
    sent: u64,
    hang_ups: u64,
    ok: u64,
    failed: u64,
    started: u64,
    returned: u64,
    committed: i64,
    detached: [u64; 5],
    open_max: i64,
    idle_with_locks_ms: f64,
    lock_outlived: Duration,
    probed: u64,
    dirty: u64,
    latencies: Vec<Duration>,
    round_p50s: Vec<Duration>,
}

fn main() {
    let args = args();
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let counts: Vec<Arc<Counts>> = ROUTES.iter().map(|_| Arc::default()).collect();

    let url = args.url.clone();
    client.block_on(async {
        let mut setup = PgConnection::connect_with(&options(&url, "pg_load_setup")).await.unwrap();
        sqlx::raw_sql(&format!(
            "DROP SCHEMA IF EXISTS load CASCADE;
             CREATE SCHEMA load;
             CREATE TABLE load.accounts (id bigint PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
             INSERT INTO load.accounts (id) SELECT generate_series(0, {});
             CREATE TABLE load.log (id bigserial PRIMARY KEY, route text NOT NULL, request bigint NOT NULL);",
            // Each request's own row: the warm-ups, the rounds, and the
            // shutdown phase's first requests.
            3 * (WARM_UP + args.requests) + 100_000
        ))
        .execute(&mut setup)
        .await
        .unwrap();
        setup.close().await.unwrap();
    });

    // The server, on its own runtime.
    let (server, addr, shutdown, served) = start_server(&url, &counts);

    println!(
        "pg_load: {} requests per route, concurrency {}, {:.0}% hang-ups, {} rounds, pool of {} per route, seed {}",
        args.requests,
        args.concurrency,
        args.hang_up * 100.0,
        args.rounds,
        POOL_SIZE,
        args.seed
    );
    let mut totals: Vec<RouteTotals> = ROUTES.iter().map(|_| RouteTotals::default()).collect();
    let started = Instant::now();
    client.block_on(async {
        let mut stats = PgConnection::connect_with(&options(&url, "pg_load_stats"))
            .await
            .unwrap();
        let never = Arc::new(AtomicBool::new(false));
        let mut first = 0;
        // Warm-up: each route's median latency sets its hang-up delays.
        let mut max_delay = Vec::new();
        for route in ROUTES {
            let mut warm = drive(
                Drive {
                    addr,
                    route,
                    first,
                    n: WARM_UP,
                    concurrency: args.concurrency,
                    hang_up: 0.0,
                    max_delay: Duration::ZERO,
                    seed: args.seed,
                },
                never.clone(),
                None,
            )
            .await;
            first += WARM_UP;
            warm.latencies.sort();
            max_delay.push(percentile(&warm.latencies, 0.5) * 2);
        }
        // The generator's own counts from here on.
        for counts in &counts {
            counts.generator_enters.store(0, Relaxed);
            counts.generator_exits.store(0, Relaxed);
            counts.dirty.store(0, Relaxed);
        }
        let probes = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options(&url, "pg_load_probe"))
            .await
            .unwrap();
        let per_round = args.requests.div_ceil(args.rounds);
        for round in 0..args.rounds {
            // Each round in another order, so that no route always runs
            // first (or last) of the three.
            for k in 0..ROUTES.len() {
                let r = (k + round as usize) % ROUTES.len();
                let route = ROUTES[r];
                let n = per_round.min(args.requests - per_round * round);
                let name = format!("pg_load_{route}");
                let counts = &counts[r];
                let before = (
                    counts.started.load(Relaxed),
                    counts.returned_ok.load(Relaxed) + counts.returned_err.load(Relaxed),
                    committed(&mut stats, route).await,
                    cancelled_exits(),
                );
                let stop = Arc::new(AtomicBool::new(false));
                let sampler = tokio::spawn(sample_idle_with_locks(
                    url.clone(),
                    name.clone(),
                    stop.clone(),
                ));
                let seed = args.seed ^ (round * 3 + r as u64).wrapping_mul(0xA076_1D64_78BD_642F);
                let (hung_up, hang_ups) = mpsc::unbounded_channel();
                let probing = tokio::spawn(probe_hang_ups(probes.clone(), hang_ups));
                let mut client_stats = drive(
                    Drive {
                        addr,
                        route,
                        first,
                        n,
                        concurrency: args.concurrency,
                        hang_up: args.hang_up,
                        max_delay: max_delay[r],
                        seed,
                    },
                    never.clone(),
                    Some(hung_up),
                )
                .await;
                first += n;
                // The detached exits this round spawned, to their end.
                let left = wait_for_cancelled_exits(DEADLINE + Duration::from_secs(1)).await;
                assert_eq!(left, 0, "detached exits still in flight");
                // The server gets the last statements of cancelled requests.
                tokio::time::sleep(Duration::from_millis(50)).await;
                stop.store(true, Relaxed);
                let idle_ms = sampler.await.unwrap();
                let (outlived, probed) = probing.await.unwrap();
                let open = open_transactions(&mut stats, &name).await;
                let t = &mut totals[r];
                t.sent += client_stats.sent;
                t.hang_ups += client_stats.hang_ups;
                t.ok += client_stats.ok;
                t.failed += client_stats.failed;
                t.started += counts.started.load(Relaxed) - before.0;
                t.returned +=
                    counts.returned_ok.load(Relaxed) + counts.returned_err.load(Relaxed) - before.1;
                t.committed += committed(&mut stats, route).await - before.2;
                let d = delta(cancelled_exits(), before.3);
                for (total, d) in t.detached.iter_mut().zip(d) {
                    *total += d;
                }
                t.open_max = t.open_max.max(open);
                t.idle_with_locks_ms = t.idle_with_locks_ms.max(idle_ms);
                t.lock_outlived = t.lock_outlived.max(outlived);
                t.probed += probed;
                client_stats.latencies.sort();
                t.round_p50s.push(percentile(&client_stats.latencies, 0.5));
                t.latencies.extend(client_stats.latencies);
            }
        }
        for (t, counts) in totals.iter_mut().zip(&counts) {
            t.dirty = counts.dirty.load(Relaxed);
        }
        stats.close().await.unwrap();
    });
    let elapsed = started.elapsed();

    println!(
        "\n{:<18} {:>8} {:>8} {:>9} {:>11} {:>4} {:>13} {:>5} {:>8} {:>8} {:>18}  exits = enters",
        "route",
        "requests",
        "hang-ups",
        "committed",
        "rolled back",
        "open",
        "lock outlived",
        "dirty",
        "p50",
        "p99",
        "detached s/c/f/t/a",
    );
    let plain_p50 = {
        let mut l = totals[2].latencies.clone();
        l.sort();
        percentile(&l, 0.5)
    };
    for (r, t) in totals.iter_mut().enumerate() {
        t.latencies.sort();
        let p50 = percentile(&t.latencies, 0.5);
        let p99 = percentile(&t.latencies, 0.99);
        // Every transaction whose enter began ended once: awaited, or by
        // exactly one detached step that completed.
        let [spawned, completed, failed, timed_out, abandoned] = t.detached;
        let exits = match r {
            0 => format!(
                "{} (enters {}, exits {}; started {} = returned {} + detached {})",
                counts[0].generator_enters.load(Relaxed) == counts[0].generator_exits.load(Relaxed)
                    && t.started == t.returned + spawned
                    && spawned == completed,
                counts[0].generator_enters.load(Relaxed),
                counts[0].generator_exits.load(Relaxed),
                t.started,
                t.returned,
                spawned
            ),
            1 => format!(
                "{} (started {} = returned {} + detached {}, all completed)",
                t.started == t.returned + spawned && spawned == completed,
                t.started,
                t.returned,
                spawned
            ),
            _ => "n/a (no exit)".to_string(),
        };
        println!(
            "{:<18} {:>8} {:>8} {:>9} {:>11} {:>4} {:>11.1}ms {:>5} {:>6.2}ms {:>6.2}ms {:>18}  {}",
            ROUTES[r],
            t.sent,
            t.hang_ups,
            t.committed,
            t.started as i64 - t.committed,
            t.open_max,
            t.lock_outlived.as_secs_f64() * 1e3,
            t.dirty,
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            format!("{spawned}/{completed}/{failed}/{timed_out}/{abandoned}"),
            exits
        );
        let rounds: Vec<String> = t
            .round_p50s
            .iter()
            .map(|p| format!("{:.2}", p.as_secs_f64() * 1e3))
            .collect();
        println!(
            "{:<18} p50 per round (ms): {}; p50 vs plain sqlx: {:+.1}%; completed: {}; client errors: {}; \
             hung-up rows probed: {}; longest idle in transaction holding locks (sampled): {:.0} ms",
            "",
            rounds.join(", "),
            (p50.as_secs_f64() / plain_p50.as_secs_f64() - 1.0) * 100.0,
            t.ok,
            t.failed,
            t.probed,
            t.idle_with_locks_ms
        );
    }
    println!(
        "(committed: rows in the log; rolled back: transactions begun but not committed; open: sessions idle in \
         transaction after the round's detached exits ended (the most over the rounds); lock outlived: the longest a \
         hung-up request's own row was still locked after the hang-up (probed with FOR UPDATE NOWAIT); dirty: pooled \
         connections found inside a transaction when acquired; detached: spawned/completed/failed/timed out/abandoned; \
         {:.1} s)",
        elapsed.as_secs_f64()
    );

    // Shutdown under load: all three routes, then a graceful shutdown with
    // requests in flight, then the runtime is dropped; then the same on a
    // fresh server dropped without a graceful shutdown.
    let first = 3 * (WARM_UP + args.requests) + 1;
    shutdown_under_load(
        &args,
        &client,
        &url,
        server,
        addr,
        Some((shutdown, served)),
        first,
    );
    let (server, addr, _shutdown, _served) = start_server(&url, &counts);
    shutdown_under_load(
        &args,
        &client,
        &url,
        server,
        addr,
        None,
        first + 100_000_000,
    );
}

type Server = (
    tokio::runtime::Runtime,
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
);

/// The three routes on 127.0.0.1, served on a runtime of their own (two
/// workers), with a graceful shutdown signal.
fn start_server(url: &str, counts: &[Arc<Counts>]) -> Server {
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (shutdown, shutdown_signal) = tokio::sync::oneshot::channel::<()>();
    let (addr, served) = server.block_on(async {
        let mut pools = Vec::new();
        for (route, counts) in ROUTES.iter().zip(counts) {
            pools.push(pool(url, route, counts.clone()).await);
        }
        let app = Arc::new(App {
            pools,
            counts: counts.to_vec(),
        });
        let router = Router::new()
            .route("/generator/{request}", get(generator_route))
            .route("/pool_transaction/{request}", get(pool_transaction_route))
            .route("/plain_sqlx/{request}", get(plain_sqlx_route))
            .with_state(app);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = shutdown_signal.await;
                })
                .await
                .unwrap()
        });
        (addr, served)
    });
    (server, addr, shutdown, served)
}

/// Load on all three routes (hang-ups included) for 500 ms, then, with
/// `graceful`, axum's graceful shutdown (bounded, 10 s), then the server's
/// runtime is dropped, with no `wait_for_cancelled_exits` on purpose: what
/// it drops is reported as abandoned. Then the server is asked what was
/// left.
fn shutdown_under_load(
    args: &Args,
    client: &tokio::runtime::Runtime,
    url: &str,
    server: tokio::runtime::Runtime,
    addr: SocketAddr,
    graceful: Option<(
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    )>,
    first: u64,
) {
    let before = cancelled_exits();
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    let how = client.block_on(async {
        for (r, route) in ROUTES.into_iter().enumerate() {
            load.push(tokio::spawn(drive(
                Drive {
                    addr,
                    route,
                    first: first + 10_000_000 * r as u64,
                    n: u64::MAX,
                    concurrency: args.concurrency / 3 + 1,
                    hang_up: args.hang_up,
                    max_delay: Duration::from_millis(5),
                    seed: args.seed ^ 0xFEED,
                },
                stop.clone(),
                None,
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        match graceful {
            Some((shutdown, served)) => {
                let signalled = Instant::now();
                let _ = shutdown.send(());
                let ended = tokio::time::timeout(Duration::from_secs(10), served).await;
                format!(
                    "graceful shutdown {} in {:.0} ms, detached exits then in flight: {}; then the runtime dropped",
                    if ended.is_ok() { "finished" } else { "timed out" },
                    signalled.elapsed().as_secs_f64() * 1e3,
                    cancelled_exits().in_flight
                )
            }
            None => format!(
                "runtime dropped with requests in flight, no graceful shutdown (detached exits in flight: {})",
                cancelled_exits().in_flight
            ),
        }
    });
    drop(server);
    let after = cancelled_exits();
    let [spawned, completed, failed, timed_out, abandoned] = delta(after, before);
    let (sent, open, sessions) = client.block_on(async {
        stop.store(true, Relaxed);
        let mut sent = 0;
        for task in load {
            sent += task.await.unwrap().sent;
        }
        let mut stats = PgConnection::connect_with(&options(url, "pg_load_stats")).await.unwrap();
        // The server notices the closed connections.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let row = sqlx::raw_sql(
            "SELECT count(*) FILTER (WHERE state LIKE 'idle in transaction%'), count(*)
             FROM pg_stat_activity WHERE application_name IN ('pg_load_generator', 'pg_load_pool_transaction', 'pg_load_plain_sqlx')",
        )
        .fetch_one(&mut stats)
        .await
        .unwrap();
        (sent, row.get::<i64, _>(0), row.get::<i64, _>(1))
    });
    println!(
        "\nshutdown under load: {sent} requests sent; {how}; detached exits during the phase: spawned {spawned}, \
         completed {completed}, failed {failed}, timed out {timed_out}, abandoned {abandoned} (all accounted for: {}); \
         after the runtime was dropped: {open} sessions idle in transaction, {sessions} sessions of the pools left",
        spawned == completed + failed + timed_out + abandoned,
    );
}
