//! Cluster routing: the one pre-execution check that decides whether this node serves a
//! command (Redis's `getNodeByQuery` + `clusterRedirectClient`, cluster.c 7.0).
//!
//! Behaviour, as Redis: the keys of a command come from the command table (key specs or
//! a keys function); every key of a command, or of all commands queued in a MULTI when
//! EXEC runs, must hash to one slot (`-CROSSSLOT`); a slot owned elsewhere answers
//! `-MOVED <slot> <endpoint>`; a slot being migrated away whose keys are missing here
//! answers `-ASK` (or `-TRYAGAIN` when only some keys are missing); an importing slot is
//! served to clients that sent ASKING; an unassigned slot or a failed cluster answers
//! `-CLUSTERDOWN`. Commands without keys are never redirected.
//!
//! Design: [`Routing`] is a copy of what routing needs from the cluster state (slot
//! owners, endpoints, migration marks, ok/fail), kept in [`crate::ctx::State`] under the
//! command lock, so the check costs no extra lock. The cluster bus driver owns the full
//! cluster state (its own lock, so heartbeats never wait for a slow command) and
//! replaces this copy whenever ownership or the cluster state changes.

use crate::ctx::Client;
use crate::error::CmdError;
use crate::table::{flags, CommandDef};
use shoal_keyspace::{key_slot, Db, SLOT_COUNT};
use shoal_resp::Args;
use std::collections::HashMap;

/// No owner (unassigned slot).
pub const NO_NODE: u16 = u16::MAX;

/// How a node is named in redirections (`cluster-preferred-endpoint-type`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Endpoint {
    pub ip: String,
    pub port: u16,
    pub hostname: String,
}

/// The routing view of the cluster.
#[derive(Clone)]
pub struct Routing {
    /// Slot -> index into `nodes` (or [`NO_NODE`]).
    pub owner: Box<[u16]>,
    /// Endpoint per node index, in the form redirections print.
    pub nodes: Vec<Endpoint>,
    /// This node's index in `nodes`.
    pub myself: u16,
    /// When this node is a replica: its master's index.
    pub my_master: Option<u16>,
    /// Slots this node migrates away: slot -> target node.
    pub migrating: HashMap<u16, u16>,
    /// Slots this node imports: slot -> source node.
    pub importing: HashMap<u16, u16>,
    /// `cluster_state:ok`.
    pub ok: bool,
    pub allow_reads_when_down: bool,
    /// `cluster-preferred-endpoint-type`: "ip", "hostname" or "unknown-endpoint".
    pub endpoint_type: EndpointType,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EndpointType {
    #[default]
    Ip,
    Hostname,
    Unknown,
}

impl Default for Routing {
    fn default() -> Self {
        Routing {
            owner: vec![NO_NODE; SLOT_COUNT].into_boxed_slice(),
            nodes: vec![Endpoint::default()],
            myself: 0,
            my_master: None,
            migrating: HashMap::new(),
            importing: HashMap::new(),
            ok: false,
            allow_reads_when_down: false,
            endpoint_type: EndpointType::Ip,
        }
    }
}

/// Why a command is not served here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    CrossSlot,
    /// Multiple keys of a slot being migrated, some missing.
    Unstable,
    DownState,
    DownReadOnly,
    DownUnbound,
    Moved {
        slot: u16,
        node: u16,
    },
    Ask {
        slot: u16,
        node: u16,
    },
}

impl Routing {
    fn endpoint(&self, node: u16) -> String {
        let e = self.nodes.get(node as usize).cloned().unwrap_or_default();
        let host = match self.endpoint_type {
            EndpointType::Ip => e.ip,
            EndpointType::Hostname if !e.hostname.is_empty() => e.hostname,
            EndpointType::Hostname => "?".to_string(),
            EndpointType::Unknown => String::new(),
        };
        format!("{host}:{}", e.port)
    }

    /// The error reply for a redirect (Redis's `clusterRedirectClient`).
    pub fn error(&self, r: &Redirect) -> CmdError {
        match r {
            Redirect::CrossSlot => CmdError::raw("CROSSSLOT Keys in request don't hash to the same slot"),
            Redirect::Unstable => CmdError::raw("TRYAGAIN Multiple keys request during rehashing of slot"),
            Redirect::DownState => CmdError::raw("CLUSTERDOWN The cluster is down"),
            Redirect::DownReadOnly => CmdError::raw("CLUSTERDOWN The cluster is down and only accepts read commands"),
            Redirect::DownUnbound => CmdError::raw("CLUSTERDOWN Hash slot not served"),
            Redirect::Moved { slot, node } => CmdError::raw(format!("MOVED {slot} {}", self.endpoint(*node))),
            Redirect::Ask { slot, node } => CmdError::raw(format!("ASK {slot} {}", self.endpoint(*node))),
        }
    }
}

/// Per-query accumulation over all keys (of one command or of a whole MULTI).
struct Query {
    first: Option<(Vec<u8>, u16)>,
    node: u16,
    multiple_keys: bool,
    migrating: bool,
    importing: bool,
    missing: usize,
    existing: usize,
}

