//! Family: SORT and SORT_RO, as Redis 7.0's `sort.c`.
//!
//! - The elements of the list, set or sorted set are copied into one arena (Redis
//!   creates an object per element too), then weighted: by the element itself or by the
//!   `BY` pattern's key (`*` replaced by the element, `->field` for a hash field),
//!   parsed with C `strtod` rules (the whole C string must be a number) unless `ALPHA`.
//! - Order of equal elements, exactly as Redis: numeric ties fall back to a binary
//!   comparison of the elements; `ALPHA` compares C strings (`strcoll`, byte order in
//!   the C/C.UTF-8 locales) or, with `STORE`, binary strings. Redis sorts with glibc's
//!   `qsort`, a stable merge sort, so a stable sort gives the same order; with a `BY`
//!   pattern and a `LIMIT` that does not cover everything it uses its own partial
//!   quicksort (`pqsort`), which is ported here step by step since ties keep its
//!   (unstable) order.
//! - `BY` without `*` skips sorting: lists and sorted sets keep their order (with LIMIT
//!   applied to the range directly, and DESC walking backwards), sets their iteration
//!   order, except with STORE where a set is sorted ALPHA.
//! - Sorted sets are converted to the skiplist encoding first, as Redis does.

use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::table::{flags::*, CommandDef};
use crate::util::{eq_ic, parse_i64};
use shoal_keyspace::value::list::ListFill;
use shoal_keyspace::value::ListValue;
use shoal_keyspace::{Db, Value};
use shoal_resp::Args;
use std::cmp::Ordering;
use std::sync::atomic::Ordering as AtomicOrdering;

/// The bytes of a C string (up to the first NUL).
#[inline]
fn c_str(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |n| &b[..n])
}

/// A GET/BY pattern, pre-split as `lookupKeyByPattern` splits it.
#[derive(Debug, PartialEq, Eq)]
enum Pattern<'p> {
    /// `#`: the element itself.
    Elem,
    /// No `*`: nothing is looked up.
    Nothing,
    /// `prefix*postfix` or `prefix*postfix->field`.
    Key { prefix: &'p [u8], postfix: &'p [u8], field: Option<&'p [u8]> },
}

fn parse_pattern(spat: &[u8]) -> Pattern<'_> {
    let cs = c_str(spat);
    if cs == b"#" {
        return Pattern::Elem;
    }
    let Some(p) = cs.iter().position(|&c| c == b'*') else {
        return Pattern::Nothing;
    };
    // "->" after the '*', followed by at least one byte of the C string.
    let arrow = cs[p + 1..].windows(2).position(|w| w == b"->").map(|i| p + 1 + i).filter(|&f| f + 2 < cs.len());
    match arrow {
        Some(f) => Pattern::Key { prefix: &spat[..p], postfix: &spat[p + 1..f], field: Some(&spat[f + 2..]) },
        None => Pattern::Key { prefix: &spat[..p], postfix: &spat[p + 1..], field: None },
    }
}

/// Looks the key a pattern names for `elem` up (`lookupKeyByPattern`, except the `#`
/// case, which callers handle): a string value, or a hash field's value.
fn lookup_pattern<'d>(
    db: &'d mut Db,
    now: u64,
    stats: Option<&crate::ctx::Stats>,
    pat: &Pattern<'_>,
    elem: &[u8],
    keybuf: &mut Vec<u8>,
) -> Option<&'d [u8]> {
    let Pattern::Key { prefix, postfix, field } = pat else {
        return None;
    };
    keybuf.clear();
    keybuf.extend_from_slice(prefix);
    keybuf.extend_from_slice(elem);
    keybuf.extend_from_slice(postfix);
    let v = db.get(keybuf, now);
    if let Some(s) = stats {
        if v.is_some() {
            s.keyspace_hits.fetch_add(1, AtomicOrdering::Relaxed);
        } else {
            s.keyspace_misses.fetch_add(1, AtomicOrdering::Relaxed);
        }
    }
    match (v?, field) {
        (Value::Hash(h), Some(f)) => h.get(f),
        (Value::Str(s), None) => Some(s.as_bytes()),
        _ => None,
    }
}

