//! Family: lists (LPUSH and friends, LPOP/RPOP with COUNT, LRANGE, LINDEX, LSET, LREM,
//! LTRIM, LINSERT, LPOS, LMOVE, RPOPLPUSH, LMPOP), as Redis 7.0's `t_list.c`. The value
//! type lives in `shoal_keyspace::value::list`.
//!
//! The pop and move primitives are public ([`pop_into_reply`], [`list_len`],
//! [`parse_mpop_args`], [`mpop_first`], [`lmove_once`]) so the blocking commands
//! (BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH) can reuse them once a key is ready.
//!
//! Conventions, as Redis: reads (LRANGE, LLEN, LINDEX, LPOS) count keyspace hits and
//! misses, writes do not; a list left empty is deleted (with a `del` event).

use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::table::{flags::*, CommandDef};
use crate::util::{eq_ic, parse_i64};
use shoal_keyspace::value::list::ListFill;
use shoal_keyspace::value::ListValue;
use shoal_keyspace::Value;
use shoal_resp::{Args, ReplyBuf};

/// The node limits from `list-max-listpack-size`.
fn fill(ctx: &Ctx<'_>) -> ListFill {
    ListFill::new(ctx.shared.hot.list_max_listpack_size.load(std::sync::atomic::Ordering::Relaxed))
}

/// Read lookup (`lookupKeyRead` + `checkType`): the list at `key` (None when absent),
/// with the reply buffer, counting a keyspace hit or miss.
fn read<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<(Option<&'c ListValue>, &'c mut ReplyBuf), CmdError> {
    match ctx.read_value(key) {
        (None, out) => Ok((None, out)),
        (Some(Value::List(l)), out) => Ok((Some(&**l), out)),
        (Some(_), _) => Err(CmdError::WrongType),
    }
}

