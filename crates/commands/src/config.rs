//! Configuration: redis.conf and command-line directives, CONFIG GET/SET/REWRITE values.
//!
//! Every directive redis-server 7.0.15 knows is in [`DIRECTIVES`] with its type, default
//! (exactly as CONFIG GET prints it), mutability and aliases; values are validated as
//! Redis's `config.c` does and kept as the canonical strings CONFIG GET prints.
//! Directives Shoal does not act on are accepted and, when set to a non-default value,
//! reported as warnings by [`load`] (`implemented: false`). Unknown directives and invalid
//! values stop start-up with redis-server's FATAL CONFIG FILE ERROR block.
//!
//! Start-up parsing follows redis-server exactly: the command-line options are turned
//! into one text (`name "value" ...` per option, values quoted as `sdscatrepr`) that is
//! appended, after a newline, to the config file's text, and the whole is parsed line by
//! line, so the line numbers in error messages are the ones Redis prints.

use crate::ctx::Shared;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

/// Special (multi-part) value types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    /// `dir`: changes the working directory; CONFIG GET prints the current one.
    Dir,
    /// `save`: pairs of seconds/changes; several `save` lines in a file accumulate.
    Save,
    /// `bind`: up to 16 addresses.
    Bind,
    /// `client-output-buffer-limit`: `<class> <hard> <soft> <seconds>` groups.
    ClientOutputBufferLimit,
    /// `oom-score-adj-values`: three integers in [-2000, 2000].
    OomScoreAdjValues,
    /// `notify-keyspace-events`: class letters, canonicalised.
    NotifyKeyspaceEvents,
    /// `replicaof <host> <port>` (`no one` clears it).
    ReplicaOf,
    /// `latency-tracking-info-percentiles`: doubles in [0, 100].
    LatencyPercentiles,
}

/// A directive's value type.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Bool,
    /// Integer (Redis `string2ll`) within [min, max]; `unsigned` compares as Redis's
    /// unsigned config types do (a negative value is a huge one).
    Int {
        min: i64,
        max: i64,
        unsigned: bool,
    },
    /// Memory size (`memtoull`: digits with optional b, k, kb, m, mb, g, gb).
    Memory {
        min: i64,
        max: i64,
        unsigned: bool,
    },
    /// Memory size or percentage (`5%`, stored negative as in Redis).
    MemoryPercent {
        min: i64,
        max: i64,
    },
    /// Octal number (unixsocketperm).
    Octal {
        min: i64,
        max: i64,
    },
    /// One of the names; names sharing a value print as the first of them.
    Enum(&'static [(&'static str, i32)]),
    /// Several names OR-ed together (shutdown-on-sigint); value 0 prints as the first name.
    Flags(&'static [(&'static str, i32)]),
    Str,
    Special(Special),
}

impl Kind {
    /// True when the value takes several arguments (Redis's MULTI_ARG_CONFIG): CONFIG SET
    /// splits its value on spaces.
    pub fn multi_arg(&self) -> bool {
        matches!(
            self,
            Kind::Flags(_)
                | Kind::Special(
                    Special::Save
                        | Special::Bind
                        | Special::ClientOutputBufferLimit
                        | Special::OomScoreAdjValues
                        | Special::ReplicaOf
                        | Special::LatencyPercentiles
                )
        )
    }
}

/// One directive.
#[derive(Debug)]
pub struct Directive {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    /// The default, exactly as CONFIG GET prints it (`dir`: the working directory).
    pub default: &'static str,
    /// Can be changed with CONFIG SET.
    pub mutable: bool,
    /// Shoal acts on it (false: accepted, a warning is logged when it is not the default).
    pub implemented: bool,
    /// CONFIG SET needs `enable-protected-configs` (dir, dbfilename).
    pub protected: bool,
    /// Not matched by CONFIG GET patterns, only by its exact name.
    pub hidden: bool,
    /// For strings: the empty value means "unset" (CONFIG REWRITE removes the line).
    pub empty_is_null: bool,
}

impl Directive {
    const fn new(name: &'static str, kind: Kind, default: &'static str) -> Directive {
        Directive {
            name,
            aliases: &[],
            kind,
            default,
            mutable: true,
            implemented: false,
            protected: false,
            hidden: false,
            empty_is_null: false,
        }
    }
    const fn al(mut self, aliases: &'static [&'static str]) -> Directive {
        self.aliases = aliases;
        self
    }
    const fn imm(mut self) -> Directive {
        self.mutable = false;
        self
    }
    const fn imp(mut self) -> Directive {
        self.implemented = true;
        self
    }
    const fn prot(mut self) -> Directive {
        self.protected = true;
        self
    }
    const fn hid(mut self) -> Directive {
        self.hidden = true;
        self
    }
    const fn null(mut self) -> Directive {
        self.empty_is_null = true;
        self
    }
}

const I32MIN: i64 = i32::MIN as i64;
const I32: i64 = i32::MAX as i64;
const U32: i64 = u32::MAX as i64;
const I64: i64 = i64::MAX;

const fn b(name: &'static str, default: &'static str) -> Directive {
    Directive::new(name, Kind::Bool, default)
}
const fn int(name: &'static str, min: i64, max: i64, default: &'static str) -> Directive {
    Directive::new(name, Kind::Int { min, max, unsigned: false }, default)
}
const fn uint(name: &'static str, min: i64, max: i64, default: &'static str) -> Directive {
    Directive::new(name, Kind::Int { min, max, unsigned: true }, default)
}
const fn mem(name: &'static str, min: i64, max: i64, default: &'static str) -> Directive {
    Directive::new(name, Kind::Memory { min, max, unsigned: false }, default)
}
const fn umem(name: &'static str, min: i64, max: i64, default: &'static str) -> Directive {
    Directive::new(name, Kind::Memory { min, max, unsigned: true }, default)
}
const fn en(name: &'static str, e: &'static [(&'static str, i32)], default: &'static str) -> Directive {
    Directive::new(name, Kind::Enum(e), default)
}
const fn s(name: &'static str, default: &'static str) -> Directive {
    Directive::new(name, Kind::Str, default)
}
const fn sp(name: &'static str, k: Special, default: &'static str) -> Directive {
    Directive::new(name, Kind::Special(k), default)
}

const LOGLEVEL: &[(&str, i32)] = &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)];
const MAXMEMORY_POLICY: &[(&str, i32)] = &[
    ("volatile-lru", 0),
    ("volatile-lfu", 1),
    ("volatile-random", 2),
    ("volatile-ttl", 3),
    ("allkeys-lru", 4),
    ("allkeys-lfu", 5),
    ("allkeys-random", 6),
    ("noeviction", 7),
];
const SYSLOG_FACILITY: &[(&str, i32)] =
    &[("user", 0), ("local0", 1), ("local1", 2), ("local2", 3), ("local3", 4), ("local4", 5), ("local5", 6), ("local6", 7), ("local7", 8)];
const SUPERVISED: &[(&str, i32)] = &[("upstart", 0), ("systemd", 1), ("auto", 2), ("no", 3)];
const APPENDFSYNC: &[(&str, i32)] = &[("everysec", 0), ("always", 1), ("no", 2)];
const REPL_DISKLESS_LOAD: &[(&str, i32)] = &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
const TLS_AUTH_CLIENTS: &[(&str, i32)] = &[("no", 0), ("yes", 1), ("optional", 2)];
const OOM_SCORE_ADJ: &[(&str, i32)] = &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
const ACL_PUBSUB_DEFAULT: &[(&str, i32)] = &[("allchannels", 1), ("resetchannels", 0)];
const SANITIZE_DUMP: &[(&str, i32)] = &[("no", 0), ("yes", 1), ("clients", 2)];
const PROTECTED_ACTION: &[(&str, i32)] = &[("no", 0), ("yes", 1), ("local", 2)];
const ENDPOINT_TYPE: &[(&str, i32)] = &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
const PROPAGATION_ERROR: &[(&str, i32)] = &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];
const SHUTDOWN_ON_SIG: &[(&str, i32)] = &[("default", 0), ("save", 1), ("nosave", 2), ("now", 4), ("force", 8)];

