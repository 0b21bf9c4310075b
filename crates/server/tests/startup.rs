//! Start-up configuration: the real binary with bad directives / values / config-file
//! lines must print redis-server's FATAL CONFIG FILE ERROR block and exit with status 1;
//! a valid config file plus a command-line override must start, report the override
//! through CONFIG GET, and CONFIG REWRITE must update the file keeping its comments.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_shoal-server");

/// Kills the server when the test ends, also on failure.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn temp_file(tag: &str, content: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("shoal-startup-{}-{tag}.conf", std::process::id()));
    std::fs::write(&p, content).expect("write temp config");
    p
}

/// Runs the binary expecting it to exit by itself; returns (status code, stderr).
fn run_failing(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Guard(
        Command::new(BIN).args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn shoal-server"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.0.try_wait().expect("wait") {
            let mut err = String::new();
            if let Some(mut e) = child.0.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            return (status.code(), err);
        }
        assert!(Instant::now() < deadline, "shoal-server {args:?} did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn fatal(line: usize, text: &str, reason: &str) -> String {
    format!("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line {line}\n>>> '{text}'\n{reason}\n")
}

#[test]
fn bad_directive_on_command_line() {
    let (code, err) = run_failing(&["--port", "0", "--nosuch", "1"]);
    assert_eq!(code, Some(1));
    assert_eq!(err, fatal(3, "nosuch \"1\"", "Bad directive or wrong number of arguments"));
}

#[test]
fn bad_value_on_command_line() {
    let (code, err) = run_failing(&["--maxmemory", "abc"]);
    assert_eq!(code, Some(1));
    assert_eq!(err, fatal(2, "maxmemory \"abc\"", "argument must be a memory value"));
    let (code, err) = run_failing(&["--port", "1", "2"]);
    assert_eq!(code, Some(1));
    assert_eq!(err, fatal(2, "port \"1\" \"2\"", "wrong number of arguments"));
}

#[test]
fn bad_config_file_line() {
    let f = temp_file("bad", "port 0\n# comment\n\ntimeout x\n");
    let (code, err) = run_failing(&[f.to_str().unwrap_or_default()]);
    let _ = std::fs::remove_file(&f);
    assert_eq!(code, Some(1));
    assert_eq!(err, fatal(4, "timeout x", "argument couldn't be parsed into an integer"));
    // Command-line options come after the file's lines (and the extra newline Redis adds).
    let f = temp_file("bad2", "port 0\n");
    let (code, err) = run_failing(&[f.to_str().unwrap_or_default(), "--loglevel", "loud"]);
    let _ = std::fs::remove_file(&f);
    assert_eq!(code, Some(1));
    assert_eq!(err, fatal(3, "loglevel \"loud\"", "argument(s) must be one of the following: debug, verbose, notice, warning"));
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

fn connect(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
            return s;
        }
        assert!(Instant::now() < deadline, "server did not start on port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends a command and reads until `expected` bytes arrived (or the timeout).
fn request(s: &mut TcpStream, args: &[&str], expected_len: usize) -> String {
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    s.write_all(req.as_bytes()).expect("send");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while out.len() < expected_len {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn config_file_with_override_and_rewrite() {
    let port = free_port();
    let f = temp_file("ok", "# keep this comment\nport 1\nbind 127.0.0.1\n\ntimeout 7\nsave \"\"\n");
    let path = f.to_str().unwrap_or_default().to_string();
    let _server = Guard(
        Command::new(BIN)
            .args([path.as_str(), "--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn shoal-server"),
    );
    let mut s = connect(port);
    let p = port.to_string();
    let want = format!("*2\r\n$4\r\nport\r\n${}\r\n{p}\r\n", p.len());
    // The raw request of the brief: CONFIG GET port.
    s.write_all(b"*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$4\r\nport\r\n").expect("send");
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < want.len() {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    assert_eq!(String::from_utf8_lossy(&got), want);
    assert_eq!(request(&mut s, &["CONFIG", "GET", "timeout"], 24), "*2\r\n$7\r\ntimeout\r\n$1\r\n7\r\n");
    assert_eq!(request(&mut s, &["CONFIG", "SET", "timeout", "9", "maxmemory", "3mb"], 5), "+OK\r\n");
    assert_eq!(request(&mut s, &["CONFIG", "REWRITE"], 5), "+OK\r\n");
    let text = std::fs::read_to_string(&f).expect("read rewritten config");
    let _ = std::fs::remove_file(&f);
    assert!(text.starts_with(&format!("# keep this comment\nport {port}\nbind 127.0.0.1\n\ntimeout 9\nsave \"\"\n")), "{text}");
    assert!(text.contains("\n# Generated by CONFIG REWRITE\n"), "{text}");
    assert!(text.contains("\nmaxmemory 3mb\n"), "{text}");
}
