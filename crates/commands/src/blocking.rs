//! Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, ...).
//!
//! Background: Redis serves blocked clients inside the command loop, right after the
//! command (or the whole MULTI/EXEC block, or script) that made a key ready, before any
//! other client's next command, and in first-come-first-served order per key.
//!
//! Behaviour here: a blocking handler that finds nothing to serve sets
//! `Action::Block` and writes no reply. The connection registers a [`Blocked`] entry
//! (the command, its keys, a delivery callback) and waits. Writes that could serve a
//! waiter call [`signal_ready`]; after each top-level command the pipeline calls
//! [`serve_ready`], which re-runs each waiting command in FIFO order under the same lock:
//! if it produces a reply, the reply is delivered and the client is unblocked; if it
//! blocks again, the key has nothing left for the others either. Timeouts and
//! disconnections unregister the client through [`unblock`].

use crate::ctx::{Client, ClientInfo, Ctx, Shared, State};
use crate::table::CommandDef;
use shoal_resp::{OwnedArgs, ReplyBuf};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Delivers the reply bytes to a blocked connection.
pub type Deliver = Box<dyn FnOnce(Vec<u8>) + Send>;

/// A client waiting for keys.
pub struct Blocked {
    pub id: u64,
    pub db: usize,
    pub resp3: bool,
    pub info: Arc<ClientInfo>,
    pub def: &'static CommandDef,
    pub args: OwnedArgs,
    pub keys: Vec<Vec<u8>>,
    pub deliver: Deliver,
}

/// The registry of blocked clients (part of [`State`]).
#[derive(Default)]
pub struct Blocking {
    /// (db, key) -> waiting client ids, oldest first.
    waiters: HashMap<(usize, Vec<u8>), VecDeque<u64>>,
    clients: HashMap<u64, Blocked>,
    /// Keys signalled since the last `serve_ready`.
    ready: Vec<(usize, Vec<u8>)>,
    /// Arguments a command that is about to block wants registered instead of the ones
    /// it was called with (XREAD resolves `$` to a concrete ID); see `Ctx::set_block_args`.
    pub(crate) rewrite: Option<OwnedArgs>,
}

impl Blocking {
    pub fn is_blocked(&self, id: u64) -> bool {
        self.clients.contains_key(&id)
    }
    pub fn len(&self) -> usize {
        self.clients.len()
    }
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }
    /// True when some client waits on a key of database `db`.
    pub fn has_waiters_in(&self, db: usize) -> bool {
        self.clients.values().any(|b| b.db == db)
    }
    /// Registers a blocked client.
    pub fn block(&mut self, b: Blocked) {
        for k in &b.keys {
            let q = self.waiters.entry((b.db, k.clone())).or_default();
            if !q.contains(&b.id) {
                q.push_back(b.id);
            }
        }
        self.clients.insert(b.id, b);
    }
    fn remove(&mut self, id: u64) -> Option<Blocked> {
        let b = self.clients.remove(&id)?;
        for k in &b.keys {
            let wk = (b.db, k.clone());
            if let Some(q) = self.waiters.get_mut(&wk) {
                q.retain(|&c| c != id);
                if q.is_empty() {
                    self.waiters.remove(&wk);
                }
            }
        }
        Some(b)
    }
}

/// Notes that `key` in `db` may now serve a blocked client (a push, an add, a rename onto it).
#[inline]
pub fn signal_ready(st: &mut State, db: usize, key: &[u8]) {
    if st.blocking.waiters.is_empty() {
        return;
    }
    let k = (db, key.to_vec());
    if st.blocking.waiters.contains_key(&k) && !st.blocking.ready.contains(&k) {
        st.blocking.ready.push(k);
    }
}

/// Unregisters a blocked client (timeout, disconnection, CLIENT UNBLOCK). Returns its
/// entry when it was still blocked (its reply was not delivered yet).
pub fn unblock(st: &mut State, shared: &Shared, id: u64) -> Option<Blocked> {
    let b = st.blocking.remove(id)?;
    shared.blocked_clients.fetch_sub(1, Ordering::Relaxed);
    Some(b)
}

