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