/// Write-side lookup (`lookupKeyWrite` + `checkType`) that neither signals WATCH nor
/// counts hits: the list at `key`, None when absent.
fn peek_write<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c ListValue>, CmdError> {
    let now = ctx.st.ks.now_ms;
    match ctx.st.ks.dbs[ctx.client.db].get(key, now) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(&**l)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Mutable access to the list at `key` without signalling WATCH (the caller touches the
/// key once it changed something). The caller has checked that it exists and is a list.
fn list_mut<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Option<&'c mut ListValue> {
    let now = ctx.st.ks.now_ms;
    match ctx.st.ks.dbs[ctx.client.db].get_mut_untracked(key, now) {
        Some(Value::List(l)) => Some(&mut **l),
        _ => None,
    }
}

/// Length of the list at `key` for a write command (no hit/miss counting, no WATCH
/// signal): Ok(None) when the key is absent, WRONGTYPE when it is not a list.
pub fn list_len(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<usize>, CmdError> {
    Ok(peek_write(ctx, key)?.map(|l| l.len()))
}

/// After elements were removed from the list at `key`: the `lpop`/`rpop` event, deletion
/// of an emptied list (with its `del` event), the WATCH signal and `count` dirty changes
/// (Redis's `listElementsRemoved`). Returns true when the key was deleted.
fn elements_removed(ctx: &mut Ctx<'_>, key: &[u8], left: bool, count: usize, emptied: bool) -> bool {
    ctx.notify(b'l', if left { "lpop" } else { "rpop" }, key);
    let db = ctx.db();
    if emptied {
        db.remove(key);
    } else {
        db.touch(key);
    }
    if emptied {
        ctx.notify(b'g', "del", key);
    }
    ctx.dirty(count as u64);
    emptied
}

/// Pops up to `count` elements from the head (`left`) or tail of the existing list at
/// `key` (the caller checked it with [`list_len`]) and writes each as a bulk string;
/// the caller writes any enclosing array header first (`min(count, len)` elements).
/// Emits the events, deletes an emptied list, counts dirty. Returns the number popped.
pub fn pop_into_reply(ctx: &mut Ctx<'_>, key: &[u8], left: bool, count: usize) -> usize {
    let now = ctx.st.ks.now_ms;
    let out = &mut *ctx.out;
    let Some(Value::List(l)) = ctx.st.ks.dbs[ctx.client.db].get_mut_untracked(key, now) else {
        return 0;
    };
    let n = count.min(l.len());
    if n == 0 {
        return 0;
    }
    if n == 1 {
        l.pop_with(left, |v| out.bulk(v));
    } else if left {
        for v in l.iter().take(n) {
            out.bulk(v);
        }
        l.remove_range(0, n);
    } else {
        for v in l.iter_rev().take(n) {
            out.bulk(v);
        }
        let len = l.len();
        l.remove_range(len - n, n);
    }
    let emptied = l.is_empty();
    elements_removed(ctx, key, left, n, emptied);
    n
}

/// Parses LMPOP's arguments from `numkeys_idx` on (BLMPOP: 2): numkeys, LEFT|RIGHT and
/// the optional COUNT. Returns (numkeys, left, count).
pub fn parse_mpop_args(args: Args<'_>, numkeys_idx: usize) -> Result<(usize, bool, usize), CmdError> {
    const NUMKEYS_ERR: &str = "numkeys should be greater than 0";
    let numkeys = match parse_i64(args.get(numkeys_idx)) {
        Ok(n) if n >= 1 => n as u64,
        _ => return Err(CmdError::err(NUMKEYS_ERR)),
    };
    let where_idx = (numkeys_idx as u64).saturating_add(numkeys).saturating_add(1);
    if where_idx >= args.len() as u64 {
        return Err(CmdError::Syntax);
    }
    let where_idx = where_idx as usize;
    let left = parse_where(args.get(where_idx))?;
    let mut count: Option<usize> = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        let moreargs = args.len() - 1 - j;
        if count.is_none() && eq_ic(args.get(j), "count") && moreargs > 0 {
            j += 1;
            match parse_i64(args.get(j)) {
                Ok(c) if c >= 1 => count = Some(c as usize),
                _ => return Err(CmdError::err("count should be greater than 0")),
            }
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok((numkeys as usize, left, count.unwrap_or(1)))
}

/// LMPOP's work once its arguments are parsed: pops up to `count` elements from the
/// first non-empty list among `args[first..first + numkeys]` and writes
/// `[key, [elements...]]`. Returns Ok(false), having written nothing, when every key is
/// absent (the caller replies with a null array, or blocks); WRONGTYPE when a key before
/// the first non-empty list holds another type.
pub fn mpop_first(ctx: &mut Ctx<'_>, args: Args<'_>, first: usize, numkeys: usize, left: bool, count: usize) -> Result<bool, CmdError> {
    for i in first..first + numkeys {
        let key = args.get(i);
        let Some(len) = list_len(ctx, key)? else {
            continue;
        };
        if len == 0 {
            continue;
        }
        ctx.out.array(2);
        ctx.out.bulk(key);
        ctx.out.array(count.min(len));
        pop_into_reply(ctx, key, left, count);
        return Ok(true);
    }
    Ok(false)
}

/// LMOVE's work: pops from `src` (head when `from_left`) and pushes onto `dst` (head
/// when `to_left`), writing the moved element as a bulk reply. Returns Ok(false) having
/// written nothing when `src` is absent or empty (the caller replies null, or blocks);
/// WRONGTYPE (nothing changed) when either key holds another type.
pub fn lmove_once(ctx: &mut Ctx<'_>, src: &[u8], dst: &[u8], from_left: bool, to_left: bool) -> Result<bool, CmdError> {
    match list_len(ctx, src)? {
        None | Some(0) => return Ok(false),
        Some(_) => {}
    }
    let dst_exists = peek_write(ctx, dst)?.is_some();
    let fill = fill(ctx);
    let (value, emptied) = if src == dst {
        let Some(l) = list_mut(ctx, src) else {
            return Ok(false);
        };
        let Some(v) = l.pop(from_left) else {
            return Ok(false);
        };
        l.push(&v, to_left, &fill);
        (v, false)
    } else {
        let Some(l) = list_mut(ctx, src) else {
            return Ok(false);
        };
        let Some(v) = l.pop(from_left) else {
            return Ok(false);
        };
        let emptied = l.is_empty();
        if dst_exists {
            if let Some(d) = list_mut(ctx, dst) {
                d.push(&v, to_left, &fill);
            }
            ctx.db().touch(dst);
        } else {
            let mut d = ListValue::new();
            d.push(&v, to_left, &fill);
            ctx.db().set(dst, Value::List(Box::new(d)), false);
        }
        (v, emptied)
    };
    ctx.notify(b'l', if to_left { "lpush" } else { "rpush" }, dst);
    ctx.out.bulk(&value);
    ctx.notify(b'l', if from_left { "lpop" } else { "rpop" }, src);
    if emptied {
        ctx.db().remove(src);
        ctx.notify(b'g', "del", src);
    } else {
        ctx.db().touch(src);
    }
    ctx.dirty(1);
    Ok(true)
}

/// LEFT | RIGHT (`getListPositionFromObjectOrReply`): true for LEFT.
fn parse_where(arg: &[u8]) -> Result<bool, CmdError> {
    if eq_ic(arg, "left") {
        Ok(true)
    } else if eq_ic(arg, "right") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

// ----------------------------------------------------------------------------------
// Commands

/// LPUSH / RPUSH / LPUSHX / RPUSHX key element [element ...]
fn push_generic(ctx: &mut Ctx<'_>, args: Args<'_>, left: bool, xx: bool) -> CmdResult {
    let key = args.get(1);
    let fill = fill(ctx);
    let now = ctx.st.ks.now_ms;
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let len = match db.get_mut_untracked(key, now) {
        Some(Value::List(l)) => {
            for v in args.iter().skip(2) {
                l.push(v, left, &fill);
            }
            let len = l.len();
            db.touch(key);
            len
        }
        Some(_) => return Err(CmdError::WrongType),
        None => {
            if xx {
                ctx.out.int(0);
                return Ok(());
            }
            let mut l = ListValue::new();
            for v in args.iter().skip(2) {
                l.push(v, left, &fill);
            }
            let len = l.len();
            db.set(key, Value::List(Box::new(l)), false);
            len
        }
    };
    ctx.dirty((args.len() - 2) as u64);
    ctx.out.int(len as i64);
    ctx.notify(b'l', if left { "lpush" } else { "rpush" }, key);
    Ok(())
}

fn lpush(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ctx, args, true, false)
}

fn rpush(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ctx, args, false, false)
}

fn lpushx(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ctx, args, true, true)
}

fn rpushx(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ctx, args, false, true)
}

