//! Differential tests: every `tests/diff/*.txt` is replayed against the reference
//! redis-server and against Shoal, and the raw replies must be identical byte for byte.
//!
//! File format (one command per line, split like redis-cli / `sdssplitargs`):
//! - blank lines and lines starting with `#` are ignored;
//! - `~ CMD ...`      compare only the reply type (first byte);
//! - `@sort CMD ...`  the reply is an aggregate: compare its top-level elements sorted;
//! - `!sleep MS`      sleep, send nothing;
//! - `!raw "bytes"`   send the (escaped, possibly several) arguments concatenated as raw
//!   bytes, then compare everything the server sends back until it goes quiet, and
//!   whether it closed the connection (protocol errors);
//! - `!rawrep PREFIX N REPEAT [SUFFIX]`  like `!raw` with PREFIX, N times REPEAT, SUFFIX
//!   (for oversized requests);
//! - `!reconnect`     open fresh connections to both servers (for the active connection).
//!
//! Several connections (pub/sub, keyspace events, CLIENT KILL, ...):
//! - `!conn NAME`     makes connection NAME (any word, e.g. `2`) the active one; it is
//!   opened to both servers on first use (nothing is sent on it). Command lines go to the
//!   active connection. A file starts on connection `1`.
//! - `!read`          reads on the active connection, from both servers, everything that
//!   arrives until they are quiet (messages pushed by other connections' PUBLISH, keyspace
//!   events) and compares all of it (nothing received on both sides also matches).
//! - Once a (P|S)SUBSCRIBE or (P|S)UNSUBSCRIBE line was sent on a connection, every later
//!   command line on that connection compares everything received until the servers are
//!   quiet (several replies per line, pushes around a reply), not just one reply.
//!
//! Each file gets a fresh pair of servers (so CONFIG SET in one file cannot leak into
//! another) and one connection to each, after `FLUSHALL` and `SELECT 0`. When a server
//! closes the connection (QUIT, protocol errors) both sides reconnect. Every mismatch of
//! every file is collected and printed before the test fails.
//!
//! `DIFF_FILTER=substr` runs only the files whose name contains `substr`.

mod common;

use common::{escape, split_aggregate, split_args, RawConn, Server};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long to wait for a reply to a command line.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// After `!raw`, the server has said everything once it is silent this long.
const RAW_QUIET: Duration = Duration::from_millis(150);
/// After `!raw`, once Shoal sent as many bytes as the reference, how long to wait for more.
const RAW_EXTRA_QUIET: Duration = Duration::from_millis(30);
/// On a connection in pub/sub use, after the first reply to a line, how long the server
/// must be quiet before everything it sent is compared.
const PUSH_QUIET: Duration = Duration::from_millis(30);

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Exact,
    Type,
    Sort,
}

/// What one side answered to one line.
#[derive(Clone, PartialEq, Debug)]
enum Outcome {
    Reply(Vec<u8>),
    /// `!raw`: all bytes received, and whether the connection was closed afterwards.
    Raw(Vec<u8>, bool),
    /// The connection closed before a complete reply (bytes received so far).
    Closed,
    Timeout(String),
    Error(String),
}

impl Outcome {
    fn show(&self) -> String {
        match self {
            Outcome::Reply(b) => clip(&escape(b)),
            Outcome::Raw(b, closed) => {
                format!("{}{}", clip(&escape(b)), if *closed { "  [connection closed]" } else { "  [connection open]" })
            }
            Outcome::Closed => "<connection closed without a reply>".into(),
            Outcome::Timeout(s) => format!("<timeout: {}>", clip(s)),
            Outcome::Error(s) => format!("<error: {}>", clip(s)),
        }
    }
    fn breaks_connection(&self) -> bool {
        match self {
            Outcome::Reply(_) => false,
            Outcome::Raw(_, closed) => *closed,
            _ => true,
        }
    }
}

