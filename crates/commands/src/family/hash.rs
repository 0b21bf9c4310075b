//! Family: hashes (HSET and friends, HINCRBY*, HRANDFIELD, HSCAN), as Redis 7.0's
//! `t_hash.c`. The two encodings live in `shoal_keyspace::value::hash`.
//!
//! Conventions, as Redis: reads count keyspace hits/misses; a write that changes
//! nothing (HDEL of absent fields, HSETNX of an existing field) neither signals WATCH
//! nor counts as dirty; a hash left empty is deleted.

use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::table::{flags::*, CommandDef};
use crate::util::{eq_ic, parse_i64};
use shoal_keyspace::glob::glob_match;
use shoal_keyspace::value::hash::HashLimits;
use shoal_keyspace::value::shoal_parse_i64;
use shoal_keyspace::value::HashValue;
use shoal_keyspace::{Db, Value};
use shoal_resp::{Args, ReplyBuf};
use std::sync::atomic::Ordering;

/// The listpack thresholds (`hash-max-listpack-entries` / `-value`): from their hot
/// copies in `Shared` once `config::apply_hot` maintains them (`hash_limits_hot`), else
/// from the configuration itself (which costs a directive lookup per name).
#[inline]
fn limits(ctx: &Ctx<'_>) -> HashLimits {
    let sh = ctx.shared;
    let (entries, value) = if sh.hash_limits_hot.load(Ordering::Relaxed) {
        (sh.hash_max_listpack_entries.load(Ordering::Relaxed), sh.hash_max_listpack_value.load(Ordering::Relaxed))
    } else {
        let c = sh.config.read();
        (c.get_i64("hash-max-listpack-entries"), c.get_i64("hash-max-listpack-value"))
    };
    HashLimits { max_listpack_entries: entries.max(0) as usize, max_listpack_value: value.max(0) as usize }
}

/// Read lookup (`lookupKeyRead` + `checkType`): the hash at `key` (None when absent),
/// with the reply buffer, counting a keyspace hit or miss.
fn read<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<(Option<&'c HashValue>, &'c mut ReplyBuf), CmdError> {
    match ctx.read_value(key) {
        (None, out) => Ok((None, out)),
        (Some(Value::Hash(h)), out) => Ok((Some(&**h), out)),
        (Some(_), _) => Err(CmdError::WrongType),
    }
}

