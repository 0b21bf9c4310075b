//! LZF compression as Redis's bundled liblzf 3.6 (`lzf_c.c`, `lzf_d.c`) with Redis's
//! settings (`HLOG` 16, `VERY_FAST`, not `ULTRA_FAST`), so compressed strings are
//! byte-identical to what redis-server writes.

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

#[inline]
fn idx(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// Compresses `input` into at most `out_len` bytes; None when it does not fit (as
/// `lzf_compress` returning 0).
pub fn compress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let in_len = input.len();
    if in_len == 0 || out_len == 0 {
        return None;
    }
    // Slot values are positions + 1 (0 = empty: `ref > in_data` rejects position 0 anyway).
    let mut htab = vec![0u32; HSIZE];
    let mut out = vec![0u8; out_len];
    let mut ip = 0usize;
    let mut op = 1usize; // start run
    let mut lit: usize = 0;
    let frst = |p: usize| ((input[p] as u32) << 8) | input[p + 1] as u32;
    let mut hval: u32 = if in_len >= 2 { frst(0) } else { 0 };
    while in_len >= 3 && ip < in_len - 2 {
        hval = (hval << 8) | input[ip + 2] as u32;
        let slot = idx(hval);
        let r = htab[slot] as usize;
        htab[slot] = ip as u32 + 1;
        let matched = r > 1 && {
            let rf = r - 1;
            rf < ip && ip - rf - 1 < MAX_OFF && input[rf + 2] == input[ip + 2] && input[rf] == input[ip] && input[rf + 1] == input[ip + 1]
        };
        if matched {
            let rf = r - 1;
            let off = ip - rf - 1;
            let mut len = 2usize;
            let maxlen = (in_len - ip - len).min(MAX_REF);
            if op + 3 + 1 >= out_len && op - usize::from(lit == 0) + 3 + 1 >= out_len {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1); // stop run
            op -= usize::from(lit == 0); // undo run if length is zero
                                         // liblzf's unrolled loop: 16 unconditional steps when maxlen > 16, then one
                                         // more unconditional step (it may run past maxlen, as in Redis).
            let mut done = false;
            if maxlen > 16 {
                for _ in 0..16 {
                    len += 1;
                    if input[rf + len] != input[ip + len] {
                        done = true;
                        break;
                    }
                }
            }
            if !done {
                loop {
                    len += 1;
                    if !(len < maxlen && input[rf + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2; // len is now #octets - 1
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 1;
            lit = 0;
            op += 1; // start run
            ip += len + 1;
            if ip >= in_len - 2 {
                break;
            }
            ip -= 2;
            hval = frst(ip);
            hval = (hval << 8) | input[ip + 2] as u32;
            htab[idx(hval)] = ip as u32 + 1;
            ip += 1;
            hval = (hval << 8) | input[ip + 2] as u32;
            htab[idx(hval)] = ip as u32 + 1;
            ip += 1;
        } else {
            if op >= out_len {
                return None;
            }
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
        }
    }
    if op + 3 > out_len {
        return None;
    }
    while ip < in_len {
        lit += 1;
        if op >= out_len {
            return None;
        }
        out[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            out[op - lit - 1] = (lit - 1) as u8;
            lit = 0;
            op += 1;
        }
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    op -= usize::from(lit == 0);
    out.truncate(op);
    Some(out)
}

/// Decompresses into exactly `out_len` bytes; None on malformed input or a size
/// mismatch.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(out_len);
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < (1 << 5) {
            let n = ctrl + 1;
            if out.len() + n > out_len || ip + n > input.len() {
                return None;
            }
            out.extend_from_slice(&input[ip..ip + n]);
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip)? as usize;
                ip += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + *input.get(ip)? as usize + 1;
            ip += 1;
            len += 2;
            if out.len() + len > out_len || back > out.len() {
                return None;
            }
            let start = out.len() - back;
            for i in 0..len {
                let b = out[start + i];
                out.push(b);
            }
        }
    }
    if out.len() != out_len {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let data: Vec<u8> = b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_vec();
        let c = compress(&data, data.len() - 4).unwrap();
        // redis-server 7.0: DUMP of 52 'a' -> \x01aa\xe0'\x00\x01aa
        assert_eq!(c, b"\x01aa\xe0'\x00\x01aa");
        assert_eq!(decompress(&c, data.len()).unwrap(), data);
        let mut v = Vec::new();
        for i in 0..3000u32 {
            v.extend_from_slice(format!("{}:{}", i % 97, i).as_bytes());
        }
        let c = compress(&v, v.len()).unwrap();
        assert_eq!(decompress(&c, v.len()).unwrap(), v);
    }
}
