//! The pre-execution check pipeline and dispatch, in redis-server's `processCommand`
//! order. Each step is here, in this order, and nowhere else:
//!
//! 1. lookup: unknown command / unknown subcommand;
//! 2. arity;
//! 3. authentication (`NOAUTH`), unless the command is flagged `no_auth`;
//! 4. MULTI: inside a transaction, commands other than EXEC/DISCARD/MULTI/WATCH/QUIT/
//!    RESET are queued (`+QUEUED`); an error in steps 1-3 marks the transaction so EXEC
//!    answers EXECABORT;
//! 5. (cluster redirection, Roadmap 3; OOM refusal, Roadmap 5; replica read-only, 6)
//! 6. call: run the handler, then account (commandstats, errorstats, slowlog, MONITOR)
//!    and reclaim keys found expired during the command.

use crate::ctx::{Action, Client, Ctx, ReplyMode, Shared, SlowEntry, State};
use crate::error::CmdError;
use crate::table::{flags, lookup, lookup_sub, CommandDef};
use shoal_resp::{Args, OwnedArgs, ReplyBuf};
use std::sync::atomic::Ordering;

/// Resolves a command (and its subcommand) or returns the error to reply.
pub fn resolve(args: Args<'_>) -> Result<&'static CommandDef, CmdError> {
    let name = args.get(0);
    let Some(cmd) = lookup(name) else {
        let mut tail = String::new();
        for a in args.iter().skip(1) {
            if tail.len() >= 128 {
                break;
            }
            let s = String::from_utf8_lossy(a);
            let room = 128 - tail.len();
            let part: String = s.chars().take(room).collect();
            tail.push_str(&format!("'{part}' "));
        }
        let n: String = String::from_utf8_lossy(name).chars().take(128).collect();
        return Err(CmdError::err(format!("unknown command '{n}', with args beginning with: {tail}")));
    };
    if cmd.subcommands.is_empty() || args.len() < 2 {
        return Ok(cmd);
    }
    match lookup_sub(cmd, args.get(1)) {
        Some(sub) => Ok(sub),
        None => Err(CmdError::UnknownSubcommand {
            sub: String::from_utf8_lossy(args.get(1)).chars().take(128).collect(),
            cmd: String::from_utf8_lossy(name).to_ascii_uppercase(),
        }),
    }
}

/// The full name of a command as Redis reports it: "get", or "config|get" for a
/// subcommand. Interned once, so the per-command path never allocates it.
pub fn full_name(def: &'static CommandDef) -> &'static str {
    static NAMES: std::sync::OnceLock<std::collections::HashMap<usize, &'static str>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut m = std::collections::HashMap::new();
        for c in crate::table::all() {
            m.insert(c as *const CommandDef as usize, c.name);
            for sub in c.subcommands {
                let full: &'static str = Box::leak(format!("{}|{}", c.name, sub.name).into_boxed_str());
                m.insert(sub as *const CommandDef as usize, full);
            }
        }
        m
    });
    names.get(&(def as *const CommandDef as usize)).copied().unwrap_or(def.name)
}

