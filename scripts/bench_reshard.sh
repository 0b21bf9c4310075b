#!/usr/bin/env bash
# Live resharding throughput, Shoal vs redis-server, side by side:
#   1. keys/s moved by `redis-cli --cluster reshard` of N keys (16-byte values) between two
#      masters (node A owns slots 0-8191 and every key, node B owns 8192-16383; all of A's slots
#      move to B);
#   2. GET latency (p50/p99/max, µs) on a slot that does not move while a hash of F fields is
#      MIGRATEd between the two masters (MIGRATE blocks the source, in Redis as in Shoal).
#
#   scripts/bench_reshard.sh [keys=200000] [hash_fields=1000000]
#
# Ports: BASE_PORT (default 7350) .. +7, cluster bus ports +10000. Only processes started here
# are stopped (by PID).
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${1:-200000}
FIELDS=${2:-1000000}
BASE=${BASE_PORT:-7350}
SHOAL=${SHOAL_BIN:-target/release/shoal-server}
REDIS=${REDIS_BIN:-/usr/bin/redis-server}
CLI=${REDIS_CLI:-/usr/bin/redis-cli}
PY=${PYTHON:-python3}
[[ -x $SHOAL ]] || cargo build --release -p shoal-server
SHOAL=$(realpath "$SHOAL")
WORK=$(mktemp -d /tmp/bench-reshard.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

start_node() { # bin port
    mkdir -p "$WORK/$2"
    (cd "$WORK/$2" && exec "$1" --port "$2" --bind 127.0.0.1 --save "" --appendonly no \
        --cluster-enabled yes --cluster-node-timeout 5000 >log.txt 2>&1) &
    PIDS+=($!)
    for _ in $(seq 100); do "$CLI" -p "$2" ping >/dev/null 2>&1 && return; sleep 0.05; done
    echo "node $2 did not start:" >&2; cat "$WORK/$2/log.txt" >&2; exit 1
}

wait_ok() {
    for _ in $(seq 200); do
        if "$CLI" -p "$1" cluster info | grep -q cluster_state:ok && "$CLI" -p "$2" cluster info | grep -q cluster_state:ok &&
            [[ $("$CLI" -p "$1" cluster nodes | grep -c connected) == 2 ]]; then return; fi
        sleep 0.1
    done
    echo "cluster not ok" >&2; exit 1
}

# Two masters: A = 0-8191, B = 8192-16383.
setup() { # bin portA portB
    start_node "$1" "$2"; start_node "$1" "$3"
    "$CLI" -p "$2" cluster addslotsrange 0 8191 >/dev/null
    "$CLI" -p "$3" cluster addslotsrange 8192 16383 >/dev/null
    "$CLI" -p "$2" cluster meet 127.0.0.1 "$3" >/dev/null
    wait_ok "$2" "$3"
}

load_keys() { # port n : keys whose slot is < 8192, 16-byte values, through redis-cli --pipe
    "$PY" - "$2" <<'EOF' | "$CLI" -p "$1" --pipe >/dev/null
import sys, binascii
n = int(sys.argv[1]); out = sys.stdout.buffer; i = 0; done = 0
while done < n:
    k = b"key:%d" % i; i += 1
    if binascii.crc_hqx(k, 0) % 16384 >= 8192: continue
    v = b"%016d" % done; done += 1
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$16\r\n%s\r\n" % (len(k), k, v))
EOF
}

now() { date +%s.%N; }

bench_reshard() { # label bin portA portB (a fresh two-master cluster)
    setup "$2" "$3" "$4"
    load_keys "$3" "$KEYS"
    local n; n=$("$CLI" -p "$3" dbsize)
    local a b; a=$("$CLI" -p "$3" cluster myid); b=$("$CLI" -p "$4" cluster myid)
    local t0 t1; t0=$(now)
    "$CLI" --cluster reshard "127.0.0.1:$3" --cluster-from "$a" --cluster-to "$b" --cluster-slots 8192 --cluster-yes >"$WORK/reshard-$1.txt" 2>&1
    t1=$(now)
    local left moved; left=$("$CLI" -p "$3" dbsize); moved=$("$CLI" -p "$4" dbsize)
    "$PY" -c "
t=$t1-$t0
print('%-6s reshard: %d keys (8192 slots) in %.2f s = %.0f keys/s; left on source %d, on target %d' % ('$1', $n, t, $n/t, $left, $moved))"
}

bench_bighash() { # label bin portA portB (a fresh two-master cluster): the hash moves B -> A
    setup "$2" "$3" "$4"
    local src=$4 dst=$3
    local key="bighash" slot; slot=$("$CLI" -p "$src" cluster keyslot $key)
    "$PY" - "$src" "$FIELDS" <<'EOF' | "$CLI" -p "$src" --pipe >/dev/null
import sys
n = int(sys.argv[2]); out = sys.stdout.buffer
for i in range(0, n, 1000):
    args = [b"HSET", b"bighash"]
    for j in range(i, min(n, i + 1000)):
        args += [b"f%d" % j, b"v%d" % j]
    out.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
EOF
    "$CLI" -p "$src" set probe:1 x >/dev/null
    local sid did; sid=$("$CLI" -p "$src" cluster myid); did=$("$CLI" -p "$dst" cluster myid)
    echo "$1 slot $slot: importing $("$CLI" -p "$dst" cluster setslot "$slot" importing "$sid"), migrating $("$CLI" -p "$src" cluster setslot "$slot" migrating "$did")"
    echo 0 >"/dev/shm/bench-reshard-stop-$src"
    # A probe client GETs another key (probe:1, slot 16021) on the source every ms while the hash moves.
    "$PY" - "$src" >"$WORK/lat-$1.txt" <<'EOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
lat = []; end = time.time() + 60
while time.time() < end:
    t = time.perf_counter(); s.sendall(b"*2\r\n$3\r\nGET\r\n$7\r\nprobe:1\r\n"); s.recv(100); lat.append(time.perf_counter() - t)
    if len(lat) > 50 and open("/dev/shm/bench-reshard-stop-%s" % sys.argv[1]).read().strip() == "1": break
    time.sleep(0.001)
lat.sort(); q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1e6
print("%d GETs p50 %.0f us p99 %.0f us max %.0f us" % (len(lat), q(0.5), q(0.99), lat[-1] * 1e6))
EOF
    local probe=$!
    sleep 0.5
    local t0 t1 r; t0=$(now)
    r=$("$CLI" -p "$src" migrate 127.0.0.1 "$dst" "" 0 60000 keys $key)
    t1=$(now)
    sleep 0.5
    echo 1 >"/dev/shm/bench-reshard-stop-$src"
    wait $probe || true
    rm -f "/dev/shm/bench-reshard-stop-$src"
    "$PY" -c "print('%-6s MIGRATE of a %d-field hash: %s in %.2f s' % ('$1', $FIELDS, '$r', $t1-$t0))"
    echo "$1 GET on the source meanwhile: $(cat "$WORK/lat-$1.txt")"
}

stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; PIDS=(); }

echo "N=$KEYS keys, hash of $FIELDS fields, $(nproc) CPUs"
bench_reshard redis "$REDIS" "$BASE" $((BASE + 1)); stop_all
bench_reshard shoal "$SHOAL" $((BASE + 2)) $((BASE + 3)); stop_all
bench_bighash redis "$REDIS" $((BASE + 4)) $((BASE + 5)); stop_all
bench_bighash shoal "$SHOAL" $((BASE + 6)) $((BASE + 7)); stop_all