/// The default `save` value.
pub const DEFAULT_SAVE: &str = "3600 1 300 100 60 10000";
const DEFAULT_COBL: &str = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60";

/// Every directive of redis-server 7.0.15, sorted by name (aliases in `aliases`).
pub static DIRECTIVES: &[Directive] = &[
    en("acl-pubsub-default", ACL_PUBSUB_DEFAULT, "resetchannels"),
    s("aclfile", "").imm(),
    int("acllog-max-len", 0, I64, "128"),
    int("active-defrag-cycle-max", 1, 99, "25"),
    int("active-defrag-cycle-min", 1, 99, "1"),
    umem("active-defrag-ignore-bytes", 1, I64, "104857600"),
    int("active-defrag-max-scan-fields", 1, I64, "1000"),
    int("active-defrag-threshold-lower", 0, 1000, "10"),
    int("active-defrag-threshold-upper", 0, 1000, "100"),
    int("active-expire-effort", 1, 10, "1"),
    b("activedefrag", "no"),
    b("activerehashing", "yes"),
    b("always-show-logo", "no").imm(),
    b("aof-disable-auto-gc", "no"),
    b("aof-load-truncated", "yes"),
    b("aof-rewrite-incremental-fsync", "yes"),
    b("aof-timestamp-enabled", "no"),
    b("aof-use-rdb-preamble", "yes"),
    s("aof_rewrite_cpulist", "").imm().null(),
    s("appenddirname", "appendonlydir").imm(),
    s("appendfilename", "appendonly.aof").imm(),
    en("appendfsync", APPENDFSYNC, "everysec"),
    b("appendonly", "no"),
    mem("auto-aof-rewrite-min-size", 0, I64, "67108864"),
    int("auto-aof-rewrite-percentage", 0, I32, "100"),
    s("bgsave_cpulist", "").imm().null(),
    sp("bind", Special::Bind, "* -::*").imp(),
    s("bind-source-addr", "").null(),
    s("bio_cpulist", "").imm().null(),
    int("busy-reply-threshold", 0, I64, "5000").al(&["lua-time-limit"]),
    sp("client-output-buffer-limit", Special::ClientOutputBufferLimit, DEFAULT_COBL),
    umem("client-query-buffer-limit", 1024 * 1024, I64, "1073741824").imp(),
    b("cluster-allow-pubsubshard-when-down", "yes").imp(),
    b("cluster-allow-reads-when-down", "no").imp(),
    b("cluster-allow-replica-migration", "yes").imp(),
    int("cluster-announce-bus-port", 0, 65535, "0").imp(),
    s("cluster-announce-hostname", "").null().imp(),
    s("cluster-announce-ip", "").null().imp(),
    int("cluster-announce-port", 0, 65535, "0").imp(),
    int("cluster-announce-tls-port", 0, 65535, "0"),
    s("cluster-config-file", "nodes.conf").imm().imp(),
    b("cluster-enabled", "no").imm().imp(),
    umem("cluster-link-sendbuf-limit", 0, -1, "0"),
    int("cluster-migration-barrier", 0, I32, "1"),
    int("cluster-node-timeout", 0, I64, "15000").imp(),
    int("cluster-port", 0, 65535, "0").imm().imp(),
    en("cluster-preferred-endpoint-type", ENDPOINT_TYPE, "ip").imp(),
    b("cluster-replica-no-failover", "no").al(&["cluster-slave-no-failover"]),
    int("cluster-replica-validity-factor", 0, I32, "10").al(&["cluster-slave-validity-factor"]),
    b("cluster-require-full-coverage", "yes").imp(),
    b("crash-log-enabled", "yes"),
    b("crash-memcheck-enabled", "yes"),
    b("daemonize", "no").imm().imp(),
    int("databases", 1, I32, "16").imm().imp(),
    s("dbfilename", "dump.rdb").prot(),
    sp("dir", Special::Dir, "").prot().imp(),
    b("disable-thp", "yes").imm(),
    b("dynamic-hz", "yes"),
    en("enable-debug-command", PROTECTED_ACTION, "no").imm(),
    en("enable-module-command", PROTECTED_ACTION, "no").imm(),
    en("enable-protected-configs", PROTECTED_ACTION, "no").imm(),
    uint("hash-max-listpack-entries", 0, I64, "512").al(&["hash-max-ziplist-entries"]).imp(),
    umem("hash-max-listpack-value", 0, I64, "64").al(&["hash-max-ziplist-value"]).imp(),
    umem("hll-sparse-max-bytes", 0, I64, "3000"),
    int("hz", 0, I32, "10"),
    s("ignore-warnings", ""),
    int("io-threads", 1, 128, "1").imm(),
    b("io-threads-do-reads", "no").imm(),
    b("jemalloc-bg-thread", "yes"),
    int("key-load-delay", I32MIN, I32, "0").hid(),
    int("latency-monitor-threshold", 0, I64, "0"),
    b("latency-tracking", "yes"),
    sp("latency-tracking-info-percentiles", Special::LatencyPercentiles, "50 99 99.9"),
    b("lazyfree-lazy-eviction", "no"),
    b("lazyfree-lazy-expire", "no"),
    b("lazyfree-lazy-server-del", "no"),
    b("lazyfree-lazy-user-del", "no"),
    b("lazyfree-lazy-user-flush", "no"),
    int("lfu-decay-time", 0, I32, "1"),
    int("lfu-log-factor", 0, I32, "10"),
    int("list-compress-depth", 0, I32, "0"),
    int("list-max-listpack-size", I32MIN, I32, "-2").al(&["list-max-ziplist-size"]),
    int("loading-process-events-interval-bytes", 1024, I32, "2097152").hid(),
    s("logfile", "").imm().imp(),
    en("loglevel", LOGLEVEL, "notice").imp(),
    s("masterauth", "").null(),
    s("masteruser", "").null(),
    uint("maxclients", 1, U32, "10000").imp(),
    umem("maxmemory", 0, -1, "0"),
    Directive::new("maxmemory-clients", Kind::MemoryPercent { min: -100, max: I64 }, "0"),
    int("maxmemory-eviction-tenacity", 0, 100, "10"),
    en("maxmemory-policy", MAXMEMORY_POLICY, "noeviction"),
    int("maxmemory-samples", 1, I32, "5"),
    int("min-replicas-max-lag", 0, I32, "10").al(&["min-slaves-max-lag"]),
    int("min-replicas-to-write", 0, I32, "0").al(&["min-slaves-to-write"]),
    b("no-appendfsync-on-rewrite", "no"),
    sp("notify-keyspace-events", Special::NotifyKeyspaceEvents, ""),
    en("oom-score-adj", OOM_SCORE_ADJ, "no"),
    sp("oom-score-adj-values", Special::OomScoreAdjValues, "0 200 800"),
    s("pidfile", "").imm().null().imp(),
    int("port", 0, 65535, "6379").imp(),
    s("proc-title-template", "{title} {listen-addr} {server-mode}"),
    en("propagation-error-behavior", PROPAGATION_ERROR, "ignore"),
    b("protected-mode", "yes").imp(),
    mem("proto-max-bulk-len", 1024 * 1024, I64, "536870912").imp(),
    int("rdb-key-save-delay", I32MIN, I32, "0").hid(),
    b("rdb-del-sync-files", "no"),
    b("rdb-save-incremental-fsync", "yes"),
    b("rdbchecksum", "yes").imm(),
    b("rdbcompression", "yes"),
    mem("repl-backlog-size", 1, I64, "1048576"),
    int("repl-backlog-ttl", 0, I64, "3600"),
    b("repl-disable-tcp-nodelay", "no"),
    en("repl-diskless-load", REPL_DISKLESS_LOAD, "disabled"),
    b("repl-diskless-sync", "yes"),
    int("repl-diskless-sync-delay", 0, I32, "5"),
    int("repl-diskless-sync-max-replicas", 0, I32, "0"),
    int("repl-ping-replica-period", 1, I32, "10").al(&["repl-ping-slave-period"]),
    int("repl-timeout", 1, I32, "60"),
    s("replica-announce-ip", "").null().al(&["slave-announce-ip"]),
    int("replica-announce-port", 0, 65535, "0").al(&["slave-announce-port"]),
    b("replica-announced", "yes"),
    b("replica-ignore-disk-write-errors", "no"),
    b("replica-ignore-maxmemory", "yes").al(&["slave-ignore-maxmemory"]),
    b("replica-lazy-flush", "no").al(&["slave-lazy-flush"]),
    int("replica-priority", 0, I32, "100").al(&["slave-priority"]),
    b("replica-read-only", "yes").al(&["slave-read-only"]),
    b("replica-serve-stale-data", "yes").al(&["slave-serve-stale-data"]),
    sp("replicaof", Special::ReplicaOf, "").imm().al(&["slaveof"]),
    s("requirepass", "").null().imp(),
    en("sanitize-dump-payload", SANITIZE_DUMP, "no"),
    sp("save", Special::Save, DEFAULT_SAVE),
    s("server_cpulist", "").imm().null(),
    uint("set-max-intset-entries", 0, I64, "512"),
    b("set-proc-title", "yes").imm(),
    Directive::new("shutdown-on-sigint", Kind::Flags(SHUTDOWN_ON_SIG), "default"),
    Directive::new("shutdown-on-sigterm", Kind::Flags(SHUTDOWN_ON_SIG), "default"),
    int("shutdown-timeout", 0, I32, "10"),
    int("slowlog-log-slower-than", -1, I64, "10000").imp(),
    int("slowlog-max-len", 0, I64, "128").imp(),
    uint("socket-mark-id", 0, U32, "0").imm(),
    b("stop-writes-on-bgsave-error", "yes"),
    umem("stream-node-max-bytes", 0, I64, "4096"),
    int("stream-node-max-entries", 0, I64, "100"),
    en("supervised", SUPERVISED, "no").imm(),
    b("syslog-enabled", "no").imm(),
    en("syslog-facility", SYSLOG_FACILITY, "local0").imm(),
    s("syslog-ident", "redis").imm(),
    int("tcp-backlog", 0, I32, "511").imm().imp(),
    int("tcp-keepalive", 0, I32, "300").imp(),
    int("timeout", 0, I32, "0").imp(),
    en("tls-auth-clients", TLS_AUTH_CLIENTS, "yes"),
    s("tls-ca-cert-dir", "").null(),
    s("tls-ca-cert-file", "").null(),
    s("tls-cert-file", "").null(),
    s("tls-ciphers", "").null(),
    s("tls-ciphersuites", "").null(),
    s("tls-client-cert-file", "").null(),
    s("tls-client-key-file", "").null(),
    s("tls-client-key-file-pass", "").null(),
    b("tls-cluster", "no"),
    s("tls-dh-params-file", "").null(),
    s("tls-key-file", "").null(),
    s("tls-key-file-pass", "").null(),
    int("tls-port", 0, 65535, "0"),
    b("tls-prefer-server-ciphers", "no"),
    s("tls-protocols", "").null(),
    b("tls-replication", "no"),
    int("tls-session-cache-size", 0, I32, "20480"),
    int("tls-session-cache-timeout", 0, I32, "300"),
    b("tls-session-caching", "yes"),
    uint("tracking-table-max-keys", 0, I64, "1000000"),
    s("unixsocket", "").imm().null(),
    Directive::new("unixsocketperm", Kind::Octal { min: 0, max: 0o777 }, "0").imm(),
    b("use-exit-on-panic", "no").hid(),
    int("watchdog-period", 0, I32, "0").hid(),
    uint("zset-max-listpack-entries", 0, I64, "128").al(&["zset-max-ziplist-entries"]),
    umem("zset-max-listpack-value", 0, I64, "64").al(&["zset-max-ziplist-value"]),
];

