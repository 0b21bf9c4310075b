//! DUMP / RESTORE against the reference redis-server 7.0.15, for every type and
//! encoding:
//! (a) a payload DUMPed by redis-server RESTOREs into Shoal and reads back equal to the
//!     original (type, encoding, contents, TTL);
//! (b) a payload DUMPed by Shoal RESTOREs into redis-server and reads back equal;
//! (c) where Redis's bytes are deterministic (listpacks, intsets, skiplists, strings,
//!     streams without delivery times), both servers DUMP identical bytes, and Shoal
//!     re-DUMPs a value restored from Redis's payload to the same bytes.
//! Corrupt payloads are refused with Redis's error and create nothing.

mod common;

use common::{escape, RawConn, Server};

fn crc64(data: &[u8]) -> u64 {
    let mut crc = 0u64;
    for &b in data {
        crc ^= b as u64;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0x95AC_9329_AC4B_C9B5 } else { crc >> 1 };
        }
    }
    crc
}

/// Replaces the footer's CRC with the right one.
fn fix_crc(p: &mut [u8]) {
    let n = p.len();
    let c = crc64(&p[..n - 8]);
    p[n - 8..].copy_from_slice(&c.to_le_bytes());
}

fn cmd(c: &mut RawConn, args: &[&[u8]]) -> Vec<u8> {
    c.cmd(args).expect("command")
}

fn cmds(c: &mut RawConn, args: &[&str]) -> Vec<u8> {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    cmd(c, &a)
}

/// The payload of a bulk reply.
fn bulk(reply: &[u8]) -> Vec<u8> {
    assert_eq!(reply[0], b'$', "not a bulk: {}", escape(reply));
    let nl = reply.iter().position(|&b| b == b'\n').expect("header");
    let n: usize = std::str::from_utf8(&reply[1..nl - 1]).expect("len").parse().expect("len");
    reply[nl + 1..nl + 1 + n].to_vec()
}

/// Sorted elements of a flat array reply (bulk strings), or pairs when `pairs`.
fn sorted_elems(reply: &[u8], pairs: bool) -> Vec<Vec<u8>> {
    let (_, items) = common::split_aggregate(reply).expect("array");
    let mut v: Vec<Vec<u8>> = if pairs { items.chunks(2).map(|c| c.concat()).collect() } else { items };
    v.sort();
    v
}

/// Everything observable about `key`.
fn fingerprint(c: &mut RawConn, key: &str) -> Vec<String> {
    let t = cmds(c, &["TYPE", key]);
    let mut out = vec![escape(&t), escape(&cmds(c, &["OBJECT", "ENCODING", key]))];
    let body = match &t[..] {
        b"+string\r\n" => escape(&cmds(c, &["GET", key])),
        b"+list\r\n" => escape(&cmds(c, &["LRANGE", key, "0", "-1"])),
        b"+hash\r\n" => format!("{:?}", sorted_elems(&cmds(c, &["HGETALL", key]), true)),
        b"+set\r\n" => format!("{:?}", sorted_elems(&cmds(c, &["SMEMBERS", key]), false)),
        b"+zset\r\n" => escape(&cmds(c, &["ZRANGE", key, "0", "-1", "WITHSCORES"])),
        b"+stream\r\n" => {
            out.push(escape(&cmds(c, &["XRANGE", key, "-", "+"])));
            escape(&cmds(c, &["XINFO", "STREAM", key, "FULL"]))
        }
        _ => panic!("unexpected type {}", escape(&t)),
    };
    out.push(body);
    let pttl = cmds(c, &["PTTL", key]);
    out.push(if pttl == b":-1\r\n" { "no ttl".into() } else { "ttl".into() });
    out
}

struct Scenario {
    name: &'static str,
    setup: Vec<Vec<String>>,
    /// Redis's DUMP bytes are deterministic for this value.
    deterministic: bool,
}

fn sc(name: &'static str, deterministic: bool, setup: Vec<Vec<String>>) -> Scenario {
    Scenario { name, setup, deterministic }
}

