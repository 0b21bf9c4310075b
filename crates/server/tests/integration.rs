//! End-to-end tests against the real `shoal-server` binary: a real client library
//! (the `redis` crate), concurrency, and the connection limits.
//!
//! The limit tests speak raw RESP and also run against the reference redis-server when it
//! is installed, so a failure there means the test's expectation is wrong, not Shoal.

mod common;

use common::{encode_cmd, escape, RawConn, Server};
use redis::Commands;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

fn client(srv: &Server) -> redis::Connection {
    let c = redis::Client::open(srv.url()).expect("client");
    let con = c.get_connection().unwrap_or_else(|e| panic!("connect {}: {e}", srv.addr()));
    con.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    con
}

/// Runs `f` on a thread and fails the test if it does not finish within `t` (so a server
/// that never answers cannot hang the test run).
fn with_timeout<T: Send + 'static>(t: Duration, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(t) {
        Ok(v) => v,
        Err(e) => panic!("{what}: no result within {t:?} ({e})"),
    }
}

/// Shoal, plus the reference redis-server when it is installed. With
/// `REFERENCE_ONLY=1`, only redis-server (to check the tests' own expectations).
fn both(extra: &[&str]) -> Vec<Server> {
    let mut v = Vec::new();
    if std::env::var("REFERENCE_ONLY").map(|v| v != "1").unwrap_or(true) {
        v.push(Server::shoal(extra));
    }
    if std::path::Path::new(common::REDIS_SERVER).exists() {
        v.push(Server::redis(extra));
    } else if common::in_ci() {
        panic!("{} is missing and CI is set", common::REDIS_SERVER);
    }
    v
}

fn name(srv: &Server) -> String {
    format!("{} (port {})", srv.bin.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), srv.port)
}

fn expect_reply(c: &mut RawConn, args: &[&[u8]], want: &[u8], who: &str) {
    let got = c.cmd(args).unwrap_or_else(|e| panic!("{who}: {:?}: {e}", args.iter().map(|a| escape(a)).collect::<Vec<_>>()));
    assert_eq!(escape(&got), escape(want), "{who}: reply to {:?}", args.iter().map(|a| escape(a)).collect::<Vec<_>>());
}

/// The connection was closed by the server (EOF or reset) within `wait`.
fn assert_closed(c: &mut RawConn, wait: Duration, who: &str) {
    assert!(c.closed_within(wait), "{who}: connection still open; pending: {}", escape(c.pending()));
}

// ---------------------------------------------------------------------------------------
// Data through a real client library
// ---------------------------------------------------------------------------------------

#[test]
fn binary_safe_values() {
    let srv = Server::shoal(&[]);
    let mut con = client(&srv);
    let all: Vec<u8> = (0..=255u8).collect();
    let _: () = con.set(&all[..], &all[..]).expect("set all bytes");
    let back: Vec<u8> = con.get(&all[..]).expect("get all bytes");
    assert_eq!(back, all);
    for b in 0..=255u8 {
        let key = [b'k', b];
        let val = [b, b'\r', b'\n', b, 0];
        let _: () = con.set(&key[..], &val[..]).expect("set");
        let got: Vec<u8> = con.get(&key[..]).expect("get");
        assert_eq!(got, val, "byte {b}");
    }
    let _: () = con.set("empty", "").expect("set empty");
    let e: Vec<u8> = con.get("empty").expect("get empty");
    assert!(e.is_empty());
    let big: Vec<u8> = (0..1024 * 1024).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let _: () = con.set("big", &big[..]).expect("set 1MB");
    let got: Vec<u8> = con.get("big").expect("get 1MB");
    assert!(got == big, "1 MB value differs");
    let none: Option<Vec<u8>> = con.get("nokey").expect("get missing");
    assert_eq!(none, None);
}

