//! Property tests: seeded random command sequences, sent to redis-server 7.0.15 and to
//! Shoal, must get byte-identical replies.
//!
//! For each family (strings with bit operations, hashes, lists, sets, sorted sets, and the
//! generic key commands) a tiny PRNG (splitmix64) draws commands over a handful of keys
//! and small value domains, so that collisions, empty collections, type errors, encoding
//! conversions (thresholds lowered with CONFIG SET to 4 entries / 8 bytes), negative
//! indexes, infinities, huge counts and bad numbers come up often. MULTI/EXEC blocks
//! (with queued errors and DISCARD) and WATCH are mixed in.
//!
//! After every command (after EXEC/DISCARD inside a transaction) the keys it named are
//! compared too: TYPE, OBJECT ENCODING, whether a TTL is set, and a dump of the value
//! (GET, LRANGE 0 -1, SMEMBERS, HGETALL, ZRANGE 0 -1 WITHSCORES), exact where the order is
//! deterministic (listpack, intset) and sorted otherwise.
//!
//! Commands with random output are compared on what is deterministic: SRANDMEMBER,
//! HRANDFIELD, ZRANDMEMBER, RANDOMKEY by reply type and length (and sorted when they
//! must return everything); SPOP by reply shape, after which a diverging set is rebuilt
//! identically on both servers; SCAN/SSCAN/HSCAN/ZSCAN by a full iteration compared as
//! sorted sets.
//!
//! Environment: `PROPTEST_SEEDS=N` (default 8) and `PROPTEST_STEPS=M` (default 400) per
//! family; `PROPTEST_SEED_BASE=B` to start elsewhere. Every third seed uses RESP3. On a
//! mismatch the test shrinks the sequence (drops steps while the mismatch stays) and
//! prints the seed, the failing step, the shrunk command list and both replies.
//! `PROPTEST_IGNORE_ENCODING=1` skips every OBJECT ENCODING check (to look past an open
//! encoding difference). `PROPTEST_TRACE=1` prints every step with redis-server's reply.
//!
//! Known differences, checked only with `PROPTEST_STRICT=1` until they are fixed:
//! - the encoding of strings written by SETBIT, SETRANGE, BITFIELD, BITOP, APPEND (raw in
//!   redis-server; Shoal derives int/embstr from the content);
//! - OBJECT REFCOUNT of a COPY of a small integer (1 in redis-server, 2147483647 in Shoal);
//! - XCLAIM/XAUTOCLAIM that claim nothing create the consumer in Shoal, not in
//!   redis-server 7.0 (without STRICT the stray consumer is deleted on Shoal, `Cmp::Claim`).
//!
//! Streams, HyperLogLog and geo (300 steps by default): streams use explicit `ms-seq`
//! IDs (and rarely `ms-*`), never `*`, with `stream-node-max-entries` 4 so nodes split;
//! their digest is XRANGE - +, XINFO STREAM and XINFO GROUPS; idle times in XPENDING and
//! XINFO CONSUMERS are masked (`Cmp::Idle`). HyperLogLogs are strings, so the digest's
//! GET compares the sparse/dense bytes and the cached cardinality (`hll-sparse-max-bytes`
//! 100, so they turn dense). Geo sets are sorted sets; searches without ASC/DESC are
//! compared exactly (redis-server's cell order is deterministic), COUNT never with ANY.
//!
//! Not compared because redis-server itself is not deterministic there: lex ranges over
//! a skiplist with unequal scores, SORT BY (ties keep the hash table's order), and a
//! numeric SORT failing with "One or more scores can't be converted into double" because
//! of an `errno` left over by an earlier command.

// `v![..]` builds the argument vectors that `both` takes as a slice.
#![allow(clippy::useless_vec)]

mod common;

use common::{escape, split_aggregate, RawConn, Server};
use std::time::Duration;

// ---------------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with probability `pct` percent.
    fn pct(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
    /// Picks from `common` most of the time, from `rare` with probability `pct`.
    fn pick2<T: Copy>(&mut self, common: &[T], rare: &[T], pct: u64) -> T {
        if self.pct(pct) {
            self.pick(rare)
        } else {
            self.pick(common)
        }
    }
}

// ---------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------

/// How the two replies to a step are compared.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Cmp {
    /// Byte for byte.
    Exact,
    /// An aggregate whose top-level elements are compared as sorted lists.
    Sorted,
    /// Like `Sorted`, but a RESP2 flat array of field/value pairs is sorted by pairs.
    Pairs,
    /// Random output: the reply type and, for aggregates, the length.
    Shape,
    /// Random output that is all of the collection when the count covers it: sorted.
    ShapeOrAll,
    /// TTL-like integers: negative values exactly, others only as "positive".
    Ttl,
    /// SPOP: shape; a set that diverged is rebuilt identically on both servers.
    Spop,
    /// A lex range over the sorted set at argument `key_at`: exact, but skipped (not
    /// sent) when that key is a skiplist with unequal scores, where redis-server's
    /// result depends on the random levels of its skiplist nodes.
    Lex { key_at: usize },
    /// SCAN-like: a full iteration from cursor 0; elements compared as sorted sets
    /// (`pairs` for HSCAN/ZSCAN). `cursor_at` is the cursor's argument index.
    Scan { cursor_at: usize, pairs: bool },
    /// XPENDING (extended) and XINFO CONSUMERS: exact, but for the idle times.
    Idle,
    /// XCLAIM/XAUTOCLAIM: exact. Known difference (checked with `PROPTEST_STRICT=1`):
    /// Shoal creates the consumer even when nothing is claimed, redis-server 7.0 only
    /// when an entry is; without STRICT such a consumer is deleted again on Shoal.
    Claim,
}

#[derive(Clone)]
struct Step {
    args: Vec<Vec<u8>>,
    cmp: Cmp,
}

