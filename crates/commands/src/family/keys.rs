//! Family: keys — the generic key-space commands (DEL, EXISTS, TYPE, RENAME, COPY, MOVE,
//! KEYS, SCAN, RANDOMKEY, TOUCH, OBJECT, the EXPIRE/TTL group, PERSIST) and the database
//! commands (DBSIZE, FLUSHDB, FLUSHALL, SWAPDB), as Redis 7.0's `db.c`, `expire.c` and
//! `object.c`.
//!
//! Lookups follow Redis's flavours: "read" lookups (EXISTS, TYPE, TOUCH, TTL, OBJECT,
//! COPY's source) count keyspace hits and misses, "write" lookups (DEL, RENAME, MOVE,
//! EXPIRE, PERSIST) do not. Both reclaim a key whose deadline has passed.

use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::table::{flags::*, CommandDef};
use crate::util::{eq_ic, parse_i64};
use shoal_keyspace::glob::glob_match;
use shoal_keyspace::value::hash::HashLimits;
use shoal_keyspace::value::{shoal_parse_i64, HashValue};
use shoal_keyspace::{Db, Value};
use shoal_resp::Args;

/// `OBJECT REFCOUNT` of Redis's shared integer objects (`OBJ_SHARED_REFCOUNT`).
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
/// Redis shares the integers 0..OBJ_SHARED_INTEGERS.
const SHARED_INTEGERS: i64 = 10000;

#[inline]
fn cur_db<'c>(ctx: &'c mut Ctx<'_>) -> &'c mut Db {
    &mut ctx.st.ks.dbs[ctx.client.db]
}

/// A deep copy of a value (COPY), in the same encoding. None for a type this function
/// does not know yet.
#[allow(unreachable_patterns)]
fn dup_value(v: &Value) -> Option<Value> {
    Some(match v {
        Value::Str(s) => Value::Str(s.clone()),
        Value::Hash(h) => {
            let mut c = HashValue::new();
            if h.encoding() == "hashtable" {
                c.convert_to_table();
            }
            // limits that keep a listpack a listpack while it is rebuilt
            let limits = HashLimits { max_listpack_entries: h.len().max(65535), max_listpack_value: usize::MAX };
            for (f, val) in h.iter() {
                c.set(f, val, &limits);
            }
            Value::Hash(Box::new(c))
        }
        Value::List(l) => Value::List(l.clone()),
        Value::Set(x) => Value::Set(x.clone()),
        Value::ZSet(z) => {
            // Rebuilt in order, in the same encoding.
            let items: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
            Value::ZSet(Box::new(shoal_keyspace::value::ZSetValue::from_sorted(&items, !z.is_skiplist())))
        }
        Value::Stream(x) => Value::Stream(x.clone()),
    })
}

/// A database index argument as Redis's getIntFromObjectOrReply: not an integer gives
/// `not_int`; an integer outside the C `int` range gives `range` when set, else Redis's
/// generic range message.
fn parse_db_index(arg: &[u8], not_int: CmdError, range: Option<CmdError>) -> Result<i64, CmdError> {
    let v = shoal_parse_i64(arg).ok_or(not_int)?;
    if i32::try_from(v).is_err() {
        return Err(range.unwrap_or_else(|| CmdError::err("value is out of range, value must between -2147483648 and 2147483647")));
    }
    Ok(v)
}

/// A keyspace event in database `db` rather than the client's (COPY ... DB, MOVE).
fn notify_db(ctx: &mut Ctx<'_>, db: usize, class: u8, event: &str, key: &[u8]) {
    let cur = std::mem::replace(&mut ctx.client.db, db);
    ctx.notify(class, event, key);
    ctx.client.db = cur;
}

// ---------------------------------------------------------------- DEL UNLINK EXISTS TYPE TOUCH

fn del_generic(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let now = ctx.now();
    let mut n = 0u64;
    for key in args.iter().skip(1) {
        if cur_db(ctx).remove_live(key, now).is_some() {
            ctx.notify(b'g', "del", key);
            n += 1;
        }
    }
    ctx.dirty(n);
    ctx.out.int(n as i64);
    Ok(())
}

/// DEL key [key ...]
fn del(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    del_generic(ctx, args)
}

/// UNLINK key [key ...]: Redis frees large values on a background thread; Shoal frees
/// them here, which replies the same.
fn unlink(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    del_generic(ctx, args)
}

/// Counts the arguments that name a live key (EXISTS, TOUCH), duplicates included.
fn count_existing(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let now = ctx.now();
    let mut n = 0i64;
    for key in args.iter().skip(1) {
        let hit = cur_db(ctx).get(key, now).is_some();
        ctx.hit_or_miss(hit, key);
        n += hit as i64;
    }
    ctx.out.int(n);
    Ok(())
}

