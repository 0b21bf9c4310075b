//! Family: sorted sets (ZADD and friends, ranges, pops, ZUNION/ZINTER/ZDIFF, ZSCAN), as
//! Redis 7.0's `t_zset.c`. The two encodings live in `shoal_keyspace::value::zset`.
//!
//! Conventions, as Redis: reads count keyspace hits/misses; a write that changes
//! nothing neither signals WATCH nor counts as dirty; a zset left empty is deleted, and
//! a *STORE with an empty result deletes its destination.
//!
//! The pop logic ([`zpop_generic`], [`zpop_key`], [`parse_zmpop`]) is public so the
//! blocking variants (BZPOPMIN, BZPOPMAX, BZMPOP) can reuse it.

use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::table::{flags::*, CommandDef};
use crate::util::{eq_ic, parse_i64};
use shoal_keyspace::glob::glob_match;
use shoal_keyspace::value::set::Member;
use shoal_keyspace::value::zset::{AddFlags, AddOutcome, LexBound, LexRange, ScoreRange, ZSetLimits};
use shoal_keyspace::value::{SetValue, ZSetValue};
use shoal_keyspace::Value;
use shoal_resp::{Args, ReplyBuf};
use std::borrow::Cow;
use std::sync::atomic::Ordering;

/// The listpack thresholds from the configuration.
fn limits(ctx: &Ctx<'_>) -> ZSetLimits {
    let h = &ctx.shared.hot;
    let entries = h.zset_max_listpack_entries.load(std::sync::atomic::Ordering::Relaxed);
    let value = h.zset_max_listpack_value.load(std::sync::atomic::Ordering::Relaxed);
    ZSetLimits { max_listpack_entries: entries.max(0) as usize, max_listpack_value: value.max(0) as usize }
}

/// Read lookup (`lookupKeyRead` + `checkType`): the zset at `key` (None when absent),
/// with the reply buffer, counting a keyspace hit or miss.
fn read<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<(Option<&'c ZSetValue>, &'c mut ReplyBuf), CmdError> {
    match ctx.read_value(key) {
        (None, out) => Ok((None, out)),
        (Some(Value::ZSet(z)), out) => Ok((Some(&**z), out)),
        (Some(_), _) => Err(CmdError::WrongType),
    }
}

/// Write-side type check without signalling WATCH: Ok(None) when absent.
fn peek_write<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c ZSetValue>, CmdError> {
    let now = ctx.st.ks.now_ms;
    match ctx.st.ks.dbs[ctx.client.db].get(key, now) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(&**z)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The zset at `key` for writing, without signalling WATCH (callers touch the key once
/// they changed it). The caller has checked the type.
fn get_mut_untracked<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Option<&'c mut ZSetValue> {
    let now = ctx.st.ks.now_ms;
    match ctx.st.ks.dbs[ctx.client.db].get_mut_untracked(key, now) {
        Some(Value::ZSet(z)) => Some(&mut **z),
        _ => None,
    }
}

// ----------------------------------------------------------------------------------
// Number parsing

#[inline]
fn c_isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// C's `strtod` on the whole of `s`: None unless every byte is consumed. Returns the
/// value and whether `errno` would be ERANGE (overflow to infinity, underflow to 0).
fn strtod_full(s: &[u8]) -> Option<(f64, bool)> {
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let sign = if neg { -1.0 } else { 1.0 };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some((sign * f64::INFINITY, false));
    }
    if body.len() >= 3 && body[..3].eq_ignore_ascii_case(b"nan") {
        let rest = &body[3..];
        let ok = rest.is_empty()
            || (rest.len() >= 2
                && rest[0] == b'('
                && rest[rest.len() - 1] == b')'
                && rest[1..rest.len() - 1].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_'));
        return ok.then_some((f64::NAN, false));
    }
    if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        let h = &body[2..];
        if h[0].is_ascii_hexdigit() || (h[0] == b'.' && h.get(1).is_some_and(|c| c.is_ascii_hexdigit())) {
            return parse_hex_float(h).map(|(v, e)| (sign * v, e));
        }
        return None;
    }
    // Decimal: digits [. digits] [(e|E) [sign] digits], at least one mantissa digit.
    let mut i = 0;
    let mut digits = 0;
    let mut nonzero = false;
    while i < body.len() && body[i].is_ascii_digit() {
        nonzero |= body[i] != b'0';
        i += 1;
        digits += 1;
    }
    if i < body.len() && body[i] == b'.' {
        i += 1;
        while i < body.len() && body[i].is_ascii_digit() {
            nonzero |= body[i] != b'0';
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < body.len() && (body[i] | 0x20) == b'e' {
        let mut j = i + 1;
        if j < body.len() && (body[j] == b'+' || body[j] == b'-') {
            j += 1;
        }
        let st = j;
        while j < body.len() && body[j].is_ascii_digit() {
            j += 1;
        }
        if j == st {
            return None; // "1e": strtod stops before the 'e'
        }
        i = j;
    }
    if i != body.len() {
        return None;
    }
    let v: f64 = std::str::from_utf8(body).ok()?.parse().ok()?;
    let erange = v.is_infinite() || (v == 0.0 && nonzero);
    Some((sign * v, erange))
}

/// The part of a hexadecimal float after "0x": hex digits, optional '.', optional
/// binary exponent `p[sign]digits`.
fn parse_hex_float(h: &[u8]) -> Option<(f64, bool)> {
    let mut i = 0;
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut nonzero = false;
    let mut seen_dot = false;
    while i < h.len() {
        let c = h[i];
        if c == b'.' && !seen_dot {
            seen_dot = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            nonzero |= d != 0;
            if mant >> 56 == 0 {
                mant = mant * 16 + d as u64;
                if seen_dot {
                    exp -= 4;
                }
            } else if !seen_dot {
                exp += 4;
            }
        } else {
            break;
        }
        i += 1;
    }
    if i < h.len() && (h[i] | 0x20) == b'p' {
        let mut j = i + 1;
        let mut eneg = false;
        if j < h.len() && (h[j] == b'+' || h[j] == b'-') {
            eneg = h[j] == b'-';
            j += 1;
        }
        let st = j;
        let mut e: i64 = 0;
        while j < h.len() && h[j].is_ascii_digit() {
            e = (e * 10 + (h[j] - b'0') as i64).min(100_000);
            j += 1;
        }
        if j == st {
            return None;
        }
        exp += if eneg { -e } else { e };
        i = j;
    }
    if i != h.len() {
        return None;
    }
    let mut v = mant as f64;
    let mut e = exp;
    while e > 0 {
        let step = e.min(1000);
        v *= 2f64.powi(step as i32);
        e -= step;
    }
    while e < 0 {
        let step = (-e).min(1000);
        v /= 2f64.powi(step as i32);
        e += step;
    }
    let erange = v.is_infinite() || (v == 0.0 && nonzero);
    Some((v, erange))
}

/// A double as Redis's `getDoubleFromObject` reads it: strtod on the whole string
/// (hexadecimal included), no leading space, no overflow or underflow to zero, not NaN.
fn parse_double_arg(b: &[u8]) -> Option<f64> {
    if b.is_empty() || c_isspace(b[0]) {
        return None;
    }
    let (v, erange) = strtod_full(b)?;
    if v.is_nan() || (erange && (v.is_infinite() || v == 0.0)) {
        return None;
    }
    Some(v)
}

fn parse_score(b: &[u8]) -> Result<f64, CmdError> {
    parse_double_arg(b).ok_or(CmdError::NotFloat)
}

/// One end of a score range as `zslParseRange` reads it (plain strtod up to a NUL:
/// leading space, overflow and the empty string are accepted).
fn parse_bound(b: &[u8]) -> Option<f64> {
    let b = match b.iter().position(|&c| c == 0) {
        Some(p) => &b[..p],
        None => b,
    };
    if b.is_empty() {
        return Some(0.0);
    }
    let t = &b[b.iter().position(|&c| !c_isspace(c))?..];
    let (v, _) = strtod_full(t)?;
    (!v.is_nan()).then_some(v)
}

fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    let e = || CmdError::err("min or max is not a float");
    let (minex, min) = if min.first() == Some(&b'(') { (true, &min[1..]) } else { (false, min) };
    let (maxex, max) = if max.first() == Some(&b'(') { (true, &max[1..]) } else { (false, max) };
    Ok(ScoreRange { min: parse_bound(min).ok_or_else(e)?, max: parse_bound(max).ok_or_else(e)?, minex, maxex })
}

fn parse_lex_item(b: &[u8]) -> Option<LexBound<'_>> {
    match b.first() {
        Some(b'+') if b.len() == 1 || b[1] == 0 => Some(LexBound::PosInf),
        Some(b'-') if b.len() == 1 || b[1] == 0 => Some(LexBound::NegInf),
        Some(b'(') => Some(LexBound::Excl(&b[1..])),
        Some(b'[') => Some(LexBound::Incl(&b[1..])),
        _ => None,
    }
}

