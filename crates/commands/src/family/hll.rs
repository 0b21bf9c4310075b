//! Family: HyperLogLog (PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST), Redis's sparse/dense encodings byte for byte.
//!
//! An HLL is a plain string value in Redis's "HYLL" format, so GET/SET/DUMP move it
//! between Shoal and redis-server unchanged:
//!
//! - a 16-byte header: `HYLL`, the encoding byte (0 dense, 1 sparse), 3 unused bytes,
//!   and the cached cardinality (8 bytes, little endian; the top bit of the last byte set
//!   means "stale");
//! - dense: 16384 6-bit registers packed LSB first (12288 bytes);
//! - sparse: run-length opcodes ZERO `00xxxxxx` (1..64 zero registers), XZERO
//!   `01xxxxxx yyyyyyyy` (1..16384 zero registers) and VAL `1vvvvvxx` (1..4 registers of
//!   value 1..32), promoted to dense once the string would grow past
//!   `hll-sparse-max-bytes` or a register needs a value above 32.
//!
//! Every update follows Redis's `hyperloglog.c` step by step (including the in-place
//! opcode split and the local merge of adjacent VAL opcodes), since the exact bytes are
//! visible to clients. Cardinality uses Redis 7's estimator (Ertl's improved raw
//! estimator with the tau/sigma corrections).

use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::table::{flags::*, CommandDef};
use crate::util::eq_ic;
use shoal_keyspace::{Sso, Value};
use shoal_resp::Args;

pub const HLL_P: u32 = 14;
pub const HLL_Q: u32 = 64 - HLL_P;
pub const HLL_REGISTERS: usize = 1 << HLL_P;
const HLL_P_MASK: u64 = (HLL_REGISTERS - 1) as u64;
const HLL_BITS: usize = 6;
const HLL_REGISTER_MAX: u32 = (1 << HLL_BITS) - 1;
pub const HLL_HDR_SIZE: usize = 16;
pub const HLL_DENSE_SIZE: usize = HLL_HDR_SIZE + (HLL_REGISTERS * HLL_BITS).div_ceil(8);
pub const HLL_DENSE: u8 = 0;
pub const HLL_SPARSE: u8 = 1;
const HLL_MAX_ENCODING: u8 = 1;
const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
const HLL_ALPHA_INF: f64 = 0.721_347_520_444_481_7;
const HASH_SEED: u64 = 0xadc8_3b19;

const INVALID_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPTED_HLL: &str = "INVALIDOBJ Corrupted HLL object detected";

// ------------------------------------------------------------------------------------
// Hashing
// ------------------------------------------------------------------------------------

/// MurmurHash2, 64-bit version (MurmurHash64A), as Redis's (endian neutral).
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h: u64 = seed ^ (key.len() as u64).wrapping_mul(M);
    let chunks = key.chunks_exact(8);
    let rem = chunks.remainder();
    for c in chunks {
        let mut k = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    if !rem.is_empty() {
        for (i, &b) in rem.iter().enumerate().rev() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element maps to and the length of its `000..1` pattern (1..=Q+1).
#[inline]
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, HASH_SEED);
    let index = (hash & HLL_P_MASK) as usize;
    let h = (hash >> HLL_P) | (1u64 << HLL_Q);
    (index, (h.trailing_zeros() + 1) as u8)
}

// ------------------------------------------------------------------------------------
// Dense representation
// ------------------------------------------------------------------------------------

/// Register `i` of a dense register array (a byte past the end reads as the C string
/// terminator, 0).
#[inline]
pub fn dense_get(r: &[u8], i: usize) -> u8 {
    let byte = i * HLL_BITS / 8;
    let fb = (i * HLL_BITS) & 7;
    let fb8 = 8 - fb;
    let b0 = r[byte] as u32;
    let b1 = r.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << fb8)) & HLL_REGISTER_MAX) as u8
}

#[inline]
pub fn dense_put(r: &mut [u8], i: usize, val: u8) {
    let byte = i * HLL_BITS / 8;
    let fb = (i * HLL_BITS) & 7;
    let fb8 = 8 - fb;
    let v = val as u32;
    r[byte] &= !((HLL_REGISTER_MAX << fb) as u8);
    r[byte] |= (v << fb) as u8;
    if let Some(b1) = r.get_mut(byte + 1) {
        *b1 &= !((HLL_REGISTER_MAX >> fb8) as u8);
        *b1 |= (v >> fb8) as u8;
    }
}