/// Registers a blocked client and turns on ready-key tracking for its database.
pub fn block(st: &mut State, shared: &Shared, mut b: Blocked) {
    if let Some(a) = st.blocking.rewrite.take() {
        b.args = a;
    }
    if let Some(db) = st.ks.dbs.get_mut(b.db) {
        db.track_ready = true;
    }
    st.blocking.block(b);
    shared.blocked_clients.fetch_add(1, Ordering::Relaxed);
}

/// Moves keys that databases saw receive a list or zset value into the ready list.
fn collect_db_ready(st: &mut State) {
    for (i, db) in st.ks.dbs.iter_mut().enumerate() {
        if !db.track_ready {
            continue;
        }
        for k in std::mem::take(&mut db.ready) {
            let wk = (i, k);
            if st.blocking.waiters.contains_key(&wk) && !st.blocking.ready.contains(&wk) {
                st.blocking.ready.push(wk);
            }
        }
        if !st.blocking.has_waiters_in(i) {
            db.track_ready = false;
        }
    }
}

/// Serves blocked clients whose keys were signalled, FIFO per key. Called by the
/// pipeline after every top-level command.
pub fn serve_ready(st: &mut State, shared: &Shared) {
    if st.blocking.clients.is_empty() {
        return;
    }
    collect_db_ready(st);
    while !st.blocking.ready.is_empty() {
        let ready = std::mem::take(&mut st.blocking.ready);
        for key in ready {
            while let Some(id) = st.blocking.waiters.get(&key).and_then(|q| q.front().copied()) {
                let Some(b) = st.blocking.clients.get(&id) else { break };
                // Re-run the command as the blocked client, with its database and protocol.
                let mut client = Client::new(b.info.clone(), true);
                client.db = b.db;
                client.resp3 = b.resp3;
                let def = b.def;
                let args = b.args.clone();
                let mut out = ReplyBuf::new(b.resp3);
                let blocked_again = {
                    let mut ctx = Ctx { st, client: &mut client, shared, out: &mut out, action: None };
                    crate::exec::call(&mut ctx, def, crate::exec::full_name(def), args.args());
                    matches!(ctx.action, Some(crate::ctx::Action::Block { .. }))
                };
                // A re-run that blocks again keeps its registered arguments.
                st.blocking.rewrite = None;
                if blocked_again {
                    // Nothing left under this key for anyone; the waiters keep their places.
                    break;
                }
                if let Some(b) = unblock(st, shared, id) {
                    (b.deliver)(out.buf);
                }
            }
        }
        collect_db_ready(st);
    }
}

/// The error a client unblocked by `CLIENT UNBLOCK id ERROR` receives.
pub const UNBLOCKED_ERROR: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/// CLIENT UNBLOCK: when client `id` waits on keys, unregisters it and delivers the
/// reply it gets on a timeout (a null array for every blocking command of Redis 7.0)
/// or, with `error`, the UNBLOCKED error. Returns whether it was blocked.
///
/// Accounting as Redis 7.0.15's `updateStatsOnUnblock(target, 0, 0, 1)`: the blocked
/// command counts a failed call either way; the error reply counts in errorstats.
pub fn unblock_client(st: &mut State, shared: &Shared, id: u64, error: bool) -> bool {
    let Some(b) = unblock(st, shared, id) else { return false };
    let mut out = ReplyBuf::new(b.resp3);
    if error {
        out.error(UNBLOCKED_ERROR);
        *st.error_stats.entry("UNBLOCKED".to_string()).or_insert(0) += 1;
        shared.stats.total_error_replies.fetch_add(1, Ordering::Relaxed);
    } else {
        out.null_array();
    }
    st.cmd_stats.entry(crate::exec::full_name(b.def).to_string()).or_default().failed_calls += 1;
    (b.deliver)(out.buf);
    true
}