/// Write lookup in one probe, without signalling WATCH (the caller touches the key once
/// it has changed something): the hash at `key`, None when absent, WRONGTYPE otherwise.
#[inline]
fn lookup_write<'c>(db: &'c mut Db, key: &[u8], now: u64) -> Result<Option<&'c mut HashValue>, CmdError> {
    match db.get_mut_untracked(key, now) {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(&mut **h)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Stores a new hash under an absent key.
fn create(db: &mut Db, key: &[u8], h: HashValue) {
    db.set(key, Value::Hash(Box::new(h)), false);
}

/// HSET key field value [field value ...] / HMSET (same, replying +OK).
fn hset_generic(ctx: &mut Ctx<'_>, args: Args<'_>, hmset: bool) -> CmdResult {
    if args.len() % 2 == 1 {
        return Err(CmdError::WrongArity(if hmset { "hmset" } else { "hset" }.into()));
    }
    let key = args.get(1);
    let lim = limits(ctx);
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let set_all = |h: &mut HashValue| {
        let mut created = 0;
        let mut i = 2;
        while i < args.len() {
            created += h.set(args.get(i), args.get(i + 1), &lim) as i64;
            i += 2;
        }
        created
    };
    let created = match lookup_write(db, key, now)? {
        Some(h) => {
            let n = set_all(h);
            db.touch(key);
            n
        }
        None => {
            let mut h = HashValue::new();
            let n = set_all(&mut h);
            create(db, key, h);
            n
        }
    };
    ctx.notify(b'h', "hset", key);
    ctx.dirty(((args.len() - 2) / 2) as u64);
    if hmset {
        ctx.out.ok();
    } else {
        ctx.out.int(created);
    }
    Ok(())
}

fn hset(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    hset_generic(ctx, args, false)
}

fn hmset(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    hset_generic(ctx, args, true)
}

/// HSETNX key field value
fn hsetnx(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let (field, value) = (args.get(2), args.get(3));
    let lim = limits(ctx);
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    match lookup_write(db, key, now)? {
        Some(h) if h.contains(field) => {
            ctx.out.int(0);
            return Ok(());
        }
        Some(h) => {
            h.set(field, value, &lim);
            db.touch(key);
        }
        None => {
            let mut h = HashValue::new();
            h.set(field, value, &lim);
            create(db, key, h);
        }
    }
    ctx.notify(b'h', "hset", key);
    ctx.dirty(1);
    ctx.out.int(1);
    Ok(())
}

/// HGET key field
fn hget(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (h, out) = read(ctx, args.get(1))?;
    match h.and_then(|h| h.get(args.get(2))) {
        Some(v) => out.bulk(v),
        None => out.null(),
    }
    Ok(())
}

/// HMGET key field [field ...]
fn hmget(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (h, out) = read(ctx, args.get(1))?;
    out.array(args.len() - 2);
    for i in 2..args.len() {
        match h.and_then(|h| h.get(args.get(i))) {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
    Ok(())
}

/// HDEL key field [field ...]
fn hdel(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let Some(h) = lookup_write(db, key, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut deleted = 0i64;
    let mut emptied = false;
    for i in 2..args.len() {
        if h.remove(args.get(i)) {
            deleted += 1;
            if h.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    if deleted == 0 {
        ctx.out.int(0);
        return Ok(());
    }
    if emptied {
        db.remove(key);
    } else {
        db.touch(key);
    }
    ctx.notify(b'h', "hdel", key);
    if emptied {
        ctx.notify(b'g', "del", key);
    }
    ctx.dirty(deleted as u64);
    ctx.out.int(deleted);
    Ok(())
}

/// HLEN key
fn hlen(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (h, out) = read(ctx, args.get(1))?;
    out.int(h.map_or(0, |h| h.len()) as i64);
    Ok(())
}

/// HSTRLEN key field
fn hstrlen(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (h, out) = read(ctx, args.get(1))?;
    out.int(h.and_then(|h| h.get(args.get(2))).map_or(0, |v| v.len()) as i64);
    Ok(())
}

/// HEXISTS key field
fn hexists(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (h, out) = read(ctx, args.get(1))?;
    out.int(h.is_some_and(|h| h.contains(args.get(2))) as i64);
    Ok(())
}

const KEYS: u8 = 1;
const VALUES: u8 = 2;

/// HKEYS / HVALS / HGETALL (a map in RESP3).
fn getall_generic(ctx: &mut Ctx<'_>, args: Args<'_>, what: u8) -> CmdResult {
    let (h, out) = read(ctx, args.get(1))?;
    let Some(h) = h else {
        if what == KEYS | VALUES {
            out.map(0);
        } else {
            out.array(0);
        }
        return Ok(());
    };
    let n = h.len();
    if what == KEYS | VALUES {
        out.map(n);
    } else {
        out.array(n);
    }
    for (f, v) in h.iter() {
        if what & KEYS != 0 {
            out.bulk(f);
        }
        if what & VALUES != 0 {
            out.bulk(v);
        }
    }
    Ok(())
}

fn hkeys(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    getall_generic(ctx, args, KEYS)
}

fn hvals(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    getall_generic(ctx, args, VALUES)
}

fn hgetall(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    getall_generic(ctx, args, KEYS | VALUES)
}

/// HINCRBY key field increment
fn hincrby(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let incr = parse_i64(args.get(3))?;
    let (key, field) = (args.get(1), args.get(2));
    let lim = limits(ctx);
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let h = lookup_write(db, key, now)?;
    let old = match h.as_ref().and_then(|h| h.get(field)) {
        None => 0,
        Some(v) => shoal_parse_i64(v).ok_or_else(|| CmdError::err("hash value is not an integer"))?,
    };
    let new = old.checked_add(incr).ok_or(CmdError::Overflow)?;
    let mut buf = [0u8; 20];
    let s = fmt_u64(&mut buf, new.unsigned_abs(), new < 0);
    match h {
        Some(h) => {
            h.set(field, s, &lim);
            db.touch(key);
        }
        None => {
            let mut h = HashValue::new();
            h.set(field, s, &lim);
            create(db, key, h);
        }
    }
    ctx.notify(b'h', "hincrby", key);
    ctx.dirty(1);
    ctx.out.int(new);
    Ok(())
}

/// HINCRBYFLOAT key field increment
fn hincrbyfloat(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    // Redis computes in C long double; `string::ld` emulates it exactly (see INCRBYFLOAT).
    use crate::family::string::ld;
    let incr = ld::parse(args.get(3)).ok_or(CmdError::NotFloat)?;
    if matches!(incr, ld::Ld::Inf(_)) {
        return Err(CmdError::err("value is NaN or Infinity"));
    }
    let (key, field) = (args.get(1), args.get(2));
    let lim = limits(ctx);
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let h = lookup_write(db, key, now)?;
    let old = match h.as_ref().and_then(|h| h.get(field)) {
        None => ld::Ld::Fin { neg: false, mant: 0, exp: 0 },
        Some(v) => ld::parse(v).ok_or_else(|| CmdError::err("hash value is not a float"))?,
    };
    let new = ld::add(old, incr).ok_or_else(|| CmdError::err("increment would produce NaN or Infinity"))?;
    let s = ld::fmt_human(new);
    match h {
        Some(h) => {
            h.set(field, s.as_bytes(), &lim);
            db.touch(key);
        }
        None => {
            let mut h = HashValue::new();
            h.set(field, s.as_bytes(), &lim);
            create(db, key, h);
        }
    }
    ctx.notify(b'h', "hincrbyfloat", key);
    ctx.dirty(1);
    ctx.out.bulk(s.as_bytes());
    Ok(())
}

/// Decimal digits of `n` (with a '-' when `neg`) at the end of `buf`.
fn fmt_u64(buf: &mut [u8; 20], mut n: u64, neg: bool) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// Writes one HRANDFIELD element: the field, or (with values) field and value, as a
/// 2-element array in RESP3.
#[inline]
fn rand_elem(out: &mut ReplyBuf, f: &[u8], v: &[u8], withvalues: bool) {
    if withvalues && out.resp3 {
        out.array(2);
    }
    out.bulk(f);
    if withvalues {
        out.bulk(v);
    }
}

/// HRANDFIELD key [count [WITHVALUES]]
fn hrandfield(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() == 2 {
        let ks = &mut ctx.st.ks;
        let now = ks.now_ms;
        let stats = &ctx.shared.stats;
        let out = &mut *ctx.out;
        match ks.dbs[ctx.client.db].get(args.get(1), now) {
            None => {
                stats.keyspace_misses.fetch_add(1, Ordering::Relaxed);
                out.null();
            }
            Some(Value::Hash(h)) => {
                stats.keyspace_hits.fetch_add(1, Ordering::Relaxed);
                match h.random(&mut ks.rng) {
                    Some((f, _)) => out.bulk(f),
                    None => out.null(),
                }
            }
            Some(_) => {
                stats.keyspace_hits.fetch_add(1, Ordering::Relaxed);
                return Err(CmdError::WrongType);
            }
        }
        return Ok(());
    }
    let l = parse_i64(args.get(2))?;
    if l < -i64::MAX {
        return Err(CmdError::err("value is out of range, value must between -9223372036854775807 and 9223372036854775807"));
    }
    let withvalues = match args.len() {
        3 => false,
        4 if eq_ic(args.get(3), "withvalues") => true,
        _ => return Err(CmdError::Syntax),
    };
    if withvalues && !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::err("value is out of range"));
    }
    let (uniq, count) = if l >= 0 { (true, l as u64) } else { (false, l.unsigned_abs()) };

    let ks = &mut ctx.st.ks;
    let now = ks.now_ms;
    let stats = &ctx.shared.stats;
    let out = &mut *ctx.out;
    let h = match ks.dbs[ctx.client.db].get(args.get(1), now) {
        None => {
            stats.keyspace_misses.fetch_add(1, Ordering::Relaxed);
            out.array(0);
            return Ok(());
        }
        Some(Value::Hash(h)) => {
            stats.keyspace_hits.fetch_add(1, Ordering::Relaxed);
            &**h
        }
        Some(_) => {
            stats.keyspace_hits.fetch_add(1, Ordering::Relaxed);
            return Err(CmdError::WrongType);
        }
    };
    let rng = &mut ks.rng;
    let size = h.len() as u64;
    if count == 0 || size == 0 {
        out.array(0);
        return Ok(());
    }
    let per = if withvalues && !out.resp3 { 2 } else { 1 };

    // CASE 1: negative count (or 1): independent picks, repetitions allowed.
    if !uniq || count == 1 {
        out.array((count * per) as usize);
        if let HashValue::Table(t) = h {
            for _ in 0..count {
                if let Some((f, v)) = t.random(rng) {
                    rand_elem(out, f, v, withvalues);
                }
            }
        } else {
            let pairs: Vec<(&[u8], &[u8])> = h.iter().collect();
            for _ in 0..count {
                let (f, v) = pairs[rand::Rng::gen_range(rng, 0..pairs.len())];
                rand_elem(out, f, v, withvalues);
            }
        }
        return Ok(());
    }

    let n = count.min(size);
    out.array((n * per) as usize);
    // CASE 2: the whole hash, in its own order.
    if count >= size {
        for (f, v) in h.iter() {
            rand_elem(out, f, v, withvalues);
        }
        return Ok(());
    }
    // CASE 3: a large share of the hash: choose from a full copy.
    if h.as_table().is_none() || count * 3 > size {
        let mut pairs: Vec<(&[u8], &[u8])> = h.iter().collect();
        for i in 0..n as usize {
            let j = rand::Rng::gen_range(rng, i..pairs.len());
            pairs.swap(i, j);
            let (f, v) = pairs[i];
            rand_elem(out, f, v, withvalues);
        }
        return Ok(());
    }
    // CASE 4: few of many: random picks until enough distinct fields.
    let mut seen: hashbrown::HashSet<&[u8]> = hashbrown::HashSet::with_capacity(n as usize);
    if let HashValue::Table(t) = h {
        while (seen.len() as u64) < n {
            if let Some((f, v)) = t.random(rng) {
                if seen.insert(f) {
                    rand_elem(out, f, v, withvalues);
                }
            }
        }
    }
    Ok(())
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
fn hscan(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let cursor = crate::util::parse_scan_cursor(args.get(2)).ok_or_else(|| CmdError::err("invalid cursor"))?;
    let (h, out) = read(ctx, args.get(1))?;
    let Some(h) = h else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let (count, pat) = crate::util::parse_scan_opts(args, 3)?;
    let mut items: Vec<(&[u8], &[u8])> = Vec::new();
    let next = match h.as_table() {
        None => h.scan(cursor, |f, v| items.push((f, v))),
        Some(t) => {
            // As Redis: visit buckets until COUNT fields were collected (before MATCH
            // filtering) or COUNT*10 buckets were visited.
            let mut c = cursor;
            let mut budget = count.saturating_mul(10);
            loop {
                c = t.scan(c, |f, v| items.push((f, v)));
                if c == 0 || budget == 0 || items.len() as i64 >= count {
                    break;
                }
                budget -= 1;
            }
            c
        }
    };
    if let Some(p) = pat {
        items.retain(|(f, _)| glob_match(p, f, false));
    }
    out.array(2);
    let mut buf = [0u8; 20];
    out.bulk(fmt_u64(&mut buf, next, false));
    out.array(items.len() * 2);
    for (f, v) in items {
        out.bulk(f);
        out.bulk(v);
    }
    Ok(())
}

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Set the string value of a hash field",
        since: "2.0.0",
        complexity: "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
        ..CommandDef::new("hset", -4, WRITE | DENYOOM | FAST, (1, 1, 1), "hash", hset)
    },
    CommandDef {
        summary: "Set the value of a hash field, only if the field does not exist",
        since: "2.0.0",
        complexity: "O(1)",
        ..CommandDef::new("hsetnx", 4, WRITE | DENYOOM | FAST, (1, 1, 1), "hash", hsetnx)
    },
    CommandDef {
        summary: "Get the value of a hash field",
        since: "2.0.0",
        complexity: "O(1)",
        ..CommandDef::new("hget", 3, READONLY | FAST, (1, 1, 1), "hash", hget)
    },
    CommandDef {
        summary: "Set multiple hash fields to multiple values",
        since: "2.0.0",
        complexity: "O(N) where N is the number of fields being set.",
        ..CommandDef::new("hmset", -4, WRITE | DENYOOM | FAST, (1, 1, 1), "hash", hmset)
    },
    CommandDef {
        summary: "Get the values of all the given hash fields",
        since: "2.0.0",
        complexity: "O(N) where N is the number of fields being requested.",
        ..CommandDef::new("hmget", -3, READONLY | FAST, (1, 1, 1), "hash", hmget)
    },
    CommandDef {
        summary: "Delete one or more hash fields",
        since: "2.0.0",
        complexity: "O(N) where N is the number of fields to be removed.",
        ..CommandDef::new("hdel", -3, WRITE | FAST, (1, 1, 1), "hash", hdel)
    },
    CommandDef {
        summary: "Get the number of fields in a hash",
        since: "2.0.0",
        complexity: "O(1)",
        ..CommandDef::new("hlen", 2, READONLY | FAST, (1, 1, 1), "hash", hlen)
    },
    CommandDef {
        summary: "Get the length of the value of a hash field",
        since: "3.2.0",
        complexity: "O(1)",
        ..CommandDef::new("hstrlen", 3, READONLY | FAST, (1, 1, 1), "hash", hstrlen)
    },
    CommandDef {
        summary: "Determine if a hash field exists",
        since: "2.0.0",
        complexity: "O(1)",
        ..CommandDef::new("hexists", 3, READONLY | FAST, (1, 1, 1), "hash", hexists)
    },
    CommandDef {
        summary: "Get all the fields in a hash",
        since: "2.0.0",
        complexity: "O(N) where N is the size of the hash.",
        ..CommandDef::new("hkeys", 2, READONLY, (1, 1, 1), "hash", hkeys)
    },
    CommandDef {
        summary: "Get all the values in a hash",
        since: "2.0.0",
        complexity: "O(N) where N is the size of the hash.",
        ..CommandDef::new("hvals", 2, READONLY, (1, 1, 1), "hash", hvals)
    },
    CommandDef {
        summary: "Get all the fields and values in a hash",
        since: "2.0.0",
        complexity: "O(N) where N is the size of the hash.",
        ..CommandDef::new("hgetall", 2, READONLY, (1, 1, 1), "hash", hgetall)
    },
    CommandDef {
        summary: "Increment the integer value of a hash field by the given number",
        since: "2.0.0",
        complexity: "O(1)",
        ..CommandDef::new("hincrby", 4, WRITE | DENYOOM | FAST, (1, 1, 1), "hash", hincrby)
    },
    CommandDef {
        summary: "Increment the float value of a hash field by the given amount",
        since: "2.6.0",
        complexity: "O(1)",
        ..CommandDef::new("hincrbyfloat", 4, WRITE | DENYOOM | FAST, (1, 1, 1), "hash", hincrbyfloat)
    },
    CommandDef {
        summary: "Get one or multiple random fields from a hash",
        since: "6.2.0",
        complexity: "O(N) where N is the number of fields returned",
        ..CommandDef::new("hrandfield", -2, READONLY, (1, 1, 1), "hash", hrandfield)
    },
    CommandDef {
        summary: "Incrementally iterate hash fields and associated values",
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        ..CommandDef::new("hscan", -3, READONLY, (1, 1, 1), "hash", hscan)
    },
];

#[cfg(test)]
mod tests {
    use super::fmt_u64;

    #[test]
    fn formats_integers() {
        let mut b = [0u8; 20];
        assert_eq!(fmt_u64(&mut b, u64::MAX, false), b"18446744073709551615");
        assert_eq!(fmt_u64(&mut b, i64::MIN.unsigned_abs(), true), b"-9223372036854775808");
        assert_eq!(fmt_u64(&mut b, 0, false), b"0");
    }

    #[test]
    fn cursor_like_strtoul() {
        assert_eq!(crate::util::parse_scan_cursor(b""), Some(0));
        assert_eq!(crate::util::parse_scan_cursor(b"0"), Some(0));
        assert_eq!(crate::util::parse_scan_cursor(b"+7"), Some(7));
        assert_eq!(crate::util::parse_scan_cursor(b"007"), Some(7));
        assert_eq!(crate::util::parse_scan_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(crate::util::parse_scan_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(crate::util::parse_scan_cursor(b"18446744073709551616"), None);
        assert_eq!(crate::util::parse_scan_cursor(b" 1"), None);
        assert_eq!(crate::util::parse_scan_cursor(b"1 "), None);
        assert_eq!(crate::util::parse_scan_cursor(b"-"), None);
        assert_eq!(crate::util::parse_scan_cursor(b"x"), None);
    }
}