/// Sets register `i` to `count` when that is larger (`hllDenseSet`); true when changed.
#[inline]
fn dense_set(r: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(r, i) {
        dense_put(r, i, count);
        true
    } else {
        false
    }
}

fn dense_histo(r: &[u8], h: &mut [u32; 64]) {
    for g in r[..HLL_REGISTERS * HLL_BITS / 8].chunks_exact(3) {
        let (b0, b1, b2) = (g[0] as usize, g[1] as usize, g[2] as usize);
        h[b0 & 63] += 1;
        h[((b0 >> 6) | (b1 << 2)) & 63] += 1;
        h[((b1 >> 4) | (b2 << 4)) & 63] += 1;
        h[(b2 >> 2) & 63] += 1;
    }
}

// ------------------------------------------------------------------------------------
// Sparse representation
// ------------------------------------------------------------------------------------

#[inline]
fn is_zero(op: u8) -> bool {
    op & 0xc0 == 0
}
#[inline]
fn is_xzero(op: u8) -> bool {
    op & 0xc0 == 0x40
}
#[inline]
fn is_val(op: u8) -> bool {
    op & 0x80 != 0
}
#[inline]
fn zero_len(op: u8) -> usize {
    (op & 0x3f) as usize + 1
}
/// XZERO run length; the second byte past the end reads as the C terminator (0).
#[inline]
fn xzero_len(s: &[u8], p: usize) -> usize {
    ((((s[p] & 0x3f) as usize) << 8) | s.get(p + 1).copied().unwrap_or(0) as usize) + 1
}
#[inline]
fn val_value(op: u8) -> u8 {
    ((op >> 2) & 0x1f) + 1
}
#[inline]
fn val_len(op: u8) -> usize {
    (op & 0x3) as usize + 1
}
/// One opcode of the sparse representation, as decoded by [`sparse_ops`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SparseOp {
    /// ZERO: `len` registers at 0 (one byte).
    Zero(usize),
    /// XZERO: `len` registers at 0 (two bytes).
    XZero(usize),
    /// VAL: `len` registers at `value`.
    Val { value: u8, len: usize },
}

impl SparseOp {
    /// Registers covered, and their value.
    #[inline]
    fn run(self) -> (usize, u8) {
        match self {
            SparseOp::Zero(n) | SparseOp::XZero(n) => (n, 0),
            SparseOp::Val { value, len } => (len, value),
        }
    }
}

/// The opcodes of sparse register data (the bytes after the header), in order: the one
/// walk behind sparse-to-dense, merge, the histogram and PFDEBUG DECODE.
fn sparse_ops(s: &[u8]) -> impl Iterator<Item = SparseOp> + '_ {
    let mut p = 0usize;
    std::iter::from_fn(move || {
        let op = *s.get(p)?;
        Some(if is_zero(op) {
            p += 1;
            SparseOp::Zero(zero_len(op))
        } else if is_xzero(op) {
            let n = xzero_len(s, p);
            p += 2;
            SparseOp::XZero(n)
        } else {
            p += 1;
            SparseOp::Val { value: val_value(op), len: val_len(op) }
        })
    })
}

/// PFDEBUG DECODE's text for sparse register data ("z:N Z:N v:V,N ...").
fn decode_sparse(s: &[u8]) -> String {
    let mut out = String::new();
    for op in sparse_ops(s) {
        match op {
            SparseOp::Zero(n) => out.push_str(&format!("z:{n} ")),
            SparseOp::XZero(n) => out.push_str(&format!("Z:{n} ")),
            SparseOp::Val { value, len } => out.push_str(&format!("v:{value},{len} ")),
        }
    }
    out.truncate(out.trim_end_matches(' ').len());
    out
}

#[inline]
fn val_op(val: u8, len: usize) -> u8 {
    (((val - 1) << 2) | (len as u8 - 1)) | 0x80
}
#[inline]
fn push_zero_run(seq: &mut Vec<u8>, len: usize) {
    if len > SPARSE_ZERO_MAX_LEN {
        let l = len - 1;
        seq.push(((l >> 8) as u8) | 0x40);
        seq.push((l & 0xff) as u8);
    } else {
        seq.push((len - 1) as u8);
    }
}

