//! Family: strings (GET, SET and its options, counters, ranges, LCS).
//!
//! Strings are immutable [`Sso`] bytes: a mutation builds the new bytes and stores them
//! with `Db::set(.., keep_ttl = true)`; an update that keeps the length (SETRANGE inside
//! the string) writes in place through `Sso::as_bytes_mut`.

use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::table::{flags::*, CommandDef};
use crate::util::{eq_ic, parse_i64};
use shoal_keyspace::value::shoal_parse_i64;
use shoal_keyspace::Value;
use shoal_resp::Args;

/// Reads the string at `key`: Ok(None) when absent, WRONGTYPE for other types.
pub fn get_str<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c [u8]>, CmdError> {
    let now = ctx.now();
    match ctx.st.ks.dbs[ctx.client.db].get(key, now) {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.as_bytes())),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The smallest value `proto-max-bulk-len` accepts: lengths up to this need no config read.
const MIN_PROTO_MAX_BULK_LEN: i64 = 1024 * 1024;

/// Redis's `checkStringLength`: a string result longer than `proto-max-bulk-len` is refused.
pub fn check_string_length(ctx: &Ctx<'_>, size: i64) -> CmdResult {
    if size > MIN_PROTO_MAX_BULK_LEN && size > ctx.shared.config.read().get_i64("proto-max-bulk-len") {
        return Err(CmdError::err("string exceeds maximum allowed size (proto-max-bulk-len)"));
    }
    Ok(())
}

