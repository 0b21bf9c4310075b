//! MIGRATE and live resharding, end to end.
//!
//! - `migrate_errors_match_redis`: the same MIGRATE sent to redis-server 7.0.15 and to Shoal, with
//!   the same targets (a real redis-server, a refused port, fake targets that stay silent, close
//!   the connection, stop half-way or answer overlong lines): byte-identical replies, the same
//!   keys left behind, the same errorstats, the same SELECT caching on the target.
//! - `migrate_every_type`: every data type and encoding moved Shoal -> Shoal, Shoal ->
//!   redis-server and redis-server -> Shoal (and redis -> redis as the control); the values read
//!   back equal; TTLs, COPY, REPLACE, KEYS, a target database, AUTH / AUTH2; the cached
//!   connection is closed after 10 s idle, as Redis does.
//! - `reshard_shoal_cluster_under_load`: 3 Shoal masters while a cluster client keeps writing and
//!   reading back: `redis-cli --cluster reshard` of 1000 slots, `rebalance`, `add-node` +
//!   `rebalance --cluster-use-empty-masters`, reshard away + `del-node`; then `--cluster check` is
//!   clean, every key reads back, no key is duplicated, and the client saw no error.
//! - `reshard_mixed_cluster_under_load`: the same reshard between redis-server and Shoal masters,
//!   both directions.
//! - `interrupted_migration_fixed`: the target is stopped (SIGSTOP) in the middle of a reshard and
//!   resumed (SIGCONT); the driver is killed in the middle of another; `redis-cli --cluster fix`
//!   closes the open slots; no key is lost. (Shoal keeps no data across a real restart yet, so a
//!   SIGKILLed target would lose what it had received, as a redis-server without persistence.)

mod common;

use common::{free_port, redis_available, RawConn, REDIS_SERVER};
use redis::cluster::{ClusterClientBuilder, ClusterConnection};
use redis::Commands;
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const REDIS_CLI: &str = "/usr/bin/redis-cli";

fn tools_available(test: &str) -> bool {
    redis_available(test) && Path::new(REDIS_CLI).exists()
}

// ------------------------------------------------------------------------------------ nodes

/// A server process (Shoal or redis-server) in its own temp dir, killed by PID when dropped.
struct Node {
    child: Option<Child>,
    bin: PathBuf,
    port: u16,
    cport: u16,
    dir: PathBuf,
    cluster: bool,
    extra: Vec<String>,
}

