//! Blocking stream reads across connections: XREAD BLOCK woken by XADD, `$` resolved
//! when the client blocks, timeouts, XREADGROUP BLOCK, FIFO among waiters, and
//! XREADGROUP waiters woken with an error when their group is destroyed.

mod common;

use common::Server;
use std::time::{Duration, Instant};

const PAUSE: Duration = Duration::from_millis(100);

#[test]
fn xread_block_woken_by_xadd() {
    let srv = Server::shoal(&[]);
    let mut a = srv.conn();
    let mut p = srv.conn();
    a.send(&["XREAD", "BLOCK", "5000", "STREAMS", "s", "0"]).unwrap();
    std::thread::sleep(PAUSE);
    assert!(String::from_utf8_lossy(&p.cmd(&["INFO", "clients"]).unwrap()).contains("blocked_clients:1"));
    assert_eq!(p.cmd(&["XADD", "s", "1-1", "f", "v"]).unwrap(), b"$3\r\n1-1\r\n");
    assert_eq!(a.read_reply().unwrap(), b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n".to_vec());
}

#[test]
fn dollar_is_resolved_when_blocking() {
    let srv = Server::shoal(&[]);
    let mut a = srv.conn();
    let mut p = srv.conn();
    p.cmd(&["XADD", "s", "1-1", "f", "old"]).unwrap();
    a.send(&["XREAD", "BLOCK", "5000", "STREAMS", "s", "$"]).unwrap();
    std::thread::sleep(PAUSE);
    // `$` was resolved to 1-1 when the client blocked, so the new entry is served.
    p.cmd(&["XADD", "s", "2-1", "f", "new"]).unwrap();
    assert_eq!(a.read_reply().unwrap(), b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nf\r\n$3\r\nnew\r\n".to_vec());
    // Blocking again with `$` waits for entries after 2-1 only.
    a.send(&["XREAD", "BLOCK", "5000", "STREAMS", "s", "$"]).unwrap();
    std::thread::sleep(PAUSE);
    p.cmd(&["XADD", "s", "3-1", "f", "newer"]).unwrap();
    assert_eq!(a.read_reply().unwrap(), b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n3-1\r\n*2\r\n$1\r\nf\r\n$5\r\nnewer\r\n".to_vec());
}

#[test]
fn xread_block_timeout_and_resp3() {
    let srv = Server::shoal(&[]);
    let mut a = srv.conn();
    let t = Instant::now();
    assert_eq!(a.cmd(&["XREAD", "BLOCK", "200", "STREAMS", "s", "$"]).unwrap(), b"*-1\r\n");
    assert!(t.elapsed() >= Duration::from_millis(150), "timed out too early: {:?}", t.elapsed());
    a.cmd(&["HELLO", "3"]).unwrap();
    assert_eq!(a.cmd(&["XREAD", "BLOCK", "100", "STREAMS", "s", "$"]).unwrap(), b"_\r\n");
    // Served in RESP3: a map keyed by stream name.
    let mut p = srv.conn();
    a.send(&["XREAD", "BLOCK", "5000", "STREAMS", "s", "$"]).unwrap();
    std::thread::sleep(PAUSE);
    p.cmd(&["XADD", "s", "1-1", "f", "v"]).unwrap();
    assert_eq!(a.read_reply().unwrap(), b"%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n".to_vec());
}

#[test]
fn block_inside_multi_does_not_block() {
    let srv = Server::shoal(&[]);
    let mut a = srv.conn();
    a.cmd(&["MULTI"]).unwrap();
    a.cmd(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]).unwrap();
    assert_eq!(a.cmd(&["EXEC"]).unwrap(), b"*1\r\n*-1\r\n");
}

#[test]
fn xreadgroup_block_woken_and_fifo() {
    let srv = Server::shoal(&[]);
    let mut a = srv.conn();
    let mut b = srv.conn();
    let mut p = srv.conn();
    assert_eq!(p.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]).unwrap(), b"+OK\r\n");
    a.send(&["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "5000", "STREAMS", "s", ">"]).unwrap();
    std::thread::sleep(PAUSE);
    b.send(&["XREADGROUP", "GROUP", "g", "bob", "BLOCK", "5000", "STREAMS", "s", ">"]).unwrap();
    std::thread::sleep(PAUSE);
    p.cmd(&["XADD", "s", "1-1", "f", "one"]).unwrap();
    // The first waiter gets the entry; the second keeps waiting for the next one.
    assert_eq!(a.read_reply().unwrap(), b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$3\r\none\r\n".to_vec());
    p.cmd(&["XADD", "s", "1-2", "f", "two"]).unwrap();
    assert_eq!(b.read_reply().unwrap(), b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nf\r\n$3\r\ntwo\r\n".to_vec());
    let pending = p.cmd(&["XPENDING", "s", "g"]).unwrap();
    assert_eq!(
        pending,
        b"*4\r\n:2\r\n$3\r\n1-1\r\n$3\r\n1-2\r\n*2\r\n*2\r\n$5\r\nalice\r\n$1\r\n1\r\n*2\r\n$3\r\nbob\r\n$1\r\n1\r\n".to_vec()
    );
}

#[test]
fn two_xread_waiters_both_served() {
    let srv = Server::shoal(&[]);
    let mut a = srv.conn();
    let mut b = srv.conn();
    let mut p = srv.conn();
    a.send(&["XREAD", "BLOCK", "5000", "STREAMS", "s", "$"]).unwrap();
    std::thread::sleep(PAUSE);
    b.send(&["XREAD", "BLOCK", "5000", "STREAMS", "s", "$"]).unwrap();
    std::thread::sleep(PAUSE);
    p.cmd(&["XADD", "s", "1-1", "f", "v"]).unwrap();
    let want = b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n".to_vec();
    assert_eq!(a.read_reply().unwrap(), want);
    assert_eq!(b.read_reply().unwrap(), want);
}

#[test]
fn xreadgroup_waiter_gets_nogroup_when_group_destroyed() {
    let srv = Server::shoal(&[]);
    let mut a = srv.conn();
    let mut p = srv.conn();
    p.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]).unwrap();
    a.send(&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000", "STREAMS", "s", ">"]).unwrap();
    std::thread::sleep(PAUSE);
    assert_eq!(p.cmd(&["XGROUP", "DESTROY", "s", "g"]).unwrap(), b":1\r\n");
    assert_eq!(a.read_reply().unwrap(), b"-NOGROUP the consumer group this client was blocked on no longer exists\r\n".to_vec());
}
