#!/usr/bin/env bash
# Memory of small collections, Shoal vs redis-server side by side: loads N (default 100000)
# hashes, sets, sorted sets and lists of 10 small elements each into a fresh server of each
# kind and prints the growth of resident memory (RSS) and of INFO used_memory, in MiB.
# Usage: scripts/bench_mem_collections.sh [SHOAL_BIN] [N]
set -u
OURS=$(realpath "${1:-target/release/shoal-server}")
N=${2:-100000}
REF=$(command -v redis-server)
WORK=$(mktemp -d /tmp/shoal-membench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start() { # BIN PORT
  ( cd "$WORK" && exec "$1" --port "$2" --bind 127.0.0.1 --save "" --appendonly no ) >"$WORK/$2.log" 2>&1 &
  PIDS+=($!); echo $! >"$WORK/$2.pid"
  for _ in $(seq 100); do [ "$(redis-cli -p "$2" ping 2>/dev/null)" = PONG ] && return 0; sleep 0.1; done
  echo "server $1 did not start" >&2; exit 1
}
rss() { awk '/VmRSS/ {print $2}' "/proc/$(cat "$WORK/$1.pid")/status"; }
used() { redis-cli -p "$1" info memory | awk -F: '/^used_memory:/ {print $2+0}'; }
gen() { # TYPE -> RESP commands on stdout
  python3 - "$1" "$N" <<'PY'
import sys
t, n = sys.argv[1], int(sys.argv[2])
out = sys.stdout.buffer
def cmd(*a):
    out.write(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a))
for i in range(n):
    k = b"%s:%d" % (t.encode(), i)
    if t == "hash":
        cmd(b"HSET", k, *[x for f in range(10) for x in (b"field%d" % f, b"value%d" % (i + f))])
    elif t == "set":
        cmd(b"SADD", k, *[b"member:%d" % (i + f) for f in range(10)])
    elif t == "zset":
        cmd(b"ZADD", k, *[x for f in range(10) for x in (b"%d" % f, b"member:%d" % (i + f))])
    elif t == "list":
        cmd(b"RPUSH", k, *[b"element:%d" % (i + f) for f in range(10)])
PY
}
printf '%-6s %12s %12s %7s %14s %14s %7s\n' type rss_ours rss_ref ratio used_ours used_ref ratio
for t in hash set zset list; do
  po=$(port); start "$OURS" "$po"; pr=$(port); start "$REF" "$pr"
  ro0=$(rss "$po"); rr0=$(rss "$pr"); uo0=$(used "$po"); ur0=$(used "$pr")
  gen "$t" >"$WORK/$t.resp"
  redis-cli -p "$po" --pipe <"$WORK/$t.resp" >/dev/null; redis-cli -p "$pr" --pipe <"$WORK/$t.resp" >/dev/null
  sleep 0.5
  ro=$(( $(rss "$po") - ro0 )); rr=$(( $(rss "$pr") - rr0 )); uo=$(( $(used "$po") - uo0 )); ur=$(( $(used "$pr") - ur0 ))
  awk -v t="$t" -v ro="$ro" -v rr="$rr" -v uo="$uo" -v ur="$ur" 'BEGIN {
    printf "%-6s %10.1fMiB %10.1fMiB %7.3f %12.1fMiB %12.1fMiB %7.3f\n", t, ro/1024, rr/1024, ro/rr, uo/1048576, ur/1048576, uo/ur }'
  kill "$(cat "$WORK/$po.pid")" "$(cat "$WORK/$pr.pid")"; sleep 0.3
done