fn clip(s: &str) -> String {
    const MAX: usize = 3000;
    if s.len() <= MAX {
        s.to_string()
    } else {
        let mut cut = MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}... ({} chars in all)", &s[..cut], s.len())
    }
}

struct Mismatch {
    line_no: usize,
    line: String,
    expected: String,
    got: String,
}

struct Side {
    name: &'static str,
    server: Server,
    /// The active connection.
    conn: RawConn,
    /// Its name (`!conn NAME`).
    active: String,
    /// The other connections opened by `!conn`, by name.
    others: std::collections::HashMap<String, RawConn>,
}

impl Side {
    fn new(name: &'static str, server: Server) -> Side {
        let mut conn = server.conn();
        conn.set_timeout(REPLY_TIMEOUT);
        let mut s = Side { name, server, conn, active: "1".into(), others: Default::default() };
        s.prepare();
        s
    }

    /// `!conn NAME`: makes NAME the active connection, opening it on first use.
    fn switch(&mut self, to: &str) -> io::Result<()> {
        if to == self.active {
            return Ok(());
        }
        let next = match self.others.remove(to) {
            Some(c) => c,
            None => {
                let mut c = RawConn::connect(self.server.port)?;
                c.set_timeout(REPLY_TIMEOUT);
                c
            }
        };
        let prev = std::mem::replace(&mut self.conn, next);
        self.others.insert(std::mem::replace(&mut self.active, to.to_string()), prev);
        Ok(())
    }

    /// Reads the reply to a command sent, then: with `expect` = Some(k), k-1 more replies
    /// when the first is an array or push (SUBSCRIBE a b c answers once per channel);
    /// with None, everything else that arrives until the server is quiet (pushes around a
    /// reply on a connection in pub/sub use).
    fn reply_all(&mut self, sent: io::Result<()>, expect: Option<usize>) -> Outcome {
        match self.reply(sent) {
            Outcome::Reply(mut r) if expect.is_some() => {
                if matches!(r.first(), Some(b'*' | b'>')) {
                    for _ in 1..expect.unwrap_or(1) {
                        match self.reply(Ok(())) {
                            Outcome::Reply(more) => r.extend_from_slice(&more),
                            o => return o,
                        }
                    }
                }
                Outcome::Reply(r)
            }
            Outcome::Reply(mut r) => {
                let (more, closed) = self.conn.read_until_quiet(PUSH_QUIET, REPLY_TIMEOUT);
                r.extend_from_slice(&more);
                if closed {
                    Outcome::Raw(r, true)
                } else {
                    Outcome::Reply(r)
                }
            }
            o => o,
        }
    }

    /// FLUSHALL + SELECT 0. The servers are fresh, so a server that does not know
    /// FLUSHALL yet is fine; a connection that does not answer is not.
    fn prepare(&mut self) {
        for c in [&["FLUSHALL"][..], &["SELECT", "0"][..]] {
            if let Err(e) = self.conn.cmd(c) {
                panic!("{}: {:?} failed: {e}", self.name, c);
            }
        }
    }

    fn reconnect(&mut self) -> io::Result<()> {
        let mut c = RawConn::connect(self.server.port)?;
        c.set_timeout(REPLY_TIMEOUT);
        self.conn = c;
        Ok(())
    }

    /// Reads the reply to a command sent (`sent` is how sending went).
    fn reply(&mut self, sent: io::Result<()>) -> Outcome {
        if let Err(e) = sent {
            return Outcome::Error(format!("send: {e}"));
        }
        match self.conn.read_reply() {
            Ok(r) => Outcome::Reply(r),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Outcome::Closed,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Outcome::Timeout(e.to_string()),
            Err(e) => Outcome::Error(e.to_string()),
        }
    }

    /// Sends raw bytes; reads until at least `min` bytes came and then the server is
    /// quiet for `quiet`, or it closes the connection.
    fn raw(&mut self, bytes: &[u8], min: usize, quiet: Duration) -> Outcome {
        if let Err(e) = self.conn.send_raw(bytes) {
            return Outcome::Error(format!("send: {e}"));
        }
        let (b, closed) = self.conn.read_min(min, quiet, REPLY_TIMEOUT);
        Outcome::Raw(b, closed)
    }
}