/// A new, empty HLL: sparse, all registers zero (`createHLLObject`).
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(64);
    v.extend_from_slice(b"HYLL");
    v.push(HLL_SPARSE);
    v.extend_from_slice(&[0u8; 11]);
    let mut aux = HLL_REGISTERS;
    while aux > 0 {
        let xz = aux.min(SPARSE_XZERO_MAX_LEN);
        let l = xz - 1;
        v.push(((l >> 8) as u8) | 0x40);
        v.push((l & 0xff) as u8);
        aux -= xz;
    }
    v
}

/// The dense form of a sparse HLL (header copied, cached cardinality included), or
/// None when the sparse data is corrupted (`hllSparseToDense`): the opcodes must cover
/// exactly the 16384 registers, a VAL run past the end is corrupted.
pub fn sparse_to_dense(s: &[u8]) -> Option<Vec<u8>> {
    let mut d = vec![0u8; HLL_DENSE_SIZE];
    d[..HLL_HDR_SIZE].copy_from_slice(&s[..HLL_HDR_SIZE]);
    d[4] = HLL_DENSE;
    let regs = &mut d[HLL_HDR_SIZE..];
    let mut idx = 0usize;
    for op in sparse_ops(&s[HLL_HDR_SIZE..]) {
        let (runlen, regval) = op.run();
        if regval != 0 {
            if runlen + idx > HLL_REGISTERS {
                return None; // overflow
            }
            for i in idx..idx + runlen {
                dense_put(regs, i, regval);
            }
        }
        idx += runlen;
    }
    (idx == HLL_REGISTERS).then_some(d)
}

/// Result of a register update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetResult {
    Unchanged,
    Updated,
    Invalid,
}

