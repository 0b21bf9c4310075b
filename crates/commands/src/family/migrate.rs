//! Family: MIGRATE (cached connections to targets, as Redis).
//!
//! `MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password]
//! [AUTH2 username password] [KEYS key ...]`, as Redis 7.0's `migrateCommand`
//! (cluster.c): the keys found here are serialized with [`shoal_rdb::dump`] and sent to the
//! target as one pipelined batch (`AUTH`, `SELECT` when the target connection last
//! selected another database, then `RESTORE-ASKING key ttl payload [REPLACE]` per key, or
//! `RESTORE` outside cluster mode); then one reply line per command is read and each key the
//! target accepted is deleted here (unless COPY).
//!
//! I/O: this is the one place in the commands crate that touches the network. Like Redis,
//! which blocks its event loop for the whole exchange, the handler does blocking `std::net`
//! I/O while it holds the command lock: connect, write and every reply line are bounded by
//! the command's timeout (ms; <= 0 means 1000). A key is therefore never visible on both
//! nodes to a client, and never on neither.
//!
//! Connections are cached per `host:port` (the arguments as given), with the database they
//! last selected, as Redis's `migrate_cached_sockets`: at most 64 (a random one is dropped
//! when full), closed after an I/O error, and closed when idle for more than 10 s by a
//! sweeper thread started with the first cached connection (Redis does this in serverCron).
//! A failed exchange is retried once on a fresh connection unless it timed out, so a cached
//! connection the target closed costs no error.

use crate::ctx::{unix_ms, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::table::{flags::*, CommandDef};
use crate::util::eq_ic;
use parking_lot::Mutex;
use shoal_keyspace::value::shoal_parse_i64;
use shoal_resp::Args;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::OnceLock;
use std::time::Duration;

/// Most cached connections (Redis's MIGRATE_SOCKET_CACHE_ITEMS).
const CACHE_ITEMS: usize = 64;
/// Idle seconds after which a cached connection is closed (MIGRATE_SOCKET_CACHE_TTL).
const CACHE_TTL_S: u64 = 10;
/// Redis writes the request in chunks of this size (each bounded by the timeout).
const WRITE_CHUNK: usize = 64 * 1024;
/// Reply lines are read into 1024-byte buffers: a longer line is cut at 1023 bytes.
const LINE_MAX: usize = 1023;

/// A connection to a target, with what Redis's `migrateCachedSocket` remembers.
struct Conn {
    stream: TcpStream,
    /// Bytes read past the last line.
    rbuf: Vec<u8>,
    rpos: usize,
    /// Database last selected on the target (-1: unknown, SELECT next time).
    last_dbid: i64,
    last_use_s: u64,
}

/// An I/O failure; `timed_out` is Redis's `errno == ETIMEDOUT` (no retry then).
struct IoFail {
    timed_out: bool,
}

impl From<io::Error> for IoFail {
    fn from(e: io::Error) -> IoFail {
        IoFail { timed_out: matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) }
    }
}

impl Conn {
    fn set_timeout(&self, t: Duration) -> io::Result<()> {
        self.stream.set_read_timeout(Some(t))?;
        self.stream.set_write_timeout(Some(t))
    }

    /// Redis's `syncWrite` in 64K chunks.
    fn write_all(&mut self, buf: &[u8]) -> Result<(), IoFail> {
        for chunk in buf.chunks(WRITE_CHUNK) {
            self.stream.write_all(chunk)?;
        }
        Ok(())
    }

    /// Redis's `syncReadLine` into a 1024-byte buffer: the line without its "\r\n", cut at
    /// 1023 bytes (the rest reads as the next line). A closed connection is a failure.
    fn read_line(&mut self) -> Result<Vec<u8>, IoFail> {
        let mut line = Vec::new();
        while line.len() < LINE_MAX {
            if self.rpos == self.rbuf.len() {
                self.rbuf.clear();
                self.rpos = 0;
                self.rbuf.resize(16 * 1024, 0);
                let n = loop {
                    match self.stream.read(&mut self.rbuf) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            self.rbuf.clear();
                            return Err(e.into());
                        }
                    }
                };
                self.rbuf.truncate(n);
                if n == 0 {
                    return Err(IoFail { timed_out: false });
                }
            }
            let c = self.rbuf[self.rpos];
            self.rpos += 1;
            if c == b'\n' {
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            line.push(c);
        }
        Ok(line)
    }
}

/// The connection cache, keyed by "host:port" as given.
fn cache() -> &'static Mutex<HashMap<Vec<u8>, Conn>> {
    static CACHE: OnceLock<Mutex<HashMap<Vec<u8>, Conn>>> = OnceLock::new();
    CACHE.get_or_init(|| {
        // Redis closes idle cached sockets from serverCron once a second.
        let _ = std::thread::Builder::new().name("migrate-cache".into()).spawn(|| loop {
            std::thread::sleep(Duration::from_secs(1));
            close_idle(unix_ms() / 1000);
        });
        Mutex::new(HashMap::new())
    })
}

