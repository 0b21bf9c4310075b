//! Shared helpers for the integration tests: a server process guard, free ports, and a
//! raw RESP client that returns each reply as the exact bytes the server sent.
//!
//! Not every test binary uses every helper.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The reference implementation.
pub const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// The Shoal binary built by cargo for this test run.
pub fn shoal_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_shoal-server"))
}

/// True when the tests run in CI (`CI` set to anything but "" / "0" / "false").
pub fn in_ci() -> bool {
    std::env::var("CI").map(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false")).unwrap_or(false)
}

/// Whether the reference redis-server can be used. Panics in CI when it is missing;
/// otherwise prints why the caller should skip.
pub fn redis_available(test: &str) -> bool {
    if Path::new(REDIS_SERVER).exists() {
        return true;
    }
    if in_ci() {
        panic!("{REDIS_SERVER} is missing and CI is set: install redis-server (scripts/test.sh does it)");
    }
    eprintln!("SKIPPED {test}: {REDIS_SERVER} is missing (install redis-server; with CI=true this is a failure)");
    false
}

/// A port that was free a moment ago (bind 127.0.0.1:0 and let the kernel pick).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// A server process, killed (by its PID) when dropped, also when the test panics.
pub struct Server {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
    pub bin: PathBuf,
}

impl Server {
    /// Starts Shoal with the standard test arguments plus `extra`.
    pub fn shoal(extra: &[&str]) -> Server {
        Server::start(&shoal_bin(), extra)
    }

    /// Starts the reference redis-server with the standard test arguments plus `extra`.
    pub fn redis(extra: &[&str]) -> Server {
        Server::start(Path::new(REDIS_SERVER), extra)
    }

    /// Starts `bin --port P --bind 127.0.0.1 --save "" --appendonly no <extra>` on a free
    /// port and waits (10 s at most) until it answers PING (any reply counts, so a server
    /// with requirepass is ready when it says NOAUTH). Retries on another port when the
    /// chosen one was taken meanwhile.
    pub fn start(bin: &Path, extra: &[&str]) -> Server {
        let mut last_err = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            let log = std::env::temp_dir().join(format!("shoal-test-{}-{port}.log", std::process::id()));
            let logf = std::fs::File::create(&log).expect("create server log");
            let logf2 = logf.try_clone().expect("clone log fd");
            let mut cmd = Command::new(bin);
            cmd.arg("--port")
                .arg(port.to_string())
                .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::from(logf))
                .stderr(Stdio::from(logf2));
            // SAFETY: prctl is async-signal-safe; it only asks the kernel to kill the
            // server if the test process dies without running Drop (e.g. SIGKILL).
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let child = match cmd.spawn() {
                Ok(c) => c,
                Err(e) => panic!("cannot start {}: {e}", bin.display()),
            };
            let mut srv = Server { child, port, log, bin: bin.to_path_buf() };
            match srv.wait_ready(Duration::from_secs(10)) {
                Ok(()) => return srv,
                Err(e) => {
                    last_err = format!("{e}; log:\n{}", srv.log_text());
                    // Drop kills it.
                }
            }
        }
        panic!("{} did not start: {last_err}", bin.display());
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}"));
            }
            if let Ok(mut c) = RawConn::connect(self.port) {
                if c.cmd(&["PING"]).is_ok() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(format!("no reply to PING on port {} within {timeout:?}", self.port));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Is the process still running?
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// A new raw connection.
    pub fn conn(&self) -> RawConn {
        RawConn::connect(self.port).unwrap_or_else(|e| panic!("connect to {}: {e}", self.addr()))
    }

    /// The server's output so far (stdout and stderr).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Child::kill sends SIGKILL to this child's PID only.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Encodes a command as a RESP multibulk.
pub fn encode_cmd<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The length of the first complete RESP2/RESP3 reply in `buf`, `Ok(None)` when more
/// bytes are needed, `Err` for bytes that are not RESP.
pub fn reply_len(buf: &[u8]) -> Result<Option<usize>, String> {
    frame(buf, 0)
}

fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?.windows(2).position(|w| w == b"\r\n").map(|p| p + from)
}

