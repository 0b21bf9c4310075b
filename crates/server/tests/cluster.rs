//! Cluster mode end to end: real `redis-cli --cluster create` over Shoal nodes and over a mixed
//! cluster of redis-server 7.0.15 and Shoal nodes; redirections followed by `redis-cli -c`;
//! failure detection of killed nodes; a restarted Shoal node keeps its identity and slots.
//!
//! Every node runs in its own temp dir on two free ports (client port and `cluster-port`, since
//! a kernel-chosen port + 10000 may not fit in 16 bits) and is killed by PID when dropped.

mod common;

use common::{free_port, redis_available, RawConn, REDIS_SERVER};
use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REDIS_CLI: &str = "/usr/bin/redis-cli";

struct Node {
    child: Option<Child>,
    bin: PathBuf,
    port: u16,
    cport: u16,
    dir: PathBuf,
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("shoal-cluster-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

impl Node {
    fn shoal(tag: &str) -> Node {
        Node::new(Path::new(env!("CARGO_BIN_EXE_shoal-server")), tag)
    }
    fn redis(tag: &str) -> Node {
        Node::new(Path::new(REDIS_SERVER), tag)
    }
    fn new(bin: &Path, tag: &str) -> Node {
        let mut n = Node { child: None, bin: bin.to_path_buf(), port: free_port(), cport: free_port(), dir: temp_dir(tag) };
        n.spawn();
        n
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join("log.txt")).expect("log");
        let log2 = log.try_clone().expect("log");
        let mut cmd = Command::new(&self.bin);
        cmd.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "1000"])
            .args(["--cluster-port", &self.cport.to_string()])
            .arg("--dir")
            .arg(&self.dir)
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

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
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

    /// A bulk (or verbatim) reply's text.
    fn text(&self, args: &[&str]) -> String {
        let raw = self.cmd(args);
        let s = String::from_utf8_lossy(&raw).into_owned();
        let body = match s.find("\r\n") {
            Some(i) if s.starts_with('$') || s.starts_with('=') => s[i + 2..].trim_end_matches("\r\n").to_string(),
            _ => s,
        };
        body.strip_prefix("txt:").map(str::to_string).unwrap_or(body)
    }

    fn info_field(&self, field: &str) -> String {
        let info = self.text(&["CLUSTER", "INFO"]);
        info.lines().find_map(|l| l.strip_prefix(&format!("{field}:")).map(|v| v.trim().to_string())).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn redis_cli(args: &[&str]) -> (bool, String) {
    let out = Command::new(REDIS_CLI).args(args).output().expect("run redis-cli");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn create(nodes: &[&Node]) {
    let mut args = vec!["--cluster".to_string(), "create".to_string()];
    args.extend(nodes.iter().map(|n| n.addr()));
    args.push("--cluster-yes".into());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, out) = redis_cli(&a);
    assert!(ok && out.contains("[OK] All 16384 slots covered."), "cluster create failed:\n{out}");
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_ok(nodes: &[&Node]) {
    for n in nodes {
        wait_until(&format!("cluster_state:ok on {}", n.addr()), Duration::from_secs(20), || n.info_field("cluster_state") == "ok");
    }
}

/// The cluster view of a node without volatile columns: (id, addr, master?, epoch, slots).
fn view(n: &Node) -> BTreeSet<String> {
    n.text(&["CLUSTER", "NODES"])
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let role = if f[2].contains("master") { "master" } else { "slave" };
            format!("{} {} {} {} {}", f[0], f[1], role, f[6], f[8..].join(" "))
        })
        .collect()
}

/// SET through raw connections following MOVED like a cluster client; returns the port that took it.
fn set_routed(nodes: &[&Node], key: &str, val: &str) -> u16 {
    let mut port = nodes[0].port;
    for _ in 0..3 {
        let mut c = RawConn::connect(port).expect("connect");
        let r = c.cmd(&["SET", key, val]).expect("reply");
        if r == b"+OK\r\n" {
            return port;
        }
        let s = String::from_utf8_lossy(&r).into_owned();
        let target = s.strip_prefix("-MOVED ").and_then(|m| m.trim_end().rsplit(':').next()).and_then(|p| p.parse::<u16>().ok());
        port = target.unwrap_or_else(|| panic!("unexpected reply to SET {key}: {s}"));
    }
    panic!("too many redirections for {key}")
}

#[test]
fn shoal_cluster_create_redirects_and_restart() {
    if !redis_available("shoal_cluster_create_redirects_and_restart") || !Path::new(REDIS_CLI).exists() {
        return;
    }
    let a = Node::shoal("s-a");
    let mut b = Node::shoal("s-b");
    let c = Node::shoal("s-c");
    create(&[&a, &b, &c]);
    wait_ok(&[&a, &b, &c]);
    let (_, check) = redis_cli(&["--cluster", "check", &a.addr()]);
    assert!(
        check.contains("[OK] All 16384 slots covered.") && check.contains("[OK] All nodes agree about slots configuration."),
        "{check}"
    );
    assert_eq!(view(&a), view(&b));
    assert_eq!(view(&a), view(&c));
    assert_eq!(a.cmd(&["CLUSTER", "SLOTS"]), c.cmd(&["CLUSTER", "SLOTS"]));

    // redis-cli -c follows MOVED.
    for i in 0..20 {
        let k = format!("key:{i}");
        let v = format!("v{i}");
        let (ok, out) = redis_cli(&["-c", "-p", &a.port.to_string(), "SET", &k, &v]);
        assert!(ok && out.trim() == "OK", "{out}");
        let (_, out) = redis_cli(&["-c", "-p", &c.port.to_string(), "GET", &k]);
        assert_eq!(out.trim(), v);
    }
    // A key of another node: MOVED with that node's address.
    let slot = String::from_utf8_lossy(&a.cmd(&["CLUSTER", "KEYSLOT", "foo"])).trim().trim_start_matches(':').to_string();
    let owners = [&a, &b, &c];
    let not_owner = owners.iter().find(|n| n.cmd(&["GET", "foo"]).starts_with(b"-MOVED")).expect("a node that redirects");
    let moved = String::from_utf8_lossy(&not_owner.cmd(&["GET", "foo"])).into_owned();
    assert!(moved.starts_with(&format!("-MOVED {slot} 127.0.0.1:")), "{moved}");
    // CROSSSLOT and hash tags.
    assert_eq!(a.cmd(&["MSET", "a", "1", "b", "2"]), b"-CROSSSLOT Keys in request don't hash to the same slot\r\n");
    let (ok, out) = redis_cli(&["-c", "-p", &a.port.to_string(), "MSET", "{user1}:a", "1", "{user1}:b", "2"]);
    assert!(ok && out.trim() == "OK", "{out}");
    let (_, out) = redis_cli(&["-c", "-p", &b.port.to_string(), "MGET", "{user1}:a", "{user1}:b"]);
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), ["1", "2"]);
    assert_eq!(a.cmd(&["SELECT", "1"]), b"-ERR SELECT is not allowed in cluster mode\r\n");

    // Restart b on the same dir: same id, epoch and slots.
    let id = b.text(&["CLUSTER", "MYID"]);
    let myself = |n: &Node| {
        n.text(&["CLUSTER", "NODES"]).lines().find(|l| l.contains("myself")).map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            format!("{} {} {}", f[0], f[6], f[8..].join(" "))
        })
    };
    let before = myself(&b);
    b.kill();
    b.spawn();
    assert!(b.log().contains(&format!("Node configuration loaded, I'm {id}")), "{}", b.log());
    assert_eq!(b.text(&["CLUSTER", "MYID"]), id);
    assert_eq!(myself(&b), before);
    wait_ok(&[&a, &b, &c]);
    wait_until("the restarted node to agree", Duration::from_secs(10), || view(&a) == view(&b));
}

