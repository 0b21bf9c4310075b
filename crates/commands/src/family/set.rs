//! Family: sets (SADD and friends, set algebra, SPOP/SRANDMEMBER, SSCAN), as Redis 7.0's
//! `t_set.c`. The encodings live in `shoal_keyspace::value::set`.
//!
//! Conventions, as Redis: reads (`lookupKeyRead`) count keyspace hits/misses, writes do
//! not; a write that changes nothing neither signals WATCH nor counts as dirty; a set
//! left empty is deleted; a *STORE with an empty result deletes the destination.
//! Results of SUNION/SDIFF (and SPOP of the whole set) are built the way Redis builds
//! them (a fresh intset that converts as members are added), so an all-integer result
//! comes out sorted, as it does from Redis.

use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::table::{flags::*, CommandDef};
use crate::util::{eq_ic, parse_i64};
use shoal_keyspace::glob::glob_match;
use shoal_keyspace::value::set::{Member, OwnedMember, SetValue};
use shoal_keyspace::value::shoal_parse_i64;
use shoal_keyspace::{Db, Value};
use shoal_resp::{Args, ReplyBuf};
use std::sync::atomic::Ordering;

/// `set-max-intset-entries`.
fn max_intset(ctx: &Ctx<'_>) -> usize {
    ctx.shared.hot.set_max_intset_entries.load(Ordering::Relaxed).max(0) as usize
}

#[inline]
fn reply_member(out: &mut ReplyBuf, m: Member<'_>) {
    match m {
        Member::Int(v) => out.bulk_int(v),
        Member::Str(b) => out.bulk(b),
    }
}

/// Read lookup (`lookupKeyRead` + `checkType`): the set at `key` (None when absent),
/// with the reply buffer, counting a keyspace hit or miss.
fn read<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<(Option<&'c SetValue>, &'c mut ReplyBuf), CmdError> {
    match ctx.read_value(key) {
        (None, out) => Ok((None, out)),
        (Some(Value::Set(s)), out) => Ok((Some(&**s), out)),
        (Some(_), _) => Err(CmdError::WrongType),
    }
}

/// Write-side lookup (`lookupKeyWrite` + `checkType`) without signalling WATCH.
fn write_lookup<'c>(db: &'c mut Db, key: &[u8], now: u64) -> Result<Option<&'c mut SetValue>, CmdError> {
    match db.get_mut_untracked(key, now) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(&mut **s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Read lookups of several keys in order (`lookupKeyRead` + `checkType` each), stopping
/// at the first key of another type. Afterwards the sets can be borrowed together with
/// [`Db::peek`].
fn check_read_keys(ctx: &mut Ctx<'_>, args: &Args<'_>, keys: std::ops::Range<usize>) -> CmdResult {
    let now = ctx.st.ks.now_ms;
    let stats = &ctx.shared.stats;
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    for i in keys {
        match db.get(args.get(i), now) {
            None => {
                stats.keyspace_misses.fetch_add(1, Ordering::Relaxed);
            }
            Some(v) => {
                stats.keyspace_hits.fetch_add(1, Ordering::Relaxed);
                if !matches!(v, Value::Set(_)) {
                    return Err(CmdError::WrongType);
                }
            }
        }
    }
    Ok(())
}

/// The set at `key` after [`check_read_keys`].
#[inline]
fn peek_set<'d>(db: &'d Db, key: &[u8], now: u64) -> Option<&'d SetValue> {
    match db.peek(key, now) {
        Some(Value::Set(s)) => Some(&**s),
        _ => None,
    }
}

/// SADD key member [member ...]
fn sadd(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let max = max_intset(ctx);
    let now = ctx.st.ks.now_ms;
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let added = match write_lookup(db, key, now)? {
        Some(s) => {
            let mut added = 0i64;
            for i in 2..args.len() {
                added += s.add(args.get(i), max) as i64;
            }
            if added > 0 {
                db.touch(key);
            }
            added
        }
        None => {
            let mut s = SetValue::new_for(args.get(2));
            let mut added = 0i64;
            for i in 2..args.len() {
                added += s.add(args.get(i), max) as i64;
            }
            db.set(key, Value::Set(Box::new(s)), false);
            added
        }
    };
    if added > 0 {
        ctx.notify(b's', "sadd", key);
    }
    ctx.dirty(added as u64);
    ctx.out.int(added);
    Ok(())
}

