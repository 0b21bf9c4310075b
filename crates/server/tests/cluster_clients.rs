//! Cluster clients against a fresh 3-master Shoal cluster: the Rust `redis` crate's cluster
//! client (10,000 keys over all slots, CROSSSLOT where Redis answers it, hash tags) and
//! `redis-benchmark --cluster`.
//!
//! Every node runs in its own temp dir on two free ports (client port and `cluster-port`) and is
//! killed by PID when dropped, also when a test panics. The error texts asserted here are the
//! ones a redis-server 7.0.15 cluster answers to the same commands: with
//! `CLUSTER_CLIENTS_BIN=/usr/bin/redis-server` the whole file runs against redis-server instead.

mod common;

use common::{free_port, RawConn};
use redis::cluster::{ClusterClient, ClusterConnection};
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Commands, ConnectionLike, ErrorKind, RedisResult, Value};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REDIS_CLI: &str = "/usr/bin/redis-cli";
const REDIS_BENCHMARK: &str = "/usr/bin/redis-benchmark";
const CROSSSLOT: &str = "Keys in request don't hash to the same slot";

/// Redis's keyHashSlot: CRC16/XMODEM of the key, or of its non-empty `{hash tag}`, mod 16384.
fn key_slot(key: &[u8]) -> u16 {
    let mut k = key;
    if let Some(s) = key.iter().position(|&c| c == b'{') {
        if let Some(e) = key[s + 1..].iter().position(|&c| c == b'}') {
            if e > 0 {
                k = &key[s + 1..s + 1 + e];
            }
        }
    }
    let mut crc: u16 = 0;
    for &b in k {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc & 16383
}

struct Node {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Node {
    fn start(tag: &str) -> Node {
        // CLUSTER_CLIENTS_BIN=/usr/bin/redis-server runs the same assertions against the reference.
        let bin =
            std::env::var_os("CLUSTER_CLIENTS_BIN").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_shoal-server")));
        let (port, cport) = (free_port(), free_port());
        let dir = std::env::temp_dir().join(format!("shoal-cluster-clients-{}-{tag}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let log = std::fs::File::create(dir.join("log.txt")).expect("log");
        let log2 = log.try_clone().expect("log");
        let mut cmd = Command::new(&bin);
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "2000", "--cluster-port", &cport.to_string()])
            .arg("--dir")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2));
        // SAFETY: prctl is async-signal-safe; the server dies with the test process.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn shoal-server");
        let node = Node { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut c) = RawConn::connect(port) {
                if c.cmd(&["PING"]).is_ok() {
                    return node;
                }
            }
            assert!(Instant::now() < deadline, "shoal node did not start:\n{}", node.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log.txt")).unwrap_or_default()
    }

    fn cmd(&self, args: &[&str]) -> Vec<u8> {
        RawConn::connect(self.port).expect("connect").cmd(args).expect("reply")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // Child::kill sends SIGKILL to this child's PID only.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A 3-master cluster formed by `redis-cli --cluster create`, every node at cluster_state:ok.
struct Cluster {
    nodes: Vec<Node>,
}

impl Cluster {
    fn start(tag: &str) -> Option<Cluster> {
        if !Path::new(REDIS_CLI).exists() {
            assert!(!common::in_ci(), "{REDIS_CLI} is missing and CI is set");
            eprintln!("SKIPPED: {REDIS_CLI} is missing");
            return None;
        }
        let nodes: Vec<Node> = (0..3).map(|i| Node::start(&format!("{tag}{i}"))).collect();
        let mut args = vec!["--cluster".to_string(), "create".to_string()];
        args.extend(nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)));
        args.push("--cluster-yes".into());
        let out = Command::new(REDIS_CLI).args(&args).output().expect("run redis-cli");
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && text.contains("[OK] All 16384 slots covered."), "cluster create failed:\n{text}");
        let deadline = Instant::now() + Duration::from_secs(30);
        for n in &nodes {
            while !String::from_utf8_lossy(&n.cmd(&["CLUSTER", "INFO"])).contains("cluster_state:ok") {
                assert!(Instant::now() < deadline, "cluster_state:ok never reached on {}:\n{}", n.port, n.log());
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Some(Cluster { nodes })
    }

    fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(|n| format!("redis://127.0.0.1:{}/", n.port)).collect()
    }

    fn client(&self) -> ClusterConnection {
        ClusterClient::new(self.urls()).expect("cluster client").get_connection().expect("cluster connection")
    }

    /// The client port of the master that owns `slot`, from CLUSTER SLOTS.
    fn owner(&self, slot: u16) -> u16 {
        let mut c = redis::Client::open(self.urls()[0].as_str()).expect("client").get_connection().expect("connect");
        let slots: Vec<Value> = redis::cmd("CLUSTER").arg("SLOTS").query(&mut c).expect("CLUSTER SLOTS");
        for s in slots {
            let Value::Array(f) = s else { panic!("bad CLUSTER SLOTS entry {s:?}") };
            let (Value::Int(lo), Value::Int(hi), Value::Array(m)) = (&f[0], &f[1], &f[2]) else { panic!("bad entry {f:?}") };
            if (*lo..=*hi).contains(&i64::from(slot)) {
                let Value::Int(port) = m[1] else { panic!("bad master {m:?}") };
                return port as u16;
            }
        }
        panic!("no owner for slot {slot}")
    }

    fn direct(&self, port: u16) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("client").get_connection().expect("connect")
    }
}