fn parse_lex_range<'a>(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, CmdError> {
    let e = || CmdError::err("min or max not valid string range item");
    Ok(LexRange { min: parse_lex_item(min).ok_or_else(e)?, max: parse_lex_item(max).ok_or_else(e)? })
}

/// A non-negative count (`getPositiveLongFromObjectOrReply`).
fn parse_positive(b: &[u8]) -> Result<i64, CmdError> {
    match shoal_keyspace::value::shoal_parse_i64(b) {
        Some(v) if v >= 0 => Ok(v),
        _ => Err(CmdError::err("value is out of range, must be positive")),
    }
}

/// An integer in 1..=i64::MAX, `msg` for anything else (`getRangeLongFromObjectOrReply`
/// with a message).
fn parse_at_least_one(b: &[u8], msg: &str) -> Result<i64, CmdError> {
    match shoal_keyspace::value::shoal_parse_i64(b) {
        Some(v) if v >= 1 => Ok(v),
        _ => Err(CmdError::err(msg)),
    }
}

// ----------------------------------------------------------------------------------
// Replies

/// One element of a range reply: member, or member and score (a 2-element array in
/// RESP3).
#[inline]
fn emit(out: &mut ReplyBuf, m: &[u8], s: f64, withscores: bool) {
    if withscores && out.resp3 {
        out.array(2);
    }
    out.bulk(m);
    if withscores {
        out.double(s);
    }
}

#[inline]
fn range_header(out: &mut ReplyBuf, n: usize, withscores: bool) {
    out.array(if withscores && !out.resp3 { n * 2 } else { n });
}

// ----------------------------------------------------------------------------------
// ZADD / ZINCRBY / ZREM / reads

fn zadd_generic(ctx: &mut Ctx<'_>, args: Args<'_>, zincrby: bool) -> CmdResult {
    let key = args.get(1);
    let mut f = AddFlags { incr: zincrby, ..Default::default() };
    let mut ch = false;
    let mut i = 2;
    if !zincrby {
        while i < args.len() {
            let o = args.get(i);
            if eq_ic(o, "nx") {
                f.nx = true;
            } else if eq_ic(o, "xx") {
                f.xx = true;
            } else if eq_ic(o, "ch") {
                ch = true;
            } else if eq_ic(o, "incr") {
                f.incr = true;
            } else if eq_ic(o, "gt") {
                f.gt = true;
            } else if eq_ic(o, "lt") {
                f.lt = true;
            } else {
                break;
            }
            i += 1;
        }
    }
    let n = args.len() - i;
    if n % 2 == 1 || n == 0 {
        return Err(CmdError::Syntax);
    }
    if f.nx && f.xx {
        return Err(CmdError::err("XX and NX options at the same time are not compatible"));
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(CmdError::err("GT, LT, and/or NX options at the same time are not compatible"));
    }
    if f.incr && n > 2 {
        return Err(CmdError::err("INCR option supports a single increment-element pair"));
    }
    for j in (i..args.len()).step_by(2) {
        parse_score(args.get(j))?;
    }
    let exists = peek_write(ctx, key)?.is_some();
    if !exists && f.xx {
        if f.incr {
            ctx.out.null();
        } else {
            ctx.out.int(0);
        }
        return Ok(());
    }
    let lim = limits(ctx);
    if !exists {
        let z = ZSetValue::new_for(args.get(i + 1).len(), &lim);
        ctx.db().set(key, Value::ZSet(Box::new(z)), false);
    }
    let Some(z) = get_mut_untracked(ctx, key) else { return Err(CmdError::WrongType) };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut score = 0.0;
    for j in (i..args.len()).step_by(2) {
        let s = parse_score(args.get(j))?;
        match z.add(s, args.get(j + 1), f, &lim) {
            AddOutcome::Nan => return Err(CmdError::err("resulting score is not a number (NaN)")),
            AddOutcome::Added(x) => {
                added += 1;
                processed += 1;
                score = x;
            }
            AddOutcome::Updated(x) => {
                updated += 1;
                processed += 1;
                score = x;
            }
            AddOutcome::Same(x) => {
                processed += 1;
                score = x;
            }
            AddOutcome::Nop => {}
        }
    }
    if added + updated > 0 {
        if exists {
            ctx.db().touch(key);
        }
        ctx.notify(b'z', if f.incr { "zincr" } else { "zadd" }, key);
        ctx.dirty((added + updated) as u64);
    }
    if f.incr {
        if processed > 0 {
            ctx.out.double(score);
        } else {
            ctx.out.null();
        }
    } else {
        ctx.out.int(if ch { added + updated } else { added });
    }
    Ok(())
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
fn zadd(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zadd_generic(ctx, args, false)
}

/// ZINCRBY key increment member
fn zincrby(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zadd_generic(ctx, args, true)
}

/// Deletes `key` when its zset became empty; returns true when it did.
fn delete_if_empty(ctx: &mut Ctx<'_>, key: &[u8]) -> bool {
    let now = ctx.now();
    let empty = matches!(ctx.db().get(key, now), Some(Value::ZSet(z)) if z.is_empty());
    if empty {
        ctx.db().remove(key);
    }
    empty
}

/// ZREM key member [member ...]
fn zrem(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    if peek_write(ctx, key)?.is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    let Some(z) = get_mut_untracked(ctx, key) else { return Err(CmdError::WrongType) };
    let mut deleted = 0i64;
    for i in 2..args.len() {
        if z.remove(args.get(i)) {
            deleted += 1;
            if z.is_empty() {
                break;
            }
        }
    }
    if deleted > 0 {
        ctx.db().touch(key);
        let removed = delete_if_empty(ctx, key);
        ctx.notify(b'z', "zrem", key);
        if removed {
            ctx.notify(b'g', "del", key);
        }
        ctx.dirty(deleted as u64);
    }
    ctx.out.int(deleted);
    Ok(())
}

/// ZCARD key
fn zcard(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (z, out) = read(ctx, args.get(1))?;
    out.int(z.map_or(0, |z| z.len()) as i64);
    Ok(())
}

/// ZSCORE key member
fn zscore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (z, out) = read(ctx, args.get(1))?;
    match z.and_then(|z| z.score(args.get(2))) {
        Some(s) => out.double(s),
        None => out.null(),
    }
    Ok(())
}

