//! Redis's listpack (`listpack.c`), ziplist (`ziplist.c`) and intset (`intset.c`)
//! byte formats: a writer for listpacks and intsets (what redis-server 7.0 puts in RDB
//! payloads), and bounds-checked readers for all three (what it may send us).

use shoal_keyspace::value::shoal_parse_i64;

/// An element read out of a listpack or ziplist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Elem<'_> {
    /// The element as bytes (integers in decimal).
    pub fn to_vec(&self) -> Vec<u8> {
        match *self {
            Elem::Str(s) => s.to_vec(),
            Elem::Int(v) => v.to_string().into_bytes(),
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match *self {
            Elem::Int(v) => Some(v),
            Elem::Str(s) => shoal_parse_i64(s),
        }
    }
}

/// Builds a listpack.
pub struct LpWriter {
    buf: Vec<u8>,
    count: usize,
}

impl Default for LpWriter {
    fn default() -> Self {
        LpWriter::new()
    }
}

impl LpWriter {
    pub fn new() -> LpWriter {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[0u8; 6]);
        LpWriter { buf, count: 0 }
    }

    /// Bytes the listpack would have if finished now (header, entries, terminator).
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    pub fn count(&self) -> usize {
        self.count
    }

    fn backlen(&mut self, l: usize) {
        if l <= 127 {
            self.buf.push(l as u8);
        } else if l < 16383 {
            self.buf.push((l >> 7) as u8);
            self.buf.push((l & 127) as u8 | 128);
        } else if l < 2097151 {
            self.buf.push((l >> 14) as u8);
            self.buf.push(((l >> 7) & 127) as u8 | 128);
            self.buf.push((l & 127) as u8 | 128);
        } else if l < 268435455 {
            self.buf.push((l >> 21) as u8);
            self.buf.push(((l >> 14) & 127) as u8 | 128);
            self.buf.push(((l >> 7) & 127) as u8 | 128);
            self.buf.push((l & 127) as u8 | 128);
        } else {
            self.buf.push((l >> 28) as u8);
            self.buf.push(((l >> 21) & 127) as u8 | 128);
            self.buf.push(((l >> 14) & 127) as u8 | 128);
            self.buf.push(((l >> 7) & 127) as u8 | 128);
            self.buf.push((l & 127) as u8 | 128);
        }
    }

    /// Appends an integer (`lpAppendInteger`).
    pub fn int(&mut self, v: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = if v < 0 { (1i64 << 13) + v } else { v } as u64;
            self.buf.push((u >> 8) as u8 | 0xC0);
            self.buf.push(u as u8);
        } else if (-32768..=32767).contains(&v) {
            self.buf.push(0xF1);
            self.buf.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-8388608..=8388607).contains(&v) {
            self.buf.push(0xF2);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if (-2147483648..=2147483647).contains(&v) {
            self.buf.push(0xF3);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            self.buf.push(0xF4);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        let l = self.buf.len() - start;
        self.backlen(l);
        self.count += 1;
    }

    /// Appends a string (`lpAppend`): stored as an integer when it reads as one.
    pub fn str(&mut self, s: &[u8]) {
        if let Some(v) = shoal_parse_i64(s) {
            return self.int(v);
        }
        let start = self.buf.len();
        let n = s.len();
        if n < 64 {
            self.buf.push(n as u8 | 0x80);
        } else if n < 4096 {
            self.buf.push((n >> 8) as u8 | 0xE0);
            self.buf.push(n as u8);
        } else {
            self.buf.push(0xF0);
            self.buf.extend_from_slice(&(n as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        let l = self.buf.len() - start;
        self.backlen(l);
        self.count += 1;
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(0xFF);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let n = if self.count < 65535 { self.count as u16 } else { 65535 };
        self.buf[4..6].copy_from_slice(&n.to_le_bytes());
        self.buf
    }
}

/// Redis's `d2string` for sorted-set scores in listpacks (7.0: integral values in
/// (-2^52, 2^52) through `ll2string`, others `%.17g`).
pub fn score_str(v: f64) -> Vec<u8> {
    if v.is_nan() {
        return b"nan".to_vec();
    }
    if v.is_infinite() {
        return if v > 0.0 { b"inf".to_vec() } else { b"-inf".to_vec() };
    }
    if v > -4503599627370495.0 && v < 4503599627370496.0 && v == (v as i64) as f64 {
        return (v as i64).to_string().into_bytes();
    }
    shoal_resp::fmt_double(v).into_bytes()
}

/// Parses a whole listpack (`lpValidateIntegrity` plus element decoding).
pub fn parse_listpack(lp: &[u8]) -> Option<Vec<Elem<'_>>> {
    if lp.len() < 7 {
        return None;
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    if total != lp.len() || lp[total - 1] != 0xFF {
        return None;
    }
    let declared = u16::from_le_bytes([lp[4], lp[5]]) as usize;
    let end = total - 1;
    let mut p = 6;
    let mut out = Vec::new();
    while p < end {
        let b = lp[p];
        let (elem, l) = if b & 0x80 == 0 {
            (Elem::Int(b as i64), 1)
        } else if b & 0xC0 == 0x80 {
            let n = (b & 0x3F) as usize;
            let s = lp.get(p + 1..p + 1 + n)?;
            (Elem::Str(s), 1 + n)
        } else if b & 0xE0 == 0xC0 {
            let u = (((b & 0x1F) as u64) << 8) | *lp.get(p + 1)? as u64;
            let v = if u >= 1 << 12 { u as i64 - (1 << 13) } else { u as i64 };
            (Elem::Int(v), 2)
        } else if b & 0xF0 == 0xE0 {
            let n = (((b & 0x0F) as usize) << 8) | *lp.get(p + 1)? as usize;
            let s = lp.get(p + 2..p + 2 + n)?;
            (Elem::Str(s), 2 + n)
        } else {
            match b {
                0xF0 => {
                    let h = lp.get(p + 1..p + 5)?;
                    let n = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
                    let s = lp.get(p + 5..p + 5usize.checked_add(n)?)?;
                    (Elem::Str(s), 5 + n)
                }
                0xF1 => {
                    let h = lp.get(p + 1..p + 3)?;
                    (Elem::Int(i16::from_le_bytes([h[0], h[1]]) as i64), 3)
                }
                0xF2 => {
                    let h = lp.get(p + 1..p + 4)?;
                    let v = (i32::from_le_bytes([0, h[0], h[1], h[2]]) >> 8) as i64;
                    (Elem::Int(v), 4)
                }
                0xF3 => {
                    let h = lp.get(p + 1..p + 5)?;
                    (Elem::Int(i32::from_le_bytes([h[0], h[1], h[2], h[3]]) as i64), 5)
                }
                0xF4 => {
                    let h = lp.get(p + 1..p + 9)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(h);
                    (Elem::Int(i64::from_le_bytes(a)), 9)
                }
                _ => return None,
            }
        };
        let bl = backlen_size(l);
        if p + l + bl > end {
            return None;
        }
        p += l + bl;
        out.push(elem);
    }
    if declared != 65535 && declared != out.len() {
        return None;
    }
    Some(out)
}

fn backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2097151 {
        3
    } else if l < 268435455 {
        4
    } else {
        5
    }
}

/// Parses a whole ziplist (Redis before 7.0 used it for small lists, hashes and zsets).
pub fn parse_ziplist(zl: &[u8]) -> Option<Vec<Elem<'_>>> {
    if zl.len() < 11 {
        return None;
    }
    let total = u32::from_le_bytes([zl[0], zl[1], zl[2], zl[3]]) as usize;
    if total != zl.len() || zl[total - 1] != 0xFF {
        return None;
    }
    let declared = u16::from_le_bytes([zl[8], zl[9]]) as usize;
    let end = total - 1;
    let mut p = 10;
    let mut out = Vec::new();
    while p < end {
        // prevlen
        p += if zl[p] < 254 { 1 } else { 5 };
        let b = *zl.get(p)?;
        if p >= end {
            return None;
        }
        let elem = match b >> 6 {
            0 => {
                let n = (b & 0x3F) as usize;
                let s = zl.get(p + 1..p + 1 + n)?;
                p += 1 + n;
                Elem::Str(s)
            }
            1 => {
                let n = (((b & 0x3F) as usize) << 8) | *zl.get(p + 1)? as usize;
                let s = zl.get(p + 2..p + 2 + n)?;
                p += 2 + n;
                Elem::Str(s)
            }
            2 => {
                let h = zl.get(p + 1..p + 5)?;
                let n = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
                let s = zl.get(p + 5..(p + 5).checked_add(n)?)?;
                p += 5 + n;
                Elem::Str(s)
            }
            _ => match b {
                0xC0 => {
                    let h = zl.get(p + 1..p + 3)?;
                    p += 3;
                    Elem::Int(i16::from_le_bytes([h[0], h[1]]) as i64)
                }
                0xD0 => {
                    let h = zl.get(p + 1..p + 5)?;
                    p += 5;
                    Elem::Int(i32::from_le_bytes([h[0], h[1], h[2], h[3]]) as i64)
                }
                0xE0 => {
                    let h = zl.get(p + 1..p + 9)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(h);
                    p += 9;
                    Elem::Int(i64::from_le_bytes(a))
                }
                0xF0 => {
                    let h = zl.get(p + 1..p + 4)?;
                    p += 4;
                    Elem::Int((i32::from_le_bytes([0, h[0], h[1], h[2]]) >> 8) as i64)
                }
                0xFE => {
                    let h = *zl.get(p + 1)?;
                    p += 2;
                    Elem::Int(h as i8 as i64)
                }
                0xF1..=0xFD => {
                    p += 1;
                    Elem::Int((b & 0x0F) as i64 - 1)
                }
                _ => return None,
            },
        };
        if p > end {
            return None;
        }
        out.push(elem);
    }
    if declared != 65535 && declared != out.len() {
        return None;
    }
    Some(out)
}

/// Builds an intset blob of the given element width (2, 4 or 8 bytes).
pub fn write_intset(width: u32, items: impl ExactSizeIterator<Item = i64>) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + items.len() * width as usize);
    v.extend_from_slice(&width.to_le_bytes());
    v.extend_from_slice(&(items.len() as u32).to_le_bytes());
    for x in items {
        match width {
            2 => v.extend_from_slice(&(x as i16).to_le_bytes()),
            4 => v.extend_from_slice(&(x as i32).to_le_bytes()),
            _ => v.extend_from_slice(&x.to_le_bytes()),
        }
    }
    v
}

