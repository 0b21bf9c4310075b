#!/usr/bin/env bash
# Cluster formation time and idle cost at scale (not part of scripts/test.sh).
#
#   scripts/cluster_scale.sh [--nodes N] [--base PORT] [--idle SECONDS] [--node-timeout MS] [--ref] [--hold S] [BIN]
#
# Starts N (default 24) masters of BIN (default target/release/shoal-server) on 127.0.0.1 ports
# BASE..BASE+N-1 (bus ports +10000; default BASE 7420), forms the cluster with
# `redis-cli --cluster create`, and measures:
#   create_s    how long `redis-cli --cluster create` ran (it MEETs, assigns slots, waits for join)
#   converge_s  from the start of create until every node reports cluster_state:ok and all nodes
#               agree on CLUSTER NODES (ids, addresses, roles, epochs, slots)
# then, after a 5 s settle, over IDLE seconds (default 20) with no clients:
#   msgs/node/s     cluster bus messages sent per node per second (CLUSTER INFO cluster_stats_messages_sent)
#   bus_B/node/s    bus bytes sent per node per second (kernel TCP counters of every socket on a bus
#                   port: `ss -ti` bytes_sent, attributed to the owning process)
#   cpu_ms/node/s   CPU time (user+sys, all threads, /proc/PID/stat) per node per second; avg and max
# --ref also measures redis-server (on BASE+N+5.., or REF_BIN) for comparison.
# --hold S keeps each cluster running S more seconds after its measurement (prints the PIDs), e.g.
# for `perf record -g -p PID` or /proc/PID/task/*/stat on an idle node.
# Prints one table row per implementation. Servers are killed by PID on exit.
set -uo pipefail
cd "$(dirname "$0")/.."

N=24; BASE=7420; IDLE=20; TIMEOUT=15000; REF=0; HOLD=0; BIN=target/release/shoal-server
while [[ $# -gt 0 ]]; do
    case $1 in
        --nodes) N=$2; shift 2 ;;
        --base) BASE=$2; shift 2 ;;
        --idle) IDLE=$2; shift 2 ;;
        --node-timeout) TIMEOUT=$2; shift 2 ;;
        --ref) REF=1; shift ;;
        --hold) HOLD=$2; shift 2 ;;
        -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
        *) BIN=$1; shift ;;
    esac
done
REF_BIN=${REF_BIN:-$(command -v redis-server || echo /usr/bin/redis-server)}
for t in redis-cli ss python3; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 2; }; done
[[ -x $BIN ]] || { echo "not executable: $BIN (cargo build --release -p shoal-server)" >&2; exit 2; }

export N BASE IDLE TIMEOUT REF HOLD BIN REF_BIN
exec python3 - <<'PY'
import os, re, shutil, signal, subprocess, sys, tempfile, time

N, BASE, IDLE, TIMEOUT, HOLD = (int(os.environ[k]) for k in ("N", "BASE", "IDLE", "TIMEOUT", "HOLD"))
BIN, REF_BIN, REF = os.path.abspath(os.environ["BIN"]), os.environ["REF_BIN"], os.environ["REF"] == "1"
TCK = os.sysconf("SC_CLK_TCK")
procs = []
work = tempfile.mkdtemp(prefix="shoal-cluster-scale-")


def cleanup(*_):
    for p in procs:
        try:
            p.kill()  # by PID
            p.wait()
        except Exception:
            pass
    procs.clear()
    shutil.rmtree(work, ignore_errors=True)


signal.signal(signal.SIGTERM, lambda *a: (cleanup(), sys.exit(1)))
signal.signal(signal.SIGINT, lambda *a: (cleanup(), sys.exit(1)))


def cli(port, *args, timeout=10):
    r = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=timeout)
    return r.stdout


def start(binary, port):
    d = os.path.join(work, str(port))
    os.makedirs(d)
    log = open(os.path.join(d, "log.txt"), "wb")
    p = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                          "--cluster-enabled", "yes", "--cluster-node-timeout", str(TIMEOUT), "--dir", d],
                         cwd=d, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    procs.append(p)
    for _ in range(200):
        if cli(port, "PING").strip() == "PONG":
            return p
        time.sleep(0.05)
    raise SystemExit(f"{binary} did not start on {port}")


def view(port):
    out = cli(port, "CLUSTER", "NODES")
    rows = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) < 8:
            continue
        flags = ",".join(sorted(x for x in f[2].split(",") if x not in ("myself",)))
        rows.add((f[0], f[1].split("@")[0], flags, f[3], f[6], f[7], " ".join(f[8:])))
    return frozenset(rows)