impl Query {
    fn add_key(&mut self, r: &Routing, db: &mut Db, now: u64, key: &[u8]) -> Result<(), Redirect> {
        let slot = key_slot(key);
        match &self.first {
            None => {
                self.first = Some((key.to_vec(), slot));
                self.node = r.owner[slot as usize];
                if self.node == NO_NODE {
                    return Err(Redirect::DownUnbound);
                }
                if self.node == r.myself && r.migrating.contains_key(&slot) {
                    self.migrating = true;
                } else if r.importing.contains_key(&slot) {
                    self.importing = true;
                }
            }
            Some((fk, fslot)) => {
                if fk.as_slice() != key {
                    if *fslot != slot {
                        return Err(Redirect::CrossSlot);
                    }
                    self.multiple_keys = true;
                }
            }
        }
        if self.migrating || self.importing {
            if db.get(key, now).is_none() {
                self.missing += 1;
            } else {
                self.existing += 1;
            }
        }
        Ok(())
    }
}

/// Calls `f` with each key argument of one command invocation, without allocating
/// for the common first/last/step case.
fn for_each_key(def: &CommandDef, args: Args<'_>, mut f: impl FnMut(&[u8]) -> Result<(), Redirect>) -> Result<(), Redirect> {
    if def.keys.is_some() {
        for i in def.key_indexes(args) {
            f(args.get(i))?;
        }
        return Ok(());
    }
    if def.first_key <= 0 {
        return Ok(());
    }
    let argc = args.len() as i32;
    let last = if def.last_key < 0 { argc + def.last_key } else { def.last_key };
    let step = def.step.max(1);
    let mut i = def.first_key;
    while i <= last && i < argc {
        f(args.get(i as usize))?;
        i += step;
    }
    Ok(())
}

/// True when the command can carry keys (Redis skips the check otherwise).
pub fn has_keys(def: &CommandDef) -> bool {
    def.keys.is_some() || def.first_key > 0 || def.has(flags::MOVABLE_KEYS)
}

/// Redis's `getNodeByQuery` for one command (or, for EXEC, the queued transaction).
/// Ok(()) means: serve it here. `asking` is the client's ASKING flag.
pub fn check(r: &Routing, db: &mut Db, now: u64, client: &Client, def: &CommandDef, args: Args<'_>, is_exec: bool) -> Result<(), Redirect> {
    let mut q = Query { first: None, node: NO_NODE, multiple_keys: false, migrating: false, importing: false, missing: 0, existing: 0 };
    let mut is_write = def.has(flags::WRITE);
    if is_exec {
        let Some(m) = client.multi.as_ref() else { return Ok(()) };
        for (d, a) in &m.queued {
            is_write |= d.has(flags::WRITE);
            let a = a.args();
            for_each_key(d, a, |k| q.add_key(r, db, now, k))?;
        }
    } else {
        for_each_key(def, args, |k| q.add_key(r, db, now, k))?;
    }
    let Some((_, slot)) = q.first else { return Ok(()) };
    if !r.ok {
        if !r.allow_reads_when_down {
            return Err(Redirect::DownState);
        } else if is_write {
            return Err(Redirect::DownReadOnly);
        }
    }
    // MIGRATE always works in the context of this node while the slot is open (migrating
    // or importing), so keys can move freely between the two nodes (Redis 7.0 does the same).
    if (q.migrating || q.importing) && def.name == "migrate" {
        return Ok(());
    }
    if q.migrating && q.missing > 0 {
        if q.existing > 0 {
            return Err(Redirect::Unstable);
        }
        let node = r.migrating.get(&slot).copied().unwrap_or(NO_NODE);
        return Err(Redirect::Ask { slot, node });
    }
    if q.importing && (client.asking || def.has(flags::ASKING)) {
        if q.multiple_keys && q.missing > 0 {
            return Err(Redirect::Unstable);
        }
        return Ok(());
    }
    if client.readonly && !is_write && r.my_master == Some(q.node) {
        return Ok(());
    }
    if q.node != r.myself {
        return Err(Redirect::Moved { slot, node: q.node });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routing() -> Routing {
        let mut r = Routing {
            nodes: vec![
                Endpoint { ip: "127.0.0.1".into(), port: 7000, hostname: String::new() },
                Endpoint { ip: "127.0.0.1".into(), port: 7001, hostname: "b.example".into() },
            ],
            ..Routing::default()
        };
        for s in 0..8192 {
            r.owner[s] = 0;
        }
        for s in 8192..16000 {
            r.owner[s] = 1;
        }
        r.ok = true;
        r
    }

    #[test]
    fn errors_render_as_redis() {
        let r = routing();
        assert_eq!(r.error(&Redirect::Moved { slot: 12182, node: 1 }).to_string(), "MOVED 12182 127.0.0.1:7001");
        assert_eq!(r.error(&Redirect::Ask { slot: 1, node: 0 }).to_string(), "ASK 1 127.0.0.1:7000");
        let mut h = r.clone();
        h.endpoint_type = EndpointType::Hostname;
        assert_eq!(h.error(&Redirect::Moved { slot: 9, node: 1 }).to_string(), "MOVED 9 b.example:7001");
        assert_eq!(r.error(&Redirect::CrossSlot).to_string(), "CROSSSLOT Keys in request don't hash to the same slot");
    }
}
