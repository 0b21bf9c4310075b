//! Request decoding, as redis-server's `processMultibulkBuffer` and
//! `processInlineBuffer`: the same limits and the same `Protocol error: ...` texts.
//!
//! The decoder is stateless: it is handed the unprocessed part of the query buffer and
//! either returns one complete command (argument ranges plus bytes consumed), says how
//! many bytes it needs at least before it is worth trying again, or reports a protocol
//! error. Re-decoding a partial command only re-reads its headers, never payloads.

/// Longest inline command, and longest `*<n>` / `$<n>` header line (Redis: 64 KiB).
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;

/// Limits the decoder enforces.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `proto-max-bulk-len`: longest bulk argument.
    pub bulk_len_max: u64,
    /// Unauthenticated clients may send only small commands (Redis: 10 args, 16 KiB bulks).
    pub unauthenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { bulk_len_max: 512 * 1024 * 1024, unauthenticated: false }
    }
}

/// What [`decode`] found at the start of the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A whole command: its arguments were appended to `ranges` (offsets relative to the
    /// slice given), and `consumed` bytes can be dropped. An empty command (`*0`, a blank
    /// inline line) yields no ranges.
    Command { consumed: usize },
    /// A whole inline command whose quoted arguments had escapes, so they could not be
    /// ranges into the buffer.
    Owned { consumed: usize, args: Vec<Vec<u8>> },
    /// More input is needed; nothing is worth retrying before `need` bytes are buffered.
    Incomplete { need: usize },
}

/// A malformed request. The text is the error reply (`ERR Protocol error: ...`, as
/// redis-server) sent before the connection is closed.
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct ProtocolError(pub String);

fn perr(s: &str) -> ProtocolError {
    ProtocolError(format!("ERR Protocol error: {s}"))
}