/// Directives accepted in a config file that are not configs (Redis's extra directives).
pub const OTHER_DIRECTIVES: &[&str] = &["include", "rename-command", "user", "loadmodule", "sentinel"];

/// Finds a directive by name or alias (case-insensitive).
pub fn directive(name: &str) -> Option<&'static Directive> {
    lookup(name).map(|(d, _)| d)
}

/// Finds a directive by name or alias (case-insensitive); also returns the registered
/// name that matched (the alias itself when an alias was used), as Redis reports it.
pub fn lookup(name: &str) -> Option<(&'static Directive, &'static str)> {
    // A map keyed by lower-case name: this runs for every config read.
    type Map = std::collections::HashMap<String, (&'static Directive, &'static str), foldhash::fast::FixedState>;
    static MAP: OnceLock<Map> = OnceLock::new();
    let map = MAP.get_or_init(|| {
        let mut m = Map::default();
        for d in DIRECTIVES {
            for n in std::iter::once(d.name).chain(d.aliases.iter().copied()) {
                m.entry(n.to_ascii_lowercase()).or_insert((d, n));
            }
        }
        m
    });
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        map.get(&name.to_ascii_lowercase()).copied()
    } else {
        map.get(name).copied()
    }
}

/// Every registered name (primary names and aliases) with its directive.
pub fn registered_names() -> impl Iterator<Item = (&'static str, &'static Directive)> {
    DIRECTIVES.iter().flat_map(|d| std::iter::once(d.name).chain(d.aliases.iter().copied()).map(move |n| (n, d)))
}

/// Parses a memory size as Redis's `memtoull`: digits with an optional b/k/kb/m/mb/g/gb
/// suffix (case-insensitive). No sign is accepted; like Redis, an overflowing number
/// saturates and the multiplication wraps.
pub fn memtoull(s: &str) -> Option<u64> {
    let digits = s.bytes().take_while(|c| c.is_ascii_digit()).count();
    let (num, unit) = s.split_at(digits);
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits >= 128 {
        return None;
    }
    let mut v: u64 = 0;
    for c in num.bytes() {
        v = v.checked_mul(10).and_then(|x| x.checked_add((c - b'0') as u64)).unwrap_or(u64::MAX);
        if v == u64::MAX {
            break;
        }
    }
    Some(v.wrapping_mul(mul))
}

/// Parses a memory size (see [`memtoull`]) as a signed value (Redis casts to long long).
pub fn parse_memory(s: &str) -> Option<i64> {
    memtoull(s).map(|v| v as i64)
}

/// C `strtoll(s, &end, base)` requiring the whole string to be consumed (`*end == 0`):
/// leading white space and a sign are accepted, overflow saturates, and the empty
/// string is 0. `None` when characters are left over.
fn c_strtoll(s: &str, base: u32) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = rest.bytes().take_while(|c| (*c as char).is_digit(base)).count();
    if n == 0 {
        return if s.is_empty() { Some(0) } else { None };
    }
    if n != rest.len() {
        return None;
    }
    let mut v: i128 = 0;
    for c in rest.bytes() {
        v = v * base as i128 + (c as char).to_digit(base).unwrap_or(0) as i128;
        if v > i64::MAX as i128 + 1 {
            v = i64::MAX as i128 + 1;
        }
    }
    let v = if neg { -v } else { v };
    Some(v.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
}

/// Quotes a string as Redis's `sdscatrepr`.
pub fn repr(s: &[u8]) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for &c in s {
        match c {
            b'\\' => o.push_str("\\\\"),
            b'"' => o.push_str("\\\""),
            b'\n' => o.push_str("\\n"),
            b'\r' => o.push_str("\\r"),
            b'\t' => o.push_str("\\t"),
            7 => o.push_str("\\a"),
            8 => o.push_str("\\b"),
            0x20..=0x7e => o.push(c as char),
            _ => o.push_str(&format!("\\x{c:02x}")),
        }
    }
    o.push('"');
    o
}

/// `strerror` text of an I/O error (without Rust's " (os error N)" suffix).
fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn range_err(min: i64, max: i64, unsigned: bool) -> String {
    if unsigned {
        format!("argument must be between {} and {} inclusive", min as u64, max as u64)
    } else {
        format!("argument must be between {min} and {max} inclusive")
    }
}

fn in_range(v: i64, min: i64, max: i64, unsigned: bool) -> bool {
    if unsigned {
        (v as u64) >= (min as u64) && (v as u64) <= (max as u64)
    } else {
        v >= min && v <= max
    }
}