/// ZMSCORE key member [member ...]
fn zmscore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (z, out) = read(ctx, args.get(1))?;
    out.array(args.len() - 2);
    for i in 2..args.len() {
        match z.and_then(|z| z.score(args.get(i))) {
            Some(s) => out.double(s),
            None => out.null(),
        }
    }
    Ok(())
}

fn zrank_generic(ctx: &mut Ctx<'_>, args: Args<'_>, rev: bool) -> CmdResult {
    let (z, out) = read(ctx, args.get(1))?;
    match z.and_then(|z| z.rank(args.get(2), rev)) {
        Some(r) => out.int(r as i64),
        None => out.null(),
    }
    Ok(())
}

/// ZRANK key member
fn zrank(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zrank_generic(ctx, args, false)
}

/// ZREVRANK key member
fn zrevrank(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zrank_generic(ctx, args, true)
}

/// ZCOUNT key min max
fn zcount(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let r = parse_score_range(args.get(2), args.get(3))?;
    let (z, out) = read(ctx, args.get(1))?;
    out.int(z.map_or(0, |z| {
        let (lo, hi) = z.score_bounds(&r);
        hi - lo
    }) as i64);
    Ok(())
}

/// ZLEXCOUNT key min max
fn zlexcount(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let r = parse_lex_range(args.get(2), args.get(3))?;
    let (z, out) = read(ctx, args.get(1))?;
    out.int(z.map_or(0, |z| {
        let (lo, hi) = z.lex_bounds(&r, false);
        hi - lo
    }) as i64);
    Ok(())
}

// ----------------------------------------------------------------------------------
// Ranges

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

/// Ranks `[lo, hi)` of a rank range (`start`/`end` inclusive, negative from the end),
/// counted from the highest score when `rev`, returned as ranks in ascending order.
fn rank_bounds(start: i64, end: i64, len: usize, rev: bool) -> (usize, usize) {
    let llen = len as i64;
    let mut start = if start < 0 { llen.saturating_add(start) } else { start };
    let mut end = if end < 0 { llen.saturating_add(end) } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return (0, 0);
    }
    if end >= llen {
        end = llen - 1;
    }
    if rev {
        ((llen - 1 - end) as usize, (llen - start) as usize)
    } else {
        (start as usize, end as usize + 1)
    }
}

/// Applies LIMIT offset count to the ranks `[lo, hi)` walked in direction `rev`
/// (a negative offset skips everything, a negative count means no limit, as Redis).
fn apply_limit(lo: usize, hi: usize, rev: bool, offset: i64, limit: i64) -> (usize, usize) {
    if offset < 0 || lo >= hi {
        return (0, 0);
    }
    let n = hi - lo;
    if offset as u64 >= n as u64 {
        return (0, 0);
    }
    let off = offset as usize;
    let avail = n - off;
    let take = if limit < 0 { avail } else { avail.min(limit as u64 as usize) };
    if rev {
        (hi - off - take, hi - off)
    } else {
        (lo + off, lo + off + take)
    }
}

enum Spec<'a> {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange<'a>),
}