/// Runs one command through the whole pipeline, writing its reply to `out`.
pub fn execute(st: &mut State, client: &mut Client, shared: &Shared, out: &mut ReplyBuf, args: Args<'_>) -> Option<Action> {
    if args.is_empty() {
        return None;
    }
    let mark = out.len();
    let mut ctx = Ctx { st, client, shared, out, action: None };
    let def = match resolve(args) {
        Ok(d) => d,
        Err(e) => {
            reject(&mut ctx, None, e);
            return finish_reply(ctx, mark);
        }
    };
    let name = full_name(def);
    if !def.arity_ok(args.len()) {
        reject(&mut ctx, Some(name), CmdError::WrongArity(name.to_string()));
        return finish_reply(ctx, mark);
    }
    if !ctx.client.authenticated && !def.has(flags::NO_AUTH) {
        reject(&mut ctx, Some(name), CmdError::NoAuth);
        return finish_reply(ctx, mark);
    }
    if ctx.client.pubsub {
        // Pub/sub mode: RESP2 allows only the (un)subscribe commands, PING, QUIT, RESET.
        if !ctx.client.resp3 && !crate::family::pubsub::allowed_in_subscribed(name) {
            let e = CmdError::err(format!(
                "Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
            ));
            reject(&mut ctx, Some(name), e);
            return finish_reply(ctx, mark);
        }
        // (A RESP2 client in pub/sub mode cannot be inside MULTI; RESET is never queued.)
        if name == "ping" && !ctx.client.resp3 {
            call_with(&mut ctx, def, name, args, crate::family::pubsub::ping_subscribed);
            return finish_reply(ctx, mark);
        }
        if name == "reset" {
            call(&mut ctx, def, name, args);
            crate::family::pubsub::reset_client(&mut ctx);
            return finish_reply(ctx, mark);
        }
    }
    if ctx.st.cluster.is_some() && !ctx.client.is_master && (name == "exec" || crate::cluster::has_keys(def)) {
        if let Err(r) = cluster_check(&mut ctx, def, args, name == "exec") {
            let e = ctx.st.cluster.as_deref().map(|c| c.error(&r)).unwrap_or(CmdError::Syntax);
            ctx.st.cmd_stats.entry(name.to_string()).or_default().rejected_calls += 1;
            if name == "exec" {
                ctx.client.multi = None;
                ctx.client.info.multi.store(-1, Ordering::Relaxed);
                crate::family::tx::unwatch_all(&mut ctx);
            } else if let Some(m) = ctx.client.multi.as_mut() {
                m.error = true;
            }
            write_error(&mut ctx, &e);
            return finish_reply(ctx, mark);
        }
    }
    if ctx.client.multi.is_some() && !def.has(flags::TX_CONTROL) {
        if def.has(flags::NO_MULTI) {
            reject(&mut ctx, Some(name), CmdError::err("Command not allowed inside a transaction"));
            return finish_reply(ctx, mark);
        }
        let m = ctx.client.multi.as_mut().expect("in multi");
        m.queued.push((def, OwnedArgs::from_args(&args)));
        ctx.client.info.multi.store(m.queued.len() as i64, Ordering::Relaxed);
        ctx.out.simple("QUEUED");
        return finish_reply(ctx, mark);
    }
    call(&mut ctx, def, name, args);
    if ctx.client.asking && name != "asking" && ctx.client.multi.is_none() {
        // ASKING covers one command (or one MULTI block), as Redis's resetClient.
        ctx.client.asking = false;
    }
    // Blocked clients are served after the whole command (EXEC and scripts included),
    // before any other client's next command.
    crate::blocking::serve_ready(ctx.st, ctx.shared);
    finish_reply(ctx, mark)
}

/// The cluster redirection check (see `cluster.rs`); keys live in database 0.
fn cluster_check(ctx: &mut Ctx<'_>, def: &'static CommandDef, args: Args<'_>, is_exec: bool) -> Result<(), crate::cluster::Redirect> {
    let st = &mut *ctx.st;
    let Some(r) = st.cluster.as_deref() else { return Ok(()) };
    let now = st.ks.now_ms;
    crate::cluster::check(r, &mut st.ks.dbs[0], now, ctx.client, def, args, is_exec)
}

/// Runs a resolved, checked command and does the accounting. EXEC calls this for each
/// queued command.
pub fn call(ctx: &mut Ctx<'_>, def: &'static CommandDef, name: &'static str, args: Args<'_>) {
    call_with(ctx, def, name, args, def.handler)
}