def info(port):
    return dict(l.split(":", 1) for l in cli(port, "CLUSTER", "INFO").splitlines() if ":" in l)


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def bus_bytes(pids, lo, hi):
    """bytes_sent per owning PID over all TCP sockets whose local or peer port is a bus port."""
    out = subprocess.run(["ss", "-tinpH", "state", "established"], capture_output=True, text=True).stdout
    per = {p: 0 for p in pids}
    cur = None
    for line in out.splitlines():
        if line[:1].strip():  # socket line: Recv-Q Send-Q Local Peer users:((...pid=N...))
            f = line.split()
            m = re.search(r"pid=(\d+)", line)
            cur = None
            if len(f) >= 4 and m:
                lp, pp = int(f[2].rsplit(":", 1)[1]), int(f[3].rsplit(":", 1)[1])
                if lo <= lp < hi or lo <= pp < hi:
                    cur = int(m.group(1))
        elif cur in per:  # its tcp_info line
            m = re.search(r"bytes_sent:(\d+)", line)
            if m:
                per[cur] += int(m.group(1))
            cur = None
    return per


def measure(name, binary, base):
    ports = list(range(base, base + N))
    t = time.time()
    nodes = [start(binary, p) for p in ports]
    start_s = time.time() - t
    t0 = time.time()
    r = subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports], "--cluster-yes"],
                       capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    create_s = time.time() - t0
    if "[OK] All 16384 slots covered." not in r.stdout:
        print(r.stdout[-3000:], r.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"{name}: cluster create failed")
    while True:
        ok = all(info(p).get("cluster_state", "").strip() == "ok" for p in ports)
        if ok:
            views = {view(p) for p in ports}
            if len(views) == 1 and len(next(iter(views))) == N:
                break
        if time.time() - t0 > 300:
            raise SystemExit(f"{name}: no convergence within 300 s")
        time.sleep(0.05)
    converge_s = time.time() - t0
    time.sleep(5)
    pids = [p.pid for p in nodes]
    lo, hi = base + 10000, base + 10000 + N
    m0 = [int(info(p)["cluster_stats_messages_sent"]) for p in ports]
    b0 = bus_bytes(pids, lo, hi)
    c0 = [cpu_ticks(pid) for pid in pids]
    w0 = time.time()
    time.sleep(IDLE)
    c1 = [cpu_ticks(pid) for pid in pids]
    w1 = time.time()
    b1 = bus_bytes(pids, lo, hi)
    m1 = [int(info(p)["cluster_stats_messages_sent"]) for p in ports]
    dt = w1 - w0
    msgs = [(b - a) / dt for a, b in zip(m0, m1)]
    # A socket that closed meanwhile loses its count; a new one counts from zero, so clamp at 0.
    bus = [max(0, b1[p] - b0[p]) / dt for p in pids]
    cpu = [(b - a) * 1000 / TCK / dt for a, b in zip(c0, c1)]
    rss = []
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            rss.append(int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024)
    if HOLD:
        print(f"{name}: holding {HOLD} s; PIDs (port {base}..): {' '.join(str(p) for p in pids)}", flush=True)
        time.sleep(HOLD)
    for p in nodes:
        p.kill()
        p.wait()
        procs.remove(p)
    avg = lambda xs: sum(xs) / len(xs)
    return dict(name=name, start_s=start_s, create_s=create_s, converge_s=converge_s, msgs=avg(msgs), msgs_max=max(msgs),
                bus=avg(bus), bus_max=max(bus), cpu=avg(cpu), cpu_max=max(cpu), rss=avg(rss))


try:
    rows = [measure("shoal", BIN, BASE)]
    if REF:
        rows.append(measure("redis-server", REF_BIN, BASE + N + 5))
finally:
    cleanup()

print(f"\n{N} masters on 127.0.0.1, cluster-node-timeout {TIMEOUT} ms, idle window {IDLE} s, {os.cpu_count()} CPUs")
hdr = ("impl", "create_s", "converge_s", "msgs/node/s", "(max)", "bus_B/node/s", "(max)", "cpu_ms/node/s", "(max)", "rss_MiB")
print("%-13s %9s %11s %12s %7s %13s %9s %14s %7s %8s" % hdr)
for r in rows:
    print("%-13s %9.2f %11.2f %12.2f %7.2f %13.0f %9.0f %14.3f %7.3f %8.1f" % (
        r["name"], r["create_s"], r["converge_s"], r["msgs"], r["msgs_max"], r["bus"], r["bus_max"], r["cpu"], r["cpu_max"], r["rss"]))
PY