/// LPOP / RPOP key [count]
fn pop_generic(ctx: &mut Ctx<'_>, args: Args<'_>, left: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::WrongArity(if left { "lpop" } else { "rpop" }.into()));
    }
    let count = if args.len() == 3 {
        match parse_i64(args.get(2)) {
            Ok(c) if c >= 0 => Some(c as usize),
            _ => return Err(CmdError::err("value is out of range, must be positive")),
        }
    } else {
        None
    };
    let key = args.get(1);
    let Some(len) = list_len(ctx, key)? else {
        if count.is_some() {
            ctx.out.null_array();
        } else {
            ctx.out.null();
        }
        return Ok(());
    };
    match count {
        None => {
            pop_into_reply(ctx, key, left, 1);
        }
        Some(0) => ctx.out.array(0),
        Some(c) => {
            ctx.out.array(c.min(len));
            pop_into_reply(ctx, key, left, c);
        }
    }
    Ok(())
}

fn lpop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    pop_generic(ctx, args, true)
}

fn rpop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    pop_generic(ctx, args, false)
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn lmpop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (numkeys, left, count) = parse_mpop_args(args, 1)?;
    if !mpop_first(ctx, args, 2, numkeys, left, count)? {
        ctx.out.null_array();
    }
    Ok(())
}