/// [`call`] with another handler for the command (PING in RESP2 pub/sub mode).
fn call_with(ctx: &mut Ctx<'_>, def: &'static CommandDef, name: &'static str, args: Args<'_>, handler: crate::table::Handler) {
    let start = ctx.st.clock_us;
    let res = handler(ctx, args);
    let end = crate::ctx::mono_us();
    ctx.st.clock_us = end;
    let us = end.saturating_sub(start);
    let failed = res.is_err();
    if let Err(e) = res {
        write_error(ctx, &e);
    }
    let st = &mut *ctx.st;
    let stat = match st.cmd_stats.get_mut(name) {
        Some(s) => s,
        None => st.cmd_stats.entry(name.to_string()).or_default(),
    };
    stat.calls += 1;
    stat.usec += us;
    if failed {
        stat.failed_calls += 1;
    }
    ctx.shared.stats.total_commands_processed.fetch_add(1, Ordering::Relaxed);
    reclaim_expired(ctx);
    let lat = ctx.shared.latency_threshold_ms.load(Ordering::Relaxed);
    if lat > 0 {
        crate::family::server::latency_monitor_command(ctx.st, lat, def.has(flags::FAST), us);
    }
    if !def.has(flags::SKIP_SLOWLOG) {
        let threshold = ctx.shared.slowlog_slower_than_us.load(Ordering::Relaxed);
        if threshold >= 0 && us as i64 >= threshold {
            slowlog_push(ctx, args, us);
        }
    }
    if ctx.shared.has_monitors.load(Ordering::Relaxed) && !def.has(flags::ADMIN) && !def.has(flags::SKIP_MONITOR) {
        feed_monitors(ctx, args);
    }
    *ctx.client.info.last_cmd.lock() = name;
}

/// Accounts keys that commands found expired (stats) and emits the keyspace events the
/// keyspace left pending (propagation hooks in here).
pub fn reclaim_expired(ctx: &mut Ctx<'_>) {
    drain_key_events(ctx.st, ctx.shared, Some(crate::ctx::push_sink(ctx.client, ctx.out)));
}

/// Drains what the keyspace recorded for its caller: keys found past their deadline
/// (`Db::expired`: counted in INFO `expired_keys`, "expired" events) and keys created
/// (`Db::created`: "new" events), database by database, expired keys first (a lookup
/// precedes the creation of a key). Called before a command's first own event (so, as in
/// Redis, events of lookups come first), after every command, and by the cron after the
/// active expiry. `me` is the client whose command runs: its own subscriptions get the
/// messages in its reply buffer. Also keeps `Db::track_new` in line with the `n` class.
/// Eviction ("evicted", class `e`) will drain here too once maxmemory exists.
pub fn drain_key_events(st: &mut State, shared: &Shared, mut me: Option<(u64, &mut ReplyBuf)>) {
    use crate::family::pubsub::{class_bit, notify_with};
    let flags = shared.notify_flags.load(Ordering::Relaxed);
    let track_new = flags & class_bit(b'n') != 0;
    if st.ks.dbs.first().is_some_and(|d| d.track_new != track_new) {
        for db in st.ks.dbs.iter_mut() {
            db.track_new = track_new;
            db.created.clear();
        }
    }
    for i in 0..st.ks.dbs.len() {
        let db = &mut st.ks.dbs[i];
        if db.expired.is_empty() && db.created.is_empty() {
            continue;
        }
        if !db.expired.is_empty() {
            shared.stats.expired_keys.fetch_add(db.expired.len() as u64, Ordering::Relaxed);
            if flags & class_bit(b'x') != 0 {
                let mut keys = std::mem::take(&mut db.expired);
                for k in &keys {
                    notify_with(st, shared, me.as_mut().map(|(id, o)| (*id, &mut **o)), i, b'x', "expired", k);
                }
                keys.clear();
                st.ks.dbs[i].expired = keys;
            } else {
                db.expired.clear();
            }
        }
        let db = &mut st.ks.dbs[i];
        if !db.created.is_empty() {
            let mut keys = std::mem::take(&mut db.created);
            for k in &keys {
                notify_with(st, shared, me.as_mut().map(|(id, o)| (*id, &mut **o)), i, b'n', "new", k);
            }
            keys.clear();
            st.ks.dbs[i].created = keys;
        }
    }
}

fn slowlog_push(ctx: &mut Ctx<'_>, args: Args<'_>, us: u64) {
    let max = ctx.shared.slowlog_max_len.load(Ordering::Relaxed) as usize;
    let st = &mut *ctx.st;
    // As Redis: at most 32 arguments, each at most 128 bytes, with a summary of the rest.
    let mut a: Vec<Vec<u8>> = Vec::new();
    let argc = args.len();
    for (i, x) in args.iter().enumerate() {
        if i == 31 && argc > 32 {
            a.push(format!("... ({} more arguments)", argc - 31).into_bytes());
            break;
        }
        if x.len() > 128 {
            let mut v = x[..128].to_vec();
            v.extend_from_slice(format!("... ({} more bytes)", x.len() - 128).as_bytes());
            a.push(v);
        } else {
            a.push(x.to_vec());
        }
    }
    let e = SlowEntry {
        id: st.slowlog_next_id,
        time_s: crate::ctx::unix_ms() / 1000,
        duration_us: us,
        args: a,
        peer: ctx.client.info.addr.clone(),
        name: ctx.client.info.name.lock().as_ref().map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default(),
    };
    st.slowlog_next_id += 1;
    st.slowlog.push_front(e);
    while st.slowlog.len() > max {
        st.slowlog.pop_back();
    }
}

