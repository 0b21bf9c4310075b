//! Family: bitmaps (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO).
//!
//! Bitmaps are plain strings: bit 0 is the most significant bit of the first byte.
//! Writes that keep the string's length update its bytes in place; growing writes build
//! the zero-padded bytes and store them keeping the TTL.

use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::table::{flags::*, CommandDef};
use crate::util::{eq_ic, parse_i64};
use shoal_keyspace::value::shoal_parse_i64;
use shoal_keyspace::{Db, Sso, Value};
use shoal_resp::Args;

/// The smallest `proto-max-bulk-len`: offsets below it need no config read.
const MIN_PROTO_MAX_BULK_LEN: i64 = 1024 * 1024;

/// Redis's `getBitOffsetFromArgument`: a bit offset, optionally `#N` (times `bits`) for
/// BITFIELD; negative or beyond `proto-max-bulk-len` bytes is refused.
fn bit_offset(ctx: &Ctx<'_>, arg: &[u8], hash: bool, bits: u32) -> Result<u64, CmdError> {
    let usehash = hash && bits > 0 && arg.first() == Some(&b'#');
    let mut v = shoal_parse_i64(&arg[usehash as usize..]).ok_or(CmdError::BitOutOfRange)?;
    if usehash {
        v = v.wrapping_mul(bits as i64);
    }
    if v < 0 || ((v >> 3) >= MIN_PROTO_MAX_BULK_LEN && (v >> 3) >= ctx.shared.config.read().get_i64("proto-max-bulk-len")) {
        return Err(CmdError::BitOutOfRange);
    }
    Ok(v as u64)
}

/// The string at `key` for reading: None when absent, WRONGTYPE for other types.
fn read_str<'d>(db: &'d mut Db, key: &[u8], now: u64) -> Result<Option<&'d [u8]>, CmdError> {
    match db.get(key, now) {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.as_bytes())),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Redis's `lookupStringForBitCommand` after the type check: makes the string at `key`
/// at least `min_len` bytes (creating or zero-extending it). True when it was created or
/// grown.
fn ensure_len(db: &mut Db, key: &[u8], now: u64, cur: Option<usize>, min_len: usize) -> bool {
    match cur {
        Some(l) if l >= min_len => false,
        _ => {
            let mut v = Vec::with_capacity(min_len);
            if let Some(Value::Str(s)) = db.get(key, now) {
                v.extend_from_slice(s.as_bytes());
            }
            v.resize(min_len, 0);
            db.set(key, Value::Str(Sso::from_vec_raw(v)), true);
            true
        }
    }
}

/// Mutable bytes of the string at `key` (known to exist). Signals WATCHers.
fn bytes_mut<'d>(db: &'d mut Db, key: &[u8], now: u64) -> Option<&'d mut [u8]> {
    match db.get_mut(key, now) {
        Some(Value::Str(s)) => Some(s.as_bytes_mut()),
        _ => None,
    }
}

/// SETBIT key offset value
fn setbit(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let off = bit_offset(ctx, args.get(2), false, 0)?;
    let bad = || CmdError::err("bit is not an integer or out of range");
    let on = shoal_parse_i64(args.get(3)).ok_or_else(bad)?;
    if on & !1 != 0 {
        return Err(bad());
    }
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let byte = (off >> 3) as usize;
    let shift = 7 - (off & 7) as u32;
    let cur = read_str(db, key, now)?;
    let (len, old) = match cur {
        Some(s) => (Some(s.len()), s.get(byte).map_or(0, |b| (b >> shift) & 1)),
        None => (None, 0),
    };
    let grown = ensure_len(db, key, now, len, byte + 1);
    if grown || old as i64 != on {
        if let Some(b) = bytes_mut(db, key, now) {
            b[byte] = (b[byte] & !(1 << shift)) | ((on as u8) << shift);
        }
        ctx.notify(b'$', "setbit", key);
        ctx.dirty(1);
    } else if let Some(Value::Str(s)) = db.get_mut_untracked(key, now) {
        // Redis unshares (and so makes raw) the string even when no bit changes.
        s.set_raw();
    }
    ctx.out.int(old as i64);
    Ok(())
}