/// EXISTS key [key ...]
fn exists(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    count_existing(ctx, args)
}

/// TOUCH key [key ...]: Shoal keeps no access time per key yet, so this only counts.
fn touch(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    count_existing(ctx, args)
}

/// TYPE key
fn type_cmd(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let now = ctx.now();
    let t = cur_db(ctx).get(args.get(1), now).map(|v| v.type_name());
    ctx.hit_or_miss(t.is_some(), args.get(1));
    ctx.out.simple(t.unwrap_or("none"));
    Ok(())
}

// ---------------------------------------------------------------- RENAME COPY MOVE

fn rename_generic(ctx: &mut Ctx<'_>, args: Args<'_>, nx: bool) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    let now = ctx.now();
    let db = cur_db(ctx);
    if db.get(src, now).is_none() {
        return Err(CmdError::NoSuchKey);
    }
    if src == dst {
        if nx {
            ctx.out.int(0);
        } else {
            ctx.out.ok();
        }
        return Ok(());
    }
    let expire = db.expire_at(src);
    let dst_exists = db.get(dst, now).is_some();
    if dst_exists && nx {
        ctx.out.int(0);
        return Ok(());
    }
    // the key exists (checked above); remove() signals src's watchers, set() dst's
    let Some(v) = db.remove(src) else { return Err(CmdError::NoSuchKey) };
    if dst_exists {
        // Redis deletes the destination, then adds the key anew ("new" event).
        db.remove(dst);
    }
    db.set(dst, v, false);
    if let Some(w) = expire {
        db.set_expire(dst, w);
    }
    ctx.notify(b'g', "rename_from", src);
    ctx.notify(b'g', "rename_to", dst);
    ctx.dirty(1);
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

/// RENAME key newkey
fn rename(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    rename_generic(ctx, args, false)
}