fn parse_len(buf: &[u8], pos: usize, end: usize) -> Result<i64, String> {
    let s = std::str::from_utf8(&buf[pos + 1..end]).map_err(|_| "non-UTF-8 length".to_string())?;
    s.parse::<i64>().map_err(|_| format!("bad length {s:?}"))
}

/// Returns the end offset of the frame starting at `pos`.
fn frame(buf: &[u8], pos: usize) -> Result<Option<usize>, String> {
    let Some(&t) = buf.get(pos) else { return Ok(None) };
    let Some(end) = line_end(buf, pos) else { return Ok(None) };
    let after = end + 2;
    match t {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Ok(Some(after)),
        b'$' | b'=' | b'!' => {
            let n = parse_len(buf, pos, end)?;
            if n < 0 {
                return Ok(Some(after));
            }
            let stop = after + n as usize + 2;
            if buf.len() < stop {
                Ok(None)
            } else {
                Ok(Some(stop))
            }
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = parse_len(buf, pos, end)?;
            if n < 0 {
                return Ok(Some(after));
            }
            let elems = if t == b'%' || t == b'|' { 2 * n } else { n };
            let mut p = after;
            for _ in 0..elems {
                match frame(buf, p)? {
                    Some(e) => p = e,
                    None => return Ok(None),
                }
            }
            if t == b'|' {
                // An attribute precedes the reply it describes.
                return frame(buf, p);
            }
            Ok(Some(p))
        }
        other => Err(format!("unexpected RESP type byte {:?}", other as char)),
    }
}

/// Splits a complete aggregate reply into its header line and its top-level element
/// frames (pairs of frames for maps). `None` when `reply` is not an aggregate.
pub fn split_aggregate(reply: &[u8]) -> Option<(Vec<u8>, Vec<Vec<u8>>)> {
    let t = *reply.first()?;
    if !matches!(t, b'*' | b'~' | b'%' | b'>') {
        return None;
    }
    let end = line_end(reply, 0)?;
    let n = parse_len(reply, 0, end).ok()?;
    let header = reply[..end + 2].to_vec();
    if n < 0 {
        return Some((header, Vec::new()));
    }
    let per = if t == b'%' { 2 } else { 1 };
    let mut p = end + 2;
    let mut elems = Vec::new();
    for _ in 0..n {
        let s = p;
        for _ in 0..per {
            p = frame(reply, p).ok()??;
        }
        elems.push(reply[s..p].to_vec());
    }
    Some((header, elems))
}

