//! Reply encoding. Commands write their replies straight into a [`ReplyBuf`] (no
//! intermediate value tree), in RESP2 or RESP3 as the client negotiated with HELLO.
//! MULTI/EXEC, and later Lua and replication, reuse the same bytes: a reply is a value
//! in its wire form, and can be re-parsed where a structured value is needed.

use crate::float::fmt_double;

/// An output buffer that knows the client's protocol version.
#[derive(Default, Debug)]
pub struct ReplyBuf {
    pub buf: Vec<u8>,
    pub resp3: bool,
}

impl ReplyBuf {
    pub fn new(resp3: bool) -> Self {
        ReplyBuf { buf: Vec::with_capacity(256), resp3 }
    }
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    pub fn clear(&mut self) {
        self.buf.clear();
    }
    #[inline]
    fn header(&mut self, prefix: u8, n: i64) {
        self.buf.push(prefix);
        let mut b = itoa_buf();
        let s = fmt_i64(&mut b, n);
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }
    /// `+OK`
    #[inline]
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }
    /// A status reply (`+text`). Newlines would break the framing and are replaced.
    pub fn simple(&mut self, s: &str) {
        self.buf.push(b'+');
        self.push_line_safe(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }
    pub fn simple_bytes(&mut self, s: &[u8]) {
        self.buf.push(b'+');
        self.push_line_safe(s);
        self.buf.extend_from_slice(b"\r\n");
    }
    /// An error reply; `s` is the full text after `-` (e.g. `ERR syntax error`).
    pub fn error(&mut self, s: &str) {
        self.buf.push(b'-');
        self.push_line_safe(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }
    fn push_line_safe(&mut self, s: &[u8]) {
        for &c in s {
            self.buf.push(if c == b'\r' || c == b'\n' { b' ' } else { c });
        }
    }
    #[inline]
    pub fn int(&mut self, n: i64) {
        match n {
            0 => self.buf.extend_from_slice(b":0\r\n"),
            1 => self.buf.extend_from_slice(b":1\r\n"),
            _ => self.header(b':', n),
        }
    }
    #[inline]
    pub fn bulk(&mut self, b: &[u8]) {
        self.header(b'$', b.len() as i64);
        self.buf.extend_from_slice(b);
        self.buf.extend_from_slice(b"\r\n");
    }
    pub fn bulk_str(&mut self, s: &str) {
        self.bulk(s.as_bytes())
    }
    /// An integer as a bulk string (INCRBYFLOAT-style replies, CONFIG GET values).
    pub fn bulk_int(&mut self, n: i64) {
        let mut b = itoa_buf();
        let s = fmt_i64(&mut b, n);
        self.bulk(s);
    }
    /// The null reply: `$-1` in RESP2, `_` in RESP3.
    #[inline]
    pub fn null(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }
    /// The null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }
    #[inline]
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }
    /// A map of `n` pairs: `%n` in RESP3, a flat array of 2n in RESP2.
    pub fn map(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'%', n as i64)
        } else {
            self.header(b'*', 2 * n as i64)
        }
    }
    /// A set: `~n` in RESP3, an array in RESP2.
    pub fn set(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'~', n as i64)
        } else {
            self.header(b'*', n as i64)
        }
    }
    /// A push message header (`>n` in RESP3, an array in RESP2).
    pub fn push(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'>', n as i64)
        } else {
            self.header(b'*', n as i64)
        }
    }
    /// A double: `,x` in RESP3, a bulk string in RESP2, formatted as Redis 7.0 (`%.17g`).
    pub fn double(&mut self, d: f64) {
        let s = fmt_double(d);
        if self.resp3 {
            self.buf.push(b',');
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(s.as_bytes());
        }
    }
    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, b: bool) {
        if self.resp3 {
            self.buf.extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }
    /// Verbatim text (`=len\r\ntxt:...` in RESP3, a bulk string in RESP2).
    pub fn verbatim(&mut self, s: &[u8]) {
        if self.resp3 {
            self.header(b'=', s.len() as i64 + 4);
            self.buf.extend_from_slice(b"txt:");
            self.buf.extend_from_slice(s);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(s);
        }
    }
    /// Raw protocol bytes (already encoded replies).
    pub fn raw(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    /// Starts an aggregate whose length is not known yet; finish with [`Self::end_deferred`].
    pub fn begin_deferred(&mut self) -> usize {
        self.buf.len()
    }
    /// Inserts the header of an aggregate begun at `pos`: `kind` is b'*', b'%' (map, n
    /// pairs) or b'~' (set), downgraded to an array in RESP2.
    pub fn end_deferred(&mut self, pos: usize, kind: u8, n: usize) {
        let (prefix, count) = match (kind, self.resp3) {
            (b'%', false) => (b'*', 2 * n),
            (b'~', false) => (b'*', n),
            (k, _) => (k, n),
        };
        let mut h = Vec::with_capacity(24);
        h.push(prefix);
        let mut b = itoa_buf();
        h.extend_from_slice(fmt_i64(&mut b, count as i64));
        h.extend_from_slice(b"\r\n");
        self.buf.splice(pos..pos, h);
    }
}

type ItoaBuf = [u8; 24];
#[inline]
fn itoa_buf() -> ItoaBuf {
    [0u8; 24]
}
/// Formats `n` into `b`, returning the digits.
#[inline]
pub(crate) fn fmt_i64(b: &mut ItoaBuf, n: i64) -> &[u8] {
    let mut i = b.len();
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        b[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        b[i] = b'-';
    }
    &b[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp2_and_resp3_shapes() {
        let mut r = ReplyBuf::new(false);
        r.map(1);
        r.null();
        r.double(1.5);
        r.boolean(true);
        assert_eq!(r.buf, b"*2\r\n$-1\r\n$3\r\n1.5\r\n:1\r\n");
        let mut r = ReplyBuf::new(true);
        r.map(1);
        r.null();
        r.double(1.5);
        r.boolean(true);
        assert_eq!(r.buf, b"%1\r\n_\r\n,1.5\r\n#t\r\n");
    }

    #[test]
    fn deferred_lengths() {
        let mut r = ReplyBuf::new(false);
        r.int(7);
        let p = r.begin_deferred();
        r.int(1);
        r.int(-2);
        r.end_deferred(p, b'%', 1);
        assert_eq!(r.buf, b":7\r\n*2\r\n:1\r\n:-2\r\n");
        let mut b = itoa_buf();
        assert_eq!(fmt_i64(&mut b, i64::MIN), b"-9223372036854775808");
    }
}