#[test]
fn mixed_cluster_with_redis_server() {
    if !redis_available("mixed_cluster_with_redis_server") || !Path::new(REDIS_CLI).exists() {
        return;
    }
    let r1 = Node::redis("m-r1");
    let mut r2 = Node::redis("m-r2");
    let r3 = Node::redis("m-r3");
    let s1 = Node::shoal("m-s1");
    let mut s2 = Node::shoal("m-s2");
    let s3 = Node::shoal("m-s3");
    let all = [&r1, &s1, &r2, &s2, &r3, &s3];
    create(&all);
    wait_ok(&all);
    wait_until("every node to agree on the cluster", Duration::from_secs(10), || {
        let v = view(all[0]);
        all.iter().all(|n| view(n) == v)
    });
    let slots = r1.cmd(&["CLUSTER", "SLOTS"]);
    for n in &all {
        assert_eq!(n.cmd(&["CLUSTER", "SLOTS"]), slots, "CLUSTER SLOTS of {}", n.addr());
    }
    // Keys land on every node, both kinds.
    let mut took = BTreeSet::new();
    for i in 0..200 {
        took.insert(set_routed(&all, &format!("k{i}"), "v"));
    }
    assert_eq!(took.len(), 6, "keys should reach all six nodes");
    let (_, out) = redis_cli(&["-c", "-p", &r1.port.to_string(), "GET", "k7"]);
    assert_eq!(out.trim(), "v");
    let (_, out) = redis_cli(&["-c", "-p", &s1.port.to_string(), "GET", "k8"]);
    assert_eq!(out.trim(), "v");

    // A PUBLISH on a redis-server node reaches a subscriber of a Shoal node over the bus.
    let mut sub = RawConn::connect(s1.port).expect("connect");
    sub.cmd(&["SUBSCRIBE", "news"]).expect("subscribe");
    sub.set_timeout(Duration::from_secs(5));
    assert_eq!(r1.cmd(&["PUBLISH", "news", "hello"]), b":0\r\n");
    assert_eq!(sub.read_reply().expect("message"), b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n");
    // ... and a PUBLISH on a Shoal node reaches a subscriber of a redis-server node.
    let mut rsub = RawConn::connect(r3.port).expect("connect");
    rsub.cmd(&["SUBSCRIBE", "news2"]).expect("subscribe");
    rsub.set_timeout(Duration::from_secs(5));
    assert_eq!(s3.cmd(&["PUBLISH", "news2", "hi"]), b":0\r\n");
    assert_eq!(rsub.read_reply().expect("message"), b"*3\r\n$7\r\nmessage\r\n$5\r\nnews2\r\n$2\r\nhi\r\n");

    // Kill one of each kind: the others flag both as failed.
    let (id_r2, id_s2) = (r2.text(&["CLUSTER", "MYID"]), s2.text(&["CLUSTER", "MYID"]));
    r2.kill();
    s2.kill();
    for n in [&r1, &r3, &s1, &s3] {
        wait_until(&format!("{} to flag the killed nodes as failed", n.addr()), Duration::from_secs(15), || {
            let nodes = n.text(&["CLUSTER", "NODES"]);
            [&id_r2, &id_s2].iter().all(|id| {
                nodes.lines().any(|l| l.starts_with(id.as_str()) && l.split(' ').nth(2).is_some_and(|f| f.split(',').any(|x| x == "fail")))
            })
        });
    }
}