/// Closes the cached connections idle for more than 10 s (`migrateCloseTimedoutSockets`).
fn close_idle(now_s: u64) {
    cache().lock().retain(|_, c| now_s.saturating_sub(c.last_use_s) <= CACHE_TTL_S);
}

/// Number of cached connections (tests).
pub fn cached_connections() -> usize {
    cache().lock().len()
}

/// C `atoi`: leading blanks, a sign, digits; anything else ends the number.
fn atoi(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut v: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.saturating_mul(10).saturating_add((s[i] - b'0') as i64);
        i += 1;
    }
    // atoi returns an int: wrap as the C conversion does on Linux.
    let v = if neg { v.wrapping_neg() } else { v };
    v as i32 as i64
}

/// Why no connection came back from [`get_conn`].
enum ConnectFail {
    /// The address could not be resolved (or the port is negative): Redis's
    /// `anetTcpNonBlockConnect` failed, "IOERR error or timeout connecting to the client".
    Resolve,
    /// The connect itself failed or timed out. Redis's blocking connect reports success
    /// for those (its non-blocking connect is still in progress) and the first write fails,
    /// so this is handled as a write error.
    Io { timed_out: bool },
}

/// Connects as Redis's `connBlockingConnect` (each resolved address in turn, `timeout` each).
/// The port is C's `atoi` of the argument, printed back with %d for getaddrinfo: negative
/// fails to resolve, larger than 65535 wraps to 16 bits as glibc does.
fn connect(host: &[u8], port: &[u8], timeout: Duration) -> Result<TcpStream, ConnectFail> {
    let host = std::str::from_utf8(host).map_err(|_| ConnectFail::Resolve)?;
    let port = atoi(port);
    if port < 0 {
        return Err(ConnectFail::Resolve);
    }
    let addrs: Vec<_> = (host, port as u16).to_socket_addrs().map_err(|_| ConnectFail::Resolve)?.collect();
    if addrs.is_empty() {
        return Err(ConnectFail::Resolve);
    }
    let mut fail = ConnectFail::Io { timed_out: false };
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => fail = ConnectFail::Io { timed_out: IoFail::from(e).timed_out },
        }
    }
    Err(fail)
}

/// Redis's `migrateGetSocket`: the cached connection (taken out of the cache while in use),
/// or a new one.
fn get_conn(name: &[u8], host: &[u8], port: &[u8], timeout: Duration) -> Result<Conn, ConnectFail> {
    let now_s = unix_ms() / 1000;
    {
        let mut c = cache().lock();
        if let Some(mut conn) = c.remove(name) {
            conn.last_use_s = now_s;
            return Ok(conn);
        }
        if c.len() >= CACHE_ITEMS {
            // Too many items: drop one at random.
            use rand::seq::IteratorRandom;
            if let Some(k) = c.keys().choose(&mut rand::thread_rng()).cloned() {
                c.remove(&k);
            }
        }
    }
    let stream = connect(host, port, timeout)?;
    Ok(Conn { stream, rbuf: Vec::new(), rpos: 0, last_dbid: -1, last_use_s: now_s })
}

/// Puts a connection back in the cache.
fn put_conn(name: Vec<u8>, conn: Conn) {
    cache().lock().insert(name, conn);
}

fn bulk(buf: &mut Vec<u8>, b: &[u8]) {
    buf.push(b'$');
    buf.extend_from_slice(b.len().to_string().as_bytes());
    buf.extend_from_slice(b"\r\n");
    buf.extend_from_slice(b);
    buf.extend_from_slice(b"\r\n");
}

fn array_head(buf: &mut Vec<u8>, n: usize) {
    buf.push(b'*');
    buf.extend_from_slice(n.to_string().as_bytes());
    buf.extend_from_slice(b"\r\n");
}

/// Parsed options.
struct Opts<'a> {
    copy: bool,
    replace: bool,
    username: Option<&'a [u8]>,
    password: Option<&'a [u8]>,
    first_key: usize,
    num_keys: usize,
}