fn c(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn many(head: &[&str], items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v = c(head);
    v.extend(items);
    v
}

fn scenarios() -> Vec<Scenario> {
    let lorem =
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ";
    let mut noise = String::new();
    let mut x: u32 = 12345;
    for _ in 0..60 {
        x = x.wrapping_mul(1103515245).wrapping_add(12345);
        noise.push(char::from(b'!' + ((x >> 16) % 90) as u8));
    }
    vec![
        sc("str_small", true, vec![c(&["SET", "k", "hello"])]),
        sc("str_empty", true, vec![c(&["SET", "k", ""])]),
        sc("str_int8", true, vec![c(&["SET", "k", "-7"])]),
        sc("str_int16", true, vec![c(&["SET", "k", "12345"])]),
        sc("str_int32", true, vec![c(&["SET", "k", "-2147483648"])]),
        sc("str_int64", true, vec![c(&["SET", "k", "9223372036854775807"])]),
        sc("str_not_int", true, vec![c(&["SET", "k", "007"])]),
        sc("str_lzf_run", true, vec![c(&["SET", "k", &"a".repeat(100)])]),
        sc("str_lzf_text", true, vec![c(&["SET", "k", &lorem.repeat(40)])]),
        sc("str_incompressible", true, vec![c(&["SET", "k", &noise])]),
        sc("str_21", true, vec![c(&["SET", "k", &"b".repeat(21)])]),
        sc("str_append_raw", true, vec![c(&["SET", "k", "12"]), c(&["APPEND", "k", "3"])]),
        sc("str_ttl", true, vec![c(&["SET", "k", "v", "PX", "100000"])]),
        sc(
            "list_small",
            true,
            vec![c(&["RPUSH", "k", "a", "b", "1", "-1", "300", "-5000", "70000", "-9000000", "5000000000", "hello world"])],
        ),
        sc("list_multi_node", true, vec![many(&["RPUSH", "k"], (0..3000).map(|i| format!("element-{i}")))]),
        sc("list_big_elems", true, vec![many(&["RPUSH", "k"], (0..30).map(|i| format!("{i}{}", "x".repeat(1000))))]),
        sc("list_ints", true, vec![many(&["RPUSH", "k"], (0..2000).map(|i| (i * 7919 - 500000).to_string()))]),
        sc("list_lpush", false, vec![many(&["LPUSH", "k"], (0..2000).map(|i| format!("v{i}")))]),
        sc("hash_listpack", true, vec![c(&["HSET", "k", "f1", "v1", "f2", "2", "3", "333333", "empty", ""])]),
        sc("hash_listpack_after_del", true, vec![c(&["HSET", "k", "a", "1", "b", "2", "c", "3"]), c(&["HDEL", "k", "b"])]),
        sc("hash_table_many", false, vec![many(&["HSET", "k"], (0..600).flat_map(|i| [format!("f{i}"), format!("v{i}")]))]),
        sc("hash_table_long", false, vec![c(&["HSET", "k", "f", &"v".repeat(100), "g", "1"])]),
        sc("set_intset16", true, vec![c(&["SADD", "k", "1", "2", "3", "-5", "100"])]),
        sc("set_intset32", true, vec![c(&["SADD", "k", "1", "100000", "-70000"])]),
        sc("set_intset64", true, vec![c(&["SADD", "k", "1", "10000000000", "-3"])]),
        sc("set_intset_widened", true, vec![c(&["SADD", "k", "1", "10000000000"]), c(&["SREM", "k", "10000000000"])]),
        sc("set_intset_big", true, vec![many(&["SADD", "k"], (0..500).map(|i| (i * 3).to_string()))]),
        sc("set_table_small", false, vec![c(&["SADD", "k", "a", "b", "c", "1"])]),
        sc("set_table_ints", false, vec![many(&["SADD", "k"], (0..600).map(|i| i.to_string()))]),
        sc("set_table_strs", false, vec![many(&["SADD", "k"], (0..300).map(|i| format!("m{i}")))]),
        sc(
            "zset_listpack",
            true,
            vec![c(&["ZADD", "k", "1.5", "a", "0.1", "b", "-0", "c", "3", "d", "1e300", "e", "-inf", "f", "inf", "g", "10", "12"])],
        ),
        sc(
            "zset_skiplist",
            true,
            vec![many(&["ZADD", "k"], (0..300).flat_map(|i| [format!("{}", (i as f64) * 1.25 - 40.0), format!("m{i}")]))],
        ),
        sc("zset_skiplist_long", true, vec![c(&["ZADD", "k", "1", &"m".repeat(100), "2", "x", "-inf", "y"])]),
        sc("stream_small", true, vec![c(&["XADD", "k", "1-1", "a", "1", "b", "x"])]),
        sc(
            "stream_fields",
            true,
            vec![
                c(&["XADD", "k", "1-1", "a", "1", "b", "2"]),
                c(&["XADD", "k", "1-2", "a", "3", "b", "4"]),
                c(&["XADD", "k", "2-0", "c", "3"]),
                c(&["XADD", "k", "5-0", "a", "12345678901", "b", &"z".repeat(80)]),
                c(&["XDEL", "k", "1-2"]),
            ],
        ),
        sc(
            "stream_nodes",
            true,
            (0..250).map(|i| c(&["XADD", "k", &format!("{}-{}", 1000 + i / 3, i % 3), "field", &format!("value{i}")])).collect(),
        ),
        sc("stream_trimmed", true, {
            let mut v: Vec<Vec<String>> = (0..250).map(|i| c(&["XADD", "k", &format!("{}-0", 10 + i), "f", &i.to_string()])).collect();
            v.push(c(&["XTRIM", "k", "MAXLEN", "130"]));
            v
        }),
        sc("stream_emptied", true, vec![c(&["XADD", "k", "1-1", "a", "1"]), c(&["XDEL", "k", "1-1"])]),
        sc(
            "stream_group_no_pel",
            true,
            vec![c(&["XADD", "k", "1-1", "a", "1"]), c(&["XGROUP", "CREATE", "k", "g1", "0"]), c(&["XGROUP", "CREATE", "k", "g2", "$"])],
        ),
        sc(
            "stream_groups_pel",
            false,
            vec![
                c(&["XADD", "k", "1-1", "a", "1"]),
                c(&["XADD", "k", "1-2", "a", "2"]),
                c(&["XADD", "k", "1-3", "a", "3"]),
                c(&["XGROUP", "CREATE", "k", "g1", "0"]),
                c(&["XGROUP", "CREATE", "k", "g2", "0"]),
                c(&["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "k", ">"]),
                c(&["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "1", "STREAMS", "k", ">"]),
                c(&["XREADGROUP", "GROUP", "g2", "carol", "STREAMS", "k", ">"]),
                c(&["XACK", "k", "g2", "1-2"]),
                c(&["XGROUP", "CREATECONSUMER", "k", "g1", "idle"]),
                c(&["XDEL", "k", "1-3"]),
            ],
        ),
    ]
}

fn setup_both(a: &mut RawConn, b: &mut RawConn, s: &Scenario) {
    for line in &s.setup {
        let args: Vec<&[u8]> = line.iter().map(|x| x.as_bytes()).collect();
        let ra = cmd(a, &args);
        let rb = cmd(b, &args);
        assert_eq!(ra[0], rb[0], "{}: setup {:?}: {} vs {}", s.name, line[0], escape(&ra), escape(&rb));
    }
}

#[test]
fn dump_restore_every_type() {
    if !common::redis_available("dump_restore_every_type") {
        return;
    }
    let shoal = Server::shoal(&[]);
    let redis = Server::redis(&[]);
    let mut s = shoal.conn();
    let mut r = redis.conn();
    let mut failures = Vec::new();
    for sc in scenarios() {
        cmds(&mut s, &["FLUSHALL"]);
        cmds(&mut r, &["FLUSHALL"]);
        setup_both(&mut s, &mut r, &sc);
        let fr = fingerprint(&mut r, "k");
        let fs = fingerprint(&mut s, "k");
        if !sc.name.starts_with("stream_groups") && fr != fs {
            failures.push(format!("{}: values differ before DUMP\n  redis {:?}\n  shoal {:?}", sc.name, fr, fs));
            continue;
        }
        let pr = bulk(&cmds(&mut r, &["DUMP", "k"]));
        let ps = bulk(&cmds(&mut s, &["DUMP", "k"]));
        if sc.deterministic && pr != ps {
            failures.push(format!("{}: DUMP bytes differ\n  redis {}\n  shoal {}", sc.name, escape(&pr), escape(&ps)));
        }
        // (a) Redis's payload into Shoal: equal to what Redis makes of it.
        let ttl = if fr[3] == "ttl" { "100000" } else { "0" };
        assert_eq!(cmd(&mut r, &[b"RESTORE", b"copy2", ttl.as_bytes(), &pr]), b"+OK\r\n", "{}", sc.name);
        assert_eq!(cmd(&mut s, &[b"RESTORE", b"copy2", ttl.as_bytes(), &ps]), b"+OK\r\n", "{}", sc.name);
        let fr = fingerprint(&mut r, "copy2");
        let fs = fingerprint(&mut s, "copy2");
        let rep = cmd(&mut s, &[b"RESTORE", b"copy", ttl.as_bytes(), &pr]);
        if rep != b"+OK\r\n" {
            failures.push(format!("{}: Shoal refused Redis's payload: {}", sc.name, escape(&rep)));
        } else {
            let got = fingerprint(&mut s, "copy");
            if got != fr {
                failures.push(format!("{}: restored into Shoal differs\n  redis {:?}\n  shoal {:?}", sc.name, fr, got));
            }
            if sc.deterministic {
                let again = bulk(&cmds(&mut s, &["DUMP", "copy"]));
                if again != pr {
                    failures.push(format!("{}: Shoal re-DUMP differs\n  redis {}\n  shoal {}", sc.name, escape(&pr), escape(&again)));
                }
            }
        }
        // (b) Shoal's payload into Redis.
        let rep = cmd(&mut r, &[b"RESTORE", b"copy", ttl.as_bytes(), &ps]);
        if rep != b"+OK\r\n" {
            failures.push(format!("{}: Redis refused Shoal's payload: {}", sc.name, escape(&rep)));
        } else {
            let got = fingerprint(&mut r, "copy");
            if got != fs {
                failures.push(format!("{}: restored into Redis differs\n  shoal {:?}\n  redis {:?}", sc.name, fs, got));
            }
        }
    }
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
}

/// Corrupt payloads: both servers answer the same error and create nothing. Shoal
/// always checks a payload's contents the way redis-server does with
/// `sanitize-dump-payload yes` (a listpack or intset is parsed whole, never kept
/// damaged), so the reference runs with it: without it, redis-server accepts some
/// damaged listpacks and intsets whose checksum was recomputed.
#[test]
fn restore_refuses_corrupt_payloads() {
    if !common::redis_available("restore_refuses_corrupt_payloads") {
        return;
    }
    let shoal = Server::shoal(&[]);
    let redis = Server::redis(&["--sanitize-dump-payload", "yes"]);
    let mut s = shoal.conn();
    let mut r = redis.conn();
    let mut payloads: Vec<(String, Vec<u8>)> = Vec::new();
    for sc in scenarios().into_iter().filter(|s| s.deterministic) {
        cmds(&mut r, &["FLUSHALL"]);
        for line in &sc.setup {
            let args: Vec<&[u8]> = line.iter().map(|x| x.as_bytes()).collect();
            cmd(&mut r, &args);
        }
        let p = bulk(&cmds(&mut r, &["DUMP", "k"]));
        let n = p.len();
        let mut flipped = p.clone();
        flipped[n / 2] ^= 0x20;
        payloads.push((format!("{} flipped", sc.name), flipped.clone()));
        payloads.push((format!("{} truncated", sc.name), p[..n - 3].to_vec()));
        payloads.push((format!("{} short", sc.name), p[..n.min(9)].to_vec()));
        let mut v11 = p.clone();
        v11[n - 10] = 11;
        fix_crc(&mut v11);
        payloads.push((format!("{} version 11", sc.name), v11));
        let mut v9 = p.clone();
        v9[n - 10] = 9;
        fix_crc(&mut v9);
        payloads.push((format!("{} version 9", sc.name), v9));
        let mut bad_type = p.clone();
        bad_type[0] = 50;
        fix_crc(&mut bad_type);
        payloads.push((format!("{} bad type", sc.name), bad_type));
        if n > 14 {
            // Valid checksum over damaged contents.
            let mut cut = p[..n - 10 - 2].to_vec();
            cut.extend_from_slice(&p[n - 10..]);
            fix_crc(&mut cut);
            payloads.push((format!("{} cut body", sc.name), cut));
            let mut fl = flipped;
            fix_crc(&mut fl);
            payloads.push((format!("{} flipped body", sc.name), fl));
        }
    }
    let mut failures = Vec::new();
    for (name, p) in &payloads {
        let rr = cmd(&mut r, &[b"RESTORE", b"bad", b"0", p]);
        let rs = cmd(&mut s, &[b"RESTORE", b"bad", b"0", p]);
        if rr != rs {
            failures.push(format!("{name}: redis {} shoal {}", escape(&rr), escape(&rs)));
        }
        if rr.starts_with(b"-") {
            let e = cmds(&mut s, &["EXISTS", "bad"]);
            if e != b":0\r\n" {
                failures.push(format!("{name}: Shoal created the key after {}", escape(&rs)));
            }
        }
        cmds(&mut r, &["DEL", "bad"]);
        cmds(&mut s, &["DEL", "bad"]);
    }
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
}

/// TTL handling: relative, ABSTTL, already expired (with and without REPLACE).
#[test]
fn restore_ttl_rules() {
    if !common::redis_available("restore_ttl_rules") {
        return;
    }
    let shoal = Server::shoal(&[]);
    let redis = Server::redis(&[]);
    for srv in [&shoal, &redis] {
        let mut c = srv.conn();
        cmds(&mut c, &["SET", "src", "value"]);
        let p = bulk(&cmds(&mut c, &["DUMP", "src"]));
        assert_eq!(cmd(&mut c, &[b"RESTORE", b"a", b"5000", &p]), b"+OK\r\n");
        let pttl: i64 = String::from_utf8_lossy(&cmds(&mut c, &["PTTL", "a"])[1..]).trim().parse().unwrap_or(-9);
        assert!(pttl > 4000 && pttl <= 5000, "pttl {pttl}");
        let future = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 60_000).to_string();
        assert_eq!(cmd(&mut c, &[b"RESTORE", b"b", future.as_bytes(), &p, b"ABSTTL"]), b"+OK\r\n");
        let pttl: i64 = String::from_utf8_lossy(&cmds(&mut c, &["PTTL", "b"])[1..]).trim().parse().unwrap_or(-9);
        assert!(pttl > 50_000 && pttl <= 60_000, "pttl {pttl}");
        // Already expired: OK, nothing created; with REPLACE the old key is deleted.
        assert_eq!(cmd(&mut c, &[b"RESTORE", b"c", b"1000", &p, b"ABSTTL"]), b"+OK\r\n");
        assert_eq!(cmds(&mut c, &["EXISTS", "c"]), b":0\r\n");
        cmds(&mut c, &["SET", "d", "old"]);
        assert_eq!(cmd(&mut c, &[b"RESTORE", b"d", b"1000", &p, b"ABSTTL", b"REPLACE"]), b"+OK\r\n");
        assert_eq!(cmds(&mut c, &["EXISTS", "d"]), b":0\r\n");
        // REPLACE drops the old TTL.
        cmds(&mut c, &["SET", "e", "old", "EX", "100"]);
        assert_eq!(cmd(&mut c, &[b"RESTORE", b"e", b"0", &p, b"REPLACE"]), b"+OK\r\n");
        assert_eq!(cmds(&mut c, &["PTTL", "e"]), b":-1\r\n");
        assert_eq!(cmds(&mut c, &["GET", "e"]), b"$5\r\nvalue\r\n");
    }
}