/// Escapes bytes for messages: printable ASCII as is, the rest as \r \n \xHH.
pub fn escape(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

/// A plain blocking connection that reads replies as raw bytes.
pub struct RawConn {
    pub stream: TcpStream,
    buf: Vec<u8>,
    timeout: Duration,
}

impl RawConn {
    pub fn connect(port: u16) -> io::Result<RawConn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        let timeout = Duration::from_secs(10);
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(RawConn { stream, buf: Vec::new(), timeout })
    }

    /// Sets how long a read waits for a reply.
    pub fn set_timeout(&mut self, t: Duration) {
        self.timeout = t;
        let _ = self.stream.set_read_timeout(Some(t));
    }

    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        self.send_raw(&encode_cmd(args))
    }

    /// Sends a command and reads exactly one reply.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Vec<u8>> {
        self.send(args)?;
        self.read_reply()
    }

    /// Reads exactly one reply (bytes already buffered first). EOF before a complete
    /// reply is `UnexpectedEof`; no complete reply within the timeout is `TimedOut`.
    pub fn read_reply(&mut self) -> io::Result<Vec<u8>> {
        let deadline = Instant::now() + self.timeout;
        loop {
            match reply_len(&self.buf) {
                Ok(Some(n)) => return Ok(self.buf.drain(..n).collect()),
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{e}: {}", escape(&self.buf)))),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(io::ErrorKind::TimedOut, format!("no complete reply; got so far: {}", escape(&self.buf))));
            }
            self.stream.set_read_timeout(Some(left))?;
            let mut chunk = [0u8; 64 * 1024];
            let r = self.stream.read(&mut chunk);
            self.stream.set_read_timeout(Some(self.timeout))?;
            match r {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("connection closed; got so far: {}", escape(&self.buf)),
                    ))
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads whatever arrives until the peer closes the connection or nothing arrives
    /// for `quiet`. Returns the bytes (buffered ones included) and whether it closed.
    pub fn read_until_quiet(&mut self, quiet: Duration, max: Duration) -> (Vec<u8>, bool) {
        self.read_min(0, quiet, max)
    }

    /// Like [`RawConn::read_until_quiet`], but first waits (up to `max`) until at least
    /// `min` bytes are buffered.
    pub fn read_min(&mut self, min: usize, quiet: Duration, max: Duration) -> (Vec<u8>, bool) {
        let start = Instant::now();
        let mut closed = false;
        loop {
            let wait = if self.buf.len() < min { max.saturating_sub(start.elapsed()).max(Duration::from_millis(1)) } else { quiet };
            let _ = self.stream.set_read_timeout(Some(wait));
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    if self.buf.len() >= min || start.elapsed() >= max {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    closed = true;
                    break;
                }
            }
            if start.elapsed() > max {
                break;
            }
        }
        let _ = self.stream.set_read_timeout(Some(self.timeout));
        (std::mem::take(&mut self.buf), closed)
    }

    /// Waits up to `wait` for the peer to close the connection. Bytes that arrive
    /// meanwhile are kept for the next read.
    pub fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let _ = self.stream.set_read_timeout(Some(self.timeout));
                return false;
            }
            let _ = self.stream.set_read_timeout(Some(left));
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted) => {}
                Err(_) => return true,
            }
        }
    }

    /// Bytes received but not yet returned as a reply.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }
}

/// Splits a line into arguments exactly as redis-cli (`sdssplitargs`): whitespace
/// separates arguments; "double quotes" take \xHH, \n, \r, \t, \b, \a and \<any>
/// escapes; 'single quotes' take \' only; a closing quote must be followed by
/// whitespace or the end of the line. `None` for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let n = line.len();
    let mut i = 0;
    let is_space = |c: u8| matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c);
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 3 < n && line[i + 1] == b'x' && line[i + 2].is_ascii_hexdigit() && line[i + 3].is_ascii_hexdigit() {
                    let h = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                    cur.push(h(line[i + 2]) * 16 + h(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        o => o,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing() {
        assert_eq!(reply_len(b"+OK\r\n"), Ok(Some(5)));
        assert_eq!(reply_len(b"$3\r\nabc\r\n+x"), Ok(Some(9)));
        assert_eq!(reply_len(b"$3\r\nab"), Ok(None));
        assert_eq!(reply_len(b"*2\r\n:1\r\n$-1\r\n"), Ok(Some(13)));
        assert_eq!(reply_len(b"%1\r\n+a\r\n*0\r\n"), Ok(Some(12)));
        assert_eq!(reply_len(b"|1\r\n+a\r\n+b\r\n:1\r\n"), Ok(Some(16)));
        assert_eq!(reply_len(b"*-1\r\n"), Ok(Some(5)));
    }

    #[test]
    fn splitting() {
        assert_eq!(split_args(br#"set "a\x41\n" 'it\'s'"#).unwrap(), vec![b"set".to_vec(), b"aA\n".to_vec(), b"it's".to_vec()]);
        assert!(split_args(br#"get "k"#).is_none());
        assert!(split_args(br#"get "k"x"#).is_none());
        assert_eq!(split_args(b"  a   b ").unwrap().len(), 2);
        assert_eq!(split_args(br#""""#).unwrap(), vec![Vec::<u8>::new()]);
    }
}
