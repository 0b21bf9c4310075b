//! Keyspace notifications (`notify-keyspace-events`) received through pub/sub with a real
//! client library (the `redis` crate). Each test runs against Shoal and, when installed,
//! the reference redis-server, so a failure on the reference means the expectation is
//! wrong. The exhaustive per-command event streams are in `tests/diff/notify.txt`.

mod common;

use common::Server;
use std::time::{Duration, Instant};

/// Shoal, plus the reference redis-server when it is installed. With `REFERENCE_ONLY=1`,
/// only redis-server (to check the tests' own expectations).
fn both() -> Vec<Server> {
    let mut v = Vec::new();
    if std::env::var("REFERENCE_ONLY").map(|v| v != "1").unwrap_or(true) {
        v.push(Server::shoal(&[]));
    }
    if std::path::Path::new(common::REDIS_SERVER).exists() {
        v.push(Server::redis(&[]));
    } else if common::in_ci() {
        panic!("{} is missing and CI is set", common::REDIS_SERVER);
    }
    v
}

fn client(srv: &Server) -> redis::Connection {
    let c = redis::Client::open(srv.url()).expect("client");
    let con = c.get_connection().unwrap_or_else(|e| panic!("connect {}: {e}", srv.addr()));
    con.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    con
}

fn name(srv: &Server) -> String {
    format!("{} (port {})", srv.bin.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), srv.port)
}

fn run(con: &mut redis::Connection, args: &[&str]) -> redis::Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Receives `n` messages as "channel payload" strings, then checks that nothing more
/// arrives within `quiet`.
fn receive(ps: &mut redis::PubSub<'_>, n: usize, quiet: Duration, who: &str) -> Vec<String> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.len() < n {
        assert!(Instant::now() < deadline, "{who}: only {} of {n} messages: {got:?}", got.len());
        ps.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let m = ps.get_message().unwrap_or_else(|e| panic!("{who}: after {got:?}: {e}"));
        got.push(format!("{} {}", m.get_channel_name(), String::from_utf8_lossy(m.get_payload_bytes())));
    }
    ps.set_read_timeout(Some(quiet)).expect("timeout");
    if let Ok(m) = ps.get_message() {
        panic!("{who}: unexpected extra message {} {} after {got:?}", m.get_channel_name(), String::from_utf8_lossy(m.get_payload_bytes()));
    }
    got
}

/// Subscribes `ps` to `pattern` (the subscription lasts as long as `ps`).
fn psubscribe(ps: &mut redis::PubSub<'_>, pattern: &str) {
    ps.psubscribe(pattern).expect("psubscribe");
}

#[test]
fn events_of_common_commands_in_order() {
    for srv in both() {
        let who = name(&srv);
        let mut con = client(&srv);
        run(&mut con, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
        let mut subcon = client(&srv);
        let mut sub = subcon.as_pubsub();
        psubscribe(&mut sub, "__key*__:*");
        run(&mut con, &["SET", "k", "v", "EX", "100"]);
        run(&mut con, &["RPUSH", "l", "a"]);
        run(&mut con, &["LPOP", "l"]);
        run(&mut con, &["HSET", "h", "f", "v"]);
        run(&mut con, &["RENAME", "k", "k2"]);
        run(&mut con, &["DEL", "k2", "h"]);
        let got = receive(&mut sub, 20, Duration::from_millis(200), &who);
        let want = [
            "__keyspace@0__:k set",
            "__keyevent@0__:set k",
            "__keyspace@0__:k expire",
            "__keyevent@0__:expire k",
            "__keyspace@0__:l rpush",
            "__keyevent@0__:rpush l",
            "__keyspace@0__:l lpop",
            "__keyevent@0__:lpop l",
            "__keyspace@0__:l del",
            "__keyevent@0__:del l",
            "__keyspace@0__:h hset",
            "__keyevent@0__:hset h",
            "__keyspace@0__:k rename_from",
            "__keyevent@0__:rename_from k",
            "__keyspace@0__:k2 rename_to",
            "__keyevent@0__:rename_to k2",
            "__keyspace@0__:k2 del",
            "__keyevent@0__:del k2",
            "__keyspace@0__:h del",
            "__keyevent@0__:del h",
        ];
        assert_eq!(got, want, "{who}");
    }
}

#[test]
fn new_and_expired_events() {
    for srv in both() {
        let who = name(&srv);
        let mut con = client(&srv);
        run(&mut con, &["CONFIG", "SET", "notify-keyspace-events", "Exn$"]);
        let mut subcon = client(&srv);
        let mut sub = subcon.as_pubsub();
        psubscribe(&mut sub, "__keyevent@*");
        run(&mut con, &["SET", "a", "v", "PX", "50"]);
        std::thread::sleep(Duration::from_millis(200));
        // lazily (GET) or actively (cron) expired: either way before the SET's events
        run(&mut con, &["SET", "a", "w"]);
        let got = receive(&mut sub, 5, Duration::from_millis(200), &who);
        let want =
            ["__keyevent@0__:new a", "__keyevent@0__:set a", "__keyevent@0__:expired a", "__keyevent@0__:new a", "__keyevent@0__:set a"];
        assert_eq!(got, want, "{who}");
        // active expiry alone
        run(&mut con, &["SET", "b", "v", "PX", "50"]);
        let got = receive(&mut sub, 3, Duration::from_millis(600), &who);
        assert_eq!(got, ["__keyevent@0__:new b", "__keyevent@0__:set b", "__keyevent@0__:expired b"], "{who}");
    }
}

#[test]
fn served_blocked_client_emits_pop_events() {
    for srv in both() {
        let who = name(&srv);
        let mut con = client(&srv);
        run(&mut con, &["CONFIG", "SET", "notify-keyspace-events", "El"]);
        let mut subcon = client(&srv);
        let mut sub = subcon.as_pubsub();
        psubscribe(&mut sub, "__keyevent@0__:*");
        let mut blocked = client(&srv);
        let t = std::thread::spawn(move || run(&mut blocked, &["BLPOP", "q", "5"]));
        // wait until the BLPOP is blocked
        let start = Instant::now();
        loop {
            let info: String = redis::cmd("INFO").arg("clients").query(&mut con).expect("info");
            if info.contains("blocked_clients:1") {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(5), "{who}: BLPOP never blocked");
            std::thread::sleep(Duration::from_millis(10));
        }
        run(&mut con, &["RPUSH", "q", "x"]);
        let reply = t.join().expect("blpop thread");
        assert_eq!(
            reply,
            redis::Value::Array(vec![redis::Value::BulkString(b"q".to_vec()), redis::Value::BulkString(b"x".to_vec())]),
            "{who}"
        );
        let got = receive(&mut sub, 2, Duration::from_millis(200), &who);
        assert_eq!(got, ["__keyevent@0__:rpush q", "__keyevent@0__:lpop q"], "{who}");
    }
}

#[test]
fn no_events_when_disabled() {
    for srv in both() {
        let who = name(&srv);
        let mut con = client(&srv);
        let mut subcon = client(&srv);
        let mut sub = subcon.as_pubsub();
        psubscribe(&mut sub, "*");
        run(&mut con, &["SET", "a", "v"]);
        run(&mut con, &["DEL", "a"]);
        run(&mut con, &["PUBLISH", "marker", "m"]);
        // the marker arrives, and nothing before it
        let got = receive(&mut sub, 1, Duration::from_millis(100), &who);
        assert_eq!(got, ["marker m"], "{who}");
    }
}
