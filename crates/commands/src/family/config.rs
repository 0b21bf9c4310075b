//! Family: config (CONFIG GET / SET / RESETSTAT / REWRITE / HELP).

use crate::config::{self, registered_names, value_of, Config, Directive};
use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::table::{flags::*, CommandDef};
use shoal_resp::Args;
use std::sync::atomic::Ordering;

fn config_container(_ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    Err(CmdError::WrongArity("config".into()))
}

/// CONFIG GET pattern [pattern ...]
fn config_get(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    // (name as printed, directive); deduplicated case-insensitively on the printed name.
    let mut matches: Vec<(String, &'static Directive)> = Vec::new();
    let has = |m: &Vec<(String, &'static Directive)>, n: &str| m.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    for pat in args.iter().skip(2) {
        let pats = String::from_utf8_lossy(pat);
        if !pat.iter().any(|c| matches!(c, b'[' | b'*' | b'?')) {
            if has(&matches, &pats) {
                continue;
            }
            if let Some((d, _)) = config::lookup(&pats) {
                matches.push((pats.into_owned(), d));
            }
            continue;
        }
        for (name, d) in registered_names() {
            if d.hidden || has(&matches, name) {
                continue;
            }
            if shoal_keyspace::glob::glob_match(pat, name.as_bytes(), true) {
                matches.push((name.to_string(), d));
            }
        }
    }
    let cfg = ctx.shared.config.read();
    let values: Vec<String> = matches.iter().map(|(_, d)| value_of(&cfg, d)).collect();
    drop(cfg);
    ctx.out.map(matches.len());
    for ((name, _), v) in matches.iter().zip(values) {
        ctx.out.bulk(name.as_bytes());
        ctx.out.bulk(v.as_bytes());
    }
    Ok(())
}

fn is_local_client(addr: &str) -> bool {
    addr.starts_with("127.") || addr.starts_with("[::1]") || addr.starts_with("::1") || addr.starts_with('/') || addr.is_empty()
}

fn set_failed(name: &str, why: &str) -> CmdError {
    CmdError::err(format!("CONFIG SET failed (possibly related to argument '{name}') - {why}"))
}

/// CONFIG SET parameter value [parameter value ...]: all pairs are validated and applied
/// to a copy; any failure leaves the configuration unchanged.
fn config_set(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() % 2 == 1 {
        return Err(CmdError::Syntax);
    }
    let mut invalid_name: Option<String> = None;
    let mut err: Option<CmdError> = None;
    let mut sets: Vec<(&'static Directive, &'static str, String)> = Vec::new();
    let protected_ok = {
        let cfg = ctx.shared.config.read();
        match cfg.get("enable-protected-configs") {
            Some("yes") => true,
            Some("local") => is_local_client(&ctx.client.info.addr),
            _ => false,
        }
    };
    for i in (2..args.len()).step_by(2) {
        let given = String::from_utf8_lossy(args.get(i)).into_owned();
        let Some((d, reg)) = config::lookup(&given) else {
            if invalid_name.is_none() && err.is_none() {
                invalid_name = Some(given);
            }
            continue;
        };
        if invalid_name.is_some() || err.is_some() {
            continue;
        }
        if !d.mutable {
            err = Some(set_failed(&given, "can't set immutable config"));
            continue;
        }
        if d.protected && !protected_ok {
            err = Some(set_failed(&given, "can't set protected config"));
            continue;
        }
        if sets.iter().any(|(_, r, _)| *r == reg) {
            err = Some(set_failed(&given, "duplicate parameter"));
            continue;
        }
        sets.push((d, reg, String::from_utf8_lossy(args.get(i + 1)).into_owned()));
    }
    if let Some(n) = invalid_name {
        return Err(CmdError::err(format!("Unknown option or number of arguments for CONFIG SET - '{n}'")));
    }
    if let Some(e) = err {
        return Err(e);
    }
    let mut guard = ctx.shared.config.write();
    let mut new: Config = guard.clone();
    let old_dir = std::env::current_dir().ok();
    for (d, reg, value) in &sets {
        let parts: Vec<&str> = if d.kind.multi_arg() {
            if value.is_empty() {
                Vec::new()
            } else {
                value.split(' ').collect()
            }
        } else {
            vec![value.as_str()]
        };
        if let Err(e) = new.set_args(d, &parts, false) {
            if let Some(dir) = &old_dir {
                let _ = std::env::set_current_dir(dir);
            }
            return Err(set_failed(reg, &e));
        }
    }
    *guard = new;
    config::apply_hot(&guard, ctx.shared);
    drop(guard);
    ctx.out.ok();
    Ok(())
}

/// CONFIG RESETSTAT: resets INFO stats, command and error statistics (not the slowlog
/// nor latency samples).
fn config_resetstat(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let s = &ctx.shared.stats;
    for a in [
        &s.total_connections_received,
        &s.total_commands_processed,
        &s.rejected_connections,
        &s.total_net_input_bytes,
        &s.total_net_output_bytes,
        &s.expired_keys,
        &s.evicted_keys,
        &s.keyspace_hits,
        &s.keyspace_misses,
        &s.total_error_replies,
        &s.expire_cycle_cpu_ms,
        &s.client_query_buffer_limit_disconnections,
        &s.client_output_buffer_limit_disconnections,
    ] {
        a.store(0, Ordering::Relaxed);
    }
    ctx.st.cmd_stats.clear();
    ctx.st.error_stats.clear();
    ctx.out.ok();
    Ok(())
}

/// CONFIG REWRITE
fn config_rewrite(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let Some(path) = ctx.shared.config_file.as_deref() else {
        return Err(CmdError::err("The server is running without a config file"));
    };
    let cfg = ctx.shared.config.read().clone();
    if let Err(e) = config::rewrite(&cfg, path) {
        let s = e.to_string();
        let s = s.split(" (os error").next().unwrap_or("").to_string();
        return Err(CmdError::err(format!("Rewriting config file: {s}")));
    }
    ctx.out.ok();
    Ok(())
}

const HELP: &[&str] = &[
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
];

/// CONFIG HELP
fn config_help(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.array(HELP.len());
    for l in HELP {
        ctx.out.simple(l);
    }
    Ok(())
}

const ADMIN_FLAGS: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

static SUBCOMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Returns the effective values of configuration parameters.",
        since: "2.0.0",
        complexity: "O(N) when N is the number of configuration parameters provided",
        ..CommandDef::new("get", -3, ADMIN_FLAGS, (0, 0, 0), "server", config_get)
    },
    CommandDef {
        summary: "Sets configuration parameters in-flight.",
        since: "2.0.0",
        complexity: "O(N) when N is the number of configuration parameters provided",
        ..CommandDef::new("set", -4, ADMIN_FLAGS, (0, 0, 0), "server", config_set)
    },
    CommandDef {
        summary: "Resets the server's statistics.",
        since: "2.0.0",
        complexity: "O(1)",
        ..CommandDef::new("resetstat", 2, ADMIN_FLAGS, (0, 0, 0), "server", config_resetstat)
    },
    CommandDef {
        summary: "Persists the effective configuration to file.",
        since: "2.8.0",
        complexity: "O(1)",
        ..CommandDef::new("rewrite", 2, ADMIN_FLAGS, (0, 0, 0), "server", config_rewrite)
    },
    CommandDef {
        summary: "Returns helpful text about the different subcommands.",
        since: "5.0.0",
        complexity: "O(1)",
        ..CommandDef::new("help", 2, LOADING | STALE, (0, 0, 0), "server", config_help)
    },
];

pub static COMMANDS: &[CommandDef] = &[CommandDef {
    summary: "A container for server configuration commands.",
    since: "2.0.0",
    complexity: "Depends on subcommand.",
    subcommands: SUBCOMMANDS,
    ..CommandDef::new("config", -2, 0, (0, 0, 0), "server", config_container)
}];
