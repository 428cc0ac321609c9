#!/usr/bin/env bash
# A throwaway PostgreSQL server for the integration tests and the load run.
#
#   scripts/postgres.sh start   # creates and starts it, prints its URL
#   scripts/postgres.sh url     # prints the URL of the running server
#   scripts/postgres.sh stop    # stops it and removes its data
#
# The cluster lives in a fresh temporary directory (initdb, trust
# authentication, fsync off), listens on 127.0.0.1 on a free port (its unix
# socket, if any, in the same directory), and is run by a non-root user:
# initdb refuses root, so as root the script runs it as the system user
# `asyncwith` (created if missing). Where it lives (data directory, port,
# user) is kept in target/postgres/state, so that `url` and `stop` find it.
# If no PostgreSQL is installed, `start` installs the distribution's
# (`apt-get install -y postgresql`).
set -euo pipefail
cd "$(dirname "$0")/.."

STATE_DIR="$PWD/target/postgres"
STATE="$STATE_DIR/state"
SERVICE_USER="asyncwith"

die() {
    echo "postgres.sh: $*" >&2
    exit 1
}

# The directory holding initdb and pg_ctl: PATH first, then Debian's layout,
# then the distribution's package.
find_bindir() {
    local dir
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return
        fi
    done
    return 1
}

bindir() {
    local dir
    if dir="$(find_bindir)"; then
        echo "$dir"
        return
    fi
    [[ "$(id -u)" == 0 ]] || die "PostgreSQL is not installed (initdb, pg_ctl); install your distribution's postgresql package"
    echo "postgres.sh: installing PostgreSQL (apt-get install -y postgresql)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2 ||
        { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2; }
    find_bindir || die "no initdb/pg_ctl after installing postgresql"
}

# Who runs the server: the current user, or `asyncwith` when root.
server_user() {
    if [[ "$(id -u)" != 0 ]]; then
        id -un
        return
    fi
    if ! id "$SERVICE_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER" >&2 ||
            die "could not create the system user $SERVICE_USER"
    fi
    echo "$SERVICE_USER"
}

# Runs a command as the server's user.
as_user() {
    local user="$1"
    shift
    if [[ "$(id -un)" == "$user" ]]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$user" -- "$@"
    else
        su -s /bin/sh "$user" -c "$(printf '%q ' "$@")"
    fi
}

# A port on 127.0.0.1 that nothing listens on (pg_ctl start fails, and we
# try another, if someone takes it in between).
free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    die "no free port found"
}

load_state() {
    [[ -f "$STATE" ]] || return 1
    # shellcheck disable=SC1090
    source "$STATE"
}

running() {
    load_state || return 1
    as_user "$PGUSER_NAME" "$PGBIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

url() {
    echo "postgres://$PGUSER_NAME@127.0.0.1:$PGPORT/postgres"
}

start() {
    if running; then
        url
        return
    fi
    # A stale state file (the server died, the machine rebooted): start over.
    [[ -f "$STATE" ]] && stop >/dev/null 2>&1 || true
    local bin user tmp port
    bin="$(bindir)"
    user="$(server_user)"
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/async-with-pg.XXXXXX")"
    chmod 0700 "$tmp"
    chown "$user" "$tmp"
    as_user "$user" "$bin/initdb" -D "$tmp/data" -U "$user" --auth=trust -E UTF8 \
        --no-sync >"$tmp/initdb.log" 2>&1 ||
        { cat "$tmp/initdb.log" >&2; rm -rf "$tmp"; die "initdb failed"; }
    mkdir -p "$STATE_DIR"
    for attempt in 1 2 3 4 5; do
        port="$(free_port)"
        if as_user "$user" "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 30 \
            -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
            start >"$tmp/pg_ctl.log" 2>&1; then
            cat >"$STATE" <<EOF
PGBIN='$bin'
PGUSER_NAME='$user'
PGTMP_DIR='$tmp'
PGDATA_DIR='$tmp/data'
PGPORT='$port'
PGPID='$(head -1 "$tmp/data/postmaster.pid")'
EOF
            load_state
            url
            return
        fi
        echo "postgres.sh: start on port $port failed (attempt $attempt)" >&2
    done
    cat "$tmp/pg_ctl.log" "$tmp/server.log" >&2 || true
    rm -rf "$tmp"
    die "could not start PostgreSQL"
}

stop() {
    load_state || return 0
    as_user "$PGUSER_NAME" "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        { [[ -n "${PGPID:-}" ]] && kill "$PGPID" 2>/dev/null || true; }
    [[ -n "${PGTMP_DIR:-}" && "$PGTMP_DIR" == */async-with-pg.* ]] && rm -rf "$PGTMP_DIR"
    rm -f "$STATE"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
url)
    running || die "no server running; start one with scripts/postgres.sh start"
    url
    ;;
*)
    echo "usage: $0 start|stop|url" >&2
    exit 2
    ;;
esac