/// Keyspace event flags (Redis's NOTIFY_*), in the order Redis prints them.
const KS_CLASSES: &[(u8, u32)] = &[
    (b'g', 1 << 2),
    (b'$', 1 << 3),
    (b'l', 1 << 4),
    (b's', 1 << 5),
    (b'h', 1 << 6),
    (b'z', 1 << 7),
    (b'x', 1 << 8),
    (b'e', 1 << 9),
    (b't', 1 << 10),
    (b'd', 1 << 12),
    (b'n', 1 << 13),
];
const KS_KEYSPACE: u32 = 1 << 0;
const KS_KEYEVENT: u32 = 1 << 1;
const KS_KEY_MISS: u32 = 1 << 11;
const KS_ALL: u32 = (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 12);

/// Parses `notify-keyspace-events` letters (Redis's keyspaceEventsStringToFlags).
pub fn keyspace_events_flags(s: &str) -> Option<u32> {
    let mut f = 0;
    for c in s.bytes() {
        f |= match c {
            b'A' => KS_ALL,
            b'K' => KS_KEYSPACE,
            b'E' => KS_KEYEVENT,
            b'm' => KS_KEY_MISS,
            _ => KS_CLASSES.iter().find(|(l, _)| *l == c)?.1,
        };
    }
    Some(f)
}

/// Canonical `notify-keyspace-events` letters (Redis's keyspaceEventsFlagsToString).
pub fn keyspace_events_string(f: u32) -> String {
    let mut o = String::new();
    if f & KS_ALL == KS_ALL {
        o.push('A');
    } else {
        for (l, bit) in KS_CLASSES {
            if f & bit != 0 {
                o.push(*l as char);
            }
        }
    }
    if f & KS_KEYSPACE != 0 {
        o.push('K');
    }
    if f & KS_KEYEVENT != 0 {
        o.push('E');
    }
    if f & KS_KEY_MISS != 0 {
        o.push('m');
    }
    o
}