/// GETBIT key offset
fn getbit(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let off = bit_offset(ctx, args.get(2), false, 0)?;
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let bit = match read_str(db, args.get(1), now)? {
        None => {
            ctx.miss(args.get(1));
            0
        }
        Some(s) => {
            let v = s.get((off >> 3) as usize).map_or(0, |b| (b >> (7 - (off & 7))) & 1);
            ctx.hit(true);
            v
        }
    };
    ctx.out.int(bit as i64);
    Ok(())
}

/// Number of set bits.
pub fn popcount(s: &[u8]) -> u64 {
    let mut chunks = s.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        n += u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]).count_ones() as u64;
    }
    n + chunks.remainder().iter().map(|b| b.count_ones() as u64).sum::<u64>()
}

/// Redis's `redisBitpos`: the position of the first bit equal to `bit`; when there is
/// none, -1 for a 1 and `8 * len` (the bit after the end) for a 0.
pub fn bitpos_raw(s: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0u8 } else { 0xff };
    match s.iter().position(|&b| b != skip) {
        Some(i) => {
            let b = if bit { s[i] } else { !s[i] };
            (i as i64) * 8 + b.leading_zeros() as i64
        }
        None => {
            if bit {
                -1
            } else {
                s.len() as i64 * 8
            }
        }
    }
}