/// C `strtod` over the C string in `b`, as SORT checks it: None unless the whole string
/// is consumed, the value is not NaN and no range error occurred.
pub fn strtod_strict(b: &[u8]) -> Option<f64> {
    let s = c_str(b);
    if s.is_empty() {
        // Nothing converted: the end pointer is the start, which is the terminator.
        return Some(0.0);
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let rest = &s[i..];
    let starts = |kw: &[u8]| rest.len() >= kw.len() && rest[..kw.len()].eq_ignore_ascii_case(kw);
    let v = if starts(b"inf") {
        let n = if starts(b"infinity") { 8 } else { 3 };
        if n != rest.len() {
            return None;
        }
        f64::INFINITY
    } else if starts(b"nan") {
        return None;
    } else if starts(b"0x")
        && rest.get(2).is_some_and(|&c| c.is_ascii_hexdigit() || (c == b'.' && rest.get(3).is_some_and(|d| d.is_ascii_hexdigit())))
    {
        parse_hex(&rest[2..])?
    } else {
        // [digits][.digits][e[sign]digits], at least one digit in the mantissa.
        let mut j = 0;
        let mut digits = 0;
        let mut nonzero = false;
        while j < rest.len() && rest[j].is_ascii_digit() {
            nonzero |= rest[j] != b'0';
            j += 1;
            digits += 1;
        }
        if j < rest.len() && rest[j] == b'.' {
            j += 1;
            while j < rest.len() && rest[j].is_ascii_digit() {
                nonzero |= rest[j] != b'0';
                j += 1;
                digits += 1;
            }
        }
        if digits == 0 {
            return None;
        }
        if j < rest.len() && (rest[j] == b'e' || rest[j] == b'E') {
            let mut k = j + 1;
            if k < rest.len() && (rest[k] == b'+' || rest[k] == b'-') {
                k += 1;
            }
            let ds = k;
            while k < rest.len() && rest[k].is_ascii_digit() {
                k += 1;
            }
            if k > ds {
                j = k;
            }
        }
        if j != rest.len() {
            return None;
        }
        // Rust's parser takes the same syntax ("5.", ".5", exponents) and rounds
        // correctly, as glibc does.
        let text = std::str::from_utf8(&rest[..j]).ok()?;
        let v: f64 = text.parse().ok()?;
        if v.is_infinite() || (nonzero && (v == 0.0 || v.abs() < f64::MIN_POSITIVE)) {
            return None; // ERANGE
        }
        v
    };
    Some(if neg { -v } else { v })
}

/// The part of a hex float after "0x": hex digits, optional fraction, optional binary
/// exponent; the whole input must be consumed.
fn parse_hex(s: &[u8]) -> Option<f64> {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut i = 0;
    let mut seen_point = false;
    let mut any = false;
    while i < s.len() {
        let c = s[i];
        if c == b'.' && !seen_point {
            seen_point = true;
            i += 1;
            continue;
        }
        let Some(d) = (c as char).to_digit(16) else { break };
        any = true;
        if mant >> 56 == 0 {
            mant = (mant << 4) | d as u64;
            if seen_point {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                exp += 4;
            }
        }
        i += 1;
    }
    if !any {
        return None;
    }
    if i < s.len() && (s[i] == b'p' || s[i] == b'P') {
        let mut k = i + 1;
        let neg = match s.get(k) {
            Some(b'-') => {
                k += 1;
                true
            }
            Some(b'+') => {
                k += 1;
                false
            }
            _ => false,
        };
        let ds = k;
        let mut e: i64 = 0;
        while k < s.len() && s[k].is_ascii_digit() {
            e = (e * 10 + (s[k] - b'0') as i64).min(1 << 20);
            k += 1;
        }
        if k > ds {
            exp += if neg { -e } else { e };
            i = k;
        }
    }
    if i != s.len() {
        return None;
    }
    if mant == 0 {
        return Some(0.0);
    }
    let m = (mant | sticky as u64) as f64;
    let v = m * 2f64.powi(exp.clamp(-2000, 2000) as i32);
    if v.is_infinite() || v < f64::MIN_POSITIVE {
        // Overflow, or a subnormal/zero result (reported as a range error when inexact,
        // which it is in every case but exact powers; close enough for a weight).
        let exact = (m * 2f64.powi((exp + 1074).clamp(-2000, 2000) as i32)).fract() == 0.0;
        if v.is_infinite() || !exact || v == 0.0 {
            return None;
        }
    }
    Some(v)
}

#[inline]
fn push(buf: &mut Vec<u8>, items: &mut Vec<Item>, e: &[u8]) {
    items.push(Item { off: buf.len() as u32, len: e.len() as u32, score: 0.0, cmp: None });
    buf.extend_from_slice(e);
}

/// One element of the sorting vector.
#[derive(Clone, Copy)]
struct Item {
    off: u32,
    len: u32,
    score: f64,
    /// The BY value for ALPHA sorting (offset, length in the weights arena), None when
    /// the BY key is missing.
    cmp: Option<(u32, u32)>,
}

struct Sorter<'a> {
    buf: &'a [u8],
    cbuf: &'a [u8],
    desc: bool,
    alpha: bool,
    bypattern: bool,
    store: bool,
}