/// `%f` with trailing zeros (and a trailing dot) removed, as Redis prints percentiles.
fn fmt_percentile(v: f64) -> String {
    let mut s = format!("{v:.6}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

/// Memory amounts as CONFIG REWRITE writes them (gb/mb/kb when exact).
pub fn fmt_memory(v: u64) -> String {
    const GB: u64 = 1024 * 1024 * 1024;
    if v != 0 && v.is_multiple_of(GB) {
        format!("{}gb", v / GB)
    } else if v != 0 && v.is_multiple_of(1024 * 1024) {
        format!("{}mb", v / (1024 * 1024))
    } else if v != 0 && v.is_multiple_of(1024) {
        format!("{}kb", v / 1024)
    } else {
        v.to_string()
    }
}

fn is_base_name(s: &str) -> bool {
    !s.contains('/') && !s.contains('\\')
}

/// Redis's validateProcTitleTemplate: `{var}` with known variables, `{{`/`}}` escapes,
/// and a non-empty expansion.
fn valid_proc_title(t: &str) -> bool {
    const VARS: &[&str] = &["title", "listen-addr", "server-mode", "port", "tls-port", "unixsocket", "config-file"];
    let b = t.as_bytes();
    let mut i = 0;
    let mut non_empty = false;
    while i < b.len() {
        match b[i] {
            b'{' if b.get(i + 1) == Some(&b'{') => {
                non_empty = true;
                i += 2;
            }
            b'}' if b.get(i + 1) == Some(&b'}') => {
                non_empty = true;
                i += 2;
            }
            b'{' => {
                let Some(end) = t[i + 1..].find('}') else { return false };
                let var = &t[i + 1..i + 1 + end];
                if !VARS.contains(&var) {
                    return false;
                }
                if matches!(var, "listen-addr" | "port" | "tls-port") {
                    non_empty = true;
                }
                i += end + 2;
            }
            b'}' => return false,
            b' ' => i += 1,
            _ => {
                non_empty = true;
                i += 1;
            }
        }
    }
    non_empty
}

/// Validators of string directives (Redis's is_valid_fn).
fn validate_str(name: &str, v: &str) -> Result<(), String> {
    match name {
        "dbfilename" if !is_base_name(v) => Err("dbfilename can't be a path, just a filename".into()),
        "appendfilename" if v.is_empty() => Err("appendfilename can't be empty".into()),
        "appendfilename" if !is_base_name(v) => Err("appendfilename can't be a path, just a filename".into()),
        "appenddirname" if v.is_empty() => Err("appenddirname can't be empty".into()),
        "appenddirname" if !is_base_name(v) => Err("appenddirname can't be a path, just a dirname".into()),
        "cluster-announce-hostname" if v.len() >= 256 => Err("Hostnames must be less than 256 characters".into()),
        "cluster-announce-hostname" if !v.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') => {
            Err("Hostnames may only contain alphanumeric characters, hyphens or dots".into())
        }
        "proc-title-template" if !valid_proc_title(v) => Err("template format is invalid or contains unknown variables".into()),
        _ => Ok(()),
    }
}

/// One client-output-buffer-limit class: (hard, soft, seconds).
type ObufLimit = (u64, u64, i64);

fn parse_cobl(v: &str) -> [ObufLimit; 3] {
    let p: Vec<&str> = v.split(' ').collect();
    let mut out = [(0, 0, 0); 3];
    for (i, o) in out.iter_mut().enumerate() {
        let at = |k: usize| p.get(i * 4 + k).copied().unwrap_or("0");
        *o = (at(1).parse().unwrap_or(0), at(2).parse().unwrap_or(0), at(3).parse().unwrap_or(0));
    }
    out
}

fn fmt_cobl(l: &[ObufLimit; 3]) -> String {
    let names = ["normal", "slave", "pubsub"];
    let parts: Vec<String> = l.iter().zip(names).map(|((h, s, t), n)| format!("{n} {h} {s} {t}")).collect();
    parts.join(" ")
}

/// The hook that makes `loglevel` take effect (the server registers its logger's).
static LOGLEVEL_HOOK: OnceLock<fn(&str)> = OnceLock::new();

/// Registers the function that applies a new `loglevel` (called by [`apply_hot`]).
pub fn set_loglevel_hook(f: fn(&str)) {
    let _ = LOGLEVEL_HOOK.set(f);
}

/// Copies the configuration values read on hot paths into `shared`'s atomics and applies
/// the log level. Called at start-up and after every successful CONFIG SET.
pub fn apply_hot(cfg: &Config, shared: &Shared) {
    shared.slowlog_slower_than_us.store(cfg.get_i64("slowlog-log-slower-than"), Ordering::Relaxed);
    shared.slowlog_max_len.store(cfg.get_i64("slowlog-max-len").max(0) as u64, Ordering::Relaxed);
    shared.hash_max_listpack_entries.store(cfg.get_i64("hash-max-listpack-entries"), Ordering::Relaxed);
    shared.hash_max_listpack_value.store(cfg.get_i64("hash-max-listpack-value"), Ordering::Relaxed);
    shared.hash_limits_hot.store(true, Ordering::Relaxed);
    shared.hot.store(cfg);
    shared.latency_threshold_ms.store(cfg.get_i64("latency-monitor-threshold").max(0) as u64, Ordering::Relaxed);
    shared.notify_flags.store(cfg.notify_keyspace_flags(), Ordering::Relaxed);
    let (h, s, secs) = parse_cobl(cfg.get("client-output-buffer-limit").unwrap_or(DEFAULT_COBL))[2];
    shared.pubsub_obuf_hard.store(h, Ordering::Relaxed);
    shared.pubsub_obuf_soft.store(s, Ordering::Relaxed);
    shared.pubsub_obuf_soft_s.store(secs.max(0) as u64, Ordering::Relaxed);
    if let Some(f) = LOGLEVEL_HOOK.get() {
        f(cfg.get("loglevel").unwrap_or("notice"));
    }
}

/// The current configuration.
#[derive(Clone, Debug)]
pub struct Config {
    values: BTreeMap<&'static str, String>,
    /// A `save` line was read from the config text (the first one replaces the default).
    save_loaded: bool,
    /// `notify-keyspace-events` as flags: the canonical string can drop a class (`An`
    /// prints as `A`, as Redis's keyspaceEventsFlagsToString), the flags keep it.
    notify_flags: u32,
}

impl Default for Config {
    fn default() -> Self {
        let mut values: BTreeMap<&'static str, String> = DIRECTIVES.iter().map(|d| (d.name, d.default.to_string())).collect();
        values.insert("dir", std::env::current_dir().map(|p| p.display().to_string()).unwrap_or_default());
        Config { values, save_loaded: false, notify_flags: 0 }
    }
}

impl Config {
    /// `notify-keyspace-events` flags (Redis's NOTIFY_* bits; see `family::pubsub::class_bit`).
    pub fn notify_keyspace_flags(&self) -> u32 {
        self.notify_flags
    }

    /// Validates `value` for directive `name` (or alias) and stores its canonical form, as
    /// CONFIG SET does for one pair (values of multi-argument directives are split on
    /// spaces); mutability is not checked here. The error is Redis's reason text.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let d = directive(name).ok_or_else(|| "Bad directive or wrong number of arguments".to_string())?;
        let parts: Vec<&str> = if d.kind.multi_arg() {
            if value.is_empty() {
                Vec::new()
            } else {
                value.split(' ').collect()
            }
        } else {
            vec![value]
        };
        self.set_args(d, &parts, false)
    }

    /// Sets a directive from its arguments (`loading`: read from the config text, where
    /// several `save` lines accumulate).
    pub fn set_args(&mut self, d: &'static Directive, argv: &[&str], loading: bool) -> Result<(), String> {
        let canon = self.canonical(d, argv, loading)?;
        self.values.insert(d.name, canon);
        Ok(())
    }

    fn canonical(&mut self, d: &'static Directive, argv: &[&str], loading: bool) -> Result<String, String> {
        let first = argv.first().copied().unwrap_or("");
        Ok(match d.kind {
            Kind::Bool => {
                let v = if first.eq_ignore_ascii_case("yes") {
                    "yes"
                } else if first.eq_ignore_ascii_case("no") {
                    "no"
                } else {
                    return Err("argument must be 'yes' or 'no'".into());
                };
                if d.name == "activedefrag" && v == "yes" {
                    return Err("Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution".into());
                }
                v.to_string()
            }
            Kind::Int { min, max, unsigned } => {
                let v = shoal_keyspace::value::shoal_parse_i64(first.as_bytes())
                    .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
                if !in_range(v, min, max, unsigned) {
                    return Err(range_err(min, max, unsigned));
                }
                if d.name == "hz" {
                    v.clamp(1, 500).to_string()
                } else {
                    v.to_string()
                }
            }
            Kind::Memory { min, max, unsigned } => {
                let v = parse_memory(first).ok_or_else(|| "argument must be a memory value".to_string())?;
                if !in_range(v, min, max, unsigned) {
                    return Err(range_err(min, max, unsigned));
                }
                (v as u64).to_string()
            }
            Kind::MemoryPercent { min, max } => {
                let v = match parse_memory(first) {
                    Some(v) => v,
                    None => match first.strip_suffix('%').and_then(|n| shoal_keyspace::value::shoal_parse_i64(n.as_bytes())) {
                        Some(p) if first.len() > 1 && p >= 0 => -p,
                        _ => return Err("argument must be a memory or percent value".into()),
                    },
                };
                if v < 0 {
                    if v < min {
                        return Err(format!("percentage argument must be less or equal to {}", -min));
                    }
                    format!("{}%", -(v as i128))
                } else {
                    if v > max {
                        return Err(range_err(min, max, false));
                    }
                    v.to_string()
                }
            }
            Kind::Octal { min, max } => {
                let v = c_strtoll(first, 8).ok_or_else(|| "argument couldn't be parsed as an octal number".to_string())?;
                if !in_range(v, min, max, true) {
                    return Err(format!("argument must be between {min:o} and {max:o} inclusive"));
                }
                format!("{v:o}")
            }
            Kind::Enum(names) => {
                let found = if argv.len() == 1 { names.iter().find(|(n, _)| n.eq_ignore_ascii_case(first)) } else { None };
                let Some((_, val)) = found else {
                    let all: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
                    return Err(format!("argument(s) must be one of the following: {}", all.join(", ")));
                };
                names.iter().find(|(_, v)| v == val).map(|(n, _)| n.to_string()).unwrap_or_default()
            }
            Kind::Flags(names) => {
                let mut flags = 0;
                for a in argv {
                    match names.iter().find(|(n, _)| n.eq_ignore_ascii_case(a)) {
                        Some((_, v)) => flags |= v,
                        None => flags = -1,
                    }
                    if flags < 0 {
                        break;
                    }
                }
                if argv.is_empty() || flags < 0 {
                    let all: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
                    return Err(format!("argument(s) must be one of the following: {}", all.join(", ")));
                }
                if flags & 1 != 0 && flags & 2 != 0 {
                    return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
                }
                if flags == 0 {
                    names[0].0.to_string()
                } else {
                    let set: Vec<&str> = names.iter().filter(|(_, v)| *v != 0 && flags & v != 0).map(|(n, _)| *n).collect();
                    set.join(" ")
                }
            }
            Kind::Str => {
                validate_str(d.name, first)?;
                first.to_string()
            }
            Kind::Special(sp) => self.special(sp, argv, loading)?,
        })
    }

    fn special(&mut self, sp: Special, argv: &[&str], loading: bool) -> Result<String, String> {
        let argv: &[&str] =
            if argv.len() == 1 && argv[0].is_empty() && matches!(sp, Special::Save | Special::Bind | Special::LatencyPercentiles) {
                &[]
            } else {
                argv
            };
        Ok(match sp {
            Special::Dir => {
                if argv.len() != 1 {
                    return Err("wrong number of arguments".into());
                }
                std::env::set_current_dir(argv[0]).map_err(|e| strerror(&e))?;
                std::env::current_dir().map(|p| p.display().to_string()).unwrap_or_default()
            }
            Special::Save => {
                if argv.len() % 2 == 1 {
                    return Err("Invalid save parameters".into());
                }
                let mut pairs = Vec::new();
                for (j, a) in argv.iter().enumerate() {
                    let v = c_strtoll(a, 10).ok_or_else(|| "Invalid save parameters".to_string())?;
                    if (j % 2 == 0 && v < 1) || (j % 2 == 1 && v < 0) {
                        return Err("Invalid save parameters".into());
                    }
                    pairs.push(if j % 2 == 1 { (v as i32).to_string() } else { v.to_string() });
                }
                let new = pairs.join(" ");
                if loading && self.save_loaded {
                    let old = self.get("save").unwrap_or("");
                    match (old.is_empty(), new.is_empty()) {
                        (_, true) => old.to_string(),
                        (true, false) => new,
                        (false, false) => format!("{old} {new}"),
                    }
                } else {
                    if loading {
                        self.save_loaded = true;
                    }
                    new
                }
            }
            Special::Bind => {
                if argv.len() > 16 {
                    return Err("Too many bind addresses specified.".into());
                }
                if !loading {
                    for a in argv {
                        let h = a.strip_prefix('-').unwrap_or(a);
                        if !(h == "*" || h == "::*" || h.eq_ignore_ascii_case("localhost") || h.parse::<std::net::IpAddr>().is_ok()) {
                            return Err("Failed to bind to specified addresses.".into());
                        }
                    }
                }
                argv.join(" ")
            }
            Special::ClientOutputBufferLimit => {
                if !argv.len().is_multiple_of(4) {
                    return Err("Wrong number of arguments in buffer limit configuration.".into());
                }
                let mut limits = parse_cobl(self.get("client-output-buffer-limit").unwrap_or(DEFAULT_COBL));
                let mut new = limits;
                for g in argv.chunks(4) {
                    let class = match g[0].to_ascii_lowercase().as_str() {
                        "normal" => 0,
                        "slave" | "replica" => 1,
                        "pubsub" => 2,
                        _ => return Err("Invalid client class specified in buffer limit configuration.".into()),
                    };
                    let bad = || "Error in hard, soft or soft_seconds setting in buffer limit configuration.".to_string();
                    let hard = memtoull(g[1]).ok_or_else(bad)?;
                    let soft = memtoull(g[2]).ok_or_else(bad)?;
                    let secs = c_strtoll(g[3], 10).filter(|s| *s >= 0).ok_or_else(bad)?;
                    new[class] = (hard, soft, secs);
                }
                limits.copy_from_slice(&new);
                fmt_cobl(&limits)
            }
            Special::OomScoreAdjValues => {
                if argv.len() != 3 {
                    return Err("wrong number of arguments".into());
                }
                let mut v = Vec::new();
                for a in argv {
                    match c_strtoll(a, 10) {
                        Some(x) if (-2000..=2000).contains(&x) => v.push(x.to_string()),
                        _ => return Err("Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into()),
                    }
                }
                v.join(" ")
            }
            Special::NotifyKeyspaceEvents => {
                if argv.len() != 1 {
                    return Err("wrong number of arguments".into());
                }
                let f =
                    keyspace_events_flags(argv[0]).ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string())?;
                self.notify_flags = f;
                keyspace_events_string(f)
            }
            Special::ReplicaOf => {
                if argv.len() != 2 {
                    return Err("wrong number of arguments".into());
                }
                if argv[0].eq_ignore_ascii_case("no") && argv[1].eq_ignore_ascii_case("one") {
                    String::new()
                } else {
                    match c_strtoll(argv[1], 10) {
                        Some(p) if (0..=65535).contains(&p) => format!("{} {p}", argv[0]),
                        _ => return Err("Invalid master port".into()),
                    }
                }
            }
            Special::LatencyPercentiles => {
                let mut v = Vec::new();
                for a in argv {
                    let p = shoal_resp::parse_double(a.as_bytes())
                        .filter(|p| !p.is_nan())
                        .ok_or_else(|| "Invalid latency-tracking-info-percentiles parameters".to_string())?;
                    if !(0.0..=100.0).contains(&p) {
                        return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
                    }
                    v.push(fmt_percentile(p));
                }
                v.join(" ")
            }
        })
    }

    /// The canonical value of a directive (by name or alias), as CONFIG GET prints it.
    pub fn get(&self, name: &str) -> Option<&str> {
        let d = directive(name)?;
        self.values.get(d.name).map(|s| s.as_str())
    }

    /// All (name, value) pairs of primary names.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.values.iter().map(|(k, v)| (*k, v.as_str()))
    }

    pub fn get_i64(&self, name: &str) -> i64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }
    pub fn get_u64(&self, name: &str) -> u64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }
    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name) == Some("yes")
    }
    pub fn port(&self) -> u16 {
        self.get_i64("port") as u16
    }
    pub fn databases(&self) -> usize {
        self.get_i64("databases") as usize
    }
    pub fn requirepass(&self) -> Option<String> {
        self.get("requirepass").filter(|s| !s.is_empty()).map(|s| s.to_string())
    }
    pub fn bind(&self) -> Vec<String> {
        self.get("bind").unwrap_or("").split_whitespace().map(|s| s.to_string()).collect()
    }
}

