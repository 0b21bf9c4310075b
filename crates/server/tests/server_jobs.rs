//! Server-side jobs and limits that no single command shows: active expiry (keys nobody
//! reads are reclaimed), DEBUG SET-ACTIVE-EXPIRE, output buffer limits, CLIENT PAUSE WRITE.

mod common;

use common::Server;
use std::time::{Duration, Instant};

fn int_reply(r: &[u8]) -> i64 {
    let s = std::str::from_utf8(r).expect("utf8");
    assert!(s.starts_with(':'), "not an integer reply: {s:?}");
    s[1..].trim_end().parse().expect("integer")
}

fn info_field(conn: &mut common::RawConn, field: &str) -> String {
    let r = conn.cmd(&["INFO", "stats"]).expect("info");
    let text = String::from_utf8_lossy(&r).into_owned();
    text.lines().find_map(|l| l.strip_prefix(&format!("{field}:")).map(|v| v.trim().to_string())).unwrap_or_default()
}

#[test]
fn active_expiry_reclaims_unread_keys() {
    let srv = Server::shoal(&[]);
    let mut c = srv.conn();
    for i in 0..500 {
        c.cmd(&["SET", &format!("vol:{i}"), "v", "PX", "100"]).expect("set");
    }
    for i in 0..50 {
        c.cmd(&["SET", &format!("keep:{i}"), "v"]).expect("set");
    }
    assert_eq!(int_reply(&c.cmd(&["DBSIZE"]).unwrap()), 550);
    // Nobody reads the volatile keys: only the active expire cycle can remove them.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let n = int_reply(&c.cmd(&["DBSIZE"]).unwrap());
        if n == 50 {
            break;
        }
        assert!(Instant::now() < deadline, "active expiry left {n} keys");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(info_field(&mut c, "expired_keys"), "500");
}

#[test]
fn debug_set_active_expire_stops_the_cycle() {
    let srv = Server::shoal(&["--enable-debug-command", "yes"]);
    let mut c = srv.conn();
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]).unwrap(), b"+OK\r\n");
    for i in 0..100 {
        c.cmd(&["SET", &format!("vol:{i}"), "v", "PX", "50"]).expect("set");
    }
    std::thread::sleep(Duration::from_millis(600));
    // Still counted (not reclaimed), but logically gone when read.
    assert_eq!(int_reply(&c.cmd(&["DBSIZE"]).unwrap()), 100);
    assert_eq!(c.cmd(&["GET", "vol:1"]).unwrap(), b"$-1\r\n");
    assert_eq!(int_reply(&c.cmd(&["DBSIZE"]).unwrap()), 99);
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]).unwrap(), b"+OK\r\n");
    let deadline = Instant::now() + Duration::from_secs(5);
    while int_reply(&c.cmd(&["DBSIZE"]).unwrap()) != 0 {
        assert!(Instant::now() < deadline, "active expiry did not resume");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn output_buffer_hard_limit_closes_only_that_client() {
    let srv = Server::shoal(&[]);
    let mut admin = srv.conn();
    let big = vec![b'x'; 2 * 1024 * 1024];
    admin.cmd(&[&b"SET"[..], b"big", &big]).expect("set big");
    assert_eq!(admin.cmd(&["CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 0 0"]).unwrap(), b"+OK\r\n");
    // The config is re-read by connections at most once a second.
    std::thread::sleep(Duration::from_millis(1100));
    let mut c = srv.conn();
    c.send(&["GET", "big"]).unwrap();
    assert!(c.closed_within(Duration::from_secs(5)), "client above the hard limit must be closed");
    // Other clients and the data are unaffected.
    assert_eq!(admin.cmd(&["STRLEN", "big"]).unwrap(), format!(":{}\r\n", big.len()).into_bytes());
    assert!(srv.log_text().contains("closed for overcoming of output buffer limits"), "no log line:\n{}", srv.log_text());
    let mut small = srv.conn();
    assert_eq!(small.cmd(&["PING"]).unwrap(), b"+PONG\r\n");
}

#[test]
fn client_pause_write_holds_writes_only() {
    let srv = Server::shoal(&[]);
    let mut admin = srv.conn();
    let mut w = srv.conn();
    w.cmd(&["SET", "k", "1"]).unwrap();
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "500", "WRITE"]).unwrap(), b"+OK\r\n");
    let t = Instant::now();
    // Reads are served during a WRITE pause.
    assert_eq!(w.cmd(&["GET", "k"]).unwrap(), b"$1\r\n1\r\n");
    assert!(t.elapsed() < Duration::from_millis(400), "a read waited for the pause");
    // Writes wait until it ends.
    assert_eq!(w.cmd(&["INCR", "k"]).unwrap(), b":2\r\n");
    assert!(t.elapsed() >= Duration::from_millis(400), "a write was not held: {:?}", t.elapsed());
}

/// Kills the daemon whose PID is in `pidfile` when dropped (also when the test fails).
struct DaemonGuard(std::path::PathBuf);

impl Drop for DaemonGuard {
    fn drop(&mut self) {
        if let Ok(s) = std::fs::read_to_string(&self.0) {
            if let Ok(pid) = s.trim().parse::<i32>() {
                let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
            }
        }
    }
}

#[test]
fn daemonize_pidfile_and_logfile() {
    let dir = std::env::temp_dir().join(format!("shoal-daemon-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pidfile = dir.join("shoal.pid");
    let logfile = dir.join("shoal.log");
    let port = common::free_port();
    let _guard = DaemonGuard(pidfile.clone());
    let status = std::process::Command::new(common::shoal_bin())
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--daemonize", "yes"])
        .args(["--pidfile", pidfile.to_str().unwrap(), "--logfile", logfile.to_str().unwrap(), "--dir", dir.to_str().unwrap()])
        .status()
        .expect("run shoal-server");
    // The foreground process returns at once; the daemon keeps serving.
    assert!(status.success(), "daemonizing parent exited with {status}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut conn = loop {
        if let Ok(c) = common::RawConn::connect(port) {
            break c;
        }
        assert!(Instant::now() < deadline, "daemon did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(conn.cmd(&["PING"]).unwrap(), b"+PONG\r\n");
    let pid: u32 = std::fs::read_to_string(&pidfile).expect("pidfile written").trim().parse().expect("pid");
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists(), "pid {pid} from the pidfile is not running");
    let log = std::fs::read_to_string(&logfile).expect("logfile written");
    assert!(log.contains("Ready to accept connections"), "log: {log}");
    // SHUTDOWN removes the pidfile, as redis-server does.
    let _ = conn.cmd(&["SHUTDOWN", "NOSAVE"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while pidfile.exists() {
        assert!(Instant::now() < deadline, "pidfile not removed at shutdown");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