/// Redis's `zrangeGenericCommand`: ZRANGE, ZRANGESTORE and the legacy range commands.
/// `start` is the index of the source key; `dst` is ZRANGESTORE's destination.
fn zrange_generic(
    ctx: &mut Ctx<'_>,
    args: Args<'_>,
    start: usize,
    dst: Option<&[u8]>,
    mut rtype: RangeType,
    mut rev: Option<bool>,
) -> CmdResult {
    let key = args.get(start);
    let store = dst.is_some();
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = start + 3;
    while j < args.len() {
        let a = args.get(j);
        let left = args.len() - j - 1;
        if !store && eq_ic(a, "withscores") {
            withscores = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            offset = parse_i64(args.get(j + 1))?;
            limit = parse_i64(args.get(j + 2))?;
            j += 2;
        } else if rev.is_none() && eq_ic(a, "rev") {
            rev = Some(true);
        } else if rtype == RangeType::Auto && eq_ic(a, "bylex") {
            rtype = RangeType::Lex;
        } else if rtype == RangeType::Auto && eq_ic(a, "byscore") {
            rtype = RangeType::Score;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if rtype == RangeType::Auto {
        rtype = RangeType::Rank;
    }
    if limit != -1 && rtype == RangeType::Rank {
        return Err(CmdError::err("syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"));
    }
    if withscores && rtype == RangeType::Lex {
        return Err(CmdError::err("syntax error, WITHSCORES not supported in combination with BYLEX"));
    }
    let (mut mini, mut maxi) = (start + 1, start + 2);
    if rev && rtype != RangeType::Rank {
        std::mem::swap(&mut mini, &mut maxi);
    }
    let spec = match rtype {
        RangeType::Score => Spec::Score(parse_score_range(args.get(mini), args.get(maxi))?),
        RangeType::Lex => Spec::Lex(parse_lex_range(args.get(mini), args.get(maxi))?),
        _ => Spec::Rank(parse_i64(args.get(mini))?, parse_i64(args.get(maxi))?),
    };
    let (z, out) = read(ctx, key)?;
    let (lo, hi) = match z {
        None => (0, 0),
        Some(z) => match &spec {
            Spec::Rank(a, b) => rank_bounds(*a, *b, z.len(), rev),
            Spec::Score(r) => {
                let (lo, hi) = z.score_bounds(r);
                apply_limit(lo, hi, rev, offset, limit)
            }
            Spec::Lex(r) => {
                let (lo, hi) = z.lex_walk_bounds(r, rev);
                apply_limit(lo, hi, rev, offset, limit)
            }
        },
    };
    let Some(dst) = dst else {
        range_header(out, hi - lo, withscores);
        if let Some(z) = z {
            z.walk(lo, hi, rev, |m, s| emit(out, m, s, withscores));
        }
        return Ok(());
    };
    // ZRANGESTORE: the destination gets the range (its order is the zset's own). As
    // Redis adds the members one by one to a new listpack zset, it ends up a skiplist
    // exactly when a member or the count exceeds the listpack limits.
    let mut items: Vec<(Vec<u8>, f64)> = Vec::with_capacity(hi - lo);
    if let Some(z) = z {
        z.walk(lo, hi, false, |m, s| items.push((m.to_vec(), s)));
    }
    store_result(ctx, dst, items, None, "zrangestore");
    Ok(())
}

/// Stores a sorted result at `dst` (deleting `dst` when empty) and replies with its
/// size. `maxelelen` overrides the longest member used for the encoding choice.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], items: Vec<(Vec<u8>, f64)>, maxelelen: Option<usize>, event: &str) {
    let n = items.len();
    if n == 0 {
        ctx.out.int(0);
        if ctx.db().remove(dst).is_some() {
            ctx.notify(b'g', "del", dst);
            ctx.dirty(1);
        }
        return;
    }
    let lim = limits(ctx);
    let maxlen = maxelelen.unwrap_or_else(|| items.iter().map(|(m, _)| m.len()).max().unwrap_or(0));
    let lp = n <= lim.max_listpack_entries && maxlen <= lim.max_listpack_value;
    let z = ZSetValue::from_sorted(&items, lp);
    let now = ctx.now();
    let db = ctx.db();
    if db.expires_len() > 0 {
        // setKey's lookupKeyWrite: an expired destination expires first (its event).
        db.get(dst, now);
    }
    db.set(dst, Value::ZSet(Box::new(z)), false);
    ctx.out.int(n as i64);
    ctx.notify(b'z', event, dst);
    ctx.dirty(1);
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn zrange(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Auto, None)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
fn zrangestore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zrange_generic(ctx, args, 2, Some(args.get(1)), RangeType::Auto, None)
}

/// ZREVRANGE key start stop [WITHSCORES]
fn zrevrange(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Rank, Some(true))
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
fn zrangebyscore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Score, Some(false))
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Score, Some(true))
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
fn zrangebylex(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Lex, Some(false))
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
fn zrevrangebylex(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Lex, Some(true))
}