fn assert_crossslot<T: std::fmt::Debug>(r: RedisResult<T>, what: &str) {
    match r {
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::CrossSlot, "{what}: {e:?}");
            assert_eq!(e.code(), Some("CROSSSLOT"), "{what}: {e:?}");
            assert_eq!(e.detail(), Some(CROSSSLOT), "{what}: {e:?}");
        }
        Ok(v) => panic!("{what}: expected CROSSSLOT, got {v:?}"),
    }
}

#[test]
fn rust_cluster_client_keys_crossslot_and_hash_tags() {
    let Some(cl) = Cluster::start("rs") else { return };
    let mut con = cl.client();

    // 10,000 keys over all slots: half through single commands, half through cluster pipelines.
    let n = 10_000;
    for i in 0..n / 2 {
        let () = con.set(format!("key:{i}"), format!("value:{i}")).expect("SET");
    }
    let mut pipe = redis::cluster::cluster_pipe();
    for i in n / 2..n {
        pipe.set(format!("key:{i}"), format!("value:{i}")).ignore();
    }
    let () = pipe.query(&mut con).expect("pipelined SETs");
    for i in 0..n / 2 {
        let v: String = con.get(format!("key:{i}")).expect("GET");
        assert_eq!(v, format!("value:{i}"));
    }
    let mut pipe = redis::cluster::cluster_pipe();
    for i in n / 2..n {
        pipe.get(format!("key:{i}"));
    }
    let got: Vec<String> = pipe.query(&mut con).expect("pipelined GETs");
    assert_eq!(got, (n / 2..n).map(|i| format!("value:{i}")).collect::<Vec<_>>());
    let sizes: Vec<i64> = cl.nodes.iter().map(|nd| redis::cmd("DBSIZE").query(&mut cl.direct(nd.port)).expect("DBSIZE")).collect();
    assert_eq!(sizes.iter().sum::<i64>(), n as i64, "{sizes:?}");
    assert!(sizes.iter().all(|&s| s > n as i64 / 5), "keys not spread over the masters: {sizes:?}");
    let slots: std::collections::BTreeSet<u16> = (0..n).map(|i| key_slot(format!("key:{i}").as_bytes())).collect();
    assert!(slots.len() > 7000, "{} slots", slots.len());
    for i in (0..n).step_by(97) {
        let k = format!("key:{i}");
        let v: String = redis::cmd("GET").arg(&k).query(&mut cl.direct(cl.owner(key_slot(k.as_bytes())))).expect("GET on owner");
        assert_eq!(v, format!("value:{i}"));
    }

    // Multi-key commands over two slots. redis-rs splits MSET/MGET/DEL per slot client-side.
    let () = con.mset(&[("a", "1"), ("b", "2")]).expect("split MSET");
    let v: Vec<String> = con.mget(&["a", "b"]).expect("split MGET");
    assert_eq!(v, ["1", "2"]);
    // SINTERSTORE is routed by its first key and the server answers CROSSSLOT.
    assert_crossslot(redis::cmd("SINTERSTORE").arg("d").arg("a").arg("b").query::<Value>(&mut con), "SINTERSTORE");
    // MSET/MGET sent as one command to each node: CROSSSLOT, before any MOVED check.
    for nd in &cl.nodes {
        let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress { host: "127.0.0.1".into(), port: nd.port });
        for c in [redis::cmd("MSET").arg("a").arg("1").arg("b").arg("2").clone(), redis::cmd("MGET").arg("a").arg("b").clone()] {
            assert_crossslot(con.route_command(&c, route.clone()), "routed MSET/MGET");
        }
        let mut d = cl.direct(nd.port);
        assert_crossslot(redis::cmd("MSET").arg("a").arg("1").arg("b").arg("2").query::<Value>(&mut d), "direct MSET");
        assert_eq!(nd.cmd(&["MGET", "a", "b"]), format!("-CROSSSLOT {CROSSSLOT}\r\n").as_bytes());
        assert_eq!(nd.cmd(&["SINTERSTORE", "d", "a", "b"]), format!("-CROSSSLOT {CROSSSLOT}\r\n").as_bytes());
    }

    // MULTI/EXEC over two slots of one node: commands are queued, EXEC answers CROSSSLOT and
    // discards the transaction. redis-rs routes the transaction by its first command.
    let a = "a";
    let owner = cl.owner(key_slot(a.as_bytes()));
    let b = (0..1000)
        .map(|i| format!("b{i}"))
        .find(|k| key_slot(k.as_bytes()) != key_slot(a.as_bytes()) && cl.owner(key_slot(k.as_bytes())) == owner)
        .expect("a second key on the same node");
    let () = con.del(a).expect("DEL");
    let () = con.del(&b).expect("DEL");
    // redis-rs 0.27's ClusterConnection refuses MULTI/EXEC pipelines client-side ...
    let r: RedisResult<Value> = redis::pipe().atomic().set(a, "x").set(&b, "y").query(&mut con);
    let e = r.expect_err("cluster connection ran a transaction");
    assert!(e.to_string().contains("does not support pipelining"), "{e:?}");
    // ... so transactions go through a plain connection to the slot's owner, where EXEC answers
    // CROSSSLOT. (Pipeline::query reports an EXEC error reply only as "Invalid response when
    // parsing multi response", so the replies are read with req_packed_commands.)
    let mut owner_con = cl.direct(owner);
    let tx = redis::pipe().atomic().set(a, "x").set(&b, "y").clone();
    let r: RedisResult<Value> = tx.query(&mut owner_con);
    assert!(r.is_err(), "{r:?}");
    let mut replies = owner_con.req_packed_commands(&tx.get_packed_pipeline(), 3, 1).expect("transaction replies");
    match replies.pop() {
        Some(Value::ServerError(e)) => assert_eq!((e.code(), e.details()), ("CROSSSLOT", Some(CROSSSLOT))),
        other => panic!("EXEC over two slots answered {other:?}"),
    }
    let n: i64 = redis::cmd("EXISTS").arg(a).query(&mut owner_con).expect("EXISTS");
    assert_eq!(n, 0);
    let mut raw = RawConn::connect(owner).expect("connect");
    assert_eq!(raw.cmd(&["MULTI"]).expect("MULTI"), b"+OK\r\n");
    assert_eq!(raw.cmd(&["SET", a, "x"]).expect("SET"), b"+QUEUED\r\n");
    assert_eq!(raw.cmd(&["SET", &b, "y"]).expect("SET"), b"+QUEUED\r\n");
    assert_eq!(raw.cmd(&["EXEC"]).expect("EXEC"), format!("-CROSSSLOT {CROSSSLOT}\r\n").as_bytes());
    assert_eq!(raw.cmd(&["EXEC"]).expect("EXEC"), b"-ERR EXEC without MULTI\r\n");
    assert_eq!(raw.cmd(&["EXISTS", a]).expect("EXISTS"), b":0\r\n");
    assert_eq!(raw.cmd(&["EXISTS", &b]).expect("EXISTS"), b":0\r\n");
    // A key owned by another node inside MULTI: MOVED at queue time, EXEC aborts.
    let other = (0..1000).map(|i| format!("c{i}")).find(|k| cl.owner(key_slot(k.as_bytes())) != owner).expect("key elsewhere");
    let other_slot = key_slot(other.as_bytes());
    let other_port = cl.owner(other_slot);
    assert_eq!(raw.cmd(&["MULTI"]).expect("MULTI"), b"+OK\r\n");
    assert_eq!(raw.cmd(&["SET", a, "x"]).expect("SET"), b"+QUEUED\r\n");
    assert_eq!(raw.cmd(&["SET", &other, "y"]).expect("SET"), format!("-MOVED {other_slot} 127.0.0.1:{other_port}\r\n").as_bytes());
    assert_eq!(raw.cmd(&["EXEC"]).expect("EXEC"), b"-EXECABORT Transaction discarded because of previous errors.\r\n");
    assert_eq!(raw.cmd(&["EXISTS", a]).expect("EXISTS"), b":0\r\n");

    // Hash tags: everything on one slot succeeds.
    let () = con.mset(&[("{user:42}:name", "ann"), ("{user:42}:age", "7")]).expect("MSET tagged");
    let v: Vec<Option<String>> = con.mget(&["{user:42}:name", "{user:42}:age", "{user:42}:none"]).expect("MGET tagged");
    assert_eq!(v, [Some("ann".to_string()), Some("7".to_string()), None]);
    let _: i64 = con.sadd("{user:42}:s1", &["a", "b", "c"]).expect("SADD");
    let _: i64 = con.sadd("{user:42}:s2", &["b", "c", "d"]).expect("SADD");
    let n3: i64 = con.sinterstore("{user:42}:s3", &["{user:42}:s1", "{user:42}:s2"]).expect("SINTERSTORE tagged");
    assert_eq!(n3, 2);
    // The transaction, on a plain connection to the owner of slot(user:42) (see above).
    let tag_owner = cl.owner(key_slot(b"{user:42}"));
    let (s, i, g, n4): (String, i64, String, i64) = redis::pipe()
        .atomic()
        .set("{user:42}:n", 10)
        .incr("{user:42}:n", 1)
        .get("{user:42}:n")
        .sinterstore("{user:42}:s4", &["{user:42}:s1", "{user:42}:s3"])
        .query(&mut cl.direct(tag_owner))
        .expect("tagged MULTI/EXEC");
    assert_eq!((s.as_str(), i, g.as_str(), n4), ("OK", 11, "11", 2));
    let v: String = con.get("{user:42}:n").expect("GET through the cluster client");
    assert_eq!(v, "11");
    let count: i64 =
        redis::cmd("CLUSTER").arg("COUNTKEYSINSLOT").arg(key_slot(b"user:42")).query(&mut cl.direct(tag_owner)).expect("COUNTKEYSINSLOT");
    assert_eq!(count, 7);
}

