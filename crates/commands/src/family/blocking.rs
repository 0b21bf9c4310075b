//! Family: blocking pops (BLPOP BRPOP BRPOPLPUSH BLMOVE BLMPOP BZPOPMIN BZPOPMAX BZMPOP).
//!
//! Each handler first tries to serve like its non-blocking twin. With nothing to serve
//! it returns `Action::Block` (no reply written); the registry in `crate::blocking`
//! re-runs it when one of its keys receives a list or sorted set, FIFO among waiters.
//! Inside MULTI/EXEC a blocking command never blocks: it replies as on a timeout, as
//! Redis does for clients that may not block.

use crate::ctx::{Action, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::family::{list, zset};
use crate::table::{flags::*, CommandDef};
use crate::util::eq_ic;
use shoal_keyspace::Value;
use shoal_resp::{Args, ReplyBuf};

/// Parses a timeout in seconds (a float, as Redis's `getTimeoutFromObjectOrReply`) into an
/// absolute deadline in unix ms; 0 means "block forever".
fn parse_timeout(ctx: &Ctx<'_>, arg: &[u8]) -> Result<u64, CmdError> {
    let v = shoal_resp::parse_double(arg).ok_or_else(|| CmdError::err("timeout is not a float or out of range"))?;
    let ms = (v * 1000.0) as i64; // saturating, as the C cast is for finite values
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    if ms == 0 {
        return Ok(0);
    }
    let now = ctx.now();
    if ms as u64 > i64::MAX as u64 - now {
        return Err(CmdError::err("timeout is out of range"));
    }
    Ok(now + ms as u64)
}

fn null_array(out: &mut ReplyBuf) {
    out.null_array();
}

fn null_bulk(out: &mut ReplyBuf) {
    out.null();
}

/// Blocks on `keys`; a client that may not block (inside MULTI/EXEC) gets
/// `deny_reply` at once. Redis 7.0 answers a timeout with a null array for every
/// blocking command, but a denied BLMOVE/BRPOPLPUSH with a null bulk.
fn block_or(ctx: &mut Ctx<'_>, keys: Vec<Vec<u8>>, deadline_ms: u64, deny_reply: fn(&mut ReplyBuf)) -> CmdResult {
    if ctx.client.in_exec || ctx.client.multi.is_some() {
        deny_reply(ctx.out);
        return Ok(());
    }
    ctx.action = Some(Action::Block { keys, deadline_ms, timeout_reply: null_array });
    Ok(())
}

fn block(ctx: &mut Ctx<'_>, keys: Vec<Vec<u8>>, deadline_ms: u64, timeout_reply: fn(&mut ReplyBuf)) -> CmdResult {
    if ctx.client.in_exec || ctx.client.multi.is_some() {
        timeout_reply(ctx.out);
        return Ok(());
    }
    ctx.action = Some(Action::Block { keys, deadline_ms, timeout_reply });
    Ok(())
}

fn parse_side(arg: &[u8]) -> Result<bool, CmdError> {
    if eq_ic(arg, "left") {
        Ok(true)
    } else if eq_ic(arg, "right") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// BLPOP/BRPOP key [key ...] timeout
fn bpop(ctx: &mut Ctx<'_>, args: Args<'_>, left: bool) -> CmdResult {
    let deadline = parse_timeout(ctx, args.get(args.len() - 1))?;
    let keys: Vec<&[u8]> = args.iter().skip(1).take(args.len() - 2).collect();
    for &key in &keys {
        match list::list_len(ctx, key)? {
            Some(n) if n > 0 => {
                ctx.out.array(2);
                ctx.out.bulk(key);
                list::pop_into_reply(ctx, key, left, 1);
                return Ok(());
            }
            _ => {}
        }
    }
    block(ctx, keys.iter().map(|k| k.to_vec()).collect(), deadline, null_array)
}

fn blpop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    bpop(ctx, args, true)
}

fn brpop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    bpop(ctx, args, false)
}