/// Builds the options text redis-server appends to the config file from its command
/// line (`--name value ...`), exactly as its `main()` does.
fn options_text(args: &[String]) -> String {
    let mut options = String::new();
    let mut handled_last = true;
    let n = args.len();
    for (j, a) in args.iter().enumerate() {
        if handled_last && a.starts_with("--") {
            if !options.is_empty() {
                options.push('\n');
            }
            options.push_str(&a[2..]);
            options.push(' ');
            let parts = shoal_resp::split_args(a.as_bytes()).map(|v| v.len()).unwrap_or(0);
            if parts == 1 {
                handled_last = false;
                let is_save = a.eq_ignore_ascii_case("--save");
                if is_save && j + 1 < n && args[j + 1].starts_with("--") {
                    options.push_str("\"\"");
                    handled_last = true;
                } else if is_save && j + 1 == n {
                    options.push_str("\"\"");
                }
            } else {
                handled_last = true;
            }
        } else {
            options.push_str(&repr(a.as_bytes()));
            options.push(' ');
            handled_last = true;
        }
    }
    options
}

fn fatal(line: Option<(usize, &str)>, err: &str) -> String {
    let mut s = String::from("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n");
    if let Some((n, text)) = line {
        s.push_str(&format!("Reading the configuration file, at line {n}\n>>> '{text}'\n"));
    }
    s.push_str(err);
    s
}

/// Loaded state shared by the config text and the files it includes.
struct Loader {
    cfg: Config,
    warnings: Vec<String>,
    warned: BTreeSet<String>,
}

impl Loader {
    fn warn(&mut self, key: &str, msg: String) {
        if self.warned.insert(key.to_string()) {
            self.warnings.push(msg);
        }
    }

    /// Redis's loadServerConfigFromString (without the final checks).
    fn load_text(&mut self, text: &str, depth: usize) -> Result<(), String> {
        for (i, raw) in text.split('\n').enumerate() {
            let line = raw.trim_matches([' ', '\t', '\r', '\n']);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = Some((i + 1, line));
            let Some(parts) = shoal_resp::split_args(line.as_bytes()) else {
                return Err(fatal(at, "Unbalanced quotes in configuration line"));
            };
            if parts.is_empty() {
                continue;
            }
            let argv: Vec<String> = parts.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
            let name = argv[0].to_ascii_lowercase();
            let args: Vec<&str> = argv[1..].iter().map(|s| s.as_str()).collect();
            let argc = argv.len();
            if let Some((d, _)) = lookup(&name) {
                if !d.kind.multi_arg() && argc != 2 {
                    return Err(fatal(at, "wrong number of arguments"));
                }
                self.cfg.set_args(d, &args, true).map_err(|e| fatal(at, &e))?;
                continue;
            }
            if argc == 2 && matches!(name.as_str(), "list-max-ziplist-entries" | "list-max-ziplist-value" | "lua-replicate-commands") {
                continue;
            }
            match name.as_str() {
                "include" if argc == 2 => {
                    let path = &argv[1];
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| format!("Fatal error, can't open config file '{path}': {}", strerror(&e)))?;
                    if depth > 32 {
                        return Err(fatal(at, "include nesting too deep"));
                    }
                    self.load_text(&text, depth + 1)?;
                }
                "rename-command" if argc == 3 => {
                    if crate::table::lookup(argv[1].as_bytes()).is_none() {
                        return Err(fatal(at, "No such command in rename-command"));
                    }
                    if !argv[2].is_empty() && !argv[2].eq_ignore_ascii_case(&argv[1]) && crate::table::lookup(argv[2].as_bytes()).is_some()
                    {
                        return Err(fatal(at, "Target command name already exists"));
                    }
                    self.warn(
                        "rename-command",
                        "Directive 'rename-command' is accepted but not implemented by Shoal; commands keep their names".into(),
                    );
                }
                "user" if argc >= 2 => {
                    self.warn("user", "Directive 'user' is accepted but not implemented by Shoal (no ACL users); ignoring it".into());
                }
                "loadmodule" if argc >= 2 => {
                    self.warn(
                        "loadmodule",
                        format!("Directive 'loadmodule' is not supported by Shoal; module '{}' is not loaded", argv[1]),
                    );
                }
                _ if name.contains('.') => {
                    if argc != 2 {
                        return Err(fatal(at, "Module config specified without value"));
                    }
                    self.warn(&name, format!("Module config '{name}' ignored: Shoal does not load modules"));
                }
                "sentinel" => {
                    if argc != 1 {
                        return Err(fatal(at, "sentinel directive while not in sentinel mode"));
                    }
                }
                _ => return Err(fatal(at, "Bad directive or wrong number of arguments")),
            }
        }
        Ok(())
    }
}