/// Parses the BYTE|BIT unit argument.
fn parse_unit(arg: &[u8]) -> Result<bool, CmdError> {
    if eq_ic(arg, "bit") {
        Ok(true)
    } else if eq_ic(arg, "byte") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// BITCOUNT key [start end [BYTE|BIT]]
fn bitcount(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let Some(p) = read_str(db, args.get(1), now)? else {
        ctx.miss(args.get(1));
        ctx.out.int(0);
        return Ok(());
    };
    let n = bitcount_range(p, args)?;
    ctx.hit(true);
    ctx.out.int(n);
    Ok(())
}

/// The BITCOUNT reply for an existing string (argument parsing after the lookup, as 7.0).
fn bitcount_range(p: &[u8], args: Args<'_>) -> Result<i64, CmdError> {
    let strlen = p.len() as i64;
    let (mut start, mut end);
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    if args.len() == 4 || args.len() == 5 {
        start = parse_i64(args.get(2))?;
        end = parse_i64(args.get(3))?;
        if start < 0 && end < 0 && start > end {
            return Ok(0);
        }
        let isbit = if args.len() == 5 { parse_unit(args.get(4))? } else { false };
        let totlen = if isbit { strlen << 3 } else { strlen };
        if start < 0 {
            start += totlen;
        }
        if end < 0 {
            end += totlen;
        }
        start = start.max(0);
        end = end.max(0);
        if end >= totlen {
            end = totlen - 1;
        }
        if isbit && start <= end {
            first_mask = !((1u32 << (8 - (start & 7))) - 1) as u8;
            last_mask = ((1u32 << (7 - (end & 7))) - 1) as u8;
            start >>= 3;
            end >>= 3;
        }
    } else if args.len() == 2 {
        start = 0;
        end = strlen - 1;
    } else {
        return Err(CmdError::Syntax);
    }
    if start > end {
        return Ok(0);
    }
    let (s, e) = (start as usize, end as usize);
    let mut count = popcount(&p[s..=e]) as i64;
    if first_mask != 0 {
        count -= (p[s] & first_mask).count_ones() as i64;
    }
    if last_mask != 0 {
        count -= (p[e] & last_mask).count_ones() as i64;
    }
    Ok(count)
}

/// BITPOS key bit [start [end [BYTE|BIT]]]
fn bitpos(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let bit = parse_i64(args.get(2))?;
    if bit != 0 && bit != 1 {
        return Err(CmdError::err("The bit argument must be 1 or 0."));
    }
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let Some(p) = read_str(db, args.get(1), now)? else {
        ctx.miss(args.get(1));
        ctx.out.int(if bit == 1 { -1 } else { 0 });
        return Ok(());
    };
    let n = bitpos_range(p, bit == 1, args)?;
    ctx.hit(true);
    ctx.out.int(n);
    Ok(())
}

/// The BITPOS reply for an existing string, as Redis 7.0's `bitposCommand`.
fn bitpos_range(p: &[u8], bit: bool, args: Args<'_>) -> Result<i64, CmdError> {
    let strlen = p.len() as i64;
    let argc = args.len();
    let (mut start, mut end);
    let mut end_given = false;
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    if (4..=6).contains(&argc) {
        start = parse_i64(args.get(3))?;
        let isbit = if argc == 6 { parse_unit(args.get(5))? } else { false };
        if argc >= 5 {
            end = parse_i64(args.get(4))?;
            end_given = true;
        } else if isbit {
            end = (strlen << 3) + 7;
        } else {
            end = strlen - 1;
        }
        let totlen = if isbit { strlen << 3 } else { strlen };
        if start < 0 {
            start += totlen;
        }
        if end < 0 {
            end += totlen;
        }
        start = start.max(0);
        end = end.max(0);
        if end >= totlen {
            end = totlen - 1;
        }
        if isbit && start <= end {
            first_mask = !((1u32 << (8 - (start & 7))) - 1) as u8;
            last_mask = ((1u32 << (7 - (end & 7))) - 1) as u8;
            start >>= 3;
            end >>= 3;
        }
    } else if argc == 3 {
        start = 0;
        end = strlen - 1;
    } else {
        return Err(CmdError::Syntax);
    }
    if start > end {
        return Ok(-1);
    }
    let mut start = start as usize;
    let end = end as usize;
    let mut bytes = end - start + 1;
    let pos = 'result: {
        if first_mask != 0 {
            let mut t = if bit { p[start] & !first_mask } else { p[start] | first_mask };
            if last_mask != 0 && bytes == 1 {
                t = if bit { t & !last_mask } else { t | last_mask };
            }
            let pos = bitpos_raw(&[t], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'result pos;
            }
            start += 1;
            bytes -= 1;
        }
        let curbytes = bytes - usize::from(last_mask != 0);
        if curbytes > 0 {
            let pos = bitpos_raw(&p[start..start + curbytes], bit);
            if bytes == curbytes || (pos != -1 && pos != (curbytes as i64) << 3) {
                break 'result pos;
            }
            start += curbytes;
            bytes -= curbytes;
        }
        let t = if bit { p[end] & !last_mask } else { p[end] | last_mask };
        bitpos_raw(&[t], bit)
    };
    if end_given && !bit && pos == (bytes as i64) << 3 {
        return Ok(-1);
    }
    Ok(if pos != -1 { pos + ((start as i64) << 3) } else { pos })
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]
fn bitop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    #[derive(PartialEq, Clone, Copy)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let name = args.get(1);
    let op = if eq_ic(name, "and") {
        Op::And
    } else if eq_ic(name, "or") {
        Op::Or
    } else if eq_ic(name, "xor") {
        Op::Xor
    } else if eq_ic(name, "not") {
        Op::Not
    } else {
        return Err(CmdError::Syntax);
    };
    if op == Op::Not && args.len() != 4 {
        return Err(CmdError::err("BITOP NOT must be called with a single source key."));
    }
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    // Type-check every source (and expire them) before reading.
    let mut maxlen = 0usize;
    for key in args.iter().skip(3) {
        if let Some(s) = read_str(db, key, now)? {
            maxlen = maxlen.max(s.len());
        }
    }
    let dest = args.get(2);
    if maxlen == 0 {
        if db.remove(dest).is_some() {
            ctx.notify(b'g', "del", dest);
            ctx.dirty(1);
        }
        ctx.out.int(0);
        return Ok(());
    }
    let mut res: Vec<u8> = Vec::new();
    for (i, key) in args.iter().skip(3).enumerate() {
        let src: &[u8] = db.peek(key, now).and_then(|v| v.as_str()).unwrap_or(b"");
        if i == 0 {
            res.extend_from_slice(src);
            res.resize(maxlen, 0);
            if op == Op::Not {
                res.iter_mut().for_each(|b| *b = !*b);
            }
            continue;
        }
        let n = src.len();
        match op {
            Op::And => {
                res[..n].iter_mut().zip(src).for_each(|(r, s)| *r &= s);
                res[n..].iter_mut().for_each(|r| *r = 0);
            }
            Op::Or => res[..n].iter_mut().zip(src).for_each(|(r, s)| *r |= s),
            Op::Xor => res[..n].iter_mut().zip(src).for_each(|(r, s)| *r ^= s),
            Op::Not => {}
        }
    }
    if db.expires_len() > 0 {
        // setKey's lookupKeyWrite: an expired destination expires first (its event).
        db.get(dest, now);
    }
    db.set(dest, Value::Str(Sso::from_vec_raw(res)), false);
    ctx.notify(b'$', "set", dest);
    ctx.dirty(1);
    ctx.out.int(maxlen as i64);
    Ok(())
}

