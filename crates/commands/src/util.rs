//! Argument parsing helpers with Redis's rules and error texts.

use crate::error::CmdError;
use shoal_keyspace::value::shoal_parse_i64;

/// Case-insensitive comparison of an argument with an ASCII keyword.
#[inline]
pub fn eq_ic(arg: &[u8], kw: &str) -> bool {
    arg.eq_ignore_ascii_case(kw.as_bytes())
}

/// An integer argument (`ERR value is not an integer or out of range` otherwise).
pub fn parse_i64(arg: &[u8]) -> Result<i64, CmdError> {
    shoal_parse_i64(arg).ok_or(CmdError::NotInteger)
}

/// A non-negative integer argument.
pub fn parse_u64(arg: &[u8]) -> Result<u64, CmdError> {
    match shoal_parse_i64(arg) {
        Some(v) if v >= 0 => Ok(v as u64),
        _ => Err(CmdError::NotInteger),
    }
}

/// An integer with a custom error text (`ERR <msg>`), for arguments like COUNT.
pub fn parse_i64_or(arg: &[u8], msg: &str) -> Result<i64, CmdError> {
    shoal_parse_i64(arg).ok_or_else(|| CmdError::err(msg))
}

/// A float argument (`ERR value is not a valid float` otherwise).
pub fn parse_f64(arg: &[u8]) -> Result<f64, CmdError> {
    shoal_resp::parse_double(arg).ok_or(CmdError::NotFloat)
}

/// Lossy UTF-8 for error messages.
pub fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Formats an i64 as bytes.
pub fn i64_bytes(v: i64) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// A SCAN cursor (SCAN, HSCAN, SSCAN, ZSCAN) as Redis parses it (strtoul, then rejecting a
/// leading space, trailing garbage and overflow): "" is 0, a sign is accepted and "-1"
/// wraps to 2^64-1.
pub fn parse_scan_cursor(b: &[u8]) -> Option<u64> {
    let is_space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    if b.first().is_some_and(|&c| is_space(c)) {
        return None;
    }
    let mut i = 0;
    let neg = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let start = i;
    let mut v: u64 = 0;
    let mut overflow = false;
    while i < b.len() && b[i].is_ascii_digit() {
        match v.checked_mul(10).and_then(|x| x.checked_add((b[i] - b'0') as u64)) {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        // no digits: strtoul leaves the end pointer at the start of the string
        return if b.first().is_none_or(|&c| c == 0) { Some(0) } else { None };
    }
    // the C string ends at the first NUL
    if (i < b.len() && b[i] != 0) || overflow {
        return None;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// HSCAN/SSCAN/ZSCAN options from argument `from` on: `[MATCH pattern] [COUNT count]`
/// in any order, as Redis's `scanGenericCommand`. Returns (count, pattern); a pattern of
/// `*` is None (matches everything). COUNT below 1 is a syntax error.
pub fn parse_scan_opts(args: shoal_resp::Args<'_>, from: usize) -> Result<(i64, Option<&[u8]>), CmdError> {
    let mut count: i64 = 10;
    let mut pat: Option<&[u8]> = None;
    let mut i = from;
    while i < args.len() {
        let remaining = args.len() - i;
        if eq_ic(args.get(i), "count") && remaining >= 2 {
            count = parse_i64(args.get(i + 1))?;
            if count < 1 {
                return Err(CmdError::Syntax);
            }
            i += 2;
        } else if eq_ic(args.get(i), "match") && remaining >= 2 {
            let p = args.get(i + 1);
            pat = if p == b"*" { None } else { Some(p) };
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok((count, pat))
}

/// Redis's `pqsort` (pqsort.c: NetBSD's qsort by Bentley & McIlroy, recursing only into
/// partitions that overlap the element range `[lrange, rrange]`), ported operation by
/// operation so that equal elements end up where Redis puts them (SORT ... BY ... LIMIT,
/// GEOSEARCH ... COUNT). As in redis-server 7.0.15's copy, there is no switch to
/// insertion sort after a partition pass without swaps (older Redis had one; it made the
/// sort quadratic on some inputs).
pub fn pqsort<T>(v: &mut [T], lrange: isize, rrange: isize, cmp: &impl Fn(&T, &T) -> std::cmp::Ordering) {
    pqsort_rec(v, 0, v.len(), lrange, rrange, cmp);
}

fn pqsort_rec<T>(v: &mut [T], mut a: usize, mut n: usize, lrange: isize, rrange: isize, cmp: &impl Fn(&T, &T) -> std::cmp::Ordering) {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let med3 = |v: &[T], a: usize, b: usize, c: usize| -> usize {
        if cmp(&v[a], &v[b]) == Less {
            if cmp(&v[b], &v[c]) == Less {
                b
            } else if cmp(&v[a], &v[c]) == Less {
                c
            } else {
                a
            }
        } else if cmp(&v[b], &v[c]) == Greater {
            b
        } else if cmp(&v[a], &v[c]) == Less {
            a
        } else {
            c
        }
    };
    let vecswap = |v: &mut [T], x: usize, y: usize, k: usize| {
        for i in 0..k {
            v.swap(x + i, y + i);
        }
    };
    // Redis skips a partition [lo, lo + r) lying wholly outside [lrange, rrange].
    let overlaps = |lo: usize, r: usize| !(rrange < lo as isize || lrange >= (lo + r) as isize);
    loop {
        if n < 7 {
            for pm in a + 1..a + n {
                let mut pl = pm;
                while pl > a && cmp(&v[pl - 1], &v[pl]) == Greater {
                    v.swap(pl, pl - 1);
                    pl -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d);
                pm = med3(v, pm - d, pm, pm + d);
                pn = med3(v, pn - 2 * d, pn - d, pn);
            }
            pm = med3(v, pl, pm, pn);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        // pc/pd may step below `a + 1` (to `a`), never below `a`.
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[a]);
                if r == Greater {
                    break;
                }
                if r == Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[a]);
                if r == Less {
                    break;
                }
                if r == Equal {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && overlaps(a, r) {
            pqsort_rec(v, a, r, lrange, rrange, cmp);
        }
        let r = pd - pc;
        if r > 1 {
            a = pn - r;
            n = r;
            if overlaps(a, r) {
                continue;
            }
        }
        return;
    }
}