/// LMPOP's keys: `numkeys` keys after the numkeys argument.
fn lmpop_keys(args: Args<'_>) -> Vec<usize> {
    if args.len() < 2 {
        return Vec::new();
    }
    match parse_i64(args.get(1)) {
        Ok(n) if n >= 1 && (n as u64) < args.len() as u64 - 1 => (2..2 + n as usize).collect(),
        _ => Vec::new(),
    }
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
fn lmove(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let from_left = parse_where(args.get(3))?;
    let to_left = parse_where(args.get(4))?;
    if !lmove_once(ctx, args.get(1), args.get(2), from_left, to_left)? {
        ctx.out.null();
    }
    Ok(())
}

/// RPOPLPUSH source destination
fn rpoplpush(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if !lmove_once(ctx, args.get(1), args.get(2), false, true)? {
        ctx.out.null();
    }
    Ok(())
}

/// Resolves LRANGE-style start/end against `len`: Some((start, count)) or None when
/// the range is empty (`addListRangeReply`).
fn range_of(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len.saturating_add(start) } else { start };
    let mut end = if end < 0 { len.saturating_add(end) } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, (end - start + 1) as usize))
}

/// LRANGE key start stop
fn lrange(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let start = parse_i64(args.get(2))?;
    let end = parse_i64(args.get(3))?;
    let (l, out) = read(ctx, args.get(1))?;
    match l.and_then(|l| range_of(start, end, l.len()).map(|r| (l, r))) {
        None => out.array(0),
        Some((l, (s, n))) => {
            out.array(n);
            for v in l.iter_from(s).take(n) {
                out.bulk(v);
            }
        }
    }
    Ok(())
}

/// LLEN key
fn llen(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (l, out) = read(ctx, args.get(1))?;
    out.int(l.map_or(0, |l| l.len()) as i64);
    Ok(())
}

/// LINDEX key index
fn lindex(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (l, out) = read(ctx, args.get(1))?;
    let Some(l) = l else {
        out.null();
        return Ok(());
    };
    let index = parse_i64(args.get(2))?;
    match l.get(index) {
        Some(v) => out.bulk(v),
        None => out.null(),
    }
    Ok(())
}

/// LSET key index element
fn lset(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let Some(l) = peek_write(ctx, key)? else {
        return Err(CmdError::NoSuchKey);
    };
    let index = parse_i64(args.get(2))?;
    let len = l.len() as i64;
    if !(if index < 0 { index >= -len } else { index < len }) {
        return Err(CmdError::IndexOutOfRange);
    }
    let fill = fill(ctx);
    if let Some(l) = list_mut(ctx, key) {
        l.set(index, args.get(3), &fill);
    }
    ctx.db().touch(key);
    ctx.out.ok();
    ctx.notify(b'l', "lset", key);
    ctx.dirty(1);
    Ok(())
}

/// LREM key count element
fn lrem(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let count = parse_i64(args.get(2))?;
    if peek_write(ctx, key)?.is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    let Some(l) = list_mut(ctx, key) else {
        ctx.out.int(0);
        return Ok(());
    };
    let removed = l.remove_matching(args.get(3), count.unsigned_abs(), count < 0);
    let emptied = l.is_empty();
    if removed > 0 {
        ctx.db().touch(key);
        ctx.notify(b'l', "lrem", key);
    }
    if emptied {
        ctx.db().remove(key);
        ctx.notify(b'g', "del", key);
    }
    ctx.dirty(removed);
    ctx.out.int(removed as i64);
    Ok(())
}

