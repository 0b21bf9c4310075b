#!/usr/bin/env bash
# Compatibility tests with the stock redis tools (redis-cli, redis-benchmark) against a
# real shoal-server. Usage: tests/compat/redis_cli.sh [server-binary]
#   default binary: $SHOAL_SERVER or target/release/shoal-server
#   REFERENCE=1 runs the same checks against /usr/bin/redis-server (to check the checks).
# Starts its own server on a free port and kills it (by PID) on exit.
set -uo pipefail
cd "$(dirname "$0")/../.."

BIN=${1:-${SHOAL_SERVER:-target/release/shoal-server}}
if [[ ${REFERENCE:-0} == 1 ]]; then BIN=/usr/bin/redis-server; fi
for tool in redis-cli redis-benchmark; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed"; exit 1; }
done
[[ -x $BIN ]] || { echo "FAIL: $BIN not found (cargo build --release)"; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

PASS=0
FAIL=0
SERVER_PID=
LOG=$(mktemp)
cleanup() {
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
    rm -f "$LOG"
}
trap cleanup EXIT

start_server() {
    for _ in 1 2 3; do
        PORT=$(free_port)
        "$BIN" --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no "$@" >"$LOG" 2>&1 &
        SERVER_PID=$!
        for _ in $(seq 100); do
            if redis-cli -p "$PORT" ping >/dev/null 2>&1; then return 0; fi
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
    done
    echo "FAIL: $BIN did not start:"; cat "$LOG"; exit 1
}

# check NAME EXPECTED ACTUAL
check() {
    if [[ "$2" == "$3" ]]; then
        PASS=$((PASS + 1)); echo "ok   $1"
    else
        FAIL=$((FAIL + 1)); echo "FAIL $1"; echo "  expected: $(printf '%q' "$2")"; echo "  got:      $(printf '%q' "$3")"
    fi
}

start_server
P=$PORT
cli() { timeout 20 redis-cli -p "$P" "$@" 2>&1; }

check "ping" "PONG" "$(cli ping)"
check "ping with argument" "hello" "$(cli ping hello)"
check "set" "OK" "$(cli set k v)"
check "get (raw, not a tty)" "v" "$(cli get k)"
check "--raw get" "v" "$(cli --raw get k)"
check "--no-raw get" '"v"' "$(cli --no-raw get k)"
check "--no-raw get missing" "(nil)" "$(cli --no-raw get missing)"
check "-r 3 incr" $'1\n2\n3' "$(cli -r 3 incr c)"
check "--no-raw incr" "(integer) 4" "$(cli --no-raw incr c)"
check "error reply" "ERR unknown command 'nosuch', with args beginning with: 'a' " "$(cli nosuch a)"
check "--no-raw error reply" "(error) ERR wrong number of arguments for 'get' command" "$(cli --no-raw get)"
check "-n 2 select" "OK" "$(cli -n 2 set indb2 yes)"
check "-n 2 get" "yes" "$(cli -n 2 get indb2)"
check "db 0 does not see db 2" "" "$(cli get indb2)"
check "quoted argument" "OK" "$(cli set spaced 'a b  c')"
check "get quoted" "a b  c" "$(cli get spaced)"
printf 'binary\x00\x01\xff' >"$LOG.bin"
check "-x set from stdin" "OK" "$(cli -x set bin <"$LOG.bin")"
check "-x round trip" "$(od -An -tx1 <"$LOG.bin")" "$(redis-cli -p "$P" --raw get bin | head -c 9 | od -An -tx1)"
rm -f "$LOG.bin"
check "--no-raw multi-bulk" $'1) "a b  c"\n2) (nil)' "$(cli --no-raw mget spaced nonexisting)"
check "-3 hello proto" "proto 3" "$(cli -3 hello 3 | grep '^proto ')"
check "commands from stdin" $'OK\n1\nPONG' "$(printf 'set fromstdin 1\nget fromstdin\nping\n' | cli)"
check "eval-free multi/exec from stdin" $'OK\nQUEUED\nQUEUED\nOK\n2' "$(printf 'multi\nset tx 1\nincr tx\nexec\n' | cli)"

# --pipe (mass insertion, RESP on stdin).
gen() { for i in $(seq 1 500); do printf '*3\r\n$3\r\nSET\r\n$%d\r\nmass:%d\r\n$1\r\nv\r\n' $((5 + ${#i})) "$i"; done; }
out=$(gen | timeout 30 redis-cli -p "$P" --pipe 2>&1)
check "--pipe mass insertion" "errors: 0, replies: 500" "$(echo "$out" | tail -1)"
check "--pipe data" "v" "$(cli get mass:500)"

# Inline protocol on a plain TCP socket (bash /dev/tcp, no nc needed).
inline() {
    exec 3<>"/dev/tcp/127.0.0.1/$P" || return 1
    printf '%b' "$1" >&3
    timeout 2 cat <&3 | head -c "$2"
    exec 3<&- 3>&-
}
check "inline PING" $'+PONG\r' "$(inline 'PING\r\n' 7)"
check "inline pipelined" $'+OK\r\n$1\r\n2\r' "$(inline 'SET inl 2\r\nGET inl\r\n' 14)"
check "inline quoted" $'$3\r\na b\r' "$(inline 'ECHO "a b"\r\n' 11)"
check "inline protocol error" "-ERR Protocol error: invalid multibulk length" "$(inline '*x\r\n' 200 | tr -d '\r\n')"
check "inline QUIT" $'+OK\r' "$(inline 'QUIT\r\n' 100)"

# redis-benchmark runs to the end with the usual tests.
out=$(timeout 120 redis-benchmark -p "$P" -t set,get -n 1000 -q 2>&1)
rc=$?
check "redis-benchmark exit status" "0" "$rc"
check "redis-benchmark SET line" "1" "$(echo "$out" | tr '\r' '\n' | grep -c '^SET: .* requests per second')"
check "redis-benchmark GET line" "1" "$(echo "$out" | tr '\r' '\n' | grep -c '^GET: .* requests per second')"
out=$(timeout 120 redis-benchmark -p "$P" -t set,get,incr -n 2000 -P 16 -c 20 -q 2>&1)
rc=$?
check "redis-benchmark pipelined (-P 16 -c 20)" "0" "$rc"
check "server still answers after the benchmark" "PONG" "$(cli ping)"
if [[ $FAIL -ne 0 ]]; then echo "--- server log ---"; tail -20 "$LOG"; fi

echo "redis_cli.sh ($BIN): $PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