/// Loads the configuration from redis-server style arguments:
/// `[config-file] [--directive value ...]`. Returns the config, the config file's absolute
/// path, and warnings to log (directives set to a non-default value that Shoal accepts but
/// does not act on). The error is the whole text redis-server prints before exiting
/// with status 1 (the FATAL CONFIG FILE ERROR block).
pub fn load(argv: &[String]) -> Result<(Config, Option<String>, Vec<String>), String> {
    let mut file = None;
    let mut text = String::new();
    let mut rest = argv;
    if let Some(first) = argv.first() {
        if !first.starts_with('-') {
            text =
                std::fs::read_to_string(first).map_err(|e| format!("Fatal error, can't open config file '{first}': {}", strerror(&e)))?;
            let abs = std::path::Path::new(first);
            let abs = if abs.is_absolute() {
                abs.to_path_buf()
            } else {
                std::env::current_dir().map(|d| d.join(abs)).unwrap_or_else(|_| abs.to_path_buf())
            };
            file = Some(abs.display().to_string());
            rest = &argv[1..];
        }
    }
    text.push('\n');
    text.push_str(&options_text(rest));
    let mut l = Loader { cfg: Config::default(), warnings: Vec::new(), warned: BTreeSet::new() };
    l.load_text(&text, 0)?;
    let logfile = l.cfg.get("logfile").unwrap_or("").to_string();
    if !logfile.is_empty() {
        if let Err(e) = std::fs::OpenOptions::new().create(true).append(true).open(&logfile) {
            return Err(fatal(None, &format!("Can't open the log file: {}", strerror(&e))));
        }
    }
    if l.cfg.get_bool("cluster-enabled") && !l.cfg.get("replicaof").unwrap_or("").is_empty() {
        return Err(fatal(None, "replicaof directive not allowed in cluster mode"));
    }
    let cfg = l.cfg;
    let mut warnings = l.warnings;
    for d in DIRECTIVES {
        if d.implemented || d.name == "dir" {
            continue;
        }
        let v = cfg.get(d.name).unwrap_or("");
        if v != d.default {
            warnings.push(format!("Directive '{}' is accepted but not implemented by Shoal; its value '{v}' has no effect", d.name));
        }
    }
    Ok((cfg, file, warnings))
}

/// The value printed for `d` (CONFIG GET): the stored one, or the live working
/// directory for `dir`.
pub fn value_of(cfg: &Config, d: &Directive) -> String {
    if d.name == "dir" {
        return std::env::current_dir().map(|p| p.display().to_string()).unwrap_or_default();
    }
    cfg.get(d.name).unwrap_or("").to_string()
}

const REWRITE_SIGNATURE: &str = "# Generated by CONFIG REWRITE";

/// CONFIG REWRITE state (Redis's rewriteConfigState).
struct Rewrite {
    lines: Vec<String>,
    option_lines: BTreeMap<String, std::collections::VecDeque<usize>>,
    processed: BTreeSet<String>,
    needs_signature: bool,
}

impl Rewrite {
    fn line(&mut self, option: &str, line: String, force: bool) {
        self.processed.insert(option.to_string());
        if let Some(l) = self.option_lines.get_mut(option).and_then(|q| q.pop_front()) {
            self.lines[l] = line;
            return;
        }
        if !force {
            return;
        }
        if self.needs_signature {
            self.lines.push(REWRITE_SIGNATURE.to_string());
            self.needs_signature = false;
        }
        self.lines.push(line);
    }
}