/// LTRIM key start stop
fn ltrim(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let start = parse_i64(args.get(2))?;
    let end = parse_i64(args.get(3))?;
    let Some(l) = peek_write(ctx, key)? else {
        ctx.out.ok();
        return Ok(());
    };
    let len = l.len();
    let (ltrim, rtrim) = match range_of(start, end, len) {
        None => (len, 0),
        Some((s, n)) => (s, len - s - n),
    };
    let emptied = match list_mut(ctx, key) {
        Some(l) => {
            l.trim(ltrim, rtrim);
            l.is_empty()
        }
        None => false,
    };
    ctx.notify(b'l', "ltrim", key);
    if emptied {
        ctx.db().remove(key);
        ctx.notify(b'g', "del", key);
    } else {
        ctx.db().touch(key);
    }
    ctx.dirty((ltrim + rtrim) as u64);
    ctx.out.ok();
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element
fn linsert(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let after = if eq_ic(args.get(2), "after") {
        true
    } else if eq_ic(args.get(2), "before") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    if peek_write(ctx, key)?.is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    let fill = fill(ctx);
    let Some(l) = list_mut(ctx, key) else {
        ctx.out.int(0);
        return Ok(());
    };
    if !l.insert_by_pivot(args.get(3), args.get(4), after, &fill) {
        ctx.out.int(-1);
        return Ok(());
    }
    let len = l.len();
    ctx.db().touch(key);
    ctx.notify(b'l', "linsert", key);
    ctx.dirty(1);
    ctx.out.int(len as i64);
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
fn lpos(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let ele = args.get(2);
    let mut rank: i64 = 1;
    let mut count: i64 = -1;
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let opt = args.get(j);
        let moreargs = args.len() - 1 - j;
        if eq_ic(opt, "rank") && moreargs > 0 {
            j += 1;
            rank = parse_i64(args.get(j))?;
            if rank == 0 {
                return Err(CmdError::err(
                    "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if eq_ic(opt, "count") && moreargs > 0 {
            j += 1;
            count = match parse_i64(args.get(j)) {
                Ok(c) if c >= 0 => c,
                _ => return Err(CmdError::err("COUNT can't be negative")),
            };
        } else if eq_ic(opt, "maxlen") && moreargs > 0 {
            j += 1;
            maxlen = match parse_i64(args.get(j)) {
                Ok(c) if c >= 0 => c,
                _ => return Err(CmdError::err("MAXLEN can't be negative")),
            };
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    // A negative rank searches from the tail (LONG_MIN stays negative, as in Redis).
    let from_tail = rank < 0;
    if from_tail {
        rank = rank.wrapping_neg();
    }
    let (l, out) = read(ctx, args.get(1))?;
    let Some(l) = l else {
        if count != -1 {
            out.array(0);
        } else {
            out.null();
        }
        return Ok(());
    };
    let llen = l.len() as i64;
    let with_count = count != -1;
    let deferred = if with_count { Some(out.begin_deferred()) } else { None };
    let mut index: i64 = 0;
    let mut matches: i64 = 0;
    let mut matchindex: i64 = -1;
    let mut arraylen = 0usize;
    let mut visit = |v: &[u8]| -> bool {
        if maxlen != 0 && index >= maxlen {
            return false;
        }
        if v == ele {
            matches += 1;
            matchindex = if from_tail { llen - index - 1 } else { index };
            if matches >= rank {
                if with_count {
                    arraylen += 1;
                    out.int(matchindex);
                    if count != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= count {
                        return false;
                    }
                } else {
                    return false;
                }
            }
        }
        index += 1;
        matchindex = -1;
        true
    };
    if from_tail {
        for v in l.iter_rev() {
            if !visit(v) {
                break;
            }
        }
    } else {
        for v in l.iter() {
            if !visit(v) {
                break;
            }
        }
    }
    match deferred {
        Some(pos) => out.end_deferred(pos, b'*', arraylen),
        None => {
            if matchindex != -1 {
                out.int(matchindex);
            } else {
                out.null();
            }
        }
    }
    Ok(())
}

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Prepend one or multiple elements to a list",
        since: "1.0.0",
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        ..CommandDef::new("lpush", -3, WRITE | DENYOOM | FAST, (1, 1, 1), "list", lpush)
    },
    CommandDef {
        summary: "Append one or multiple elements to a list",
        since: "1.0.0",
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        ..CommandDef::new("rpush", -3, WRITE | DENYOOM | FAST, (1, 1, 1), "list", rpush)
    },
    CommandDef {
        summary: "Prepend an element to a list, only if the list exists",
        since: "2.2.0",
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        ..CommandDef::new("lpushx", -3, WRITE | DENYOOM | FAST, (1, 1, 1), "list", lpushx)
    },
    CommandDef {
        summary: "Append an element to a list, only if the list exists",
        since: "2.2.0",
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        ..CommandDef::new("rpushx", -3, WRITE | DENYOOM | FAST, (1, 1, 1), "list", rpushx)
    },
    CommandDef {
        summary: "Remove and get the first elements in a list",
        since: "1.0.0",
        complexity: "O(N) where N is the number of elements returned",
        ..CommandDef::new("lpop", -2, WRITE | FAST, (1, 1, 1), "list", lpop)
    },
    CommandDef {
        summary: "Remove and get the last elements in a list",
        since: "1.0.0",
        complexity: "O(N) where N is the number of elements returned",
        ..CommandDef::new("rpop", -2, WRITE | FAST, (1, 1, 1), "list", rpop)
    },
    CommandDef {
        summary: "Get a range of elements from a list",
        since: "1.0.0",
        complexity: "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
        ..CommandDef::new("lrange", 4, READONLY, (1, 1, 1), "list", lrange)
    },
    CommandDef {
        summary: "Get the length of a list",
        since: "1.0.0",
        complexity: "O(1)",
        ..CommandDef::new("llen", 2, READONLY | FAST, (1, 1, 1), "list", llen)
    },
    CommandDef {
        summary: "Get an element from a list by its index",
        since: "1.0.0",
        complexity: "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
        ..CommandDef::new("lindex", 3, READONLY, (1, 1, 1), "list", lindex)
    },
    CommandDef {
        summary: "Set the value of an element in a list by its index",
        since: "1.0.0",
        complexity: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
        ..CommandDef::new("lset", 4, WRITE | DENYOOM, (1, 1, 1), "list", lset)
    },
    CommandDef {
        summary: "Remove elements from a list",
        since: "1.0.0",
        complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
        ..CommandDef::new("lrem", 4, WRITE, (1, 1, 1), "list", lrem)
    },
    CommandDef {
        summary: "Trim a list to the specified range",
        since: "1.0.0",
        complexity: "O(N) where N is the number of elements to be removed by the operation.",
        ..CommandDef::new("ltrim", 4, WRITE, (1, 1, 1), "list", ltrim)
    },
    CommandDef {
        summary: "Insert an element before or after another element in a list",
        since: "2.2.0",
        complexity: "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
        ..CommandDef::new("linsert", 5, WRITE | DENYOOM, (1, 1, 1), "list", linsert)
    },
    CommandDef {
        summary: "Return the index of matching elements on a list",
        since: "6.0.6",
        complexity: "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
        ..CommandDef::new("lpos", -3, READONLY, (1, 1, 1), "list", lpos)
    },
    CommandDef {
        summary: "Pop an element from a list, push it to another list and return it",
        since: "6.2.0",
        complexity: "O(1)",
        ..CommandDef::new("lmove", 5, WRITE | DENYOOM, (1, 2, 1), "list", lmove)
    },
    CommandDef {
        summary: "Remove the last element in a list, prepend it to another list and return it",
        since: "1.2.0",
        complexity: "O(1)",
        ..CommandDef::new("rpoplpush", 3, WRITE | DENYOOM, (1, 2, 1), "list", rpoplpush)
    },
    CommandDef {
        summary: "Pop elements from a list",
        since: "7.0.0",
        complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
        keys: Some(lmpop_keys),
        ..CommandDef::new("lmpop", -4, WRITE | MOVABLE_KEYS, (0, 0, 0), "list", lmpop)
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_like_redis() {
        assert_eq!(range_of(0, -1, 3), Some((0, 3)));
        assert_eq!(range_of(-100, 100, 3), Some((0, 3)));
        assert_eq!(range_of(2, 1, 3), None);
        assert_eq!(range_of(3, 5, 3), None);
        assert_eq!(range_of(-1, -1, 3), Some((2, 1)));
        assert_eq!(range_of(i64::MIN, i64::MAX, 3), Some((0, 3)));
        assert_eq!(range_of(0, -4, 3), None);
        assert_eq!(range_of(0, 0, 0), None);
    }
}