/// Normalises a reply for the comparison mode.
fn normalise(o: &Outcome, mode: Mode) -> Outcome {
    match (o, mode) {
        (Outcome::Reply(r), Mode::Type) => Outcome::Reply(r.iter().take(1).copied().collect()),
        (Outcome::Reply(r), Mode::Sort) => match split_aggregate(r) {
            Some((mut header, mut elems)) => {
                elems.sort();
                for e in elems {
                    header.extend_from_slice(&e);
                }
                Outcome::Reply(header)
            }
            None => o.clone(),
        },
        _ => o.clone(),
    }
}

fn is_cmd(args: &[Vec<u8>], name: &str) -> bool {
    args.first().is_some_and(|a| a.eq_ignore_ascii_case(name.as_bytes()))
}

/// Lines compared, and the mismatches.
type FileResult = (usize, Vec<Mismatch>);

/// Runs one file; returns its mismatches (or a fatal problem as a mismatch).
fn run_file(path: &Path) -> FileResult {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) => {
            return (0, vec![Mismatch { line_no: 0, line: String::new(), expected: "a readable file".into(), got: e.to_string() }]);
        }
    };
    let mut reference = Side::new("redis-server", Server::redis(&[]));
    let mut shoal = Side::new("shoal-server", Server::shoal(&[]));
    let mut mismatches = Vec::new();
    let mut checked = 0usize;
    // Connections (by name) on which a subscribe-family command was sent.
    let mut pushy: std::collections::HashSet<String> = Default::default();
    for (idx, raw_line) in text.split(|&c| c == b'\n').enumerate() {
        let line_no = idx + 1;
        let line = raw_line.strip_suffix(b"\r").unwrap_or(raw_line);
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() || trimmed[0] == b'#' {
            continue;
        }
        let shown = String::from_utf8_lossy(trimmed).into_owned();
        let bad = |why: &str| Mismatch { line_no, line: shown.clone(), expected: "a valid test line".into(), got: why.to_string() };
        let (mode, rest) = if let Some(r) = trimmed.strip_prefix(b"~ ") {
            (Mode::Type, r)
        } else if let Some(r) = trimmed.strip_prefix(b"@sort ") {
            (Mode::Sort, r)
        } else {
            (Mode::Exact, trimmed)
        };
        if let Some(ms) = rest.strip_prefix(b"!sleep") {
            match std::str::from_utf8(ms).ok().and_then(|s| s.trim().parse::<u64>().ok()) {
                Some(ms) => std::thread::sleep(Duration::from_millis(ms)),
                None => mismatches.push(bad("!sleep needs a number of milliseconds")),
            }
            continue;
        }
        if let Some(name) = rest.strip_prefix(b"!conn") {
            let name = String::from_utf8_lossy(name).trim().to_string();
            if name.is_empty() || name.contains(' ') {
                mismatches.push(bad("usage: !conn NAME"));
                continue;
            }
            for side in [&mut reference, &mut shoal] {
                if let Err(e) = side.switch(&name) {
                    mismatches.push(bad(&format!("{} connect failed: {e}", side.name)));
                }
            }
            continue;
        }
        if rest == b"!reconnect" {
            for side in [&mut reference, &mut shoal] {
                if let Err(e) = side.reconnect() {
                    mismatches.push(bad(&format!("{} reconnect failed: {e}", side.name)));
                }
            }
            pushy.remove(&reference.active);
            continue;
        }
        let (want, got) = if rest == b"!read" {
            let w = reference.conn.read_until_quiet(RAW_QUIET, REPLY_TIMEOUT);
            let mut g = shoal.conn.read_min(w.0.len(), if w.0.is_empty() { RAW_QUIET } else { RAW_EXTRA_QUIET }, REPLY_TIMEOUT);
            let mut w = w;
            if g.0.len() > w.0.len() && !w.1 {
                let (more, closed) = reference.conn.read_min(g.0.len() - w.0.len(), RAW_EXTRA_QUIET, Duration::from_secs(2));
                w.0.extend_from_slice(&more);
                w.1 = closed;
            }
            if w.1 && !g.1 && shoal.conn.closed_within(Duration::from_secs(1)) {
                g.0.extend_from_slice(shoal.conn.pending());
                g.1 = true;
            }
            (Outcome::Raw(w.0, w.1), Outcome::Raw(g.0, g.1))
        } else if let Some(r) = rest.strip_prefix(b"!raw") {
            let Some(parts) = split_args(r.strip_prefix(b"rep").unwrap_or(r)) else {
                mismatches.push(bad("unbalanced quotes"));
                continue;
            };
            let bytes: Vec<u8> = if r.starts_with(b"rep") {
                // !rawrep PREFIX N REPEAT [SUFFIX]
                let n = parts.get(1).and_then(|n| std::str::from_utf8(n).ok()).and_then(|n| n.parse::<usize>().ok());
                match (parts.len(), n) {
                    (3 | 4, Some(n)) => [parts[0].clone(), parts[2].repeat(n), parts.get(3).cloned().unwrap_or_default()].concat(),
                    _ => {
                        mismatches.push(bad("usage: !rawrep PREFIX COUNT REPEAT [SUFFIX]"));
                        continue;
                    }
                }
            } else {
                parts.concat()
            };
            // The reference first, until it is quiet; then Shoal until it sent as many
            // bytes (or closed), plus a short quiet time to catch extra bytes.
            let mut want = reference.raw(&bytes, 0, RAW_QUIET);
            let min = match &want {
                Outcome::Raw(b, _) => b.len(),
                _ => 0,
            };
            let mut got = shoal.raw(&bytes, min, if min == 0 { RAW_QUIET } else { RAW_EXTRA_QUIET });
            // Shoal sent more: maybe the reference was just slow (a loaded machine). Give it
            // the chance to send as much.
            if let (Outcome::Raw(w, false), Outcome::Raw(g, _)) = (&mut want, &got) {
                if g.len() > w.len() {
                    let (more, closed) = reference.conn.read_min(g.len() - w.len(), RAW_EXTRA_QUIET, Duration::from_secs(2));
                    w.extend_from_slice(&more);
                    if closed {
                        want = Outcome::Raw(std::mem::take(w), true);
                    }
                }
            }
            // A close can trail the last reply a little: when only one side closed, give
            // the other a second to close too.
            let (wc, gc) = (matches!(want, Outcome::Raw(_, true)), matches!(got, Outcome::Raw(_, true)));
            if wc != gc {
                let (x, side) = if wc { (&mut got, &mut shoal) } else { (&mut want, &mut reference) };
                if side.conn.closed_within(Duration::from_secs(1)) {
                    if let Outcome::Raw(b, _) = x {
                        let mut b = std::mem::take(b);
                        b.extend_from_slice(side.conn.pending());
                        *x = Outcome::Raw(b, true);
                    }
                }
            }
            (want, got)
        } else {
            let Some(args) = split_args(rest) else {
                mismatches.push(bad("unbalanced quotes"));
                continue;
            };
            if args.is_empty() {
                continue;
            }
            const SUBS: [&str; 6] = ["subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe"];
            let subs = SUBS.iter().any(|c| is_cmd(&args, c));
            let all = subs || pushy.contains(&reference.active);
            // Both servers work on the command at the same time.
            let sent = (reference.conn.send(&args), shoal.conn.send(&args));
            let (mut want, mut got) = if all {
                // One reply per argument for the (un)subscribe commands with arguments;
                // otherwise everything until quiet, read from both servers in parallel.
                let expect = (subs && args.len() > 1).then_some(args.len() - 1);
                let r = &mut reference;
                std::thread::scope(|s| {
                    let w = s.spawn(move || r.reply_all(sent.0, expect));
                    let g = shoal.reply_all(sent.1, expect);
                    (w.join().unwrap_or_else(|_| Outcome::Error("reader panicked".into())), g)
                })
            } else {
                (reference.reply(sent.0), shoal.reply(sent.1))
            };
            if subs && !matches!(&want, Outcome::Reply(r) if r.first() == Some(&b'-')) {
                pushy.insert(reference.active.clone());
            }
            if is_cmd(&args, "quit") {
                // Compare the reply plus whether the connection is closed afterwards.
                for (x, side) in [(&mut want, &mut reference), (&mut got, &mut shoal)] {
                    if let Outcome::Reply(r) = x {
                        let closed = side.conn.closed_within(Duration::from_secs(2));
                        *x = Outcome::Raw(std::mem::take(r), closed);
                    }
                }
            }
            (normalise(&want, mode), normalise(&got, mode))
        };
        checked += 1;
        if want != got {
            mismatches.push(Mismatch { line_no, line: shown.clone(), expected: want.show(), got: got.show() });
        }
        if want.breaks_connection() || got.breaks_connection() {
            if !shoal.server.alive() {
                let log = shoal.server.log_text();
                let tail: String = log.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
                mismatches.push(Mismatch {
                    line_no,
                    line: shown,
                    expected: "shoal-server alive".into(),
                    got: format!("shoal-server DIED; rest of the file skipped. Log tail:\n{tail}"),
                });
                break;
            }
            for side in [&mut reference, &mut shoal] {
                if let Err(e) = side.reconnect() {
                    mismatches.push(bad(&format!("{} reconnect failed: {e}", side.name)));
                }
            }
            pushy.remove(&reference.active);
        }
    }
    (checked, mismatches)
}