// ---- BITFIELD ----

#[derive(Clone, Copy, PartialEq, Debug)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum FieldOp {
    Get,
    Set,
    Incrby,
}

#[derive(Clone, Copy, Debug)]
struct BitfieldOp {
    offset: u64,
    value: i64,
    op: FieldOp,
    overflow: Overflow,
    bits: u32,
    signed: bool,
}

/// Redis's `getBitfieldTypeFromArgument`: `i1`..`i64` or `u1`..`u63`.
fn bitfield_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let err = || CmdError::err("Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err()),
    };
    let bits = shoal_parse_i64(&arg[1..]).ok_or_else(err)?;
    if bits < 1 || (signed && bits > 64) || (!signed && bits > 63) {
        return Err(err());
    }
    Ok((signed, bits as u32))
}

/// Reads `bits` bits at bit `offset` of `p` as an unsigned integer (big-endian bit order).
pub fn get_unsigned(p: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for j in 0..bits as u64 {
        let o = offset + j;
        let bit = (p[(o >> 3) as usize] >> (7 - (o & 7))) & 1;
        v = (v << 1) | bit as u64;
    }
    v
}

/// Reads a two's-complement signed field.
pub fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let mut v = get_unsigned(p, offset, bits) as i64;
    if bits < 64 && v & (1i64 << (bits - 1)) != 0 {
        v |= (-1i64) << bits;
    }
    v
}

/// Writes the low `bits` bits of `value` at bit `offset`.
pub fn set_unsigned(p: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..bits as u64 {
        let bitval = ((value >> (bits as u64 - 1 - j)) & 1) as u8;
        let o = offset + j;
        let byte = (o >> 3) as usize;
        let sh = 7 - (o & 7);
        p[byte] = (p[byte] & !(1 << sh)) | (bitval << sh);
    }
}

/// Redis's `checkUnsignedBitfieldOverflow`: Some(result) on overflow (wrapped or
/// saturated; None-equivalent for FAIL is the caller's business), None when in range.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max: u64 = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || {
        let mask = if bits >= 64 { 0 } else { u64::MAX << bits };
        value.wrapping_add(incr as u64) & !mask
    };
    if value > max || (incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat => max,
            Overflow::Fail => 0,
        })
    } else if incr < 0 && incr < minincr {
        Some(match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat => 0,
            Overflow::Fail => 0,
        })
    } else {
        None
    }
}

/// Redis's `checkSignedBitfieldOverflow`.
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max: i64 = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat => max,
            Overflow::Fail => 0,
        })
    } else if value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat => min,
            Overflow::Fail => 0,
        })
    } else {
        None
    }
}

/// Applies one SET/INCRBY to the 9-byte window `buf` (field at bit `off` of it).
/// Returns (reply value or None for a FAIL overflow, whether the field changed).
fn apply_write(buf: &mut [u8; 9], off: u64, op: &BitfieldOp) -> (Option<i64>, bool) {
    if op.signed {
        let old = get_signed(buf, off, op.bits);
        let (new, ovf, ret) = if op.op == FieldOp::Incrby {
            let o = signed_overflow(old, op.value, op.bits, op.overflow);
            let n = o.unwrap_or_else(|| old.wrapping_add(op.value));
            (n, o.is_some(), n)
        } else {
            let o = signed_overflow(op.value, 0, op.bits, op.overflow);
            (o.unwrap_or(op.value), o.is_some(), old)
        };
        if ovf && op.overflow == Overflow::Fail {
            return (None, false);
        }
        set_unsigned(buf, off, op.bits, new as u64);
        (Some(ret), old != new)
    } else {
        let old = get_unsigned(buf, off, op.bits);
        let (new, ovf, ret) = if op.op == FieldOp::Incrby {
            let o = unsigned_overflow(old, op.value, op.bits, op.overflow);
            let n = o.unwrap_or_else(|| old.wrapping_add(op.value as u64));
            (n, o.is_some(), n)
        } else {
            let o = unsigned_overflow(op.value as u64, 0, op.bits, op.overflow);
            (o.unwrap_or(op.value as u64), o.is_some(), old)
        };
        if ovf && op.overflow == Overflow::Fail {
            return (None, false);
        }
        set_unsigned(buf, off, op.bits, new);
        (Some(ret as i64), old != new)
    }
}

