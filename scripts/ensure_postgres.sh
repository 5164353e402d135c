#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:${PGPORT:-5432} for the test suite.
# Uses one that already runs; otherwise (as root, or when CI=true) installs Debian's postgresql,
# creates a cluster if needed, allows trust auth from 127.0.0.1 (a throwaway test server only) and
# starts it. Exits non-zero, with a message, when it cannot.
set -euo pipefail
PORT="${PGPORT:-5432}"
CLUSTER="${PCN_PG_CLUSTER:-main}"

answers() {
    python3 - "$PORT" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
}

if answers; then exit 0; fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
if [ "$(id -u)" != 0 ] && [ "${CI:-}" != "true" ]; then
    echo "ensure_postgres: nothing answers on 127.0.0.1:$PORT and not root/CI: start PostgreSQL" >&2
    exit 1
fi

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "ensure_postgres: installing Debian's postgresql" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
fi
VERSION="$(ls /usr/lib/postgresql | sort -V | tail -1)"

if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "$VERSION $CLUSTER"; then
    as_root pg_createcluster "$VERSION" "$CLUSTER" --port "$PORT" >/dev/null
fi
HBA="/etc/postgresql/$VERSION/$CLUSTER/pg_hba.conf"
if ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$HBA"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust' "$HBA"
    as_root sed -i '1i local all postgres trust' "$HBA"
fi
as_root pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$CLUSTER" start || true

for _ in $(seq 1 60); do
    if answers; then
        psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
            "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
            || psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qc "CREATE DATABASE test"
        exit 0
    fi
    sleep 0.5
done
echo "ensure_postgres: PostgreSQL $VERSION/$CLUSTER did not start on port $PORT" >&2
exit 1
