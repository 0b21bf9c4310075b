//! Pub/sub delivery: message order across connections, and the `pubsub` class of
//! `client-output-buffer-limit` closing a subscriber that never reads while PUBLISH keeps
//! answering at once (the publisher never waits for a subscriber).

mod common;

use common::{encode_cmd, RawConn, Server};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

fn bulk_count(reply: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(reply);
    s.trim().trim_start_matches(':').parse().unwrap_or(-1)
}

#[test]
fn messages_arrive_in_order() {
    let srv = Server::shoal(&[]);
    let mut sub = srv.conn();
    let r = sub.cmd(&["SUBSCRIBE", "ch"]).expect("subscribe");
    assert_eq!(r, b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    let mut psub = srv.conn();
    psub.cmd(&["PSUBSCRIBE", "c*"]).expect("psubscribe");
    let mut publisher = srv.conn();
    // Pipelined: 2000 PUBLISH in one write.
    let n = 2000;
    let mut batch = Vec::new();
    for i in 0..n {
        batch.extend_from_slice(&encode_cmd(&["PUBLISH", "ch", &i.to_string()]));
    }
    publisher.send_raw(&batch).expect("send");
    for _ in 0..n {
        let r = publisher.read_reply().expect("publish reply");
        assert_eq!(r, b":2\r\n");
    }
    for i in 0..n {
        let m = sub.read_reply().expect("message");
        let want = encode_cmd(&["message", "ch", &i.to_string()]);
        assert_eq!(m, want, "message {i}");
        let p = psub.read_reply().expect("pmessage");
        assert_eq!(p, encode_cmd(&["pmessage", "c*", "ch", &i.to_string()]), "pmessage {i}");
    }
    // A subscriber's own replies come after the messages published before its command.
    publisher.cmd(&["PUBLISH", "ch", "before-ping"]).expect("publish");
    let r = sub.cmd(&["PING"]).expect("message");
    assert_eq!(r, encode_cmd(&["message", "ch", "before-ping"]));
    let r = sub.read_reply().expect("pong");
    assert_eq!(r, b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
}

#[test]
fn slow_subscriber_is_disconnected_and_publisher_is_not_delayed() {
    let srv = Server::shoal(&[]);
    let mut admin = srv.conn();
    let r = admin.cmd(&["CONFIG", "SET", "client-output-buffer-limit", "pubsub 64kb 32kb 1"]).expect("config set");
    assert_eq!(r, b"+OK\r\n");

    // The slow subscriber: a small receive buffer, and it never reads after SUBSCRIBE.
    let mut slow = srv.conn();
    let size: libc::c_int = 4096;
    // SAFETY: setsockopt on a socket this test owns, with a pointer to a live c_int.
    unsafe {
        libc::setsockopt(
            slow.stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            &size as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    let slow_id = slow.cmd(&["CLIENT", "ID"]).expect("client id");
    slow.cmd(&["SUBSCRIBE", "flood"]).expect("subscribe");
    slow.cmd(&["PING"]).expect("ping");
    let clients = admin.cmd(&["CLIENT", "LIST"]).expect("client list");
    assert!(String::from_utf8_lossy(&clients).contains("flags=P"), "the subscriber is listed with flags=P");

    // A healthy subscriber on the same channel keeps reading.
    let mut healthy = srv.conn();
    healthy.cmd(&["SUBSCRIBE", "flood"]).expect("subscribe");

    let mut publisher = srv.conn();
    let payload = "x".repeat(2 * 1024);
    let mut worst = Duration::ZERO;
    let mut receivers_seen = Vec::new();
    let start = Instant::now();
    let mut dropped_at = None;
    for round in 0..5000 {
        let t = Instant::now();
        let mut batch = Vec::new();
        for _ in 0..8 {
            batch.extend_from_slice(&encode_cmd(&["PUBLISH", "flood", &payload]));
        }
        publisher.stream.write_all(&batch).expect("send publishes");
        for _ in 0..8 {
            let r = publisher.read_reply().expect("publish reply");
            receivers_seen.push(bulk_count(&r));
        }
        worst = worst.max(t.elapsed());
        // Drain the healthy subscriber.
        for _ in 0..8 {
            healthy.read_reply().expect("healthy subscriber gets every message");
        }
        if receivers_seen.last() == Some(&1) {
            dropped_at = Some(round);
            break;
        }
    }
    let Some(round) = dropped_at else {
        panic!("the slow subscriber was never disconnected (receivers: {:?})", &receivers_seen[receivers_seen.len().saturating_sub(5)..]);
    };
    eprintln!("slow subscriber dropped after {} rounds, {:?}; worst batch of 8 PUBLISH: {worst:?}", round + 1, start.elapsed());
    assert!(worst < Duration::from_secs(2), "a PUBLISH batch took {worst:?}");

    // The slow subscriber's connection is gone from the server (reading what is still in
    // flight through its tiny window would take long: not needed).
    let slow_id = String::from_utf8_lossy(&slow_id).trim().trim_start_matches(':').to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = String::from_utf8_lossy(&admin.cmd(&["CLIENT", "LIST"]).expect("client list")).into_owned();
        if !list.contains(&format!("id={slow_id} ")) {
            break;
        }
        assert!(Instant::now() < deadline, "the slow subscriber is still connected: {list}");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(slow);
    let r = admin.cmd(&["PUBSUB", "NUMSUB", "flood"]).expect("numsub");
    assert_eq!(r, b"*2\r\n$5\r\nflood\r\n:1\r\n");
    // The publisher and the server carry on.
    let r = publisher.cmd(&["PUBLISH", "flood", "after"]).expect("publish");
    assert_eq!(r, b":1\r\n");
    assert_eq!(healthy.read_reply().expect("message"), encode_cmd(&["message", "flood", "after"]));
}

#[test]
fn keyspace_events_reach_subscribers() {
    let srv = Server::shoal(&[]);
    let mut c = srv.conn();
    assert_eq!(c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEg"]).expect("config"), b"+OK\r\n");
    let mut sub = RawConn::connect(srv.port).expect("connect");
    sub.cmd(&["PSUBSCRIBE", "__key*@0__:*"]).expect("psubscribe");
    c.cmd(&["SET", "k", "v"]).expect("set");
    c.cmd(&["DEL", "k"]).expect("del");
    let a = sub.read_reply().expect("keyspace event");
    assert_eq!(a, encode_cmd(&["pmessage", "__key*@0__:*", "__keyspace@0__:k", "del"]));
    let b = sub.read_reply().expect("keyevent event");
    assert_eq!(b, encode_cmd(&["pmessage", "__key*@0__:*", "__keyevent@0__:del", "k"]));
}