/// Rewrites the config file at `path` as CONFIG REWRITE does: comments, unknown lines and
/// the order are kept, changed directives are updated in place, other non-default values
/// are appended after a `# Generated by CONFIG REWRITE` line, and lines of directives
/// whose value is now unset/default-less are blanked.
pub fn rewrite(cfg: &Config, path: &str) -> std::io::Result<()> {
    let old = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let mut st = Rewrite { lines: Vec::new(), option_lines: BTreeMap::new(), processed: BTreeSet::new(), needs_signature: true };
    if !old.is_empty() {
        for raw in old.split('\n') {
            let line = raw.trim_matches(['\r', '\n', '\t', ' ']).to_string();
            if line.is_empty() || line.starts_with('#') {
                if line == REWRITE_SIGNATURE {
                    st.needs_signature = false;
                }
                st.lines.push(line);
                continue;
            }
            let parts = shoal_resp::split_args(line.as_bytes()).filter(|p| !p.is_empty());
            let name = parts.as_ref().map(|p| String::from_utf8_lossy(&p[0]).to_ascii_lowercase());
            let key = match name {
                Some(n) => match lookup(&n) {
                    Some((d, _)) => Some(d.name.to_string()),
                    None if OTHER_DIRECTIVES.contains(&n.as_str()) || n.contains('.') => Some(n),
                    None => None,
                },
                None => None,
            };
            match key {
                Some(k) => {
                    st.option_lines.entry(k).or_default().push_back(st.lines.len());
                    st.lines.push(line);
                }
                None => st.lines.push(format!("# ??? {line}")),
            }
        }
    }
    for d in DIRECTIVES {
        let v = value_of(cfg, d);
        let n = d.name;
        let differs = v != d.default;
        match d.kind {
            Kind::Bool | Kind::Int { .. } | Kind::Octal { .. } | Kind::Enum(_) | Kind::Flags(_) => st.line(n, format!("{n} {v}"), differs),
            Kind::Memory { .. } => {
                let m = fmt_memory(v.parse().unwrap_or(0));
                st.line(n, format!("{n} {m}"), differs)
            }
            Kind::MemoryPercent { .. } => {
                let m = if v.ends_with('%') { v.clone() } else { fmt_memory(v.parse().unwrap_or(0)) };
                st.line(n, format!("{n} {m}"), differs)
            }
            Kind::Str => {
                if v.is_empty() && d.empty_is_null {
                    st.processed.insert(n.to_string());
                } else {
                    st.line(n, format!("{n} {}", repr(v.as_bytes())), differs)
                }
            }
            Kind::Special(sp) => match sp {
                Special::Dir => st.line(n, format!("dir {}", repr(v.as_bytes())), true),
                Special::Save => {
                    if v.is_empty() {
                        st.line(n, "save \"\"".into(), true);
                    } else {
                        let p: Vec<&str> = v.split(' ').collect();
                        for pair in p.chunks(2) {
                            st.line(n, format!("save {}", pair.join(" ")), true);
                        }
                    }
                    st.processed.insert(n.to_string());
                }
                Special::Bind => {
                    if !differs {
                        st.processed.insert(n.to_string());
                    } else if v.is_empty() {
                        st.line(n, "bind \"\"".into(), true);
                    } else {
                        st.line(n, format!("bind {v}"), true);
                    }
                }
                Special::ClientOutputBufferLimit => {
                    let cur = parse_cobl(&v);
                    let def = parse_cobl(DEFAULT_COBL);
                    for (i, class) in ["normal", "replica", "pubsub"].iter().enumerate() {
                        let (h, s, t) = cur[i];
                        st.line(n, format!("{n} {class} {} {} {t}", fmt_memory(h), fmt_memory(s)), cur[i] != def[i]);
                    }
                }
                Special::OomScoreAdjValues => st.line(n, format!("{n} {v}"), differs),
                Special::NotifyKeyspaceEvents => st.line(n, format!("{n} {}", repr(v.as_bytes())), !v.is_empty()),
                Special::ReplicaOf => {
                    if v.is_empty() {
                        st.processed.insert(n.to_string());
                    } else {
                        st.line(n, format!("{n} {v}"), true);
                    }
                }
                Special::LatencyPercentiles => {
                    let val = if v.is_empty() { "\"\"".to_string() } else { v.clone() };
                    st.line(n, format!("{n} {val}"), true)
                }
            },
        }
    }
    // Blank the lines left over of options that were rewritten (duplicates, unset values).
    for (opt, ls) in &st.option_lines {
        if st.processed.contains(opt) {
            for &l in ls {
                st.lines[l] = String::new();
            }
        }
    }
    let mut content = String::new();
    let mut was_empty = false;
    for l in &st.lines {
        if l.is_empty() {
            if was_empty {
                continue;
            }
            was_empty = true;
        } else {
            was_empty = false;
        }
        content.push_str(l);
        content.push('\n');
    }
    let tmp = format!("{path}.shoal-tmp-{}", std::process::id());
    std::fs::write(&tmp, content.as_bytes())?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn command_line_overrides_and_errors() {
        let (c, f, _) = load(&args(&["--port", "7000", "--bind", "127.0.0.1", "::1"])).unwrap();
        assert_eq!(c.port(), 7000);
        assert_eq!(c.bind(), vec!["127.0.0.1", "::1"]);
        assert!(f.is_none());
        let e = load(&args(&["--nosuch", "1"])).unwrap_err();
        assert_eq!(
            e,
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'nosuch \"1\"'\nBad directive or wrong number of arguments"
        );
        let e = load(&args(&["--port", "7000", "--port", "x"])).unwrap_err();
        assert!(e.contains("at line 3\n>>> 'port \"x\"'\nargument couldn't be parsed into an integer"), "{e}");
        assert!(load(&args(&["--port", "1", "2"])).unwrap_err().ends_with("wrong number of arguments"));
        assert!(load(&args(&["--port"])).unwrap_err().contains(">>> 'port'\nwrong number of arguments"));
        // `--save` alone means `save ""`.
        let (c, _, _) = load(&args(&["--save", "--port", "1"])).unwrap();
        assert_eq!(c.get("save"), Some(""));
        assert_eq!(c.port(), 1);
    }

    #[test]
    fn memory_parsing() {
        assert_eq!(memtoull("1kb"), Some(1024));
        assert_eq!(memtoull("1k"), Some(1000));
        assert_eq!(memtoull("2MB"), Some(2 * 1024 * 1024));
        assert_eq!(memtoull("3g"), Some(3_000_000_000));
        assert_eq!(memtoull("1gb"), Some(1 << 30));
        assert_eq!(memtoull("7b"), Some(7));
        assert_eq!(memtoull(""), Some(0));
        assert_eq!(memtoull("-1"), None);
        assert_eq!(memtoull("1x"), None);
        assert_eq!(memtoull("99999999999999999999"), Some(u64::MAX));
        let mut c = Config::default();
        c.set("maxmemory", "1mb").unwrap();
        assert_eq!(c.get("maxmemory"), Some("1048576"));
        assert_eq!(c.set("maxmemory", "-5").unwrap_err(), "argument must be a memory value");
        c.set("maxmemory", "99999999999999999999").unwrap();
        assert_eq!(c.get("maxmemory"), Some("18446744073709551615"));
        assert_eq!(
            c.set("hash-max-listpack-value", "99999999999999999999").unwrap_err(),
            "argument must be between 0 and 9223372036854775807 inclusive"
        );
        c.set("maxmemory-clients", "5%").unwrap();
        assert_eq!(c.get("maxmemory-clients"), Some("5%"));
        assert_eq!(c.set("maxmemory-clients", "101%").unwrap_err(), "percentage argument must be less or equal to 100");
        assert_eq!(c.set("maxmemory-clients", "-5%").unwrap_err(), "argument must be a memory or percent value");
        assert_eq!(fmt_memory(3 * 1024 * 1024), "3mb");
        assert_eq!(fmt_memory(1000), "1000");
    }

    #[test]
    fn enum_bool_int_validation() {
        let mut c = Config::default();
        assert_eq!(c.set("appendonly", "maybe").unwrap_err(), "argument must be 'yes' or 'no'");
        c.set("appendonly", "YES").unwrap();
        assert_eq!(c.get("appendonly"), Some("yes"));
        assert_eq!(c.set("loglevel", "loud").unwrap_err(), "argument(s) must be one of the following: debug, verbose, notice, warning");
        c.set("maxmemory-policy", "ALLKEYS-LRU").unwrap();
        assert_eq!(c.get("maxmemory-policy"), Some("allkeys-lru"));
        c.set("oom-score-adj", "relative").unwrap();
        assert_eq!(c.get("oom-score-adj"), Some("yes"));
        assert_eq!(c.set("port", "01").unwrap_err(), "argument couldn't be parsed into an integer");
        assert_eq!(c.set("port", "65536").unwrap_err(), "argument must be between 0 and 65535 inclusive");
        assert_eq!(c.set("maxclients", "-5").unwrap_err(), "argument must be between 1 and 4294967295 inclusive");
        c.set("hz", "100000").unwrap();
        assert_eq!(c.get("hz"), Some("500"));
        c.set("shutdown-on-sigint", "now nosave").unwrap();
        assert_eq!(c.get("shutdown-on-sigint"), Some("nosave now"));
        assert!(c.set("shutdown-on-sigint", "save nosave").is_err());
        c.set("notify-keyspace-events", "Ex").unwrap();
        assert_eq!(c.get("notify-keyspace-events"), Some("xE"));
        c.set("notify-keyspace-events", "nmxEg$lshzetd").unwrap();
        assert_eq!(c.get("notify-keyspace-events"), Some("AEm"));
        assert!(c.set("notify-keyspace-events", "Q").is_err());
        c.set("latency-tracking-info-percentiles", "50 99.90 1e1").unwrap();
        assert_eq!(c.get("latency-tracking-info-percentiles"), Some("50 99.9 10"));
        c.set("client-output-buffer-limit", "Replica 1kb 2mb 3 pubsub 0 0 0").unwrap();
        assert_eq!(c.get("client-output-buffer-limit"), Some("normal 0 0 0 slave 1024 2097152 3 pubsub 0 0 0"));
        assert!(c.set("client-output-buffer-limit", "master 1 2 3").is_err());
        assert!(c.set("proc-title-template", "{foo}").is_err());
        c.set("proc-title-template", "x").unwrap();
    }

    #[test]
    fn save_parsing() {
        let mut c = Config::default();
        assert_eq!(c.get("save"), Some(DEFAULT_SAVE));
        c.set("save", "+100 -0").unwrap();
        assert_eq!(c.get("save"), Some("100 0"));
        for bad in ["100 1 200", "100 x", "0 1", "100  1"] {
            assert_eq!(c.set("save", bad).unwrap_err(), "Invalid save parameters", "{bad}");
        }
        c.set("save", "").unwrap();
        assert_eq!(c.get("save"), Some(""));
        // In the config text, save lines accumulate after replacing the default.
        let (c, _, _) = load(&args(&["--save", "100", "1", "--save", "200", "2"])).unwrap();
        assert_eq!(c.get("save"), Some("100 1 200 2"));
        let (c, _, _) = load(&args(&["--port", "1"])).unwrap();
        assert_eq!(c.get("save"), Some(DEFAULT_SAVE));
    }

    #[test]
    fn aliases() {
        let (d, n) = lookup("SLAVEOF").unwrap();
        assert_eq!((d.name, n), ("replicaof", "slaveof"));
        let mut c = Config::default();
        c.set("hash-max-ziplist-entries", "7").unwrap();
        assert_eq!(c.get("hash-max-listpack-entries"), Some("7"));
        assert_eq!(directive("lua-time-limit").map(|d| d.name), Some("busy-reply-threshold"));
        // CONFIG GET * shows 192 names on redis-server 7.0.15 (hidden ones excluded).
        assert_eq!(registered_names().filter(|(_, d)| !d.hidden).count(), 192);
    }

    #[test]
    fn repr_and_options() {
        assert_eq!(repr(b"a'\"\\b\n\x01"), "\"a'\\\"\\\\b\\n\\x01\"");
        assert_eq!(options_text(&args(&["--port", "1", "--nosuch", "a b"])), "port \"1\" \nnosuch \"a b\" ");
        assert_eq!(options_text(&args(&["--port 6380"])), "port 6380 ");
    }

    #[test]
    fn rewrite_keeps_comments_and_updates_in_place() {
        let path = std::env::temp_dir().join(format!("shoal-cfg-rewrite-{}.conf", std::process::id()));
        let p = path.display().to_string();
        std::fs::write(&path, "# top\nport 7000\nslave-read-only yes\nsave 100 1\nsave 200 2\nnosuch x\ntimeout 5\n").unwrap();
        let mut c = Config::default();
        c.set("port", "7001").unwrap();
        c.set("save", "100 1").unwrap();
        c.set("maxmemory", "3mb").unwrap();
        rewrite(&c, &p).unwrap();
        let out = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(out.starts_with("# top\nport 7001\nreplica-read-only yes\nsave 100 1\n\n# ??? nosuch x\ntimeout 0\n"), "{out}");
        assert!(out.contains("# Generated by CONFIG REWRITE\n"), "{out}");
        assert!(out.contains("\nmaxmemory 3mb\n"), "{out}");
        assert!(out.contains("\ndir \""), "{out}");
    }
}