/// RENAMENX key newkey
fn renamenx(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    rename_generic(ctx, args, true)
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let src_db = ctx.client.db;
    let mut dst_db = src_db;
    let mut replace = false;
    let mut j = 3;
    while j < args.len() {
        let a = args.get(j);
        if eq_ic(a, "replace") {
            replace = true;
        } else if eq_ic(a, "db") && j + 1 < args.len() {
            let id = parse_db_index(args.get(j + 1), CmdError::NotInteger, None)?;
            if id < 0 || id as usize >= ctx.st.ks.dbs.len() {
                return Err(CmdError::DbIndexOutOfRange);
            }
            dst_db = id as usize;
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let (key, newkey) = (args.get(1), args.get(2));
    if src_db == dst_db && key == newkey {
        return Err(CmdError::SameObject);
    }
    let now = ctx.now();
    let found = ctx.st.ks.dbs[src_db].get(key, now).is_some();
    ctx.hit_or_miss(found, key);
    if !found {
        ctx.out.int(0);
        return Ok(());
    }
    let dst_exists = ctx.st.ks.dbs[dst_db].get(newkey, now).is_some();
    if dst_exists && !replace {
        ctx.out.int(0);
        return Ok(());
    }
    let src = &mut ctx.st.ks.dbs[src_db];
    let expire = src.expire_at(key);
    let Some(copy) = src.get(key, now).and_then(dup_value) else {
        return Err(CmdError::err("COPY is not supported for this value type yet"));
    };
    let dst = &mut ctx.st.ks.dbs[dst_db];
    if dst_exists {
        // REPLACE: Redis deletes the destination, then adds the copy anew ("new" event).
        dst.remove(newkey);
    }
    dst.set(newkey, copy, false);
    if let Some(w) = expire {
        dst.set_expire(newkey, w);
    }
    notify_db(ctx, dst_db, b'g', "copy_to", newkey);
    ctx.dirty(1);
    ctx.out.int(1);
    Ok(())
}

/// MOVE key db
fn move_cmd(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let id = parse_db_index(args.get(2), CmdError::NotInteger, None)?;
    if id < 0 || id as usize >= ctx.st.ks.dbs.len() {
        return Err(CmdError::DbIndexOutOfRange);
    }
    let (src_db, dst_db) = (ctx.client.db, id as usize);
    if src_db == dst_db {
        return Err(CmdError::SameObject);
    }
    let key = args.get(1);
    let now = ctx.now();
    let src = &mut ctx.st.ks.dbs[src_db];
    if src.get(key, now).is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    let expire = src.expire_at(key);
    if ctx.st.ks.dbs[dst_db].get(key, now).is_some() {
        ctx.out.int(0);
        return Ok(());
    }
    let Some(v) = ctx.st.ks.dbs[src_db].remove(key) else {
        ctx.out.int(0);
        return Ok(());
    };
    let dst = &mut ctx.st.ks.dbs[dst_db];
    dst.set(key, v, false);
    if let Some(w) = expire {
        dst.set_expire(key, w);
    }
    ctx.notify(b'g', "move_from", key);
    notify_db(ctx, dst_db, b'g', "move_to", key);
    ctx.dirty(1);
    ctx.out.int(1);
    Ok(())
}

// ---------------------------------------------------------------- KEYS SCAN RANDOMKEY

/// KEYS pattern: logically expired keys are skipped, not reclaimed (as Redis).
fn keys(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let pat = args.get(1);
    let all = pat == b"*";
    let now = ctx.now();
    let db = &ctx.st.ks.dbs[ctx.client.db];
    let has_ttl = db.expires_len() > 0;
    let out = &mut *ctx.out;
    let pos = out.begin_deferred();
    let mut n = 0;
    for (k, _) in db.iter() {
        if (all || glob_match(pat, k, false)) && !(has_ttl && db.is_expired(k, now)) {
            out.bulk(k);
            n += 1;
        }
    }
    out.end_deferred(pos, b'*', n);
    Ok(())
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
fn scan(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let cursor = crate::util::parse_scan_cursor(args.get(1)).ok_or_else(|| CmdError::err("invalid cursor"))?;
    let mut count: i64 = 10;
    let mut pat: Option<&[u8]> = None;
    let mut typ: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let a = args.get(i);
        let more = i + 1 < args.len();
        if eq_ic(a, "count") && more {
            count = parse_i64(args.get(i + 1))?;
            if count < 1 {
                return Err(CmdError::Syntax);
            }
        } else if eq_ic(a, "match") && more {
            let p = args.get(i + 1);
            pat = if p == b"*" { None } else { Some(p) };
        } else if eq_ic(a, "type") && more {
            typ = Some(args.get(i + 1));
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    // a cursor beyond the last slot (Db::scan's cursor is a slot) is an ended iteration
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut visited = 0usize;
    let mut next = cursor;
    // Db::scan also stops after a run of empty slots; going on until `count` keys were
    // visited (at most one pass over the 16384 slots) makes a database holding at most
    // `count` keys answer in one call with cursor 0, as Redis's small tables do.
    loop {
        next = db.scan(next, count as usize - visited.min(count as usize - 1), |k, v| {
            visited += 1;
            if pat.is_some_and(|p| !glob_match(p, k, false)) {
                return;
            }
            if typ.is_some_and(|t| !t.eq_ignore_ascii_case(v.type_name().as_bytes())) {
                return;
            }
            found.push(k.to_vec());
        });
        if next == 0 || visited >= count as usize {
            break;
        }
    }
    if db.expires_len() > 0 {
        // reclaim the keys found expired, as Redis's expireIfNeeded on each candidate
        found.retain(|k| !db.is_expired(k, now) || db.get(k, now).is_some());
    }
    let out = &mut *ctx.out;
    out.array(2);
    out.bulk_int(next as i64);
    out.array(found.len());
    for k in &found {
        out.bulk(k);
    }
    Ok(())
}

/// RANDOMKEY: a random live key; expired keys met on the way are reclaimed.
fn randomkey(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let now = ctx.now();
    let ks = &mut ctx.st.ks;
    let db = &mut ks.dbs[ctx.client.db];
    loop {
        let Some(k) = db.random_key(&mut ks.rng) else {
            ctx.out.null();
            return Ok(());
        };
        if db.expires_len() > 0 && db.is_expired(k, now) {
            let k = k.to_vec();
            db.get(&k, now);
            continue;
        }
        ctx.out.bulk(k);
        return Ok(());
    }
}

// ---------------------------------------------------------------- OBJECT

/// The maxmemory policy uses LFU (OBJECT FREQ allowed, IDLETIME refused).
fn lfu_policy(ctx: &Ctx<'_>) -> bool {
    ctx.shared.config.read().get("maxmemory-policy").is_some_and(|p| p.contains("lfu"))
}

/// Looks the key up for OBJECT; writes the null reply and returns None when missing.
fn object_lookup<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Option<&'c Value> {
    let now = ctx.now();
    let found = ctx.st.ks.dbs[ctx.client.db].get(key, now).is_some();
    ctx.hit(found);
    if !found {
        ctx.out.null();
        return None;
    }
    ctx.st.ks.dbs[ctx.client.db].peek(key, now)
}

/// OBJECT ENCODING key
fn object_encoding(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if let Some(v) = object_lookup(ctx, args.get(2)) {
        let e = v.encoding();
        ctx.out.bulk_str(e);
    }
    Ok(())
}

/// OBJECT REFCOUNT key: 1, or Redis's shared-object count for the integers it shares
/// (0..9999, unless maxmemory is set with an LRU/LFU policy).
fn object_refcount(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let shared_int = match object_lookup(ctx, args.get(2)) {
        None => return Ok(()),
        Some(Value::Str(s)) => shoal_parse_i64(s.as_bytes()).is_some_and(|n| (0..SHARED_INTEGERS).contains(&n)),
        Some(_) => false,
    };
    let shared = shared_int && {
        let cfg = ctx.shared.config.read();
        let maxmemory = cfg.get("maxmemory").is_some_and(|m| m != "0");
        let policy = cfg.get("maxmemory-policy").unwrap_or("noeviction");
        !(maxmemory && (policy.contains("lru") || policy.contains("lfu")))
    };
    ctx.out.int(if shared { SHARED_REFCOUNT } else { 1 });
    Ok(())
}

/// OBJECT IDLETIME key: Shoal does not track access times per key yet, so it is 0.
fn object_idletime(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let now = ctx.now();
    let exists = ctx.st.ks.dbs[ctx.client.db].get(args.get(2), now).is_some();
    if exists && lfu_policy(ctx) {
        return Err(CmdError::err(
            "An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    if object_lookup(ctx, args.get(2)).is_some() {
        ctx.out.int(0);
    }
    Ok(())
}

/// OBJECT FREQ key: requires an LFU policy; Shoal keeps no LFU counters yet (0).
fn object_freq(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let now = ctx.now();
    let exists = ctx.st.ks.dbs[ctx.client.db].get(args.get(2), now).is_some();
    if exists && !lfu_policy(ctx) {
        return Err(CmdError::err(
            "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    if object_lookup(ctx, args.get(2)).is_some() {
        ctx.out.int(0);
    }
    Ok(())
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// OBJECT HELP
fn object_help(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.array(OBJECT_HELP.len());
    for l in OBJECT_HELP {
        ctx.out.simple(l);
    }
    Ok(())
}

/// OBJECT without a subcommand never runs (the pipeline answers the arity error).
fn object(_ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    Err(CmdError::WrongArity("object".into()))
}

// ---------------------------------------------------------------- EXPIRE group

const EXPIRE_NX: u8 = 1;
const EXPIRE_XX: u8 = 2;
const EXPIRE_GT: u8 = 4;
const EXPIRE_LT: u8 = 8;

/// Parses the NX|XX|GT|LT options from argument 3 on, with Redis's messages.
fn parse_expire_flags(opts: impl Iterator<Item = impl AsRef<[u8]>>) -> Result<u8, CmdError> {
    let mut f = 0u8;
    for o in opts {
        let o = o.as_ref();
        f |= if eq_ic(o, "nx") {
            EXPIRE_NX
        } else if eq_ic(o, "xx") {
            EXPIRE_XX
        } else if eq_ic(o, "gt") {
            EXPIRE_GT
        } else if eq_ic(o, "lt") {
            EXPIRE_LT
        } else {
            return Err(CmdError::err(format!("Unsupported option {}", String::from_utf8_lossy(o))));
        };
    }
    if f & EXPIRE_NX != 0 && f & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT) != 0 {
        return Err(CmdError::err("NX and XX, GT or LT options at the same time are not compatible"));
    }
    if f & EXPIRE_GT != 0 && f & EXPIRE_LT != 0 {
        return Err(CmdError::err("GT and LT options at the same time are not compatible"));
    }
    Ok(f)
}

/// Whether the options allow setting deadline `when` (ms) on a key whose current
/// deadline is `current` (None: no TTL, which GT and LT treat as infinite).
fn expire_allowed(flags: u8, current: Option<u64>, when: i64) -> bool {
    if flags & EXPIRE_NX != 0 && current.is_some() {
        return false;
    }
    if flags & EXPIRE_XX != 0 && current.is_none() {
        return false;
    }
    if flags & EXPIRE_GT != 0 && current.is_none_or(|c| when <= c as i64) {
        return false;
    }
    if flags & EXPIRE_LT != 0 && current.is_some_and(|c| when >= c as i64) {
        return false;
    }
    true
}

/// The deadline in ms for an EXPIRE-family argument, or the overflow error.
fn expire_deadline(arg: i64, seconds: bool, base: i64, cmd: &'static str) -> Result<i64, CmdError> {
    let when = if seconds { arg.checked_mul(1000).ok_or(CmdError::InvalidExpire(cmd))? } else { arg };
    if when > i64::MAX - base {
        return Err(CmdError::InvalidExpire(cmd));
    }
    Ok(when + base)
}

fn expire_generic(ctx: &mut Ctx<'_>, args: Args<'_>, seconds: bool, relative: bool, cmd: &'static str) -> CmdResult {
    let flags = parse_expire_flags(args.iter().skip(3))?;
    let arg = parse_i64(args.get(2))?;
    let now = ctx.now();
    let when = expire_deadline(arg, seconds, if relative { now as i64 } else { 0 }, cmd)?;
    let key = args.get(1);
    let db = cur_db(ctx);
    if db.get(key, now).is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    if flags != 0 && !expire_allowed(flags, db.expire_at(key), when) {
        ctx.out.int(0);
        return Ok(());
    }
    if when <= now as i64 {
        // a deadline already passed deletes the key (propagated as DEL by Redis)
        db.remove(key);
        ctx.notify(b'g', "del", key);
    } else {
        db.set_expire(key, when as u64);
        ctx.notify(b'g', "expire", key);
    }
    ctx.dirty(1);
    ctx.out.int(1);
    Ok(())
}

/// EXPIRE key seconds [NX|XX|GT|LT]
fn expire(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(ctx, args, true, true, "expire")
}

/// PEXPIRE key milliseconds [NX|XX|GT|LT]
fn pexpire(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(ctx, args, false, true, "pexpire")
}

/// EXPIREAT key unix-time-seconds [NX|XX|GT|LT]
fn expireat(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(ctx, args, true, false, "expireat")
}

/// PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]
fn pexpireat(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(ctx, args, false, false, "pexpireat")
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for a missing key, -1 without a TTL.
fn ttl_generic(ctx: &mut Ctx<'_>, args: Args<'_>, ms: bool, absolute: bool) -> CmdResult {
    let now = ctx.now();
    let key = args.get(1);
    let db = cur_db(ctx);
    let exists = db.get(key, now).is_some();
    let expire = if exists { db.expire_at(key) } else { None };
    ctx.hit_or_miss(exists, key);
    let reply = match (exists, expire) {
        (false, _) => -2,
        (true, None) => -1,
        (true, Some(w)) => {
            let t = if absolute { w as i64 } else { (w as i64).wrapping_sub(now as i64).max(0) };
            // C's (ttl+500)/1000: ttl is known non-negative there, so the compiled code
            // divides unsigned and a deadline near i64::MAX does not go negative.
            if ms {
                t
            } else {
                ((t as u64).wrapping_add(500) / 1000) as i64
            }
        }
    };
    ctx.out.int(reply);
    Ok(())
}

/// TTL key
fn ttl(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, false, false)
}

/// PTTL key
fn pttl(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, true, false)
}

/// EXPIRETIME key
fn expiretime(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, false, true)
}

/// PEXPIRETIME key
fn pexpiretime(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, true, true)
}

/// PERSIST key
fn persist(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let now = ctx.now();
    let key = args.get(1);
    let db = cur_db(ctx);
    let done = db.get(key, now).is_some() && db.persist(key);
    if done {
        ctx.notify(b'g', "persist", key);
        ctx.dirty(1);
    }
    ctx.out.int(done as i64);
    Ok(())
}

// ---------------------------------------------------------------- DBSIZE FLUSHDB FLUSHALL SWAPDB

/// DBSIZE: keys of the selected database, expired-but-unreclaimed ones included.
fn dbsize(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let n = cur_db(ctx).len();
    ctx.out.int(n as i64);
    Ok(())
}

/// The optional [ASYNC|SYNC] of FLUSHDB/FLUSHALL. Both free synchronously in Shoal:
/// the reply and the resulting state are the same, only the freeing happens inline.
fn check_flush_mode(args: Args<'_>) -> CmdResult {
    match args.len() {
        1 => Ok(()),
        2 if eq_ic(args.get(1), "sync") || eq_ic(args.get(1), "async") => Ok(()),
        _ => Err(CmdError::Syntax),
    }
}

/// FLUSHDB [ASYNC|SYNC]
fn flushdb(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    check_flush_mode(args)?;
    let n = cur_db(ctx).clear();
    ctx.dirty(n as u64);
    ctx.out.ok();
    Ok(())
}

/// FLUSHALL [ASYNC|SYNC]: empties every database (Redis then counts one more change).
fn flushall(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    check_flush_mode(args)?;
    let n: usize = ctx.st.ks.dbs.iter_mut().map(|db| db.clear()).sum();
    ctx.dirty(n as u64 + 1);
    ctx.out.ok();
    Ok(())
}

/// SWAPDB index1 index2: WATCHers of a key that exists in either database before or
/// after the swap are signalled, as Redis's touchAllWatchedKeysInDb.
fn swapdb(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let first = || CmdError::err("invalid first DB index");
    let second = || CmdError::err("invalid second DB index");
    let a = parse_db_index(args.get(1), first(), Some(first()))?;
    let b = parse_db_index(args.get(2), second(), Some(second()))?;
    let n = ctx.st.ks.dbs.len() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Err(CmdError::DbIndexOutOfRange);
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = ctx.st.ks.dbs.split_at_mut(hi);
        let (x, y) = (&mut left[lo], &mut right[0]);
        x.touch_watched_existing();
        y.touch_watched_existing();
        Db::swap_data(x, y);
        x.touch_watched_existing();
        y.touch_watched_existing();
    }
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

// ---------------------------------------------------------------- table

const G: &str = "generic";

static OBJECT_SUBCOMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Returns the internal encoding of a Redis object.",
        since: "2.2.3",
        complexity: "O(1)",
        ..CommandDef::new("encoding", 3, READONLY, (2, 2, 1), G, object_encoding)
    },
    CommandDef {
        summary: "Returns the logarithmic access frequency counter of a Redis object.",
        since: "4.0.0",
        complexity: "O(1)",
        ..CommandDef::new("freq", 3, READONLY, (2, 2, 1), G, object_freq)
    },
    CommandDef {
        summary: "Returns helpful text about the different subcommands.",
        since: "6.2.0",
        complexity: "O(1)",
        ..CommandDef::new("help", 2, LOADING | STALE, (0, 0, 0), G, object_help)
    },
    CommandDef {
        summary: "Returns the time since the last access to a Redis object.",
        since: "2.2.3",
        complexity: "O(1)",
        ..CommandDef::new("idletime", 3, READONLY, (2, 2, 1), G, object_idletime)
    },
    CommandDef {
        summary: "Returns the reference count of a value of a key.",
        since: "2.2.3",
        complexity: "O(1)",
        ..CommandDef::new("refcount", 3, READONLY, (2, 2, 1), G, object_refcount)
    },
];

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Deletes one or more keys.",
        complexity: "O(N) where N is the number of keys that will be removed.",
        ..CommandDef::new("del", -2, WRITE, (1, -1, 1), G, del)
    },
    CommandDef {
        summary: "Asynchronously deletes one or more keys.",
        since: "4.0.0",
        complexity: "O(1) for each key removed regardless of its size.",
        ..CommandDef::new("unlink", -2, WRITE | FAST, (1, -1, 1), G, unlink)
    },
    CommandDef {
        summary: "Determines whether one or more keys exist.",
        complexity: "O(N) where N is the number of keys to check.",
        ..CommandDef::new("exists", -2, READONLY | FAST, (1, -1, 1), G, exists)
    },
    CommandDef {
        summary: "Determines the type of value stored at a key.",
        complexity: "O(1)",
        ..CommandDef::new("type", 2, READONLY | FAST, (1, 1, 1), G, type_cmd)
    },
    CommandDef {
        summary: "Renames a key and overwrites the destination.",
        complexity: "O(1)",
        ..CommandDef::new("rename", 3, WRITE, (1, 2, 1), G, rename)
    },
    CommandDef {
        summary: "Renames a key only when the target key name doesn't exist.",
        complexity: "O(1)",
        ..CommandDef::new("renamenx", 3, WRITE | FAST, (1, 2, 1), G, renamenx)
    },
    CommandDef {
        summary: "Copies the value of a key to a new key.",
        since: "6.2.0",
        complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
        ..CommandDef::new("copy", -3, WRITE | DENYOOM, (1, 2, 1), G, copy)
    },
    CommandDef {
        summary: "Moves a key to another database.",
        complexity: "O(1)",
        ..CommandDef::new("move", 3, WRITE | FAST, (1, 1, 1), G, move_cmd)
    },
    CommandDef {
        summary: "Returns all key names that match a pattern.",
        complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
        acl: &["@dangerous"],
        ..CommandDef::new("keys", 2, READONLY, (0, 0, 0), G, keys)
    },
    CommandDef {
        summary: "Iterates over the key names in the database.",
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
        ..CommandDef::new("scan", -2, READONLY, (0, 0, 0), G, scan)
    },
    CommandDef {
        summary: "Returns a random key name from the database.",
        complexity: "O(1)",
        ..CommandDef::new("randomkey", 1, READONLY, (0, 0, 0), G, randomkey)
    },
    CommandDef {
        summary: "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
        since: "3.2.1",
        complexity: "O(N) where N is the number of keys that will be touched.",
        ..CommandDef::new("touch", -2, READONLY | FAST, (1, -1, 1), G, touch)
    },
    CommandDef {
        summary: "A container for object introspection commands.",
        since: "2.2.3",
        complexity: "Depends on subcommand.",
        subcommands: OBJECT_SUBCOMMANDS,
        ..CommandDef::new("object", -2, 0, (0, 0, 0), G, object)
    },
    CommandDef {
        summary: "Sets the expiration time of a key in seconds.",
        complexity: "O(1)",
        ..CommandDef::new("expire", -3, WRITE | FAST, (1, 1, 1), G, expire)
    },
    CommandDef {
        summary: "Sets the expiration time of a key in milliseconds.",
        since: "2.6.0",
        complexity: "O(1)",
        ..CommandDef::new("pexpire", -3, WRITE | FAST, (1, 1, 1), G, pexpire)
    },
    CommandDef {
        summary: "Sets the expiration time of a key to a Unix timestamp.",
        since: "1.2.0",
        complexity: "O(1)",
        ..CommandDef::new("expireat", -3, WRITE | FAST, (1, 1, 1), G, expireat)
    },
    CommandDef {
        summary: "Sets the expiration time of a key to a Unix milliseconds timestamp.",
        since: "2.6.0",
        complexity: "O(1)",
        ..CommandDef::new("pexpireat", -3, WRITE | FAST, (1, 1, 1), G, pexpireat)
    },
    CommandDef {
        summary: "Returns the expiration time in seconds of a key.",
        complexity: "O(1)",
        ..CommandDef::new("ttl", 2, READONLY | FAST, (1, 1, 1), G, ttl)
    },
    CommandDef {
        summary: "Returns the expiration time in milliseconds of a key.",
        since: "2.6.0",
        complexity: "O(1)",
        ..CommandDef::new("pttl", 2, READONLY | FAST, (1, 1, 1), G, pttl)
    },
    CommandDef {
        summary: "Returns the expiration time of a key as a Unix timestamp.",
        since: "7.0.0",
        complexity: "O(1)",
        ..CommandDef::new("expiretime", 2, READONLY | FAST, (1, 1, 1), G, expiretime)
    },
    CommandDef {
        summary: "Returns the expiration time of a key as a Unix milliseconds timestamp.",
        since: "7.0.0",
        complexity: "O(1)",
        ..CommandDef::new("pexpiretime", 2, READONLY | FAST, (1, 1, 1), G, pexpiretime)
    },
    CommandDef {
        summary: "Removes the expiration time of a key.",
        since: "2.2.0",
        complexity: "O(1)",
        ..CommandDef::new("persist", 2, WRITE | FAST, (1, 1, 1), G, persist)
    },
    CommandDef {
        summary: "Returns the number of keys in the database.",
        complexity: "O(1)",
        acl: &["@keyspace"],
        ..CommandDef::new("dbsize", 1, READONLY | FAST, (0, 0, 0), "server", dbsize)
    },
    CommandDef {
        summary: "Removes all keys from the current database.",
        complexity: "O(N) where N is the number of keys in the selected database",
        acl: &["@keyspace", "@dangerous"],
        ..CommandDef::new("flushdb", -1, WRITE, (0, 0, 0), "server", flushdb)
    },
    CommandDef {
        summary: "Removes all keys from all databases.",
        complexity: "O(N) where N is the total number of keys in all databases",
        acl: &["@keyspace", "@dangerous"],
        ..CommandDef::new("flushall", -1, WRITE, (0, 0, 0), "server", flushall)
    },
    CommandDef {
        summary: "Swaps two Redis databases.",
        since: "4.0.0",
        complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
        acl: &["@keyspace", "@dangerous"],
        ..CommandDef::new("swapdb", 3, WRITE | FAST, (0, 0, 0), "server", swapdb)
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(opts: &[&str]) -> Result<u8, CmdError> {
        parse_expire_flags(opts.iter().map(|s| s.as_bytes()))
    }

    #[test]
    fn expire_option_parsing() {
        assert_eq!(flags(&[]), Ok(0));
        assert_eq!(flags(&["nx"]), Ok(EXPIRE_NX));
        assert_eq!(flags(&["XX", "gt"]), Ok(EXPIRE_XX | EXPIRE_GT));
        assert_eq!(flags(&["xx", "LT"]), Ok(EXPIRE_XX | EXPIRE_LT));
        assert_eq!(flags(&["gt", "gt"]), Ok(EXPIRE_GT));
        let nx = "ERR NX and XX, GT or LT options at the same time are not compatible";
        let gtlt = "ERR GT and LT options at the same time are not compatible";
        for bad in [&["nx", "xx"][..], &["nx", "gt"], &["lt", "nx"], &["nx", "gt", "lt"]] {
            assert_eq!(flags(bad).unwrap_err().to_string(), nx, "{bad:?}");
        }
        assert_eq!(flags(&["gt", "lt"]).unwrap_err().to_string(), gtlt);
        assert_eq!(flags(&["xx", "gt", "lt"]).unwrap_err().to_string(), gtlt);
        // an unknown option is reported before the combination checks
        assert_eq!(flags(&["nx", "xx", "foo"]).unwrap_err().to_string(), "ERR Unsupported option foo");
    }

    #[test]
    fn expire_option_matrix() {
        // (flags, current deadline, new deadline, allowed)
        let cases: &[(u8, Option<u64>, i64, bool)] = &[
            (0, None, 100, true),
            (0, Some(50), 100, true),
            (EXPIRE_NX, None, 100, true),
            (EXPIRE_NX, Some(50), 100, false),
            (EXPIRE_XX, None, 100, false),
            (EXPIRE_XX, Some(50), 100, true),
            (EXPIRE_GT, None, 100, false),
            (EXPIRE_GT, Some(50), 100, true),
            (EXPIRE_GT, Some(100), 100, false),
            (EXPIRE_GT, Some(150), 100, false),
            (EXPIRE_LT, None, 100, true),
            (EXPIRE_LT, None, -5, true),
            (EXPIRE_LT, Some(150), 100, true),
            (EXPIRE_LT, Some(100), 100, false),
            (EXPIRE_LT, Some(50), 100, false),
            (EXPIRE_XX | EXPIRE_GT, None, 100, false),
            (EXPIRE_XX | EXPIRE_GT, Some(50), 100, true),
            (EXPIRE_XX | EXPIRE_GT, Some(150), 100, false),
            (EXPIRE_XX | EXPIRE_LT, None, 100, false),
            (EXPIRE_XX | EXPIRE_LT, Some(150), 100, true),
            (EXPIRE_XX | EXPIRE_LT, Some(50), 100, false),
        ];
        for &(f, cur, when, ok) in cases {
            assert_eq!(expire_allowed(f, cur, when), ok, "flags {f} current {cur:?} when {when}");
        }
    }

    #[test]
    fn expire_overflow() {
        assert_eq!(expire_deadline(5, true, 1000, "expire"), Ok(6000));
        assert_eq!(expire_deadline(-5, true, 1000, "expire"), Ok(-4000));
        assert!(expire_deadline(i64::MAX / 1000 + 1, true, 0, "expire").is_err());
        assert!(expire_deadline(i64::MIN / 1000 - 1, true, 0, "expire").is_err());
        assert_eq!(expire_deadline(i64::MAX, false, 0, "pexpireat"), Ok(i64::MAX));
        assert_eq!(expire_deadline(i64::MAX, false, 1, "pexpire").unwrap_err().to_string(), "ERR invalid expire time in 'pexpire' command");
    }

    #[test]
    fn scan_cursor_like_strtoul() {
        assert_eq!(crate::util::parse_scan_cursor(b"0"), Some(0));
        assert_eq!(crate::util::parse_scan_cursor(b""), Some(0));
        assert_eq!(crate::util::parse_scan_cursor(b"+12"), Some(12));
        assert_eq!(crate::util::parse_scan_cursor(b"007"), Some(7));
        assert_eq!(crate::util::parse_scan_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(crate::util::parse_scan_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(crate::util::parse_scan_cursor(b"18446744073709551616"), None);
        assert_eq!(crate::util::parse_scan_cursor(b" 0"), None);
        assert_eq!(crate::util::parse_scan_cursor(b"0 "), None);
        assert_eq!(crate::util::parse_scan_cursor(b"0x"), None);
        assert_eq!(crate::util::parse_scan_cursor(b"-"), None);
        assert_eq!(crate::util::parse_scan_cursor(b"abc"), None);
    }

    #[test]
    fn created_keys_are_recorded_only_when_tracked() {
        // The "new" keyspace event: Db::set records keys it creates while track_new is
        // set; RENAME/COPY REPLACE remove an existing destination first so it counts.
        let mut db = Db::new();
        db.set(b"a", Value::str(b"v"), false);
        assert!(db.created.is_empty());
        db.track_new = true;
        db.set(b"a", Value::str(b"w"), false);
        assert!(db.created.is_empty());
        db.set(b"b", Value::str(b"v"), false);
        db.remove(b"a");
        db.set(b"a", Value::str(b"v"), false);
        assert_eq!(db.created, vec![b"b".to_vec(), b"a".to_vec()]);
    }

    #[test]
    fn remove_live_reclaims_expired_keys() {
        let mut db = Db::new();
        db.set(b"live", Value::str(b"v"), false);
        db.set(b"dead", Value::str(b"v"), false);
        db.set_expire(b"dead", 10);
        assert!(db.remove_live(b"dead", 20).is_none());
        assert_eq!(db.expired, vec![b"dead".to_vec()]);
        assert!(db.remove_live(b"live", 20).is_some());
        assert!(db.remove_live(b"live", 20).is_none());
        assert!(db.is_empty());
    }

    #[test]
    fn copy_duplicates_values() {
        let v = Value::str(b"hello");
        let c = dup_value(&v).expect("string");
        assert_eq!(c.as_str(), Some(&b"hello"[..]));
    }
}