/// Sets register `index` of the sparse HLL `s` to `count` when that is larger
/// (`hllSparseSet`), splitting the opcode in place and merging adjacent VAL opcodes as
/// Redis does. Promotes `s` to dense when the value does not fit a VAL opcode or the
/// string would grow past `max_bytes`.
pub fn sparse_set(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> SetResult {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    // Step 1: find the opcode covering `index`.
    let end = s.len();
    let mut p = HLL_HDR_SIZE;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut span = 0usize;
    while p < end {
        let op = s[p];
        let mut oplen = 1;
        if is_zero(op) {
            span = zero_len(op);
        } else if is_val(op) {
            span = val_len(op);
        } else {
            span = xzero_len(s, p);
            oplen = 2;
        }
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return SetResult::Invalid;
    }
    let op = s[p];
    let (zero, xzero) = (is_zero(op), is_xzero(op));
    let next = if xzero { p + 2 } else { p + 1 };
    let next = (next < end).then_some(next);
    let runlen = if zero {
        zero_len(op)
    } else if xzero {
        xzero_len(s, p)
    } else {
        val_len(op)
    };

    // Step 2: the trivial cases, updated in place.
    let mut trivial = false;
    if !zero && !xzero {
        if val_value(op) >= count {
            return SetResult::Unchanged;
        }
        if runlen == 1 {
            s[p] = val_op(count, 1);
            trivial = true;
        }
    }
    if zero && runlen == 1 {
        s[p] = val_op(count, 1);
        trivial = true;
    }

    if !trivial {
        // The general case: split the opcode into up to three.
        let mut seq: Vec<u8> = Vec::with_capacity(5);
        let last = first + span - 1;
        if zero || xzero {
            if index != first {
                push_zero_run(&mut seq, index - first);
            }
            seq.push(val_op(count, 1));
            if index != last {
                push_zero_run(&mut seq, last - index);
            }
        } else {
            let curval = val_value(op);
            if index != first {
                seq.push(val_op(curval, index - first));
            }
            seq.push(val_op(count, 1));
            if index != last {
                seq.push(val_op(curval, last - index));
            }
        }
        // Step 3: substitute the new sequence for the old opcode.
        let oldlen = if xzero { 2 } else { 1 };
        let newlen = (end + seq.len()).saturating_sub(oldlen);
        if seq.len() > oldlen && newlen > max_bytes {
            return promote(s, index, count);
        }
        let old_end = match next {
            Some(n) => n,
            None => end,
        };
        s.splice(p..old_end, seq);
        s.truncate(newlen);
    }

    // Step 4: merge adjacent VAL opcodes of equal value, scanning from the previous one.
    let mut end = s.len();
    let mut p = prev.unwrap_or(HLL_HDR_SIZE);
    let mut scanlen = 5;
    while p < end && scanlen > 0 {
        scanlen -= 1;
        let op = s[p];
        if is_xzero(op) {
            p += 2;
            continue;
        } else if is_zero(op) {
            p += 1;
            continue;
        }
        if p + 1 < end && is_val(s[p + 1]) {
            let v1 = val_value(op);
            let v2 = val_value(s[p + 1]);
            if v1 == v2 {
                let len = val_len(op) + val_len(s[p + 1]);
                if len <= SPARSE_VAL_MAX_LEN {
                    s[p + 1] = val_op(v1, len);
                    s.remove(p);
                    end -= 1;
                    continue;
                }
            }
        }
        p += 1;
    }
    s[15] |= 0x80;
    SetResult::Updated
}

fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> SetResult {
    let Some(mut d) = sparse_to_dense(s) else {
        return SetResult::Invalid;
    };
    dense_set(&mut d[HLL_HDR_SIZE..], index, count);
    *s = d;
    SetResult::Updated
}

fn sparse_histo(s: &[u8], h: &mut [u32; 64]) -> bool {
    let mut idx = 0usize;
    for op in sparse_ops(s) {
        let (runlen, regval) = op.run();
        idx += runlen;
        h[regval as usize] += runlen as u32;
    }
    idx == HLL_REGISTERS
}

// ------------------------------------------------------------------------------------
// Whole-HLL operations
// ------------------------------------------------------------------------------------

/// `isHLLObjectOrReply` for a string: magic, known encoding, exact dense length.
pub fn is_valid(b: &[u8]) -> bool {
    b.len() >= HLL_HDR_SIZE && &b[..4] == b"HYLL" && b[4] <= HLL_MAX_ENCODING && (b[4] != HLL_DENSE || b.len() == HLL_DENSE_SIZE)
}

/// Adds an element to a valid HLL (either encoding), promoting a sparse one if needed.
pub fn add(v: &mut Vec<u8>, ele: &[u8], max_bytes: usize) -> SetResult {
    let (index, count) = pat_len(ele);
    add_hashed(v, index, count, max_bytes)
}

/// [`add`] for an element already hashed with [`pat_len`].
pub fn add_hashed(v: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> SetResult {
    match v[4] {
        HLL_DENSE => {
            if dense_set(&mut v[HLL_HDR_SIZE..], index, count) {
                SetResult::Updated
            } else {
                SetResult::Unchanged
            }
        }
        HLL_SPARSE => sparse_set(v, index, count, max_bytes),
        _ => SetResult::Invalid,
    }
}

/// True when [`sparse_set`] would leave the sparse HLL `s` unchanged for this register
/// (a VAL opcode already holding `count` or more covers `index`): lets PFADD skip
/// copying the value when nothing changes.
fn sparse_unchanged(s: &[u8], index: usize, count: u8) -> bool {
    if count > SPARSE_VAL_MAX_VALUE {
        return false;
    }
    let mut p = HLL_HDR_SIZE;
    let mut first = 0usize;
    while p < s.len() {
        let op = s[p];
        let (span, oplen) = if is_zero(op) {
            (zero_len(op), 1)
        } else if is_val(op) {
            (val_len(op), 1)
        } else {
            (xzero_len(s, p), 2)
        };
        if index < first + span {
            return is_val(op) && val_value(op) >= count;
        }
        p += oplen;
        first += span;
    }
    false
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let zp = z;
        z += x * y;
        y += y;
        if zp == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let zp = z;
        y *= 0.5;
        let t = 1.0 - x;
        z -= t * t * y;
        if zp == z {
            return z / 3.0;
        }
    }
}

/// The estimate from a register histogram (Ertl, arXiv:1702.01284, as Redis 7).
pub fn estimate(h: &[u32; 64]) -> u64 {
    let m = HLL_REGISTERS as f64;
    let q = HLL_Q as usize;
    let mut z = m * tau((m - h[q + 1] as f64) / m);
    for j in (1..=q).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    (HLL_ALPHA_INF * m * m / z).round() as u64
}

/// The cardinality of a valid HLL, or None when the sparse data is corrupted.
pub fn count(b: &[u8]) -> Option<u64> {
    let mut h = [0u32; 64];
    if b[4] == HLL_DENSE {
        dense_histo(&b[HLL_HDR_SIZE..], &mut h);
    } else if !sparse_histo(&b[HLL_HDR_SIZE..], &mut h) {
        return None;
    }
    Some(estimate(&h))
}

/// `max[i] = MAX(max[i], register i)` for a valid HLL (`hllMerge`); false when the
/// sparse data is corrupted.
pub fn merge_into(max: &mut [u8], b: &[u8]) -> bool {
    let regs = &b[HLL_HDR_SIZE..];
    if b[4] == HLL_DENSE {
        for (i, m) in max.iter_mut().enumerate().take(HLL_REGISTERS) {
            let v = dense_get(regs, i);
            if v > *m {
                *m = v;
            }
        }
        return true;
    }
    let mut i = 0usize;
    for op in sparse_ops(regs) {
        let (runlen, regval) = op.run();
        if regval != 0 {
            if runlen + i > HLL_REGISTERS {
                return false; // overflow
            }
            for m in &mut max[i..i + runlen] {
                *m = (*m).max(regval);
            }
        }
        i += runlen;
    }
    i == HLL_REGISTERS
}

#[inline]
fn invalidate(v: &mut [u8]) {
    v[15] |= 0x80;
}

// ------------------------------------------------------------------------------------
// Commands
// ------------------------------------------------------------------------------------

fn sparse_max_bytes(shared: &crate::ctx::Shared) -> usize {
    shared.config.read().get_i64("hll-sparse-max-bytes").max(0) as usize
}

fn check_hll(b: &[u8]) -> CmdResult {
    if is_valid(b) {
        Ok(())
    } else {
        Err(CmdError::raw(INVALID_HLL))
    }
}

/// PFADD key [element ...]
fn pfadd(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let now = ctx.now();
    let shared = ctx.shared;
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let mut updated = 0u64;
    match db.get_mut_untracked(key, now) {
        None => {
            let max_bytes = sparse_max_bytes(shared);
            let mut v = new_sparse();
            for ele in args.iter().skip(2) {
                if add(&mut v, ele, max_bytes) == SetResult::Updated {
                    updated += 1;
                }
            }
            updated += 1;
            invalidate(&mut v);
            db.set(key, Value::Str(Sso::from_vec_raw(v)), false);
        }
        Some(Value::Str(s)) => {
            check_hll(s.as_bytes())?;
            if s.as_bytes()[4] == HLL_DENSE {
                let b = s.as_bytes_mut();
                for ele in args.iter().skip(2) {
                    let (index, count) = pat_len(ele);
                    updated += dense_set(&mut b[HLL_HDR_SIZE..], index, count) as u64;
                }
                if updated > 0 {
                    invalidate(b);
                }
            } else {
                let max_bytes = sparse_max_bytes(shared);
                // Copied on the first element that changes a register.
                let mut v: Option<Vec<u8>> = None;
                for ele in args.iter().skip(2) {
                    let (index, count) = pat_len(ele);
                    let cur = match v.as_mut() {
                        Some(cur) => cur,
                        None if sparse_unchanged(s.as_bytes(), index, count) => continue,
                        None => v.insert(s.as_bytes().to_vec()),
                    };
                    match add_hashed(cur, index, count, max_bytes) {
                        SetResult::Updated => updated += 1,
                        SetResult::Unchanged => {}
                        SetResult::Invalid => {
                            // Redis updates in place: what was added before stays.
                            if let Some(v) = v {
                                *s = Sso::from_vec_raw(v);
                            }
                            return Err(CmdError::raw(CORRUPTED_HLL));
                        }
                    }
                }
                if let Some(mut v) = v {
                    if updated > 0 {
                        invalidate(&mut v);
                        *s = Sso::from_vec_raw(v);
                    }
                }
            }
            if updated > 0 {
                db.touch(key);
            }
        }
        Some(_) => return Err(CmdError::WrongType),
    }
    if updated > 0 {
        ctx.notify(b'$', "pfadd", key);
        ctx.dirty(updated);
    }
    ctx.out.int((updated > 0) as i64);
    Ok(())
}

/// Registers of several HLLs merged (missing keys count as empty), for PFCOUNT with
/// several keys and PFMERGE. Returns whether any source was dense.
fn merge_sources(ctx: &mut Ctx<'_>, args: &Args<'_>, max: &mut [u8]) -> Result<bool, CmdError> {
    let now = ctx.now();
    let stats = &ctx.shared.stats;
    let want_keymiss = ctx.shared.notify_flags.load(std::sync::atomic::Ordering::Relaxed) & (1 << 11) != 0;
    let mut missed = Vec::new();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let mut use_dense = false;
    for j in 1..args.len() {
        match db.get(args.get(j), now) {
            None => {
                stats.keyspace_misses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if want_keymiss {
                    missed.push(j);
                }
            }
            Some(v) => {
                stats.keyspace_hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Value::Str(s) = v else {
                    return Err(CmdError::WrongType);
                };
                let b = s.as_bytes();
                check_hll(b)?;
                if b[4] == HLL_DENSE {
                    use_dense = true;
                }
                if !merge_into(max, b) {
                    return Err(CmdError::raw(CORRUPTED_HLL));
                }
            }
        }
    }
    for j in missed {
        ctx.notify(b'm', "keymiss", args.get(j));
    }
    Ok(use_dense)
}

/// PFCOUNT key [key ...]
fn pfcount(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 2 {
        let mut max = vec![0u8; HLL_REGISTERS];
        merge_sources(ctx, &args, &mut max)?;
        let mut h = [0u32; 64];
        for &r in &max {
            h[r as usize] += 1;
        }
        ctx.out.int(estimate(&h) as i64);
        return Ok(());
    }
    let key = args.get(1);
    let now = ctx.now();
    let stats = &ctx.shared.stats;
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let (card, recomputed) = match db.get_mut_untracked(key, now) {
        None => {
            ctx.miss(key);
            ctx.out.int(0);
            return Ok(());
        }
        Some(Value::Str(s)) => {
            stats.keyspace_hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            check_hll(s.as_bytes())?;
            let b = s.as_bytes();
            if b[15] & 0x80 == 0 {
                let mut c = [0u8; 8];
                c.copy_from_slice(&b[8..16]);
                (u64::from_le_bytes(c), false)
            } else {
                let card = count(b).ok_or_else(|| CmdError::raw(CORRUPTED_HLL))?;
                s.as_bytes_mut()[8..16].copy_from_slice(&card.to_le_bytes());
                (card, true)
            }
        }
        Some(_) => {
            stats.keyspace_hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Err(CmdError::WrongType);
        }
    };
    if recomputed {
        db.touch(key);
        ctx.dirty(1);
    }
    ctx.out.int(card as i64);
    Ok(())
}

/// PFMERGE destkey [sourcekey ...]
fn pfmerge(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let mut max = vec![0u8; HLL_REGISTERS];
    let use_dense = merge_sources(ctx, &args, &mut max)?;
    let key = args.get(1);
    let max_bytes = sparse_max_bytes(ctx.shared);
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let mut v = match db.get_mut_untracked(key, now) {
        None => new_sparse(),
        Some(Value::Str(s)) => s.as_bytes().to_vec(),
        Some(_) => return Err(CmdError::WrongType),
    };
    if use_dense && v[4] == HLL_SPARSE {
        v = sparse_to_dense(&v).ok_or_else(|| CmdError::raw(CORRUPTED_HLL))?;
    }
    for (j, &m) in max.iter().enumerate() {
        if m == 0 {
            continue;
        }
        if v[4] == HLL_DENSE {
            dense_set(&mut v[HLL_HDR_SIZE..], j, m);
        } else {
            sparse_set(&mut v, j, m, max_bytes);
        }
    }
    invalidate(&mut v);
    db.set(key, Value::Str(Sso::from_vec_raw(v)), true);
    ctx.notify(b'$', "pfadd", key);
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

/// The bytes of a C string argument (up to the first NUL), for error messages.
fn c_str(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |n| &b[..n])
}

/// PFDEBUG <GETREG|DECODE|ENCODING|TODENSE> key
fn pfdebug(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let sub = args.get(1);
    let key = args.get(2);
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let s = match db.get_mut_untracked(key, now) {
        None => return Err(CmdError::err("The specified key does not exist")),
        Some(Value::Str(s)) => s,
        Some(_) => return Err(CmdError::WrongType),
    };
    check_hll(s.as_bytes())?;
    let sparse = s.as_bytes()[4] == HLL_SPARSE;
    if eq_ic(sub, "getreg") || eq_ic(sub, "todense") {
        let getreg = eq_ic(sub, "getreg");
        if sparse {
            let d = sparse_to_dense(s.as_bytes()).ok_or_else(|| CmdError::raw(CORRUPTED_HLL))?;
            *s = Sso::from_vec_raw(d);
        }
        if getreg {
            let regs = &s.as_bytes()[HLL_HDR_SIZE..];
            ctx.out.array(HLL_REGISTERS);
            for j in 0..HLL_REGISTERS {
                ctx.out.int(dense_get(regs, j) as i64);
            }
        } else {
            ctx.out.int(sparse as i64);
        }
        if sparse {
            ctx.dirty(1);
        }
    } else if eq_ic(sub, "decode") {
        if !sparse {
            return Err(CmdError::err("HLL encoding is not sparse"));
        }
        ctx.out.bulk(decode_sparse(&s.as_bytes()[HLL_HDR_SIZE..]).as_bytes());
    } else if eq_ic(sub, "encoding") {
        ctx.out.simple(if sparse { "sparse" } else { "dense" });
    } else {
        let name: String = String::from_utf8_lossy(c_str(sub)).chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect();
        return Err(CmdError::err(format!("Unknown PFDEBUG subcommand '{name}'")));
    }
    Ok(())
}

/// PFSELFTEST: checks the register accessors and that the sparse and dense encodings
/// agree and stay within the expected error.
fn pfselftest(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    match selftest() {
        Ok(()) => {
            ctx.out.ok();
            Ok(())
        }
        Err(msg) => Err(CmdError::raw(format!("TESTFAILED {msg}"))),
    }
}

fn selftest() -> Result<(), String> {
    // Register accessors against a plain array, with a fixed pseudo-random sequence.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut regs = vec![0u8; HLL_DENSE_SIZE - HLL_HDR_SIZE];
    let mut plain = vec![0u8; HLL_REGISTERS];
    for _ in 0..64 {
        for (i, p) in plain.iter_mut().enumerate() {
            let v = (next() & 63) as u8;
            *p = v;
            dense_put(&mut regs, i, v);
        }
        for (i, &p) in plain.iter().enumerate() {
            if dense_get(&regs, i) != p {
                return Err(format!("Register error at {i}"));
            }
        }
    }
    // Sparse and dense counts must match; both within 5 standard errors.
    let mut sparse = new_sparse();
    let mut dense = sparse_to_dense(&sparse).ok_or("sparse to dense failed")?;
    let relerr = 1.04 / (HLL_REGISTERS as f64).sqrt();
    let mut checkpoint = 1u64;
    for j in 1..=100_000u64 {
        let ele = next().to_le_bytes();
        add(&mut dense, &ele, 3000);
        add(&mut sparse, &ele, 3000);
        if j == checkpoint {
            let d = count(&dense).ok_or("corrupted dense")?;
            let s = count(&sparse).ok_or("corrupted sparse")?;
            if d != s {
                return Err(format!("Sparse and dense representations disagree: {s} vs {d}"));
            }
            let err = (j as f64 - d as f64).abs() / j as f64;
            if j >= 100 && err > relerr * 5.0 {
                return Err(format!("Error rate too high at {j}: {err}"));
            }
            checkpoint *= 10;
        }
    }
    Ok(())
}

const G: &str = "hyperloglog";

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Adds the specified elements to the specified HyperLogLog.",
        since: "2.8.9",
        complexity: "O(1) to add every element.",
        ..CommandDef::new("pfadd", -2, WRITE | DENYOOM | FAST, (1, 1, 1), G, pfadd)
    },
    CommandDef {
        summary: "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
        since: "2.8.9",
        complexity: "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
        ..CommandDef::new("pfcount", -2, READONLY | MAY_REPLICATE, (1, -1, 1), G, pfcount)
    },
    CommandDef {
        summary: "Merge N different HyperLogLogs into a single one.",
        since: "2.8.9",
        complexity: "O(N) to merge N HyperLogLogs, but with high constant times.",
        ..CommandDef::new("pfmerge", -2, WRITE | DENYOOM, (1, -1, 1), G, pfmerge)
    },
    CommandDef {
        summary: "Internal commands for debugging HyperLogLog values",
        since: "2.8.9",
        complexity: "N/A",
        ..CommandDef::new("pfdebug", 3, WRITE | DENYOOM | ADMIN, (2, 2, 1), G, pfdebug)
    },
    CommandDef {
        summary: "An internal command for testing HyperLogLog values",
        since: "2.8.9",
        complexity: "N/A",
        ..CommandDef::new("pfselftest", 1, ADMIN, (0, 0, 0), G, pfselftest)
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(b: &[u8]) -> String {
        decode_sparse(&b[HLL_HDR_SIZE..])
    }

    #[test]
    fn murmur_matches_redis() {
        // PFADD h a b c on redis-server 7.0 decodes to
        // Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603
        let mut v = new_sparse();
        for e in [&b"a"[..], b"b", b"c"] {
            assert_eq!(add(&mut v, e, 3000), SetResult::Updated);
        }
        assert_eq!(decode(&v), "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603");
    }

    #[test]
    fn new_sparse_is_one_xzero() {
        let v = new_sparse();
        assert_eq!(v.len(), 18);
        assert_eq!(&v[16..], &[0x7f, 0xff]);
        assert_eq!(count(&v), Some(0));
    }

    #[test]
    fn dense_registers_roundtrip() {
        let mut r = vec![0u8; HLL_DENSE_SIZE - HLL_HDR_SIZE];
        for i in 0..HLL_REGISTERS {
            dense_put(&mut r, i, (i % 64) as u8);
        }
        for i in 0..HLL_REGISTERS {
            assert_eq!(dense_get(&r, i), (i % 64) as u8);
        }
    }

    #[test]
    fn sparse_split_and_merge() {
        let mut v = new_sparse();
        assert_eq!(sparse_set(&mut v, 1000, 2, 3000), SetResult::Updated);
        assert_eq!(decode(&v), "Z:1000 v:2,1 Z:15383");
        assert_eq!(sparse_set(&mut v, 1001, 2, 3000), SetResult::Updated);
        assert_eq!(decode(&v), "Z:1000 v:2,2 Z:15382");
        assert_eq!(sparse_set(&mut v, 1001, 1, 3000), SetResult::Unchanged);
        assert_eq!(sparse_set(&mut v, 1003, 2, 3000), SetResult::Updated);
        assert_eq!(decode(&v), "Z:1000 v:2,2 z:1 v:2,1 Z:15380");
        assert_eq!(sparse_set(&mut v, 1002, 2, 3000), SetResult::Updated);
        assert_eq!(decode(&v), "Z:1000 v:2,4 Z:15380");
        assert_eq!(sparse_set(&mut v, 1001, 3, 3000), SetResult::Updated);
        assert_eq!(decode(&v), "Z:1000 v:2,1 v:3,1 v:2,2 Z:15380");
        assert_eq!(sparse_set(&mut v, 5, 4, 3000), SetResult::Updated);
        assert_eq!(decode(&v), "z:5 v:4,1 Z:994 v:2,1 v:3,1 v:2,2 Z:15380");
    }

    #[test]
    fn sparse_promotes_on_size_and_value() {
        let mut v = new_sparse();
        assert_eq!(sparse_set(&mut v, 100, 33, 3000), SetResult::Updated);
        assert_eq!(v.len(), HLL_DENSE_SIZE);
        assert_eq!(v[4], HLL_DENSE);
        assert_eq!(dense_get(&v[16..], 100), 33);
        let mut v = new_sparse();
        assert_eq!(sparse_set(&mut v, 100, 3, 19), SetResult::Updated);
        assert_eq!(v[4], HLL_DENSE);
    }

    #[test]
    fn sparse_and_dense_agree() {
        let mut s = new_sparse();
        let mut d = sparse_to_dense(&s).unwrap();
        for i in 0..2000u32 {
            let e = i.to_string();
            add(&mut s, e.as_bytes(), usize::MAX);
            add(&mut d, e.as_bytes(), usize::MAX);
        }
        assert_eq!(s[4], HLL_SPARSE);
        assert_eq!(count(&s), count(&d));
        assert_eq!(sparse_to_dense(&s).unwrap()[16..], d[16..]);
        let c = count(&d).unwrap() as f64;
        assert!((c - 2000.0).abs() < 100.0, "{c}");
    }

    #[test]
    fn corrupted_sparse_detected() {
        let mut v = new_sparse();
        v.truncate(17);
        v.push(0x00);
        assert!(count(&v).is_none());
        assert!(sparse_to_dense(&v).is_none());
        let mut max = vec![0u8; HLL_REGISTERS];
        assert!(!merge_into(&mut max, &v));
        assert!(!is_valid(b"HYLL\x00"));
        assert!(!is_valid(b"HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"));
    }

    #[test]
    fn sparse_unchanged_predicts_sparse_set() {
        let mut v = new_sparse();
        for i in 0..600u32 {
            let (index, count) = pat_len(format!("u{i}").as_bytes());
            let predicted = sparse_unchanged(&v, index, count);
            let before = v.clone();
            let r = sparse_set(&mut v, index, count, 3000);
            assert_eq!(predicted, r == SetResult::Unchanged, "element {i}");
            if predicted {
                assert_eq!(v, before);
            }
            // Re-adding is always a no-op.
            assert!(sparse_unchanged(&v, index, count) || v[4] == HLL_DENSE);
        }
    }

    #[test]
    fn selftest_passes() {
        assert_eq!(selftest(), Ok(()));
    }
}