impl Sorter<'_> {
    #[inline]
    fn elem(&self, it: &Item) -> &[u8] {
        &self.buf[it.off as usize..(it.off + it.len) as usize]
    }

    /// `sortCompare`.
    fn cmp(&self, a: &Item, b: &Item) -> Ordering {
        let c = if !self.alpha {
            if a.score > b.score {
                Ordering::Greater
            } else if a.score < b.score {
                Ordering::Less
            } else {
                self.elem(a).cmp(self.elem(b))
            }
        } else if self.bypattern {
            match (a.cmp, b.cmp) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some((ao, al)), Some((bo, bl))) => {
                    let x = &self.cbuf[ao as usize..(ao + al) as usize];
                    let y = &self.cbuf[bo as usize..(bo + bl) as usize];
                    if self.store {
                        x.cmp(y)
                    } else {
                        c_str(x).cmp(c_str(y))
                    }
                }
            }
        } else if self.store {
            self.elem(a).cmp(self.elem(b))
        } else {
            c_str(self.elem(a)).cmp(c_str(self.elem(b)))
        };
        if self.desc {
            c.reverse()
        } else {
            c
        }
    }
}

/// COMMAND GETKEYS for SORT (`sortGetKeys`): the sorted key, and the last STORE key.
fn sort_keys(args: Args<'_>) -> Vec<usize> {
    let mut keys = vec![1];
    let mut store = None;
    let argc = args.len();
    let mut i = 2;
    while i < argc {
        let a = args.get(i);
        if eq_ic(a, "limit") {
            i += 2;
        } else if eq_ic(a, "store") && i + 1 < argc {
            store = Some(i + 1);
        } else if eq_ic(a, "get") || eq_ic(a, "by") {
            i += 1;
        }
        i += 1;
    }
    keys.extend(store);
    keys
}

fn sort(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    sort_generic(ctx, args, false)
}

fn sort_ro(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    sort_generic(ctx, args, true)
}

enum Kind {
    List,
    Set,
    ZSet,
}