/// ZREMRANGEBYRANK / ZREMRANGEBYSCORE / ZREMRANGEBYLEX key min max
fn zremrange_generic(ctx: &mut Ctx<'_>, args: Args<'_>, rtype: RangeType) -> CmdResult {
    let key = args.get(1);
    let (a, b) = (args.get(2), args.get(3));
    let spec = match rtype {
        RangeType::Score => Spec::Score(parse_score_range(a, b)?),
        RangeType::Lex => Spec::Lex(parse_lex_range(a, b)?),
        _ => Spec::Rank(parse_i64(a)?, parse_i64(b)?),
    };
    let Some(z) = peek_write(ctx, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let (lo, hi) = match &spec {
        Spec::Rank(s, e) => rank_bounds(*s, *e, z.len(), false),
        Spec::Score(r) => z.score_bounds(r),
        Spec::Lex(r) => z.lex_walk_bounds(r, false),
    };
    let deleted = if lo < hi { get_mut_untracked(ctx, key).map_or(0, |z| z.remove_ranks(lo, hi)) } else { 0 };
    if deleted > 0 {
        ctx.db().touch(key);
        let removed = delete_if_empty(ctx, key);
        let ev = match rtype {
            RangeType::Score => "zremrangebyscore",
            RangeType::Lex => "zremrangebylex",
            _ => "zremrangebyrank",
        };
        ctx.notify(b'z', ev, key);
        if removed {
            ctx.notify(b'g', "del", key);
        }
        ctx.dirty(deleted as u64);
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

/// ZREMRANGEBYRANK key start stop
fn zremrangebyrank(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zremrange_generic(ctx, args, RangeType::Rank)
}

/// ZREMRANGEBYSCORE key min max
fn zremrangebyscore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zremrange_generic(ctx, args, RangeType::Score)
}

/// ZREMRANGEBYLEX key min max
fn zremrangebylex(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zremrange_generic(ctx, args, RangeType::Lex)
}

// ----------------------------------------------------------------------------------
// Pops

/// Pops up to `count` members from the zset at `key` (which must hold a non-empty
/// zset), writing the reply in Redis's `genericZpopCommand` shapes: `emitkey` prefixes
/// the key (BZPOPMIN, ZMPOP), `nested` writes each member and score as a 2-element
/// array (ZMPOP always; ZPOPMIN with COUNT in RESP3). Deletes the key when emptied,
/// fires the events, signals WATCH and counts the changes. Returns how many it popped.
pub fn zpop_key(ctx: &mut Ctx<'_>, key: &[u8], max: bool, count: usize, emitkey: bool, nested: bool) -> usize {
    let now = ctx.st.ks.now_ms;
    let out = &mut *ctx.out;
    let Some(Value::ZSet(z)) = ctx.st.ks.dbs[ctx.client.db].get_mut_untracked(key, now) else { return 0 };
    let n = count.min(z.len());
    match (emitkey, nested) {
        (false, false) => out.array(n * 2),
        (false, true) => out.array(n),
        (true, false) => {
            out.array(n * 2 + 1);
            out.bulk(key);
        }
        (true, true) => {
            out.array(2);
            out.bulk(key);
            out.array(n);
        }
    }
    for _ in 0..n {
        let Some((m, s)) = z.pop(max) else { break };
        if nested {
            out.array(2);
        }
        out.bulk(m.as_bytes());
        out.double(s);
    }
    ctx.db().touch(key);
    let removed = delete_if_empty(ctx, key);
    ctx.notify(b'z', if max { "zpopmax" } else { "zpopmin" }, key);
    if removed {
        ctx.notify(b'g', "del", key);
    }
    ctx.dirty(n as u64);
    n
}

/// Redis's `genericZpopCommand`: pops from the first of `keys` that exists (WRONGTYPE
/// when that key is not a zset). `count` None is a single pop (COUNT not given). With
/// no key: a null array when `nil_when_empty`, else an empty array.
pub fn zpop_generic(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    max: bool,
    emitkey: bool,
    count: Option<usize>,
    nested: bool,
    nil_when_empty: bool,
) -> CmdResult {
    let mut found = None;
    for &k in keys {
        if peek_write(ctx, k)?.is_some() {
            found = Some(k);
            break;
        }
    }
    let Some(key) = found else {
        if nil_when_empty {
            ctx.out.null_array();
        } else {
            ctx.out.array(0);
        }
        return Ok(());
    };
    if count == Some(0) {
        ctx.out.array(0);
        return Ok(());
    }
    zpop_key(ctx, key, max, count.unwrap_or(1), emitkey, nested);
    Ok(())
}

fn zpop_minmax(ctx: &mut Ctx<'_>, args: Args<'_>, max: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = if args.len() == 3 { Some(parse_positive(args.get(2))? as usize) } else { None };
    let nested = ctx.out.resp3 && count.is_some();
    zpop_generic(ctx, &[args.get(1)], max, false, count, nested, false)
}

/// ZPOPMIN key [count]
fn zpopmin(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zpop_minmax(ctx, args, false)
}

/// ZPOPMAX key [count]
fn zpopmax(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zpop_minmax(ctx, args, true)
}

/// Parses ZMPOP's (and BZMPOP's) arguments from `numkeys_idx`: (numkeys, max, count).
pub fn parse_zmpop(args: Args<'_>, numkeys_idx: usize) -> Result<(usize, bool, Option<usize>), CmdError> {
    let numkeys = parse_at_least_one(args.get(numkeys_idx), "numkeys should be greater than 0")? as u64;
    let where_idx = (numkeys_idx as u64).saturating_add(numkeys).saturating_add(1);
    if where_idx >= args.len() as u64 {
        return Err(CmdError::Syntax);
    }
    let where_idx = where_idx as usize;
    let w = args.get(where_idx);
    let max = if eq_ic(w, "min") {
        false
    } else if eq_ic(w, "max") {
        true
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && eq_ic(args.get(j), "count") && j + 1 < args.len() {
            count = Some(parse_at_least_one(args.get(j + 1), "count should be greater than 0")? as usize);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok((numkeys as usize, max, count))
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
fn zmpop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (numkeys, max, count) = parse_zmpop(args, 1)?;
    let keys: Vec<&[u8]> = (2..2 + numkeys).map(|i| args.get(i)).collect();
    zpop_generic(ctx, &keys, max, true, Some(count.unwrap_or(1)), true, true)
}

/// Keys `numkeys_idx+1 ..` counted by the argument at `numkeys_idx`, after `dst`.
pub fn numkeys_keys(args: Args<'_>, numkeys_idx: usize, dst: Option<usize>) -> Vec<usize> {
    if numkeys_idx >= args.len() {
        return Vec::new();
    }
    let Some(n) = shoal_keyspace::value::shoal_parse_i64(args.get(numkeys_idx)) else { return Vec::new() };
    if n < 1 || n as u64 > (args.len() - numkeys_idx - 1) as u64 {
        return Vec::new();
    }
    let mut v: Vec<usize> = dst.into_iter().collect();
    v.extend(numkeys_idx + 1..numkeys_idx + 1 + n as usize);
    v
}

fn keys_store(args: Args<'_>) -> Vec<usize> {
    numkeys_keys(args, 2, Some(1))
}

fn keys_plain(args: Args<'_>) -> Vec<usize> {
    numkeys_keys(args, 1, None)
}

// ----------------------------------------------------------------------------------
// ZRANDMEMBER

/// ZRANDMEMBER key [count [WITHSCORES]]
fn zrandmember(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let mut count_arg = None;
    let mut withscores = false;
    if args.len() >= 3 {
        let l = parse_i64(args.get(2))?;
        if l < -i64::MAX {
            return Err(CmdError::err("value is out of range, value must between -9223372036854775807 and 9223372036854775807"));
        }
        withscores = match args.len() {
            3 => false,
            4 if eq_ic(args.get(3), "withscores") => true,
            _ => return Err(CmdError::Syntax),
        };
        if withscores && !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
            return Err(CmdError::err("value is out of range"));
        }
        count_arg = Some(l);
    }
    let ks = &mut ctx.st.ks;
    let now = ks.now_ms;
    let stats = &ctx.shared.stats;
    let out = &mut *ctx.out;
    let z = match ks.dbs[ctx.client.db].get(args.get(1), now) {
        None => {
            stats.keyspace_misses.fetch_add(1, Ordering::Relaxed);
            if count_arg.is_some() {
                out.array(0);
            } else {
                out.null();
            }
            return Ok(());
        }
        Some(Value::ZSet(z)) => {
            stats.keyspace_hits.fetch_add(1, Ordering::Relaxed);
            &**z
        }
        Some(_) => {
            stats.keyspace_hits.fetch_add(1, Ordering::Relaxed);
            return Err(CmdError::WrongType);
        }
    };
    let rng = &mut ks.rng;
    let Some(l) = count_arg else {
        match z.random(rng) {
            Some((m, _)) => out.bulk(m),
            None => out.null(),
        }
        return Ok(());
    };
    let (uniq, count) = if l >= 0 { (true, l as u64) } else { (false, l.unsigned_abs()) };
    let size = z.len() as u64;
    if count == 0 || size == 0 {
        out.array(0);
        return Ok(());
    }
    // CASE 1: negative count (or 1): independent picks, repetitions allowed.
    if !uniq || count == 1 {
        range_header(out, count as usize, withscores);
        if z.is_skiplist() {
            for _ in 0..count {
                if let Some((m, s)) = z.random(rng) {
                    emit(out, m, s, withscores);
                }
            }
        } else {
            let all: Vec<(&[u8], f64)> = z.iter().collect();
            for _ in 0..count {
                let (m, s) = all[rand::Rng::gen_range(rng, 0..all.len())];
                emit(out, m, s, withscores);
            }
        }
        return Ok(());
    }
    let n = count.min(size) as usize;
    range_header(out, n, withscores);
    // CASE 2: the whole zset, from the highest score down (Redis's zset iterator
    // walks from the tail).
    if count >= size {
        let all: Vec<(&[u8], f64)> = z.iter().collect();
        for &(m, s) in all.iter().rev() {
            emit(out, m, s, withscores);
        }
        return Ok(());
    }
    // CASE 3: a large share: choose from a full copy.
    if !z.is_skiplist() || count * 3 > size {
        let mut all: Vec<(&[u8], f64)> = z.iter().collect();
        for i in 0..n {
            let j = rand::Rng::gen_range(rng, i..all.len());
            all.swap(i, j);
            let (m, s) = all[i];
            emit(out, m, s, withscores);
        }
        return Ok(());
    }
    // CASE 4: few of many: random picks until enough distinct members.
    let mut seen: hashbrown::HashSet<&[u8]> = hashbrown::HashSet::with_capacity(n);
    while seen.len() < n {
        if let Some((m, s)) = z.random(rng) {
            if seen.insert(m) {
                emit(out, m, s, withscores);
            }
        }
    }
    Ok(())
}

// ----------------------------------------------------------------------------------
// ZUNION / ZINTER / ZDIFF and their STORE forms, ZINTERCARD

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// Redis's `zunionInterAggregate`.
#[inline]
fn aggregate(target: &mut f64, val: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// An input of a set operation: a zset, a plain set (every score 1), or nothing.
#[derive(Clone, Copy)]
enum Src<'a> {
    None,
    Z(&'a ZSetValue),
    S(&'a SetValue),
}

impl<'a> Src<'a> {
    fn len(&self) -> usize {
        match self {
            Src::None => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }
    fn same(&self, o: &Src<'_>) -> bool {
        match (self, o) {
            (Src::Z(a), Src::Z(b)) => std::ptr::eq(*a, *b),
            (Src::S(a), Src::S(b)) => std::ptr::eq(*a, *b),
            _ => false,
        }
    }
    /// Every (member, score), in the input's own order (an intset's members are
    /// formatted).
    fn items(&self) -> Vec<(Cow<'a, [u8]>, f64)> {
        match *self {
            Src::None => Vec::new(),
            Src::Z(z) => z.iter().map(|(m, s)| (Cow::Borrowed(m), s)).collect(),
            Src::S(s) => s
                .iter()
                .map(|m| match m {
                    Member::Str(b) => (Cow::Borrowed(b), 1.0),
                    Member::Int(_) => (Cow::Owned(m.to_vec()), 1.0),
                })
                .collect(),
        }
    }
    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::None => None,
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains(m).then_some(1.0),
        }
    }
}

/// Redis's `zunionInterDiffGenericCommand`.
fn zsetop_generic(ctx: &mut Ctx<'_>, args: Args<'_>, dst: Option<&[u8]>, numkeys_idx: usize, op: SetOp, card_only: bool) -> CmdResult {
    let setnum = parse_i64(args.get(numkeys_idx))?;
    if setnum < 1 {
        let name = String::from_utf8_lossy(args.get(0)).to_ascii_lowercase();
        return Err(CmdError::err(format!("at least 1 input key is needed for '{name}' command")));
    }
    if setnum as u64 > (args.len() - numkeys_idx - 1) as u64 {
        return Err(CmdError::Syntax);
    }
    let setnum = setnum as usize;
    let first = numkeys_idx + 1;
    // Look the inputs up first (lazy expiry, hits/misses, type check in order).
    let now = ctx.now();
    for i in first..first + setnum {
        let t = ctx.st.ks.dbs[ctx.client.db].get(args.get(i), now).map(|v| matches!(v, Value::ZSet(_) | Value::Set(_)));
        ctx.hit_or_miss(t.is_some(), args.get(i));
        if t == Some(false) {
            return Err(CmdError::WrongType);
        }
    }
    let mut weights = vec![1.0f64; setnum];
    let mut agg = Aggregate::Sum;
    let mut withscores = false;
    let mut limit: i64 = 0;
    let mut j = first + setnum;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = args.get(j);
        if op != SetOp::Diff && !card_only && remaining > setnum && eq_ic(a, "weights") {
            j += 1;
            for w in weights.iter_mut() {
                *w = parse_double_arg(args.get(j)).ok_or_else(|| CmdError::err("weight value is not a float"))?;
                j += 1;
            }
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && eq_ic(a, "aggregate") {
            let v = args.get(j + 1);
            agg = if eq_ic(v, "sum") {
                Aggregate::Sum
            } else if eq_ic(v, "min") {
                Aggregate::Min
            } else if eq_ic(v, "max") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
            j += 2;
        } else if dst.is_none() && !card_only && eq_ic(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && eq_ic(a, "limit") {
            limit = match shoal_keyspace::value::shoal_parse_i64(args.get(j + 1)) {
                Some(v) if v >= 0 => v,
                _ => return Err(CmdError::err("LIMIT can't be negative")),
            };
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }

    // The result as (member, score), then sorted by (score, member).
    let db = &ctx.st.ks.dbs[ctx.client.db];
    let mut srcs: Vec<(Src<'_>, f64)> = (0..setnum)
        .map(|i| {
            let s = match db.peek(args.get(first + i), now) {
                Some(Value::ZSet(z)) => Src::Z(z),
                Some(Value::Set(s)) => Src::S(s),
                _ => Src::None,
            };
            (s, weights[i])
        })
        .collect();
    if op != SetOp::Diff {
        // Smallest input first (a stable sort, like glibc's qsort on small arrays).
        srcs.sort_by_key(|(s, _)| s.len());
    }
    let mut result: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut maxelelen = 0usize;
    let mut cardinality = 0u64;
    match op {
        SetOp::Inter => {
            let (s0, w0) = srcs[0];
            if s0.len() > 0 {
                for (m, sc) in s0.items() {
                    let mut score = w0 * sc;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    let mut all = true;
                    for (src, w) in &srcs[1..] {
                        let v = if src.same(&s0) { Some(sc) } else { src.score(&m) };
                        match v {
                            Some(v) => aggregate(&mut score, v * w, agg),
                            None => {
                                all = false;
                                break;
                            }
                        }
                    }
                    if !all {
                        continue;
                    }
                    if card_only {
                        cardinality += 1;
                        if limit > 0 && cardinality >= limit as u64 {
                            break;
                        }
                    } else {
                        maxelelen = maxelelen.max(m.len());
                        result.push((m.to_vec(), score));
                    }
                }
            }
        }
        SetOp::Union => {
            let mut acc: hashbrown::HashMap<Cow<'_, [u8]>, f64> = hashbrown::HashMap::with_capacity(srcs.last().map_or(0, |s| s.0.len()));
            for (src, w) in &srcs {
                for (m, s) in src.items() {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    let len = m.len();
                    match acc.entry(m) {
                        hashbrown::hash_map::Entry::Occupied(mut o) => aggregate(o.get_mut(), score, agg),
                        hashbrown::hash_map::Entry::Vacant(v) => {
                            maxelelen = maxelelen.max(len);
                            v.insert(score);
                        }
                    }
                }
            }
            result = acc.into_iter().map(|(m, s)| (m.into_owned(), s)).collect();
        }
        SetOp::Diff => {
            let base = srcs[0].0;
            if base.len() > 0 && !srcs[1..].iter().any(|(s, _)| s.same(&base)) {
                // Redis picks one of two algorithms; the second one measures the longest
                // member over the whole first input, which decides the encoding.
                let algo_one = (base.len() as u64 * setnum as u64) / 2;
                let algo_two: u64 = srcs.iter().map(|(s, _)| s.len() as u64).sum();
                for (m, s) in base.items() {
                    if algo_one > algo_two {
                        maxelelen = maxelelen.max(m.len());
                    }
                    if srcs[1..].iter().all(|(o, _)| o.score(&m).is_none()) {
                        maxelelen = maxelelen.max(m.len());
                        result.push((m.to_vec(), s));
                    }
                }
            }
        }
    }
    if card_only {
        ctx.out.int(cardinality as i64);
        return Ok(());
    }
    result.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.0.cmp(&b.0)));
    let Some(dst) = dst else {
        let out = &mut *ctx.out;
        range_header(out, result.len(), withscores);
        for (m, s) in &result {
            emit(out, m, *s, withscores);
        }
        return Ok(());
    };
    let ev = match op {
        SetOp::Union => "zunionstore",
        SetOp::Inter => "zinterstore",
        SetOp::Diff => "zdiffstore",
    };
    store_result(ctx, dst, result, Some(maxelelen), ev);
    Ok(())
}

/// ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn zunion(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zsetop_generic(ctx, args, None, 1, SetOp::Union, false)
}

/// ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn zinter(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zsetop_generic(ctx, args, None, 1, SetOp::Inter, false)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
fn zdiff(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zsetop_generic(ctx, args, None, 1, SetOp::Diff, false)
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...]
fn zunionstore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zsetop_generic(ctx, args, Some(args.get(1)), 2, SetOp::Union, false)
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...]
fn zinterstore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zsetop_generic(ctx, args, Some(args.get(1)), 2, SetOp::Inter, false)
}

/// ZDIFFSTORE destination numkeys key [key ...]
fn zdiffstore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zsetop_generic(ctx, args, Some(args.get(1)), 2, SetOp::Diff, false)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
fn zintercard(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    zsetop_generic(ctx, args, None, 1, SetOp::Inter, true)
}

// ----------------------------------------------------------------------------------
// ZSCAN

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
fn zscan(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let cursor = crate::util::parse_scan_cursor(args.get(2)).ok_or_else(|| CmdError::err("invalid cursor"))?;
    let (z, out) = read(ctx, args.get(1))?;
    let Some(z) = z else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let (count, pat) = crate::util::parse_scan_opts(args, 3)?;
    let mut items: Vec<(&[u8], f64)> = Vec::new();
    let next = if z.is_skiplist() {
        // As Redis: visit buckets until COUNT list entries (a member and its score are
        // two) or COUNT*10 buckets.
        let mut c = cursor;
        let mut budget = count.saturating_mul(10);
        loop {
            c = z.scan(c, |m, s| items.push((m, s)));
            if c == 0 || budget == 0 || (items.len() as i64).saturating_mul(2) >= count {
                break;
            }
            budget -= 1;
        }
        c
    } else {
        z.scan(cursor, |m, s| items.push((m, s)))
    };
    if let Some(p) = pat {
        items.retain(|(m, _)| glob_match(p, m, false));
    }
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.array(items.len() * 2);
    for (m, s) in items {
        out.bulk(m);
        // As stored (listpack) or `%.17Lg` (skiplist): the same digits as `%.17g`.
        out.bulk(shoal_resp::fmt_double(s).as_bytes());
    }
    Ok(())
}

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Add one or more members to a sorted set, or update its score if it already exists",
        since: "1.2.0",
        complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        ..CommandDef::new("zadd", -4, WRITE | DENYOOM | FAST, (1, 1, 1), "sorted-set", zadd)
    },
    CommandDef {
        summary: "Increment the score of a member in a sorted set",
        since: "1.2.0",
        complexity: "O(log(N)) where N is the number of elements in the sorted set.",
        ..CommandDef::new("zincrby", 4, WRITE | DENYOOM | FAST, (1, 1, 1), "sorted-set", zincrby)
    },
    CommandDef {
        summary: "Remove one or more members from a sorted set",
        since: "1.2.0",
        complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
        ..CommandDef::new("zrem", -3, WRITE | FAST, (1, 1, 1), "sorted-set", zrem)
    },
    CommandDef {
        summary: "Get the number of members in a sorted set",
        since: "1.2.0",
        complexity: "O(1)",
        ..CommandDef::new("zcard", 2, READONLY | FAST, (1, 1, 1), "sorted-set", zcard)
    },
    CommandDef {
        summary: "Get the score associated with the given member in a sorted set",
        since: "1.2.0",
        complexity: "O(1)",
        ..CommandDef::new("zscore", 3, READONLY | FAST, (1, 1, 1), "sorted-set", zscore)
    },
    CommandDef {
        summary: "Get the score associated with the given members in a sorted set",
        since: "6.2.0",
        complexity: "O(N) where N is the number of members being requested.",
        ..CommandDef::new("zmscore", -3, READONLY | FAST, (1, 1, 1), "sorted-set", zmscore)
    },
    CommandDef {
        summary: "Determine the index of a member in a sorted set",
        since: "2.0.0",
        complexity: "O(log(N))",
        ..CommandDef::new("zrank", 3, READONLY | FAST, (1, 1, 1), "sorted-set", zrank)
    },
    CommandDef {
        summary: "Determine the index of a member in a sorted set, with scores ordered from high to low",
        since: "2.0.0",
        complexity: "O(log(N))",
        ..CommandDef::new("zrevrank", 3, READONLY | FAST, (1, 1, 1), "sorted-set", zrevrank)
    },
    CommandDef {
        summary: "Count the members in a sorted set with scores within the given values",
        since: "2.0.0",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        ..CommandDef::new("zcount", 4, READONLY | FAST, (1, 1, 1), "sorted-set", zcount)
    },
    CommandDef {
        summary: "Count the number of members in a sorted set between a given lexicographical range",
        since: "2.8.9",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        ..CommandDef::new("zlexcount", 4, READONLY | FAST, (1, 1, 1), "sorted-set", zlexcount)
    },
    CommandDef {
        summary: "Return a range of members in a sorted set",
        since: "1.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        ..CommandDef::new("zrange", -4, READONLY, (1, 1, 1), "sorted-set", zrange)
    },
    CommandDef {
        summary: "Store a range of members from sorted set into another key",
        since: "6.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
        ..CommandDef::new("zrangestore", -5, WRITE | DENYOOM, (1, 2, 1), "sorted-set", zrangestore)
    },
    CommandDef {
        summary: "Return a range of members in a sorted set, by score",
        since: "1.0.5",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        ..CommandDef::new("zrangebyscore", -4, READONLY, (1, 1, 1), "sorted-set", zrangebyscore)
    },
    CommandDef {
        summary: "Return a range of members in a sorted set, by score, with scores ordered from high to low",
        since: "2.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        ..CommandDef::new("zrevrangebyscore", -4, READONLY, (1, 1, 1), "sorted-set", zrevrangebyscore)
    },
    CommandDef {
        summary: "Return a range of members in a sorted set, by lexicographical range",
        since: "2.8.9",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        ..CommandDef::new("zrangebylex", -4, READONLY, (1, 1, 1), "sorted-set", zrangebylex)
    },
    CommandDef {
        summary: "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
        since: "2.8.9",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        ..CommandDef::new("zrevrangebylex", -4, READONLY, (1, 1, 1), "sorted-set", zrevrangebylex)
    },
    CommandDef {
        summary: "Return a range of members in a sorted set, by index, with scores ordered from high to low",
        since: "1.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        ..CommandDef::new("zrevrange", -4, READONLY, (1, 1, 1), "sorted-set", zrevrange)
    },
    CommandDef {
        summary: "Remove all members in a sorted set within the given indexes",
        since: "2.0.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        ..CommandDef::new("zremrangebyrank", 4, WRITE, (1, 1, 1), "sorted-set", zremrangebyrank)
    },
    CommandDef {
        summary: "Remove all members in a sorted set within the given scores",
        since: "1.2.0",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        ..CommandDef::new("zremrangebyscore", 4, WRITE, (1, 1, 1), "sorted-set", zremrangebyscore)
    },
    CommandDef {
        summary: "Remove all members in a sorted set between the given lexicographical range",
        since: "2.8.9",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        ..CommandDef::new("zremrangebylex", 4, WRITE, (1, 1, 1), "sorted-set", zremrangebylex)
    },
    CommandDef {
        summary: "Remove and return members with the lowest scores in a sorted set",
        since: "5.0.0",
        complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        ..CommandDef::new("zpopmin", -2, WRITE | FAST, (1, 1, 1), "sorted-set", zpopmin)
    },
    CommandDef {
        summary: "Remove and return members with the highest scores in a sorted set",
        since: "5.0.0",
        complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        ..CommandDef::new("zpopmax", -2, WRITE | FAST, (1, 1, 1), "sorted-set", zpopmax)
    },
    CommandDef {
        summary: "Get one or multiple random elements from a sorted set",
        since: "6.2.0",
        complexity: "O(N) where N is the number of elements returned",
        ..CommandDef::new("zrandmember", -2, READONLY, (1, 1, 1), "sorted-set", zrandmember)
    },
    CommandDef {
        summary: "Intersect multiple sorted sets",
        since: "6.2.0",
        complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        keys: Some(keys_plain),
        ..CommandDef::new("zinter", -3, READONLY | MOVABLE_KEYS, (0, 0, 0), "sorted-set", zinter)
    },
    CommandDef {
        summary: "Add multiple sorted sets",
        since: "6.2.0",
        complexity: "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        keys: Some(keys_plain),
        ..CommandDef::new("zunion", -3, READONLY | MOVABLE_KEYS, (0, 0, 0), "sorted-set", zunion)
    },
    CommandDef {
        summary: "Subtract multiple sorted sets",
        since: "6.2.0",
        complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        keys: Some(keys_plain),
        ..CommandDef::new("zdiff", -3, READONLY | MOVABLE_KEYS, (0, 0, 0), "sorted-set", zdiff)
    },
    CommandDef {
        summary: "Intersect multiple sorted sets and store the resulting sorted set in a new key",
        since: "2.0.0",
        complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        keys: Some(keys_store),
        ..CommandDef::new("zinterstore", -4, WRITE | DENYOOM | MOVABLE_KEYS, (1, 1, 1), "sorted-set", zinterstore)
    },
    CommandDef {
        summary: "Add multiple sorted sets and store the resulting sorted set in a new key",
        since: "2.0.0",
        complexity: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        keys: Some(keys_store),
        ..CommandDef::new("zunionstore", -4, WRITE | DENYOOM | MOVABLE_KEYS, (1, 1, 1), "sorted-set", zunionstore)
    },
    CommandDef {
        summary: "Subtract multiple sorted sets and store the resulting sorted set in a new key",
        since: "6.2.0",
        complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        keys: Some(keys_store),
        ..CommandDef::new("zdiffstore", -4, WRITE | DENYOOM | MOVABLE_KEYS, (1, 1, 1), "sorted-set", zdiffstore)
    },
    CommandDef {
        summary: "Intersect multiple sorted sets and return the cardinality of the result",
        since: "7.0.0",
        complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
        keys: Some(keys_plain),
        ..CommandDef::new("zintercard", -3, READONLY | MOVABLE_KEYS, (0, 0, 0), "sorted-set", zintercard)
    },
    CommandDef {
        summary: "Remove and return members with scores in a sorted set",
        since: "7.0.0",
        complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        keys: Some(keys_plain),
        ..CommandDef::new("zmpop", -4, WRITE | MOVABLE_KEYS, (0, 0, 0), "sorted-set", zmpop)
    },
    CommandDef {
        summary: "Incrementally iterate sorted sets elements and associated scores",
        since: "2.8.0",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        ..CommandDef::new("zscan", -3, READONLY, (1, 1, 1), "sorted-set", zscan)
    },
];

