//! Family: server and client administration: CLIENT, COMMAND, INFO, TIME, LASTSAVE,
//! SHUTDOWN, MONITOR, SLOWLOG, LATENCY, DEBUG.

use crate::ctx::{unix_ms, unix_us, Action, ClientInfo, Ctx, Pause, ReplyMode, State};
use crate::error::{CmdError, CmdResult};
use crate::family::info::{gen_info, Selection};
use crate::table::{flags::*, lookup, lookup_sub, CommandDef};
use crate::util::{eq_ic, lossy, parse_i64};
use shoal_keyspace::glob::glob_match;
use shoal_resp::{Args, ReplyBuf};
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// CLIENT SETNAME / HELLO SETNAME name rules: no spaces, newlines or special chars.
pub fn validate_client_name(n: &[u8]) -> CmdResult {
    if n.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::err("Client names cannot contain spaces, newlines or special characters."));
    }
    Ok(())
}

fn help(out: &mut ReplyBuf, lines: &[&str]) {
    out.array(lines.len());
    for l in lines {
        out.simple(l);
    }
}

// ---------------------------------------------------------------------------------
// CLIENT
// ---------------------------------------------------------------------------------

/// A client type as CLIENT LIST TYPE / CLIENT KILL TYPE name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientType {
    Normal,
    Replica,
    PubSub,
    Master,
}

/// Redis's `getClientTypeByName`.
pub fn client_type_by_name(n: &[u8]) -> Option<ClientType> {
    if eq_ic(n, "normal") {
        Some(ClientType::Normal)
    } else if eq_ic(n, "slave") || eq_ic(n, "replica") {
        Some(ClientType::Replica)
    } else if eq_ic(n, "pubsub") {
        Some(ClientType::PubSub)
    } else if eq_ic(n, "master") {
        Some(ClientType::Master)
    } else {
        None
    }
}

fn is_pubsub(c: &ClientInfo) -> bool {
    c.sub_count.load(Ordering::Relaxed) + c.psub_count.load(Ordering::Relaxed) + c.ssub_count.load(Ordering::Relaxed) > 0
}

/// Redis's `getClientType` (a MONITOR client is a normal one).
fn client_type(c: &ClientInfo) -> ClientType {
    if is_pubsub(c) {
        ClientType::PubSub
    } else {
        ClientType::Normal
    }
}

/// One CLIENT LIST / CLIENT INFO line (without the newline), fields as Redis 7.0.15.
/// `current` is the calling command's (name, argv bytes, inside EXEC) when `c` is the
/// caller.
fn client_line(st: &State, c: &ClientInfo, now: u64, current: Option<(&str, usize, bool)>) -> String {
    let mut flags = String::new();
    if c.is_monitor.load(Ordering::Relaxed) {
        flags.push('O');
    }
    if is_pubsub(c) {
        flags.push('P');
    }
    let multi = c.multi.load(Ordering::Relaxed);
    let in_exec = current.is_some_and(|c| c.2);
    if multi >= 0 || in_exec {
        flags.push('x');
    }
    if st.ks.dbs.iter().any(|d| d.watch_dirty.contains(&c.id)) {
        flags.push('d');
    }
    if c.killed.load(Ordering::Relaxed) {
        flags.push('A');
    }
    if c.no_evict.load(Ordering::Relaxed) {
        flags.push('e');
    }
    if c.no_touch.load(Ordering::Relaxed) {
        flags.push('T');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let name = c.name.lock().as_ref().map(|n| lossy(n)).unwrap_or_default();
    let age = now.saturating_sub(c.created_ms) / 1000;
    let (cmd, argv_mem, idle) = match current {
        Some((_, m, true)) => ("exec".to_string(), m, 0),
        Some((n, m, false)) => (n.to_string(), m, 0),
        None => (c.last_cmd.lock().to_string(), 0, now.saturating_sub(c.last_interaction_ms.load(Ordering::Relaxed)) / 1000),
    };
    let qbuf = c.qbuf.load(Ordering::Relaxed);
    let qbuf_free = 20474usize.saturating_sub(qbuf);
    let omem = c.omem.load(Ordering::Relaxed);
    let rbs = 16384;
    let rbp = if current.is_some() { rbs } else { 0 };
    let multi_mem = 0;
    let tot_mem = qbuf + qbuf_free + argv_mem + multi_mem + omem + rbs + 1024;
    let mut s = String::with_capacity(320);
    let _ = write!(
        s,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} \
         argv-mem={} multi-mem={} rbs={} rbp={} obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user=default redir=-1 resp={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        name,
        age,
        idle,
        flags,
        c.db.load(Ordering::Relaxed),
        c.sub_count.load(Ordering::Relaxed),
        c.psub_count.load(Ordering::Relaxed),
        c.ssub_count.load(Ordering::Relaxed),
        multi,
        qbuf,
        qbuf_free,
        argv_mem,
        multi_mem,
        rbs,
        rbp,
        omem,
        tot_mem,
        cmd,
        c.resp.load(Ordering::Relaxed),
    );
    s
}

fn argv_mem(args: Args<'_>) -> usize {
    args.iter().map(|a| a.len()).sum()
}

fn client_id(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.int(ctx.client.id as i64);
    Ok(())
}

fn client_setname(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let n = args.get(2);
    validate_client_name(n)?;
    *ctx.client.info.name.lock() = if n.is_empty() { None } else { Some(n.to_vec()) };
    ctx.out.ok();
    Ok(())
}

fn client_getname(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    match ctx.client.info.name.lock().as_ref() {
        Some(n) => ctx.out.bulk(n),
        None => ctx.out.null(),
    }
    Ok(())
}

fn client_info(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let mut s = client_line(ctx.st, &ctx.client.info, unix_ms(), Some(("client|info", argv_mem(args), ctx.client.in_exec)));
    s.push('\n');
    ctx.out.verbatim(s.as_bytes());
    Ok(())
}

/// CLIENT LIST's options.
#[derive(Debug, PartialEq, Eq)]
enum ListFilter {
    All,
    Type(ClientType),
    Ids(Vec<i64>),
}

fn parse_list_filter(args: &[&[u8]]) -> Result<ListFilter, CmdError> {
    if args.len() == 2 && eq_ic(args[0], "type") {
        return match client_type_by_name(args[1]) {
            Some(t) => Ok(ListFilter::Type(t)),
            None => Err(CmdError::err(format!("Unknown client type '{}'", lossy(args[1])))),
        };
    }
    if args.len() > 1 && eq_ic(args[0], "id") {
        let mut ids = Vec::with_capacity(args.len() - 1);
        for a in &args[1..] {
            ids.push(parse_i64(a).map_err(|_| CmdError::err("Invalid client ID"))?);
        }
        return Ok(ListFilter::Ids(ids));
    }
    if !args.is_empty() {
        return Err(CmdError::Syntax);
    }
    Ok(ListFilter::All)
}

fn client_list(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let rest: Vec<&[u8]> = args.iter().skip(2).collect();
    let filter = parse_list_filter(&rest)?;
    let now = unix_ms();
    let me = ctx.client.id;
    let mem = argv_mem(args);
    let in_exec = ctx.client.in_exec;
    let clients: Vec<_> = ctx.shared.clients.lock().values().cloned().collect();
    let line = |c: &ClientInfo| {
        let cur = if c.id == me { Some(("client|list", mem, in_exec)) } else { None };
        client_line(ctx.st, c, now, cur)
    };
    let mut o = String::new();
    match filter {
        ListFilter::Ids(ids) => {
            for id in ids {
                if let Some(c) = clients.iter().find(|c| c.id as i64 == id) {
                    o.push_str(&line(c));
                    o.push('\n');
                }
            }
        }
        ListFilter::All | ListFilter::Type(_) => {
            for c in &clients {
                if let ListFilter::Type(t) = filter {
                    if client_type(c) != t {
                        continue;
                    }
                }
                o.push_str(&line(c));
                o.push('\n');
            }
        }
    }
    ctx.out.verbatim(o.as_bytes());
    Ok(())
}

/// CLIENT KILL's filters (new form), or the old `ip:port` form.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct KillFilter {
    pub old_form: bool,
    pub addr: Option<Vec<u8>>,
    pub laddr: Option<Vec<u8>>,
    pub ctype: Option<ClientType>,
    pub id: Option<u64>,
    pub user: Option<Vec<u8>>,
    pub skipme: bool,
}

