//! Family: transactions (MULTI, EXEC, DISCARD, WATCH, UNWATCH).
//!
//! Background: queued commands were already resolved and arity-checked when queued
//! (see `exec.rs`), and EXEC runs them back to back under the command lock, so no other
//! client's command can interleave. WATCH is optimistic locking: every write through the
//! keyspace API marks the key's watchers dirty (`Db::touch`), and EXEC of a dirty client
//! replies with a null array without running anything.

use crate::ctx::{Ctx, MultiState};
use crate::error::{CmdError, CmdResult};
use crate::exec;
use crate::table::{flags::*, CommandDef};
use shoal_resp::Args;
use std::sync::atomic::Ordering;

fn multi(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(CmdError::err("MULTI calls can not be nested"));
    }
    ctx.client.multi = Some(MultiState::default());
    ctx.client.info.multi.store(0, Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

/// Forgets every WATCHed key of the client.
pub fn unwatch_all(ctx: &mut Ctx<'_>) {
    let id = ctx.client.id;
    for (db, key) in std::mem::take(&mut ctx.client.watching) {
        if let Some(d) = ctx.st.ks.dbs.get_mut(db) {
            d.unwatch(&key, id);
        }
    }
    ctx.client.info.watching.store(0, Ordering::Relaxed);
}

fn watched_dirty(ctx: &mut Ctx<'_>) -> bool {
    let id = ctx.client.id;
    let now = ctx.now();
    ctx.client.watching.iter().any(|(db, key)| {
        let d = &ctx.st.ks.dbs[*db];
        d.watch_dirty.contains(&id) || d.is_expired(key, now)
    })
}

fn exec_cmd(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let Some(m) = ctx.client.multi.take() else {
        return Err(CmdError::err("EXEC without MULTI"));
    };
    ctx.client.info.multi.store(-1, Ordering::Relaxed);
    if m.error {
        unwatch_all(ctx);
        return Err(CmdError::raw("EXECABORT Transaction discarded because of previous errors."));
    }
    if watched_dirty(ctx) {
        unwatch_all(ctx);
        ctx.out.null_array();
        return Ok(());
    }
    unwatch_all(ctx);
    ctx.out.array(m.queued.len());
    ctx.client.in_exec = true;
    for (def, owned) in &m.queued {
        let args = owned.args();
        exec::call(ctx, def, exec::full_name(def), args);
    }
    ctx.client.in_exec = false;
    Ok(())
}

fn discard(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    if ctx.client.multi.take().is_none() {
        return Err(CmdError::err("DISCARD without MULTI"));
    }
    ctx.client.info.multi.store(-1, Ordering::Relaxed);
    unwatch_all(ctx);
    ctx.out.ok();
    Ok(())
}

fn watch(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(CmdError::err("WATCH inside MULTI is not allowed"));
    }
    let db = ctx.client.db;
    let id = ctx.client.id;
    for key in args.iter().skip(1) {
        if ctx.client.watching.iter().any(|(d, k)| *d == db && k == key) {
            continue;
        }
        ctx.st.ks.dbs[db].watch(key, id);
        ctx.client.watching.push((db, key.to_vec()));
    }
    ctx.client.info.watching.store(ctx.client.watching.len(), Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

fn unwatch(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    unwatch_all(ctx);
    ctx.out.ok();
    Ok(())
}

const TX: u32 = NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TX_CONTROL;

pub static COMMANDS: &[CommandDef] = &[
    CommandDef { summary: "Starts a transaction.", since: "1.2.0", ..CommandDef::new("multi", 1, TX, (0, 0, 0), "transactions", multi) },
    CommandDef {
        summary: "Executes all commands in a transaction.",
        since: "1.2.0",
        ..CommandDef::new("exec", 1, NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | TX_CONTROL, (0, 0, 0), "transactions", exec_cmd)
    },
    CommandDef {
        summary: "Discards a transaction.",
        since: "2.0.0",
        ..CommandDef::new("discard", 1, TX, (0, 0, 0), "transactions", discard)
    },
    CommandDef {
        summary: "Monitors changes to keys to determine the execution of a transaction.",
        since: "2.2.0",
        ..CommandDef::new("watch", -2, TX, (1, -1, 1), "transactions", watch)
    },
    CommandDef {
        summary: "Forgets about watched keys of a transaction.",
        since: "2.2.0",
        ..CommandDef::new("unwatch", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, (0, 0, 0), "transactions", unwatch)
    },
];