fn sort_generic(ctx: &mut Ctx<'_>, args: Args<'_>, readonly: bool) -> CmdResult {
    let mut desc = false;
    let mut alpha = false;
    let mut limit_start: i64 = 0;
    let mut limit_count: i64 = -1;
    let mut dontsort = false;
    let mut sortby: Option<&[u8]> = None;
    let mut storekey: Option<&[u8]> = None;
    let mut gets: Vec<Pattern<'_>> = Vec::new();
    let cluster = || ctx.shared.config.read().get_bool("cluster-enabled");
    let argc = args.len();
    let mut j = 2;
    while j < argc {
        let a = args.get(j);
        let left = argc - j - 1;
        if eq_ic(a, "asc") {
            desc = false;
        } else if eq_ic(a, "desc") {
            desc = true;
        } else if eq_ic(a, "alpha") {
            alpha = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            limit_start = parse_i64(args.get(j + 1))?;
            limit_count = parse_i64(args.get(j + 2))?;
            j += 2;
        } else if !readonly && eq_ic(a, "store") && left >= 1 {
            storekey = Some(args.get(j + 1));
            j += 1;
        } else if eq_ic(a, "by") && left >= 1 {
            let p = args.get(j + 1);
            sortby = Some(p);
            if !c_str(p).contains(&b'*') {
                dontsort = true;
            } else if cluster() {
                return Err(CmdError::err("BY option of SORT denied in Cluster mode."));
            }
            j += 1;
        } else if eq_ic(a, "get") && left >= 1 {
            if cluster() {
                return Err(CmdError::err("GET option of SORT denied in Cluster mode."));
            }
            gets.push(parse_pattern(args.get(j + 1)));
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }

    let now = ctx.now();
    let stats = &ctx.shared.stats;
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let key = args.get(1);
    let kind = match db.get(key, now) {
        None => {
            stats.keyspace_misses.fetch_add(1, AtomicOrdering::Relaxed);
            None
        }
        Some(v) => {
            stats.keyspace_hits.fetch_add(1, AtomicOrdering::Relaxed);
            match v {
                Value::List(_) => Some(Kind::List),
                Value::Set(_) => Some(Kind::Set),
                Value::ZSet(_) => Some(Kind::ZSet),
                _ => return Err(CmdError::WrongType),
            }
        }
    };
    if kind.is_none() && ctx.shared.notify_flags.load(AtomicOrdering::Relaxed) & (1 << 11) != 0 {
        ctx.notify(b'm', "keymiss", key);
    }
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    if dontsort && matches!(kind, Some(Kind::Set)) && storekey.is_some() {
        dontsort = false;
        alpha = true;
        sortby = None;
    }
    if matches!(kind, Some(Kind::ZSet)) {
        if let Some(Value::ZSet(z)) = db.get_mut_untracked(key, now) {
            if !z.is_skiplist() {
                z.convert_to_skiplist();
            }
        }
    }

    // Load the elements into the arena.
    let mut buf: Vec<u8> = Vec::new();
    let mut items: Vec<Item> = Vec::new();
    let value = db.peek(key, now);
    let vectorlen: i64 = match value {
        Some(Value::List(l)) => l.len() as i64,
        Some(Value::Set(s)) => s.len() as i64,
        Some(Value::ZSet(z)) => z.len() as i64,
        _ => 0,
    };
    let mut start = limit_start.max(0).min(vectorlen);
    let limit_count = limit_count.max(-1).min(vectorlen);
    let mut end = if limit_count < 0 { vectorlen - 1 } else { start + limit_count - 1 };
    if start >= vectorlen {
        start = vectorlen - 1;
        end = vectorlen - 2;
    }
    if end >= vectorlen {
        end = vectorlen - 1;
    }
    let ranged = dontsort && (start != 0 || end != vectorlen - 1);
    let rangelen = if ranged { (end - start + 1).max(0) as usize } else { vectorlen.max(0) as usize };
    match value {
        // An empty range loads nothing (and keeps start/end as they are, like Redis).
        Some(Value::List(_)) if dontsort && end < start => {}
        Some(Value::List(l)) if dontsort => {
            let len = l.len();
            if desc {
                for e in l.iter_rev_from(len - start as usize - 1).take(rangelen) {
                    push(&mut buf, &mut items, e);
                }
            } else {
                for e in l.iter_from(start as usize).take(rangelen) {
                    push(&mut buf, &mut items, e);
                }
            }
            end -= start;
            start = 0;
        }
        Some(Value::List(l)) => {
            for e in l.iter() {
                push(&mut buf, &mut items, e);
            }
        }
        Some(Value::Set(s)) => {
            for m in s.iter() {
                m.with_bytes(|b| push(&mut buf, &mut items, b));
            }
        }
        Some(Value::ZSet(z)) if dontsort => {
            let len = z.len();
            let s = start.max(0) as usize;
            if desc {
                let hi = len.saturating_sub(s);
                z.walk(hi.saturating_sub(rangelen), hi, true, |m, _| push(&mut buf, &mut items, m));
            } else {
                z.walk(s, s + rangelen, false, |m, _| push(&mut buf, &mut items, m));
            }
            end -= start;
            start = 0;
        }
        Some(Value::ZSet(z)) => {
            for (m, _) in z.iter() {
                push(&mut buf, &mut items, m);
            }
        }
        _ => {}
    }

    // Weights.
    let by_pat = sortby.map(parse_pattern);
    let mut cbuf: Vec<u8> = Vec::new();
    let mut keybuf: Vec<u8> = Vec::new();
    let mut conversion_error = false;
    let read_stats = if storekey.is_none() { Some(stats) } else { None };
    if !dontsort {
        for it in items.iter_mut() {
            let elem = &buf[it.off as usize..(it.off + it.len) as usize];
            let byval: Option<&[u8]> = match &by_pat {
                Some(Pattern::Elem) => Some(elem),
                Some(p) => lookup_pattern(db, now, read_stats, p, elem, &mut keybuf),
                None => Some(elem),
            };
            let Some(byval) = byval else { continue };
            if alpha {
                if by_pat.is_some() {
                    it.cmp = Some((cbuf.len() as u32, byval.len() as u32));
                    cbuf.extend_from_slice(byval);
                }
            } else {
                match strtod_strict(byval) {
                    Some(v) => it.score = v,
                    None => conversion_error = true,
                }
            }
        }
        let sorter = Sorter { buf: &buf, cbuf: &cbuf, desc, alpha, bypattern: by_pat.is_some(), store: storekey.is_some() };
        let cmp = |a: &Item, b: &Item| sorter.cmp(a, b);
        if by_pat.is_some() && (start != 0 || end != items.len() as i64 - 1) {
            crate::util::pqsort(&mut items, start as isize, end as isize, &cmp);
        } else {
            items.sort_by(cmp);
        }
    }
    if conversion_error {
        return Err(CmdError::err("One or more scores can't be converted into double"));
    }

    let count = (end - start + 1).max(0) as usize;
    let outputlen = if gets.is_empty() { count } else { gets.len() * count };
    let range = if count > 0 { &items[start as usize..=end as usize] } else { &items[..0] };
    match storekey {
        None => {
            let out = &mut *ctx.out;
            out.array(outputlen);
            for it in range {
                let elem = &buf[it.off as usize..(it.off + it.len) as usize];
                if gets.is_empty() {
                    out.bulk(elem);
                }
                for g in &gets {
                    let v = match g {
                        Pattern::Elem => Some(elem),
                        p => lookup_pattern(db, now, Some(stats), p, elem, &mut keybuf),
                    };
                    match v {
                        Some(v) => out.bulk(v),
                        None => out.null(),
                    }
                }
            }
        }
        Some(dst) => {
            let fill = ListFill::new(ctx.shared.hot.list_max_listpack_size.load(AtomicOrdering::Relaxed));
            let mut list = ListValue::new();
            for it in range {
                let elem = &buf[it.off as usize..(it.off + it.len) as usize];
                if gets.is_empty() {
                    list.push(elem, false, &fill);
                }
                for g in &gets {
                    let v = match g {
                        Pattern::Elem => Some(elem),
                        p => lookup_pattern(db, now, None, p, elem, &mut keybuf),
                    };
                    list.push(v.unwrap_or(b""), false, &fill);
                }
            }
            if outputlen > 0 {
                db.set(dst, Value::List(Box::new(list)), false);
                ctx.notify(b'l', "sortstore", dst);
                ctx.dirty(outputlen as u64);
            } else if db.remove(dst).is_some() {
                ctx.notify(b'g', "del", dst);
                ctx.dirty(1);
            }
            ctx.out.int(outputlen as i64);
        }
    }
    Ok(())
}

const G: &str = "generic";
const ACL: &[&str] = &["@set", "@sortedset", "@list", "@dangerous"];

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Sort the elements in a list, set or sorted set",
        since: "1.0.0",
        complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
        keys: Some(sort_keys),
        acl: ACL,
        ..CommandDef::new("sort", -2, WRITE | DENYOOM | MOVABLE_KEYS, (1, 1, 1), G, sort)
    },
    CommandDef {
        summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
        since: "7.0.0",
        complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
        acl: ACL,
        ..CommandDef::new("sort_ro", -2, READONLY | MOVABLE_KEYS, (1, 1, 1), G, sort_ro)
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert_eq!(parse_pattern(b"#"), Pattern::Elem);
        assert_eq!(parse_pattern(b"#\0x"), Pattern::Elem);
        assert_eq!(parse_pattern(b"nostar"), Pattern::Nothing);
        assert_eq!(parse_pattern(b"a\0*"), Pattern::Nothing);
        assert_eq!(parse_pattern(b"w_*"), Pattern::Key { prefix: b"w_", postfix: b"", field: None });
        assert_eq!(parse_pattern(b"h_*->f"), Pattern::Key { prefix: b"h_", postfix: b"", field: Some(b"f") });
        assert_eq!(parse_pattern(b"h_*x->"), Pattern::Key { prefix: b"h_", postfix: b"x->", field: None });
        assert_eq!(parse_pattern(b"a->b*c"), Pattern::Key { prefix: b"a->b", postfix: b"c", field: None });
        assert_eq!(parse_pattern(b"*->a->b"), Pattern::Key { prefix: b"", postfix: b"", field: Some(b"a->b") });
    }

    #[test]
    fn strtod_rules() {
        assert_eq!(strtod_strict(b"1.5"), Some(1.5));
        assert_eq!(strtod_strict(b"  -3"), Some(-3.0));
        assert_eq!(strtod_strict(b""), Some(0.0));
        assert_eq!(strtod_strict(b"\0x"), Some(0.0));
        assert_eq!(strtod_strict(b"  "), None);
        assert_eq!(strtod_strict(b"-"), None);
        assert_eq!(strtod_strict(b"12\0abc"), Some(12.0));
        assert_eq!(strtod_strict(b"1e5"), Some(1e5));
        assert_eq!(strtod_strict(b"1e"), None);
        assert_eq!(strtod_strict(b"5."), Some(5.0));
        assert_eq!(strtod_strict(b".5"), Some(0.5));
        assert_eq!(strtod_strict(b"inf"), Some(f64::INFINITY));
        assert_eq!(strtod_strict(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(strtod_strict(b"nan"), None);
        assert_eq!(strtod_strict(b"1e400"), None);
        assert_eq!(strtod_strict(b"1e-400"), None);
        assert_eq!(strtod_strict(b"0e-400"), Some(0.0));
        assert_eq!(strtod_strict(b"0x10"), Some(16.0));
        assert_eq!(strtod_strict(b"0x1p-2"), Some(0.25));
        assert_eq!(strtod_strict(b"0x"), None);
        assert_eq!(strtod_strict(b"abc"), None);
        assert_eq!(strtod_strict(b"1 "), None);
    }

    #[test]
    fn pqsort_sorts_the_range() {
        let mut seed = 12345u64;
        for n in [0usize, 1, 5, 7, 8, 30, 41, 100, 500] {
            let mut v: Vec<u32> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 33) as u32 % 50
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort();
            if n == 0 {
                continue;
            }
            let (l, r) = (n / 3, (n / 2).max(n / 3));
            crate::util::pqsort(&mut v, l as isize, r as isize, &|a: &u32, b: &u32| a.cmp(b));
            assert_eq!(&v[l..=r], &sorted[l..=r], "n={n}");
            crate::util::pqsort(&mut v, 0, n as isize - 1, &|a: &u32, b: &u32| a.cmp(b));
            assert_eq!(v, sorted);
        }
    }

    #[test]
    fn getkeys() {
        let raw: Vec<&[u8]> = vec![b"sort", b"k", b"limit", b"0", b"1", b"store", b"d", b"by", b"store"];
        let owned = shoal_resp::OwnedArgs::from_slices(&raw);
        assert_eq!(sort_keys(owned.args()), vec![1, 6]);
    }
}