/// SREM key member [member ...]
fn srem(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let now = ctx.st.ks.now_ms;
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let Some(s) = write_lookup(db, key, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut deleted = 0i64;
    let mut emptied = false;
    for i in 2..args.len() {
        if s.remove(args.get(i)) {
            deleted += 1;
            if s.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    if deleted > 0 {
        if emptied {
            db.remove(key);
        } else {
            db.touch(key);
        }
        ctx.notify(b's', "srem", key);
        if emptied {
            ctx.notify(b'g', "del", key);
        }
        ctx.dirty(deleted as u64);
    }
    ctx.out.int(deleted);
    Ok(())
}

/// SMOVE source destination member
fn smove(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (src, dst, ele) = (args.get(1), args.get(2), args.get(3));
    let max = max_intset(ctx);
    let now = ctx.st.ks.now_ms;
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let src_is_member = match write_lookup(db, src, now) {
        Ok(None) => {
            ctx.out.int(0);
            return Ok(());
        }
        Ok(Some(s)) => s.contains(ele),
        Err(e) => return Err(e),
    };
    let dst_exists = write_lookup(db, dst, now)?.is_some();
    if src == dst {
        ctx.out.int(src_is_member as i64);
        return Ok(());
    }
    if !src_is_member {
        ctx.out.int(0);
        return Ok(());
    }
    let src_emptied = match write_lookup(db, src, now)? {
        Some(s) => {
            s.remove(ele);
            s.is_empty()
        }
        None => false,
    };
    if src_emptied {
        db.remove(src);
    } else {
        db.touch(src);
    }
    // Redis's order: "srem" (and "del") on the source before the destination is created
    // ("new") and gets "sadd".
    ctx.notify(b's', "srem", src);
    if src_emptied {
        ctx.notify(b'g', "del", src);
    }
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let added = if dst_exists {
        let added = write_lookup(db, dst, now)?.is_some_and(|s| s.add(ele, max));
        if added {
            db.touch(dst);
        }
        added
    } else {
        let mut s = SetValue::new_for(ele);
        s.add(ele, max);
        db.set(dst, Value::Set(Box::new(s)), false);
        true
    };
    ctx.dirty(1);
    if added {
        ctx.dirty(1);
        ctx.notify(b's', "sadd", dst);
    }
    ctx.out.int(1);
    Ok(())
}

/// SISMEMBER key member
fn sismember(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (s, out) = read(ctx, args.get(1))?;
    out.int(s.is_some_and(|s| s.contains(args.get(2))) as i64);
    Ok(())
}

/// SMISMEMBER key member [member ...]
fn smismember(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (s, out) = read(ctx, args.get(1))?;
    out.array(args.len() - 2);
    for i in 2..args.len() {
        out.int(s.is_some_and(|s| s.contains(args.get(i))) as i64);
    }
    Ok(())
}

/// SCARD key
fn scard(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (s, out) = read(ctx, args.get(1))?;
    out.int(s.map_or(0, |s| s.len()) as i64);
    Ok(())
}

/// SMEMBERS key (Redis 7.0 runs SINTER on the one key: a set in RESP3).
fn smembers(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (s, out) = read(ctx, args.get(1))?;
    match s {
        None => out.set(0),
        Some(s) => {
            out.set(s.len());
            for m in s.iter() {
                reply_member(out, m);
            }
        }
    }
    Ok(())
}

/// What [`sinter_generic`] produces.
#[derive(Clone, Copy, PartialEq, Eq)]
enum InterMode {
    Reply,
    Store,
    /// SINTERCARD with its LIMIT (0 = none).
    Card(u64),
}

/// SINTER / SINTERSTORE / SINTERCARD over the keys `args[keys]`.
fn sinter_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, keys: std::ops::Range<usize>, dst: Option<&[u8]>, mode: InterMode) -> CmdResult {
    check_read_keys(ctx, args, keys.clone())?;
    let max = max_intset(ctx);
    let now = ctx.st.ks.now_ms;
    let db = &ctx.st.ks.dbs[ctx.client.db];
    let mut sets: Vec<&SetValue> = Vec::with_capacity(keys.len());
    let mut empty = false;
    for i in keys {
        match peek_set(db, args.get(i), now) {
            Some(s) => sets.push(s),
            None => empty = true,
        }
    }
    let out = &mut *ctx.out;
    let mut result: Option<SetValue> = None;
    if empty {
        match mode {
            InterMode::Reply => out.set(0),
            InterMode::Card(_) => out.int(0),
            InterMode::Store => {}
        }
    } else {
        // Smallest first (a stable sort, as glibc's qsort on few elements).
        sets.sort_by_key(|s| s.len());
        let first = sets[0];
        let others = &sets[1..];
        let is_member = |m: Member<'_>| others.iter().all(|o| std::ptr::eq(*o, first) || o.contains_member(m));
        match mode {
            InterMode::Card(limit) => {
                let mut n = 0u64;
                for m in first.iter() {
                    if is_member(m) {
                        n += 1;
                        if limit != 0 && n >= limit {
                            break;
                        }
                    }
                }
                out.int(n as i64);
            }
            InterMode::Reply => {
                let pos = out.begin_deferred();
                let mut n = 0;
                for m in first.iter() {
                    if is_member(m) {
                        reply_member(out, m);
                        n += 1;
                    }
                }
                out.end_deferred(pos, b'~', n);
            }
            InterMode::Store => {
                let mut r = SetValue::new_intset();
                for m in first.iter() {
                    if is_member(m) {
                        r.add_member(m, max);
                    }
                }
                result = Some(r);
            }
        }
    }
    if let Some(dst) = dst {
        store_result(ctx, dst, result.unwrap_or_default(), "sinterstore");
    }
    Ok(())
}

/// Stores a *STORE result (deleting the destination when it is empty) and replies
/// with its size.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], result: SetValue, event: &str) {
    let n = result.len();
    if n > 0 {
        let now = ctx.now();
        let db = ctx.db();
        if db.expires_len() > 0 {
            // setKey's lookupKeyWrite: an expired destination expires first (its event).
            db.get(dst, now);
        }
        db.set(dst, Value::Set(Box::new(result)), false);
        ctx.out.int(n as i64);
        ctx.notify(b's', event, dst);
        ctx.dirty(1);
    } else {
        ctx.out.int(0);
        if ctx.db().remove(dst).is_some() {
            ctx.dirty(1);
            ctx.notify(b'g', "del", dst);
        }
    }
}

/// SINTER key [key ...]
fn sinter(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    sinter_generic(ctx, &args, 1..args.len(), None, InterMode::Reply)
}

/// SINTERSTORE destination key [key ...]
fn sinterstore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    sinter_generic(ctx, &args, 2..args.len(), Some(args.get(1)), InterMode::Store)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let numkeys = match shoal_parse_i64(args.get(1)) {
        Some(n) if n >= 1 => n as u64,
        _ => return Err(CmdError::err("numkeys should be greater than 0")),
    };
    if numkeys > args.len() as u64 - 2 {
        return Err(CmdError::err("Number of keys can't be greater than number of args"));
    }
    let end = 2 + numkeys as usize;
    let mut limit = 0u64;
    let mut j = end;
    while j < args.len() {
        let moreargs = args.len() - 1 - j;
        if eq_ic(args.get(j), "limit") && moreargs > 0 {
            j += 1;
            limit = match shoal_parse_i64(args.get(j)) {
                Some(l) if l >= 0 => l as u64,
                _ => return Err(CmdError::err("LIMIT can't be negative")),
            };
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    sinter_generic(ctx, &args, 2..end, None, InterMode::Card(limit))
}

/// Key positions of SINTERCARD (numkeys, then the keys).
fn sintercard_keys(args: Args<'_>) -> Vec<usize> {
    if args.len() < 3 {
        return Vec::new();
    }
    match shoal_parse_i64(args.get(1)) {
        Some(n) if n >= 1 && (n as u64) <= args.len() as u64 - 2 => (2..2 + n as usize).collect(),
        _ => Vec::new(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Diff,
}

/// Computes SUNION / SDIFF of `args[keys]` as Redis's `sunionDiffGenericCommand`:
/// the result starts as an empty intset and converts as members are added, and SDIFF
/// picks the same algorithm, so the result has Redis's encoding.
fn union_diff(ctx: &mut Ctx<'_>, args: &Args<'_>, keys: std::ops::Range<usize>, op: SetOp) -> Result<SetValue, CmdError> {
    check_read_keys(ctx, args, keys.clone())?;
    let max = max_intset(ctx);
    let now = ctx.st.ks.now_ms;
    let db = &ctx.st.ks.dbs[ctx.client.db];
    let sets: Vec<Option<&SetValue>> = keys.map(|i| peek_set(db, args.get(i), now)).collect();
    let mut r = SetValue::new_intset();
    match op {
        SetOp::Union => {
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    r.add_member(m, max);
                }
            }
        }
        SetOp::Diff => {
            let Some(first) = sets[0] else { return Ok(r) };
            let mut algo_one = 0u64;
            let mut algo_two = 0u64;
            for s in sets.iter().flatten() {
                algo_one += first.len() as u64;
                algo_two += s.len() as u64;
            }
            algo_one /= 2;
            if algo_one <= algo_two {
                // Algorithm 1: members of the first set that no other set has.
                for m in first.iter() {
                    let excluded = sets[1..].iter().flatten().any(|o| std::ptr::eq(*o, first) || o.contains_member(m));
                    if !excluded {
                        r.add_member(m, max);
                    }
                }
            } else {
                // Algorithm 2: everything from the first set, minus the others.
                for (j, s) in sets.iter().enumerate() {
                    let Some(s) = s else { continue };
                    for m in s.iter() {
                        if j == 0 {
                            r.add_member(m, max);
                        } else {
                            r.remove_member(m);
                        }
                    }
                    if r.is_empty() {
                        break;
                    }
                }
            }
        }
    }
    Ok(r)
}

fn reply_set(out: &mut ReplyBuf, s: &SetValue) {
    out.set(s.len());
    for m in s.iter() {
        reply_member(out, m);
    }
}

/// SUNION key [key ...]
fn sunion(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let r = union_diff(ctx, &args, 1..args.len(), SetOp::Union)?;
    reply_set(ctx.out, &r);
    Ok(())
}

/// SDIFF key [key ...]
fn sdiff(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let r = union_diff(ctx, &args, 1..args.len(), SetOp::Diff)?;
    reply_set(ctx.out, &r);
    Ok(())
}

/// SUNIONSTORE destination key [key ...]
fn sunionstore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let r = union_diff(ctx, &args, 2..args.len(), SetOp::Union)?;
    store_result(ctx, args.get(1), r, "sunionstore");
    Ok(())
}

/// SDIFFSTORE destination key [key ...]
fn sdiffstore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let r = union_diff(ctx, &args, 2..args.len(), SetOp::Diff)?;
    store_result(ctx, args.get(1), r, "sdiffstore");
    Ok(())
}