fn bmove(ctx: &mut Ctx<'_>, src: &[u8], dst: &[u8], from_left: bool, to_left: bool, deadline: u64) -> CmdResult {
    if list::lmove_once(ctx, src, dst, from_left, to_left)? {
        return Ok(());
    }
    block_or(ctx, vec![src.to_vec()], deadline, null_bulk)
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
fn blmove(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let from_left = parse_side(args.get(3))?;
    let to_left = parse_side(args.get(4))?;
    let deadline = parse_timeout(ctx, args.get(5))?;
    bmove(ctx, args.get(1), args.get(2), from_left, to_left, deadline)
}

/// BRPOPLPUSH source destination timeout
fn brpoplpush(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let deadline = parse_timeout(ctx, args.get(3))?;
    bmove(ctx, args.get(1), args.get(2), false, true, deadline)
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn blmpop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let deadline = parse_timeout(ctx, args.get(1))?;
    let (numkeys, left, count) = list::parse_mpop_args(args, 2)?;
    if list::mpop_first(ctx, args, 3, numkeys, left, count)? {
        return Ok(());
    }
    block(ctx, (3..3 + numkeys).map(|i| args.get(i).to_vec()).collect(), deadline, null_array)
}

/// The first of `keys` holding a non-empty sorted set; WRONGTYPE for another type.
fn first_zset<'k>(ctx: &mut Ctx<'_>, keys: &[&'k [u8]]) -> Result<Option<&'k [u8]>, CmdError> {
    let now = ctx.now();
    for &k in keys {
        match ctx.st.ks.dbs[ctx.client.db].get(k, now) {
            None => {}
            Some(Value::ZSet(z)) if !z.is_empty() => return Ok(Some(k)),
            Some(Value::ZSet(_)) => {}
            Some(_) => return Err(CmdError::WrongType),
        }
    }
    Ok(None)
}

/// BZPOPMIN/BZPOPMAX key [key ...] timeout
fn bzpop(ctx: &mut Ctx<'_>, args: Args<'_>, max: bool) -> CmdResult {
    let deadline = parse_timeout(ctx, args.get(args.len() - 1))?;
    let keys: Vec<&[u8]> = args.iter().skip(1).take(args.len() - 2).collect();
    if let Some(k) = first_zset(ctx, &keys)? {
        zset::zpop_key(ctx, k, max, 1, true, false);
        return Ok(());
    }
    block(ctx, keys.iter().map(|k| k.to_vec()).collect(), deadline, null_array)
}

fn bzpopmin(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    bzpop(ctx, args, false)
}

fn bzpopmax(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    bzpop(ctx, args, true)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
fn bzmpop(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let deadline = parse_timeout(ctx, args.get(1))?;
    let (numkeys, max, count) = zset::parse_zmpop(args, 2)?;
    let keys: Vec<&[u8]> = (3..3 + numkeys).map(|i| args.get(i)).collect();
    if let Some(k) = first_zset(ctx, &keys)? {
        zset::zpop_key(ctx, k, max, count.unwrap_or(1), true, true);
        return Ok(());
    }
    block(ctx, keys.iter().map(|k| k.to_vec()).collect(), deadline, null_array)
}

fn blmpop_keys(args: Args<'_>) -> Vec<usize> {
    zset::numkeys_keys(args, 2, None)
}

const B: u32 = WRITE | NOSCRIPT | BLOCKING;

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        since: "2.0.0",
        complexity: "O(N) where N is the number of provided keys.",
        ..CommandDef::new("blpop", -3, B, (1, -2, 1), "list", blpop)
    },
    CommandDef {
        summary: "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        since: "2.0.0",
        complexity: "O(N) where N is the number of provided keys.",
        ..CommandDef::new("brpop", -3, B, (1, -2, 1), "list", brpop)
    },
    CommandDef {
        summary: "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.",
        since: "2.2.0",
        complexity: "O(1)",
        ..CommandDef::new("brpoplpush", 4, B | DENYOOM, (1, 2, 1), "list", brpoplpush)
    },
    CommandDef {
        summary: "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.",
        since: "6.2.0",
        complexity: "O(1)",
        ..CommandDef::new("blmove", 6, B | DENYOOM, (1, 2, 1), "list", blmove)
    },
    CommandDef {
        summary: "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        since: "7.0.0",
        complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
        keys: Some(blmpop_keys),
        ..CommandDef::new("blmpop", -5, B | MOVABLE_KEYS, (0, 0, 0), "list", blmpop)
    },
    CommandDef {
        summary: "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
        since: "5.0.0",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        ..CommandDef::new("bzpopmin", -3, B | FAST, (1, -2, 1), "sorted-set", bzpopmin)
    },
    CommandDef {
        summary: "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.",
        since: "5.0.0",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        ..CommandDef::new("bzpopmax", -3, B | FAST, (1, -2, 1), "sorted-set", bzpopmax)
    },
    CommandDef {
        summary: "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
        since: "7.0.0",
        complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        keys: Some(blmpop_keys),
        ..CommandDef::new("bzmpop", -5, B | MOVABLE_KEYS, (0, 0, 0), "sorted-set", bzmpop)
    },
];