/// Parses a decimal integer exactly as Redis's `string2ll`: no spaces, no '+', no
/// leading zeros (except "0"), within i64.
pub(crate) fn parse_i64_strict(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = if s[0] == b'-' { (true, &s[1..]) } else { (false, s) };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

#[inline]
fn find_cr(buf: &[u8], from: usize) -> Option<usize> {
    buf[from..].iter().position(|&c| c == b'\r').map(|p| p + from)
}

/// Decodes one command from the start of `buf`, appending argument ranges to `ranges`.
/// On `Incomplete` or an error, `ranges` is left as it was.
pub fn decode(buf: &[u8], ranges: &mut Vec<(usize, usize)>, limits: &Limits) -> Result<Decoded, ProtocolError> {
    if buf.is_empty() {
        return Ok(Decoded::Incomplete { need: 1 });
    }
    if buf[0] == b'*' {
        let mark = ranges.len();
        let r = decode_multibulk(buf, ranges, limits);
        if !matches!(r, Ok(Decoded::Command { .. })) {
            ranges.truncate(mark);
        }
        r
    } else {
        decode_inline(buf, ranges)
    }
}

fn decode_multibulk(buf: &[u8], ranges: &mut Vec<(usize, usize)>, limits: &Limits) -> Result<Decoded, ProtocolError> {
    let Some(nl) = find_cr(buf, 1) else {
        if buf.len() > PROTO_INLINE_MAX_SIZE {
            return Err(perr("too big mbulk count string"));
        }
        return Ok(Decoded::Incomplete { need: buf.len() + 1 });
    };
    if nl + 1 >= buf.len() {
        return Ok(Decoded::Incomplete { need: nl + 2 });
    }
    let count = match parse_i64_strict(&buf[1..nl]) {
        Some(n) if n <= i32::MAX as i64 => n,
        _ => return Err(perr("invalid multibulk length")),
    };
    if count > 10 && limits.unauthenticated {
        return Err(perr("unauthenticated multibulk length"));
    }
    let mut pos = nl + 2;
    if count <= 0 {
        return Ok(Decoded::Command { consumed: pos });
    }
    // Reserve at most a modest amount up front: a huge claimed count must not allocate.
    ranges.reserve((count as usize).min(1024));
    for _ in 0..count {
        if pos >= buf.len() {
            return Ok(Decoded::Incomplete { need: pos + 1 });
        }
        let Some(nl) = find_cr(buf, pos) else {
            if buf.len() - pos > PROTO_INLINE_MAX_SIZE {
                return Err(perr("too big bulk count string"));
            }
            return Ok(Decoded::Incomplete { need: buf.len() + 1 });
        };
        if nl + 1 >= buf.len() {
            return Ok(Decoded::Incomplete { need: nl + 2 });
        }
        if buf[pos] != b'$' {
            return Err(ProtocolError(format!("ERR Protocol error: expected '$', got '{}'", buf[pos] as char)));
        }
        let len = match parse_i64_strict(&buf[pos + 1..nl]) {
            Some(n) if n >= 0 && (n as u64) <= limits.bulk_len_max => n as usize,
            _ => return Err(perr("invalid bulk length")),
        };
        if len > 16384 && limits.unauthenticated {
            return Err(perr("unauthenticated bulk length"));
        }
        let start = nl + 2;
        let end = start + len;
        if end + 2 > buf.len() {
            return Ok(Decoded::Incomplete { need: end + 2 });
        }
        // Like Redis, the two bytes after the payload are skipped without being checked.
        ranges.push((start, end));
        pos = end + 2;
    }
    Ok(Decoded::Command { consumed: pos })
}

fn decode_inline(buf: &[u8], ranges: &mut Vec<(usize, usize)>) -> Result<Decoded, ProtocolError> {
    let Some(nl) = buf.iter().position(|&c| c == b'\n') else {
        if buf.len() > PROTO_INLINE_MAX_SIZE {
            return Err(perr("too big inline request"));
        }
        return Ok(Decoded::Incomplete { need: buf.len() + 1 });
    };
    let mut line_end = nl;
    if line_end > 0 && buf[line_end - 1] == b'\r' {
        line_end -= 1;
    }
    let line = &buf[..line_end];
    if inline_needs_unescape(line) {
        return match split_inline_owned(line) {
            Some(args) => Ok(Decoded::Owned { consumed: nl + 1, args }),
            None => Err(perr("unbalanced quotes in request")),
        };
    }
    let mark = ranges.len();
    if !split_inline(line, ranges) {
        ranges.truncate(mark);
        return Err(perr("unbalanced quotes in request"));
    }
    Ok(Decoded::Command { consumed: nl + 1 })
}

/// Splits an inline line into arguments as Redis's `sdssplitargs`. Quoted arguments
/// may contain escapes, so their unescaped bytes are written back over the line in place
/// (the result is never longer than the quoted source); ranges point at those bytes.
fn split_inline(line: &[u8], ranges: &mut Vec<(usize, usize)>) -> bool {
    // The buffer is immutable here, so quoted arguments with escapes are handled by the
    // caller-visible contract: we only produce ranges for unescaped forms. Escaped quoted
    // strings are rare in inline mode; they are decoded through `inline_unescape` by the
    // connection layer, which re-splits such lines into an owned buffer.
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            return true;
        }
        if line[i] == b'"' || line[i] == b'\'' {
            let q = line[i];
            let start = i + 1;
            let mut j = start;
            loop {
                if j >= n {
                    return false;
                }
                if q == b'"' && line[j] == b'\\' && j + 1 < n {
                    j += 2;
                    continue;
                }
                if q == b'\'' && line[j] == b'\\' && j + 1 < n && line[j + 1] == b'\'' {
                    j += 2;
                    continue;
                }
                if line[j] == q {
                    break;
                }
                j += 1;
            }
            // closing quote must be followed by a space or the end
            if j + 1 < n && !line[j + 1].is_ascii_whitespace() {
                return false;
            }
            ranges.push((start, j));
            i = j + 1;
        } else {
            let start = i;
            while i < n && !line[i].is_ascii_whitespace() {
                i += 1;
            }
            ranges.push((start, i));
        }
    }
}