#[test]
fn pipelining_10k_commands() {
    let srv = Server::shoal(&[]);
    let mut con = client(&srv);
    let mut p = redis::pipe();
    for i in 0..10_000 {
        p.cmd("SET").arg(format!("key:{i}")).arg(format!("value:{i}")).ignore();
    }
    for i in (0..10_000).step_by(7) {
        p.cmd("GET").arg(format!("key:{i}"));
    }
    let got: Vec<String> = p.query(&mut con).expect("pipeline");
    let want: Vec<String> = (0..10_000).step_by(7).map(|i| format!("value:{i}")).collect();
    assert_eq!(got, want);

    // The same through one raw write of 10k commands.
    let mut raw = srv.conn();
    let mut buf = Vec::new();
    for i in 0..10_000 {
        buf.extend_from_slice(&encode_cmd(&[b"ECHO".to_vec(), i.to_string().into_bytes()]));
    }
    raw.send_raw(&buf).expect("send");
    for i in 0..10_000 {
        let r = raw.read_reply().expect("reply");
        let s = i.to_string();
        assert_eq!(r, format!("${}\r\n{s}\r\n", s.len()).into_bytes(), "reply {i}");
    }
}

#[test]
fn multi_exec_atomic_pipeline() {
    let srv = Server::shoal(&[]);
    let mut con = client(&srv);
    let (a, b): (String, Option<String>) =
        redis::pipe().atomic().set("tx:a", "1").ignore().get("tx:a").get("tx:missing").query(&mut con).expect("atomic pipe");
    assert_eq!(a, "1");
    assert_eq!(b, None);
    // An error inside EXEC does not stop the others; the error surfaces from query().
    let _: () = con.set("tx:s", "notanumber").expect("set");
    let r: redis::RedisResult<(i64, String)> = redis::pipe().atomic().cmd("INCR").arg("tx:s").set("tx:after", "x").query(&mut con);
    assert!(r.is_err(), "INCR of a non-number inside EXEC must fail: {r:?}");
    let after: String = con.get("tx:after").expect("get");
    assert_eq!(after, "x", "commands after an EXEC error must still run");
}

#[test]
fn watch_conflict_between_connections() {
    let srv = Server::shoal(&[]);
    let mut c1 = client(&srv);
    let mut c2 = client(&srv);
    let _: () = c1.set("w", "0").expect("set");

    // Conflict: c2 writes the key c1 watches.
    let _: () = redis::cmd("WATCH").arg("w").query(&mut c1).expect("watch");
    let _: () = c2.set("w", "c2").expect("c2 set");
    let r: Option<(String,)> = redis::pipe().atomic().set("w", "c1").ignore().get("w").query(&mut c1).expect("exec");
    assert_eq!(r, None, "EXEC must fail after a concurrent write to a WATCHed key");
    let v: String = c1.get("w").expect("get");
    assert_eq!(v, "c2");

    // No conflict: a write to another key does not matter.
    let _: () = redis::cmd("WATCH").arg("w").query(&mut c1).expect("watch");
    let _: () = c2.set("other", "x").expect("c2 set other");
    let r: Option<(String,)> = redis::pipe().atomic().set("w", "c1").ignore().get("w").query(&mut c1).expect("exec");
    assert_eq!(r, Some(("c1".to_string(),)));

    // The classic optimistic-locking loop with two competing clients.
    let url = srv.url();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).expect("client").get_connection().expect("conn");
                for _ in 0..50 {
                    let _: () = redis::transaction(&mut c, &["counter"], |c, pipe| {
                        let n: i64 = c.get::<_, Option<i64>>("counter")?.unwrap_or(0);
                        pipe.set("counter", n + 1).ignore().query(c)
                    })
                    .expect("transaction");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    let n: i64 = c1.get("counter").expect("get");
    assert_eq!(n, 200, "WATCH-based increments lost updates");
}

#[test]
fn concurrent_incr_200_connections() {
    let srv = Server::shoal(&[]);
    const CLIENTS: usize = 200;
    const PER: usize = 50;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(CLIENTS));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let url = srv.url();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).expect("client").get_connection().expect("conn");
                barrier.wait();
                for _ in 0..PER {
                    let _: i64 = c.incr("shared", 1).expect("incr");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    let mut c = client(&srv);
    let n: i64 = c.get("shared").expect("get");
    assert_eq!(n, (CLIENTS * PER) as i64);
}

// ---------------------------------------------------------------------------------------
// Limits (raw RESP; also run against redis-server to validate the expectations)
// ---------------------------------------------------------------------------------------