/// SPOP key [count]
fn spop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() == 3 {
        return spop_count(ctx, args);
    }
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let key = args.get(1);
    let now = ctx.st.ks.now_ms;
    let ks = &mut ctx.st.ks;
    let db = &mut ks.dbs[ctx.client.db];
    let Some(s) = write_lookup(db, key, now)? else {
        ctx.out.null();
        return Ok(());
    };
    let m = s.pop_random(&mut ks.rng);
    let emptied = s.is_empty();
    match &m {
        Some(m) => reply_member(ctx.out, m.as_member()),
        None => ctx.out.null(),
    }
    if emptied {
        db.remove(key);
    } else {
        db.touch(key);
    }
    ctx.notify(b's', "spop", key);
    if emptied {
        ctx.notify(b'g', "del", key);
    }
    ctx.dirty(1);
    Ok(())
}

/// SPOP key count
fn spop_count(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    // getPositiveLongFromObjectOrReply: one message for non-integers and negatives.
    let count = match shoal_parse_i64(args.get(2)) {
        Some(l) if l >= 0 => l as u64,
        _ => return Err(CmdError::err("value is out of range, must be positive")),
    };
    let key = args.get(1);
    let max = max_intset(ctx);
    let now = ctx.st.ks.now_ms;
    let size = match write_lookup(&mut ctx.st.ks.dbs[ctx.client.db], key, now)? {
        None => {
            ctx.out.set(0);
            return Ok(());
        }
        Some(s) => s.len() as u64,
    };
    if count == 0 {
        ctx.out.set(0);
        return Ok(());
    }
    ctx.notify(b's', "spop", key);
    ctx.dirty(count.min(size));

    // CASE 1: the whole set, answered as SUNION of the one key, then deleted.
    if count >= size {
        let mut whole = SetValue::new_intset();
        if let Some(s) = write_lookup(&mut ctx.st.ks.dbs[ctx.client.db], key, now)? {
            for m in s.iter() {
                whole.add_member(m, max);
            }
        }
        reply_set(ctx.out, &whole);
        ctx.db().remove(key);
        ctx.notify(b'g', "del", key);
        return Ok(());
    }

    let ks = &mut ctx.st.ks;
    let db = &mut ks.dbs[ctx.client.db];
    let rng = &mut ks.rng;
    let out = &mut *ctx.out;
    out.set(count as usize);
    let remaining = size - count;
    if let Some(s) = write_lookup(db, key, now)? {
        if remaining * 5 > count {
            // CASE 2: pop random members one by one.
            for _ in 0..count {
                if let Some(m) = s.pop_random(rng) {
                    reply_member(out, m.as_member());
                }
            }
        } else {
            // CASE 3: move the members that stay to a new set, return the old one.
            let mut kept: Option<SetValue> = None;
            for _ in 0..remaining {
                if let Some(m) = s.pop_random(rng) {
                    let k = kept.get_or_insert_with(|| match &m {
                        OwnedMember::Int(_) => SetValue::new_intset(),
                        OwnedMember::Str(b) => SetValue::new_for(b.as_bytes()),
                    });
                    k.add_member(m.as_member(), max);
                }
            }
            let old = std::mem::replace(s, kept.unwrap_or_default());
            for m in old.iter() {
                reply_member(out, m);
            }
        }
    }
    db.touch(key);
    Ok(())
}