fn parse_opts<'a>(args: &Args<'a>) -> Result<Opts<'a>, CmdError> {
    let argc = args.len();
    let mut o = Opts { copy: false, replace: false, username: None, password: None, first_key: 3, num_keys: 1 };
    let mut j = 6;
    while j < argc {
        let moreargs = argc - 1 - j;
        let a = args.get(j);
        if eq_ic(a, "copy") {
            o.copy = true;
        } else if eq_ic(a, "replace") {
            o.replace = true;
        } else if eq_ic(a, "auth") {
            if moreargs == 0 {
                return Err(CmdError::Syntax);
            }
            j += 1;
            o.password = Some(args.get(j));
        } else if eq_ic(a, "auth2") {
            if moreargs < 2 {
                return Err(CmdError::Syntax);
            }
            o.username = Some(args.get(j + 1));
            o.password = Some(args.get(j + 2));
            j += 2;
        } else if eq_ic(a, "keys") {
            if !args.get(3).is_empty() {
                return Err(CmdError::err("When using MIGRATE KEYS option, the key argument must be set to the empty string"));
            }
            o.first_key = j + 1;
            o.num_keys = argc - j - 1;
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// How one exchange with the target ended (Redis's state after reading the replies).
#[derive(Default)]
struct Exchange {
    /// Per key whose reply was read: the target accepted it.
    accepted: Vec<bool>,
    /// The first error reply (without its '-').
    error: Option<Vec<u8>>,
    /// A socket error stopped the exchange: (while writing, timed out).
    socket: Option<(bool, bool)>,
}

/// Sends the batch and reads the replies (the part of `migrateCommand` between
/// `try_again` and the reply).
fn exchange(conn: &mut Conn, req: &[u8], has_auth: bool, select: bool, nkeys: usize) -> Exchange {
    let mut ex = Exchange::default();
    if let Err(f) = conn.write_all(req) {
        ex.socket = Some((true, f.timed_out));
        return ex;
    }
    // An empty line counts as a failed read (syncReadLine() <= 0).
    let read = |conn: &mut Conn| match conn.read_line() {
        Ok(l) if !l.is_empty() => Ok(l),
        Ok(_) => Err(IoFail { timed_out: false }),
        Err(f) => Err(f),
    };
    let mut auth_reply = Vec::new();
    let mut select_reply = Vec::new();
    if has_auth {
        match read(conn) {
            Ok(l) => auth_reply = l,
            Err(f) => {
                ex.socket = Some((false, f.timed_out));
                return ex;
            }
        }
    }
    if select {
        match read(conn) {
            Ok(l) => select_reply = l,
            Err(f) => {
                ex.socket = Some((false, f.timed_out));
                return ex;
            }
        }
    }
    let auth_err = has_auth && auth_reply.first() == Some(&b'-');
    let select_err = select && select_reply.first() == Some(&b'-');
    ex.accepted.reserve(nkeys);
    for _ in 0..nkeys {
        let line = match read(conn) {
            Ok(l) => l,
            Err(f) => {
                ex.socket = Some((false, f.timed_out));
                return ex;
            }
        };
        if auth_err || select_err || line.first() == Some(&b'-') {
            if ex.error.is_none() {
                let e = if auth_err {
                    &auth_reply
                } else if select_err {
                    &select_reply
                } else {
                    &line
                };
                ex.error = Some(e[1..].to_vec());
            }
            ex.accepted.push(false);
        } else {
            ex.accepted.push(true);
        }
    }
    ex
}

/// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password]
/// [AUTH2 username password] [KEYS key ...]
fn migrate(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let o = parse_opts(&args)?;
    let mut timeout = shoal_parse_i64(args.get(5)).ok_or(CmdError::NotInteger)?;
    let dbid = shoal_parse_i64(args.get(4)).ok_or(CmdError::NotInteger)?;
    if timeout <= 0 {
        timeout = 1000;
    }
    let timeout = Duration::from_millis(timeout as u64);

    // The keys that are here (a read lookup each, as Redis's lookupKeyRead).
    let mut keys: Vec<&[u8]> = Vec::with_capacity(o.num_keys);
    for j in 0..o.num_keys {
        let k = args.get(o.first_key + j);
        let (v, _) = ctx.read_value(k);
        if v.is_some() {
            keys.push(k);
        }
    }
    if keys.is_empty() {
        ctx.out.simple("NOKEY");
        return Ok(());
    }

    let (host, port) = (args.get(1), args.get(2));
    let mut name = Vec::with_capacity(host.len() + port.len() + 1);
    name.extend_from_slice(host);
    name.push(b':');
    name.extend_from_slice(port);
    let restore: &[u8] = if ctx.shared.cluster.is_some() { b"RESTORE-ASKING" } else { b"RESTORE" };
    let mut may_retry = true;
    loop {
        let conn = get_conn(&name, host, port, timeout).and_then(|c| match c.set_timeout(timeout) {
            Ok(()) => Ok(c),
            Err(e) => Err(ConnectFail::Io { timed_out: IoFail::from(e).timed_out }),
        });
        let mut conn = match conn {
            Ok(c) => c,
            Err(ConnectFail::Resolve) => return Err(CmdError::raw("IOERR error or timeout connecting to the client")),
            Err(ConnectFail::Io { timed_out }) => {
                // As a failed write: retried once unless it timed out.
                if !timed_out && may_retry {
                    may_retry = false;
                    continue;
                }
                return Err(CmdError::raw("IOERR error or timeout writing to target instance"));
            }
        };

        // The request: AUTH, SELECT when needed, then one RESTORE per key not yet expired.
        let mut req = Vec::new();
        if let Some(pw) = o.password {
            array_head(&mut req, if o.username.is_some() { 3 } else { 2 });
            bulk(&mut req, b"AUTH");
            if let Some(u) = o.username {
                bulk(&mut req, u);
            }
            bulk(&mut req, pw);
        }
        let select = conn.last_dbid != dbid;
        if select {
            array_head(&mut req, 2);
            bulk(&mut req, b"SELECT");
            bulk(&mut req, dbid.to_string().as_bytes());
        }
        let now = unix_ms();
        let db = ctx.client.db;
        let mut sent: Vec<&[u8]> = Vec::with_capacity(keys.len());
        for &k in &keys {
            let d = &ctx.st.ks.dbs[db];
            let mut ttl: i64 = 0;
            if let Some(at) = d.expire_at(k) {
                ttl = at as i64 - now as i64;
                if ttl < 0 {
                    continue;
                }
                if ttl < 1 {
                    ttl = 1;
                }
            }
            let Some(v) = d.peek(k, 0) else { continue };
            let payload = shoal_rdb::dump(v);
            sent.push(k);
            array_head(&mut req, if o.replace { 5 } else { 4 });
            bulk(&mut req, restore);
            bulk(&mut req, k);
            bulk(&mut req, ttl.to_string().as_bytes());
            bulk(&mut req, &payload);
            if o.replace {
                bulk(&mut req, b"REPLACE");
            }
        }

        let ex = exchange(&mut conn, &req, o.password.is_some(), select, sent.len());
        if let Some((_, timed_out)) = ex.socket {
            // Nothing was processed (a write, the AUTH/SELECT replies or the first RESTORE
            // reply failed): retry once on a new connection (the target may have closed a
            // cached one), unless it timed out.
            if ex.error.is_none() && ex.accepted.is_empty() && !timed_out && may_retry {
                may_retry = false;
                continue;
            }
        }

        // Delete the keys the target accepted (unless COPY).
        if !o.copy {
            let mut n = 0;
            for (k, ok) in sent.iter().zip(&ex.accepted) {
                if *ok {
                    ctx.st.ks.dbs[db].remove(k);
                    ctx.notify(b'g', "del", k);
                    n += 1;
                }
            }
            ctx.dirty(n);
        }
        if let Some(e) = ex.error {
            // The target's error wins over a later socket error; a socket error closes the
            // connection, otherwise it stays cached and SELECTs next time.
            if ex.socket.is_none() {
                conn.last_dbid = -1;
                put_conn(name, conn);
            }
            return Err(CmdError::err(format!("Target instance replied with error: {}", String::from_utf8_lossy(&e))));
        }
        if let Some((writing, _)) = ex.socket {
            // The connection is closed (dropped).
            let what = if writing { "writing" } else { "reading" };
            return Err(CmdError::raw(format!("IOERR error or timeout {what} to target instance")));
        }
        conn.last_dbid = dbid;
        put_conn(name, conn);
        ctx.out.ok();
        return Ok(());
    }
}

/// COMMAND GETKEYS for MIGRATE (`migrateGetKeys`): the key argument, or with KEYS (and an
/// empty key argument) every argument after it.
fn migrate_keys(args: Args<'_>) -> Vec<usize> {
    let argc = args.len();
    let (mut first, mut num) = (3, 1);
    if argc > 6 {
        let mut i = 6;
        while i < argc {
            let a = args.get(i);
            if eq_ic(a, "keys") {
                if !args.get(3).is_empty() {
                    return Vec::new();
                }
                first = i + 1;
                num = argc - first;
                break;
            } else if eq_ic(a, "auth") {
                i += 1;
            } else if eq_ic(a, "auth2") {
                i += 2;
            }
            i += 1;
        }
    }
    (first..first + num).collect()
}

pub static COMMANDS: &[CommandDef] = &[CommandDef {
    summary: "Atomically transfer a key from a Redis instance to another one.",
    since: "2.6.0",
    complexity: "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
    keys: Some(migrate_keys),
    acl: &["@dangerous"],
    ..CommandDef::new("migrate", -6, WRITE | MOVABLE_KEYS, (3, 3, 1), "generic", migrate)
}];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_as_c() {
        assert_eq!(atoi(b"7001"), 7001);
        assert_eq!(atoi(b"  7001xyz"), 7001);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b"-5"), -5);
        assert_eq!(atoi(b"+12"), 12);
    }
}
