#!/usr/bin/env bash
# The PostgreSQL load and fault run (issue 25): starts a throwaway server
# (scripts/postgres.sh), runs integrations/examples/pg_load.rs against it
# (release build, loopback only), and stops the server on every way out.
# Arguments go to the binary: `scripts/pg_load.sh --requests 2000`.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p async-with-integrations --example pg_load
trap 'scripts/postgres.sh stop' EXIT
DATABASE_URL="$(scripts/postgres.sh start)"
export DATABASE_URL
target/release/examples/pg_load "$@"
