//! Blocked clients across connections: first-come-first-served wake-ups, timeouts,
//! pushes inside MULTI waking waiters only after EXEC, pipelined commands behind a
//! blocking one, and disconnection of a blocked client.

mod common;

use common::Server;
use std::time::{Duration, Instant};

#[test]
fn waiters_are_served_in_arrival_order() {
    let srv = Server::shoal(&[]);
    let mut a = srv.conn();
    let mut b = srv.conn();
    let mut p = srv.conn();
    a.send(&["BLPOP", "q", "5"]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    b.send(&["BLPOP", "q", "5"]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(String::from_utf8_lossy(&p.cmd(&["INFO", "clients"]).unwrap()).contains("blocked_clients:2"));
    assert_eq!(p.cmd(&["RPUSH", "q", "first", "second"]).unwrap(), b":2\r\n");
    assert_eq!(a.read_reply().unwrap(), b"*2\r\n$1\r\nq\r\n$5\r\nfirst\r\n");
    assert_eq!(b.read_reply().unwrap(), b"*2\r\n$1\r\nq\r\n$6\r\nsecond\r\n");
    assert_eq!(p.cmd(&["EXISTS", "q"]).unwrap(), b":0\r\n");
}

#[test]
fn timeout_replies_null_and_pipelined_commands_wait() {
    let srv = Server::shoal(&[]);
    let mut a = srv.conn();
    let t = Instant::now();
    a.send_raw(b"BLPOP nothing 0.3\r\nPING\r\n").unwrap();
    assert_eq!(a.read_reply().unwrap(), b"*-1\r\n");
    assert!(t.elapsed() >= Duration::from_millis(250), "timed out too early: {:?}", t.elapsed());
    assert_eq!(a.read_reply().unwrap(), b"+PONG\r\n");
}

#[test]
fn push_inside_multi_wakes_after_exec() {
    let srv = Server::shoal(&[]);
    let mut a = srv.conn();
    let mut p = srv.conn();
    a.send(&["BRPOPLPUSH", "src", "dst", "5"]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    p.cmd(&["MULTI"]).unwrap();
    p.cmd(&["RPUSH", "src", "x"]).unwrap();
    // Inside the transaction the element is still visible to the transaction itself.
    p.cmd(&["LLEN", "src"]).unwrap();
    assert_eq!(p.cmd(&["EXEC"]).unwrap(), b"*2\r\n:1\r\n:1\r\n");
    assert_eq!(a.read_reply().unwrap(), b"$1\r\nx\r\n");
    assert_eq!(p.cmd(&["LRANGE", "dst", "0", "-1"]).unwrap(), b"*1\r\n$1\r\nx\r\n");
}

#[test]
fn zset_waiters_and_disconnection() {
    let srv = Server::shoal(&[]);
    let mut p = srv.conn();
    {
        let mut gone = srv.conn();
        gone.send(&["BZPOPMIN", "z", "0"]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    } // dropped: the server must forget it
    let mut w = srv.conn();
    w.send(&["BZPOPMAX", "z", "5"]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    p.cmd(&["ZADD", "z", "1", "a", "2", "b"]).unwrap();
    assert_eq!(w.read_reply().unwrap(), b"*3\r\n$1\r\nz\r\n$1\r\nb\r\n$1\r\n2\r\n");
    // The disconnected waiter took nothing.
    assert_eq!(p.cmd(&["ZCARD", "z"]).unwrap(), b":1\r\n");
    let info = p.cmd(&["INFO", "clients"]).unwrap();
    assert!(String::from_utf8_lossy(&info).contains("blocked_clients:0"), "{}", String::from_utf8_lossy(&info));
}