impl Node {
    fn shoal(tag: &str, cluster: bool, extra: &[&str]) -> Node {
        Node::new(Path::new(env!("CARGO_BIN_EXE_shoal-server")), tag, cluster, extra)
    }
    fn redis(tag: &str, cluster: bool, extra: &[&str]) -> Node {
        Node::new(Path::new(REDIS_SERVER), tag, cluster, extra)
    }
    fn new(bin: &Path, tag: &str, cluster: bool, extra: &[&str]) -> Node {
        let dir = std::env::temp_dir().join(format!("shoal-reshard-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let mut n = Node {
            child: None,
            bin: bin.to_path_buf(),
            port: free_port(),
            cport: free_port(),
            dir,
            cluster,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        n.spawn();
        n
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join("log.txt")).expect("log");
        let log2 = log.try_clone().expect("log");
        let mut cmd = Command::new(&self.bin);
        cmd.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        if self.cluster {
            cmd.args(["--cluster-enabled", "yes", "--cluster-node-timeout", "1000"]).args(["--cluster-port", &self.cport.to_string()]);
        }
        cmd.args(&self.extra).arg("--dir").arg(&self.dir).stdin(Stdio::null()).stdout(Stdio::from(log)).stderr(Stdio::from(log2));
        // SAFETY: prctl is async-signal-safe; the server dies with the test process.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        self.child = Some(cmd.spawn().expect("spawn server"));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut c) = RawConn::connect(self.port) {
                if c.cmd(&["PING"]).is_ok() {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "{} did not start:\n{}", self.bin.display(), self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn pid(&self) -> i32 {
        self.child.as_ref().map(|c| c.id() as i32).unwrap_or(0)
    }

    /// SIGSTOP / SIGCONT to this node's own PID.
    fn signal(&self, sig: i32) {
        let pid = self.pid();
        assert!(pid > 0);
        // SAFETY: plain kill(2) on the PID of a child we started.
        unsafe {
            libc::kill(pid, sig);
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log.txt")).unwrap_or_default()
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn cmd(&self, args: &[&str]) -> Vec<u8> {
        let mut c = RawConn::connect(self.port).expect("connect");
        c.cmd(args).expect("reply")
    }

    /// A bulk / simple / integer reply's text.
    fn text(&self, args: &[&str]) -> String {
        let raw = self.cmd(args);
        let s = String::from_utf8_lossy(&raw).into_owned();
        match s.find("\r\n") {
            Some(i) if s.starts_with('$') || s.starts_with('=') => s[i + 2..].trim_end_matches("\r\n").to_string(),
            _ => s.trim_start_matches([':', '+']).trim_end().to_string(),
        }
    }

    fn id(&self) -> String {
        self.text(&["CLUSTER", "MYID"])
    }

    fn dbsize(&self) -> u64 {
        self.text(&["DBSIZE"]).parse().unwrap_or_else(|_| panic!("DBSIZE of {}", self.addr()))
    }

    /// Number of slots this node owns according to its own CLUSTER NODES.
    fn slot_count(&self) -> usize {
        let nodes = self.text(&["CLUSTER", "NODES"]);
        let me = nodes.lines().find(|l| l.contains("myself")).unwrap_or_default().to_string();
        me.split(' ')
            .skip(8)
            .filter(|r| !r.starts_with('['))
            .map(|r| match r.split_once('-') {
                Some((a, b)) => b.parse::<usize>().unwrap_or(0) - a.parse::<usize>().unwrap_or(0) + 1,
                None => 1,
            })
            .sum()
    }

    fn redis_conn(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).and_then(|c| c.get_connection()).expect("redis connection")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = self.signal_cont_quiet();
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Node {
    fn signal_cont_quiet(&self) -> Option<()> {
        let pid = self.pid();
        if pid > 0 {
            // SAFETY: kill(2) on our own child's PID.
            unsafe {
                libc::kill(pid, libc::SIGCONT);
            }
        }
        Some(())
    }
}

fn redis_cli(args: &[&str]) -> (bool, String) {
    let out = Command::new(REDIS_CLI).args(args).stdin(Stdio::null()).output().expect("run redis-cli");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn create(nodes: &[&Node]) {
    let mut args = vec!["--cluster".to_string(), "create".to_string()];
    args.extend(nodes.iter().map(|n| n.addr()));
    args.push("--cluster-yes".into());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, out) = redis_cli(&a);
    assert!(ok && out.contains("[OK] All 16384 slots covered."), "cluster create failed:\n{out}");
    wait_clean(nodes[0]);
}

/// `--cluster check` output, when it is clean.
fn check_clean(n: &Node) -> Result<String, String> {
    let (ok, out) = redis_cli(&["--cluster", "check", &n.addr()]);
    let clean = ok
        && out.contains("[OK] All nodes agree about slots configuration.")
        && out.contains("[OK] All 16384 slots covered.")
        && !out.contains("[WARNING]")
        && !out.contains("[ERR]");
    if clean {
        Ok(out)
    } else {
        Err(out)
    }
}

/// Waits until `--cluster check` is clean and every node says cluster_state:ok.
fn wait_clean(n: &Node) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match check_clean(n) {
            Ok(out) => {
                let addrs: Vec<String> =
                    out.lines().filter_map(|l| l.strip_prefix("M: ").and_then(|r| r.split(' ').nth(1))).map(String::from).collect();
                let all_ok = addrs.iter().all(|a| {
                    let (_, info) = redis_cli(&["-h", "127.0.0.1", "-p", a.rsplit(':').next().unwrap_or("0"), "CLUSTER", "INFO"]);
                    info.contains("cluster_state:ok")
                });
                if all_ok {
                    return;
                }
            }
            Err(out) => assert!(Instant::now() < deadline, "--cluster check never became clean:\n{out}"),
        }
        assert!(Instant::now() < deadline, "cluster_state never ok on every node");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until every node lists `n` nodes, none of them in handshake or failing.
fn wait_members(nodes: &[&Node], n: usize) {
    wait_until(&format!("{n} known nodes everywhere"), Duration::from_secs(20), || {
        nodes.iter().all(|node| {
            let list = node.text(&["CLUSTER", "NODES"]);
            let lines: Vec<&str> = list.lines().filter(|l| !l.is_empty()).collect();
            lines.len() == n
                && lines.iter().all(|l| {
                    let f: Vec<&str> = l.split(' ').collect();
                    f.len() > 7 && f[7] == "connected" && !f[2].contains("handshake") && !f[2].contains("fail") && !f[2].contains("noaddr")
                })
        })
    });
}

fn cluster_conn(seed: &Node) -> ClusterConnection {
    let c = ClusterClientBuilder::new(vec![format!("redis://127.0.0.1:{}/", seed.port)])
        .retries(30)
        .min_retry_wait(10)
        .max_retry_wait(300)
        .build()
        .expect("cluster client");
    let conn = c.get_connection().expect("cluster connection");
    conn.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    conn
}

/// Writes `n` keys `{prefix}:{i}` (16-byte values) through a cluster connection, pipelined.
fn preload(seed: &Node, prefix: &str, n: usize) -> BTreeMap<String, String> {
    let mut con = cluster_conn(seed);
    let mut all = BTreeMap::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut p = redis::cluster::cluster_pipe();
        for i in chunk {
            let k = format!("{prefix}:{i}");
            let v = format!("{:016}", i);
            p.set(&k, &v).ignore();
            all.insert(k, v);
        }
        p.query::<()>(&mut con).expect("preload");
    }
    all
}

/// Every key reads back with its value; the masters hold exactly these keys (none twice).
fn verify(seed: &Node, masters: &[&Node], expected: &BTreeMap<String, String>) {
    let mut con = cluster_conn(seed);
    let keys: Vec<&String> = expected.keys().collect();
    for chunk in keys.chunks(500) {
        let mut p = redis::cluster::cluster_pipe();
        for k in chunk {
            p.get(*k);
        }
        let got: Vec<Option<String>> = p.query(&mut con).expect("read back");
        for (k, g) in chunk.iter().zip(got) {
            assert_eq!(g.as_ref(), expected.get(*k), "value of {k}");
        }
    }
    let total: u64 = masters.iter().map(|m| m.dbsize()).sum();
    assert_eq!(total, expected.len() as u64, "keys held by the masters (a key lost or held twice)");
}

/// A cluster client writing and reading back keys until stopped.
struct Load {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<(Vec<String>, BTreeMap<String, String>, u64)>,
}

fn start_load(seed: &Node, prefix: &str) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let url = format!("redis://127.0.0.1:{}/", seed.port);
    let prefix = prefix.to_string();
    let handle = std::thread::spawn(move || {
        let c = ClusterClientBuilder::new(vec![url]).retries(30).min_retry_wait(10).max_retry_wait(300).build().expect("client");
        let mut con = c.get_connection().expect("connection");
        let mut errors = Vec::new();
        let mut written: BTreeMap<String, String> = BTreeMap::new();
        let mut ops = 0u64;
        let mut i = 0u64;
        while !s.load(Ordering::Relaxed) {
            // 3000 keys spread over every slot, each overwritten now and then.
            let k = format!("{prefix}:{}", i % 3000);
            let v = format!("v{i}");
            match con.set::<_, _, ()>(&k, &v) {
                Ok(()) => {
                    written.insert(k.clone(), v.clone());
                }
                Err(e) => errors.push(format!("SET {k}: {e}")),
            }
            match con.get::<_, Option<String>>(&k) {
                Ok(g) if g.as_deref() == written.get(&k).map(String::as_str) => {}
                Ok(g) => errors.push(format!("GET {k}: {g:?}, expected {:?}", written.get(&k))),
                Err(e) => errors.push(format!("GET {k}: {e}")),
            }
            // And one older key.
            let old = format!("{prefix}:{}", (i * 7919) % 3000);
            if let Some(want) = written.get(&old) {
                match con.get::<_, Option<String>>(&old) {
                    Ok(g) if g.as_deref() == Some(want.as_str()) => {}
                    Ok(g) => errors.push(format!("GET {old}: {g:?}, expected {want:?}")),
                    Err(e) => errors.push(format!("GET {old}: {e}")),
                }
            }
            ops += 3;
            i += 1;
            if errors.len() > 20 {
                break;
            }
        }
        (errors, written, ops)
    });
    Load { stop, handle }
}

impl Load {
    fn finish(self) -> (BTreeMap<String, String>, u64) {
        self.stop.store(true, Ordering::Relaxed);
        let (errors, written, ops) = self.handle.join().expect("load thread");
        assert!(errors.is_empty(), "the client saw errors: {errors:#?}");
        (written, ops)
    }
}

fn reshard(seed: &Node, from: &Node, to: &Node, slots: usize, extra: &[&str]) {
    let (seed, from_id, to_id, n) = (seed.addr(), from.id(), to.id(), slots.to_string());
    let mut args =
        vec!["--cluster", "reshard", &seed, "--cluster-from", &from_id, "--cluster-to", &to_id, "--cluster-slots", &n, "--cluster-yes"];
    args.extend(extra);
    let (ok, out) = redis_cli(&args);
    assert!(ok && !out.contains("[ERR]"), "reshard failed:\n{}", tail(&out));
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

// ------------------------------------------------------------------- MIGRATE replies vs Redis

/// A fake MIGRATE target on a free port: `reply` gives the bytes to answer each connection's
/// first request with (None: stay silent), then the connection is closed if `close`.
fn fake_target(reply: Option<Vec<u8>>, close: bool) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut keep = Vec::new();
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let reply = reply.clone();
            std::thread::sleep(Duration::from_millis(30));
            let mut buf = vec![0u8; 1 << 16];
            let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = s.read(&mut buf);
            if let Some(r) = reply {
                let _ = s.write_all(&r);
            }
            if !close {
                keep.push(s);
            }
        }
    });
    port
}

#[test]
fn migrate_errors_match_redis() {
    if !tools_available("migrate_errors_match_redis") {
        return;
    }
    let r = Node::redis("e-src-redis", false, &[]);
    let s = Node::shoal("e-src-shoal", false, &[]);
    // Each source has its own real target ("{T}" in the cases), so targets see the same history.
    let tr = Node::redis("e-target-r", false, &[]);
    let ts = Node::redis("e-target-s", false, &[]);
    let refused = free_port().to_string();
    let silent = fake_target(None, false).to_string();
    let closer = fake_target(None, true).to_string();
    let partial = fake_target(Some(b"+OK\r\n+OK\r\n".to_vec()), true).to_string();
    let mut long = b"+OK\r\n-ERR ".to_vec();
    long.extend_from_slice(&[b'x'; 1500]);
    long.extend_from_slice(b"\r\n+OK\r\n");
    let longline = fake_target(Some(long), false).to_string();

    let mut rc = RawConn::connect(r.port).expect("connect");
    let mut sc = RawConn::connect(s.port).expect("connect");
    let (trp, tsp) = (tr.port.to_string(), ts.port.to_string());
    let mut both = |args: &[&str]| {
        let ra: Vec<&str> = args.iter().map(|a| if *a == "{T}" { trp.as_str() } else { a }).collect();
        let sa: Vec<&str> = args.iter().map(|a| if *a == "{T}" { tsp.as_str() } else { a }).collect();
        let a = rc.cmd(&ra).expect("redis reply");
        let b = sc.cmd(&sa).expect("shoal reply");
        assert_eq!(String::from_utf8_lossy(&b), String::from_utf8_lossy(&a), "reply to {args:?}");
    };
    both(&["CONFIG", "RESETSTAT"]);
    both(&["MSET", "k1", "v1", "k2", "v2", "k3", "v3", "k4", "v4", "k5", "v5", "k6", "v6", "k7", "v7"]);
    let h = "127.0.0.1";
    let t = "{T}";
    let cases: Vec<Vec<&str>> = vec![
        vec!["MIGRATE", h, t, "k1"],
        vec!["MIGRATE", h, t, "k1", "0", "1000", "foo"],
        vec!["MIGRATE", h, t, "k1", "0", "1000", "AUTH"],
        vec!["MIGRATE", h, t, "k1", "0", "1000", "AUTH2", "u"],
        vec!["MIGRATE", h, t, "k1", "0", "1000", "copy", "KEYS", "k2"],
        vec!["MIGRATE", h, t, "k1", "x", "y"],
        vec!["MIGRATE", h, t, "k1", "x", "1000"],
        vec!["MIGRATE", h, t, "k1", "0", "99999999999999999999"],
        vec!["MIGRATE", h, t, "nokey", "0", "1000"],
        vec!["MIGRATE", h, t, "", "0", "1000", "KEYS", "nokey", "nokey2"],
        vec!["MIGRATE", h, t, "", "0", "1000"],
        vec!["MIGRATE", h, &refused, "k1", "0", "1000"],
        vec!["MIGRATE", h, "-1", "k1", "0", "1000"],
        vec!["MIGRATE", h, "abc", "k1", "0", "1000"],
        vec!["MIGRATE", "no-such-host.invalid", t, "k1", "0", "1000"],
        vec!["MIGRATE", h, t, "k1", "0", "1000", "AUTH", "pw"],
        vec!["MIGRATE", h, t, "k1", "0", "1000", "AUTH2", "user", "pw"],
        vec!["MIGRATE", h, t, "k1", "100", "1000"],
        vec!["MIGRATE", h, &silent, "k1", "0", "200"],
        vec!["MIGRATE", h, &closer, "k1", "0", "200"],
        vec!["MIGRATE", h, &partial, "", "0", "500", "KEYS", "k1", "k2", "k3"],
        vec!["EXISTS", "k1", "k2", "k3"],
        vec!["MIGRATE", h, &longline, "", "0", "500", "KEYS", "k4", "k5", "k6"],
        vec!["EXISTS", "k4", "k5", "k6"],
        vec!["MIGRATE", h, t, "k7", "0", "1000", "COPY"],
        vec!["MIGRATE", h, t, "k7", "0", "1000", "COPY"],
        vec!["MIGRATE", h, t, "k7", "0", "1000", "REPLACE", "COPY"],
        vec!["EXISTS", "k7"],
        vec!["MIGRATE", h, t, "", "0", "1000", "REPLACE", "KEYS", "k7", "nokey"],
        vec!["EXISTS", "k7"],
        vec!["COMMAND", "GETKEYS", "MIGRATE", h, t, "k1", "0", "1000"],
        vec!["COMMAND", "GETKEYS", "MIGRATE", h, t, "", "0", "1000", "AUTH", "keys", "KEYS", "a", "b"],
        vec!["COMMAND", "GETKEYS", "MIGRATE", h, t, "", "0", "1000", "AUTH2", "u", "keys", "KEYS", "a"],
    ];
    for c in &cases {
        both(c);
    }
    assert_eq!(tr.text(&["DBSIZE"]), ts.text(&["DBSIZE"]));
    // errorstats (IOERR counted as Redis does) and the failed-call count.
    let stat = |c: &mut RawConn, section: &str, field: &str| -> String {
        let raw = c.cmd(&["INFO", section]).expect("info");
        String::from_utf8_lossy(&raw)
            .lines()
            .filter(|l| l.starts_with(field))
            .map(|l| l.split(",usec").next().unwrap_or(l).to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(stat(&mut sc, "errorstats", "errorstat_"), stat(&mut rc, "errorstats", "errorstat_"));
    let failed = |c: &mut RawConn| {
        let raw = c.cmd(&["INFO", "commandstats"]).expect("info");
        let text = String::from_utf8_lossy(&raw).into_owned();
        let line = text.lines().find(|l| l.starts_with("cmdstat_migrate:")).unwrap_or_default().to_string();
        line.split(',').filter(|p| !p.starts_with("usec")).collect::<Vec<_>>().join(",").split(":usec").next().map(String::from)
    };
    assert_eq!(failed(&mut sc), failed(&mut rc));

    // SELECT is sent only when the cached connection last selected another database:
    // each source on its own target, then the targets' counts compared.
    let t1 = Node::redis("e-t1", false, &[]);
    let t2 = Node::redis("e-t2", false, &[]);
    for (c, t) in [(&mut rc, &t1), (&mut sc, &t2)] {
        let p = t.port.to_string();
        c.cmd(&["MSET", "a1", "1", "a2", "2", "a3", "3", "a4", "4"]).expect("mset");
        for (k, db) in [("a1", "0"), ("a2", "0"), ("a3", "2"), ("a4", "2")] {
            assert_eq!(c.cmd(&["MIGRATE", h, &p, k, db, "1000"]).expect("migrate"), b"+OK\r\n");
        }
        c.cmd(&["MSET", "a1", "1"]).expect("mset");
        // An error reply from the target forgets the database: SELECT again next time.
        assert!(c.cmd(&["MIGRATE", h, &p, "a1", "2", "1000", "AUTH", "x"]).expect("migrate").starts_with(b"-ERR Target instance"));
        assert_eq!(c.cmd(&["MIGRATE", h, &p, "a1", "2", "1000", "REPLACE"]).expect("migrate"), b"+OK\r\n");
    }
    let selects = |t: &Node| {
        let info = t.text(&["INFO", "commandstats"]);
        info.lines()
            .filter(|l| l.starts_with("cmdstat_select:") || l.starts_with("cmdstat_restore:"))
            .map(|l| l.split(",usec").next().unwrap_or(l).to_string())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(selects(&t2), selects(&t1));
    assert_eq!(
        t1.text(&["INFO", "clients"]).lines().find(|l| l.starts_with("connected_clients")).map(String::from),
        Some("connected_clients:2".into())
    );
}

// ---------------------------------------------------------------------------- every type

/// Creates one key of every type and encoding (`{t}` hash tag: one slot).
fn populate(c: &mut redis::Connection) -> Vec<String> {
    let run = |c: &mut redis::Connection, args: &[&str]| {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query::<redis::Value>(c).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    };
    let _: () = redis::cmd("FLUSHALL").query(c).expect("flushall");
    run(c, &["SET", "{t}s:int", "12345"]);
    run(c, &["SET", "{t}s:neg", "-9223372036854775808"]);
    run(c, &["SET", "{t}s:emb", "hello"]);
    run(c, &["SET", "{t}s:raw", &"r".repeat(100)]);
    let big: String = (0..100_000).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    run(c, &["SET", "{t}s:big", &big]);
    run(c, &["SET", "{t}s:bin", "\u{0}\u{1}\u{ff}\r\n"]);
    run(c, &["SET", "{t}s:ttl", "expiring", "PX", "100000"]);
    run(c, &["RPUSH", "{t}l:small", "a", "1", "-2", "bb", "3.5"]);
    let items: Vec<String> =
        (0..2000).map(|i| if i % 3 == 0 { i.to_string() } else { format!("item-{i}-{}", "x".repeat(i % 70)) }).collect();
    let mut args = vec!["RPUSH", "{t}l:big"];
    args.extend(items.iter().map(String::as_str));
    run(c, &args);
    run(c, &["SADD", "{t}set:int", "1", "2", "3", "-100", "99999999999"]);
    run(c, &["SADD", "{t}set:lp", "a", "b", "c", "1"]);
    let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
    let mut args = vec!["SADD", "{t}set:ht"];
    args.extend(members.iter().map(String::as_str));
    run(c, &args);
    run(c, &["ZADD", "{t}z:lp", "1", "a", "2.5", "b", "-3", "c", "inf", "d", "-inf", "e", "0.1", "f"]);
    let mut zargs: Vec<String> = vec!["ZADD".into(), "{t}z:sk".into()];
    for i in 0..500 {
        zargs.push(format!("{}", (i as f64) * 1.25 - 100.0));
        zargs.push(format!("member-{i}"));
    }
    let z: Vec<&str> = zargs.iter().map(String::as_str).collect();
    run(c, &z);
    run(c, &["HSET", "{t}h:lp", "f1", "v1", "f2", "2", "f3", ""]);
    let mut hargs: Vec<String> = vec!["HSET".into(), "{t}h:ht".into()];
    for i in 0..1000 {
        hargs.push(format!("field{i}"));
        hargs.push(if i % 2 == 0 { i.to_string() } else { format!("value-{i}") });
    }
    let hv: Vec<&str> = hargs.iter().map(String::as_str).collect();
    run(c, &hv);
    run(c, &["HSET", "{t}h:ttl", "a", "b"]);
    run(c, &["PEXPIRE", "{t}h:ttl", "50000"]);
    for i in 1..=60 {
        let id = format!("{i}-1");
        run(c, &["XADD", "{t}x", &id, "f", &format!("v{i}"), "n", &i.to_string()]);
    }
    run(c, &["XDEL", "{t}x", "5-1", "6-1"]);
    run(c, &["XGROUP", "CREATE", "{t}x", "g1", "0"]);
    run(c, &["XGROUP", "CREATE", "{t}x", "g2", "$"]);
    run(c, &["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "10", "STREAMS", "{t}x", ">"]);
    run(c, &["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "5", "STREAMS", "{t}x", ">"]);
    run(c, &["XACK", "{t}x", "g1", "1-1", "2-1"]);
    run(c, &["XADD", "{t}xe", "1-1", "a", "b"]);
    run(c, &["XDEL", "{t}xe", "1-1"]);
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(c).expect("keys");
    keys.sort();
    keys
}

/// A canonical, comparable rendering of a key's value (and whether it has a TTL).
fn snapshot(c: &mut redis::Connection, key: &str) -> String {
    fn q<T: redis::FromRedisValue>(c: &mut redis::Connection, args: &[&str]) -> T {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query(c).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }
    let t: String = q(c, &["TYPE", key]);
    let pttl: i64 = q(c, &["PTTL", key]);
    let body = match t.as_str() {
        "string" => format!("{:?}", q::<Vec<u8>>(c, &["GET", key])),
        "list" => format!("{:?}", q::<Vec<Vec<u8>>>(c, &["LRANGE", key, "0", "-1"])),
        "set" => {
            let mut m: Vec<Vec<u8>> = q(c, &["SMEMBERS", key]);
            m.sort();
            format!("{m:?}")
        }
        "zset" => format!("{:?}", q::<Vec<Vec<u8>>>(c, &["ZRANGE", key, "0", "-1", "WITHSCORES"])),
        "hash" => {
            let h: HashMap<Vec<u8>, Vec<u8>> = q(c, &["HGETALL", key]);
            format!("{:?}", h.into_iter().collect::<BTreeMap<_, _>>())
        }
        "stream" => {
            let entries: redis::Value = q(c, &["XRANGE", key, "-", "+"]);
            let groups: redis::Value = q(c, &["XINFO", "GROUPS", key]);
            let info: Vec<redis::Value> = q(c, &["XINFO", "STREAM", key]);
            // Fields that do not depend on the internal layout (radix tree sizes do).
            let mut keep = Vec::new();
            for pair in info.chunks(2) {
                if let [redis::Value::BulkString(name), v] = pair {
                    let name = String::from_utf8_lossy(name).into_owned();
                    if ["length", "last-generated-id", "max-deleted-entry-id", "entries-added", "recorded-first-entry-id"]
                        .contains(&name.as_str())
                    {
                        keep.push(format!("{name}={v:?}"));
                    }
                }
            }
            let mut pending = Vec::new();
            let groups_here: &[&str] = if key.ends_with("}x") { &["g1", "g2"] } else { &[] };
            for g in groups_here {
                pending.push(format!("{:?}", q::<redis::Value>(c, &["XPENDING", key, g])));
            }
            format!("{entries:?} {groups:?} {keep:?} {pending:?}")
        }
        other => panic!("unexpected type {other} for {key}"),
    };
    format!("{t} ttl:{} {body}", if pttl > 0 { "yes" } else { "no" })
}

fn migrate_all(src: &Node, dst: &Node, label: &str) {
    let mut sc = src.redis_conn();
    let mut dc = dst.redis_conn();
    let keys = populate(&mut sc);
    assert_eq!(keys.len(), 19, "{keys:?}");
    let before: Vec<String> = keys.iter().map(|k| snapshot(&mut sc, k)).collect();
    let _: () = redis::cmd("FLUSHALL").query(&mut dc).expect("flushall");
    let p = dst.port.to_string();
    // Half the keys one by one, the rest in one KEYS batch; into database 3 first with COPY, then 0.
    let (one, many) = keys.split_at(keys.len() / 2);
    let mig = |c: &mut redis::Connection, args: &[&str]| -> String {
        let mut cmd = redis::cmd("MIGRATE");
        for a in args {
            cmd.arg(*a);
        }
        match cmd.query::<redis::Value>(c) {
            Ok(v) => format!("{v:?}"),
            Err(e) => format!("ERR {e}"),
        }
    };
    let mut batch = vec!["127.0.0.1", &p, "", "3", "5000", "COPY", "KEYS"];
    batch.extend(keys.iter().map(String::as_str));
    assert_eq!(mig(&mut sc, &batch), "ok", "{label}: COPY batch");
    for k in one {
        assert_eq!(mig(&mut sc, &["127.0.0.1", &p, k, "0", "5000"]), "ok", "{label}: MIGRATE {k}");
    }
    let mut batch = vec!["127.0.0.1", &p, "", "0", "5000", "REPLACE", "KEYS"];
    batch.extend(many.iter().map(String::as_str));
    assert_eq!(mig(&mut sc, &batch), "ok", "{label}: KEYS batch");
    let left: i64 = redis::cmd("DBSIZE").query(&mut sc).expect("dbsize");
    assert_eq!(left, 0, "{label}: keys left on the source");
    let after: Vec<String> = keys.iter().map(|k| snapshot(&mut dc, k)).collect();
    for ((k, b), a) in keys.iter().zip(&before).zip(&after) {
        assert_eq!(a, b, "{label}: {k} differs after MIGRATE");
    }
    let _: () = redis::cmd("SELECT").arg(3).query(&mut dc).expect("select");
    let copied: Vec<String> = keys.iter().map(|k| snapshot(&mut dc, k)).collect();
    assert_eq!(copied, before, "{label}: the COPY into db 3");
    // A TTL survives (roughly).
    let _: () = redis::cmd("SELECT").arg(0).query(&mut dc).expect("select");
    let pttl: i64 = redis::cmd("PTTL").arg("{t}s:ttl").query(&mut dc).expect("pttl");
    assert!(pttl > 90_000 && pttl <= 100_000, "{label}: pttl {pttl}");
    // Back the other way, with REPLACE over an existing key.
    let _: () = redis::cmd("SET").arg("{t}s:int").arg("other").query(&mut sc).expect("set");
    let sp = src.port.to_string();
    assert!(mig(&mut dc, &["127.0.0.1", &sp, "{t}s:int", "0", "5000"]).contains("BUSYKEY"), "{label}");
    assert_eq!(mig(&mut dc, &["127.0.0.1", &sp, "{t}s:int", "0", "5000", "REPLACE"]), "ok", "{label}");
    let v: String = redis::cmd("GET").arg("{t}s:int").query(&mut sc).expect("get");
    assert_eq!(v, "12345", "{label}");
}

#[test]
fn migrate_every_type() {
    if !tools_available("migrate_every_type") {
        return;
    }
    let s1 = Node::shoal("t-s1", false, &[]);
    let s2 = Node::shoal("t-s2", false, &[]);
    let r1 = Node::redis("t-r1", false, &[]);
    let r2 = Node::redis("t-r2", false, &[]);
    migrate_all(&r1, &r2, "redis -> redis");
    migrate_all(&s1, &s2, "shoal -> shoal");
    migrate_all(&s1, &r1, "shoal -> redis");
    migrate_all(&r2, &s2, "redis -> shoal");

    // AUTH / AUTH2 to a target with a password (both kinds of target).
    let rp = Node::redis("t-rp", false, &["--requirepass", "sekret"]);
    let sp = Node::shoal("t-sp", false, &["--requirepass", "sekret"]);
    for t in [&rp, &sp] {
        let p = t.port.to_string();
        s1.cmd(&["SET", "ak", "v"]);
        let e = s1.cmd(&["MIGRATE", "127.0.0.1", &p, "ak", "0", "1000"]);
        assert!(e.starts_with(b"-ERR Target instance replied with error: NOAUTH"), "{}", String::from_utf8_lossy(&e));
        assert_eq!(s1.cmd(&["MIGRATE", "127.0.0.1", &p, "ak", "0", "1000", "AUTH", "sekret"]), b"+OK\r\n");
        s1.cmd(&["SET", "ak2", "v"]);
        assert_eq!(s1.cmd(&["MIGRATE", "127.0.0.1", &p, "ak2", "0", "1000", "AUTH2", "default", "sekret"]), b"+OK\r\n");
        let mut c = RawConn::connect(t.port).expect("connect");
        c.cmd(&["AUTH", "sekret"]).expect("auth");
        assert_eq!(c.cmd(&["MGET", "ak", "ak2"]).expect("mget"), b"*2\r\n$1\r\nv\r\n$1\r\nv\r\n");
    }

    // The cached connection is closed after more than 10 s idle, as Redis does.
    let clients =
        |n: &Node| n.text(&["INFO", "clients"]).lines().find(|l| l.starts_with("connected_clients:")).map(String::from).unwrap_or_default();
    s2.cmd(&["SET", "idle", "1"]);
    r2.cmd(&["SET", "idle", "1"]);
    let target = Node::redis("t-idle", false, &[]);
    let tp = target.port.to_string();
    assert_eq!(s2.cmd(&["MIGRATE", "127.0.0.1", &tp, "idle", "0", "1000", "COPY", "REPLACE"]), b"+OK\r\n");
    assert_eq!(r2.cmd(&["MIGRATE", "127.0.0.1", &tp, "idle", "0", "1000", "COPY", "REPLACE"]), b"+OK\r\n");
    assert_eq!(clients(&target), "connected_clients:3");
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(clients(&target), "connected_clients:3", "closed too early");
    wait_until("idle MIGRATE connections to close", Duration::from_secs(8), || clients(&target) == "connected_clients:1");
}

// ------------------------------------------------------------------------------ resharding

#[test]
fn reshard_shoal_cluster_under_load() {
    if !tools_available("reshard_shoal_cluster_under_load") {
        return;
    }
    let t0 = Instant::now();
    let phase = |what: &str| eprintln!("[{:>6.1}s] {what}", t0.elapsed().as_secs_f64());
    let a = Node::shoal("c-a", true, &[]);
    let b = Node::shoal("c-b", true, &[]);
    let c = Node::shoal("c-c", true, &[]);
    create(&[&a, &b, &c]);
    let mut expected = preload(&a, "pre", 20_000);
    let load = start_load(&a, "load");
    phase("created + preloaded");

    // 1000 slots a -> b while the client runs.
    reshard(&a, &a, &b, 1000, &[]);
    wait_clean(&a);
    assert_eq!(a.slot_count(), 5461 - 1000);
    // rebalance evens it out again.
    phase("reshard 1000 done");
    let (ok, out) = redis_cli(&["--cluster", "rebalance", &a.addr()]);
    assert!(ok && !out.contains("[ERR]"), "rebalance:\n{}", tail(&out));
    wait_clean(&a);
    for n in [&a, &b, &c] {
        assert!((5400..=5520).contains(&n.slot_count()), "{} has {} slots after rebalance", n.addr(), n.slot_count());
    }

    // A new empty master takes its share.
    phase("rebalance done");
    let d = Node::shoal("c-d", true, &[]);
    let (ok, out) = redis_cli(&["--cluster", "add-node", &d.addr(), &a.addr()]);
    assert!(ok && out.contains("[OK] New node added correctly."), "add-node:\n{}", tail(&out));
    wait_members(&[&a, &b, &c, &d], 4);
    wait_clean(&a);
    let (ok, out) = redis_cli(&["--cluster", "rebalance", &a.addr(), "--cluster-use-empty-masters"]);
    assert!(ok && !out.contains("[ERR]"), "rebalance --cluster-use-empty-masters:\n{}", tail(&out));
    wait_clean(&a);
    let on_d = d.slot_count();
    assert!((4000..=4200).contains(&on_d), "d has {on_d} slots; rebalance said:\n{}", tail(&out));

    // ... and gives them back before it leaves.
    phase("add-node + rebalance done");
    reshard(&a, &d, &b, on_d, &[]);
    wait_clean(&a);
    assert_eq!(d.slot_count(), 0);
    assert_eq!(d.dbsize(), 0);
    let d_id = d.id();
    let (ok, out) = redis_cli(&["--cluster", "del-node", &a.addr(), &d_id]);
    assert!(ok && !out.contains("[ERR]"), "del-node:\n{}", tail(&out));
    wait_clean(&a);

    let (written, ops) = load.finish();
    phase("del-node done");
    assert!(ops > 100, "the client ran {ops} operations");
    expected.extend(written);
    verify(&a, &[&a, &b, &c], &expected);
    drop(d);
}

#[test]
fn reshard_mixed_cluster_under_load() {
    if !tools_available("reshard_mixed_cluster_under_load") {
        return;
    }
    let r = Node::redis("x-r", true, &[]);
    let s = Node::shoal("x-s", true, &[]);
    let s2 = Node::shoal("x-s2", true, &[]);
    create(&[&r, &s, &s2]);
    let mut expected = preload(&s, "pre", 15_000);
    let load = start_load(&r, "load");
    // redis-server -> Shoal, then Shoal -> redis-server.
    reshard(&r, &r, &s, 1000, &[]);
    wait_clean(&r);
    reshard(&s, &s, &r, 1000, &[]);
    wait_clean(&s);
    reshard(&s2, &s2, &r, 500, &[]);
    wait_clean(&s);
    let (written, _) = load.finish();
    expected.extend(written);
    verify(&s, &[&r, &s, &s2], &expected);
}

/// Runs `redis-cli --cluster fix` until `--cluster check` is clean.
fn fix(seed: &Node) {
    let mut last = String::new();
    for _ in 0..5 {
        if check_clean(seed).is_ok() {
            return;
        }
        if let Err(out) = check_clean(seed) {
            let problems: Vec<&str> = out.lines().filter(|l| l.contains("[WARNING]") || l.contains("[ERR]")).collect();
            eprintln!("before fix: {problems:?}");
        }
        let (_, out) = redis_cli(&["--cluster", "fix", &seed.addr(), "--cluster-replace", "--cluster-yes"]);
        eprintln!(
            "fix: {}",
            out.lines().filter(|l| l.contains("***") || l.contains("Fixing") || l.contains("[ERR]")).collect::<Vec<_>>().join(" | ")
        );
        last = out;
        std::thread::sleep(Duration::from_millis(500));
    }
    if let Err(out) = check_clean(seed) {
        panic!("still not clean after fix:\n{}\nlast fix:\n{}", tail(&out), tail(&last));
    }
}

#[test]
fn interrupted_migration_fixed() {
    if !tools_available("interrupted_migration_fixed") {
        return;
    }
    let a = Node::shoal("i-a", true, &[]);
    let b = Node::shoal("i-b", true, &[]);
    let c = Node::shoal("i-c", true, &[]);
    create(&[&a, &b, &c]);
    let expected = preload(&a, "pre", 30_000);
    let slots_on = |n: &Node| n.slot_count();

    // 1. The target stops mid-way (SIGSTOP) and comes back (SIGCONT).
    let start_b = b.dbsize();
    let (from_id, to_id, seed) = (a.id(), b.id(), a.addr());
    let mut cli = Command::new(REDIS_CLI)
        .args(["--cluster", "reshard", &seed, "--cluster-from", &from_id, "--cluster-to", &to_id, "--cluster-slots", "3000"])
        .args(["--cluster-yes", "--cluster-timeout", "1000"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-cli");
    wait_until("some keys to reach the target", Duration::from_secs(20), || b.dbsize() > start_b + 500);
    b.signal(libc::SIGSTOP);
    std::thread::sleep(Duration::from_millis(2500));
    let _ = cli.kill();
    let _ = cli.wait();
    b.signal(libc::SIGCONT);
    wait_until("b to answer again", Duration::from_secs(10), || RawConn::connect(b.port).and_then(|mut c| c.cmd(&["PING"])).is_ok());
    wait_until("cluster_state:ok", Duration::from_secs(20), || {
        [&a, &b, &c].iter().all(|n| n.text(&["CLUSTER", "INFO"]).contains("cluster_state:ok"))
    });
    fix(&a);
    verify(&a, &[&a, &b, &c], &expected);
    assert_eq!(slots_on(&a) + slots_on(&b) + slots_on(&c), 16384);

    // 2. The driver dies mid-slot: slots of b left migrating to c (importing), some of their keys
    //    already moved, as redis-cli leaves them when it is killed between two MIGRATEs.
    let first_slot: u16 = {
        let nodes = b.text(&["CLUSTER", "NODES"]);
        let me = nodes.lines().find(|l| l.contains("myself")).unwrap_or_default().to_string();
        let range = me.split(' ').nth(8).unwrap_or_default().to_string();
        range.split('-').next().unwrap_or_default().parse().expect("a slot of b")
    };
    let (b_id, c_id, cp) = (b.id(), c.id(), c.port.to_string());
    let mut moved = 0;
    for slot in first_slot..first_slot + 20 {
        let keys: Vec<String> = {
            let raw = b.cmd(&["CLUSTER", "GETKEYSINSLOT", &slot.to_string(), "100"]);
            common::split_aggregate(&raw)
                .map(|(_, e)| e.iter().map(|f| String::from_utf8_lossy(f).lines().nth(1).unwrap_or_default().to_string()).collect())
                .unwrap_or_default()
        };
        let sl = slot.to_string();
        assert_eq!(c.cmd(&["CLUSTER", "SETSLOT", &sl, "IMPORTING", &b_id]), b"+OK\r\n");
        assert_eq!(b.cmd(&["CLUSTER", "SETSLOT", &sl, "MIGRATING", &c_id]), b"+OK\r\n");
        let half: Vec<&str> = keys.iter().take(keys.len().div_ceil(2)).map(String::as_str).collect();
        if half.is_empty() {
            continue;
        }
        let mut args = vec!["MIGRATE", "127.0.0.1", &cp, "", "0", "5000", "KEYS"];
        args.extend(&half);
        assert_eq!(b.cmd(&args), b"+OK\r\n");
        // MIGRATE is served by the source of an open slot even for keys it no longer has
        // (Redis's getNodeByQuery exception), where other commands get -ASK.
        assert_eq!(b.cmd(&["MIGRATE", "127.0.0.1", &cp, half[0], "0", "5000"]), b"+NOKEY\r\n");
        assert!(b.cmd(&["GET", half[0]]).starts_with(b"-ASK "));
        moved += half.len();
    }
    assert!(moved > 5, "moved {moved} keys");
    // Meanwhile clients are redirected (ASK) to the moved keys: they are readable.
    let mut con = cluster_conn(&a);
    for (k, v) in expected.iter().take(2000) {
        let got: Option<String> = con.get(k).expect("get during the open slots");
        assert_eq!(got.as_ref(), Some(v), "{k}");
    }
    fix(&a);
    wait_clean(&a);
    verify(&a, &[&a, &b, &c], &expected);
}