impl Step {
    fn show(&self) -> String {
        self.args
            .iter()
            .map(|a| {
                let e = escape(a);
                if a.is_empty() || a.iter().any(|&c| c == b' ' || c == b'"' || c == b'\'' || !c.is_ascii_graphic()) {
                    format!("\"{}\"", e.replace('"', "\\\""))
                } else {
                    e
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

trait IntoArg {
    fn arg(self) -> Vec<u8>;
}
impl IntoArg for &str {
    fn arg(self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}
impl IntoArg for String {
    fn arg(self) -> Vec<u8> {
        self.into_bytes()
    }
}
impl IntoArg for &String {
    fn arg(self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}
impl IntoArg for Vec<u8> {
    fn arg(self) -> Vec<u8> {
        self
    }
}
impl IntoArg for &[u8] {
    fn arg(self) -> Vec<u8> {
        self.to_vec()
    }
}
impl IntoArg for i64 {
    fn arg(self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

macro_rules! v {
    ($($x:expr),* $(,)?) => { vec![$(IntoArg::arg($x)),*] };
}

fn step(args: Vec<Vec<u8>>) -> Step {
    Step { args, cmp: Cmp::Exact }
}

fn with(args: Vec<Vec<u8>>, cmp: Cmp) -> Step {
    Step { args, cmp }
}

// ---------------------------------------------------------------------------------
// Value domains
// ---------------------------------------------------------------------------------

const LONG: &str = "a-member-longer-than-8";
const LONG45: &str = "0123456789012345678901234567890123456789-raw!";

const MEMBERS: &[&str] = &["a", "b", "c", "d", "e", "1", "2", "3", "-1", "10"];
const MEMBERS_RARE: &[&str] =
    &["007", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "", LONG, "1.5", "x y", "+1", "-0", "0", " 2"];

const SMALL: &[&str] = &["-3", "-2", "-1", "0", "1", "2", "3", "4", "5"];
const INT_RARE: &[&str] = &[
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "-9223372036854775809",
    "abc",
    "",
    "1.5",
    "0x1",
    "+1",
    " 1",
    "-0",
    "100",
    "-100",
    "2147483648",
    "-2147483649",
    "4294967296",
];

const SCORES: &[&str] = &["0", "1", "2", "3", "-1", "1.5", "-2.5", "10", "+inf", "-inf"];
const SCORES_RARE: &[&str] = &[
    "inf",
    "-Inf",
    "nan",
    "abc",
    "",
    "1e3",
    "-0",
    "0x10",
    "1e400",
    " 1",
    "1e-320",
    "0.1",
    "3.0000000000000001",
    "1.7976931348623157e308",
    "(1",
];

const VALUES: &[&str] = &["0", "1", "-1", "10", "abc", "x", "", "1.5", "100", "hello"];
const VALUES_RARE: &[&str] = &[
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775806",
    "12345678901234567890",
    "1e3",
    "inf",
    "-inf",
    " 1",
    "007",
    "+5",
    "0.1",
    "1.7976931348623157e308",
    LONG45,
    LONG,
    "\u{ff}\u{1}",
    "5e-1",
];

const PATTERNS: &[&str] = &["*", "k*", "k[0-2]", "?1", "*[", "[^k]*", "k\\*", "", "*1*", "h*", "[a-z]?"];

struct Gen {
    rng: Rng,
    keys: &'static [&'static str],
    /// Inside MULTI: only deterministic commands; blocking commands may be queued.
    tx: bool,
    /// Streams: the millisecond part of the latest growing ID.
    ms: u64,
}

impl Gen {
    fn key(&mut self) -> &'static str {
        // The last key is the "other type" key, less often.
        if self.rng.pct(8) {
            self.keys[self.keys.len() - 1]
        } else {
            self.rng.pick(&self.keys[..self.keys.len() - 1])
        }
    }
    fn member(&mut self) -> String {
        self.rng.pick2(MEMBERS, MEMBERS_RARE, 10).to_string()
    }
    fn small(&mut self) -> String {
        self.rng.pick2(SMALL, INT_RARE, 12).to_string()
    }
    fn count(&mut self) -> String {
        self.rng
            .pick2(&["0", "1", "2", "3", "5", "10"], &["-1", "-5", "abc", "9223372036854775807", "-9223372036854775808", "1.5", ""], 12)
            .to_string()
    }
    fn score(&mut self) -> String {
        self.rng.pick2(SCORES, SCORES_RARE, 12).to_string()
    }
    fn value(&mut self) -> String {
        self.rng.pick2(VALUES, VALUES_RARE, 15).to_string()
    }
    fn members(&mut self, max: usize) -> Vec<Vec<u8>> {
        let n = 1 + self.rng.below(max);
        (0..n).map(|_| self.member().into_bytes()).collect()
    }
    /// A TTL that cannot run out during a test: far in the future, or already past.
    fn ttl_secs(&mut self) -> String {
        self.rng
            .pick2(
                &["1000", "5000", "100000", "-1", "0"],
                &["abc", "9223372036854775807", "-9223372036854775808", "1.5", "9223372036854775"],
                10,
            )
            .to_string()
    }
    fn random_count(&mut self) -> String {
        // Never a huge negative count: redis-server would try to reply that many.
        self.rng.pick2(&["1", "2", "3", "-1", "-3", "0", "5", "20", "-20"], &["9223372036854775807", "abc", "", "1.5"], 8).to_string()
    }

    /// Generic key commands mixed into every family now and then.
    fn generic(&mut self) -> Step {
        let k = self.key();
        let k2 = self.key();
        match self.rng.below(14) {
            0 | 1 => step(v!["DEL", k]),
            2 => step(v!["EXISTS", k, k2]),
            3 => step(v!["EXPIRE", k, self.ttl_secs()]),
            4 => step(v!["PERSIST", k]),
            5 => with(v!["TTL", k], Cmp::Ttl),
            6 => step(v!["RENAME", k, k2]),
            7 => step(v!["RENAMENX", k, k2]),
            8 => {
                if self.rng.pct(50) {
                    step(v!["COPY", k, k2, "REPLACE"])
                } else {
                    step(v!["COPY", k, k2])
                }
            }
            9 => step(v!["TYPE", k]),
            10 if strict() && !ignore_encoding() => step(v!["OBJECT", "ENCODING", k]),
            11 => step(v!["UNLINK", k]),
            12 => step(v!["PEXPIRE", k, self.rng.pick(&["100000000", "0", "-5"])]),
            _ => step(v!["TOUCH", k, k2]),
        }
    }
}

// ---------------------------------------------------------------------------------
// Families
// ---------------------------------------------------------------------------------

type Family = fn(&mut Gen) -> Step;

fn gen_string(g: &mut Gen) -> Step {
    let k = g.key();
    let k2 = g.key();
    let r = &mut g.rng;
    match r.below(44) {
        0..=2 => {
            let mut a = v!["SET", k, g.value()];
            match g.rng.below(8) {
                0 => a.extend(v!["NX"]),
                1 => a.extend(v!["XX"]),
                2 => a.extend(v!["GET"]),
                3 => a.extend(v!["EX", g.ttl_secs()]),
                4 => a.extend(v!["KEEPTTL"]),
                5 => a.extend(v!["PX", "100000000", "GET", "XX"]),
                6 => a.extend(v![g.rng.pick(&["EX", "PX", "EXAT", "NX", "KEEPTTL", "BAD"]), g.rng.pick(&["10000", "XX", "EX", "-1", "0"])]),
                _ => {}
            }
            step(a)
        }
        3 => step(v!["GET", k]),
        4 => step(v!["SETNX", k, g.value()]),
        5 => step(v!["SETEX", k, g.ttl_secs(), g.value()]),
        6 => step(v!["PSETEX", k, g.rng.pick(&["100000000", "0", "-1", "abc"]), g.value()]),
        7 => step(v!["GETSET", k, g.value()]),
        8 => step(v!["GETDEL", k]),
        9 => {
            let mut a = v!["GETEX", k];
            match g.rng.below(5) {
                0 => a.extend(v!["EX", g.ttl_secs()]),
                1 => a.extend(v!["PERSIST"]),
                2 => a.extend(v!["PXAT", g.rng.pick(&["1", "99999999999999", "0", "-1"])]),
                3 => a.extend(v![g.rng.pick(&["EX", "PERSIST", "BAD", "KEEPTTL"])]),
                _ => {}
            }
            step(a)
        }
        10 => step(v!["MGET", k, k2, g.key()]),
        11 => step(v!["MSET", k, g.value(), k2, g.value()]),
        12 => step(v!["MSETNX", k, g.value(), k2, g.value()]),
        13 | 14 => step(v!["APPEND", k, g.value()]),
        15 => step(v!["STRLEN", k]),
        16 => step(v!["INCR", k]),
        17 => step(v!["DECR", k]),
        18 => step(v!["INCRBY", k, g.small()]),
        19 => step(v!["DECRBY", k, g.small()]),
        20 => step(v!["INCRBYFLOAT", k, g.score()]),
        21 => step(v!["GETRANGE", k, g.small(), g.small()]),
        22 => step(v!["SUBSTR", k, g.small(), g.small()]),
        23 => {
            let off = g.rng.pick2(&["0", "1", "3", "5", "10"], &["-1", "536870912", "abc", "9223372036854775807"], 10);
            step(v!["SETRANGE", k, off, g.value()])
        }
        24 => {
            let mut a = v!["LCS", k, k2];
            match g.rng.below(5) {
                0 => a.extend(v!["LEN"]),
                1 => a.extend(v!["IDX"]),
                2 => a.extend(v!["IDX", "MINMATCHLEN", g.small(), "WITHMATCHLEN"]),
                3 => a.extend(v!["LEN", "IDX"]),
                _ => {}
            }
            step(a)
        }
        25..=27 => {
            let off = g.rng.pick2(&["0", "1", "2", "7", "8", "15", "33", "100"], &["-1", "4294967296", "abc", ""], 8);
            step(v!["SETBIT", k, off, g.rng.pick2(&["0", "1"], &["2", "-1", "a"], 8)])
        }
        28 => {
            let off = g.rng.pick2(&["0", "1", "2", "7", "8", "15", "33", "100"], &["-1", "4294967295", "4294967296", "abc"], 10);
            step(v!["GETBIT", k, off])
        }
        29 | 30 => {
            let mut a = v!["BITCOUNT", k];
            if g.rng.pct(70) {
                a.extend(v![g.small(), g.small()]);
                if g.rng.pct(50) {
                    a.extend(v![g.rng.pick(&["BYTE", "BIT", "bit", "NOPE"])]);
                }
            } else if g.rng.pct(20) {
                a.extend(v![g.small()]);
            }
            step(a)
        }
        31 | 32 => {
            let mut a = v!["BITPOS", k, g.rng.pick2(&["0", "1"], &["2", "-1"], 10)];
            let n = g.rng.below(4);
            if n >= 1 {
                a.extend(v![g.small()]);
            }
            if n >= 2 {
                a.extend(v![g.small()]);
            }
            if n >= 3 {
                a.extend(v![g.rng.pick(&["BYTE", "BIT", "bit", "NOPE"])]);
            }
            step(a)
        }
        33 | 34 => {
            let op = g.rng.pick2(&["AND", "OR", "XOR", "NOT"], &["and", "NAND", "not"], 10);
            let mut a = v!["BITOP", op, g.key(), k];
            if op != "NOT" || g.rng.pct(10) {
                a.extend(v![k2]);
            }
            step(a)
        }
        35..=38 => {
            let mut a = v![if g.rng.pct(15) { "BITFIELD_RO" } else { "BITFIELD" }, k];
            let types = ["u8", "i8", "u4", "i16", "i64", "u63", "u1", "i1", "u5"];
            let bad_types = ["u64", "i65", "u0", "x8", "i0", ""];
            for _ in 0..1 + g.rng.below(3) {
                let ty = g.rng.pick2(&types, &bad_types, 6);
                let off = g.rng.pick2(&["0", "1", "3", "8", "#0", "#1", "#2"], &["-1", "#-1", "abc", "4294967296"], 6);
                match g.rng.below(5) {
                    0 | 1 => a.extend(v!["GET", ty, off]),
                    2 => a.extend(v!["SET", ty, off, g.small()]),
                    3 => a.extend(v!["INCRBY", ty, off, g.small()]),
                    _ => a.extend(v!["OVERFLOW", g.rng.pick2(&["WRAP", "SAT", "FAIL"], &["fail", "NOPE"], 10)]),
                }
            }
            step(a)
        }
        39 => step(v!["SET", k, g.rng.pick(&["\u{ff}\u{f0}\u{0}", "\u{0}\u{0}\u{1}", "foobar", "\u{ff}"])]),
        40 => step(v!["LPUSH", g.keys[g.keys.len() - 1], "x"]),
        41 => with(v!["PTTL", k], Cmp::Ttl),
        _ => g.generic(),
    }
}

fn gen_hash(g: &mut Gen) -> Step {
    let k = g.key();
    match g.rng.below(30) {
        0..=4 => {
            let mut a = v![if g.rng.pct(15) { "HMSET" } else { "HSET" }, k];
            for _ in 0..1 + g.rng.below(3) {
                a.extend(v![g.member(), g.value()]);
            }
            if g.rng.pct(3) {
                a.pop();
            }
            step(a)
        }
        5 => step(v!["HSETNX", k, g.member(), g.value()]),
        6 => step(v!["HGET", k, g.member()]),
        7 => {
            let mut a = v!["HMGET", k];
            a.extend(g.members(4));
            step(a)
        }
        8 | 9 => {
            let mut a = v!["HDEL", k];
            a.extend(g.members(3));
            step(a)
        }
        10 => step(v!["HLEN", k]),
        11 => step(v!["HSTRLEN", k, g.member()]),
        12 => step(v!["HEXISTS", k, g.member()]),
        13 => with(v!["HKEYS", k], Cmp::Sorted),
        14 => with(v!["HVALS", k], Cmp::Sorted),
        15 => with(v!["HGETALL", k], Cmp::Pairs),
        16 | 17 => step(v!["HINCRBY", k, g.member(), g.small()]),
        18 => step(v!["HINCRBYFLOAT", k, g.member(), g.score()]),
        19 | 20 => {
            let mut a = v!["HRANDFIELD", k];
            if g.rng.pct(70) {
                a.extend(v![g.random_count()]);
                if g.rng.pct(50) {
                    a.extend(v![g.rng.pick2(&["WITHVALUES"], &["withvalues", "NOPE"], 10)]);
                }
            }
            with(a, Cmp::ShapeOrAll)
        }
        21 => {
            let mut a = v!["HSCAN", k, g.rng.pick2(&["0"], &["abc", ""], 5)];
            if g.rng.pct(40) {
                a.extend(v!["MATCH", g.rng.pick(PATTERNS)]);
            }
            if g.rng.pct(40) {
                a.extend(v!["COUNT", g.rng.pick2(&["1", "2", "10"], &["0", "-1", "abc"], 10)]);
            }
            with(a, Cmp::Scan { cursor_at: 2, pairs: true })
        }
        22 => step(v!["SET", g.keys[g.keys.len() - 1], "x"]),
        _ => g.generic(),
    }
}

fn list_side(g: &mut Gen) -> &'static str {
    g.rng.pick2(&["LEFT", "RIGHT"], &["left", "UP"], 5)
}

fn gen_list(g: &mut Gen) -> Step {
    let k = g.key();
    let k2 = g.key();
    match g.rng.below(36) {
        0..=4 => {
            let mut a = v![g.rng.pick(&["LPUSH", "RPUSH", "LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), k];
            a.extend(g.members(4));
            step(a)
        }
        5 | 6 => {
            let mut a = v![g.rng.pick(&["LPOP", "RPOP"]), k];
            if g.rng.pct(50) {
                a.extend(v![g.count()]);
            }
            step(a)
        }
        7 => step(v!["LLEN", k]),
        8 => step(v!["LINDEX", k, g.small()]),
        9 => step(v!["LINSERT", k, g.rng.pick2(&["BEFORE", "AFTER"], &["after", "MIDDLE"], 8), g.member(), g.member()]),
        10 | 11 => step(v!["LRANGE", k, g.small(), g.small()]),
        12 => step(v!["LREM", k, g.small(), g.member()]),
        13 => step(v!["LSET", k, g.small(), g.member()]),
        14 => step(v!["LTRIM", k, g.small(), g.small()]),
        15 | 16 => {
            let mut a = v!["LPOS", k, g.member()];
            for _ in 0..g.rng.below(3) {
                match g.rng.below(4) {
                    0 => a.extend(v!["RANK", g.small()]),
                    1 => a.extend(v!["COUNT", g.small()]),
                    2 => a.extend(v!["MAXLEN", g.small()]),
                    _ => a.extend(v![g.rng.pick(&["RANK", "NOPE", "COUNT"])]),
                }
            }
            step(a)
        }
        17 | 18 => step(v!["LMOVE", k, k2, list_side(g), list_side(g)]),
        19 => step(v!["RPOPLPUSH", k, k2]),
        20 | 21 => {
            let n = g.rng.pick2(&["1", "2"], &["0", "-1", "3", "abc"], 10);
            let mut a = v!["LMPOP", n, k, k2];
            a.extend(v![list_side(g)]);
            if g.rng.pct(50) {
                a.extend(v!["COUNT", g.count()]);
            }
            step(a)
        }
        22 => {
            if g.tx {
                // Never blocks inside MULTI.
                match g.rng.below(4) {
                    0 => step(v!["BLPOP", k, k2, "0"]),
                    1 => step(v!["BRPOP", k, "1"]),
                    2 => step(v!["BLMOVE", k, k2, "LEFT", "RIGHT", "0"]),
                    _ => step(v!["BLMPOP", "0", "1", k, "RIGHT", "COUNT", "2"]),
                }
            } else {
                step(v!["LRANGE", k, "0", "-1"])
            }
        }
        23 if !g.tx => {
            let mut a = v!["SORT", k];
            if g.rng.pct(50) {
                a.extend(v!["ALPHA"]);
            }
            if g.rng.pct(30) {
                a.extend(v!["LIMIT", g.small(), g.small()]);
            }
            if g.rng.pct(30) {
                a.extend(v!["DESC"]);
            }
            if g.rng.pct(20) {
                a.extend(v!["STORE", k2]);
            }
            step(a)
        }
        24 => step(v!["SADD", g.keys[g.keys.len() - 1], "x"]),
        _ => g.generic(),
    }
}

fn gen_set(g: &mut Gen) -> Step {
    let k = g.key();
    let k2 = g.key();
    match g.rng.below(34) {
        0..=5 => {
            let mut a = v!["SADD", k];
            a.extend(g.members(4));
            step(a)
        }
        6 | 7 => {
            let mut a = v!["SREM", k];
            a.extend(g.members(3));
            step(a)
        }
        8 => step(v!["SCARD", k]),
        9 => step(v!["SISMEMBER", k, g.member()]),
        10 => {
            let mut a = v!["SMISMEMBER", k];
            a.extend(g.members(3));
            step(a)
        }
        11 => with(v!["SMEMBERS", k], Cmp::Sorted),
        12 => step(v!["SMOVE", k, k2, g.member()]),
        13 | 14 if !g.tx => {
            let mut a = v!["SPOP", k];
            if g.rng.pct(60) {
                a.extend(v![g.count()]);
            }
            with(a, Cmp::Spop)
        }
        15 | 16 if !g.tx => {
            let mut a = v!["SRANDMEMBER", k];
            if g.rng.pct(70) {
                a.extend(v![g.random_count()]);
            }
            with(a, Cmp::ShapeOrAll)
        }
        17..=19 => {
            let op = g.rng.pick(&["SINTER", "SUNION", "SDIFF"]);
            let mut a = v![op, k, k2];
            if g.rng.pct(30) {
                a.extend(v![g.key()]);
            }
            with(a, Cmp::Sorted)
        }
        20..=22 => {
            let op = g.rng.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]);
            let mut a = v![op, g.key(), k, k2];
            if g.rng.pct(30) {
                a.extend(v![g.key()]);
            }
            step(a)
        }
        23 => {
            let n = g.rng.pick2(&["1", "2"], &["0", "-1", "3", "abc"], 10);
            let mut a = v!["SINTERCARD", n, k, k2];
            if g.rng.pct(40) {
                a.extend(v!["LIMIT", g.small()]);
            }
            step(a)
        }
        24 => {
            let mut a = v!["SSCAN", k, g.rng.pick2(&["0"], &["abc", ""], 5)];
            if g.rng.pct(40) {
                a.extend(v!["MATCH", g.rng.pick(&["*", "1*", "?", "[a-c]", "*0*"])]);
            }
            if g.rng.pct(40) {
                a.extend(v!["COUNT", g.rng.pick2(&["1", "2", "10"], &["0", "-1"], 10)]);
            }
            with(a, Cmp::Scan { cursor_at: 2, pairs: false })
        }
        25 if !g.tx => {
            let mut a = v!["SORT", k];
            if g.rng.pct(60) {
                a.extend(v!["ALPHA"]);
            }
            if g.rng.pct(30) {
                a.extend(v!["LIMIT", g.small(), g.small()]);
            }
            step(a)
        }
        26 => step(v!["SET", g.keys[g.keys.len() - 1], "x"]),
        _ => g.generic(),
    }
}

fn zrange_bound(g: &mut Gen, lex: bool) -> String {
    if lex {
        g.rng.pick2(&["-", "+", "[a", "(a", "[b", "(c", "[1", "(3", "[e"], &["a", "[", "(", "", "-x", "+a"], 8).to_string()
    } else {
        let s = g.score();
        if g.rng.pct(25) {
            format!("({s}")
        } else {
            s
        }
    }
}

fn gen_zset(g: &mut Gen) -> Step {
    let k = g.key();
    let k2 = g.key();
    match g.rng.below(46) {
        0..=6 => {
            let mut a = v!["ZADD", k];
            for f in ["NX", "XX", "GT", "LT", "CH", "INCR"] {
                if g.rng.pct(7) {
                    a.extend(v![f]);
                }
            }
            for _ in 0..1 + g.rng.below(3) {
                a.extend(v![g.score(), g.member()]);
            }
            if g.rng.pct(3) {
                a.pop();
            }
            step(a)
        }
        7 => step(v!["ZINCRBY", k, g.score(), g.member()]),
        8 => step(v!["ZCARD", k]),
        9 => step(v!["ZCOUNT", k, zrange_bound(g, false), zrange_bound(g, false)]),
        10 => with(v!["ZLEXCOUNT", k, zrange_bound(g, true), zrange_bound(g, true)], Cmp::Lex { key_at: 1 }),
        11 => step(v!["ZSCORE", k, g.member()]),
        12 => {
            let mut a = v!["ZMSCORE", k];
            a.extend(g.members(3));
            step(a)
        }
        13 => step(v![g.rng.pick(&["ZRANK", "ZREVRANK"]), k, g.member()]),
        14..=17 => {
            let mode = g.rng.below(3);
            let (lo, hi) = match mode {
                0 => (g.small(), g.small()),
                1 => (zrange_bound(g, false), zrange_bound(g, false)),
                _ => (zrange_bound(g, true), zrange_bound(g, true)),
            };
            let store = g.rng.pct(20);
            let mut a = if store { v!["ZRANGESTORE", g.key(), k, lo, hi] } else { v!["ZRANGE", k, lo, hi] };
            if mode == 1 {
                a.extend(v!["BYSCORE"]);
            } else if mode == 2 {
                a.extend(v!["BYLEX"]);
            }
            if g.rng.pct(30) {
                a.extend(v!["REV"]);
            }
            if g.rng.pct(25) {
                a.extend(v!["LIMIT", g.small(), g.small()]);
            }
            if !store && g.rng.pct(40) {
                a.extend(v!["WITHSCORES"]);
            }
            if mode == 2 {
                with(a, Cmp::Lex { key_at: if store { 2 } else { 1 } })
            } else {
                step(a)
            }
        }
        18 => {
            let mut a = v!["ZREVRANGE", k, g.small(), g.small()];
            if g.rng.pct(40) {
                a.extend(v!["WITHSCORES"]);
            }
            step(a)
        }
        19 | 20 => {
            let cmd = g.rng.pick(&["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]);
            let mut a = v![cmd, k, zrange_bound(g, false), zrange_bound(g, false)];
            if g.rng.pct(40) {
                a.extend(v!["WITHSCORES"]);
            }
            if g.rng.pct(25) {
                a.extend(v!["LIMIT", g.small(), g.small()]);
            }
            step(a)
        }
        21 => {
            let cmd = g.rng.pick(&["ZRANGEBYLEX", "ZREVRANGEBYLEX"]);
            let mut a = v![cmd, k, zrange_bound(g, true), zrange_bound(g, true)];
            if g.rng.pct(25) {
                a.extend(v!["LIMIT", g.small(), g.small()]);
            }
            with(a, Cmp::Lex { key_at: 1 })
        }
        22 | 23 => {
            let mut a = v!["ZREM", k];
            a.extend(g.members(3));
            step(a)
        }
        24 => step(v!["ZREMRANGEBYRANK", k, g.small(), g.small()]),
        25 => step(v!["ZREMRANGEBYSCORE", k, zrange_bound(g, false), zrange_bound(g, false)]),
        26 => with(v!["ZREMRANGEBYLEX", k, zrange_bound(g, true), zrange_bound(g, true)], Cmp::Lex { key_at: 1 }),
        27 | 28 => {
            let mut a = v![g.rng.pick(&["ZPOPMIN", "ZPOPMAX"]), k];
            if g.rng.pct(50) {
                a.extend(v![g.count()]);
            }
            step(a)
        }
        29 => {
            let n = g.rng.pick2(&["1", "2"], &["0", "-1", "3", "abc"], 10);
            let mut a = v!["ZMPOP", n, k, k2, g.rng.pick2(&["MIN", "MAX"], &["min", "MID"], 8)];
            if g.rng.pct(50) {
                a.extend(v!["COUNT", g.count()]);
            }
            step(a)
        }
        30..=33 => {
            let op = g.rng.pick(&["ZUNION", "ZINTER", "ZDIFF", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]);
            let store = op.ends_with("STORE");
            let n = g.rng.pick2(&["2"], &["1", "0", "3", "-1", "abc"], 10);
            let mut a = if store { v![op, g.key(), n, k, k2] } else { v![op, n, k, k2] };
            if !op.starts_with("ZDIFF") {
                if g.rng.pct(30) {
                    a.extend(v!["WEIGHTS", g.score(), g.score()]);
                }
                if g.rng.pct(30) {
                    a.extend(v!["AGGREGATE", g.rng.pick2(&["SUM", "MIN", "MAX"], &["avg", "max"], 10)]);
                }
            }
            if !store && g.rng.pct(50) {
                a.extend(v!["WITHSCORES"]);
            }
            step(a)
        }
        34 => {
            let n = g.rng.pick2(&["1", "2"], &["0", "-1", "3", "abc"], 10);
            let mut a = v!["ZINTERCARD", n, k, k2];
            if g.rng.pct(40) {
                a.extend(v!["LIMIT", g.small()]);
            }
            step(a)
        }
        35 | 36 if !g.tx => {
            let mut a = v!["ZRANDMEMBER", k];
            if g.rng.pct(70) {
                a.extend(v![g.random_count()]);
                if g.rng.pct(50) {
                    a.extend(v![g.rng.pick2(&["WITHSCORES"], &["withscores", "NOPE"], 10)]);
                }
            }
            with(a, Cmp::ShapeOrAll)
        }
        37 => {
            let mut a = v!["ZSCAN", k, g.rng.pick2(&["0"], &["abc", ""], 5)];
            if g.rng.pct(40) {
                a.extend(v!["MATCH", g.rng.pick(&["*", "1*", "?", "[a-c]", "*0*"])]);
            }
            if g.rng.pct(40) {
                a.extend(v!["COUNT", g.rng.pick2(&["1", "2", "10"], &["0", "-1"], 10)]);
            }
            with(a, Cmp::Scan { cursor_at: 2, pairs: true })
        }
        38 => {
            if g.tx {
                step(v![g.rng.pick(&["BZPOPMIN", "BZPOPMAX"]), k, k2, "0"])
            } else {
                step(v!["ZRANGE", k, "0", "-1", "WITHSCORES"])
            }
        }
        39 => step(v!["SET", g.keys[g.keys.len() - 1], "x"]),
        40 if !g.tx => {
            let mut a = v!["SORT", k];
            if g.rng.pct(60) {
                a.extend(v!["ALPHA"]);
            }
            if g.rng.pct(30) {
                a.extend(v!["BY", "nosort"]);
            }
            step(a)
        }
        _ => g.generic(),
    }
}

fn gen_keys(g: &mut Gen) -> Step {
    let k = g.key();
    let k2 = g.key();
    match g.rng.below(40) {
        0..=2 => step(v!["SET", k, g.value()]),
        3 => step(v!["RPUSH", k, g.member(), g.member()]),
        4 => step(v!["SADD", k, g.member(), g.member()]),
        5 => step(v!["HSET", k, g.member(), g.value()]),
        6 => step(v!["ZADD", k, g.score(), g.member()]),
        7 | 8 => {
            let mut a = v![g.rng.pick(&["DEL", "UNLINK", "EXISTS", "TOUCH"]), k];
            if g.rng.pct(50) {
                a.extend(v![k2, k]);
            }
            step(a)
        }
        9 => step(v!["TYPE", k]),
        10 | 11 => step(v![g.rng.pick(&["RENAME", "RENAMENX"]), k, k2]),
        12 | 13 => {
            let mut a = v!["COPY", k, k2];
            for _ in 0..g.rng.below(3) {
                match g.rng.below(3) {
                    0 => a.extend(v!["REPLACE"]),
                    1 => a.extend(v!["DB", g.rng.pick2(&["0", "1"], &["-1", "16", "abc"], 15)]),
                    _ => a.extend(v![g.rng.pick(&["DB", "NOPE"])]),
                }
            }
            step(a)
        }
        14 => step(v!["MOVE", k, g.rng.pick2(&["1"], &["0", "-1", "16", "abc"], 20)]),
        15..=18 => {
            let cmd = g.rng.pick(&["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"]);
            let t = match cmd {
                "EXPIRE" => g.ttl_secs(),
                "PEXPIRE" => g.rng.pick2(&["100000000", "0", "-1", "200000000"], &["9223372036854775807", "abc"], 10).to_string(),
                "EXPIREAT" => g.rng.pick2(&["1", "4000000000", "4100000000", "0"], &["9223372036854775807", "-1"], 10).to_string(),
                _ => {
                    g.rng.pick2(&["1", "4000000000000", "4100000000000"], &["9223372036854775807", "-9223372036854775808"], 10).to_string()
                }
            };
            let mut a = v![cmd, k, t];
            if g.rng.pct(40) {
                a.extend(v![g.rng.pick2(&["NX", "XX", "GT", "LT"], &["nx", "NOPE"], 10)]);
            }
            if g.rng.pct(5) {
                a.extend(v![g.rng.pick(&["NX", "XX", "GT", "LT"])]);
            }
            step(a)
        }
        19 | 20 => with(v![g.rng.pick(&["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]), k], Cmp::Ttl),
        21 => step(v!["PERSIST", k]),
        22 => with(v!["KEYS", g.rng.pick(PATTERNS)], Cmp::Sorted),
        23 => {
            let mut a = v!["SCAN", g.rng.pick2(&["0"], &["abc", "18446744073709551616"], 5)];
            if g.rng.pct(40) {
                a.extend(v!["MATCH", g.rng.pick(PATTERNS)]);
            }
            if g.rng.pct(40) {
                a.extend(v!["COUNT", g.rng.pick2(&["1", "2", "10"], &["0", "-1"], 10)]);
            }
            if g.rng.pct(30) {
                a.extend(v!["TYPE", g.rng.pick(&["string", "list", "set", "zset", "hash", "nope"])]);
            }
            with(a, Cmp::Scan { cursor_at: 1, pairs: false })
        }
        24 if !g.tx => with(v!["RANDOMKEY"], Cmp::Shape),
        25 => step(v!["DBSIZE"]),
        26 | 27 if !g.tx => {
            let mut a = v!["SORT", k];
            for _ in 0..g.rng.below(4) {
                match g.rng.below(7) {
                    0 => a.extend(v!["ALPHA"]),
                    1 => a.extend(v!["DESC"]),
                    2 => a.extend(v!["LIMIT", g.small(), g.small()]),
                    3 => a.extend(v!["STORE", k2]),
                    4 => a.extend(v!["GET", g.rng.pick(&["#", "k*", "h*->a", "nope"])]),
                    5 => a.extend(v!["BY", g.rng.pick(&["k*", "nosort", "h*->a", "k0"])]),
                    _ => a.extend(v![g.rng.pick(&["ASC", "NOPE", "LIMIT"])]),
                }
            }
            // BY without '*' (nosort) leaves a set's order to its hash table: compare
            // the elements as a multiset (only the shape when LIMIT picks some), and
            // store nothing.
            // Weights that tie (missing keys) leave the order to the sort algorithm and,
            // for a set, to its hash table: any BY is compared the same way.
            let nosort = a.iter().any(|x| x.eq_ignore_ascii_case(b"BY"));
            if !nosort {
                return step(a);
            }
            if let Some(i) = a.iter().position(|x| x == b"STORE") {
                a.drain(i..i + 2);
            }
            let limited = a.iter().any(|x| x == b"LIMIT");
            with(a, if limited { Cmp::Shape } else { Cmp::Sorted })
        }
        28 if strict() && !ignore_encoding() => step(v!["OBJECT", "ENCODING", k]),
        29 => {
            let sub = if strict() { g.rng.pick(&["REFCOUNT", "FREQ", "NOPE", "HELP"]) } else { g.rng.pick(&["FREQ", "NOPE", "HELP"]) };
            step(v!["OBJECT", sub, k])
        }
        30 => step(v!["SET", k, g.value(), "EX", g.ttl_secs()]),
        31 => step(v!["GETEX", k, g.rng.pick(&["PERSIST", "EX"]), "1000"]),
        32 => step(v!["EXISTS", k, k2, g.key(), k]),
        _ => g.generic(),
    }
}

// ---------------------------------------------------------------------------------
// Streams, HyperLogLog, geo
// ---------------------------------------------------------------------------------

/// A stream ID: mostly growing (`ms` from a counter shared by the keys, so XADD
/// succeeds often), sometimes small, malformed or extreme.
fn stream_id(g: &mut Gen) -> String {
    if g.rng.pct(8) {
        return g
            .rng
            .pick(&[
                "0-0",
                "0",
                "abc",
                "1-",
                "-1",
                "1-x",
                "18446744073709551615-18446744073709551615",
                "18446744073709551616",
                "",
                "3-18446744073709551615",
            ])
            .to_string();
    }
    if g.rng.pct(30) {
        g.ms += g.rng.below(2) as u64;
        format!("{}-{}", g.ms, g.rng.below(3))
    } else {
        // Near the newest IDs, where the entries are.
        let ms = (g.ms + 1).saturating_sub(g.rng.below(12) as u64);
        if g.rng.pct(15) {
            ms.to_string()
        } else {
            format!("{ms}-{}", g.rng.below(3))
        }
    }
}

/// A range bound for XRANGE/XREVRANGE/XPENDING/XAUTOCLAIM: special, exclusive or an ID.
fn stream_bound(g: &mut Gen) -> String {
    match g.rng.below(10) {
        0 => "-".to_string(),
        1 => "+".to_string(),
        2 | 3 => format!("({}", stream_id(g)),
        4 if g.rng.pct(30) => g.rng.pick(&["(-", "(+", "(", "(0-0", "(18446744073709551615-18446744073709551615"]).to_string(),
        _ => stream_id(g),
    }
}

fn stream_group(g: &mut Gen) -> &'static str {
    g.rng.pick2(&["g1", "g2"], &["gx", ""], 6)
}

fn stream_consumer(g: &mut Gen) -> &'static str {
    g.rng.pick2(&["c1", "c2", "c3"], &["c4", ""], 6)
}

/// MAXLEN/MINID [=|~] threshold [LIMIT n], for XADD and XTRIM.
fn stream_trim(g: &mut Gen, a: &mut Vec<Vec<u8>>) {
    let minid = g.rng.pct(35);
    a.extend(v![if minid { "MINID" } else { g.rng.pick2(&["MAXLEN"], &["maxlen", "MAXLENX"], 5) }]);
    let approx = match g.rng.below(3) {
        0 => {
            a.extend(v!["~"]);
            true
        }
        1 => {
            a.extend(v!["="]);
            false
        }
        _ => false,
    };
    if minid {
        a.extend(v![stream_id(g)]);
    } else {
        a.extend(v![g.rng.pick2(&["0", "1", "3", "5", "8", "12", "20"], &["-1", "abc", "9223372036854775807", "1.5", ""], 8)]);
    }
    if g.rng.pct(if approx { 40 } else { 8 }) {
        a.extend(v!["LIMIT", g.rng.pick2(&["0", "1", "2", "4", "10", "100"], &["-1", "abc"], 10)]);
    }
}

/// XCLAIM/XAUTOCLAIM (see `Cmp::Claim`).
fn claim(a: Vec<Vec<u8>>) -> Step {
    with(a, if strict() { Cmp::Exact } else { Cmp::Claim })
}

fn gen_stream(g: &mut Gen) -> Step {
    let k = g.key();
    let k2 = g.key();
    // 52..=63 are more XADDs and XGROUP CREATEs (streams and groups to work on).
    let roll = match g.rng.below(76) {
        r @ 52..=71 => (r - 52) % 10,
        72..=75 => 19,
        r => r,
    };
    match roll {
        0..=9 => {
            let mut a = v!["XADD", k];
            if g.rng.pct(10) {
                a.extend(v!["NOMKSTREAM"]);
            }
            if g.rng.pct(15) {
                stream_trim(g, &mut a);
            }
            // Rarely `ms-*`: the sequence is derived deterministically from the top ID.
            let id = match g.rng.below(100) {
                0..=3 => format!("{}-*", g.ms + g.rng.below(2) as u64),
                4..=79 => {
                    g.ms += g.rng.below(2) as u64;
                    format!("{}-{}", g.ms, g.rng.below(3))
                }
                _ => stream_id(g),
            };
            a.extend(v![id]);
            let fields = if g.rng.pct(70) { 1 } else { 1 + g.rng.below(3) };
            for i in 0..fields {
                a.extend(v![g.rng.pick(&["f1", "f2", "f3"]), g.value()]);
                if i == 0 && g.rng.pct(2) {
                    a.pop();
                }
            }
            step(a)
        }
        10 | 11 => {
            let mut a = v!["XDEL", k];
            for _ in 0..1 + g.rng.below(3) {
                a.extend(v![stream_id(g)]);
            }
            step(a)
        }
        12 | 13 => {
            let mut a = v!["XTRIM", k];
            stream_trim(g, &mut a);
            step(a)
        }
        14..=17 => {
            let cmd = g.rng.pick(&["XRANGE", "XREVRANGE"]);
            let mut a = v![cmd, k, stream_bound(g), stream_bound(g)];
            if g.rng.pct(40) {
                a.extend(v!["COUNT", g.count()]);
            }
            if g.rng.pct(3) {
                a.extend(v![g.rng.pick(&["COUNT", "LIMIT"])]);
            }
            step(a)
        }
        18 => step(v!["XLEN", k]),
        19..=21 => {
            let grp = stream_group(g);
            match g.rng.below(9) {
                0..=2 => {
                    let id = g.rng.pick2(&["$", "0", "0-0"], &["abc", "+", "-"], 10).to_string();
                    let id = if g.rng.pct(30) { stream_id(g) } else { id };
                    let mut a = v!["XGROUP", "CREATE", k, grp, id];
                    if g.rng.pct(60) {
                        a.extend(v!["MKSTREAM"]);
                    }
                    if g.rng.pct(20) {
                        a.extend(v!["ENTRIESREAD", g.rng.pick2(&["0", "1", "3", "10"], &["-1", "-2", "abc"], 20)]);
                    }
                    step(a)
                }
                3 | 4 => {
                    let id = if g.rng.pct(50) { g.rng.pick(&["$", "0"]).to_string() } else { stream_id(g) };
                    let mut a = v!["XGROUP", "SETID", k, grp, id];
                    if g.rng.pct(20) {
                        a.extend(v!["ENTRIESREAD", g.rng.pick2(&["0", "1", "3", "10"], &["-1", "-2", "abc"], 20)]);
                    }
                    step(a)
                }
                5 => step(v!["XGROUP", "DESTROY", k, grp]),
                6 => step(v!["XGROUP", "CREATECONSUMER", k, grp, stream_consumer(g)]),
                7 => step(v!["XGROUP", "DELCONSUMER", k, grp, stream_consumer(g)]),
                _ => step(v!["XGROUP", g.rng.pick(&["NOPE", "CREATE", "SETID", "help"]), k]),
            }
        }
        22..=26 => {
            let mut a = v!["XREADGROUP", "GROUP", stream_group(g), stream_consumer(g)];
            if g.rng.pct(50) {
                a.extend(v!["COUNT", g.rng.pick2(&["1", "2", "3", "10"], &["0", "-1", "abc"], 10)]);
            }
            if g.rng.pct(25) {
                a.extend(v!["NOACK"]);
            }
            a.extend(v!["STREAMS", k]);
            let two = g.rng.pct(20);
            if two {
                a.extend(v![k2]);
            }
            for _ in 0..1 + two as usize {
                let id = if g.rng.pct(70) { ">".to_string() } else { g.rng.pick2(&["0", "0-0"], &["$", "+"], 10).to_string() };
                let id = if g.rng.pct(15) { stream_id(g) } else { id };
                a.extend(v![id]);
            }
            if g.rng.pct(3) {
                a.pop();
            }
            step(a)
        }
        27 => {
            let mut a = v!["XREAD"];
            if g.rng.pct(50) {
                a.extend(v!["COUNT", g.rng.pick2(&["1", "2", "3"], &["0", "-1", "abc"], 10)]);
            }
            a.extend(v!["STREAMS", k, g.rng.pick2(&["0", "0-0"], &["$", ">"], 10)]);
            step(a)
        }
        28..=30 => {
            let mut a = v!["XACK", k, stream_group(g)];
            for _ in 0..1 + g.rng.below(3) {
                a.extend(v![stream_id(g)]);
            }
            step(a)
        }
        31 | 32 => step(v!["XPENDING", k, stream_group(g)]),
        33 | 34 => {
            let mut a = v!["XPENDING", k, stream_group(g), stream_bound(g), stream_bound(g), g.count()];
            if g.rng.pct(30) {
                a.extend(v![stream_consumer(g)]);
            }
            with(a, Cmp::Idle)
        }
        35 | 36 => {
            let mut a = v!["XCLAIM", k, stream_group(g), stream_consumer(g), g.rng.pick2(&["0"], &["-1", "abc"], 5)];
            for _ in 0..1 + g.rng.below(3) {
                a.extend(v![stream_id(g)]);
            }
            if g.rng.pct(40) {
                a.extend(v!["JUSTID"]);
            }
            if g.rng.pct(5) {
                a.extend(v![g.rng.pick(&["RETRYCOUNT", "FORCE", "NOPE", "LASTID"])]);
            }
            claim(a)
        }
        37 | 38 => {
            let mut a = v!["XAUTOCLAIM", k, stream_group(g), stream_consumer(g), g.rng.pick2(&["0"], &["-1", "abc"], 5), stream_bound(g)];
            if g.rng.pct(40) {
                a.extend(v!["COUNT", g.rng.pick2(&["1", "2", "5", "100"], &["0", "-1", "abc", "9223372036854775807"], 10)]);
            }
            if g.rng.pct(40) {
                a.extend(v!["JUSTID"]);
            }
            claim(a)
        }
        39 => step(v!["XINFO", "STREAM", k]),
        40 => step(v!["XINFO", "GROUPS", k]),
        41 if !g.tx => with(v!["XINFO", "CONSUMERS", k, stream_group(g)], Cmp::Idle),
        42 => {
            let mut a = v!["XSETID", k, stream_id(g)];
            if g.rng.pct(30) {
                a.extend(v!["ENTRIESADDED", g.rng.pick2(&["0", "1", "5", "100"], &["-1", "abc"], 10)]);
            }
            if g.rng.pct(30) {
                a.extend(v!["MAXDELETEDID", stream_id(g)]);
            }
            step(a)
        }
        43 => step(v!["SET", g.keys[g.keys.len() - 1], "x"]),
        _ => g.generic(),
    }
}

/// HyperLogLog elements: a small domain (so counts repeat and registers collide), enough
/// of them for the sparse encoding to turn dense past `hll-sparse-max-bytes`.
fn hll_elem(g: &mut Gen) -> String {
    if g.rng.pct(5) {
        g.rng.pick(&["", LONG, LONG45, "0", "-1", "\u{ff}"]).to_string()
    } else {
        format!("e{}", g.rng.below(90))
    }
}

fn gen_hll(g: &mut Gen) -> Step {
    let k = g.key();
    let k2 = g.key();
    match g.rng.below(34) {
        0..=11 => {
            let mut a = v!["PFADD", k];
            let max = if g.rng.pct(30) { 24 } else { 4 };
            let n = if g.rng.pct(5) { 0 } else { 1 + g.rng.below(max) };
            for _ in 0..n {
                a.extend(v![hll_elem(g)]);
            }
            step(a)
        }
        12..=15 => {
            let mut a = v!["PFCOUNT", k];
            if g.rng.pct(40) {
                a.extend(v![k2]);
                if g.rng.pct(40) {
                    a.extend(v![g.key()]);
                }
            }
            step(a)
        }
        16..=18 => {
            let mut a = v!["PFMERGE", k];
            for _ in 0..g.rng.below(3) {
                a.extend(v![g.key()]);
            }
            step(a)
        }
        19 => step(v!["PFDEBUG", g.rng.pick2(&["ENCODING", "TODENSE", "DECODE"], &["GETREG", "NOPE"], 10), k]),
        20 => step(v!["GET", k]),
        21 => step(v!["STRLEN", k]),
        // Not a HyperLogLog: a short string, a wrong magic, a list.
        22 => step(v![
            "SET",
            g.keys[g.keys.len() - 1],
            g.rng.pick(&["x", "HYLL", "HYLL\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}"])
        ]),
        23 if g.rng.pct(30) => step(v!["LPUSH", g.keys[g.keys.len() - 1], "x"]),
        // Corruptions of a valid HyperLogLog: bad encoding byte, trailing bytes, a
        // truncated dense value, an overwritten register area.
        24 if g.rng.pct(40) => {
            let (off, val) =
                g.rng.pick(&[("4", "\u{5}"), ("4", "\u{1}"), ("4", "\u{0}"), ("16", "\u{7f}\u{7f}"), ("20", "zzz"), ("0", "HYLX")]);
            step(v!["SETRANGE", k, off, val])
        }
        25 if g.rng.pct(30) => step(v!["APPEND", k, g.rng.pick(&["x", "\u{0}\u{0}"])]),
        26 => step(v!["COPY", k, k2, "REPLACE"]),
        _ => g.generic(),
    }
}

/// Coordinates: mostly a small grid (searches find several members), sometimes edge
/// values (poles, antimeridian, tiny offsets), rarely invalid ones.
const GEO_LON: &[&str] = &["0", "0.5", "1", "1.5", "2", "-0.5"];
const GEO_LON_EDGE: &[&str] = &["13.361389", "15.087269", "179.9", "-179.9", "180", "-180", "0.0001", "1e-7"];
const GEO_LAT: &[&str] = &["0", "0.5", "1", "-0.5", "-1"];
const GEO_LAT_EDGE: &[&str] = &["38.115556", "37.502669", "85.05112878", "-85.05112878", "85", "0.0001", "-1e-7"];
const GEO_BAD: &[&str] = &["181", "-180.1", "85.06", "-86", "abc", "", "nan", "inf", "1e400", "0x1"];
const GEO_MEMBERS: &[&str] = &["a", "b", "c", "d", "e", "f", "Palermo", "Catania"];

fn geo_coord(g: &mut Gen, grid: &[&str], edge: &[&str]) -> String {
    match g.rng.below(100) {
        0..=79 => g.rng.pick(grid),
        80..=95 => g.rng.pick(edge),
        _ => g.rng.pick(GEO_BAD),
    }
    .to_string()
}

fn geo_lon(g: &mut Gen) -> String {
    geo_coord(g, GEO_LON, GEO_LON_EDGE)
}

fn geo_lat(g: &mut Gen) -> String {
    geo_coord(g, GEO_LAT, GEO_LAT_EDGE)
}

fn geo_member(g: &mut Gen) -> String {
    g.rng.pick2(GEO_MEMBERS, &["zz", "", LONG], 5).to_string()
}

fn geo_unit(g: &mut Gen) -> &'static str {
    g.rng.pick2(&["km", "km", "km", "mi", "m"], &["KM", "ft", "yd", ""], 6)
}

fn geo_dist(g: &mut Gen) -> &'static str {
    g.rng.pick2(&["0", "1", "60", "100", "150", "200", "300", "1000", "5000", "200000"], &["-1", "abc", "1e400", "0.5", ""], 6)
}

/// The options shared by GEOSEARCH/GEORADIUS replies: WITH*, COUNT (never ANY: it would
/// pick whichever members come first), ASC/DESC.
fn geo_opts(g: &mut Gen, a: &mut Vec<Vec<u8>>, with: bool) {
    if with {
        for w in ["WITHCOORD", "WITHDIST", "WITHHASH"] {
            if g.rng.pct(30) {
                a.extend(v![w]);
            }
        }
    }
    if g.rng.pct(35) {
        a.extend(v!["COUNT", g.rng.pick2(&["1", "2", "3", "10"], &["0", "-1", "abc"], 10)]);
    }
    if g.rng.pct(50) {
        a.extend(v![g.rng.pick2(&["ASC", "DESC"], &["asc", "UP"], 5)]);
    }
}

/// GEOSEARCH's FROM and BY clauses.
fn geo_from_by(g: &mut Gen, a: &mut Vec<Vec<u8>>) {
    match g.rng.below(20) {
        0..=8 => a.extend(v!["FROMMEMBER", geo_member(g)]),
        9..=17 => a.extend(v!["FROMLONLAT", geo_lon(g), geo_lat(g)]),
        18 => a.extend(v!["FROMMEMBER", geo_member(g), "FROMLONLAT", "0", "0"]),
        _ => {}
    }
    match g.rng.below(20) {
        0..=9 => a.extend(v!["BYRADIUS", geo_dist(g), geo_unit(g)]),
        10..=18 => a.extend(v!["BYBOX", geo_dist(g), geo_dist(g), geo_unit(g)]),
        _ => {}
    }
}

fn gen_geo(g: &mut Gen) -> Step {
    let k = g.key();
    let k2 = g.key();
    // 44..=55 are more GEOADDs (fuller sets, so that searches find members).
    let roll = match g.rng.below(56) {
        r @ 44..=55 => (r - 44) % 10,
        r => r,
    };
    match roll {
        0..=9 => {
            let mut a = v!["GEOADD", k];
            for f in ["NX", "XX", "CH"] {
                if g.rng.pct(8) {
                    a.extend(v![f]);
                }
            }
            for _ in 0..1 + g.rng.below(3) {
                a.extend(v![geo_lon(g), geo_lat(g), geo_member(g)]);
            }
            if g.rng.pct(3) {
                a.pop();
            }
            step(a)
        }
        10 | 11 => {
            let mut a = v!["GEODIST", k, geo_member(g), geo_member(g)];
            if g.rng.pct(60) {
                a.extend(v![geo_unit(g)]);
            }
            step(a)
        }
        12 | 13 => {
            let mut a = v![g.rng.pick(&["GEOPOS", "GEOHASH"]), k];
            for _ in 0..g.rng.below(4) {
                a.extend(v![geo_member(g)]);
            }
            step(a)
        }
        14..=20 => {
            let mut a = v!["GEOSEARCH", k];
            geo_from_by(g, &mut a);
            geo_opts(g, &mut a, true);
            step(a)
        }
        21 | 22 => {
            let mut a = v!["GEOSEARCHSTORE", g.key(), k];
            geo_from_by(g, &mut a);
            let with = g.rng.pct(5);
            geo_opts(g, &mut a, with);
            if g.rng.pct(40) {
                a.extend(v!["STOREDIST"]);
            }
            step(a)
        }
        23..=27 => {
            let ro = g.rng.pct(30);
            let by_member = g.rng.pct(50);
            let mut a = match (by_member, ro) {
                (false, false) => v!["GEORADIUS", k, geo_lon(g), geo_lat(g)],
                (false, true) => v!["GEORADIUS_RO", k, geo_lon(g), geo_lat(g)],
                (true, false) => v!["GEORADIUSBYMEMBER", k, geo_member(g)],
                (true, true) => v!["GEORADIUSBYMEMBER_RO", k, geo_member(g)],
            };
            a.extend(v![geo_dist(g), geo_unit(g)]);
            let store = !ro && g.rng.pct(30);
            let with = !store || g.rng.pct(5);
            geo_opts(g, &mut a, with);
            if store || (ro && g.rng.pct(5)) {
                a.extend(v![g.rng.pick(&["STORE", "STOREDIST"]), k2]);
            }
            step(a)
        }
        28 => step(v!["ZRANGE", k, "0", "-1", "WITHSCORES"]),
        29 => step(v!["ZREM", k, geo_member(g)]),
        30 => step(v!["ZADD", k, g.rng.pick(&["0", "1", "3471579339700058", "4503599627370496", "-1", "inf"]), geo_member(g)]),
        31 => step(v!["ZCARD", k]),
        32 if g.rng.pct(25) => step(v!["SET", g.keys[g.keys.len() - 1], "x"]),
        _ => g.generic(),
    }
}

// ---------------------------------------------------------------------------------
// Sequences (with transactions)
// ---------------------------------------------------------------------------------

fn generate(family: Family, keys: &'static [&'static str], seed: u64, steps: usize) -> Vec<Step> {
    let mut g = Gen { rng: Rng::new(seed), keys, tx: false, ms: 1 };
    let mut out = Vec::with_capacity(steps + 16);
    while out.len() < steps {
        let dice = g.rng.below(100);
        if dice < 3 {
            // WATCH some keys (possibly touched later, by this client itself).
            let mut a = v!["WATCH", g.key()];
            if g.rng.pct(50) {
                a.extend(v![g.key()]);
            }
            out.push(step(a));
        } else if dice < 4 {
            out.push(step(v!["UNWATCH"]));
        } else if dice < 8 {
            out.push(step(v!["MULTI"]));
            g.tx = true;
            let n = 1 + g.rng.below(4);
            for _ in 0..n {
                if g.rng.pct(6) {
                    // A command refused at queue time dooms the transaction.
                    let bad = [v!["NOSUCHCMD", "x"], v!["GET"], v!["SET", "k0"], v!["WATCH", "k0"], v!["MULTI"]];
                    out.push(step(bad[g.rng.below(bad.len())].clone()));
                }
                let mut s = family(&mut g);
                while s.cmp != Cmp::Exact {
                    s = family(&mut g);
                }
                out.push(s);
            }
            g.tx = false;
            out.push(step(if g.rng.pct(85) { v!["EXEC"] } else { v!["DISCARD"] }));
        } else {
            out.push(family(&mut g));
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// Running and comparing
// ---------------------------------------------------------------------------------

struct Pair {
    r: RawConn,
    s: RawConn,
}

fn both(p: &mut Pair, args: &[Vec<u8>]) -> (Vec<u8>, Vec<u8>) {
    p.r.send(args).expect("send to redis");
    p.s.send(args).expect("send to shoal");
    let a = p.r.read_reply().unwrap_or_else(|e| format!("<redis: {e}>").into_bytes());
    let b = p.s.read_reply().unwrap_or_else(|e| format!("<shoal: {e}>").into_bytes());
    (a, b)
}

/// Sends a batch of commands to both servers at once and reads all replies.
fn both_many(p: &mut Pair, cmds: &[Vec<Vec<u8>>]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut buf = Vec::new();
    for c in cmds {
        buf.extend_from_slice(&common::encode_cmd(c));
    }
    p.r.send_raw(&buf).expect("send to redis");
    p.s.send_raw(&buf).expect("send to shoal");
    let ra: Vec<Vec<u8>> = cmds.iter().map(|_| p.r.read_reply().unwrap_or_else(|e| format!("<redis: {e}>").into_bytes())).collect();
    let sa: Vec<Vec<u8>> = cmds.iter().map(|_| p.s.read_reply().unwrap_or_else(|e| format!("<shoal: {e}>").into_bytes())).collect();
    ra.into_iter().zip(sa).collect()
}

/// The top-level elements of an aggregate, sorted (pairs kept together when `pairs`
/// and the reply is a flat RESP2 array).
fn sorted_elems(reply: &[u8], pairs: bool) -> Option<(u8, usize, Vec<Vec<u8>>)> {
    let (_, elems) = split_aggregate(reply)?;
    let t = reply[0];
    let n = elems.len();
    let mut items: Vec<Vec<u8>> = if pairs && t == b'*' { elems.chunks(2).map(|c| c.concat()).collect() } else { elems };
    items.sort();
    Some((t, n, items))
}

fn shape(reply: &[u8]) -> (u8, Option<usize>) {
    match split_aggregate(reply) {
        Some((_, e)) => (reply[0], Some(e.len())),
        None if reply.starts_with(b"$-1") || reply.starts_with(b"_") => (b'_', None),
        None => (reply.first().copied().unwrap_or(0), None),
    }
}

fn ttl_class(reply: &[u8]) -> Vec<u8> {
    if let Some(s) = reply.strip_prefix(b":") {
        if let Ok(v) = std::str::from_utf8(s).unwrap_or("").trim_end().parse::<i64>() {
            if v >= 0 {
                return b":<non-negative>".to_vec();
            }
        }
    }
    reply.to_vec()
}

/// The bytes of a bulk string frame.
fn bulk_bytes(frame: &[u8]) -> Option<Vec<u8>> {
    if frame.first() != Some(&b'$') {
        return None;
    }
    let nl = frame.windows(2).position(|w| w == b"\r\n")?;
    let n: usize = std::str::from_utf8(&frame[1..nl]).ok()?.parse().ok()?;
    frame.get(nl + 2..nl + 2 + n).map(|s| s.to_vec())
}

fn is_error(r: &[u8]) -> bool {
    r.first() == Some(&b'-') || r.first() == Some(&b'<')
}

/// Compares two replies to `s`; `Err` describes the difference.
fn compare(s: &Step, a: &[u8], b: &[u8]) -> Result<(), String> {
    if a == b {
        return Ok(());
    }
    let fail = || Err(format!("redis: {}\n      shoal: {}", escape(a), escape(b)));
    if sort_errno_quirk(s, a, b) {
        return Ok(());
    }
    if is_error(a) || is_error(b) {
        return fail();
    }
    match s.cmp {
        Cmp::Exact | Cmp::Lex { .. } | Cmp::Claim => fail(),
        Cmp::Sorted | Cmp::Pairs => {
            let pairs = s.cmp == Cmp::Pairs;
            if sorted_elems(a, pairs).is_some() && sorted_elems(a, pairs) == sorted_elems(b, pairs) {
                Ok(())
            } else {
                fail()
            }
        }
        Cmp::Shape | Cmp::Spop => {
            if shape(a) == shape(b) {
                Ok(())
            } else {
                fail()
            }
        }
        Cmp::ShapeOrAll => {
            if shape(a) != shape(b) {
                return fail();
            }
            // A non-negative count at least the size returns everything (distinct).
            let count = s.args.get(2).and_then(|c| std::str::from_utf8(c).ok()).and_then(|c| c.parse::<i64>().ok());
            let withx = s.args.len() > 3;
            if let (Some(c), Some((_, Some(n)))) = (count, Some(shape(a))) {
                let per = if withx && a[0] == b'*' && split_aggregate(a).is_some_and(|(_, e)| e.first().is_some_and(|f| f[0] == b'$')) {
                    2
                } else {
                    1
                };
                if c >= 0 && (n / per) < c as usize {
                    let pairs = per == 2;
                    if sorted_elems(a, pairs) != sorted_elems(b, pairs) {
                        return fail();
                    }
                }
            }
            Ok(())
        }
        Cmp::Ttl => {
            if ttl_class(a) == ttl_class(b) {
                Ok(())
            } else {
                fail()
            }
        }
        Cmp::Scan { .. } => fail(),
        Cmp::Idle => {
            if mask_idle(a) == mask_idle(b) {
                Ok(())
            } else {
                fail()
            }
        }
    }
}

/// Zeroes the idle times in an XPENDING extended reply (the third element of each entry)
/// and in XINFO CONSUMERS (the integer after the "idle" label).
fn mask_idle(reply: &[u8]) -> Vec<u8> {
    let Some((header, elems)) = split_aggregate(reply) else { return reply.to_vec() };
    let mut out = header;
    for e in elems {
        let masked = match split_aggregate(&e) {
            Some((h, parts)) if e[0] == b'*' && parts.len() == 4 => {
                let mut m = h;
                for (i, p) in parts.iter().enumerate() {
                    m.extend_from_slice(if i == 2 { b":0\r\n" } else { p });
                }
                m
            }
            _ => {
                let label = b"$4\r\nidle\r\n:";
                match e.windows(label.len()).position(|w| w == label) {
                    Some(at) => {
                        let from = at + label.len();
                        let to = e[from..].windows(2).position(|w| w == b"\r\n").map_or(e.len(), |n| from + n);
                        [&e[..from], b"0", &e[to..]].concat()
                    }
                    None => e,
                }
            }
        };
        out.extend_from_slice(&masked);
    }
    out
}

/// redis-server 7.0's numeric SORT tests `errno == ERANGE` after strtod without clearing
/// errno first, so an earlier command that parsed an out-of-range number (1e-320,
/// 1e400, a cursor of 2^64) makes it fail with this error. Not something to copy.
fn sort_errno_quirk(s: &Step, a: &[u8], b: &[u8]) -> bool {
    s.args[0].eq_ignore_ascii_case(b"SORT") && a == b"-ERR One or more scores can't be converted into double\r\n" && !is_error(b)
}

/// A full SCAN-like iteration on one server: the first reply when it is an error, else
/// the sorted distinct elements (pairs concatenated when `pairs`).
fn full_scan(c: &mut RawConn, args: &[Vec<u8>], cursor_at: usize, pairs: bool) -> Result<Vec<Vec<u8>>, Vec<u8>> {
    let mut args = args.to_vec();
    let mut items = Vec::new();
    for round in 0..10_000 {
        let r = c.cmd(&args).unwrap_or_else(|e| format!("<{e}>").into_bytes());
        let Some((_, parts)) = split_aggregate(&r) else { return Err(r) };
        if parts.len() != 2 {
            return Err(r);
        }
        let Some(cursor) = bulk_bytes(&parts[0]) else { return Err(r) };
        let Some((_, elems)) = split_aggregate(&parts[1]) else { return Err(r) };
        if pairs {
            items.extend(elems.chunks(2).map(|c| c.concat()));
        } else {
            items.extend(elems);
        }
        if cursor == b"0" || round == 9_999 {
            break;
        }
        // Redis reads the cursor with strtoul: "" is 0 as well.
        if !args[cursor_at].is_empty() && args[cursor_at] != b"0" && round == 0 {
            break;
        }
        args[cursor_at] = cursor;
    }
    items.sort();
    items.dedup();
    Ok(items)
}

/// True when `key` is a skiplist-encoded sorted set whose scores are not all equal.
fn lex_undefined(c: &mut RawConn, key: &[u8]) -> bool {
    let enc = c.cmd(&[b"OBJECT".as_slice(), b"ENCODING", key]).unwrap_or_default();
    if !enc.windows(8).any(|w| w == b"skiplist") {
        return false;
    }
    let r = c.cmd(&[b"ZRANGE".as_slice(), key, b"0", b"-1", b"WITHSCORES"]).unwrap_or_default();
    let Some((_, elems)) = split_aggregate(&r) else { return false };
    let scores: Vec<Vec<u8>> = if elems.first().is_some_and(|e| e[0] == b'*') {
        elems.iter().filter_map(|e| split_aggregate(e).and_then(|(_, p)| p.get(1).cloned())).collect()
    } else {
        elems.iter().skip(1).step_by(2).cloned().collect()
    };
    scores.windows(2).any(|w| w[0] != w[1])
}

/// The keys a step names (arguments that are keys of this family).
fn touched(s: &Step, keys: &[&str], into: &mut Vec<Vec<u8>>) {
    for a in &s.args {
        if keys.iter().any(|k| k.as_bytes() == a.as_slice()) && !into.contains(a) {
            into.push(a.clone());
        }
    }
}

/// Compares TYPE, OBJECT ENCODING, TTL presence and contents of `keys`.
fn digest(p: &mut Pair, keys: &[Vec<u8>]) -> Result<(), String> {
    if keys.is_empty() {
        return Ok(());
    }
    let mut cmds = Vec::new();
    for k in keys {
        cmds.push(v!["TYPE", k.clone()]);
        cmds.push(v!["OBJECT", "ENCODING", k.clone()]);
        cmds.push(v!["PTTL", k.clone()]);
    }
    let replies = both_many(p, &cmds);
    let mut dumps = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let (t, enc, ttl) = (&replies[3 * i], &replies[3 * i + 1], &replies[3 * i + 2]);
        for (what, (a, b), ttl_like) in [("TYPE", t, false), ("OBJECT ENCODING", enc, false), ("PTTL", ttl, true)] {
            if what == "OBJECT ENCODING" && (ignore_encoding() || (!strict() && t.0 == b"+string\r\n")) {
                continue;
            }
            let same = if ttl_like { ttl_class(a) == ttl_class(b) } else { a == b };
            if !same {
                return Err(format!("digest {what} {}: redis: {}\n      shoal: {}", escape(k), escape(a), escape(b)));
            }
        }
        let ty = t.0.as_slice();
        let exact_order = enc.0.windows(7).any(|w| w == b"listpack") || enc.0.windows(6).any(|w| w == b"intset");
        let (cmd, cmp) = match ty {
            b"+string\r\n" => (v!["GET", k.clone()], Cmp::Exact),
            b"+list\r\n" => (v!["LRANGE", k.clone(), "0", "-1"], Cmp::Exact),
            b"+set\r\n" => (v!["SMEMBERS", k.clone()], if exact_order { Cmp::Exact } else { Cmp::Sorted }),
            b"+hash\r\n" => (v!["HGETALL", k.clone()], if exact_order { Cmp::Exact } else { Cmp::Pairs }),
            b"+zset\r\n" => (v!["ZRANGE", k.clone(), "0", "-1", "WITHSCORES"], Cmp::Exact),
            b"+stream\r\n" => {
                // Entries, then the metadata (IDs, counters, node counts) and the groups
                // (pending counts, last delivered IDs, entries read, lag).
                dumps.push(step(v!["XINFO", "STREAM", k.clone()]));
                dumps.push(step(v!["XINFO", "GROUPS", k.clone()]));
                (v!["XRANGE", k.clone(), "-", "+"], Cmp::Exact)
            }
            _ => continue,
        };
        dumps.push(with(cmd, cmp));
    }
    if dumps.is_empty() {
        return Ok(());
    }
    let cmds: Vec<Vec<Vec<u8>>> = dumps.iter().map(|d| d.args.clone()).collect();
    let replies = both_many(p, &cmds);
    for (d, (a, b)) in dumps.iter().zip(replies) {
        compare(d, &a, &b).map_err(|e| format!("digest `{}`: {e}", d.show()))?;
    }
    Ok(())
}

/// After SPOP, a set that differs between the servers is rebuilt on both from the
/// reference's members (in the same order, so both get the same encoding).
fn repair_set(p: &mut Pair, key: &[u8]) {
    let members = p.r.cmd(&[b"SMEMBERS".as_slice(), key]).expect("SMEMBERS");
    let theirs = p.s.cmd(&[b"SMEMBERS".as_slice(), key]).expect("SMEMBERS");
    if sorted_elems(&members, false) == sorted_elems(&theirs, false) {
        return;
    }
    let ttl = p.r.cmd(&[b"PTTL".as_slice(), key]).expect("PTTL");
    let mut sadd = v!["SADD", key.to_vec()];
    if let Some((_, elems)) = split_aggregate(&members) {
        sadd.extend(elems.iter().filter_map(|e| bulk_bytes(e)));
    }
    let mut cmds = vec![v!["DEL", key.to_vec()]];
    if sadd.len() > 2 {
        cmds.push(sadd);
    }
    let ms = std::str::from_utf8(&ttl[1..ttl.len() - 2]).unwrap_or("-1").parse::<i64>().unwrap_or(-1);
    if ms > 0 {
        cmds.push(v!["PEXPIRE", key.to_vec(), ms]);
    }
    both_many(p, &cmds);
}

/// After XCLAIM/XAUTOCLAIM `key group consumer ...`: when the consumer exists on Shoal
/// but not on redis-server (Shoal created it without claiming anything), deletes it on
/// Shoal (it owns no entries, so nothing else changes).
fn drop_unclaimed_consumer(p: &mut Pair, args: &[Vec<u8>]) {
    if args.len() < 4 {
        return;
    }
    let (key, group, consumer) = (&args[1], &args[2], &args[3]);
    let cmd = [b"XINFO".as_slice(), b"CONSUMERS", key, group];
    let has = |r: &[u8]| {
        let label = [b"$4\r\nname\r\n$".as_slice(), consumer.len().to_string().as_bytes(), b"\r\n", consumer, b"\r\n"].concat();
        r.windows(label.len()).any(|w| w == label)
    };
    let theirs = p.s.cmd(&cmd).unwrap_or_default();
    if !has(&theirs) {
        return;
    }
    let ours = p.r.cmd(&cmd).unwrap_or_default();
    if !has(&ours) {
        let _ = p.s.cmd(&[b"XGROUP".as_slice(), b"DELCONSUMER", key, group, consumer]);
    }
}

struct Mismatch {
    index: usize,
    detail: String,
}

fn connect(redis: &Server, shoal: &Server, resp3: bool) -> Pair {
    let mut p = connect_keep(redis, shoal, resp3);
    both(&mut p, &v!["FLUSHALL"]);
    p
}

/// New connections, keyspace kept.
fn connect_keep(redis: &Server, shoal: &Server, resp3: bool) -> Pair {
    let mut p = Pair { r: redis.conn(), s: shoal.conn() };
    p.r.set_timeout(Duration::from_secs(5));
    p.s.set_timeout(Duration::from_secs(5));
    if resp3 {
        both(&mut p, &v!["HELLO", "3"]);
    }
    p
}

/// Runs `steps` on fresh connections and an empty keyspace.
fn run(redis: &Server, shoal: &Server, resp3: bool, keys: &[&str], steps: &[Step]) -> Result<(), Mismatch> {
    let mut p = connect(redis, shoal, resp3);
    let mut in_tx = false;
    let mut tx_keys: Vec<Vec<u8>> = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let name = s.args[0].to_ascii_uppercase();
        if let Cmp::Lex { key_at } = s.cmp {
            if !in_tx && lex_undefined(&mut p.r, &s.args[key_at]) {
                continue;
            }
        }
        let (a, b) = if let Cmp::Scan { cursor_at, pairs } = s.cmp {
            let a = full_scan(&mut p.r, &s.args, cursor_at, pairs);
            let b = full_scan(&mut p.s, &s.args, cursor_at, pairs);
            if a != b {
                let show = |r: &Result<Vec<Vec<u8>>, Vec<u8>>| match r {
                    Ok(v) => format!("[{}]", v.iter().map(|x| escape(x)).collect::<Vec<_>>().join(", ")),
                    Err(e) => escape(e),
                };
                return Err(Mismatch { index: i, detail: format!("full scan: redis: {}\n      shoal: {}", show(&a), show(&b)) });
            }
            (Vec::new(), Vec::new())
        } else {
            let (a, b) = both(&mut p, &s.args);
            if trace() {
                eprintln!("{} -> {}", s.show(), escape(&a[..a.len().min(200)]));
            }
            compare(s, &a, &b).map_err(|detail| Mismatch { index: i, detail })?;
            (a, b)
        };
        if s.cmp == Cmp::Spop && a != b {
            repair_set(&mut p, &s.args[1]);
        }
        if s.cmp == Cmp::Claim {
            drop_unclaimed_consumer(&mut p, &s.args);
        }
        if sort_errno_quirk(s, &a, &b) {
            if let Some(i) = s.args.iter().position(|x| x.eq_ignore_ascii_case(b"STORE")) {
                both(&mut p, &v!["DEL", s.args[i + 1].clone()]);
            }
        }
        if name == b"MULTI" && a == b"+OK\r\n" {
            in_tx = true;
            tx_keys.clear();
            continue;
        }
        if in_tx {
            touched(s, keys, &mut tx_keys);
            if name == b"EXEC" || name == b"DISCARD" {
                in_tx = false;
                let ks = std::mem::take(&mut tx_keys);
                digest(&mut p, &ks).map_err(|detail| Mismatch { index: i, detail })?;
            }
            continue;
        }
        let mut ks = Vec::new();
        touched(s, keys, &mut ks);
        digest(&mut p, &ks).map_err(|detail| Mismatch { index: i, detail })?;
    }
    Ok(())
}

/// Drops steps while the sequence still fails: chunks of halving size, from the end,
/// never the failing (last) step; at most a minute.
fn shrink(redis: &Server, shoal: &Server, resp3: bool, keys: &[&str], steps: &[Step], first: &Mismatch) -> (Vec<Step>, String) {
    let mut cur: Vec<Step> = steps[..=first.index].to_vec();
    let target = steps[first.index].args.clone();
    let mut detail = first.detail.clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut chunk = (cur.len() / 2).max(1);
    loop {
        let mut hi = cur.len() - 1;
        while hi > 0 {
            if std::time::Instant::now() > deadline {
                return (cur, detail);
            }
            let lo = hi.saturating_sub(chunk);
            let mut cand = cur.clone();
            cand.drain(lo..hi);
            match run(redis, shoal, resp3, keys, &cand) {
                // Only the same failing command counts (not another difference).
                Err(m) if cand[m.index].args == target => {
                    cand.truncate(m.index + 1);
                    detail = m.detail;
                    cur = cand;
                    hi = lo.min(cur.len() - 1);
                }
                _ => hi = lo,
            }
        }
        if chunk == 1 {
            return (cur, detail);
        }
        chunk /= 2;
    }
}

/// `PROPTEST_IGNORE_ENCODING=1`: skip the OBJECT ENCODING comparison of the digest (to
/// look for other differences while a known encoding difference is open).
fn ignore_encoding() -> bool {
    std::env::var("PROPTEST_IGNORE_ENCODING").is_ok_and(|v| v == "1")
}

/// The keys named by the last step, as both servers hold them just before it.
fn state_before_last(redis: &Server, shoal: &Server, resp3: bool, keys: &[&str], steps: &[Step]) -> String {
    let Some((last, before)) = steps.split_last() else { return String::new() };
    let _ = run(redis, shoal, resp3, keys, before);
    let mut p = connect_keep(redis, shoal, resp3);
    let mut ks = Vec::new();
    touched(last, keys, &mut ks);
    let mut out = String::from("  before the last step (redis | shoal):\n");
    for k in ks {
        for cmd in [v!["OBJECT", "ENCODING", k.clone()], v!["DUMPVALUE", k.clone()]] {
            let cmd = if cmd[0] == b"DUMPVALUE" { dump_cmd(&mut p.r, &k) } else { cmd };
            let (a, b) = both(&mut p, &cmd);
            out.push_str(&format!("    {}: {} | {}\n", Step { args: cmd, cmp: Cmp::Exact }.show(), escape(&a), escape(&b)));
        }
    }
    out
}

/// The command that shows the whole value of `key` (by its type on the reference).
fn dump_cmd(c: &mut RawConn, key: &[u8]) -> Vec<Vec<u8>> {
    let t = c.cmd(&[b"TYPE".as_slice(), key]).unwrap_or_default();
    match t.as_slice() {
        b"+list\r\n" => v!["LRANGE", key, "0", "-1"],
        b"+set\r\n" => v!["SMEMBERS", key],
        b"+hash\r\n" => v!["HGETALL", key],
        b"+zset\r\n" => v!["ZRANGE", key, "0", "-1", "WITHSCORES"],
        _ => v!["GET", key],
    }
}

/// `PROPTEST_TRACE=1`: print every step and redis-server's reply (to see what a family
/// generates).
fn trace() -> bool {
    std::env::var("PROPTEST_TRACE").is_ok_and(|v| v == "1")
}

/// `PROPTEST_STRICT=1`: also check what is known to differ today (module docs).
fn strict() -> bool {
    std::env::var("PROPTEST_STRICT").is_ok_and(|v| v == "1")
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The encoding thresholds (lowered so that conversions happen often).
const CONFIG: &[(&str, &str)] = &[
    ("hash-max-listpack-entries", "4"),
    ("hash-max-listpack-value", "8"),
    ("set-max-intset-entries", "4"),
    ("zset-max-listpack-entries", "4"),
    ("zset-max-listpack-value", "8"),
    ("list-max-listpack-size", "4"),
    ("stream-node-max-entries", "4"),
    ("hll-sparse-max-bytes", "100"),
];

fn property(name: &str, family: Family, keys: &'static [&'static str]) {
    property_steps(name, family, keys, 400);
}

/// Like `property`, with `default_steps` when `PROPTEST_STEPS` is not set.
fn property_steps(name: &str, family: Family, keys: &'static [&'static str], default_steps: u64) {
    if !common::redis_available(name) {
        return;
    }
    let redis = Server::redis(&[]);
    let shoal = Server::shoal(&[]);
    {
        let mut p = connect(&redis, &shoal, false);
        for (k, v) in CONFIG {
            let (a, b) = both(&mut p, &v!["CONFIG", "SET", *k, *v]);
            assert_eq!(escape(&b), escape(&a), "CONFIG SET {k} {v}");
        }
    }
    let seeds = env_num("PROPTEST_SEEDS", 8);
    let steps = env_num("PROPTEST_STEPS", default_steps) as usize;
    let base = env_num("PROPTEST_SEED_BASE", 1);
    let mut failures = Vec::new();
    for seed in base..base + seeds {
        let resp3 = seed % 3 == 0;
        let seq = generate(family, keys, seed, steps);
        if let Err(m) = run(&redis, &shoal, resp3, keys, &seq) {
            let failing = seq[m.index].show();
            let (small, detail) = shrink(&redis, &shoal, resp3, keys, &seq, &m);
            let mut msg = format!(
                "{name}: seed {seed} (resp{}) step {} `{failing}`:\n      {}\n  shrunk to {} steps ({}):\n",
                if resp3 { 3 } else { 2 },
                m.index,
                m.detail,
                small.len(),
                detail
            );
            for s in &small {
                msg.push_str(&format!("    {}\n", s.show()));
            }
            msg.push_str(&state_before_last(&redis, &shoal, resp3, keys, &small));
            eprintln!("{msg}");
            failures.push(msg);
            if failures.len() >= 5 {
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{} seed(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn property_strings() {
    property("property_strings", gen_string, &["k0", "k1", "k2", "wl"]);
}

#[test]
fn property_hashes() {
    property("property_hashes", gen_hash, &["h0", "h1", "h2", "ws"]);
}

#[test]
fn property_lists() {
    property("property_lists", gen_list, &["l0", "l1", "l2", "ws"]);
}

#[test]
fn property_sets() {
    property("property_sets", gen_set, &["s0", "s1", "s2", "ws"]);
}

#[test]
fn property_zsets() {
    property("property_zsets", gen_zset, &["z0", "z1", "z2", "ws"]);
}

#[test]
fn property_keys() {
    property("property_keys", gen_keys, &["k0", "k1", "k2", "h1", "k3"]);
}

#[test]
fn property_streams() {
    property_steps("property_streams", gen_stream, &["x0", "x1", "x2", "ws"], 300);
}

#[test]
fn property_hll() {
    property_steps("property_hll", gen_hll, &["p0", "p1", "p2", "ws"], 300);
}

#[test]
fn property_geo() {
    property_steps("property_geo", gen_geo, &["g0", "g1", "g2", "ws"], 300);
}
