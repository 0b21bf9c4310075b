//! Family: connection (PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET).

use crate::ctx::{Action, Ctx, ReplyMode};
use crate::error::{CmdError, CmdResult};
use crate::family::tx::unwatch_all;
use crate::table::{flags::*, CommandDef};
use crate::util::{eq_ic, parse_i64};
use shoal_resp::Args;
use std::sync::atomic::Ordering;

/// The version Shoal reports: the Redis version whose behaviour it matches, so clients
/// enable the same features as with redis-server 7.0.
pub const REDIS_VERSION: &str = "7.0.15";

fn ping(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    match args.len() {
        1 => ctx.out.simple("PONG"),
        2 => ctx.out.bulk(args.get(1)),
        _ => return Err(CmdError::WrongArity("ping".into())),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    ctx.out.bulk(args.get(1));
    Ok(())
}

fn quit(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.ok();
    ctx.action = Some(Action::Close);
    Ok(())
}

fn select(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let idx = parse_i64(args.get(1)).map_err(|_| CmdError::err("value is not an integer or out of range"))?;
    if ctx.shared.cluster.is_some() && idx != 0 {
        return Err(CmdError::err("SELECT is not allowed in cluster mode"));
    }
    if idx < 0 || idx as usize >= ctx.st.ks.dbs.len() {
        return Err(CmdError::DbIndexOutOfRange);
    }
    ctx.client.db = idx as usize;
    ctx.client.info.db.store(idx as usize, Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

/// Checks a username/password pair against `requirepass` (the default user only, until
/// ACLs arrive in Roadmap 10).
fn check_auth(ctx: &Ctx<'_>, user: &[u8], pass: &[u8]) -> bool {
    let cfg = ctx.shared.config.read();
    match cfg.requirepass() {
        Some(p) => user == b"default" && pass == p.as_bytes(),
        None => user == b"default",
    }
}

fn auth(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let (user, pass) = if args.len() == 3 { (args.get(1), args.get(2)) } else { (&b"default"[..], args.get(1)) };
    if args.len() == 2 && ctx.shared.config.read().requirepass().is_none() {
        return Err(CmdError::err(
            "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        ));
    }
    if check_auth(ctx, user, pass) {
        ctx.client.authenticated = true;
        ctx.out.ok();
        Ok(())
    } else {
        Err(CmdError::raw("WRONGPASS invalid username-password pair or user is disabled."))
    }
}

fn hello(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let mut ver = None;
    let mut i = 1;
    if args.len() >= 2 {
        let v = parse_i64(args.get(1)).map_err(|_| CmdError::err("Protocol version is not an integer or out of range"))?;
        if !(2..=3).contains(&v) {
            return Err(CmdError::raw("NOPROTO unsupported protocol version"));
        }
        ver = Some(v);
        i = 2;
    }
    let mut auth_pair = None;
    let mut setname = None;
    while i < args.len() {
        let more = args.len() - i - 1;
        if eq_ic(args.get(i), "auth") && more >= 2 {
            auth_pair = Some((args.get(i + 1), args.get(i + 2)));
            i += 3;
        } else if eq_ic(args.get(i), "setname") && more >= 1 {
            setname = Some(args.get(i + 1));
            i += 2;
        } else {
            return Err(CmdError::err(format!("Syntax error in HELLO option '{}'", String::from_utf8_lossy(args.get(i)))));
        }
    }
    if let Some((u, p)) = auth_pair {
        if !check_auth(ctx, u, p) {
            return Err(CmdError::raw("WRONGPASS invalid username-password pair or user is disabled."));
        }
        ctx.client.authenticated = true;
    }
    if !ctx.client.authenticated {
        return Err(CmdError::raw("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"));
    }
    if let Some(n) = setname {
        crate::family::server::validate_client_name(n)?;
        *ctx.client.info.name.lock() = if n.is_empty() { None } else { Some(n.to_vec()) };
    }
    if let Some(v) = ver {
        ctx.client.resp3 = v == 3;
        ctx.out.resp3 = v == 3;
        ctx.client.info.resp.store(v as u32, Ordering::Relaxed);
    }
    let out = &mut *ctx.out;
    out.map(7);
    out.bulk_str("server");
    out.bulk_str("redis");
    out.bulk_str("version");
    out.bulk_str(REDIS_VERSION);
    out.bulk_str("proto");
    out.int(if ctx.client.resp3 { 3 } else { 2 });
    out.bulk_str("id");
    out.int(ctx.client.id as i64);
    out.bulk_str("mode");
    out.bulk_str(if ctx.shared.cluster.is_some() { "cluster" } else { "standalone" });
    out.bulk_str("role");
    out.bulk_str("master");
    out.bulk_str("modules");
    out.array(0);
    Ok(())
}

fn reset(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.client.multi = None;
    ctx.client.info.multi.store(-1, Ordering::Relaxed);
    unwatch_all(ctx);
    ctx.client.db = 0;
    ctx.client.info.db.store(0, Ordering::Relaxed);
    ctx.client.resp3 = false;
    ctx.out.resp3 = false;
    ctx.client.info.resp.store(2, Ordering::Relaxed);
    ctx.client.reply_mode = ReplyMode::On;
    *ctx.client.info.name.lock() = None;
    ctx.client.info.no_evict.store(false, Ordering::Relaxed);
    ctx.client.info.no_touch.store(false, Ordering::Relaxed);
    ctx.client.authenticated = ctx.shared.config.read().requirepass().is_none();
    ctx.out.simple("RESET");
    Ok(())
}

const CONN: u32 = FAST | LOADING | STALE;

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Returns the server's liveliness response.",
        ..CommandDef::new("ping", -1, FAST | SENTINEL, (0, 0, 0), "connection", ping)
    },
    CommandDef { summary: "Returns the given string.", ..CommandDef::new("echo", 2, CONN, (0, 0, 0), "connection", echo) },
    CommandDef {
        summary: "Closes the connection.",
        ..CommandDef::new("quit", -1, ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | TX_CONTROL, (0, 0, 0), "connection", quit)
    },
    CommandDef {
        summary: "Changes the selected database.",
        ..CommandDef::new("select", 2, LOADING | STALE | FAST, (0, 0, 0), "connection", select)
    },
    CommandDef {
        summary: "Authenticates the connection.",
        ..CommandDef::new("auth", -2, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, (0, 0, 0), "connection", auth)
    },
    CommandDef {
        summary: "Handshakes with the Redis server.",
        since: "6.0.0",
        ..CommandDef::new("hello", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, (0, 0, 0), "connection", hello)
    },
    CommandDef {
        summary: "Resets the connection.",
        since: "6.2.0",
        ..CommandDef::new("reset", 1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY | TX_CONTROL, (0, 0, 0), "connection", reset)
    },
];