/// Copies the (up to) 9 bytes holding a field starting at `byte`, zero-filled past the end.
fn window(src: Option<&[u8]>, byte: usize) -> [u8; 9] {
    let mut buf = [0u8; 9];
    if let Some(s) = src {
        if byte < s.len() {
            let n = (s.len() - byte).min(9);
            buf[..n].copy_from_slice(&s[byte..byte + n]);
        }
    }
    buf
}

fn bitfield_generic(ctx: &mut Ctx<'_>, args: Args<'_>, ro_cmd: bool) -> CmdResult {
    let mut ops: Vec<BitfieldOp> = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut readonly = true;
    let mut highest: u64 = 0;
    let mut j = 2;
    while j < args.len() {
        let remargs = args.len() - j - 1;
        let sub = args.get(j);
        let op = if eq_ic(sub, "get") && remargs >= 2 {
            FieldOp::Get
        } else if eq_ic(sub, "set") && remargs >= 3 {
            FieldOp::Set
        } else if eq_ic(sub, "incrby") && remargs >= 3 {
            FieldOp::Incrby
        } else if eq_ic(sub, "overflow") && remargs >= 1 {
            let t = args.get(j + 1);
            overflow = if eq_ic(t, "wrap") {
                Overflow::Wrap
            } else if eq_ic(t, "sat") {
                Overflow::Sat
            } else if eq_ic(t, "fail") {
                Overflow::Fail
            } else {
                return Err(CmdError::err("Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(CmdError::Syntax);
        };
        let (signed, bits) = bitfield_type(args.get(j + 1))?;
        let offset = bit_offset(ctx, args.get(j + 2), true, bits)?;
        let mut value = 0;
        if op != FieldOp::Get {
            readonly = false;
            highest = highest.max(offset + bits as u64 - 1);
            value = parse_i64(args.get(j + 3))?;
        }
        ops.push(BitfieldOp { offset, value, op, overflow, bits, signed });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }
    let key = args.get(1);
    let now = ctx.now();
    if readonly {
        let db = &mut ctx.st.ks.dbs[ctx.client.db];
        let src = read_str(db, key, now)?;
        ctx.out.array(ops.len());
        for op in &ops {
            let byte = (op.offset >> 3) as usize;
            let buf = window(src, byte);
            let off = op.offset - byte as u64 * 8;
            let v = if op.signed { get_signed(&buf, off, op.bits) } else { get_unsigned(&buf, off, op.bits) as i64 };
            ctx.out.int(v);
        }
        return Ok(());
    }
    if ro_cmd {
        return Err(CmdError::err("BITFIELD_RO only supports the GET subcommand"));
    }
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let cur = read_str(db, key, now)?.map(|s| s.len());
    let grown = ensure_len(db, key, now, cur, (highest >> 3) as usize + 1);
    if let Some(Value::Str(s)) = db.get_mut_untracked(key, now) {
        // Redis unshares (makes raw) the string for any write operation, changed or not.
        s.set_raw();
    }
    ctx.out.array(ops.len());
    let mut changes = 0u64;
    for op in &ops {
        let byte = (op.offset >> 3) as usize;
        let off = op.offset - byte as u64 * 8;
        let mut buf = window(read_str(db, key, now).ok().flatten(), byte);
        if op.op == FieldOp::Get {
            let v = if op.signed { get_signed(&buf, off, op.bits) } else { get_unsigned(&buf, off, op.bits) as i64 };
            ctx.out.int(v);
            continue;
        }
        match apply_write(&mut buf, off, op) {
            (None, _) => ctx.out.null(),
            (Some(ret), changed) => {
                ctx.out.int(ret);
                if grown || changed {
                    changes += 1;
                }
                if changed {
                    if let Some(b) = bytes_mut(db, key, now) {
                        let n = (b.len() - byte).min(9);
                        b[byte..byte + n].copy_from_slice(&buf[..n]);
                    }
                }
            }
        }
    }
    if changes > 0 {
        ctx.notify(b'$', "setbit", key);
        ctx.dirty(changes);
    }
    Ok(())
}

fn bitfield(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    bitfield_generic(ctx, args, false)
}

fn bitfield_ro(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    bitfield_generic(ctx, args, true)
}

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Sets or clears the bit at offset in the string value stored at key",
        since: "2.2.0",
        complexity: "O(1)",
        ..CommandDef::new("setbit", 4, WRITE | DENYOOM, (1, 1, 1), "bitmap", setbit)
    },
    CommandDef {
        summary: "Returns the bit value at offset in the string value stored at key",
        since: "2.2.0",
        complexity: "O(1)",
        ..CommandDef::new("getbit", 3, READONLY | FAST, (1, 1, 1), "bitmap", getbit)
    },
    CommandDef {
        summary: "Count set bits in a string",
        since: "2.6.0",
        complexity: "O(N)",
        ..CommandDef::new("bitcount", -2, READONLY, (1, 1, 1), "bitmap", bitcount)
    },
    CommandDef {
        summary: "Find first bit set or clear in a string",
        since: "2.8.7",
        complexity: "O(N)",
        ..CommandDef::new("bitpos", -3, READONLY, (1, 1, 1), "bitmap", bitpos)
    },
    CommandDef {
        summary: "Perform bitwise operations between strings",
        since: "2.6.0",
        complexity: "O(N)",
        ..CommandDef::new("bitop", -4, WRITE | DENYOOM, (2, -1, 1), "bitmap", bitop)
    },
    CommandDef {
        summary: "Perform arbitrary bitfield integer operations on strings",
        since: "3.2.0",
        complexity: "O(1) for each subcommand specified",
        ..CommandDef::new("bitfield", -2, WRITE | DENYOOM, (1, 1, 1), "bitmap", bitfield)
    },
    CommandDef {
        summary: "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
        since: "6.0.0",
        complexity: "O(1) for each subcommand specified",
        ..CommandDef::new("bitfield_ro", -2, READONLY | FAST, (1, 1, 1), "bitmap", bitfield_ro)
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitpos_raw_edges() {
        assert_eq!(bitpos_raw(&[0xff, 0xf0], false), 12);
        assert_eq!(bitpos_raw(&[0xff, 0xff], false), 16);
        assert_eq!(bitpos_raw(&[0, 0], true), -1);
        assert_eq!(bitpos_raw(&[0, 0x01], true), 15);
        assert_eq!(bitpos_raw(&[], false), 0);
    }

    #[test]
    fn fields_roundtrip() {
        let mut b = [0u8; 9];
        set_unsigned(&mut b, 7, 5, 23);
        assert_eq!(&b[..2], &[0b0000_0001, 0b0111_0000]);
        assert_eq!(get_unsigned(&b, 7, 5), 23);
        set_unsigned(&mut b, 3, 64, (-5i64) as u64);
        assert_eq!(get_signed(&b, 3, 64), -5);
        set_unsigned(&mut b, 0, 4, 0b1010);
        assert_eq!(get_signed(&b, 0, 4), -6);
    }

    #[test]
    fn overflow_rules() {
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Wrap), Some(4));
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Sat), Some(255));
        assert_eq!(unsigned_overflow(5, -10, 8, Overflow::Sat), Some(0));
        assert_eq!(unsigned_overflow(5, -10, 8, Overflow::Wrap), Some(251));
        assert_eq!(unsigned_overflow(5, 10, 8, Overflow::Wrap), None);
        assert_eq!(signed_overflow(120, 10, 8, Overflow::Wrap), Some(-126));
        assert_eq!(signed_overflow(120, 10, 8, Overflow::Sat), Some(127));
        assert_eq!(signed_overflow(-120, -10, 8, Overflow::Sat), Some(-128));
        assert_eq!(signed_overflow(i64::MAX, 1, 64, Overflow::Wrap), Some(i64::MIN));
        assert_eq!(signed_overflow(1000, 0, 8, Overflow::Wrap), Some(-24));
        assert_eq!(signed_overflow(3, 4, 8, Overflow::Fail), None);
    }

    #[test]
    fn types() {
        assert_eq!(bitfield_type(b"i64"), Ok((true, 64)));
        assert_eq!(bitfield_type(b"u63"), Ok((false, 63)));
        assert!(bitfield_type(b"u64").is_err());
        assert!(bitfield_type(b"i0").is_err());
        assert!(bitfield_type(b"I8").is_err());
        assert!(bitfield_type(b"i").is_err());
        assert!(bitfield_type(b"").is_err());
    }
}