/// SRANDMEMBER key [count]
fn srandmember(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() == 3 {
        return srandmember_count(ctx, args);
    }
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let now = ctx.st.ks.now_ms;
    let stats = &ctx.shared.stats;
    let ks = &mut ctx.st.ks;
    let out = &mut *ctx.out;
    match ks.dbs[ctx.client.db].get(args.get(1), now) {
        None => {
            stats.keyspace_misses.fetch_add(1, Ordering::Relaxed);
            out.null();
        }
        Some(Value::Set(s)) => {
            stats.keyspace_hits.fetch_add(1, Ordering::Relaxed);
            match s.random(&mut ks.rng) {
                Some(m) => reply_member(out, m),
                None => out.null(),
            }
        }
        Some(_) => {
            stats.keyspace_hits.fetch_add(1, Ordering::Relaxed);
            return Err(CmdError::WrongType);
        }
    }
    Ok(())
}

/// SRANDMEMBER key count: distinct members for a positive count, independent picks
/// (repetitions allowed) for a negative one.
fn srandmember_count(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let l = parse_i64(args.get(2))?;
    if l == i64::MIN {
        return Err(CmdError::err("value is out of range, value must between -9223372036854775807 and 9223372036854775807"));
    }
    let (uniq, count) = (l >= 0, l.unsigned_abs());
    let now = ctx.st.ks.now_ms;
    let stats = &ctx.shared.stats;
    let ks = &mut ctx.st.ks;
    let out = &mut *ctx.out;
    let s = match ks.dbs[ctx.client.db].get(args.get(1), now) {
        None => {
            stats.keyspace_misses.fetch_add(1, Ordering::Relaxed);
            out.array(0);
            return Ok(());
        }
        Some(Value::Set(s)) => {
            stats.keyspace_hits.fetch_add(1, Ordering::Relaxed);
            &**s
        }
        Some(_) => {
            stats.keyspace_hits.fetch_add(1, Ordering::Relaxed);
            return Err(CmdError::WrongType);
        }
    };
    let rng = &mut ks.rng;
    let size = s.len() as u64;
    if count == 0 || size == 0 {
        out.array(0);
        return Ok(());
    }
    // CASE 1: independent picks.
    if !uniq || count == 1 {
        out.array(count as usize);
        for _ in 0..count {
            if let Some(m) = s.random(rng) {
                reply_member(out, m);
            }
        }
        return Ok(());
    }
    // CASE 2: the whole set, in its own order.
    if count >= size {
        out.array(size as usize);
        for m in s.iter() {
            reply_member(out, m);
        }
        return Ok(());
    }
    out.array(count as usize);
    // CASE 3: a large share of the set: choose from a full copy.
    if count * 3 > size {
        let mut all: Vec<Member<'_>> = s.iter().collect();
        for i in 0..count as usize {
            let j = rand::Rng::gen_range(rng, i..all.len());
            all.swap(i, j);
            reply_member(out, all[i]);
        }
        return Ok(());
    }
    // CASE 4: few of many: random picks until enough distinct members.
    let mut seen: hashbrown::HashSet<Member<'_>> = hashbrown::HashSet::with_capacity(count as usize);
    while (seen.len() as u64) < count {
        if let Some(m) = s.random(rng) {
            if seen.insert(m) {
                reply_member(out, m);
            }
        }
    }
    Ok(())
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
fn sscan(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let cursor = crate::util::parse_scan_cursor(args.get(2)).ok_or_else(|| CmdError::err("invalid cursor"))?;
    let (s, out) = read(ctx, args.get(1))?;
    let Some(s) = s else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let (count, pat) = crate::util::parse_scan_opts(args, 3)?;
    let mut items: Vec<Member<'_>> = Vec::new();
    let next = s.scan(cursor, count as usize, |m| items.push(m));
    if let Some(p) = pat {
        items.retain(|m| m.with_bytes(|b| glob_match(p, b, false)));
    }
    out.array(2);
    let mut buf = [0u8; 20];
    let mut n = next;
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.bulk(&buf[at..]);
    out.array(items.len());
    for m in items {
        reply_member(out, m);
    }
    Ok(())
}

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Add one or more members to a set",
        since: "1.0.0",
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        ..CommandDef::new("sadd", -3, WRITE | DENYOOM | FAST, (1, 1, 1), "set", sadd)
    },
    CommandDef {
        summary: "Remove one or more members from a set",
        since: "1.0.0",
        complexity: "O(N) where N is the number of members to be removed.",
        ..CommandDef::new("srem", -3, WRITE | FAST, (1, 1, 1), "set", srem)
    },
    CommandDef {
        summary: "Move a member from one set to another",
        since: "1.0.0",
        complexity: "O(1)",
        ..CommandDef::new("smove", 4, WRITE | FAST, (1, 2, 1), "set", smove)
    },
    CommandDef {
        summary: "Determine if a given value is a member of a set",
        since: "1.0.0",
        complexity: "O(1)",
        ..CommandDef::new("sismember", 3, READONLY | FAST, (1, 1, 1), "set", sismember)
    },
    CommandDef {
        summary: "Returns the membership associated with the given elements for a set",
        since: "6.2.0",
        complexity: "O(N) where N is the number of elements being checked for membership",
        ..CommandDef::new("smismember", -3, READONLY | FAST, (1, 1, 1), "set", smismember)
    },
    CommandDef {
        summary: "Get the number of members in a set",
        since: "1.0.0",
        complexity: "O(1)",
        ..CommandDef::new("scard", 2, READONLY | FAST, (1, 1, 1), "set", scard)
    },
    CommandDef {
        summary: "Remove and return one or multiple random members from a set",
        since: "1.0.0",
        complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
        ..CommandDef::new("spop", -2, WRITE | FAST, (1, 1, 1), "set", spop)
    },
    CommandDef {
        summary: "Get one or multiple random members from a set",
        since: "1.0.0",
        complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
        ..CommandDef::new("srandmember", -2, READONLY, (1, 1, 1), "set", srandmember)
    },
    CommandDef {
        summary: "Intersect multiple sets",
        since: "1.0.0",
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        ..CommandDef::new("sinter", -2, READONLY, (1, -1, 1), "set", sinter)
    },
    CommandDef {
        summary: "Intersect multiple sets and return the cardinality of the result",
        since: "7.0.0",
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        keys: Some(sintercard_keys),
        ..CommandDef::new("sintercard", -3, READONLY | MOVABLE_KEYS, (0, 0, 0), "set", sintercard)
    },
    CommandDef {
        summary: "Intersect multiple sets and store the resulting set in a key",
        since: "1.0.0",
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        ..CommandDef::new("sinterstore", -3, WRITE | DENYOOM, (1, -1, 1), "set", sinterstore)
    },
    CommandDef {
        summary: "Add multiple sets",
        since: "1.0.0",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        ..CommandDef::new("sunion", -2, READONLY, (1, -1, 1), "set", sunion)
    },
    CommandDef {
        summary: "Add multiple sets and store the resulting set in a key",
        since: "1.0.0",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        ..CommandDef::new("sunionstore", -3, WRITE | DENYOOM, (1, -1, 1), "set", sunionstore)
    },
    CommandDef {
        summary: "Subtract multiple sets",
        since: "1.0.0",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        ..CommandDef::new("sdiff", -2, READONLY, (1, -1, 1), "set", sdiff)
    },
    CommandDef {
        summary: "Subtract multiple sets and store the resulting set in a key",
        since: "1.0.0",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        ..CommandDef::new("sdiffstore", -3, WRITE | DENYOOM, (1, -1, 1), "set", sdiffstore)
    },
    CommandDef {
        summary: "Get all the members in a set",
        since: "1.0.0",
        complexity: "O(N) where N is the set cardinality.",
        ..CommandDef::new("smembers", 2, READONLY, (1, 1, 1), "set", smembers)
    },
    CommandDef {
        summary: "Incrementally iterate Set elements",
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        ..CommandDef::new("sscan", -3, READONLY, (1, 1, 1), "set", sscan)
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_like_strtoul() {
        assert_eq!(crate::util::parse_scan_cursor(b""), Some(0));
        assert_eq!(crate::util::parse_scan_cursor(b"+7"), Some(7));
        assert_eq!(crate::util::parse_scan_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(crate::util::parse_scan_cursor(b"18446744073709551616"), None);
        assert_eq!(crate::util::parse_scan_cursor(b" 1"), None);
        assert_eq!(crate::util::parse_scan_cursor(b"x"), None);
    }

    #[test]
    fn sintercard_key_positions() {
        let parts: Vec<&[u8]> = vec![b"sintercard", b"2", b"a", b"b", b"limit", b"1"];
        let o = shoal_resp::OwnedArgs::from_slices(&parts);
        assert_eq!(sintercard_keys(o.args()), vec![2, 3]);
        let parts: Vec<&[u8]> = vec![b"sintercard", b"3", b"a", b"b"];
        let o = shoal_resp::OwnedArgs::from_slices(&parts);
        assert!(sintercard_keys(o.args()).is_empty());
    }
}