fn diff_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/diff");
    let filter = std::env::var("DIFF_FILTER").unwrap_or_default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "txt"))
                .filter(|p| filter.is_empty() || p.file_name().is_some_and(|n| n.to_string_lossy().contains(&filter)))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn differential() {
    if !common::redis_available("differential") {
        return;
    }
    let files = diff_files();
    if files.is_empty() {
        eprintln!("differential: no tests/diff/*.txt files (DIFF_FILTER={:?})", std::env::var("DIFF_FILTER").unwrap_or_default());
        return;
    }
    // Files run in parallel (each with its own servers); sleeps dominate most files.
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 4);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<FileResult>>> = files.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers.min(files.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(f) = files.get(i) else { break };
                let r = std::panic::catch_unwind(|| run_file(f)).unwrap_or_else(|p| {
                    let msg =
                        p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
                    (
                        0,
                        vec![Mismatch {
                            line_no: 0,
                            line: String::new(),
                            expected: "the file to run".into(),
                            got: format!("runner panicked: {msg}"),
                        }],
                    )
                });
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(r);
                }
            });
        }
    });
    let mut report = String::new();
    let mut failed_files = Vec::new();
    let mut total_mismatches = 0;
    for (f, r) in files.iter().zip(results) {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (checked, mism) = r.into_inner().ok().flatten().unwrap_or((0, Vec::new()));
        if mism.is_empty() {
            report.push_str(&format!("ok    {name}: {checked} lines identical\n"));
            continue;
        }
        report.push_str(&format!("FAIL  {name}: {} of {checked} lines differ\n", mism.len()));
        for m in &mism {
            report.push_str(&format!(
                "  {name}:{}: {}\n    expected (redis-server): {}\n    got      (shoal):        {}\n",
                m.line_no, m.line, m.expected, m.got
            ));
        }
        total_mismatches += mism.len();
        failed_files.push(name);
    }
    eprintln!("\n==== differential report ====\n{report}");
    assert!(failed_files.is_empty(), "{total_mismatches} mismatching lines in {} file(s): {}", failed_files.len(), failed_files.join(", "));
}