/// Parses an intset blob: (width, members), checking they are strictly ascending
/// (`intsetValidateIntegrity` with deep checks).
pub fn parse_intset(b: &[u8]) -> Option<(u32, Vec<i64>)> {
    if b.len() < 8 {
        return None;
    }
    let width = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    if !matches!(width, 2 | 4 | 8) {
        return None;
    }
    let n = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
    if b.len() != 8 + n.checked_mul(width as usize)? {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    for c in b[8..].chunks_exact(width as usize) {
        let v = match width {
            2 => i16::from_le_bytes([c[0], c[1]]) as i64,
            4 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64,
            _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        };
        if out.last().is_some_and(|&l| l >= v) {
            return None;
        }
        out.push(v);
    }
    Some((width, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_roundtrip() {
        let mut w = LpWriter::new();
        let long = vec![b'x'; 5000];
        let items: Vec<&[u8]> = vec![
            b"0",
            b"127",
            b"128",
            b"-1",
            b"-4096",
            b"4095",
            b"40000",
            b"-40000",
            b"9000000",
            b"-9223372036854775808",
            b"abc",
            &[b'y'; 100],
            &long,
        ];
        for i in &items {
            w.str(i);
        }
        let lp = w.finish();
        let back = parse_listpack(&lp).unwrap();
        let back: Vec<Vec<u8>> = back.iter().map(|e| e.to_vec()).collect();
        let want: Vec<Vec<u8>> = items.iter().map(|s| s.to_vec()).collect();
        assert_eq!(back, want);
    }

    #[test]
    fn scores() {
        assert_eq!(score_str(0.1), b"0.10000000000000001");
        assert_eq!(score_str(-0.0), b"0");
        assert_eq!(score_str(3.0), b"3");
        assert_eq!(score_str(1e300), b"1.0000000000000001e+300");
    }
}