/// The zset listpack thresholds from the configuration (for geo.rs, whose stored
/// results are zsets).
pub fn zset_limits(ctx: &Ctx<'_>) -> ZSetLimits {
    limits(ctx)
}

/// A double as Redis's `getDoubleFromObject` reads it (for geo.rs's coordinates and radii).
pub fn parse_double_strict(b: &[u8]) -> Option<f64> {
    parse_double_arg(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_rules() {
        assert_eq!(parse_double_arg(b"1.5"), Some(1.5));
        assert_eq!(parse_double_arg(b"0x10"), Some(16.0));
        assert_eq!(parse_double_arg(b"-0x1p-2"), Some(-0.25));
        assert_eq!(parse_double_arg(b"0x1.8"), Some(1.5));
        assert_eq!(parse_double_arg(b"0x"), None);
        assert_eq!(parse_double_arg(b" 1"), None);
        assert_eq!(parse_double_arg(b"1e400"), None);
        assert_eq!(parse_double_arg(b"1e-400"), None);
        assert_eq!(parse_double_arg(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_double_arg(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_double_arg(b"nan"), None);
        assert_eq!(parse_double_arg(b"1e"), None);
        assert_eq!(parse_double_arg(b"."), None);
        assert_eq!(parse_double_arg(b".5"), Some(0.5));
        assert_eq!(parse_double_arg(b"5."), Some(5.0));
        assert_eq!(parse_double_arg(b""), None);
        assert_eq!(parse_bound(b""), Some(0.0));
        assert_eq!(parse_bound(b" 1"), Some(1.0));
        assert_eq!(parse_bound(b"  "), None);
        assert_eq!(parse_bound(b"1e400"), Some(f64::INFINITY));
        assert_eq!(parse_bound(b"1\0x"), Some(1.0));
        assert_eq!(parse_bound(b"nan"), None);
    }

    #[test]
    fn limits_and_ranks() {
        assert_eq!(rank_bounds(0, -1, 5, false), (0, 5));
        assert_eq!(rank_bounds(1, 2, 5, true), (2, 4));
        assert_eq!(rank_bounds(-100, 100, 5, false), (0, 5));
        assert_eq!(rank_bounds(3, 1, 5, false), (0, 0));
        assert_eq!(rank_bounds(i64::MIN, i64::MIN, 5, false), (0, 0));
        assert_eq!(apply_limit(2, 8, false, 1, 2), (3, 5));
        assert_eq!(apply_limit(2, 8, true, 1, 2), (5, 7));
        assert_eq!(apply_limit(2, 8, true, 0, -1), (2, 8));
        assert_eq!(apply_limit(2, 8, false, -1, 2), (0, 0));
        assert_eq!(apply_limit(2, 8, false, 6, 2), (0, 0));
    }
}