#[test]
fn redis_benchmark_cluster_mode() {
    if !Path::new(REDIS_BENCHMARK).exists() {
        assert!(!common::in_ci(), "{REDIS_BENCHMARK} is missing and CI is set");
        eprintln!("SKIPPED redis_benchmark_cluster_mode: {REDIS_BENCHMARK} is missing");
        return;
    }
    let Some(cl) = Cluster::start("bench") else { return };
    let out = Command::new(REDIS_BENCHMARK)
        .args(["--cluster", "-p", &cl.nodes[0].port.to_string(), "-t", "set,get", "-n", "20000", "-r", "100000", "-q"])
        .output()
        .expect("run redis-benchmark");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "redis-benchmark failed:\n{text}");
    // With -q each test prints "SET: N requests per second, p50=..." once it completes.
    let line = |t: &str| text.split(['\r', '\n']).any(|l| l.starts_with(&format!("{t}: ")) && l.contains("requests per second"));
    assert!(line("SET") && line("GET"), "missing SET/GET lines:\n{text}");
    assert!(text.contains("Cluster has 3 master nodes"), "{text}");
    for bad in ["Error", "ERR", "MOVED", "ASK", "CLUSTERDOWN"] {
        assert!(!text.contains(bad), "redis-benchmark reported {bad}:\n{text}");
    }
    // The writes landed on every master.
    let total: i64 = cl
        .nodes
        .iter()
        .map(|nd| {
            let r = nd.cmd(&["DBSIZE"]);
            std::str::from_utf8(&r[1..r.len() - 2]).expect("utf8").parse::<i64>().expect("int")
        })
        .inspect(|&k| assert!(k > 0, "a master got no keys"))
        .sum();
    assert!(total > 10_000, "{total} keys");
}