#[test]
fn maxclients() {
    for srv in both(&["--maxclients", "5"]) {
        let who = name(&srv);
        // The start-up probe connection may still be closing.
        std::thread::sleep(Duration::from_millis(200));
        let mut conns: Vec<RawConn> = (0..5).map(|_| srv.conn()).collect();
        for c in conns.iter_mut() {
            expect_reply(c, &[b"PING"], b"+PONG\r\n", &who);
        }
        let mut sixth = srv.conn();
        let r = sixth.read_reply().unwrap_or_else(|e| panic!("{who}: 6th connection: {e}"));
        assert_eq!(escape(&r), escape(b"-ERR max number of clients reached\r\n"), "{who}");
        assert_closed(&mut sixth, Duration::from_secs(2), &who);
        // The others still work; after one leaves, a new one is accepted.
        expect_reply(&mut conns[0], &[b"SET", b"k", b"v"], b"+OK\r\n", &who);
        drop(conns.pop());
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let mut c = srv.conn();
            match c.cmd(&[b"GET".as_slice(), b"k"]) {
                Ok(r) if r == b"$1\r\nv\r\n" => break,
                other => {
                    assert!(Instant::now() < deadline, "{who}: no room after a client left: {:?}", other.map(|r| escape(&r)));
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }
}

#[test]
fn proto_max_bulk_len() {
    for srv in both(&["--proto-max-bulk-len", "1mb"]) {
        let who = name(&srv);
        let mut other = srv.conn();
        expect_reply(&mut other, &[b"SET", b"keep", b"safe"], b"+OK\r\n", &who);
        // Exactly the limit is fine.
        let max = vec![b'x'; 1024 * 1024];
        let mut c = srv.conn();
        expect_reply(&mut c, &[b"SET", b"max", &max], b"+OK\r\n", &who);
        // One byte more: protocol error and the connection is closed.
        let mut bad = srv.conn();
        bad.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2097152\r\n").expect("send header");
        let r = bad.read_reply().unwrap_or_else(|e| panic!("{who}: {e}"));
        assert_eq!(escape(&r), escape(b"-ERR Protocol error: invalid bulk length\r\n"), "{who}");
        assert_closed(&mut bad, Duration::from_secs(2), &who);
        // Other connections and the data are unaffected.
        expect_reply(&mut other, &[b"GET", b"keep"], b"$4\r\nsafe\r\n", &who);
        expect_reply(&mut c, &[b"STRLEN", b"max"], b":1048576\r\n", &who);
        expect_reply(&mut srv.conn(), &[b"GET", b"k"], b"$-1\r\n", &who);
    }
}

#[test]
fn client_query_buffer_limit() {
    for srv in both(&["--client-query-buffer-limit", "1mb"]) {
        let who = name(&srv);
        let mut other = srv.conn();
        expect_reply(&mut other, &[b"SET", b"keep", b"safe"], b"+OK\r\n", &who);
        // A bulk that never ends: the header promises 10 MB, 2 MB arrive.
        let mut bad = RawConn::connect(srv.port).expect("connect");
        let _ = bad.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10000000\r\n");
        let chunk = vec![b'y'; 64 * 1024];
        for _ in 0..32 {
            if bad.send_raw(&chunk).is_err() {
                break; // already closed: fine
            }
        }
        assert_closed(&mut bad, Duration::from_secs(5), &who);
        // A never-ending inline line is closed too (64 KB inline limit).
        let mut bad2 = RawConn::connect(srv.port).expect("connect");
        for _ in 0..32 {
            if bad2.send_raw(&chunk).is_err() {
                break;
            }
        }
        assert_closed(&mut bad2, Duration::from_secs(5), &who);
        expect_reply(&mut other, &[b"GET", b"keep"], b"$4\r\nsafe\r\n", &who);
        expect_reply(&mut srv.conn(), &[b"EXISTS", b"k"], b":0\r\n", &who);
    }
}

#[test]
fn bad_input_never_loses_data() {
    for srv in both(&[]) {
        let who = name(&srv);
        let mut c = srv.conn();
        let mut p = Vec::new();
        for i in 0..1000 {
            p.extend_from_slice(&encode_cmd(&[b"SET".to_vec(), format!("key:{i}").into_bytes(), format!("val:{i}").into_bytes()]));
        }
        c.send_raw(&p).expect("send");
        for _ in 0..1000 {
            assert_eq!(c.read_reply().expect("reply"), b"+OK\r\n");
        }
        let garbage: &[&[u8]] = &[
            b"*x\r\n",
            b"*1\r\n$-5\r\n",
            b"*2\r\n$3\r\nGET\r\n:1\r\n",
            b"\x00\x01\x02\xff\xfe\r\n",
            b"SET \"unbalanced\r\n",
            b"*3\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$100\r\nshort",
            b"$$$$$$$$\r\n*****\r\n",
            b"*100000\r\n",
            b"\r\n\r\n\r\n",
            b"FLUSHALL_NOT\r\n",
        ];
        for g in garbage {
            let mut bad = RawConn::connect(srv.port).expect("connect");
            let _ = bad.send_raw(g);
            let _ = bad.read_until_quiet(Duration::from_millis(50), Duration::from_secs(1));
        }
        // Random bytes.
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for _ in 0..20 {
            let mut bad = RawConn::connect(srv.port).expect("connect");
            let junk: Vec<u8> = (0..4096)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let _ = bad.send_raw(&junk);
        }
        expect_reply(&mut c, &[b"DBSIZE"], b":1000\r\n", &who);
        for i in (0..1000).step_by(37) {
            let v = format!("val:{i}");
            expect_reply(&mut c, &[b"GET", format!("key:{i}").as_bytes()], format!("${}\r\n{v}\r\n", v.len()).as_bytes(), &who);
        }
    }
}

#[test]
fn idle_timeout() {
    for srv in both(&["--timeout", "1"]) {
        let who = name(&srv);
        let mut idle = srv.conn();
        expect_reply(&mut idle, &[b"PING"], b"+PONG\r\n", &who);
        let mut busy = srv.conn();
        let start = Instant::now();
        // The busy connection talks every 300 ms and must survive.
        while start.elapsed() < Duration::from_millis(3500) {
            expect_reply(&mut busy, &[b"PING"], b"+PONG\r\n", &who);
            std::thread::sleep(Duration::from_millis(300));
        }
        assert_closed(&mut idle, Duration::from_millis(100), &who);
        expect_reply(&mut busy, &[b"PING"], b"+PONG\r\n", &who);
    }
}

#[test]
fn requirepass() {
    for srv in both(&["--requirepass", "s3cret"]) {
        let who = name(&srv);
        let mut c = srv.conn();
        expect_reply(&mut c, &[b"GET", b"k"], b"-NOAUTH Authentication required.\r\n", &who);
        expect_reply(&mut c, &[b"PING"], b"-NOAUTH Authentication required.\r\n", &who);
        expect_reply(&mut c, &[b"AUTH", b"wrong"], b"-WRONGPASS invalid username-password pair or user is disabled.\r\n", &who);
        expect_reply(&mut c, &[b"AUTH", b"default", b"wrong"], b"-WRONGPASS invalid username-password pair or user is disabled.\r\n", &who);
        expect_reply(&mut c, &[b"GET", b"k"], b"-NOAUTH Authentication required.\r\n", &who);
        expect_reply(&mut c, &[b"AUTH", b"s3cret"], b"+OK\r\n", &who);
        expect_reply(&mut c, &[b"SET", b"k", b"v"], b"+OK\r\n", &who);
        expect_reply(&mut c, &[b"GET", b"k"], b"$1\r\nv\r\n", &who);
        // RESET logs the connection out again.
        expect_reply(&mut c, &[b"RESET"], b"+RESET\r\n", &who);
        expect_reply(&mut c, &[b"GET", b"k"], b"-NOAUTH Authentication required.\r\n", &who);
        expect_reply(&mut c, &[b"AUTH", b"default", b"s3cret"], b"+OK\r\n", &who);
        expect_reply(&mut c, &[b"GET", b"k"], b"$1\r\nv\r\n", &who);
        // Unauthenticated clients may only send small requests.
        let mut u = srv.conn();
        u.send_raw(b"*11\r\n").expect("send");
        let r = u.read_reply().unwrap_or_else(|e| panic!("{who}: {e}"));
        assert_eq!(escape(&r), escape(b"-ERR Protocol error: unauthenticated multibulk length\r\n"), "{who}");
        assert_closed(&mut u, Duration::from_secs(2), &who);
        let mut u = srv.conn();
        u.send_raw(b"*2\r\n$4\r\nAUTH\r\n$16385\r\n").expect("send");
        let r = u.read_reply().unwrap_or_else(|e| panic!("{who}: {e}"));
        assert_eq!(escape(&r), escape(b"-ERR Protocol error: unauthenticated bulk length\r\n"), "{who}");
        assert_closed(&mut u, Duration::from_secs(2), &who);
    }
    // Commands pipelined behind AUTH in the same packet run right away.
    for srv in both(&["--requirepass", "s3cret"]) {
        let who = name(&srv);
        let mut c = srv.conn();
        c.set_timeout(Duration::from_secs(3));
        c.send_raw(b"AUTH s3cret\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n").expect("send");
        let mut got = Vec::new();
        for _ in 0..3 {
            match c.read_reply() {
                Ok(r) => got.extend_from_slice(&r),
                Err(e) => panic!("{who}: commands pipelined after AUTH were not answered; got {} then {e}", escape(&got)),
            }
        }
        assert_eq!(escape(&got), escape(b"+OK\r\n+PONG\r\n$1\r\nx\r\n"), "{who}");
    }
    // Through the client library: the password in the URL (redis-rs pipelines AUTH with
    // CLIENT SETINFO).
    let srv = Server::shoal(&["--requirepass", "s3cret"]);
    let url = format!("redis://:s3cret@127.0.0.1:{}/", srv.port);
    let mut con = with_timeout(Duration::from_secs(10), "connect with a password in the URL", move || {
        redis::Client::open(url).expect("client").get_connection().expect("auth via URL")
    });
    let _: () = con.set("a", "b").expect("set");
    let no = redis::Client::open(srv.url()).expect("client").get_connection().and_then(|mut c| c.get::<_, Option<String>>("a"));
    let err = no.expect_err("unauthenticated GET must fail");
    assert_eq!(err.code(), Some("NOAUTH"), "{err}");
}

#[test]
fn client_kill() {
    for srv in both(&[]) {
        let who = name(&srv);
        let mut victim = srv.conn();
        let id = victim.cmd(&[b"CLIENT".as_slice(), b"ID"]).expect("client id");
        if id.starts_with(b"-ERR unknown command") {
            eprintln!("SKIPPED client_kill on {who}: CLIENT is not implemented yet ({})", escape(&id));
            continue;
        }
        let id = std::str::from_utf8(&id[1..id.len() - 2]).expect("utf8").to_string();
        let mut killer = srv.conn();
        expect_reply(&mut killer, &[b"CLIENT", b"KILL", b"ID", id.as_bytes()], b":1\r\n", &who);
        assert_closed(&mut victim, Duration::from_secs(2), &who);
        expect_reply(&mut killer, &[b"CLIENT", b"KILL", b"ID", id.as_bytes()], b":0\r\n", &who);
        // By address (the old form replies +OK).
        let mut v2 = srv.conn();
        expect_reply(&mut v2, &[b"PING"], b"+PONG\r\n", &who);
        let addr = v2.stream.local_addr().expect("addr").to_string();
        expect_reply(&mut killer, &[b"CLIENT", b"KILL", addr.as_bytes()], b"+OK\r\n", &who);
        assert_closed(&mut v2, Duration::from_secs(2), &who);
        expect_reply(&mut killer, &[b"CLIENT", b"KILL", addr.as_bytes()], b"-ERR No such client\r\n", &who);
        expect_reply(&mut killer, &[b"PING"], b"+PONG\r\n", &who);
    }
}

#[test]
fn quit_and_half_closed_clients() {
    let srv = Server::shoal(&[]);
    // A client that sends a command and closes its write side still gets the reply.
    let mut s = std::net::TcpStream::connect(srv.addr()).expect("connect");
    s.write_all(b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n").expect("write");
    let _ = s.shutdown(std::net::Shutdown::Write);
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    assert_eq!(escape(&out), escape(b"$2\r\nhi\r\n"));
    let mut c = srv.conn();
    expect_reply(&mut c, &[b"QUIT"], b"+OK\r\n", "shoal");
    assert_closed(&mut c, Duration::from_secs(2), "shoal");
}
