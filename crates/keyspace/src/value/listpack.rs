//! A compact sequence of byte strings in one exact-size buffer, the role Redis's
//! listpack plays for small hashes, lists, sets and sorted sets: each entry is a LEB128
//! length followed by its bytes. Lookups are linear, which is why collections convert
//! to a hash table above Redis's `*-max-listpack-*` thresholds.

/// A packed list of byte strings.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct Listpack {
    buf: Vec<u8>,
    count: u32,
}

/// Bytes of the LEB128 length prefix of an `n`-byte entry.
#[inline]
pub(crate) fn varint_len(n: usize) -> usize {
    let mut l = 1;
    let mut v = n >> 7;
    while v != 0 {
        l += 1;
        v >>= 7;
    }
    l
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Appends one entry: its LEB128 length, then its bytes.
#[inline]
pub(crate) fn put_entry(out: &mut Vec<u8>, v: &[u8]) {
    put_varint(out, v.len());
    out.extend_from_slice(v);
}

/// Reads the entry at byte offset `pos`: returns (data start, data end).
#[inline]
pub(crate) fn read_at(buf: &[u8], pos: usize) -> (usize, usize) {
    let b = buf[pos];
    if b < 0x80 {
        return (pos + 1, pos + 1 + b as usize);
    }
    let mut n = 0usize;
    let mut shift = 0;
    let mut i = pos;
    loop {
        let b = buf[i];
        n |= ((b & 0x7f) as usize) << shift;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (i, i + n)
}

fn encode(v: &[u8]) -> Vec<u8> {
    let mut enc = Vec::with_capacity(varint_len(v.len()) + v.len());
    put_varint(&mut enc, v.len());
    enc.extend_from_slice(v);
    enc
}

impl Listpack {
    pub fn new() -> Self {
        Listpack::default()
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.count as usize
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// Bytes used by the encoding (for MEMORY USAGE and memory accounting).
    pub fn bytes(&self) -> usize {
        self.buf.capacity()
    }
    /// Iterates entries with their byte offsets: (offset, bytes).
    pub fn iter_pos(&self) -> impl Iterator<Item = (usize, &[u8])> + '_ {
        let mut pos = 0;
        std::iter::from_fn(move || {
            if pos >= self.buf.len() {
                return None;
            }
            let (s, e) = read_at(&self.buf, pos);
            let at = pos;
            pos = e;
            Some((at, &self.buf[s..e]))
        })
    }
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.iter_pos().map(|(_, b)| b)
    }
    /// The entry at byte offset `pos`, and the offset of the next one.
    pub fn get_at(&self, pos: usize) -> (&[u8], usize) {
        let (s, e) = read_at(&self.buf, pos);
        (&self.buf[s..e], e)
    }
    /// Appends an entry at the end.
    pub fn push_back(&mut self, v: &[u8]) {
        self.buf.reserve_exact(varint_len(v.len()) + v.len());
        put_varint(&mut self.buf, v.len());
        self.buf.extend_from_slice(v);
        self.count += 1;
    }
    /// Inserts an entry before the entry at byte offset `pos` (`pos == byte_len()` appends).
    pub fn insert_at(&mut self, pos: usize, v: &[u8]) {
        let enc = encode(v);
        self.buf.reserve_exact(enc.len());
        self.buf.splice(pos..pos, enc);
        self.count += 1;
    }
    pub fn push_front(&mut self, v: &[u8]) {
        self.insert_at(0, v);
    }
    /// Removes the entry at byte offset `pos`.
    pub fn remove_at(&mut self, pos: usize) {
        let (_, e) = read_at(&self.buf, pos);
        self.buf.drain(pos..e);
        self.count -= 1;
        if self.buf.capacity() > self.buf.len() * 2 + 64 {
            self.buf.shrink_to_fit();
        }
    }
    /// Replaces the entry at byte offset `pos` with `v`.
    pub fn replace_at(&mut self, pos: usize, v: &[u8]) {
        let (_, e) = read_at(&self.buf, pos);
        let enc = encode(v);
        if enc.len() > e - pos {
            self.buf.reserve_exact(enc.len() - (e - pos));
        }
        self.buf.splice(pos..e, enc);
    }
    /// Total encoded length in bytes (the offset one past the last entry).
    pub fn byte_len(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_insert_remove_replace() {
        let mut lp = Listpack::new();
        lp.push_back(b"a");
        lp.push_back(&[7u8; 200]);
        lp.push_front(b"zz");
        assert_eq!(lp.len(), 3);
        let v: Vec<&[u8]> = lp.iter().collect();
        assert_eq!(v[0], b"zz");
        assert_eq!(v[1], b"a");
        assert_eq!(v[2].len(), 200);
        let (pos, _) = lp.iter_pos().nth(1).unwrap();
        lp.replace_at(pos, b"longer value");
        lp.remove_at(0);
        let v: Vec<&[u8]> = lp.iter().collect();
        assert_eq!(v[0], b"longer value");
        assert_eq!(lp.len(), 2);
    }
}
