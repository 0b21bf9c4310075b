//! CLIENT UNBLOCK id [TIMEOUT|ERROR] across two connections: the blocked client gets the
//! timeout reply (null array, `_` in RESP3) or the UNBLOCKED error, its pipelined
//! commands then run; clients that are not blocked, unknown ids and bad arguments.
//! Every scenario runs on redis-server 7.0.15 and on Shoal and both must reply the same.

mod common;

use common::{escape, RawConn, Server};
use std::time::Duration;

fn client_id(c: &mut RawConn) -> String {
    let r = c.cmd(&["CLIENT", "ID"]).unwrap();
    assert_eq!(r[0], b':', "CLIENT ID: {}", escape(&r));
    String::from_utf8_lossy(&r[1..r.len() - 2]).into_owned()
}

fn blocked_clients(c: &mut RawConn) -> String {
    let info = String::from_utf8_lossy(&c.cmd(&["INFO", "clients"]).unwrap()).into_owned();
    info.lines().find(|l| l.starts_with("blocked_clients:")).unwrap_or("").to_string()
}

/// Waits until `n` clients are blocked.
fn wait_blocked(c: &mut RawConn, n: usize) {
    let want = format!("blocked_clients:{n}");
    for _ in 0..200 {
        if blocked_clients(c) == want {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("never saw {want}: {}", blocked_clients(c));
}

/// One scenario on one server: the replies seen by the blocked client and by the
/// client that unblocks it, in order.
fn scenario(srv: &Server, resp3: bool, blocking: &[&str], reason: Option<&str>) -> Vec<Vec<u8>> {
    let mut a = srv.conn();
    let mut b = srv.conn();
    let mut seen = Vec::new();
    if resp3 {
        a.cmd(&["HELLO", "3"]).unwrap();
    }
    let id = client_id(&mut a);
    // A command pipelined behind the blocking one runs once it is unblocked.
    let mut bytes = common::encode_cmd(blocking);
    bytes.extend_from_slice(&common::encode_cmd(&["PING"]));
    a.send_raw(&bytes).unwrap();
    wait_blocked(&mut b, 1);
    let mut cmd = vec!["CLIENT", "UNBLOCK", id.as_str()];
    cmd.extend(reason);
    seen.push(b.cmd(&cmd).unwrap());
    seen.push(a.read_reply().unwrap());
    seen.push(a.read_reply().unwrap());
    // No longer blocked: a second UNBLOCK finds nothing.
    seen.push(b.cmd(&["CLIENT", "UNBLOCK", id.as_str(), "ERROR"]).unwrap());
    seen.push(blocked_clients(&mut b).into_bytes());
    // Nothing was consumed or created by the unblocked command.
    seen.push(b.cmd(&["DBSIZE"]).unwrap());
    seen
}

const BLOCKING: &[&[&str]] = &[
    &["BLPOP", "l1", "l2", "0"],
    &["BRPOP", "l1", "30"],
    &["BLMOVE", "l1", "dst", "LEFT", "RIGHT", "0"],
    &["BRPOPLPUSH", "l1", "dst", "0"],
    &["BLMPOP", "0", "2", "l1", "l2", "LEFT", "COUNT", "3"],
    &["BZPOPMIN", "z1", "0"],
    &["BZPOPMAX", "z1", "z2", "0"],
    &["BZMPOP", "0", "1", "z1", "MAX"],
];

#[test]
fn unblock_timeout_and_error_match_redis() {
    if !common::redis_available("unblock_timeout_and_error_match_redis") {
        return;
    }
    let shoal = Server::shoal(&[]);
    let redis = Server::redis(&[]);
    for resp3 in [false, true] {
        for blocking in BLOCKING {
            for reason in [None, Some("TIMEOUT"), Some("error"), Some("Timeout")] {
                let want = scenario(&redis, resp3, blocking, reason);
                let got = scenario(&shoal, resp3, blocking, reason);
                let show = |v: &Vec<Vec<u8>>| v.iter().map(|r| escape(r)).collect::<Vec<_>>().join(" | ");
                assert_eq!(show(&got), show(&want), "resp3={resp3} {blocking:?} reason={reason:?}");
            }
        }
    }
}

#[test]
fn unblock_replies_exactly() {
    let srv = Server::shoal(&[]);
    let mut a = srv.conn();
    let mut b = srv.conn();
    let id = client_id(&mut a);

    // TIMEOUT (also the default): the blocked client gets the timeout reply.
    a.send(&["BLPOP", "q", "0"]).unwrap();
    wait_blocked(&mut b, 1);
    assert_eq!(b.cmd(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"]).unwrap(), b":1\r\n");
    assert_eq!(a.read_reply().unwrap(), b"*-1\r\n");

    // ERROR.
    a.send(&["BZPOPMIN", "z", "0"]).unwrap();
    wait_blocked(&mut b, 1);
    assert_eq!(b.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]).unwrap(), b":1\r\n");
    assert_eq!(a.read_reply().unwrap(), b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    let info = String::from_utf8_lossy(&b.cmd(&["INFO", "errorstats"]).unwrap()).into_owned();
    assert!(info.contains("errorstat_UNBLOCKED:count=1"), "{info}");

    // The unblocked client is usable again, and a later push does not reach it.
    assert_eq!(a.cmd(&["PING"]).unwrap(), b"+PONG\r\n");
    assert_eq!(b.cmd(&["RPUSH", "q", "x"]).unwrap(), b":1\r\n");
    assert_eq!(b.cmd(&["LLEN", "q"]).unwrap(), b":1\r\n");

    // Not blocked, unknown, own id.
    assert_eq!(b.cmd(&["CLIENT", "UNBLOCK", &id]).unwrap(), b":0\r\n");
    assert_eq!(b.cmd(&["CLIENT", "UNBLOCK", "987654"]).unwrap(), b":0\r\n");
    assert_eq!(b.cmd(&["CLIENT", "UNBLOCK", "-3", "ERROR"]).unwrap(), b":0\r\n");
    let own = client_id(&mut b);
    assert_eq!(b.cmd(&["CLIENT", "UNBLOCK", &own]).unwrap(), b":0\r\n");

    // Bad arguments: the reason is checked before the id.
    assert_eq!(b.cmd(&["CLIENT", "UNBLOCK", "abc", "nope"]).unwrap(), b"-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n");
    assert_eq!(b.cmd(&["CLIENT", "UNBLOCK", "abc"]).unwrap(), b"-ERR value is not an integer or out of range\r\n");
    assert_eq!(
        b.cmd(&["client", "unblock", "1", "2", "3"]).unwrap(),
        b"-ERR unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP.\r\n"
    );
    assert_eq!(b.cmd(&["CLIENT", "UNBLOCK"]).unwrap(), b"-ERR wrong number of arguments for 'client|unblock' command\r\n");

    // A client that is unblocked by a push before the UNBLOCK is not blocked any more.
    a.send(&["BLPOP", "q2", "0"]).unwrap();
    wait_blocked(&mut b, 1);
    assert_eq!(b.cmd(&["RPUSH", "q2", "v"]).unwrap(), b":1\r\n");
    assert_eq!(a.read_reply().unwrap(), b"*2\r\n$2\r\nq2\r\n$1\r\nv\r\n");
    assert_eq!(b.cmd(&["CLIENT", "UNBLOCK", &id]).unwrap(), b":0\r\n");
    assert_eq!(blocked_clients(&mut b), "blocked_clients:0");
}