/// Parses `CLIENT KILL` arguments after `KILL`, as Redis 7.0.15's clientCommand.
pub fn parse_kill_filter(args: &[&[u8]]) -> Result<KillFilter, CmdError> {
    let mut f = KillFilter { skipme: true, ..Default::default() };
    if args.len() == 1 {
        f.old_form = true;
        f.addr = Some(args[0].to_vec());
        f.skipme = false;
        return Ok(f);
    }
    if args.is_empty() {
        return Err(CmdError::Syntax);
    }
    let mut i = 0;
    while i < args.len() {
        let more = i + 1 < args.len();
        let opt = args[i];
        if !more {
            return Err(CmdError::Syntax);
        }
        let v = args[i + 1];
        if eq_ic(opt, "id") {
            match shoal_keyspace::value::shoal_parse_i64(v) {
                Some(n) if n >= 1 => f.id = Some(n as u64),
                _ => return Err(CmdError::err("client-id should be greater than 0")),
            }
        } else if eq_ic(opt, "type") {
            match client_type_by_name(v) {
                Some(t) => f.ctype = Some(t),
                None => return Err(CmdError::err(format!("Unknown client type '{}'", lossy(v)))),
            }
        } else if eq_ic(opt, "addr") {
            f.addr = Some(v.to_vec());
        } else if eq_ic(opt, "laddr") {
            f.laddr = Some(v.to_vec());
        } else if eq_ic(opt, "user") {
            // Only the default user exists until ACLs arrive.
            if v != b"default" {
                return Err(CmdError::err(format!("No such user '{}'", lossy(v))));
            }
            f.user = Some(v.to_vec());
        } else if eq_ic(opt, "skipme") {
            if eq_ic(v, "yes") {
                f.skipme = true;
            } else if eq_ic(v, "no") {
                f.skipme = false;
            } else {
                return Err(CmdError::Syntax);
            }
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    Ok(f)
}

impl KillFilter {
    /// True when client `c` matches (`me`: the caller's id).
    pub fn matches(&self, c: &ClientInfo, me: u64) -> bool {
        if self.addr.as_deref().is_some_and(|a| a != c.addr.as_bytes()) {
            return false;
        }
        if self.laddr.as_deref().is_some_and(|a| a != c.laddr.as_bytes()) {
            return false;
        }
        if self.ctype.is_some_and(|t| t != client_type(c)) {
            return false;
        }
        if self.id.is_some_and(|id| id != c.id) {
            return false;
        }
        !(c.id == me && self.skipme)
    }
}

fn client_kill(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let rest: Vec<&[u8]> = args.iter().skip(2).collect();
    let f = parse_kill_filter(&rest)?;
    let me = ctx.client.id;
    let clients: Vec<_> = ctx.shared.clients.lock().values().cloned().collect();
    let mut killed = 0i64;
    let mut kill_me = false;
    for c in clients.iter().filter(|c| f.matches(c, me)) {
        if c.id == me {
            kill_me = true;
        } else {
            c.kill();
        }
        killed += 1;
    }
    if f.old_form {
        if killed == 0 {
            return Err(CmdError::err("No such client"));
        }
        ctx.out.ok();
    } else {
        ctx.out.int(killed);
    }
    if kill_me {
        ctx.action = Some(Action::Close);
    }
    Ok(())
}

fn on_off(a: &[u8]) -> Result<bool, CmdError> {
    if eq_ic(a, "on") {
        Ok(true)
    } else if eq_ic(a, "off") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

fn client_no_evict(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let v = on_off(args.get(2))?;
    ctx.client.info.no_evict.store(v, Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

fn client_no_touch(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let v = on_off(args.get(2))?;
    ctx.client.info.no_touch.store(v, Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

/// CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2; accepted by Shoal too).
fn client_setinfo(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (attr, v) = (args.get(2), args.get(3));
    let is_name = eq_ic(attr, "lib-name");
    if !is_name && !eq_ic(attr, "lib-ver") {
        return Err(CmdError::err(format!("Unrecognized option '{}'", lossy(attr))));
    }
    if v.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::err(format!("{} cannot contain spaces, newlines or special characters.", lossy(attr))));
    }
    let slot = if is_name { &ctx.client.info.lib_name } else { &ctx.client.info.lib_ver };
    *slot.lock() = if v.is_empty() { None } else { Some(v.to_vec()) };
    ctx.out.ok();
    Ok(())
}

/// Redis's `addReplySubcommandSyntaxError`: the subcommand as typed, the command
/// upper-cased.
fn subcommand_syntax_error(args: Args<'_>) -> CmdError {
    let sub: String = lossy(args.get(1)).chars().take(128).collect();
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        sub,
        lossy(args.get(0)).to_ascii_uppercase()
    ))
}

/// Parses CLIENT PAUSE's arguments: (end time in unix ms, all).
fn parse_pause(args: &[&[u8]], now: u64) -> Result<(i64, bool), CmdError> {
    let mut all = true;
    if args.len() == 2 {
        if eq_ic(args[1], "write") {
            all = false;
        } else if !eq_ic(args[1], "all") {
            return Err(CmdError::err("CLIENT PAUSE mode must be WRITE or ALL"));
        }
    } else if args.len() > 2 {
        return Err(CmdError::Syntax);
    }
    let t = shoal_keyspace::value::shoal_parse_i64(args[0]).ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
    if t < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    // As Redis 7.0.15: the end time wraps on overflow (and then has already passed).
    Ok((t.wrapping_add(now as i64), all))
}

fn client_pause(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 4 {
        return Err(subcommand_syntax_error(args));
    }
    let rest: Vec<&[u8]> = args.iter().skip(2).collect();
    let (end, all) = parse_pause(&rest, unix_ms())?;
    let end = end.max(1) as u64;
    let mut p = ctx.shared.pause.lock();
    let active = p.until_ms > unix_ms();
    // As pauseClients: a pause that is less restrictive in both end and type is ignored.
    if !(active && p.until_ms > end && (p.all || !all)) {
        *p = Pause { until_ms: end, all };
        ctx.shared.pause_all.store(all, Ordering::Relaxed);
        ctx.shared.pause_until_ms.store(end, Ordering::Relaxed);
    }
    drop(p);
    ctx.out.ok();
    Ok(())
}

fn client_unpause(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    *ctx.shared.pause.lock() = Pause::default();
    ctx.shared.pause_until_ms.store(0, Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

fn client_reply(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let a = args.get(2);
    if eq_ic(a, "on") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.out.ok();
    } else if eq_ic(a, "off") {
        ctx.client.reply_mode = ReplyMode::Off;
    } else if eq_ic(a, "skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::Skip;
        }
    } else {
        return Err(CmdError::Syntax);
    }
    Ok(())
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: 1 when client `id` was blocked on keys (it then
/// replies as on a timeout, or with the UNBLOCKED error), else 0. As Redis 7.0.15 the
/// reason is checked before the id.
fn client_unblock(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 4 {
        return Err(subcommand_syntax_error(args));
    }
    let mut error = false;
    if args.len() == 4 {
        let r = args.get(3);
        if eq_ic(r, "error") {
            error = true;
        } else if !eq_ic(r, "timeout") {
            return Err(CmdError::err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR"));
        }
    }
    let id = parse_i64(args.get(2))?;
    let unblocked = id > 0 && crate::blocking::unblock_client(ctx.st, ctx.shared, id as u64, error);
    if unblocked && error {
        // The error reply counts as a failure of this command too (Redis marks the
        // running command failed when the error count grew during its call).
        ctx.st.cmd_stats.entry("client|unblock".to_string()).or_default().failed_calls += 1;
    }
    ctx.out.int(unblocked as i64);
    Ok(())
}

fn client_getredir(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.int(-1);
    Ok(())
}

fn client_trackinginfo(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let o = &mut *ctx.out;
    o.map(3);
    o.bulk_str("flags");
    o.set(1);
    o.bulk_str("off");
    o.bulk_str("redirect");
    o.int(-1);
    o.bulk_str("prefixes");
    o.array(0);
    Ok(())
}

fn client_help(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    help(ctx.out, CLIENT_HELP);
    Ok(())
}

const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
];

// ---------------------------------------------------------------------------------
// COMMAND
// ---------------------------------------------------------------------------------

/// Flag names in COMMAND INFO's order (may_replicate, sentinel and tx_control are
/// hidden, as in Redis).
const FLAG_NAMES: &[(u32, &str)] = &[
    (WRITE, "write"),
    (READONLY, "readonly"),
    (DENYOOM, "denyoom"),
    (ADMIN, "admin"),
    (PUBSUB, "pubsub"),
    (NOSCRIPT, "noscript"),
    (BLOCKING, "blocking"),
    (LOADING, "loading"),
    (STALE, "stale"),
    (SKIP_MONITOR, "skip_monitor"),
    (SKIP_SLOWLOG, "skip_slowlog"),
    (ASKING, "asking"),
    (FAST, "fast"),
    (NO_AUTH, "no_auth"),
    (NO_ASYNC_LOADING, "no_async_loading"),
    (NO_MULTI, "no_multi"),
    (MOVABLE_KEYS, "movablekeys"),
    (ALLOW_BUSY, "allow_busy"),
];

/// ACL categories in Redis's order (the order COMMAND INFO lists them in).
const ACL_ORDER: &[&str] = &[
    "@keyspace",
    "@read",
    "@write",
    "@set",
    "@sortedset",
    "@list",
    "@hash",
    "@string",
    "@bitmap",
    "@hyperloglog",
    "@geo",
    "@stream",
    "@pubsub",
    "@admin",
    "@fast",
    "@slow",
    "@blocking",
    "@dangerous",
    "@connection",
    "@transaction",
    "@scripting",
];

/// Command tips (COMMAND INFO element 8), by full name, for the commands whose tips
/// are known here.
const TIPS: &[(&str, &[&str])] = &[
    ("client|info", &["nondeterministic_output"]),
    ("client|list", &["nondeterministic_output"]),
    ("command", &["nondeterministic_output_order"]),
    ("command|info", &["nondeterministic_output_order"]),
    ("command|list", &["nondeterministic_output_order"]),
    ("command|docs", &["nondeterministic_output_order"]),
    ("time", &["nondeterministic_output"]),
    ("lastsave", &["nondeterministic_output"]),
    ("slowlog|len", &["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"]),
    ("slowlog|get", &["request_policy:all_nodes", "nondeterministic_output"]),
    ("slowlog|reset", &["request_policy:all_nodes", "response_policy:all_succeeded"]),
    ("latency|doctor", &["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
    ("latency|graph", &["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
    ("latency|latest", &["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
    ("latency|history", &["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
    ("latency|histogram", &["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
    ("latency|reset", &["request_policy:all_nodes", "response_policy:all_succeeded"]),
    ("info", &["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
    ("config|set", &["request_policy:all_nodes", "response_policy:all_succeeded"]),
    ("ping", &["request_policy:all_shards", "response_policy:all_succeeded"]),
    ("randomkey", &["request_policy:all_shards", "nondeterministic_output"]),
    ("keys", &["request_policy:all_shards", "nondeterministic_output_order"]),
    ("dbsize", &["request_policy:all_shards", "response_policy:agg_sum"]),
    ("flushall", &["request_policy:all_shards", "response_policy:all_succeeded"]),
    ("flushdb", &["request_policy:all_shards", "response_policy:all_succeeded"]),
    ("scan", &["nondeterministic_output", "request_policy:special", "response_policy:special"]),
    ("hgetall", &["nondeterministic_output_order"]),
    ("hkeys", &["nondeterministic_output_order"]),
    ("hvals", &["nondeterministic_output_order"]),
    ("hrandfield", &["nondeterministic_output"]),
    ("hscan", &["nondeterministic_output"]),
];

/// A key specification as COMMAND INFO prints it.
struct KeySpec {
    notes: Option<&'static str>,
    flags: &'static [&'static str],
    /// begin_search index.
    index: i32,
    /// find_keys range: lastkey, keystep, limit.
    range: (i32, i32, i32),
}

/// Key specs for commands whose exact specs are known, else derived from
/// first/last/step and the read/write flags.
fn key_specs(def: &CommandDef, full: &str) -> Vec<KeySpec> {
    match full {
        "get" => return vec![KeySpec { notes: None, flags: &["RO", "access"], index: 1, range: (0, 1, 0) }],
        "set" => {
            return vec![KeySpec {
                notes: Some("RW and ACCESS due to the optional `GET` argument"),
                flags: &["RW", "access", "update", "variable_flags"],
                index: 1,
                range: (0, 1, 0),
            }]
        }
        _ => {}
    }
    if def.first_key <= 0 || def.keys.is_some() {
        return Vec::new();
    }
    let flags: &'static [&'static str] = if def.has(WRITE) {
        &["RW", "update"]
    } else if def.has(READONLY) {
        &["RO", "access"]
    } else {
        &["RO"]
    };
    let last = if def.last_key < 0 { def.last_key } else { def.last_key - def.first_key };
    vec![KeySpec { notes: None, flags, index: def.first_key, range: (last, def.step, 0) }]
}

/// The key flags COMMAND GETKEYSANDFLAGS reports for `def` called with `args`.
fn getkeys_flags(def: &CommandDef, full: &str, args: Args<'_>) -> Vec<&'static str> {
    if full == "set" {
        let get = args.iter().skip(3).any(|a| eq_ic(a, "get"));
        return if get { vec!["RW", "access", "update"] } else { vec!["OW", "update"] };
    }
    key_specs(def, full).first().map(|s| s.flags.iter().copied().filter(|f| *f != "variable_flags").collect()).unwrap_or_default()
}

fn acl_categories(def: &CommandDef) -> Vec<String> {
    let mut v: Vec<String> = if def.subcommands.is_empty() {
        def.acl_categories()
    } else {
        // Containers carry only the flag-derived category and their explicit ones.
        let mut v = vec![if def.has(FAST) { "@fast".to_string() } else { "@slow".to_string() }];
        v.extend(def.acl.iter().map(|a| a.to_string()));
        v
    };
    v.sort_by_key(|c| ACL_ORDER.iter().position(|x| x == c).unwrap_or(usize::MAX));
    v.dedup();
    v
}

fn full_name(parent: Option<&CommandDef>, def: &CommandDef) -> String {
    match parent {
        Some(p) => format!("{}|{}", p.name, def.name),
        None => def.name.to_string(),
    }
}

fn reply_command_info(out: &mut ReplyBuf, parent: Option<&CommandDef>, def: &CommandDef) {
    let full = full_name(parent, def);
    out.array(10);
    out.bulk_str(&full);
    out.int(def.arity as i64);
    let movable = def.keys.is_some();
    let names: Vec<&str> = FLAG_NAMES.iter().filter(|(f, _)| def.has(*f) || (*f == MOVABLE_KEYS && movable)).map(|(_, n)| *n).collect();
    out.set(names.len());
    for n in names {
        out.simple(n);
    }
    let (first, last, step) = if def.keys.is_some() { (0, 0, 0) } else { (def.first_key, def.last_key, def.step) };
    out.int(first as i64);
    out.int(last as i64);
    out.int(step as i64);
    let cats = acl_categories(def);
    out.set(cats.len());
    for c in &cats {
        out.simple(c);
    }
    let tips = TIPS.iter().find(|(n, _)| *n == full).map(|(_, t)| *t).unwrap_or(&[]);
    out.set(tips.len());
    for t in tips {
        out.bulk_str(t);
    }
    let specs = key_specs(def, &full);
    out.set(specs.len());
    for s in &specs {
        out.map(3 + s.notes.is_some() as usize);
        if let Some(n) = s.notes {
            out.bulk_str("notes");
            out.bulk_str(n);
        }
        out.bulk_str("flags");
        out.set(s.flags.len());
        for f in s.flags {
            out.simple(f);
        }
        out.bulk_str("begin_search");
        out.map(2);
        out.bulk_str("type");
        out.bulk_str("index");
        out.bulk_str("spec");
        out.map(1);
        out.bulk_str("index");
        out.int(s.index as i64);
        out.bulk_str("find_keys");
        out.map(2);
        out.bulk_str("type");
        out.bulk_str("range");
        out.bulk_str("spec");
        out.map(3);
        out.bulk_str("lastkey");
        out.int(s.range.0 as i64);
        out.bulk_str("keystep");
        out.int(s.range.1 as i64);
        out.bulk_str("limit");
        out.int(s.range.2 as i64);
    }
    out.set(def.subcommands.len());
    for sub in def.subcommands {
        reply_command_info(out, Some(def), sub);
    }
}

fn reply_command_docs(out: &mut ReplyBuf, def: &CommandDef) {
    let n = 1
        + !def.summary.is_empty() as usize
        + !def.since.is_empty() as usize
        + !def.complexity.is_empty() as usize
        + !def.subcommands.is_empty() as usize;
    out.map(n);
    if !def.summary.is_empty() {
        out.bulk_str("summary");
        out.bulk_str(def.summary);
    }
    if !def.since.is_empty() {
        out.bulk_str("since");
        out.bulk_str(def.since);
    }
    out.bulk_str("group");
    out.bulk_str(def.group);
    if !def.complexity.is_empty() {
        out.bulk_str("complexity");
        out.bulk_str(def.complexity);
    }
    if !def.subcommands.is_empty() {
        out.bulk_str("subcommands");
        out.map(def.subcommands.len());
        for sub in def.subcommands {
            out.bulk_str(&full_name(Some(def), sub));
            reply_command_docs(out, sub);
        }
    }
}

/// Looks a command up by "name" or "container|sub" (COMMAND INFO / DOCS arguments).
fn lookup_full(name: &[u8]) -> Option<(Option<&'static CommandDef>, &'static CommandDef)> {
    match name.iter().position(|&c| c == b'|') {
        Some(p) => {
            let parent = lookup(&name[..p])?;
            let sub = lookup_sub(parent, &name[p + 1..])?;
            Some((Some(parent), sub))
        }
        None => lookup(name).map(|d| (None, d)),
    }
}

fn command(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 1 {
        // Unknown subcommands are reported by the pipeline; this is unreachable.
        return Err(CmdError::Syntax);
    }
    let all: Vec<_> = crate::table::all().collect();
    ctx.out.array(all.len());
    for d in all {
        reply_command_info(ctx.out, None, d);
    }
    Ok(())
}

fn command_count(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.int(crate::table::all().count() as i64);
    Ok(())
}

fn command_info(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() == 2 {
        return command(ctx, args.from(1));
    }
    ctx.out.array(args.len() - 2);
    for name in args.iter().skip(2) {
        match lookup_full(name) {
            Some((p, d)) => reply_command_info(ctx.out, p, d),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn command_docs(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let found: Vec<(String, &CommandDef)> = if args.len() == 2 {
        crate::table::all().map(|d| (d.name.to_string(), d)).collect()
    } else {
        args.iter().skip(2).filter_map(lookup_full).map(|(p, d)| (full_name(p, d), d)).collect()
    };
    ctx.out.map(found.len());
    for (name, d) in found {
        ctx.out.bulk_str(&name);
        reply_command_docs(ctx.out, d);
    }
    Ok(())
}

/// Every command and subcommand, by full name.
fn all_full_names() -> Vec<(String, &'static CommandDef)> {
    let mut v = Vec::new();
    for d in crate::table::all() {
        v.push((d.name.to_string(), d));
        for s in d.subcommands {
            v.push((full_name(Some(d), s), s));
        }
    }
    v
}

fn command_list(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let names = all_full_names();
    let picked: Vec<&String> = if args.len() == 2 {
        names.iter().map(|(n, _)| n).collect()
    } else if args.len() == 5 && eq_ic(args.get(2), "filterby") {
        let (kind, val) = (args.get(3), args.get(4));
        if eq_ic(kind, "module") {
            Vec::new()
        } else if eq_ic(kind, "aclcat") {
            let want = format!("@{}", String::from_utf8_lossy(val).to_ascii_lowercase());
            names.iter().filter(|(_, d)| acl_categories(d).contains(&want)).map(|(n, _)| n).collect()
        } else if eq_ic(kind, "pattern") {
            names.iter().filter(|(n, _)| glob_match(val, n.as_bytes(), true)).map(|(n, _)| n).collect()
        } else {
            return Err(CmdError::Syntax);
        }
    } else {
        return Err(CmdError::Syntax);
    };
    ctx.out.array(picked.len());
    for n in picked {
        ctx.out.bulk_str(n);
    }
    Ok(())
}

/// Resolves COMMAND GETKEYS's target command and its key indexes (relative to
/// `target`).
fn getkeys_target(target: Args<'_>) -> Result<(String, &'static CommandDef, Vec<usize>), CmdError> {
    let Some(base) = lookup(target.get(0)) else {
        return Err(CmdError::err("Invalid command specified"));
    };
    let (full, def) = if !base.subcommands.is_empty() && target.len() >= 2 {
        match lookup_sub(base, target.get(1)) {
            Some(s) => (full_name(Some(base), s), s),
            None => return Err(CmdError::err("Invalid command specified")),
        }
    } else {
        (base.name.to_string(), base)
    };
    if def.keys.is_none() && def.first_key <= 0 {
        return Err(CmdError::err("The command has no key arguments"));
    }
    if !def.arity_ok(target.len()) {
        return Err(CmdError::err("Invalid number of arguments specified for command"));
    }
    let keys = def.key_indexes(target);
    if keys.is_empty() {
        return Err(CmdError::err("Invalid arguments specified for command"));
    }
    // first/last/step keys must lie inside the arguments.
    if keys.iter().any(|&k| k >= target.len()) {
        return Err(CmdError::err("Invalid arguments specified for command"));
    }
    Ok((full, def, keys))
}

fn command_getkeys(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let target = args.from(2);
    let (_, _, keys) = getkeys_target(target)?;
    ctx.out.array(keys.len());
    for k in keys {
        ctx.out.bulk(target.get(k));
    }
    Ok(())
}

fn command_getkeysandflags(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let target = args.from(2);
    let (full, def, keys) = getkeys_target(target)?;
    let flags = getkeys_flags(def, &full, target);
    ctx.out.array(keys.len());
    for k in keys {
        ctx.out.array(2);
        ctx.out.bulk(target.get(k));
        ctx.out.set(flags.len());
        for f in &flags {
            ctx.out.simple(f);
        }
    }
    Ok(())
}

fn command_help(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    help(ctx.out, COMMAND_HELP);
    Ok(())
}

const COMMAND_HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

// ---------------------------------------------------------------------------------
// INFO, TIME, LASTSAVE, SHUTDOWN, MONITOR
// ---------------------------------------------------------------------------------

fn info(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let sel = Selection::parse(args.iter().skip(1));
    let text = gen_info(ctx, &sel);
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

fn time(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let us = unix_us();
    ctx.out.array(2);
    ctx.out.bulk_int((us / 1_000_000) as i64);
    ctx.out.bulk_int((us % 1_000_000) as i64);
    Ok(())
}

fn lastsave(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.int(ctx.st.last_save_s as i64);
    Ok(())
}

/// SHUTDOWN's options: None for ABORT.
fn parse_shutdown(args: &[&[u8]]) -> Result<Option<Action>, CmdError> {
    let (mut save, mut nosave, mut now, mut force, mut abort) = (false, false, false, false, false);
    for a in args {
        if eq_ic(a, "nosave") {
            nosave = true;
        } else if eq_ic(a, "save") {
            save = true;
        } else if eq_ic(a, "now") {
            now = true;
        } else if eq_ic(a, "force") {
            force = true;
        } else if eq_ic(a, "abort") {
            abort = true;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if (abort && (save || nosave || now || force)) || (save && nosave) {
        return Err(CmdError::Syntax);
    }
    if abort {
        return Ok(None);
    }
    let save = if save {
        Some(true)
    } else if nosave {
        Some(false)
    } else {
        None
    };
    Ok(Some(Action::Shutdown { save, now, force }))
}

fn shutdown(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let rest: Vec<&[u8]> = args.iter().skip(1).collect();
    match parse_shutdown(&rest)? {
        // Shoal shuts down at once, so there is never a shutdown to abort.
        None => Err(CmdError::err("No shutdown in progress.")),
        Some(a) => {
            ctx.action = Some(a);
            Ok(())
        }
    }
}

fn monitor(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    if ctx.client.in_exec {
        return Err(CmdError::err("MONITOR isn't allowed for DENY BLOCKING client"));
    }
    if ctx.client.info.is_monitor.load(Ordering::Relaxed) {
        return Ok(());
    }
    ctx.action = Some(Action::Monitor);
    ctx.out.ok();
    Ok(())
}

// ---------------------------------------------------------------------------------
// SLOWLOG
// ---------------------------------------------------------------------------------

fn slowlog_get(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let mut count = 10usize;
    if args.len() > 3 {
        return Err(subcommand_syntax_error(args));
    }
    if args.len() == 3 {
        match shoal_keyspace::value::shoal_parse_i64(args.get(2)) {
            Some(-1) => count = usize::MAX,
            Some(n) if n >= 0 => count = n as usize,
            _ => return Err(CmdError::err("count should be greater than or equal to -1")),
        }
    }
    let n = count.min(ctx.st.slowlog.len());
    let out = &mut *ctx.out;
    out.array(n);
    for e in ctx.st.slowlog.iter().take(n) {
        out.array(6);
        out.int(e.id as i64);
        out.int(e.time_s as i64);
        out.int(e.duration_us as i64);
        out.array(e.args.len());
        for a in &e.args {
            out.bulk(a);
        }
        out.bulk_str(&e.peer);
        out.bulk_str(&e.name);
    }
    Ok(())
}

fn slowlog_len(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.int(ctx.st.slowlog.len() as i64);
    Ok(())
}

fn slowlog_reset(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.st.slowlog.clear();
    ctx.out.ok();
    Ok(())
}

fn slowlog_help(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    help(ctx.out, SLOWLOG_HELP);
    Ok(())
}

const SLOWLOG_HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

// ---------------------------------------------------------------------------------
// LATENCY
// ---------------------------------------------------------------------------------

/// Samples kept per latency event (Redis's LATENCY_TS_LEN).
const LATENCY_TS_LEN: usize = 160;

/// Records a latency sample for `event` (Redis's `latencyAddSample`): one sample per
/// second, the highest of that second kept.
pub fn latency_add_sample(st: &mut State, event: &str, ms: u64) {
    let now = unix_ms() / 1000;
    let ev = match st.latency.get_mut(event) {
        Some(e) => e,
        None => st.latency.entry(event.to_string()).or_default(),
    };
    ev.max_ms = ev.max_ms.max(ms);
    if let Some(last) = ev.samples.back_mut() {
        if last.0 == now {
            last.1 = last.1.max(ms);
            return;
        }
    }
    ev.samples.push_back((now, ms));
    while ev.samples.len() > LATENCY_TS_LEN {
        ev.samples.pop_front();
    }
}

/// The latency monitor's hook for executed commands (Redis's
/// `latencyAddSampleIfNeeded` in `call()`): `threshold_ms` is
/// `latency-monitor-threshold` (0 = disabled); fast commands go to the
/// "fast-command" event, others to "command".
pub fn latency_monitor_command(st: &mut State, threshold_ms: u64, fast: bool, duration_us: u64) {
    let ms = duration_us / 1000;
    if threshold_ms > 0 && ms >= threshold_ms {
        latency_add_sample(st, if fast { "fast-command" } else { "command" }, ms);
    }
}

fn latency_latest(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let out = &mut *ctx.out;
    let evs: Vec<_> = ctx.st.latency.iter().filter(|(_, e)| !e.samples.is_empty()).collect();
    out.array(evs.len());
    for (name, e) in evs {
        let (t, l) = e.samples.back().copied().unwrap_or((0, 0));
        out.array(4);
        out.bulk_str(name);
        out.int(t as i64);
        out.int(l as i64);
        out.int(e.max_ms as i64);
    }
    Ok(())
}

fn latency_history(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let name = String::from_utf8_lossy(args.get(2));
    let out = &mut *ctx.out;
    match ctx.st.latency.get(name.as_ref()) {
        None => out.array(0),
        Some(e) => {
            out.array(e.samples.len());
            for (t, l) in &e.samples {
                out.array(2);
                out.int(*t as i64);
                out.int(*l as i64);
            }
        }
    }
    Ok(())
}

fn latency_reset(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let n = if args.len() == 2 {
        let n = ctx.st.latency.len();
        ctx.st.latency.clear();
        n
    } else {
        let mut n = 0;
        for a in args.iter().skip(2) {
            if ctx.st.latency.remove(String::from_utf8_lossy(a).as_ref()).is_some() {
                n += 1;
            }
        }
        n
    };
    ctx.out.int(n as i64);
    Ok(())
}

fn latency_threshold(ctx: &Ctx<'_>) -> i64 {
    ctx.shared.config.read().get("latency-monitor-threshold").and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn latency_doctor(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let text: String = if latency_threshold(ctx) == 0 {
        "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".into()
    } else if ctx.st.latency.values().all(|e| e.samples.is_empty()) {
        "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n".into()
    } else {
        let mut s =
            String::from("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        for (i, (name, e)) in ctx.st.latency.iter().filter(|(_, e)| !e.samples.is_empty()).enumerate() {
            let n = e.samples.len() as u64;
            let avg = e.samples.iter().map(|x| x.1).sum::<u64>() / n;
            let mad = e.samples.iter().map(|x| x.1.abs_diff(avg)).sum::<u64>() / n;
            let period = if n > 1 {
                let span = e.samples.back().map(|x| x.0).unwrap_or(0) - e.samples.front().map(|x| x.0).unwrap_or(0);
                span as f64 / (n - 1) as f64
            } else {
                1.0
            };
            let _ = writeln!(
                s,
                "{}. {}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
                i + 1,
                name,
                n,
                avg,
                mad,
                period,
                e.max_ms
            );
        }
        s.push_str("\nI have no advices for you.\n");
        s
    };
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

fn latency_graph(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let name = String::from_utf8_lossy(args.get(2)).into_owned();
    let Some(e) = ctx.st.latency.get(&name).filter(|e| !e.samples.is_empty()) else {
        return Err(CmdError::err(format!("No samples available for event '{name}'")));
    };
    let high = e.samples.iter().map(|x| x.1).max().unwrap_or(0);
    let low = e.samples.iter().map(|x| x.1).min().unwrap_or(0);
    let mut s = format!("{name} - high {high} ms, low {low} ms (all time high {} ms)\n", e.max_ms);
    s.push_str(&"-".repeat(80));
    s.push('\n');
    ctx.out.verbatim(s.as_bytes());
    Ok(())
}

fn latency_histogram(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let mut picked: Vec<(String, u64, u64)> = Vec::new();
    let stat = |n: &str| ctx.st.cmd_stats.get(n).filter(|s| s.calls > 0).map(|s| (n.to_string(), s.calls, s.usec));
    if args.len() == 2 {
        let mut names: Vec<&String> = ctx.st.cmd_stats.keys().collect();
        names.sort();
        picked.extend(names.into_iter().filter_map(|n| stat(n)));
    } else {
        for a in args.iter().skip(2) {
            let n = String::from_utf8_lossy(a).to_ascii_lowercase();
            if let Some(s) = stat(&n) {
                if !picked.iter().any(|p| p.0 == s.0) {
                    picked.push(s);
                }
            }
        }
    }
    // Shoal keeps no per-command histogram: all calls go to the bucket of the mean.
    let out = &mut *ctx.out;
    out.map(picked.len());
    for (name, calls, usec) in picked {
        let mean = (usec / calls).max(1);
        let bucket = mean.next_power_of_two();
        out.bulk_str(&name);
        out.map(2);
        out.bulk_str("calls");
        out.int(calls as i64);
        out.bulk_str("histogram_usec");
        out.map(1);
        out.int(bucket as i64);
        out.int(calls as i64);
    }
    Ok(())
}

fn latency_help(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    help(ctx.out, LATENCY_HELP);
    Ok(())
}

const LATENCY_HELP: &[&str] = &[
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
];

// ---------------------------------------------------------------------------------
// DEBUG
// ---------------------------------------------------------------------------------

/// `enable-debug-command`: "yes", "local" (loopback clients only) or "no". Until the
/// directive exists in Shoal's config, DEBUG is allowed.
fn debug_allowed(ctx: &Ctx<'_>) -> bool {
    let cfg = ctx.shared.config.read();
    match cfg.get("enable-debug-command") {
        None | Some("yes") => true,
        Some("local") => {
            let a = &ctx.client.info.addr;
            a.starts_with("127.") || a.starts_with("[::1]") || a.starts_with("::1") || a.starts_with('/')
        }
        Some(_) => false,
    }
}

/// C's `strtod` on an argument: the longest numeric prefix, 0 when none.
fn strtod_prefix(a: &[u8]) -> f64 {
    let s = String::from_utf8_lossy(a);
    let s = s.trim_start();
    let mut best = 0.0;
    for i in (1..=s.len()).filter(|&i| s.is_char_boundary(i)) {
        if let Ok(v) = s[..i].parse::<f64>() {
            best = v;
        }
    }
    best
}

/// C's `atoi`.
fn atoi(a: &[u8]) -> i64 {
    let mut i = 0;
    while i < a.len() && a[i].is_ascii_whitespace() {
        i += 1;
    }
    let neg = i < a.len() && a[i] == b'-';
    if i < a.len() && (a[i] == b'-' || a[i] == b'+') {
        i += 1;
    }
    let mut v: i64 = 0;
    while i < a.len() && a[i].is_ascii_digit() {
        v = v.wrapping_mul(10).wrapping_add((a[i] - b'0') as i64);
        i += 1;
    }
    if neg {
        -v
    } else {
        v
    }
}

fn debug(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if !debug_allowed(ctx) {
        return Err(CmdError::err(
            "DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
        ));
    }
    let sub = args.get(1);
    let argc = args.len();
    if argc == 2 && eq_ic(sub, "help") {
        help(ctx.out, DEBUG_HELP);
    } else if argc == 3 && eq_ic(sub, "sleep") {
        let secs = strtod_prefix(args.get(2));
        if secs > 0.0 && secs.is_finite() {
            std::thread::sleep(std::time::Duration::from_micros((secs * 1_000_000.0) as u64));
        }
        ctx.out.ok();
    } else if argc == 3 && eq_ic(sub, "set-active-expire") {
        ctx.shared.active_expire_enabled.store(atoi(args.get(2)) != 0, Ordering::Relaxed);
        ctx.out.ok();
    } else if argc == 3 && eq_ic(sub, "object") {
        let now = ctx.now();
        let db = &ctx.st.ks.dbs[ctx.client.db];
        let Some(v) = db.peek(args.get(2), now) else {
            return Err(CmdError::NoSuchKey);
        };
        let enc = v.encoding();
        let (refcount, serlen) = match v {
            shoal_keyspace::Value::Str(s) => {
                let b = s.as_bytes();
                let rc: i64 = if enc == "int" && shoal_keyspace::value::shoal_parse_i64(b).is_some_and(|n| (0..10000).contains(&n)) {
                    2147483647
                } else {
                    1
                };
                let ser = if enc == "int" {
                    match shoal_keyspace::value::shoal_parse_i64(b).unwrap_or(0) {
                        -128..=127 => 2,
                        -32768..=32767 => 3,
                        -2147483648..=2147483647 => 5,
                        _ => 1 + b.len() + 1,
                    }
                } else {
                    b.len()
                        + if b.len() < 64 {
                            1
                        } else if b.len() < 16384 {
                            2
                        } else {
                            5
                        }
                };
                (rc, ser)
            }
            _ => (1, v.mem_usage()),
        };
        let lru = (unix_ms() / 1000) & ((1 << 24) - 1);
        let s = format!(
            "Value at:{:p} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:0",
            v as *const _, refcount, enc, serlen, lru
        );
        ctx.out.simple(&s);
    } else {
        return Err(CmdError::err(format!("unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.", lossy(sub))));
    }
    Ok(())
}

const DEBUG_HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
    "HELP",
    "    Prints this help.",
];

// ---------------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------------

const CL: u32 = NOSCRIPT | LOADING | STALE;
const CLA: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const HELP_FLAGS: u32 = LOADING | STALE;

macro_rules! sub {
    ($name:expr, $arity:expr, $flags:expr, $group:expr, $h:expr, $summary:expr, $since:expr, $cx:expr) => {
        CommandDef { summary: $summary, since: $since, complexity: $cx, ..CommandDef::new($name, $arity, $flags, (0, 0, 0), $group, $h) }
    };
    ($name:expr, $arity:expr, $flags:expr, $group:expr, $h:expr, $summary:expr, $since:expr, $cx:expr, $acl:expr) => {
        CommandDef {
            summary: $summary,
            since: $since,
            complexity: $cx,
            acl: $acl,
            ..CommandDef::new($name, $arity, $flags, (0, 0, 0), $group, $h)
        }
    };
}

static CLIENT_SUBS: &[CommandDef] = &[
    sub!("id", 2, CL, "connection", client_id, "Returns the client ID for the current connection", "5.0.0", "O(1)"),
    sub!("setname", 3, CL, "connection", client_setname, "Set the current connection name", "2.6.9", "O(1)"),
    sub!("getname", 2, CL, "connection", client_getname, "Get the current connection name", "2.6.9", "O(1)"),
    sub!(
        "list",
        -2,
        CLA,
        "connection",
        client_list,
        "Get the list of client connections",
        "2.4.0",
        "O(N) where N is the number of client connections"
    ),
    sub!("info", 2, CL, "connection", client_info, "Returns information about the current client connection.", "6.2.0", "O(1)"),
    sub!(
        "kill",
        -3,
        CLA,
        "connection",
        client_kill,
        "Kill the connection of a client",
        "2.4.0",
        "O(N) where N is the number of client connections"
    ),
    sub!("pause", -3, CLA, "connection", client_pause, "Stop processing commands from clients for some time", "2.9.50", "O(1)"),
    sub!(
        "unpause",
        2,
        CLA,
        "connection",
        client_unpause,
        "Resume processing of clients that were paused",
        "6.2.0",
        "O(N) Where N is the number of paused clients"
    ),
    sub!(
        "unblock",
        -3,
        CLA,
        "connection",
        client_unblock,
        "Unblock a client blocked in a blocking command from a different connection",
        "5.0.0",
        "O(log N) where N is the number of client connections"
    ),
    sub!("reply", 3, CL, "connection", client_reply, "Instruct the server whether to reply to commands", "3.2.0", "O(1)"),
    sub!("no-evict", 3, CLA, "connection", client_no_evict, "Set client eviction mode for the current connection", "7.0.0", "O(1)"),
    sub!(
        "no-touch",
        3,
        CL,
        "connection",
        client_no_touch,
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys",
        "7.2.0",
        "O(1)"
    ),
    sub!("setinfo", 4, CL, "connection", client_setinfo, "Sets information specific to the client or connection.", "7.2.0", "O(1)"),
    sub!("getredir", 2, CL, "connection", client_getredir, "Get tracking notifications redirection client ID if any", "6.0.0", "O(1)"),
    sub!(
        "trackinginfo",
        2,
        CL,
        "connection",
        client_trackinginfo,
        "Return information about server assisted client side caching for the current connection",
        "6.2.0",
        "O(1)"
    ),
    sub!("help", 2, HELP_FLAGS, "connection", client_help, "Show helpful text about the different subcommands", "5.0.0", "O(1)"),
];

const CMD_ACL: &[&str] = &["@connection"];

static COMMAND_SUBS: &[CommandDef] = &[
    sub!("count", 2, HELP_FLAGS, "server", command_count, "Get total number of Redis commands", "2.8.13", "O(1)", CMD_ACL),
    sub!(
        "info",
        -2,
        HELP_FLAGS,
        "server",
        command_info,
        "Get array of specific Redis command details, or all when no argument is given.",
        "2.8.13",
        "O(N) where N is the number of commands to look up",
        CMD_ACL
    ),
    sub!(
        "docs",
        -2,
        HELP_FLAGS,
        "server",
        command_docs,
        "Get array of specific Redis command documentation",
        "7.0.0",
        "O(N) where N is the number of commands to look up",
        CMD_ACL
    ),
    sub!(
        "list",
        -2,
        HELP_FLAGS,
        "server",
        command_list,
        "Get an array of Redis command names",
        "7.0.0",
        "O(N) where N is the total number of Redis commands",
        CMD_ACL
    ),
    sub!(
        "getkeys",
        -4,
        HELP_FLAGS,
        "server",
        command_getkeys,
        "Extract keys given a full Redis command",
        "2.8.13",
        "O(N) where N is the number of arguments to the command",
        CMD_ACL
    ),
    sub!(
        "getkeysandflags",
        -4,
        HELP_FLAGS,
        "server",
        command_getkeysandflags,
        "Extract keys and access flags given a full Redis command",
        "7.0.0",
        "O(N) where N is the number of arguments to the command",
        CMD_ACL
    ),
    sub!("help", 2, HELP_FLAGS, "server", command_help, "Show helpful text about the different subcommands", "5.0.0", "O(1)", CMD_ACL),
];

const SLOWLOG_FLAGS: u32 = ADMIN | LOADING | STALE;

static SLOWLOG_SUBS: &[CommandDef] = &[
    sub!(
        "get",
        -2,
        SLOWLOG_FLAGS,
        "server",
        slowlog_get,
        "Get the slow log's entries",
        "2.2.12",
        "O(N) where N is the number of entries returned"
    ),
    sub!("len", 2, SLOWLOG_FLAGS, "server", slowlog_len, "Get the slow log's length", "2.2.12", "O(1)"),
    sub!(
        "reset",
        2,
        SLOWLOG_FLAGS,
        "server",
        slowlog_reset,
        "Clear all entries from the slow log",
        "2.2.12",
        "O(N) where N is the number of entries in the slowlog"
    ),
    sub!("help", 2, HELP_FLAGS, "server", slowlog_help, "Show helpful text about the different subcommands", "6.2.0", "O(1)"),
];

static LATENCY_SUBS: &[CommandDef] = &[
    sub!("latest", 2, CLA, "server", latency_latest, "Return the latest latency samples for all events.", "2.8.13", "O(1)"),
    sub!("history", 3, CLA, "server", latency_history, "Return timestamp-latency samples for the event.", "2.8.13", "O(1)"),
    sub!("reset", -2, CLA, "server", latency_reset, "Reset latency data for one or more events.", "2.8.13", "O(1)"),
    sub!("doctor", 2, CLA, "server", latency_doctor, "Return a human readable latency analysis report.", "2.8.13", "O(1)"),
    sub!("graph", 3, CLA, "server", latency_graph, "Return a latency graph for the event.", "2.8.13", "O(1)"),
    sub!(
        "histogram",
        -2,
        CLA,
        "server",
        latency_histogram,
        "Return the cumulative distribution of latencies of a subset of commands or all.",
        "7.0.0",
        "O(N) where N is the number of commands with latency information being retrieved."
    ),
    sub!("help", 2, HELP_FLAGS, "server", latency_help, "Show helpful text about the different subcommands.", "2.8.13", "O(1)"),
];

fn container(_ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    // Reached only when a container is called without a subcommand, which its arity
    // (-2) forbids.
    Err(CmdError::Syntax)
}

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "A container for client connection commands",
        since: "2.4.0",
        complexity: "Depends on subcommand.",
        subcommands: CLIENT_SUBS,
        ..CommandDef::new("client", -2, 0, (0, 0, 0), "connection", container)
    },
    CommandDef {
        summary: "Get array of Redis command details",
        since: "2.8.13",
        complexity: "O(N) where N is the total number of Redis commands",
        acl: CMD_ACL,
        subcommands: COMMAND_SUBS,
        ..CommandDef::new("command", -1, HELP_FLAGS, (0, 0, 0), "server", command)
    },
    CommandDef {
        summary: "Get information and statistics about the server",
        since: "1.0.0",
        complexity: "O(1)",
        acl: &["@dangerous"],
        ..CommandDef::new("info", -1, LOADING | STALE, (0, 0, 0), "server", info)
    },
    sub!("time", 1, LOADING | STALE | FAST, "server", time, "Return the current server time", "2.6.0", "O(1)"),
    sub!(
        "lastsave",
        1,
        LOADING | STALE | FAST,
        "server",
        lastsave,
        "Get the UNIX time stamp of the last successful save to disk",
        "1.0.0",
        "O(1)",
        &["@admin", "@dangerous"]
    ),
    sub!(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY,
        "server",
        shutdown,
        "Synchronously save the dataset to disk and then shut down the server",
        "1.0.0",
        "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)"
    ),
    sub!(
        "monitor",
        1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "server",
        monitor,
        "Listen for all requests received by the server in real time",
        "1.0.0",
        ""
    ),
    CommandDef {
        summary: "A container for slow log commands",
        since: "2.2.12",
        complexity: "Depends on subcommand.",
        subcommands: SLOWLOG_SUBS,
        ..CommandDef::new("slowlog", -2, 0, (0, 0, 0), "server", container)
    },
    CommandDef {
        summary: "A container for latency diagnostics commands",
        since: "2.8.13",
        complexity: "Depends on subcommand.",
        subcommands: LATENCY_SUBS,
        ..CommandDef::new("latency", -2, 0, (0, 0, 0), "server", container)
    },
    sub!(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "server",
        debug,
        "A container for debugging commands",
        "1.0.0",
        "Depends on subcommand."
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn kill(args: &[&str]) -> Result<KillFilter, CmdError> {
        let v: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        parse_kill_filter(&v)
    }

    fn err(r: Result<KillFilter, CmdError>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn kill_old_form() {
        let f = kill(&["127.0.0.1:5000"]).unwrap();
        assert!(f.old_form);
        assert!(!f.skipme);
        assert_eq!(f.addr.as_deref(), Some(&b"127.0.0.1:5000"[..]));
    }

    #[test]
    fn kill_new_form() {
        let f = kill(&["ID", "7", "type", "Normal", "laddr", "1.2.3.4:6379", "SKIPME", "no"]).unwrap();
        assert!(!f.old_form);
        assert_eq!(f.id, Some(7));
        assert_eq!(f.ctype, Some(ClientType::Normal));
        assert_eq!(f.laddr.as_deref(), Some(&b"1.2.3.4:6379"[..]));
        assert!(!f.skipme);
        assert!(kill(&["addr", "x", "user", "default"]).unwrap().skipme);
        assert_eq!(kill(&["type", "replica", "type", "slave"]).unwrap().ctype, Some(ClientType::Replica));
    }

    #[test]
    fn kill_errors() {
        assert_eq!(err(kill(&[])), "ERR syntax error");
        assert_eq!(err(kill(&["id", "abc"])), "ERR client-id should be greater than 0");
        assert_eq!(err(kill(&["id", "0"])), "ERR client-id should be greater than 0");
        assert_eq!(err(kill(&["id", "-5"])), "ERR client-id should be greater than 0");
        assert_eq!(err(kill(&["type", "foo"])), "ERR Unknown client type 'foo'");
        assert_eq!(err(kill(&["skipme", "maybe"])), "ERR syntax error");
        assert_eq!(err(kill(&["user", "nobody"])), "ERR No such user 'nobody'");
        assert_eq!(err(kill(&["id", "1", "addr"])), "ERR syntax error");
        assert_eq!(err(kill(&["maxage", "5"])), "ERR syntax error");
    }

    #[test]
    fn kill_matching() {
        let c = ClientInfo::new(5, "127.0.0.1:1000".into(), "127.0.0.1:6379".into(), 9);
        let f = kill(&["addr", "127.0.0.1:1000", "type", "normal"]).unwrap();
        assert!(f.matches(&c, 1));
        assert!(!f.matches(&c, 5), "skipme defaults to yes");
        assert!(kill(&["127.0.0.1:1000"]).unwrap().matches(&c, 5), "old form may kill the caller");
        assert!(!kill(&["id", "6"]).unwrap().matches(&c, 1));
        assert!(!kill(&["type", "pubsub"]).unwrap().matches(&c, 1));
        c.sub_count.store(1, Ordering::Relaxed);
        assert!(kill(&["type", "pubsub"]).unwrap().matches(&c, 1));
        assert!(!kill(&["laddr", "127.0.0.1:6380"]).unwrap().matches(&c, 1));
    }

    #[test]
    fn list_filter() {
        let p = |a: &[&str]| {
            let v: Vec<&[u8]> = a.iter().map(|s| s.as_bytes()).collect();
            parse_list_filter(&v).map_err(|e| e.to_string())
        };
        assert_eq!(p(&[]), Ok(ListFilter::All));
        assert_eq!(p(&["TYPE", "pubsub"]), Ok(ListFilter::Type(ClientType::PubSub)));
        assert_eq!(p(&["id", "3", "1"]), Ok(ListFilter::Ids(vec![3, 1])));
        assert_eq!(p(&["type", "foo"]), Err("ERR Unknown client type 'foo'".into()));
        assert_eq!(p(&["id"]), Err("ERR syntax error".into()));
        assert_eq!(p(&["id", "x"]), Err("ERR Invalid client ID".into()));
        assert_eq!(p(&["type", "normal", "x"]), Err("ERR syntax error".into()));
    }

    #[test]
    fn pause_args() {
        let p = |a: &[&str]| {
            let v: Vec<&[u8]> = a.iter().map(|s| s.as_bytes()).collect();
            parse_pause(&v, 1000).map_err(|e| e.to_string())
        };
        assert_eq!(p(&["10"]), Ok((1010, true)));
        assert_eq!(p(&["10", "WRITE"]), Ok((1010, false)));
        assert_eq!(p(&["abc", "foo"]), Err("ERR CLIENT PAUSE mode must be WRITE or ALL".into()));
        assert_eq!(p(&["abc"]), Err("ERR timeout is not an integer or out of range".into()));
        assert_eq!(p(&["-1"]), Err("ERR timeout is negative".into()));
        assert_eq!(p(&["1", "all", "x"]), Err("ERR syntax error".into()));
    }

    #[test]
    fn shutdown_args() {
        let p = |a: &[&str]| {
            let v: Vec<&[u8]> = a.iter().map(|s| s.as_bytes()).collect();
            parse_shutdown(&v).map_err(|e| e.to_string()).map(|a| a.map(|x| format!("{x:?}")))
        };
        let sd = |save: Option<bool>, now: bool, force: bool| Some(format!("{:?}", Action::Shutdown { save, now, force }));
        assert_eq!(p(&["abort"]), Ok(None));
        assert_eq!(p(&["abort", "now"]), Err("ERR syntax error".into()));
        assert_eq!(p(&["save", "nosave"]), Err("ERR syntax error".into()));
        assert_eq!(p(&["nosave", "NOSAVE", "now"]), Ok(sd(Some(false), true, false)));
        assert_eq!(p(&[]), Ok(sd(None, false, false)));
    }

    #[test]
    fn c_number_parsing() {
        assert_eq!(strtod_prefix(b"0.5"), 0.5);
        assert_eq!(strtod_prefix(b"abc"), 0.0);
        assert_eq!(strtod_prefix(b"2x"), 2.0);
        assert_eq!(atoi(b"12abc"), 12);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b"-3"), -3);
    }

    #[test]
    fn command_table_shapes() {
        let client = lookup(b"client").unwrap();
        assert_eq!(acl_categories(client), vec!["@slow".to_string()]);
        let list = lookup_sub(client, b"list").unwrap();
        assert_eq!(acl_categories(list), vec!["@admin", "@slow", "@dangerous", "@connection"]);
        let lastsave = lookup(b"lastsave").unwrap();
        assert_eq!(acl_categories(lastsave), vec!["@admin", "@fast", "@dangerous"]);
        assert!(lookup_full(b"config|get").is_some() || lookup(b"config").is_none());
        assert!(lookup_full(b"client|nosuch").is_none());
    }
}