/// Formats an i64 into a stack buffer, returning the digits.
#[inline]
pub fn fmt_i64(buf: &mut [u8; 20], n: i64) -> &[u8] {
    let mut i = buf.len();
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

fn get(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    match db.get(args.get(1), now) {
        None => {
            ctx.out.null();
            ctx.miss(args.get(1));
        }
        Some(Value::Str(s)) => {
            ctx.out.bulk(s.as_bytes());
            ctx.hit(true);
        }
        Some(_) => return Err(CmdError::WrongType),
    }
    Ok(())
}

// Option flags of SET and GETEX, as Redis's OBJ_* flags.
const F_NX: u32 = 1 << 0;
const F_XX: u32 = 1 << 1;
const F_EX: u32 = 1 << 2;
const F_PX: u32 = 1 << 3;
const F_KEEPTTL: u32 = 1 << 4;
const F_GET: u32 = 1 << 5;
const F_EXAT: u32 = 1 << 6;
const F_PXAT: u32 = 1 << 7;
const F_PERSIST: u32 = 1 << 8;
const F_ANY_EXPIRE: u32 = F_EX | F_PX | F_EXAT | F_PXAT;

/// Redis's `parseExtendedStringArgumentsOrReply`: SET options (from argument 3) or GETEX
/// options (from argument 2), with the same acceptance rules (e.g. `NX NX` and `EX 1 EX 2`
/// are accepted, `EX 1 PX 2` is a syntax error). Returns (flags, expire argument).
fn parse_ext<'a>(args: Args<'a>, is_set: bool) -> Result<(u32, Option<&'a [u8]>), CmdError> {
    let mut flags = 0u32;
    let mut expire = None;
    let mut j = if is_set { 3 } else { 2 };
    while j < args.len() {
        let opt = args.get(j);
        let has_next = j + 1 < args.len();
        if is_set && eq_ic(opt, "nx") && flags & F_XX == 0 {
            flags |= F_NX;
        } else if is_set && eq_ic(opt, "xx") && flags & F_NX == 0 {
            flags |= F_XX;
        } else if is_set && eq_ic(opt, "get") {
            flags |= F_GET;
        } else if is_set && eq_ic(opt, "keepttl") && flags & (F_PERSIST | F_ANY_EXPIRE) == 0 {
            flags |= F_KEEPTTL;
        } else if !is_set && eq_ic(opt, "persist") && flags & (F_ANY_EXPIRE | F_KEEPTTL) == 0 {
            flags |= F_PERSIST;
        } else if has_next && eq_ic(opt, "ex") && flags & (F_KEEPTTL | F_PERSIST | F_EXAT | F_PX | F_PXAT) == 0 {
            flags |= F_EX;
            expire = Some(args.get(j + 1));
            j += 1;
        } else if has_next && eq_ic(opt, "px") && flags & (F_KEEPTTL | F_PERSIST | F_EX | F_EXAT | F_PXAT) == 0 {
            flags |= F_PX;
            expire = Some(args.get(j + 1));
            j += 1;
        } else if has_next && eq_ic(opt, "exat") && flags & (F_KEEPTTL | F_PERSIST | F_EX | F_PX | F_PXAT) == 0 {
            flags |= F_EXAT;
            expire = Some(args.get(j + 1));
            j += 1;
        } else if has_next && eq_ic(opt, "pxat") && flags & (F_KEEPTTL | F_PERSIST | F_EX | F_EXAT | F_PX) == 0 {
            flags |= F_PXAT;
            expire = Some(args.get(j + 1));
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok((flags, expire))
}

/// Redis's `getExpireMillisecondsOrReply`: the absolute unix-ms deadline of an EX/PX/EXAT/PXAT
/// argument. Non-integer -> "value is not an integer", <= 0 or overflow -> "invalid expire time".
fn expire_ms(arg: &[u8], flags: u32, now: u64, cmd: &'static str) -> Result<u64, CmdError> {
    let seconds = flags & (F_EX | F_EXAT) != 0;
    let mut ms = parse_i64(arg)?;
    if ms <= 0 || (seconds && ms > i64::MAX / 1000) {
        return Err(CmdError::InvalidExpire(cmd));
    }
    if seconds {
        ms *= 1000;
    }
    if flags & (F_EX | F_PX) != 0 {
        ms = ms.checked_add(now as i64).ok_or(CmdError::InvalidExpire(cmd))?;
    }
    Ok(ms as u64)
}

/// Converts an expire argument to an absolute unix-ms deadline, with Redis's checks:
/// non-integer -> "value is not an integer", <= 0 or overflow -> "invalid expire time".
pub fn expire_deadline(arg: &[u8], unit_ms: u64, absolute: bool, now: u64, cmd: &'static str) -> Result<u64, CmdError> {
    let v = parse_i64(arg)?;
    if v <= 0 {
        return Err(CmdError::InvalidExpire(cmd));
    }
    let ms = (v as u64).checked_mul(unit_ms).filter(|&m| m <= i64::MAX as u64).ok_or(CmdError::InvalidExpire(cmd))?;
    if absolute {
        Ok(ms)
    } else {
        ms.checked_add(now).filter(|&m| m <= i64::MAX as u64).ok_or(CmdError::InvalidExpire(cmd))
    }
}

/// What SET-like commands reply when they set (or abort because of NX/XX).
#[derive(Clone, Copy, PartialEq)]
enum SetReply {
    /// `+OK` / null (SET, SETEX, PSETEX).
    Ok,
    /// `:1` / `:0` (SETNX).
    Int,
}

/// Redis's `setGenericCommand`.
fn set_generic(
    ctx: &mut Ctx<'_>,
    flags: u32,
    key: &[u8],
    val: &[u8],
    expire: Option<&[u8]>,
    cmd: &'static str,
    reply: SetReply,
) -> CmdResult {
    let now = ctx.now();
    let when = match expire {
        Some(arg) => Some(expire_ms(arg, flags, now, cmd)?),
        None => None,
    };
    let want_get = flags & F_GET != 0;
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    // GET writes the old value first (nothing can fail after it), as getGenericCommand.
    let found = match db.get(key, now) {
        None => {
            if want_get {
                ctx.out.null();
            }
            false
        }
        Some(Value::Str(s)) => {
            if want_get {
                ctx.out.bulk(s.as_bytes());
            }
            true
        }
        Some(_) => {
            if want_get {
                return Err(CmdError::WrongType);
            }
            true
        }
    };
    if want_get {
        ctx.hit_or_miss(found, key);
    }
    if (flags & F_NX != 0 && found) || (flags & F_XX != 0 && !found) {
        if !want_get {
            match reply {
                SetReply::Ok => ctx.out.null(),
                SetReply::Int => ctx.out.int(0),
            }
        }
        return Ok(());
    }
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    db.set(key, Value::str(val), flags & F_KEEPTTL != 0);
    if let Some(w) = when {
        db.set_expire(key, w);
    }
    ctx.dirty(1);
    ctx.notify(b'$', "set", key);
    if when.is_some() {
        ctx.notify(b'g', "expire", key);
    }
    if !want_get {
        match reply {
            SetReply::Ok => ctx.out.ok(),
            SetReply::Int => ctx.out.int(1),
        }
    }
    Ok(())
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]
fn set(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (flags, expire) = parse_ext(args, true)?;
    set_generic(ctx, flags, args.get(1), args.get(2), expire, "set", SetReply::Ok)
}

fn setnx(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    set_generic(ctx, F_NX, args.get(1), args.get(2), None, "setnx", SetReply::Int)
}

fn setex(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    set_generic(ctx, F_EX, args.get(1), args.get(3), Some(args.get(2)), "setex", SetReply::Ok)
}

fn psetex(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    set_generic(ctx, F_PX, args.get(1), args.get(3), Some(args.get(2)), "psetex", SetReply::Ok)
}

/// Redis's `getGenericCommand`: replies with the value (or null); false when the key is absent.
fn get_generic(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<bool, CmdError> {
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let found = match db.get(key, now) {
        None => {
            ctx.out.null();
            false
        }
        Some(Value::Str(s)) => {
            ctx.out.bulk(s.as_bytes());
            true
        }
        Some(_) => return Err(CmdError::WrongType),
    };
    ctx.hit_or_miss(found, key);
    Ok(found)
}

fn getset(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    get_generic(ctx, key)?;
    ctx.db().set(key, Value::str(args.get(2)), false);
    ctx.notify(b'$', "set", key);
    ctx.dirty(1);
    Ok(())
}

fn getdel(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    if get_generic(ctx, key)? {
        ctx.db().remove(key);
        ctx.notify(b'g', "del", key);
        ctx.dirty(1);
    }
    Ok(())
}

/// GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]
fn getex(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (flags, expire) = parse_ext(args, false)?;
    let key = args.get(1);
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    match db.get(key, now) {
        None => {
            ctx.out.null();
            ctx.miss(key);
            return Ok(());
        }
        Some(Value::Str(_)) => {}
        Some(_) => return Err(CmdError::WrongType),
    }
    let when = match expire {
        Some(arg) => Some(expire_ms(arg, flags, now, "getex")?),
        None => None,
    };
    ctx.hit(true);
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    if let Some(Value::Str(s)) = db.get(key, now) {
        ctx.out.bulk(s.as_bytes());
    }
    match when {
        Some(w) if flags & (F_EXAT | F_PXAT) != 0 && w <= now => {
            db.remove(key);
            ctx.notify(b'g', "del", key);
            ctx.dirty(1);
        }
        Some(w) => {
            db.set_expire(key, w);
            ctx.notify(b'g', "expire", key);
            ctx.dirty(1);
        }
        None => {
            if flags & F_PERSIST != 0 && db.persist(key) {
                ctx.notify(b'g', "persist", key);
                ctx.dirty(1);
            }
        }
    }
    Ok(())
}

fn mget(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    ctx.out.array(args.len() - 1);
    let (mut hits, mut misses) = (0u64, 0u64);
    for key in args.iter().skip(1) {
        match db.get(key, now) {
            Some(Value::Str(s)) => {
                ctx.out.bulk(s.as_bytes());
                hits += 1;
            }
            Some(_) => {
                ctx.out.null();
                hits += 1;
            }
            None => {
                ctx.out.null();
                misses += 1;
            }
        }
    }
    let st = &ctx.shared.stats;
    st.keyspace_hits.fetch_add(hits, std::sync::atomic::Ordering::Relaxed);
    st.keyspace_misses.fetch_add(misses, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

fn mset_generic(ctx: &mut Ctx<'_>, args: Args<'_>, nx: bool) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity(if nx { "msetnx" } else { "mset" }.into()));
    }
    let now = ctx.now();
    if nx {
        let db = &mut ctx.st.ks.dbs[ctx.client.db];
        let mut j = 1;
        while j < args.len() {
            if db.get(args.get(j), now).is_some() {
                ctx.out.int(0);
                return Ok(());
            }
            j += 2;
        }
    }
    let mut j = 1;
    while j < args.len() {
        let key = args.get(j);
        let db = ctx.db();
        if db.expires_len() > 0 {
            // setKey's lookupKeyWrite: a key past its deadline expires first ("expired"
            // event, then "new").
            db.get(key, now);
        }
        db.set(key, Value::str(args.get(j + 1)), false);
        ctx.notify(b'$', "set", key);
        j += 2;
    }
    ctx.dirty((args.len() as u64 - 1) / 2);
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

fn mset(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    mset_generic(ctx, args, false)
}

fn msetnx(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    mset_generic(ctx, args, true)
}

/// Redis's `incrDecrCommand`.
fn incr_decr(ctx: &mut Ctx<'_>, key: &[u8], incr: i64) -> CmdResult {
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let mut buf = [0u8; 20];
    // One lookup for an existing key: parse, then replace the bytes in place.
    let value = match db.get_mut_untracked(key, now) {
        Some(Value::Str(s)) => {
            let old = shoal_parse_i64(s.as_bytes()).ok_or(CmdError::NotInteger)?;
            let value = old.checked_add(incr).ok_or(CmdError::Overflow)?;
            *s = shoal_keyspace::Sso::new(fmt_i64(&mut buf, value));
            db.touch(key);
            value
        }
        Some(_) => return Err(CmdError::WrongType),
        None => {
            db.set(key, Value::str(fmt_i64(&mut buf, incr)), true);
            incr
        }
    };
    ctx.notify(b'$', "incrby", key);
    ctx.dirty(1);
    ctx.out.int(value);
    Ok(())
}

fn incr(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    incr_decr(ctx, args.get(1), 1)
}

fn decr(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    incr_decr(ctx, args.get(1), -1)
}

fn incrby(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let incr = parse_i64(args.get(2))?;
    incr_decr(ctx, args.get(1), incr)
}

fn decrby(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let incr = parse_i64(args.get(2))?;
    if incr == i64::MIN {
        return Err(CmdError::err("decrement would overflow"));
    }
    incr_decr(ctx, args.get(1), -incr)
}

fn incrbyfloat(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let value = match db.get(key, now) {
        None => ld::Ld::Fin { neg: false, mant: 0, exp: 0 },
        Some(Value::Str(s)) => ld::parse(s.as_bytes()).ok_or(CmdError::NotFloat)?,
        Some(_) => return Err(CmdError::WrongType),
    };
    let incr = ld::parse(args.get(2)).ok_or(CmdError::NotFloat)?;
    let sum = ld::add(value, incr).ok_or_else(|| CmdError::err("increment would produce NaN or Infinity"))?;
    let s = ld::fmt_human(sum);
    // Redis stores the result without trying the integer encoding ("embstr").
    let mut v = shoal_keyspace::Sso::new(s.as_bytes());
    v.set_noint();
    db.set(key, Value::Str(v), true);
    ctx.notify(b'$', "incrbyfloat", key);
    ctx.dirty(1);
    ctx.out.bulk(s.as_bytes());
    Ok(())
}

fn append(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let add = args.get(2);
    let now = ctx.now();
    let total = match ctx.st.ks.dbs[ctx.client.db].get(key, now) {
        None => {
            ctx.db().set(key, Value::str(add), false);
            add.len()
        }
        Some(Value::Str(s)) => {
            let total = s.len() + add.len();
            check_string_length(ctx, total as i64)?;
            let db = &mut ctx.st.ks.dbs[ctx.client.db];
            let mut v = Vec::with_capacity(total);
            if let Some(Value::Str(s)) = db.get(key, now) {
                v.extend_from_slice(s.as_bytes());
            }
            v.extend_from_slice(add);
            db.set(key, Value::Str(shoal_keyspace::Sso::from_vec_raw(v)), true);
            total
        }
        Some(_) => return Err(CmdError::WrongType),
    };
    ctx.notify(b'$', "append", key);
    ctx.dirty(1);
    ctx.out.int(total as i64);
    Ok(())
}

fn strlen(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let now = ctx.now();
    let n = match ctx.st.ks.dbs[ctx.client.db].get(args.get(1), now) {
        None => {
            ctx.miss(args.get(1));
            0
        }
        Some(Value::Str(s)) => {
            let n = s.len();
            ctx.hit(true);
            n
        }
        Some(_) => return Err(CmdError::WrongType),
    };
    ctx.out.int(n as i64);
    Ok(())
}

/// GETRANGE / SUBSTR key start end
fn getrange(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let mut start = parse_i64(args.get(2))?;
    let mut end = parse_i64(args.get(3))?;
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let s = match db.get(args.get(1), now) {
        None => {
            ctx.out.bulk(b"");
            ctx.miss(args.get(1));
            return Ok(());
        }
        Some(Value::Str(s)) => s.as_bytes(),
        Some(_) => return Err(CmdError::WrongType),
    };
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        ctx.out.bulk(b"");
    } else {
        if start < 0 {
            start += len;
        }
        if end < 0 {
            end += len;
        }
        start = start.max(0);
        end = end.max(0);
        if end >= len {
            end = len - 1;
        }
        if start > end || len == 0 {
            ctx.out.bulk(b"");
        } else {
            ctx.out.bulk(&s[start as usize..=end as usize]);
        }
    }
    ctx.hit(true);
    Ok(())
}

fn setrange(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let offset = parse_i64(args.get(2))?;
    let value = args.get(3);
    if offset < 0 {
        return Err(CmdError::OffsetOutOfRange);
    }
    let now = ctx.now();
    let olen = match ctx.st.ks.dbs[ctx.client.db].get(key, now) {
        None => None,
        Some(Value::Str(s)) => Some(s.len()),
        Some(_) => return Err(CmdError::WrongType),
    };
    if value.is_empty() {
        ctx.out.int(olen.unwrap_or(0) as i64);
        return Ok(());
    }
    let end = offset.saturating_add(value.len() as i64);
    check_string_length(ctx, end)?;
    let (offset, end) = (offset as usize, end as usize);
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let newlen = match olen {
        Some(ol) if end <= ol => {
            if let Some(Value::Str(s)) = db.get_mut(key, now) {
                s.as_bytes_mut()[offset..end].copy_from_slice(value);
            }
            ol
        }
        _ => {
            let mut v = Vec::with_capacity(end);
            if let Some(Value::Str(s)) = db.get(key, now) {
                v.extend_from_slice(s.as_bytes());
            }
            v.resize(end, 0);
            v[offset..end].copy_from_slice(value);
            db.set(key, Value::Str(shoal_keyspace::Sso::from_vec_raw(v)), true);
            end
        }
    };
    ctx.notify(b'$', "setrange", key);
    ctx.dirty(1);
    ctx.out.int(newlen as i64);
    Ok(())
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
fn lcs(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let now = ctx.now();
    let not_str = CmdError::err("The specified keys must contain string values");
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let a: Vec<u8> = match db.get(args.get(1), now) {
        None => Vec::new(),
        Some(Value::Str(s)) => s.as_bytes().to_vec(),
        Some(_) => return Err(not_str),
    };
    let b: &[u8] = match db.get(args.get(2), now) {
        None => b"",
        Some(Value::Str(s)) => s.as_bytes(),
        Some(_) => return Err(not_str),
    };
    let (mut getlen, mut getidx, mut withmatchlen) = (false, false, false);
    let mut minmatchlen: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let opt = args.get(j);
        if eq_ic(opt, "idx") {
            getidx = true;
        } else if eq_ic(opt, "len") {
            getlen = true;
        } else if eq_ic(opt, "withmatchlen") {
            withmatchlen = true;
        } else if eq_ic(opt, "minmatchlen") && j + 1 < args.len() {
            minmatchlen = parse_i64(args.get(j + 1))?.max(0);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if getlen && getidx {
        return Err(CmdError::err("If you want both the length and indexes, please just use IDX."));
    }
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return Err(CmdError::err("String too long for LCS"));
    }
    let (alen, blen) = (a.len(), b.len());
    let alloc = (alen as u64 + 1) * (blen as u64 + 1) * 4;
    if alloc > MIN_PROTO_MAX_BULK_LEN as u64 && alloc > ctx.shared.config.read().get_i64("proto-max-bulk-len") as u64 {
        return Err(CmdError::err("Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"));
    }
    let r = lcs_compute(&a, b, getidx || !getlen, minmatchlen as u64);
    if getidx {
        ctx.out.map(2);
        ctx.out.bulk(b"matches");
        ctx.out.array(r.ranges.len());
        for m in &r.ranges {
            ctx.out.array(if withmatchlen { 3 } else { 2 });
            ctx.out.array(2);
            ctx.out.int(m.a.0 as i64);
            ctx.out.int(m.a.1 as i64);
            ctx.out.array(2);
            ctx.out.int(m.b.0 as i64);
            ctx.out.int(m.b.1 as i64);
            if withmatchlen {
                ctx.out.int(m.len as i64);
            }
        }
        ctx.out.bulk(b"len");
        ctx.out.int(r.len as i64);
    } else if getlen {
        ctx.out.int(r.len as i64);
    } else {
        ctx.out.bulk(&r.lcs);
    }
    Ok(())
}

/// One matching range of LCS IDX: inclusive ranges in each string.
#[derive(Debug, PartialEq)]
struct LcsRange {
    a: (u32, u32),
    b: (u32, u32),
    len: u32,
}

#[derive(Debug)]
struct LcsResult {
    len: u32,
    lcs: Vec<u8>,
    ranges: Vec<LcsRange>,
}

/// The LCS dynamic programme and backtrack exactly as Redis's `lcsCommand` (same table,
/// same tie-breaking, so the same string and ranges).
fn lcs_compute(a: &[u8], b: &[u8], compute: bool, minmatchlen: u64) -> LcsResult {
    let (alen, blen) = (a.len(), b.len());
    let w = blen + 1;
    let mut t = vec![0u32; (alen + 1) * w];
    for i in 1..=alen {
        for j in 1..=blen {
            t[i * w + j] = if a[i - 1] == b[j - 1] { t[(i - 1) * w + j - 1] + 1 } else { t[(i - 1) * w + j].max(t[i * w + j - 1]) };
        }
    }
    let total = t[alen * w + blen];
    let mut res = LcsResult { len: total, lcs: Vec::new(), ranges: Vec::new() };
    if !compute {
        return res;
    }
    let mut out = vec![0u8; total as usize];
    let mut idx = total as usize;
    let unset = alen as u32;
    let (mut as_, mut ae, mut bs, mut be) = (unset, 0u32, 0u32, 0u32);
    let (mut i, mut j) = (alen, blen);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            out[idx - 1] = a[i - 1];
            if as_ == unset {
                as_ = (i - 1) as u32;
                ae = (i - 1) as u32;
                bs = (j - 1) as u32;
                be = (j - 1) as u32;
            } else if as_ == i as u32 && bs == j as u32 {
                as_ -= 1;
                bs -= 1;
            } else {
                emit = true;
            }
            if as_ == 0 || bs == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if t[(i - 1) * w + j] > t[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if as_ != unset {
                emit = true;
            }
        }
        let match_len = ae.wrapping_sub(as_).wrapping_add(1);
        if emit {
            if minmatchlen == 0 || match_len as u64 >= minmatchlen {
                res.ranges.push(LcsRange { a: (as_, ae), b: (bs, be), len: match_len });
            }
            as_ = unset;
        }
    }
    res.lcs = out;
    res
}

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Get the value of a key",
        since: "1.0.0",
        complexity: "O(1)",
        ..CommandDef::new("get", 2, READONLY | FAST, (1, 1, 1), "string", get)
    },
    CommandDef {
        summary: "Set the string value of a key",
        since: "1.0.0",
        complexity: "O(1)",
        ..CommandDef::new("set", -3, WRITE | DENYOOM, (1, 1, 1), "string", set)
    },
    CommandDef {
        summary: "Set the value of a key, only if the key does not exist",
        since: "1.0.0",
        complexity: "O(1)",
        ..CommandDef::new("setnx", 3, WRITE | DENYOOM | FAST, (1, 1, 1), "string", setnx)
    },
    CommandDef {
        summary: "Set the value and expiration of a key",
        since: "2.0.0",
        complexity: "O(1)",
        ..CommandDef::new("setex", 4, WRITE | DENYOOM, (1, 1, 1), "string", setex)
    },
    CommandDef {
        summary: "Set the value and expiration in milliseconds of a key",
        since: "2.6.0",
        complexity: "O(1)",
        ..CommandDef::new("psetex", 4, WRITE | DENYOOM, (1, 1, 1), "string", psetex)
    },
    CommandDef {
        summary: "Set the string value of a key and return its old value",
        since: "1.0.0",
        complexity: "O(1)",
        ..CommandDef::new("getset", 3, WRITE | DENYOOM | FAST, (1, 1, 1), "string", getset)
    },
    CommandDef {
        summary: "Get the value of a key and delete the key",
        since: "6.2.0",
        complexity: "O(1)",
        ..CommandDef::new("getdel", 2, WRITE | FAST, (1, 1, 1), "string", getdel)
    },
    CommandDef {
        summary: "Get the value of a key and optionally set its expiration",
        since: "6.2.0",
        complexity: "O(1)",
        ..CommandDef::new("getex", -2, WRITE | FAST, (1, 1, 1), "string", getex)
    },
    CommandDef {
        summary: "Get the values of all the given keys",
        since: "1.0.0",
        complexity: "O(N) where N is the number of keys to retrieve.",
        ..CommandDef::new("mget", -2, READONLY | FAST, (1, -1, 1), "string", mget)
    },
    CommandDef {
        summary: "Set multiple keys to multiple values",
        since: "1.0.1",
        complexity: "O(N) where N is the number of keys to set.",
        ..CommandDef::new("mset", -3, WRITE | DENYOOM, (1, -1, 2), "string", mset)
    },
    CommandDef {
        summary: "Set multiple keys to multiple values, only if none of the keys exist",
        since: "1.0.1",
        complexity: "O(N) where N is the number of keys to set.",
        ..CommandDef::new("msetnx", -3, WRITE | DENYOOM, (1, -1, 2), "string", msetnx)
    },
    CommandDef {
        summary: "Increment the integer value of a key by one",
        since: "1.0.0",
        complexity: "O(1)",
        ..CommandDef::new("incr", 2, WRITE | DENYOOM | FAST, (1, 1, 1), "string", incr)
    },
    CommandDef {
        summary: "Decrement the integer value of a key by one",
        since: "1.0.0",
        complexity: "O(1)",
        ..CommandDef::new("decr", 2, WRITE | DENYOOM | FAST, (1, 1, 1), "string", decr)
    },
    CommandDef {
        summary: "Increment the integer value of a key by the given amount",
        since: "1.0.0",
        complexity: "O(1)",
        ..CommandDef::new("incrby", 3, WRITE | DENYOOM | FAST, (1, 1, 1), "string", incrby)
    },
    CommandDef {
        summary: "Decrement the integer value of a key by the given number",
        since: "1.0.0",
        complexity: "O(1)",
        ..CommandDef::new("decrby", 3, WRITE | DENYOOM | FAST, (1, 1, 1), "string", decrby)
    },
    CommandDef {
        summary: "Increment the float value of a key by the given amount",
        since: "2.6.0",
        complexity: "O(1)",
        ..CommandDef::new("incrbyfloat", 3, WRITE | DENYOOM | FAST, (1, 1, 1), "string", incrbyfloat)
    },
    CommandDef {
        summary: "Append a value to a key",
        since: "2.0.0",
        complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
        ..CommandDef::new("append", 3, WRITE | DENYOOM | FAST, (1, 1, 1), "string", append)
    },
    CommandDef {
        summary: "Get the length of the value stored in a key",
        since: "2.2.0",
        complexity: "O(1)",
        ..CommandDef::new("strlen", 2, READONLY | FAST, (1, 1, 1), "string", strlen)
    },
    CommandDef {
        summary: "Get a substring of the string stored at a key",
        since: "2.4.0",
        complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
        ..CommandDef::new("getrange", 4, READONLY, (1, 1, 1), "string", getrange)
    },
    CommandDef {
        summary: "Overwrite part of a string at key starting at the specified offset",
        since: "2.2.0",
        complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
        ..CommandDef::new("setrange", 4, WRITE | DENYOOM, (1, 1, 1), "string", setrange)
    },
    CommandDef {
        summary: "Get a substring of the string stored at a key",
        since: "1.0.0",
        complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
        ..CommandDef::new("substr", 4, READONLY, (1, 1, 1), "string", getrange)
    },
    CommandDef {
        summary: "Find longest common substring",
        since: "7.0.0",
        complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
        ..CommandDef::new("lcs", -3, READONLY, (1, 2, 1), "string", lcs)
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lcs_matches_redis() {
        let r = lcs_compute(b"ohmytext", b"mynewtext", true, 0);
        assert_eq!(r.lcs, b"mytext");
        assert_eq!(r.len, 6);
        assert_eq!(r.ranges, vec![LcsRange { a: (4, 7), b: (5, 8), len: 4 }, LcsRange { a: (2, 3), b: (0, 1), len: 2 }]);
        let r = lcs_compute(b"ohmytext", b"mynewtext", true, 4);
        assert_eq!(r.ranges.len(), 1);
        let r = lcs_compute(b"", b"abc", true, 0);
        assert_eq!((r.len, r.lcs.len(), r.ranges.len()), (0, 0, 0));
        let r = lcs_compute(b"abc", b"abc", true, 0);
        assert_eq!(r.ranges, vec![LcsRange { a: (0, 2), b: (0, 2), len: 3 }]);
    }

    #[test]
    fn ext_options_parse_like_redis() {
        let parse = |line: &str, set: bool| {
            let parts: Vec<&[u8]> = line.split(' ').map(|s| s.as_bytes()).collect();
            let o = shoal_resp::OwnedArgs::from_slices(&parts);
            parse_ext(o.args(), set).map(|(f, e)| (f, e.map(|e| e.to_vec())))
        };
        assert!(parse("set k v nx nx", true).is_ok());
        assert!(parse("set k v nx xx", true).is_err());
        assert!(parse("set k v ex 1 ex 2", true).is_ok());
        assert!(parse("set k v ex 1 px 2", true).is_err());
        assert!(parse("set k v keepttl ex 1", true).is_err());
        assert!(parse("set k v ex", true).is_err());
        assert!(parse("getex k persist", false).is_ok());
        assert!(parse("getex k persist ex 1", false).is_err());
        assert!(parse("getex k nx", false).is_err());
        assert!(parse("getex k keepttl", false).is_err());
    }
}

/// INCRBYFLOAT arithmetic: an exact software emulation of the x87 80-bit `long double`
/// redis-server computes with (64-bit significand, 15-bit exponent, round to nearest
/// even), with glibc's `strtold` parsing and `%.17Lf` printing, so results match byte
/// for byte (e.g. 10000.1 -> "10000.09999999999999964").
pub mod ld {
    use std::cmp::Ordering;

    /// Exponent of the least significant significand bit of the smallest subnormal.
    const EXP_MIN: i64 = -16445;
    /// Largest exponent of the leading bit.
    const LEAD_MAX: i64 = 16383;
    /// Redis's MAX_LONG_DOUBLE_CHARS.
    pub const MAX_CHARS: usize = 5 * 1024;

    /// A finite value (-1)^neg * mant * 2^exp, or an infinity.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Ld {
        Fin { neg: bool, mant: u64, exp: i64 },
        Inf(bool),
    }

    /// Unsigned big integer, little-endian 32-bit limbs, no high zero limbs.
    #[derive(Clone, Debug, Default)]
    struct Big(Vec<u32>);

    impl Big {
        fn from_u128(mut v: u128) -> Big {
            let mut b = Big(Vec::new());
            while v != 0 {
                b.0.push(v as u32);
                v >>= 32;
            }
            b
        }
        fn trim(&mut self) {
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
        }
        fn is_zero(&self) -> bool {
            self.0.is_empty()
        }
        fn mul_add_small(&mut self, m: u32, a: u32) {
            let mut carry = a as u64;
            for l in self.0.iter_mut() {
                let v = *l as u64 * m as u64 + carry;
                *l = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                self.0.push(carry as u32);
            }
            self.trim();
        }
        fn mul_pow10(&mut self, mut k: u64) {
            while k >= 9 {
                self.mul_add_small(1_000_000_000, 0);
                k -= 9;
            }
            if k > 0 {
                self.mul_add_small(10u32.pow(k as u32), 0);
            }
        }
        fn bit_len(&self) -> u64 {
            match self.0.last() {
                None => 0,
                Some(&top) => (self.0.len() as u64 - 1) * 32 + (32 - top.leading_zeros() as u64),
            }
        }
        fn bit(&self, i: u64) -> bool {
            let w = (i / 32) as usize;
            w < self.0.len() && (self.0[w] >> (i % 32)) & 1 == 1
        }
        /// True when any bit below position `n` is set.
        fn any_below(&self, n: u64) -> bool {
            let full = (n / 32) as usize;
            if self.0.iter().take(full).any(|&l| l != 0) {
                return true;
            }
            let rem = n % 32;
            rem != 0 && full < self.0.len() && self.0[full] & ((1u32 << rem) - 1) != 0
        }
        /// Bits [from, from+64) as a u64.
        fn bits_u64(&self, from: u64) -> u64 {
            let mut v = 0u64;
            for i in 0..64 {
                if self.bit(from + i) {
                    v |= 1 << i;
                }
            }
            v
        }
        fn shl(&self, n: u64) -> Big {
            if self.is_zero() {
                return Big::default();
            }
            let words = (n / 32) as usize;
            let bits = (n % 32) as u32;
            let mut out = vec![0u32; words];
            out.reserve(self.0.len() + 1);
            if bits == 0 {
                out.extend_from_slice(&self.0);
            } else {
                let mut carry = 0u32;
                for &l in &self.0 {
                    out.push((l << bits) | carry);
                    carry = l >> (32 - bits);
                }
                out.push(carry);
            }
            let mut b = Big(out);
            b.trim();
            b
        }
        fn cmp(&self, o: &Big) -> Ordering {
            self.0.len().cmp(&o.0.len()).then_with(|| {
                for i in (0..self.0.len()).rev() {
                    match self.0[i].cmp(&o.0[i]) {
                        Ordering::Equal => continue,
                        x => return x,
                    }
                }
                Ordering::Equal
            })
        }
        /// self -= o, where self >= o.
        fn sub_assign(&mut self, o: &Big) {
            let mut borrow = 0i64;
            for i in 0..self.0.len() {
                let v = self.0[i] as i64 - o.0.get(i).copied().unwrap_or(0) as i64 - borrow;
                if v < 0 {
                    self.0[i] = (v + (1i64 << 32)) as u32;
                    borrow = 1;
                } else {
                    self.0[i] = v as u32;
                    borrow = 0;
                }
            }
            self.trim();
        }
        fn add(&self, o: &Big) -> Big {
            let n = self.0.len().max(o.0.len());
            let mut out = Vec::with_capacity(n + 1);
            let mut carry = 0u64;
            for i in 0..n {
                let v = self.0.get(i).copied().unwrap_or(0) as u64 + o.0.get(i).copied().unwrap_or(0) as u64 + carry;
                out.push(v as u32);
                carry = v >> 32;
            }
            if carry != 0 {
                out.push(carry as u32);
            }
            Big(out)
        }
        /// Divides in place by `d`, returning the remainder.
        fn divmod_small(&mut self, d: u32) -> u32 {
            let mut rem = 0u64;
            for l in self.0.iter_mut().rev() {
                let cur = (rem << 32) | *l as u64;
                *l = (cur / d as u64) as u32;
                rem = cur % d as u64;
            }
            self.trim();
            rem as u32
        }
        fn to_decimal(&self) -> String {
            if self.is_zero() {
                return "0".into();
            }
            let mut t = self.clone();
            let mut chunks = Vec::new();
            while !t.is_zero() {
                chunks.push(t.divmod_small(1_000_000_000));
            }
            let mut s = chunks.last().map(|c| c.to_string()).unwrap_or_default();
            for c in chunks.iter().rev().skip(1) {
                s.push_str(&format!("{c:09}"));
            }
            s
        }
    }

    /// Rounds the exact value x * 2^e (plus a nonzero tail below x's last bit when
    /// `sticky`) to the long double grid, half to even. None when it overflows.
    fn round(neg: bool, x: &Big, e: i64, sticky: bool) -> Option<Ld> {
        if x.is_zero() {
            return Some(Ld::Fin { neg, mant: 0, exp: 0 });
        }
        let len = x.bit_len() as i64;
        let exp_t = (e + len - 64).max(EXP_MIN);
        let shift = exp_t - e;
        let (mant, exp) = if shift <= 0 {
            (x.bits_u64(0) << (-shift) as u32, exp_t)
        } else {
            let s = shift as u64;
            let m = x.bits_u64(s);
            let half = x.bit(s - 1);
            let rest = sticky || x.any_below(s - 1);
            if half && (rest || m & 1 == 1) {
                match m.checked_add(1) {
                    Some(v) => (v, exp_t),
                    None => (1u64 << 63, exp_t + 1),
                }
            } else {
                (m, exp_t)
            }
        };
        if mant == 0 {
            return Some(Ld::Fin { neg, mant: 0, exp: 0 });
        }
        let lead = exp + 63 - mant.leading_zeros() as i64;
        if lead > LEAD_MAX {
            return None;
        }
        Some(Ld::Fin { neg, mant, exp })
    }

    /// glibc `strtold` on the whole input, with Redis's `string2ld` checks: None when
    /// empty, too long, starting with a space, with trailing garbage (an embedded NUL
    /// included), NaN, or out of range.
    pub fn parse(s: &[u8]) -> Option<Ld> {
        if s.is_empty() || s.len() >= MAX_CHARS || matches!(s[0], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            return None;
        }
        let (neg, body) = match s.first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(Ld::Inf(neg));
        }
        if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
            if let Some(v) = parse_hex(neg, &body[2..]) {
                return v;
            }
            // "0x" without hex digits: strtold reads "0" and stops at 'x'
            return None;
        }
        parse_dec(neg, body)?
    }

    /// Parses the digits of a decimal float; Some(None) = syntactically fine but out of
    /// range, None = not a number.
    fn parse_dec(neg: bool, b: &[u8]) -> Option<Option<Ld>> {
        let mut i = 0;
        let mut digits = Big::default();
        let mut nd: i64 = 0; // significant digits accumulated
        let mut frac_digits: i64 = 0;
        let mut any = false;
        let mut chunk = 0u32;
        let mut chunk_len = 0u32;
        let mut push = |d: u8, digits: &mut Big, nd: &mut i64| {
            if *nd == 0 && d == 0 {
                return;
            }
            *nd += 1;
            chunk = chunk * 10 + d as u32;
            chunk_len += 1;
            if chunk_len == 9 {
                digits.mul_add_small(1_000_000_000, chunk);
                chunk = 0;
                chunk_len = 0;
            }
        };
        while i < b.len() && b[i].is_ascii_digit() {
            push(b[i] - b'0', &mut digits, &mut nd);
            any = true;
            i += 1;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                push(b[i] - b'0', &mut digits, &mut nd);
                frac_digits += 1;
                any = true;
                i += 1;
            }
        }
        if chunk_len > 0 {
            digits.mul_add_small(10u32.pow(chunk_len), chunk);
        }
        if !any {
            return None;
        }
        let mut exp10: i64 = 0;
        if i < b.len() && (b[i] | 0x20) == b'e' {
            let mut j = i + 1;
            let mut eneg = false;
            if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                eneg = b[j] == b'-';
                j += 1;
            }
            let start = j;
            while j < b.len() && b[j].is_ascii_digit() {
                exp10 = (exp10 * 10 + (b[j] - b'0') as i64).min(1 << 40);
                j += 1;
            }
            if j == start {
                return None; // "1e" / "1e+": strtold stops before the 'e'
            }
            if eneg {
                exp10 = -exp10;
            }
            i = j;
        }
        if i != b.len() {
            return None;
        }
        if digits.is_zero() {
            return Some(Some(Ld::Fin { neg, mant: 0, exp: 0 }));
        }
        let e = exp10 - frac_digits;
        // magnitude is in [10^(nd-1+e), 10^(nd+e))
        if nd - 1 + e > 4933 {
            return Some(None);
        }
        if nd + e < -4952 {
            return Some(None);
        }
        let r = if e >= 0 {
            let mut x = digits;
            x.mul_pow10(e as u64);
            round(neg, &x, 0, false)
        } else {
            let mut den = Big::from_u128(1);
            den.mul_pow10((-e) as u64);
            let s = (den.bit_len() as i64 - digits.bit_len() as i64 + 66).max(0) as u64;
            let mut num = digits.shl(s);
            // quotient has 66 or 67 bits: long division bit by bit
            let mut q = 0u128;
            for k in (0..68u64).rev() {
                let t = den.shl(k);
                if num.cmp(&t) != Ordering::Less {
                    num.sub_assign(&t);
                    q |= 1u128 << k;
                }
            }
            round(neg, &Big::from_u128(q), -(s as i64), !num.is_zero())
        };
        match r {
            Some(Ld::Fin { mant: 0, .. }) => Some(None), // underflow to zero: ERANGE
            other => Some(other),
        }
    }

    /// Hex float body after "0x": None when no hex digits (caller rejects), otherwise the
    /// value (None inside when out of range or with trailing garbage).
    fn parse_hex(neg: bool, b: &[u8]) -> Option<Option<Ld>> {
        let mut i = 0;
        let mut x = Big::default();
        let mut any = false;
        let mut e: i64 = 0;
        let hexval = |c: u8| (c as char).to_digit(16);
        while i < b.len() {
            match hexval(b[i]) {
                Some(d) => {
                    if !x.is_zero() || d != 0 {
                        if x.bit_len() > 200 {
                            e += 4; // beyond precision: only the exponent matters (sticky below)
                            if d != 0 {
                                x.0[0] |= 1;
                            }
                        } else {
                            x.mul_add_small(16, d);
                        }
                    }
                    any = true;
                    i += 1;
                }
                None => break,
            }
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() {
                match hexval(b[i]) {
                    Some(d) => {
                        if x.bit_len() <= 200 {
                            x.mul_add_small(16, d);
                            e -= 4;
                        } else if d != 0 && !x.is_zero() {
                            x.0[0] |= 1;
                        }
                        any = true;
                        i += 1;
                    }
                    None => break,
                }
            }
        }
        if !any {
            return None;
        }
        if i < b.len() && (b[i] | 0x20) == b'p' {
            let mut j = i + 1;
            let mut pneg = false;
            if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                pneg = b[j] == b'-';
                j += 1;
            }
            let start = j;
            let mut p: i64 = 0;
            while j < b.len() && b[j].is_ascii_digit() {
                p = (p * 10 + (b[j] - b'0') as i64).min(1 << 40);
                j += 1;
            }
            if j == start {
                return Some(None);
            }
            e += if pneg { -p } else { p };
            i = j;
        }
        if i != b.len() {
            return Some(None);
        }
        if x.is_zero() {
            return Some(Some(Ld::Fin { neg, mant: 0, exp: 0 }));
        }
        if e + x.bit_len() as i64 > LEAD_MAX + 2 {
            return Some(None);
        }
        if e + (x.bit_len() as i64) < EXP_MIN - 2 {
            return Some(None);
        }
        match round(neg, &x, e, false) {
            Some(Ld::Fin { mant: 0, .. }) => Some(None),
            other => Some(other),
        }
    }

    /// a + b rounded to long double; None for NaN or infinity.
    pub fn add(a: Ld, b: Ld) -> Option<Ld> {
        let (Ld::Fin { neg: an, mant: am, exp: ae }, Ld::Fin { neg: bn, mant: bm, exp: be }) = (a, b) else {
            return None;
        };
        if am == 0 && bm == 0 {
            return Some(Ld::Fin { neg: an && bn, mant: 0, exp: 0 });
        }
        if am == 0 {
            return Some(b);
        }
        if bm == 0 {
            return Some(a);
        }
        let e = ae.min(be);
        let xa = Big::from_u128(am as u128).shl((ae - e) as u64);
        let xb = Big::from_u128(bm as u128).shl((be - e) as u64);
        if an == bn {
            return round(an, &xa.add(&xb), e, false);
        }
        match xa.cmp(&xb) {
            Ordering::Equal => Some(Ld::Fin { neg: false, mant: 0, exp: 0 }),
            Ordering::Greater => {
                let mut d = xa;
                d.sub_assign(&xb);
                round(an, &d, e, false)
            }
            Ordering::Less => {
                let mut d = xb;
                d.sub_assign(&xa);
                round(bn, &d, e, false)
            }
        }
    }

    /// `%.17Lf` with trailing zeros (and a trailing '.') removed and "-0" as "0": Redis's
    /// `ld2string(.., LD_STR_HUMAN)`.
    pub fn fmt_human(v: Ld) -> String {
        let Ld::Fin { neg, mant, exp } = v else {
            return String::new();
        };
        const P17: u128 = 100_000_000_000_000_000;
        let (int_part, frac) = if exp >= 0 {
            (Big::from_u128(mant as u128).shl(exp as u64).to_decimal(), 0u128)
        } else {
            let s = (-exp) as u64;
            let n = mant as u128 * P17; // < 2^121
            let q = if s >= 128 {
                0
            } else {
                let q = n >> s;
                let r = n & ((1u128 << s) - 1);
                let half = 1u128 << (s - 1);
                if r > half || (r == half && q & 1 == 1) {
                    q + 1
                } else {
                    q
                }
            };
            ((q / P17).to_string(), q % P17)
        };
        let mut out = String::with_capacity(int_part.len() + 20);
        if neg {
            out.push('-');
        }
        out.push_str(&int_part);
        let f = format!("{frac:017}");
        let f = f.trim_end_matches('0');
        if !f.is_empty() {
            out.push('.');
            out.push_str(f);
        }
        if out == "-0" {
            out = "0".into();
        }
        if out.len() + 1 > MAX_CHARS {
            return String::new();
        }
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn inc(a: &str, b: &str) -> String {
            let x = parse(a.as_bytes()).expect("a");
            let y = parse(b.as_bytes()).expect("b");
            fmt_human(add(x, y).expect("finite"))
        }

        #[test]
        fn matches_redis_long_double() {
            assert_eq!(inc("0", "10000.1"), "10000.09999999999999964");
            assert_eq!(inc("0", "123456.789"), "123456.78900000000000148");
            assert_eq!(inc("0", "1e20"), "100000000000000000000");
            assert_eq!(inc("0", "1.5e30"), "1500000000000000000002684354560");
            assert_eq!(inc("0", "0.1"), "0.1");
            assert_eq!(inc("0", "1e-20"), "0");
            assert_eq!(inc("0", "3.3333333333333333333"), "3.33333333333333333");
            assert_eq!(inc("0", "99999999999.123"), "99999999999.12300000339746475");
            assert_eq!(inc("0", "0x10"), "16");
            assert_eq!(inc("0", "1234567.1"), "1234567.10000000000002274");
            assert_eq!(inc("10.5", "0.1"), "10.6");
            assert_eq!(inc("0.1", "0.2"), "0.3");
            assert_eq!(inc("5", "0.000003814697265625"), "5.00000381469726562");
            assert_eq!(inc("0", "0.000003814697265625"), "0.00000381469726562");
            assert_eq!(inc("0.00000381469726562", "0x1p-3"), "0.12500381469726562");
            assert_eq!(inc("1.1", "-1.1"), "0");
            assert_eq!(inc("-0", "-0"), "0");
            assert_eq!(inc("5.0e3", "1"), "5001");
            assert_eq!(inc("1", "-3.5"), "-2.5");
            assert!(inc("0", "1e400").starts_with("10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880"));
        }

        #[test]
        fn parse_rejects_like_string2ld() {
            for bad in ["", " 1", "1 ", "abc", "nan", "-nan", "1e", "1e+", ".", "0x", "1e5000", "1e-5000", "--1", "1.2.3", "infx"] {
                assert!(parse(bad.as_bytes()).is_none(), "{bad}");
            }
            assert_eq!(parse(b"inf"), Some(Ld::Inf(false)));
            assert_eq!(parse(b"-Infinity"), Some(Ld::Inf(true)));
            assert!(parse(b"1\0abc").is_none());
            assert!(parse(b".5").is_some());
            assert!(parse(b"5.").is_some());
            assert!(parse(b"0e99999999999").is_some());
            assert!(add(parse(b"inf").expect("inf"), parse(b"1").expect("1")).is_none());
        }
    }
}