/// Returns true when an inline line holds quoted arguments with escapes, which need
/// [`split_inline_owned`] instead of zero-copy ranges.
pub fn inline_needs_unescape(line: &[u8]) -> bool {
    line.contains(&b'\\') && (line.contains(&b'"') || line.contains(&b'\''))
}

/// `sdssplitargs` with escape processing, producing owned arguments.
pub fn split_inline_owned(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        let mut inq = false;
        let mut insq = false;
        loop {
            if inq {
                if i >= n {
                    return None;
                }
                if line[i] == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && line[i + 2].is_ascii_hexdigit()
                    && line[i + 3].is_ascii_hexdigit()
                {
                    let h = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                    cur.push(h(line[i + 2]) * 16 + h(line[i + 3]));
                    i += 3;
                } else if line[i] == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                } else if line[i] == b'"' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                }
            } else if insq {
                if i >= n {
                    return None;
                }
                if line[i] == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if line[i] == b'\'' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &[u8]) -> Result<(Decoded, Vec<Vec<u8>>), ProtocolError> {
        let mut r = Vec::new();
        let d = decode(s, &mut r, &Limits::default())?;
        Ok((d, r.iter().map(|&(a, b)| s[a..b].to_vec()).collect()))
    }

    #[test]
    fn multibulk_complete_and_partial() {
        let full = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
        let (d, a) = dec(full).unwrap();
        assert_eq!(d, Decoded::Command { consumed: full.len() });
        assert_eq!(a, vec![b"GET".to_vec(), b"k".to_vec()]);
        for cut in 0..full.len() {
            let (d, a) = dec(&full[..cut]).unwrap();
            assert!(matches!(d, Decoded::Incomplete { need } if need > cut), "cut {cut}");
            assert!(a.is_empty());
        }
    }

    #[test]
    fn multibulk_errors_match_redis() {
        assert_eq!(dec(b"*x\r\n").unwrap_err().0, "ERR Protocol error: invalid multibulk length");
        assert_eq!(dec(b"*1\r\n$-3\r\n").unwrap_err().0, "ERR Protocol error: invalid bulk length");
        assert_eq!(dec(b"*1\r\n:3\r\n").unwrap_err().0, "ERR Protocol error: expected '$', got ':'");
        let limits = Limits { bulk_len_max: 10, unauthenticated: false };
        let mut r = Vec::new();
        assert_eq!(decode(b"*1\r\n$11\r\n", &mut r, &limits).unwrap_err().0, "ERR Protocol error: invalid bulk length");
    }

    #[test]
    fn inline_commands() {
        let (d, a) = dec(b"SET k \"a b\"\r\n").unwrap();
        assert_eq!(d, Decoded::Command { consumed: 13 });
        assert_eq!(a, vec![b"SET".to_vec(), b"k".to_vec(), b"a b".to_vec()]);
        assert_eq!(dec(b"GET \"k\r\n").unwrap_err().0, "ERR Protocol error: unbalanced quotes in request");
        let (_, a) = dec(b"\r\n").unwrap();
        assert!(a.is_empty());
        assert_eq!(split_inline_owned(b"set \"a\\x41\\n\" 'it\\'s'").unwrap(), vec![b"set".to_vec(), b"aA\n".to_vec(), b"it's".to_vec()]);
    }

    #[test]
    fn zero_and_negative_counts_are_empty_commands() {
        let (d, a) = dec(b"*0\r\n").unwrap();
        assert_eq!(d, Decoded::Command { consumed: 4 });
        assert!(a.is_empty());
        let (_, a) = dec(b"*-1\r\n").unwrap();
        assert!(a.is_empty());
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64_strict(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64_strict(b"9223372036854775808"), None);
        assert_eq!(parse_i64_strict(b"01"), None);
        assert_eq!(parse_i64_strict(b"+1"), None);
        assert_eq!(parse_i64_strict(b"-0"), None);
    }
}
