//! Family: streams (X* commands, consumer groups), as redis-server 7.0's t_stream.c.

use crate::ctx::{Action, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::table::{flags::*, CommandDef};
use crate::util::{eq_ic, lossy, parse_i64};
use shoal_keyspace::value::stream::{Consumer, EntryRef, Group, Nack, StreamId, StreamValue, Trim};
use shoal_keyspace::Value;
use shoal_resp::{Args, OwnedArgs, ReplyBuf};

const INVALID_ID: &str = "Invalid stream ID specified as stream command argument";

// ---- ID parsing -----------------------------------------------------------------------

/// C's strtoull on a NUL-free string, with Redis's string2ull front end: string2ll
/// first (negative values rejected), then strtoull (leading spaces, a sign, leading
/// zeros; a '-' wraps), the whole string consumed.
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = shoal_keyspace::value::shoal_parse_i64(s) {
        return if v < 0 { None } else { Some(v as u64) };
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut v: u64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.checked_mul(10)?.checked_add((s[i] - b'0') as u64)?;
        i += 1;
    }
    if i == start || i != s.len() || s.is_empty() {
        return None;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// streamGenericParseIDOrReply. `seq_given`: Some for XADD (accepts `<ms>-*`).
fn parse_id_full(arg: &[u8], missing_seq: u64, strict: bool, seq_given: Option<&mut bool>) -> Result<StreamId, CmdError> {
    if arg.len() > 127 {
        return Err(CmdError::err(INVALID_ID));
    }
    // The C string ends at the first NUL.
    let buf = match arg.iter().position(|&c| c == 0) {
        Some(p) => &arg[..p],
        None => arg,
    };
    if strict && (buf == b"-" || buf == b"+") {
        return Err(CmdError::err(INVALID_ID));
    }
    let mut sg = true;
    let r = if buf == b"-" {
        Some(StreamId::MIN)
    } else if buf == b"+" {
        Some(StreamId::MAX)
    } else {
        let (ms_s, seq_s) = match buf.iter().position(|&c| c == b'-') {
            Some(p) => (&buf[..p], Some(&buf[p + 1..])),
            None => (buf, None),
        };
        match string2ull(ms_s) {
            None => None,
            Some(ms) => match seq_s {
                None => Some(StreamId::new(ms, missing_seq)),
                Some(b"*") if seq_given.is_some() => {
                    sg = false;
                    Some(StreamId::new(ms, 0))
                }
                Some(q) => string2ull(q).map(|seq| StreamId::new(ms, seq)),
            },
        }
    };
    match r {
        Some(id) => {
            if let Some(g) = seq_given {
                *g = sg;
            }
            Ok(id)
        }
        None => Err(CmdError::err(INVALID_ID)),
    }
}

fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    parse_id_full(arg, missing_seq, false, None)
}

fn parse_strict(arg: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    parse_id_full(arg, missing_seq, true, None)
}

/// streamParseIntervalIDOrReply: `(` makes the bound exclusive (and strict).
fn parse_interval(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    if arg.len() > 1 && arg[0] == b'(' {
        Ok((parse_strict(&arg[1..], missing_seq)?, true))
    } else {
        Ok((parse_id(arg, missing_seq)?, false))
    }
}

fn parse_range_start(arg: &[u8]) -> Result<StreamId, CmdError> {
    let (id, ex) = parse_interval(arg, 0)?;
    if ex {
        return id.incr().ok_or_else(|| CmdError::err("invalid start ID for the interval"));
    }
    Ok(id)
}

fn parse_range_end(arg: &[u8]) -> Result<StreamId, CmdError> {
    let (id, ex) = parse_interval(arg, u64::MAX)?;
    if ex {
        return id.decr().ok_or_else(|| CmdError::err("invalid end ID for the interval"));
    }
    Ok(id)
}

// ---- replies --------------------------------------------------------------------------

fn fmt_u64(v: u64, b: &mut [u8], mut i: usize) -> usize {
    let mut v = v;
    loop {
        i -= 1;
        b[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return i;
        }
    }
}

fn reply_id(out: &mut ReplyBuf, id: StreamId) {
    let mut b = [0u8; 48];
    let e = fmt_u64(id.seq, &mut b, 48);
    b[e - 1] = b'-';
    let s = fmt_u64(id.ms, &mut b, e - 1);
    out.bulk(&b[s..]);
}

fn id_bytes(id: StreamId) -> Vec<u8> {
    id.to_bytes()
}

fn reply_entry(out: &mut ReplyBuf, e: &EntryRef<'_>) {
    out.array(2);
    reply_id(out, e.id);
    out.array(e.numfields() * 2);
    e.for_each(|f, v| {
        out.bulk(f);
        out.bulk(v);
    });
}

fn nogroup_key(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::raw(format!("NOGROUP No such key '{}' or consumer group '{}'", lossy(key), lossy(group)))
}

fn nogroup_for_key(group: &[u8], key: &[u8]) -> CmdError {
    CmdError::raw(format!("NOGROUP No such consumer group '{}' for key name '{}'", lossy(group), lossy(key)))
}

// ---- lookups --------------------------------------------------------------------------

/// lookupKeyRead + type check (counts a hit or miss).
fn read_stream<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<(Option<&'c StreamValue>, &'c mut ReplyBuf), CmdError> {
    let (v, out) = ctx.read_value(key);
    match v {
        None => Ok((None, out)),
        Some(Value::Stream(s)) => Ok((Some(&**s), out)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// lookupKeyWrite + type check.
fn write_stream<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c mut StreamValue>, CmdError> {
    let now = ctx.now();
    match ctx.st.ks.dbs[ctx.client.db].get_mut_untracked(key, now) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(&mut **s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// lookupKeyWrite + type check, with the reply buffer (disjoint borrows).
fn write_stream_out<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<(Option<&'c mut StreamValue>, &'c mut ReplyBuf), CmdError> {
    let now = ctx.st.ks.now_ms;
    match ctx.st.ks.dbs[ctx.client.db].get_mut_untracked(key, now) {
        None => Ok((None, &mut *ctx.out)),
        Some(Value::Stream(s)) => Ok((Some(&mut **s), &mut *ctx.out)),
        Some(_) => Err(CmdError::WrongType),
    }
}

fn stream_exists(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<bool, CmdError> {
    Ok(write_stream(ctx, key)?.is_some())
}

fn node_limits(ctx: &Ctx<'_>) -> (i64, i64) {
    let c = ctx.shared.config.read();
    (c.get_i64("stream-node-max-bytes"), c.get_i64("stream-node-max-entries"))
}

// ---- XADD / XTRIM ----------------------------------------------------------------------

struct AddTrimArgs {
    trim: Trim,
    approx: bool,
    limit: u64,
    id: Option<StreamId>,
    seq_given: bool,
    nomkstream: bool,
    idpos: usize,
}

fn parse_add_trim(ctx: &Ctx<'_>, args: Args<'_>, xadd: bool) -> Result<AddTrimArgs, CmdError> {
    let mut a = AddTrimArgs { trim: Trim::None, approx: false, limit: 0, id: None, seq_given: true, nomkstream: false, idpos: 0 };
    let argc = args.len();
    let mut limit: i64 = 0;
    let mut limit_given = false;
    let mut i = 2;
    while i < argc {
        let moreargs = argc - 1 - i;
        let opt = args.get(i);
        if xadd && opt == b"*" {
            break;
        } else if (eq_ic(opt, "maxlen") || eq_ic(opt, "minid")) && moreargs > 0 {
            let maxlen = eq_ic(opt, "maxlen");
            if a.trim != Trim::None {
                return Err(CmdError::err("syntax error, MAXLEN and MINID options at the same time are not compatible"));
            }
            a.approx = false;
            let next = args.get(i + 1);
            if moreargs >= 2 && next == b"~" {
                a.approx = true;
                i += 1;
            } else if moreargs >= 2 && next == b"=" {
                i += 1;
            }
            if maxlen {
                let n = parse_i64(args.get(i + 1))?;
                if n < 0 {
                    return Err(CmdError::err("The MAXLEN argument must be >= 0."));
                }
                a.trim = Trim::MaxLen(n as u64);
            } else {
                a.trim = Trim::MinId(parse_strict(args.get(i + 1), 0)?);
            }
            i += 1;
        } else if eq_ic(opt, "limit") && moreargs > 0 {
            limit = parse_i64(args.get(i + 1))?;
            if limit < 0 {
                return Err(CmdError::err("The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            i += 1;
        } else if xadd && eq_ic(opt, "nomkstream") {
            a.nomkstream = true;
        } else if xadd {
            let mut sg = true;
            a.id = Some(parse_id_full(opt, 0, true, Some(&mut sg))?);
            a.seq_given = sg;
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if limit != 0 && a.trim == Trim::None {
        return Err(CmdError::err("syntax error, LIMIT cannot be used without specifying a trimming strategy"));
    }
    if !xadd && a.trim == Trim::None {
        return Err(CmdError::err("syntax error, XTRIM must be called with a trimming strategy"));
    }
    if limit_given {
        if !a.approx {
            return Err(CmdError::err("syntax error, LIMIT cannot be used without the special ~ option"));
        }
        a.limit = limit as u64;
    } else if a.approx {
        let (_, max_entries) = node_limits(ctx);
        let mut l = max_entries.saturating_mul(100);
        if l <= 0 {
            l = 10000;
        }
        if l > 1_000_000 {
            l = 1_000_000;
        }
        a.limit = l as u64;
    } else {
        a.limit = 0;
    }
    a.idpos = i;
    Ok(a)
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
fn xadd(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let a = parse_add_trim(ctx, args, true)?;
    let argc = args.len();
    let field_pos = a.idpos + 1;
    if argc < field_pos + 2 || !(argc - field_pos).is_multiple_of(2) {
        return Err(CmdError::WrongArity("xadd".into()));
    }
    if let Some(id) = a.id {
        if a.seq_given && id.is_zero() {
            return Err(CmdError::err("The ID specified in XADD must be greater than 0-0"));
        }
    }
    let key = args.get(1);
    let (max_bytes, max_entries) = node_limits(ctx);
    let now = ctx.now();
    let fv: Vec<&[u8]> = (field_pos..argc).map(|i| args.get(i)).collect();
    let mut fresh: Option<Box<StreamValue>> = None;
    let s: &mut StreamValue = match write_stream(ctx, key)? {
        Some(s) => s,
        None => {
            if a.nomkstream {
                ctx.out.null();
                return Ok(());
            }
            fresh = Some(Box::default());
            fresh.as_deref_mut().expect("fresh")
        }
    };
    if s.last_id == StreamId::MAX {
        return Err(CmdError::err("The stream has exhausted the last possible ID, unable to add more items"));
    }
    let edom = || CmdError::err("The ID specified in XADD is equal or smaller than the target stream top item");
    let id = match a.id {
        Some(id) if a.seq_given => id,
        Some(id) => {
            if s.last_id.ms == id.ms {
                s.last_id.incr().filter(|n| n.ms == id.ms).ok_or_else(edom)?
            } else {
                id
            }
        }
        None => s.next_id(now.max(crate::ctx::unix_ms())).ok_or_else(edom)?,
    };
    if id <= s.last_id {
        return Err(edom());
    }
    s.append(id, &fv, max_bytes, max_entries);
    let trimmed = s.trim(a.trim, a.approx, a.limit);
    reply_id(ctx.out, id);
    // (Db::set records the creation; the "new" event goes out before "xadd".)
    if let Some(v) = fresh {
        ctx.db().set(key, Value::Stream(v), false);
    } else {
        ctx.db().touch(key);
    }
    ctx.notify(b't', "xadd", key);
    ctx.dirty(1);
    if trimmed > 0 {
        ctx.notify(b't', "xtrim", key);
    }
    ctx.signal_ready(key);
    Ok(())
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
fn xtrim(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let a = parse_add_trim(ctx, args, false)?;
    let key = args.get(1);
    let Some(s) = write_stream(ctx, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let deleted = s.trim(a.trim, a.approx, a.limit);
    if deleted > 0 {
        ctx.notify(b't', "xtrim", key);
        ctx.db().touch(key);
        ctx.dirty(deleted);
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

// ---- XRANGE / XREVRANGE / XLEN / XDEL ---------------------------------------------------

fn xrange_generic(ctx: &mut Ctx<'_>, args: Args<'_>, rev: bool) -> CmdResult {
    let (sa, ea) = if rev { (args.get(3), args.get(2)) } else { (args.get(2), args.get(3)) };
    let start = parse_range_start(sa)?;
    let end = parse_range_end(ea)?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        let additional = args.len() - j - 1;
        if eq_ic(args.get(j), "count") && additional >= 1 {
            count = parse_i64(args.get(j + 1))?.max(0);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let (s, out) = read_stream(ctx, args.get(1))?;
    let Some(s) = s else {
        out.array(0);
        return Ok(());
    };
    if count == 0 {
        out.null_array();
        return Ok(());
    }
    let limit = if count < 0 { usize::MAX } else { count as usize };
    let pos = out.begin_deferred();
    let mut n = 0usize;
    s.range(start, end, rev, |e| {
        reply_entry(out, &e);
        n += 1;
        n < limit
    });
    out.end_deferred(pos, b'*', n);
    Ok(())
}

fn xrange(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    xrange_generic(ctx, args, false)
}

fn xrevrange(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    xrange_generic(ctx, args, true)
}

fn xlen(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (s, out) = read_stream(ctx, args.get(1))?;
    out.int(s.map(|s| s.length as i64).unwrap_or(0));
    Ok(())
}

/// XDEL key id [id ...]
fn xdel(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    if !stream_exists(ctx, key)? {
        ctx.out.int(0);
        return Ok(());
    }
    let ids = (2..args.len()).map(|j| parse_strict(args.get(j), 0)).collect::<Result<Vec<_>, _>>()?;
    let s = write_stream(ctx, key)?.expect("stream");
    let mut deleted = 0u64;
    let mut first_entry = false;
    for id in ids {
        if s.delete(id) {
            if id == s.first_id {
                first_entry = true;
            }
            if id > s.max_deleted {
                s.max_deleted = id;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        if s.length == 0 {
            s.first_id = StreamId::MIN;
        } else if first_entry {
            s.first_id = s.first_valid_id().unwrap_or(StreamId::MAX);
        }
        ctx.db().touch(key);
        ctx.notify(b't', "xdel", key);
        ctx.dirty(deleted);
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

// ---- XREAD / XREADGROUP ----------------------------------------------------------------

fn null_array(out: &mut ReplyBuf) {
    out.null_array();
}

/// Positions of the keys of XREAD/XREADGROUP (the first half of the arguments after
/// STREAMS), as xreadGetKeys.
fn xread_keys(args: Args<'_>) -> Vec<usize> {
    let mut i = 1;
    while i < args.len() {
        let a = args.get(i);
        if eq_ic(a, "block") || eq_ic(a, "count") {
            i += 2;
        } else if eq_ic(a, "group") {
            i += 3;
        } else if eq_ic(a, "streams") {
            let n = (args.len() - i - 1) / 2;
            return (i + 1..i + 1 + n).collect();
        } else {
            i += 1;
        }
    }
    Vec::new()
}

/// Serves a consumer group from `start` (not history): delivers new entries, updates
/// the group's last ID and read counter, creates or moves pending entries. Returns
/// (entries served, group changed).
#[allow(clippy::too_many_arguments)]
fn serve_group(
    out: &mut ReplyBuf,
    s: &StreamValue,
    group: &mut Group,
    consumer: &[u8],
    start: StreamId,
    count: usize,
    noack: bool,
    now: u64,
) -> (usize, bool) {
    let pos = out.begin_deferred();
    let mut n = 0usize;
    let mut changed = false;
    s.range(start, StreamId::MAX, false, |e| {
        let id = e.id;
        if id > group.last_id {
            if group.entries_read != -1 && !s.range_has_tombstones(Some(id), None) {
                group.entries_read += 1;
            } else if s.entries_added > 0 {
                group.entries_read = s.estimate_distance(id);
            }
            group.last_id = id;
            changed = true;
        }
        reply_entry(out, &e);
        if !noack {
            changed = true;
            match group.pel.get_mut(&id) {
                Some(nack) => {
                    let old = std::mem::replace(&mut nack.consumer, consumer.into());
                    nack.delivery_time = now;
                    nack.delivery_count = 1;
                    if let Some(c) = group.consumers.get_mut(&*old) {
                        c.pel.remove(&id);
                    }
                }
                None => {
                    group.pel.insert(id, Nack { delivery_time: now, delivery_count: 1, consumer: consumer.into() });
                }
            }
            if let Some(c) = group.consumers.get_mut(consumer) {
                c.pel.insert(id);
            }
        }
        n += 1;
        count == 0 || n < count
    });
    out.end_deferred(pos, b'*', n);
    (n, changed)
}

/// Serves a consumer's history (its pending entries from `start`).
fn serve_history(out: &mut ReplyBuf, s: &StreamValue, group: &mut Group, consumer: &[u8], start: StreamId, count: usize, now: u64) {
    let pos = out.begin_deferred();
    let mut n = 0usize;
    let ids: Vec<StreamId> = match group.consumers.get(consumer) {
        Some(c) => c.pel.range(start..).take(if count == 0 { usize::MAX } else { count }).copied().collect(),
        None => Vec::new(),
    };
    for id in ids {
        match s.get(id) {
            Some(e) => {
                reply_entry(out, &e);
                if let Some(nack) = group.pel.get_mut(&id) {
                    nack.delivery_time = now;
                    nack.delivery_count += 1;
                }
            }
            None => {
                out.array(2);
                reply_id(out, id);
                out.null_array();
            }
        }
        n += 1;
    }
    out.end_deferred(pos, b'*', n);
}

/// XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...]
/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key [key ...] id [id ...]
fn xread_generic(ctx: &mut Ctx<'_>, args: Args<'_>, xreadgroup: bool) -> CmdResult {
    let argc = args.len();
    let mut timeout: i64 = -1;
    let mut count: i64 = 0;
    let mut streams_arg = 0usize;
    let mut streams_count = 0usize;
    let mut noack = false;
    let mut groupname: Option<&[u8]> = None;
    let mut consumername: &[u8] = b"";
    let mut i = 1;
    while i < argc {
        let moreargs = argc - i - 1;
        let o = args.get(i);
        if eq_ic(o, "block") && moreargs > 0 {
            i += 1;
            let t = crate::util::parse_i64_or(args.get(i), "timeout is not an integer or out of range")?;
            if t < 0 {
                return Err(CmdError::err("timeout is negative"));
            }
            let mut t = t;
            if t > 0 {
                let now = ctx.now() as i64;
                if t > i64::MAX - now {
                    return Err(CmdError::err("timeout is out of range"));
                }
                t += now;
            }
            timeout = t;
        } else if eq_ic(o, "count") && moreargs > 0 {
            i += 1;
            count = parse_i64(args.get(i))?.max(0);
        } else if eq_ic(o, "streams") && moreargs > 0 {
            streams_arg = i + 1;
            streams_count = argc - streams_arg;
            if !streams_count.is_multiple_of(2) {
                // Redis 7.0 names XREAD and '$' for XREADGROUP too.
                return Err(CmdError::err("Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."));
            }
            streams_count /= 2;
            break;
        } else if eq_ic(o, "group") && moreargs >= 2 {
            if !xreadgroup {
                return Err(CmdError::err("The GROUP option is only supported by XREADGROUP. You called XREAD instead."));
            }
            groupname = Some(args.get(i + 1));
            consumername = args.get(i + 2);
            i += 2;
        } else if eq_ic(o, "noack") {
            if !xreadgroup {
                return Err(CmdError::err("The NOACK option is only supported by XREADGROUP. You called XREAD instead."));
            }
            noack = true;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if streams_arg == 0 {
        return Err(CmdError::Syntax);
    }
    if xreadgroup && groupname.is_none() {
        return Err(CmdError::err("Missing GROUP option for XREADGROUP"));
    }
    let rerun = ctx.is_rerun_of_blocked();
    let mut ids: Vec<StreamId> = Vec::with_capacity(streams_count);
    let mut dollar = false;
    for k in 0..streams_count {
        let key = args.get(streams_arg + k);
        let idarg = args.get(streams_arg + streams_count + k);
        let (s, _) = read_stream(ctx, key)?;
        if let Some(g) = groupname {
            let has = s.is_some_and(|s| s.groups.contains_key(g));
            if !has {
                if rerun {
                    return Err(if s.is_none() {
                        CmdError::raw("UNBLOCKED the stream key no longer exists")
                    } else {
                        CmdError::raw("NOGROUP the consumer group this client was blocked on no longer exists")
                    });
                }
                return Err(CmdError::raw(format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    lossy(key),
                    lossy(g)
                )));
            }
        }
        if idarg == b"$" {
            if xreadgroup {
                return Err(CmdError::err(
                    "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                ));
            }
            ids.push(s.map(|s| s.last_id).unwrap_or_default());
            dollar = true;
            continue;
        } else if idarg == b">" {
            if !xreadgroup {
                return Err(CmdError::err(
                    "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                ));
            }
            ids.push(StreamId::MAX);
            continue;
        }
        ids.push(parse_strict(idarg, 0)?);
    }

    let now = ctx.now();
    let cnt = count as usize;
    let mut arraylen = 0usize;
    let mut top = 0usize;
    for (k, &gt0) in ids.iter().enumerate() {
        let key = args.get(streams_arg + k);
        let resp3 = ctx.client.resp3;
        // lookupKeyRead again, as Redis (hit/miss accounting).
        if read_stream(ctx, key)?.0.is_none() {
            continue;
        }
        if let Some(gname) = groupname {
            let (s, out) = write_stream_out(ctx, key)?;
            let s = s.expect("stream");
            let Some((gkey, mut group)) = s.groups.remove_entry(gname) else { continue };
            let mut gt = gt0;
            let mut serve = false;
            let mut history = false;
            if gt != StreamId::MAX {
                serve = true;
                history = true;
            } else if s.length > 0 {
                let maxid = s.last_valid_id().unwrap_or_default();
                if maxid > group.last_id {
                    serve = true;
                    gt = group.last_id;
                }
            }
            // Redis 7.0 looks the consumer up (and creates it) only when serving now.
            let mut created = false;
            let mut changed = false;
            if serve {
                created = touch_consumer(&mut group, consumername, now);
                arraylen += 1;
                if arraylen == 1 {
                    top = out.begin_deferred();
                }
                if !resp3 {
                    out.array(2);
                }
                out.bulk(key);
                let start = gt.incr().unwrap_or_default();
                if history {
                    serve_history(out, s, &mut group, consumername, start, cnt, now);
                } else {
                    let (_, ch) = serve_group(out, s, &mut group, consumername, start, cnt, noack, now);
                    changed = ch;
                }
            }
            s.groups.insert(gkey, group);
            if created {
                ctx.dirty(1);
                ctx.notify(b't', "xgroup-createconsumer", key);
            }
            if changed {
                ctx.dirty(1);
            }
        } else {
            let (Some(s), out) = read_stream_quiet(ctx, key)? else { continue };
            if s.length == 0 {
                continue;
            }
            let maxid = s.last_valid_id().unwrap_or_default();
            if maxid <= gt0 {
                continue;
            }
            arraylen += 1;
            if arraylen == 1 {
                top = out.begin_deferred();
            }
            if !resp3 {
                out.array(2);
            }
            out.bulk(key);
            let start = gt0.incr().unwrap_or_default();
            let pos = out.begin_deferred();
            let mut n = 0usize;
            s.range(start, StreamId::MAX, false, |e| {
                reply_entry(out, &e);
                n += 1;
                cnt == 0 || n < cnt
            });
            out.end_deferred(pos, b'*', n);
        }
    }
    if arraylen > 0 {
        let kind = if ctx.client.resp3 { b'%' } else { b'*' };
        ctx.out.end_deferred(top, kind, arraylen);
        return Ok(());
    }
    if timeout != -1 {
        if ctx.client.in_exec || ctx.client.multi.is_some() {
            ctx.out.null_array();
            return Ok(());
        }
        if dollar {
            let mut owned = OwnedArgs::from_slices(&[args.get(0)]);
            for j in 1..argc {
                let a = args.get(j);
                if j >= streams_arg + streams_count && a == b"$" {
                    owned.push(&id_bytes(ids[j - streams_arg - streams_count]));
                } else {
                    owned.push(a);
                }
            }
            ctx.set_block_args(owned);
        }
        let keys = (0..streams_count).map(|k| args.get(streams_arg + k).to_vec()).collect();
        ctx.action = Some(Action::Block { keys, deadline_ms: timeout as u64, timeout_reply: null_array });
        return Ok(());
    }
    ctx.out.null_array();
    Ok(())
}

/// A stream lookup without hit accounting (the caller counted it already).
fn read_stream_quiet<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<(Option<&'c StreamValue>, &'c mut ReplyBuf), CmdError> {
    let now = ctx.st.ks.now_ms;
    let v = ctx.st.ks.dbs[ctx.client.db].get(key, now);
    match v {
        None => Ok((None, &mut *ctx.out)),
        Some(Value::Stream(s)) => Ok((Some(&**s), &mut *ctx.out)),
        Some(_) => Err(CmdError::WrongType),
    }
}

fn xread(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    xread_generic(ctx, args, false)
}

fn xreadgroup(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    xread_generic(ctx, args, true)
}

// ---- XGROUP -----------------------------------------------------------------------------

fn subcommand_syntax(args: Args<'_>, cmd: &str) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        lossy(&args.get(1)[..args.get(1).len().min(128)]),
        cmd
    ))
}

struct GroupPrelude {
    mkstream: bool,
    entries_read: i64,
    exists: bool,
    has_group: bool,
}

/// The common part of xgroupCommand for subcommands with key and group.
fn xgroup_prelude(ctx: &mut Ctx<'_>, args: Args<'_>, need_group: bool) -> Result<GroupPrelude, CmdError> {
    let sub = args.get(1);
    let create = eq_ic(sub, "create");
    let setid = eq_ic(sub, "setid");
    let mut p = GroupPrelude { mkstream: false, entries_read: -1, exists: false, has_group: false };
    let mut i = 5;
    while i < args.len() {
        let a = args.get(i);
        if create && eq_ic(a, "mkstream") {
            p.mkstream = true;
            i += 1;
        } else if (create || setid) && eq_ic(a, "entriesread") && i + 1 < args.len() {
            let v = parse_i64(args.get(i + 1))?;
            if v < 0 && v != -1 {
                return Err(CmdError::err("value for ENTRIESREAD must be positive or -1"));
            }
            p.entries_read = v;
            i += 2;
        } else {
            return Err(subcommand_syntax(args, "XGROUP"));
        }
    }
    let key = args.get(2);
    let group = args.get(3);
    if let Some(s) = write_stream(ctx, key)? {
        p.exists = true;
        p.has_group = s.groups.contains_key(group);
    }
    if !p.mkstream {
        if !p.exists {
            return Err(CmdError::err("The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."));
        }
        if need_group && !p.has_group {
            return Err(nogroup_for_key(group, key));
        }
    }
    Ok(p)
}

/// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n]
fn xgroup_create(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let p = xgroup_prelude(ctx, args, false)?;
    if args.len() > 8 {
        return Err(subcommand_syntax(args, "XGROUP"));
    }
    let key = args.get(2);
    let idarg = args.get(4);
    let id = if idarg == b"$" {
        match write_stream(ctx, key)? {
            Some(s) => s.last_id,
            None => StreamId::MIN,
        }
    } else {
        parse_strict(idarg, 0)?
    };
    if !p.exists {
        ctx.db().set(key, Value::Stream(Box::default()), false);
    }
    let s = write_stream(ctx, key)?.expect("stream");
    if s.groups.contains_key(args.get(3)) {
        return Err(CmdError::raw("BUSYGROUP Consumer Group name already exists"));
    }
    s.groups.insert(args.get(3).into(), Group { last_id: id, entries_read: p.entries_read, ..Default::default() });
    ctx.out.ok();
    ctx.dirty(1);
    ctx.notify(b't', "xgroup-create", key);
    Ok(())
}

/// XGROUP SETID key group id|$ [ENTRIESREAD n]
fn xgroup_setid(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let p = xgroup_prelude(ctx, args, true)?;
    if args.len() != 5 && args.len() != 7 {
        return Err(subcommand_syntax(args, "XGROUP"));
    }
    let key = args.get(2);
    let s = write_stream(ctx, key)?.expect("stream");
    let idarg = args.get(4);
    let id = if idarg == b"$" { s.last_id } else { parse_id(idarg, 0)? };
    if let Some(g) = s.groups.get_mut(args.get(3)) {
        g.last_id = id;
        g.entries_read = p.entries_read;
    }
    ctx.out.ok();
    ctx.dirty(1);
    ctx.notify(b't', "xgroup-setid", key);
    Ok(())
}

/// XGROUP DESTROY key group
fn xgroup_destroy(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let p = xgroup_prelude(ctx, args, false)?;
    let key = args.get(2);
    if !p.has_group {
        ctx.out.int(0);
        return Ok(());
    }
    let s = write_stream(ctx, key)?.expect("stream");
    s.groups.remove(args.get(3));
    ctx.out.int(1);
    ctx.dirty(1);
    ctx.notify(b't', "xgroup-destroy", key);
    ctx.signal_ready(key);
    Ok(())
}

/// XGROUP CREATECONSUMER key group consumer
fn xgroup_createconsumer(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    xgroup_prelude(ctx, args, true)?;
    let key = args.get(2);
    let now = ctx.now();
    let s = write_stream(ctx, key)?.expect("stream");
    let g = s.groups.get_mut(args.get(3)).expect("group");
    let name = args.get(4);
    if g.consumers.contains_key(name) {
        ctx.out.int(0);
        return Ok(());
    }
    g.consumers.insert(name.into(), Consumer { seen_time: now, pel: Default::default() });
    ctx.dirty(1);
    ctx.notify(b't', "xgroup-createconsumer", key);
    ctx.out.int(1);
    Ok(())
}

/// XGROUP DELCONSUMER key group consumer
fn xgroup_delconsumer(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    xgroup_prelude(ctx, args, true)?;
    let key = args.get(2);
    let s = write_stream(ctx, key)?.expect("stream");
    let g = s.groups.get_mut(args.get(3)).expect("group");
    let Some(c) = g.consumers.remove(args.get(4)) else {
        ctx.out.int(0);
        return Ok(());
    };
    for id in &c.pel {
        g.pel.remove(id);
    }
    ctx.dirty(1);
    ctx.notify(b't', "xgroup-delconsumer", key);
    ctx.out.int(c.pel.len() as i64);
    Ok(())
}

fn reply_help(out: &mut ReplyBuf, cmd: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(&format!("{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
    for l in lines {
        out.simple(l);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

fn xgroup_help(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    reply_help(
        ctx.out,
        "XGROUP",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    );
    Ok(())
}

fn container(_ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    Err(CmdError::Syntax)
}

// ---- XSETID / XACK / XPENDING ------------------------------------------------------------

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
fn xsetid(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let id = parse_strict(args.get(2), 0)?;
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let moreargs = args.len() - 1 - i;
        let opt = args.get(i);
        if eq_ic(opt, "entriesadded") && moreargs > 0 {
            entries_added = parse_i64(args.get(i + 1))?;
            if entries_added < 0 {
                return Err(CmdError::err("entries_added must be positive"));
            }
            i += 2;
        } else if eq_ic(opt, "maxdeletedid") && moreargs > 0 {
            max_xdel = parse_strict(args.get(i + 1), 0)?;
            if id < max_xdel {
                return Err(CmdError::err("The ID specified in XSETID is smaller than the provided max_deleted_entry_id"));
            }
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let key = args.get(1);
    let Some(s) = write_stream(ctx, key)? else { return Err(CmdError::NoSuchKey) };
    if s.length > 0 {
        let maxid = s.last_valid_id().unwrap_or_default();
        if id < maxid {
            return Err(CmdError::err("The ID specified in XSETID is smaller than the target stream top item"));
        }
        if entries_added != -1 && s.length > entries_added as u64 {
            return Err(CmdError::err("The entries_added specified in XSETID is smaller than the target stream length"));
        }
    }
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_xdel.is_zero() {
        s.max_deleted = max_xdel;
    }
    ctx.out.ok();
    ctx.dirty(1);
    ctx.notify(b't', "xsetid", key);
    Ok(())
}

/// XACK key group id [id ...]
fn xack(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let (s, out) = read_stream(ctx, key)?;
    if !s.is_some_and(|s| s.groups.contains_key(args.get(2))) {
        out.int(0);
        return Ok(());
    }
    let ids = (3..args.len()).map(|j| parse_strict(args.get(j), 0)).collect::<Result<Vec<_>, _>>()?;
    let s = write_stream(ctx, key)?.expect("stream");
    let g = s.groups.get_mut(args.get(2)).expect("group");
    let mut acked = 0u64;
    for id in ids {
        if let Some(nack) = g.pel.remove(&id) {
            if let Some(c) = g.consumers.get_mut(&*nack.consumer) {
                c.pel.remove(&id);
            }
            acked += 1;
        }
    }
    ctx.dirty(acked);
    ctx.out.int(acked as i64);
    Ok(())
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
fn xpending(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let argc = args.len();
    let justinfo = argc == 3;
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(CmdError::Syntax);
    }
    let mut start = StreamId::MIN;
    let mut end = StreamId::MAX;
    let mut count: i64 = 0;
    let mut minidle: i64 = 0;
    let mut consumer: Option<&[u8]> = None;
    if argc >= 6 {
        let mut startidx = 3;
        if eq_ic(args.get(3), "idle") {
            minidle = parse_i64(args.get(4))?;
            if argc < 8 {
                return Err(CmdError::Syntax);
            }
            startidx += 2;
        }
        count = parse_i64(args.get(startidx + 2))?.max(0);
        start = parse_range_start(args.get(startidx))?;
        end = parse_range_end(args.get(startidx + 1))?;
        if startidx + 3 < argc {
            consumer = Some(args.get(startidx + 3));
        }
    }
    let key = args.get(1);
    let gname = args.get(2);
    let now = ctx.now() as i64;
    let (s, out) = read_stream(ctx, key)?;
    let Some(g) = s.and_then(|s| s.groups.get(gname)) else { return Err(nogroup_key(key, gname)) };
    if justinfo {
        out.array(4);
        out.int(g.pel.len() as i64);
        if g.pel.is_empty() {
            out.null();
            out.null();
            out.null_array();
        } else {
            reply_id(out, *g.pel.keys().next().expect("first"));
            reply_id(out, *g.pel.keys().next_back().expect("last"));
            let with: Vec<(&Box<[u8]>, &Consumer)> = g.consumers.iter().filter(|(_, c)| !c.pel.is_empty()).collect();
            out.array(with.len());
            for (name, c) in with {
                out.array(2);
                out.bulk(name);
                out.bulk_int(c.pel.len() as i64);
            }
        }
        return Ok(());
    }
    let ids: Vec<StreamId> = match consumer {
        Some(cn) => match g.consumers.get(cn) {
            None => {
                out.array(0);
                return Ok(());
            }
            Some(c) => c.pel.range(start..=end.max(start)).copied().filter(|id| *id <= end).collect(),
        },
        None => g.pel.range(start..=end.max(start)).map(|(k, _)| *k).filter(|id| *id <= end).collect(),
    };
    let pos = out.begin_deferred();
    let mut n = 0usize;
    for id in ids {
        if count == 0 {
            break;
        }
        let Some(nack) = g.pel.get(&id) else { continue };
        let elapsed = now - nack.delivery_time as i64;
        if minidle != 0 && elapsed < minidle {
            continue;
        }
        n += 1;
        count -= 1;
        out.array(4);
        reply_id(out, id);
        out.bulk(&nack.consumer);
        out.int(elapsed.max(0));
        out.int(nack.delivery_count as i64);
    }
    out.end_deferred(pos, b'*', n);
    Ok(())
}

// ---- XCLAIM / XAUTOCLAIM ------------------------------------------------------------------

/// Moves (or creates) the pending entry `id` to `consumer`.
fn claim_to(g: &mut Group, id: StreamId, consumer: &[u8]) {
    let nack = g.pel.get_mut(&id).expect("nack");
    if &*nack.consumer != consumer {
        let old = std::mem::replace(&mut nack.consumer, consumer.into());
        if let Some(c) = g.consumers.get_mut(&*old) {
            c.pel.remove(&id);
        }
        if let Some(c) = g.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }
}

fn drop_nack(g: &mut Group, id: StreamId) {
    if let Some(nack) = g.pel.remove(&id) {
        if let Some(c) = g.consumers.get_mut(&*nack.consumer) {
            c.pel.remove(&id);
        }
    }
}

/// Looks the consumer up, creating it (with a notification) when missing; marks it seen.
fn touch_consumer(g: &mut Group, name: &[u8], now: u64) -> bool {
    match g.consumers.get_mut(name) {
        Some(c) => {
            c.seen_time = now;
            false
        }
        None => {
            g.consumers.insert(name.into(), Consumer { seen_time: now, pel: Default::default() });
            true
        }
    }
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-ms]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
fn xclaim(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let gname = args.get(2);
    {
        let (s, _) = read_stream(ctx, key)?;
        if !s.is_some_and(|s| s.groups.contains_key(gname)) {
            return Err(nogroup_key(key, gname));
        }
    }
    let minidle = crate::util::parse_i64_or(args.get(4), "Invalid min-idle-time argument for XCLAIM")?.max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        match parse_strict(args.get(j), 0) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let now = ctx.now() as i64;
    let mut force = false;
    let mut justid = false;
    let mut deliverytime: i64 = -1;
    let mut retrycount: i64 = -1;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let moreargs = args.len() - 1 - j;
        let opt = args.get(j);
        if eq_ic(opt, "force") {
            force = true;
        } else if eq_ic(opt, "justid") {
            justid = true;
        } else if eq_ic(opt, "idle") && moreargs > 0 {
            j += 1;
            let v = crate::util::parse_i64_or(args.get(j), "Invalid IDLE option argument for XCLAIM")?;
            deliverytime = now.wrapping_sub(v);
        } else if eq_ic(opt, "time") && moreargs > 0 {
            j += 1;
            deliverytime = crate::util::parse_i64_or(args.get(j), "Invalid TIME option argument for XCLAIM")?;
        } else if eq_ic(opt, "retrycount") && moreargs > 0 {
            j += 1;
            retrycount = crate::util::parse_i64_or(args.get(j), "Invalid RETRYCOUNT option argument for XCLAIM")?;
        } else if eq_ic(opt, "lastid") && moreargs > 0 {
            j += 1;
            last_id = parse_strict(args.get(j), 0)?;
        } else {
            return Err(CmdError::err(format!("Unrecognized XCLAIM option '{}'", lossy(opt))));
        }
        j += 1;
    }
    if deliverytime != -1 {
        if deliverytime < 0 || deliverytime > now {
            deliverytime = now;
        }
    } else {
        deliverytime = now;
    }
    let cname = args.get(3);
    let (s, out) = write_stream_out(ctx, key)?;
    let s = s.expect("stream");
    let (gkey, mut g) = s.groups.remove_entry(gname).expect("group");
    let mut dirty = 0u64;
    let mut propagate_last_id = false;
    if last_id > g.last_id {
        g.last_id = last_id;
        propagate_last_id = true;
    }
    // As Redis 7.0, the consumer is looked up (and created) only when an entry is claimed.
    let mut created = false;
    let mut touched = false;
    let pos = out.begin_deferred();
    let mut n = 0usize;
    for id in ids {
        let has = g.pel.contains_key(&id);
        if !s.exists(id) {
            if has {
                drop_nack(&mut g, id);
                propagate_last_id = false;
                dirty += 1;
            }
            continue;
        }
        let mut fresh = false;
        if force && !has {
            if !touched {
                touched = true;
                created = touch_consumer(&mut g, cname, now as u64);
            }
            g.pel.insert(id, Nack { delivery_time: now as u64, delivery_count: 1, consumer: cname.into() });
            if let Some(c) = g.consumers.get_mut(cname) {
                c.pel.insert(id);
            }
            fresh = true;
        }
        if !has && !fresh {
            continue;
        }
        if !fresh && minidle != 0 {
            let nack = &g.pel[&id];
            if now - (nack.delivery_time as i64) < minidle {
                continue;
            }
        }
        if !touched {
            touched = true;
            created = touch_consumer(&mut g, cname, now as u64);
        }
        claim_to(&mut g, id, cname);
        let nack = g.pel.get_mut(&id).expect("nack");
        nack.delivery_time = deliverytime as u64;
        if retrycount >= 0 {
            nack.delivery_count = retrycount as u64;
        } else if !justid {
            nack.delivery_count += 1;
        }
        if justid {
            reply_id(out, id);
        } else if let Some(e) = s.get(id) {
            reply_entry(out, &e);
        }
        n += 1;
        propagate_last_id = false;
        dirty += 1;
    }
    if propagate_last_id {
        dirty += 1;
    }
    if created {
        dirty += 1;
    }
    out.end_deferred(pos, b'*', n);
    s.groups.insert(gkey, g);
    if created {
        ctx.notify(b't', "xgroup-createconsumer", key);
    }
    ctx.dirty(dirty);
    Ok(())
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
fn xautoclaim(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let gname = args.get(2);
    let minidle = crate::util::parse_i64_or(args.get(4), "Invalid min-idle-time argument for XAUTOCLAIM")?.max(0);
    let start = parse_range_start(args.get(5))?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let moreargs = args.len() - 1 - j;
        let opt = args.get(j);
        if eq_ic(opt, "count") && moreargs > 0 {
            let max_count = i64::MAX / 16;
            count = match shoal_keyspace::value::shoal_parse_i64(args.get(j + 1)) {
                Some(v) if (1..=max_count).contains(&v) => v,
                _ => return Err(CmdError::err("COUNT must be > 0")),
            };
            j += 1;
        } else if eq_ic(opt, "justid") {
            justid = true;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    {
        let (s, _) = read_stream(ctx, key)?;
        if !s.is_some_and(|s| s.groups.contains_key(gname)) {
            return Err(nogroup_key(key, gname));
        }
    }
    let now = ctx.now();
    let cname = args.get(3);
    let (s, out) = write_stream_out(ctx, key)?;
    let s = s.expect("stream");
    let (gkey, mut g) = s.groups.remove_entry(gname).expect("group");
    // As Redis 7.0, the consumer is looked up (and created) only when an entry is claimed.
    let mut created = false;
    let mut touched = false;
    let mut dirty = 0u64;
    let mut attempts = count.saturating_mul(10);
    out.array(3);
    let mut body = ReplyBuf::new(out.resp3);
    let mut n = 0usize;
    let mut deleted: Vec<StreamId> = Vec::new();
    let mut cursor = start;
    let mut inclusive = true;
    let mut eof = false;
    let mut last_examined: Option<StreamId> = None;
    loop {
        if attempts == 0 {
            break;
        }
        attempts -= 1;
        if count == 0 {
            break;
        }
        let next = if inclusive {
            g.pel.range(cursor..).next().map(|(k, _)| *k)
        } else {
            g.pel.range((std::ops::Bound::Excluded(cursor), std::ops::Bound::Unbounded)).next().map(|(k, _)| *k)
        };
        let Some(id) = next else {
            eof = true;
            break;
        };
        cursor = id;
        inclusive = false;
        last_examined = Some(id);
        if !s.exists(id) {
            drop_nack(&mut g, id);
            deleted.push(id);
            count -= 1;
            dirty += 1;
            continue;
        }
        let nack = &g.pel[&id];
        if minidle != 0 && (now as i64 - nack.delivery_time as i64) < minidle {
            continue;
        }
        if !touched {
            touched = true;
            created = touch_consumer(&mut g, cname, now);
            dirty += created as u64;
        }
        claim_to(&mut g, id, cname);
        let nack = g.pel.get_mut(&id).expect("nack");
        nack.delivery_time = now;
        if !justid {
            nack.delivery_count += 1;
        }
        if justid {
            reply_id(&mut body, id);
        } else if let Some(e) = s.get(id) {
            reply_entry(&mut body, &e);
        }
        n += 1;
        count -= 1;
        dirty += 1;
    }
    let endid = if eof {
        StreamId::MIN
    } else {
        match last_examined {
            Some(l) => g.pel.range((std::ops::Bound::Excluded(l), std::ops::Bound::Unbounded)).next().map(|(k, _)| *k),
            None => g.pel.range(start..).next().map(|(k, _)| *k),
        }
        .unwrap_or(StreamId::MIN)
    };
    reply_id(out, endid);
    out.array(n);
    out.raw(&body.buf);
    out.array(deleted.len());
    for id in deleted {
        reply_id(out, id);
    }
    s.groups.insert(gkey, g);
    if created {
        ctx.notify(b't', "xgroup-createconsumer", key);
    }
    ctx.dirty(dirty);
    Ok(())
}

// ---- XINFO --------------------------------------------------------------------------------

fn info_stream<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<(&'c StreamValue, &'c mut ReplyBuf), CmdError> {
    match read_stream(ctx, key)? {
        (Some(s), out) => Ok((s, out)),
        (None, _) => Err(CmdError::NoSuchKey),
    }
}

fn reply_entries_read(out: &mut ReplyBuf, g: &Group) {
    if g.entries_read != -1 {
        out.int(g.entries_read);
    } else {
        out.null();
    }
}

fn reply_lag(out: &mut ReplyBuf, s: &StreamValue, g: &Group) {
    match s.group_lag(g) {
        Some(l) => out.int(l),
        None => out.null(),
    }
}

/// XINFO STREAM key [FULL [COUNT count]]
fn xinfo_stream(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(2);
    info_stream(ctx, key)?;
    let optc = args.len() - 3;
    let mut full = true;
    let mut count: i64 = 10;
    if optc == 0 {
        full = false;
    } else {
        if optc != 1 && optc != 3 {
            return Err(subcommand_syntax(args, "XINFO"));
        }
        if !eq_ic(args.get(3), "full") {
            return Err(subcommand_syntax(args, "XINFO"));
        }
        if optc == 3 {
            if !eq_ic(args.get(4), "count") {
                return Err(subcommand_syntax(args, "XINFO"));
            }
            count = parse_i64(args.get(5))?;
            if count < 0 {
                count = 10;
            }
        }
    }
    let (s, out) = info_stream(ctx, key)?;
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.length as i64);
    out.bulk(b"radix-tree-keys");
    out.int(s.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(s.rax_nodes() as i64);
    out.bulk(b"last-generated-id");
    reply_id(out, s.last_id);
    out.bulk(b"max-deleted-entry-id");
    reply_id(out, s.max_deleted);
    out.bulk(b"entries-added");
    out.int(s.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    reply_id(out, s.first_id);
    if !full {
        out.bulk(b"groups");
        out.int(s.groups.len() as i64);
        for (name, rev) in [(&b"first-entry"[..], false), (&b"last-entry"[..], true)] {
            out.bulk(name);
            let mut emitted = false;
            s.range(StreamId::MIN, StreamId::MAX, rev, |e| {
                reply_entry(out, &e);
                emitted = true;
                false
            });
            if !emitted {
                out.null();
            }
        }
        return Ok(());
    }
    let limit = if count == 0 { usize::MAX } else { count as usize };
    out.bulk(b"entries");
    let pos = out.begin_deferred();
    let mut n = 0usize;
    s.range(StreamId::MIN, StreamId::MAX, false, |e| {
        reply_entry(out, &e);
        n += 1;
        n < limit
    });
    out.end_deferred(pos, b'*', n);
    out.bulk(b"groups");
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        out.bulk(b"entries-read");
        reply_entries_read(out, g);
        out.bulk(b"lag");
        reply_lag(out, s, g);
        out.bulk(b"pel-count");
        out.int(g.pel.len() as i64);
        out.bulk(b"pending");
        let pel: Vec<_> = g.pel.iter().take(limit).collect();
        out.array(pel.len());
        for (id, nack) in pel {
            out.array(4);
            reply_id(out, *id);
            out.bulk(&nack.consumer);
            out.int(nack.delivery_time as i64);
            out.int(nack.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(c.seen_time as i64);
            out.bulk(b"pel-count");
            out.int(c.pel.len() as i64);
            out.bulk(b"pending");
            let ids: Vec<_> = c.pel.iter().take(limit).collect();
            out.array(ids.len());
            for id in ids {
                out.array(3);
                reply_id(out, *id);
                let nack = g.pel.get(id);
                out.int(nack.map(|n| n.delivery_time as i64).unwrap_or(0));
                out.int(nack.map(|n| n.delivery_count as i64).unwrap_or(0));
            }
        }
    }
    Ok(())
}

/// XINFO GROUPS key
fn xinfo_groups(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (s, out) = info_stream(ctx, args.get(2))?;
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(6);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"consumers");
        out.int(g.consumers.len() as i64);
        out.bulk(b"pending");
        out.int(g.pel.len() as i64);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        out.bulk(b"entries-read");
        reply_entries_read(out, g);
        out.bulk(b"lag");
        reply_lag(out, s, g);
    }
    Ok(())
}

/// XINFO CONSUMERS key group
fn xinfo_consumers(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(2);
    let gname = args.get(3);
    let now = ctx.now() as i64;
    let (s, out) = info_stream(ctx, key)?;
    let Some(g) = s.groups.get(gname) else { return Err(nogroup_for_key(gname, key)) };
    out.array(g.consumers.len());
    for (name, c) in &g.consumers {
        out.map(3);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"pending");
        out.int(c.pel.len() as i64);
        out.bulk(b"idle");
        out.int((now - c.seen_time as i64).max(0));
    }
    Ok(())
}

fn xinfo_help(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    reply_help(
        ctx.out,
        "XINFO",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    );
    Ok(())
}

// ---- table --------------------------------------------------------------------------------

static XGROUP_SUBS: &[CommandDef] = &[
    CommandDef {
        summary: "Create a consumer group.",
        since: "5.0.0",
        complexity: "O(1)",
        ..CommandDef::new("create", -5, WRITE | DENYOOM, (2, 2, 1), "stream", xgroup_create)
    },
    CommandDef {
        summary: "Create a consumer in a consumer group.",
        since: "6.2.0",
        complexity: "O(1)",
        ..CommandDef::new("createconsumer", 5, WRITE | DENYOOM, (2, 2, 1), "stream", xgroup_createconsumer)
    },
    CommandDef {
        summary: "Delete a consumer from a consumer group.",
        since: "5.0.0",
        complexity: "O(1)",
        ..CommandDef::new("delconsumer", 5, WRITE, (2, 2, 1), "stream", xgroup_delconsumer)
    },
    CommandDef {
        summary: "Destroy a consumer group.",
        since: "5.0.0",
        complexity: "O(N) where N is the number of entries in the group's pending entries list (PEL).",
        ..CommandDef::new("destroy", 4, WRITE, (2, 2, 1), "stream", xgroup_destroy)
    },
    CommandDef {
        summary: "Show helpful text about the different subcommands",
        since: "5.0.0",
        complexity: "O(1)",
        ..CommandDef::new("help", 2, LOADING | STALE, (0, 0, 0), "stream", xgroup_help)
    },
    CommandDef {
        summary: "Set a consumer group to an arbitrary last delivered ID value.",
        since: "5.0.0",
        complexity: "O(1)",
        ..CommandDef::new("setid", -5, WRITE, (2, 2, 1), "stream", xgroup_setid)
    },
];

static XINFO_SUBS: &[CommandDef] = &[
    CommandDef {
        summary: "List the consumers in a consumer group",
        since: "5.0.0",
        complexity: "O(1)",
        ..CommandDef::new("consumers", 4, READONLY, (2, 2, 1), "stream", xinfo_consumers)
    },
    CommandDef {
        summary: "List the consumer groups of a stream",
        since: "5.0.0",
        complexity: "O(1)",
        ..CommandDef::new("groups", 3, READONLY, (2, 2, 1), "stream", xinfo_groups)
    },
    CommandDef {
        summary: "Show helpful text about the different subcommands",
        since: "5.0.0",
        complexity: "O(1)",
        ..CommandDef::new("help", 2, LOADING | STALE, (0, 0, 0), "stream", xinfo_help)
    },
    CommandDef {
        summary: "Get information about a stream",
        since: "5.0.0",
        complexity: "O(1)",
        ..CommandDef::new("stream", -3, READONLY, (2, 2, 1), "stream", xinfo_stream)
    },
];

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Appends a new entry to a stream",
        since: "5.0.0",
        complexity: "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
        ..CommandDef::new("xadd", -5, WRITE | DENYOOM | FAST, (1, 1, 1), "stream", xadd)
    },
    CommandDef {
        summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval",
        since: "5.0.0",
        complexity: "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
        ..CommandDef::new("xrange", -4, READONLY, (1, 1, 1), "stream", xrange)
    },
    CommandDef {
        summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
        since: "5.0.0",
        complexity: "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
        ..CommandDef::new("xrevrange", -4, READONLY, (1, 1, 1), "stream", xrevrange)
    },
    CommandDef {
        summary: "Return the number of entries in a stream",
        since: "5.0.0",
        complexity: "O(1)",
        ..CommandDef::new("xlen", 2, READONLY | FAST, (1, 1, 1), "stream", xlen)
    },
    CommandDef {
        summary: "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
        since: "5.0.0",
        complexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
        ..CommandDef::new("xdel", -3, WRITE | FAST, (1, 1, 1), "stream", xdel)
    },
    CommandDef {
        summary: "Trims the stream to (approximately if '~' is passed) a certain size",
        since: "5.0.0",
        complexity: "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
        ..CommandDef::new("xtrim", -4, WRITE, (1, 1, 1), "stream", xtrim)
    },
    CommandDef {
        summary: "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
        since: "5.0.0",
        complexity: "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
        keys: Some(xread_keys),
        ..CommandDef::new("xread", -4, READONLY | BLOCKING | MOVABLE_KEYS, (0, 0, 0), "stream", xread)
    },
    CommandDef {
        summary: "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
        since: "5.0.0",
        complexity: "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
        keys: Some(xread_keys),
        ..CommandDef::new("xreadgroup", -7, WRITE | BLOCKING | MOVABLE_KEYS, (0, 0, 0), "stream", xreadgroup)
    },
    CommandDef {
        summary: "A container for consumer groups commands",
        since: "5.0.0",
        complexity: "Depends on subcommand.",
        subcommands: XGROUP_SUBS,
        ..CommandDef::new("xgroup", -2, 0, (0, 0, 0), "stream", container)
    },
    CommandDef {
        summary: "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
        since: "5.0.0",
        complexity: "O(1) for each message ID processed.",
        ..CommandDef::new("xack", -4, WRITE | FAST, (1, 1, 1), "stream", xack)
    },
    CommandDef {
        summary: "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
        since: "5.0.0",
        complexity: "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
        ..CommandDef::new("xpending", -3, READONLY, (1, 1, 1), "stream", xpending)
    },
    CommandDef {
        summary: "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
        since: "5.0.0",
        complexity: "O(log N) with N being the number of messages in the PEL of the consumer group.",
        ..CommandDef::new("xclaim", -6, WRITE | FAST, (1, 1, 1), "stream", xclaim)
    },
    CommandDef {
        summary: "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
        since: "6.2.0",
        complexity: "O(1) if COUNT is small.",
        ..CommandDef::new("xautoclaim", -6, WRITE | FAST, (1, 1, 1), "stream", xautoclaim)
    },
    CommandDef {
        summary: "A container for stream introspection commands",
        since: "5.0.0",
        complexity: "Depends on subcommand.",
        subcommands: XINFO_SUBS,
        ..CommandDef::new("xinfo", -2, 0, (0, 0, 0), "stream", container)
    },
    CommandDef {
        summary: "An internal command for replicating stream values",
        since: "5.0.0",
        complexity: "O(1)",
        ..CommandDef::new("xsetid", -3, WRITE | DENYOOM | FAST, (1, 1, 1), "stream", xsetid)
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(parse_id(b"1-2", 0).ok(), Some(StreamId::new(1, 2)));
        assert_eq!(parse_id(b"5", 7).ok(), Some(StreamId::new(5, 7)));
        assert_eq!(parse_id(b"-", 0).ok(), Some(StreamId::MIN));
        assert_eq!(parse_id(b"+", 0).ok(), Some(StreamId::MAX));
        assert!(parse_strict(b"-", 0).is_err());
        assert!(parse_strict(b"+", 0).is_err());
        assert!(parse_id(b"abc", 0).is_err());
        assert!(parse_id(b"1-", 0).is_err());
        assert!(parse_id(b"-1", 0).is_err());
        assert!(parse_id(b"1--1", 0).is_err());
        assert_eq!(parse_id(b"+5", 0).ok(), Some(StreamId::new(5, 0)));
        assert_eq!(parse_id(b"007-1", 0).ok(), Some(StreamId::new(7, 1)));
        assert_eq!(parse_id(b"18446744073709551615-18446744073709551615", 0).ok(), Some(StreamId::MAX));
        assert!(parse_id(b"18446744073709551616", 0).is_err());
        let mut sg = true;
        assert_eq!(parse_id_full(b"3-*", 0, true, Some(&mut sg)).ok(), Some(StreamId::new(3, 0)));
        assert!(!sg);
        assert!(parse_id(b"3-*", 0).is_err());
        assert_eq!(parse_interval(b"(1-1", 0).ok(), Some((StreamId::new(1, 1), true)));
        assert!(parse_range_start(b"(18446744073709551615-18446744073709551615").is_err());
        assert!(parse_range_end(b"(0-0").is_err());
    }

    #[test]
    fn id_format() {
        let mut out = ReplyBuf::new(false);
        reply_id(&mut out, StreamId::new(12, 0));
        assert_eq!(out.buf, b"$4\r\n12-0\r\n".to_vec());
    }
}