fn feed_monitors(ctx: &mut Ctx<'_>, args: Args<'_>) {
    let us = crate::ctx::unix_us();
    let mut line = format!("+{}.{:06} [{} {}]", us / 1_000_000, us % 1_000_000, ctx.client.db, ctx.client.info.addr).into_bytes();
    for a in args.iter() {
        line.extend_from_slice(b" \"");
        for &c in a {
            match c {
                b'\\' => line.extend_from_slice(b"\\\\"),
                b'"' => line.extend_from_slice(b"\\\""),
                b'\n' => line.extend_from_slice(b"\\n"),
                b'\r' => line.extend_from_slice(b"\\r"),
                b'\t' => line.extend_from_slice(b"\\t"),
                7 => line.extend_from_slice(b"\\a"),
                8 => line.extend_from_slice(b"\\b"),
                c if c.is_ascii_graphic() || c == b' ' => line.push(c),
                c => line.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
            }
        }
        line.push(b'"');
    }
    line.extend_from_slice(b"\r\n");
    let mut mons = ctx.shared.monitors.lock();
    mons.retain(|(_, sink)| sink(&line));
    if mons.is_empty() {
        ctx.shared.has_monitors.store(false, Ordering::Relaxed);
    }
}

/// Writes an error reply and counts it (errorstats, total_error_replies).
pub fn write_error(ctx: &mut Ctx<'_>, e: &CmdError) {
    let text = e.to_string();
    ctx.out.error(&text);
    let prefix = text.split(' ').next().unwrap_or("ERR").to_string();
    *ctx.st.error_stats.entry(prefix).or_insert(0) += 1;
    ctx.shared.stats.total_error_replies.fetch_add(1, Ordering::Relaxed);
}

/// A command refused before it ran: inside MULTI this also dooms the transaction.
fn reject(ctx: &mut Ctx<'_>, name: Option<&str>, e: CmdError) {
    if let Some(m) = ctx.client.multi.as_mut() {
        m.error = true;
    }
    if let Some(n) = name {
        ctx.st.cmd_stats.entry(n.to_string()).or_default().rejected_calls += 1;
    }
    if name == Some("exec") {
        // As redis-server's execCommandAbort: a rejected EXEC (wrong arity, NOAUTH)
        // discards the transaction and the WATCHed keys, even outside MULTI.
        ctx.client.multi = None;
        ctx.client.info.multi.store(-1, Ordering::Relaxed);
        crate::family::tx::unwatch_all(ctx);
        let text = e.to_string();
        let why = text.strip_prefix("ERR ").unwrap_or(&text);
        write_error(ctx, &CmdError::raw(format!("EXECABORT Transaction discarded because of: {why}")));
        return;
    }
    write_error(ctx, &e);
}

/// Applies CLIENT REPLY OFF/SKIP to what the command wrote.
fn finish_reply(ctx: Ctx<'_>, mark: usize) -> Option<Action> {
    match ctx.client.reply_mode {
        ReplyMode::On => {}
        ReplyMode::Off => ctx.out.buf.truncate(mark),
        ReplyMode::Skip => ctx.client.reply_mode = ReplyMode::SkipThis,
        ReplyMode::SkipThis => {
            ctx.out.buf.truncate(mark);
            ctx.client.reply_mode = ReplyMode::On;
        }
    }
    if !ctx.client.push_buf.is_empty() {
        // Pushes are delivered whatever the reply mode (see `ctx::push_sink`).
        ctx.out.buf.extend_from_slice(&ctx.client.push_buf.buf);
        ctx.client.push_buf.clear();
    }
    ctx.action
}
