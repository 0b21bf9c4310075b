//! Cluster mode: the CLUSTER command family, READONLY / READWRITE / ASKING, and the handle
//! ([`ClusterNode`]) through which commands and the bus driver share the cluster state.
//!
//! What Redis does (cluster.c of 7.0.15): one `clusterState` touched by the main thread only;
//! CLUSTER subcommands change it directly and ask `clusterBeforeSleep` to save nodes.conf and
//! update the state; the cron and the bus handlers run on the same thread.
//!
//! What we do: the [`ClusterState`] state machine lives in [`ClusterNode::core`], behind its own
//! mutex (not the command lock), so the bus driver (crates/server/src/cluster_bus.rs, its own
//! thread) never waits for a slow command. Every step (a command here, a tick or a bus message in
//! the driver) returns `Output`s; [`ClusterNode::process`] carries out the ones that need the
//! cluster state (saving nodes.conf, logging state changes, building a new routing copy) and hands
//! back [`Effects`]: network outputs for the driver, and the parts that need the command lock
//! (the routing copy in `State.cluster`, keys of lost slots, PUBLISH deliveries), applied by
//! [`ClusterNode::apply_state`]. Lock order: command lock, then the cluster mutex; the driver
//! releases the cluster mutex before it takes the command lock.
//!
//! Not done: replicas (CLUSTER REPLICATE answers an error, FAILOVER only validates), a master
//! left without slots by SETSLOT NODE does not turn into a replica.

use crate::cluster::{Endpoint, EndpointType, Routing, NO_NODE};
use crate::ctx::{Ctx, Shared, State};
use crate::error::{CmdError, CmdResult};
use crate::table::{flags::*, CommandDef};
use crate::util::{eq_ic, parse_i64};
use parking_lot::Mutex;
use shoal_cluster::nodes_conf::{self, NodeLine, SlotMove};
use shoal_cluster::state::{ClusterState, LinkId, Output, SetSlot};
use shoal_cluster::wire;
use shoal_cluster::{flags as nf, NodeName, SplitMix64, SLOTS};
use shoal_keyspace::key_slot;
use shoal_resp::Args;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Log levels passed to [`ClusterNode::log`] (as the server's: 0 debug .. 3 warning).
pub const LOG_NOTICE: u8 = 2;
pub const LOG_WARNING: u8 = 3;

/// What the mutex guards.
pub struct Core {
    pub cs: ClusterState,
    pub rng: SplitMix64,
    /// Generation of the last routing copy built.
    routing_gen: u64,
    /// Creation time (unix ms) of each live bus link (CLUSTER LINKS), kept by the driver.
    pub link_ctime: HashMap<LinkId, u64>,
}

/// The cluster handle in [`Shared`].
pub struct ClusterNode {
    pub core: Mutex<Core>,
    /// nodes.conf (absolute or relative to `dir`, which is the working directory).
    pub conf_path: PathBuf,
    /// Carries out network outputs (set by the bus driver).
    pub net: OnceLock<Box<dyn Fn(Vec<Output>) + Send + Sync>>,
    /// Server log (level, message).
    pub log: fn(u8, &str),
    /// Generation of the routing copy stored in `State.cluster` (written under the command lock).
    stored_gen: AtomicU64,
    /// Bus messages sent / received per type (CLUSTER INFO).
    pub sent: [AtomicU64; wire::TYPE_COUNT as usize],
    pub received: [AtomicU64; wire::TYPE_COUNT as usize],
}

/// What a step leaves to do outside the cluster mutex.
#[derive(Default)]
pub struct Effects {
    /// Connect / Send / Close, for the driver.
    pub net: Vec<Output>,
    pub routing: Option<(u64, Box<Routing>)>,
    pub slots_lost: Vec<u16>,
    pub publish: Vec<(Vec<u8>, Vec<u8>, bool)>,
}

impl Effects {
    /// True when [`ClusterNode::apply_state`] has something to do (needs the command lock).
    pub fn needs_state(&self) -> bool {
        self.routing.is_some() || !self.slots_lost.is_empty() || !self.publish.is_empty()
    }
}

/// Unix milliseconds.
pub fn now_ms() -> u64 {
    crate::ctx::unix_ms()
}

/// The state machine's configuration from the server's.
pub fn state_config(cfg: &crate::config::Config, port: u16) -> shoal_cluster::state::Config {
    let announce_port = cfg.get_i64("cluster-announce-port");
    let announce_bus = cfg.get_i64("cluster-announce-bus-port");
    let cluster_port = cfg.get_i64("cluster-port");
    let my_port = if announce_port > 0 { announce_port as u16 } else { port };
    let cport = if announce_bus > 0 {
        announce_bus as u16
    } else if cluster_port > 0 {
        cluster_port as u16
    } else {
        port.wrapping_add(shoal_cluster::PORT_INCR)
    };
    let ip = cfg.get("cluster-announce-ip").unwrap_or("");
    shoal_cluster::state::Config {
        node_timeout: cfg.get_i64("cluster-node-timeout").max(0) as u64,
        require_full_coverage: cfg.get_bool("cluster-require-full-coverage"),
        port: my_port,
        pport: 0,
        cport,
        announce_ip: if ip.is_empty() { None } else { Some(ip.to_string()) },
        hostname: cfg.get("cluster-announce-hostname").unwrap_or("").to_string(),
        allow_replica_migration: cfg.get_bool("cluster-allow-replica-migration"),
    }
}

impl ClusterNode {
    /// Start-up (clusterInit): loads `conf_path` or creates a new node and saves it.
    pub fn open(cfg: &crate::config::Config, port: u16, log: fn(u8, &str)) -> Result<ClusterNode, String> {
        let conf_path = PathBuf::from(cfg.get("cluster-config-file").unwrap_or("nodes.conf"));
        let scfg = state_config(cfg, port);
        let now = now_ms();
        let mut rng = SplitMix64(rand::random::<u64>());
        let text = match std::fs::read(&conf_path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("Loading the cluster node config from {}: {e}", conf_path.display())),
        };
        let loaded = match text {
            Some(t) if !t.is_empty() => {
                let text = String::from_utf8_lossy(&t);
                // Redis's message, after a line with the detail.
                let corrupted = |detail: String| {
                    log(LOG_WARNING, &detail);
                    "Unrecoverable error: corrupted cluster config file.".to_string()
                };
                let conf = nodes_conf::parse(&text).map_err(|e| corrupted(format!("{}: {}", conf_path.display(), e.msg)))?;
                let cs = ClusterState::from_nodes_conf(scfg.clone(), &conf, now)
                    .map_err(|e| corrupted(format!("{}: {e}", conf_path.display())))?;
                Some(cs)
            }
            _ => None,
        };
        let node = |cs| ClusterNode {
            core: Mutex::new(Core { cs, rng: SplitMix64(0), routing_gen: 0, link_ctime: HashMap::new() }),
            conf_path: conf_path.clone(),
            net: OnceLock::new(),
            log,
            stored_gen: AtomicU64::new(0),
            sent: Default::default(),
            received: Default::default(),
        };
        let n = match loaded {
            Some(cs) => {
                log(LOG_NOTICE, &format!("Node configuration loaded, I'm {:.40}", cs.myself_name().as_str()));
                node(cs)
            }
            None => {
                let cs = ClusterState::new(scfg, now, &mut rng);
                log(LOG_NOTICE, &format!("No cluster configuration found, I'm {:.40}", cs.myself_name().as_str()));
                // Redis saves before it sets myself's address: the first file has ":0@0".
                let mut conf = cs.to_nodes_conf();
                for l in conf.nodes.iter_mut() {
                    if l.flags & nf::MYSELF != 0 {
                        l.ip.clear();
                        l.port = 0;
                        l.cport = 0;
                    }
                }
                nodes_conf::write_atomic(&conf_path, nodes_conf::render(&conf).as_bytes())
                    .map_err(|e| format!("Fatal: can't update cluster config file: {e}"))?;
                node(cs)
            }
        };
        n.core.lock().rng = rng;
        Ok(n)
    }

    /// Writes nodes.conf now (clusterSaveConfig).
    pub fn save(&self, core: &Core) -> std::io::Result<()> {
        let text = nodes_conf::render(&core.cs.to_nodes_conf());
        nodes_conf::write_atomic(&self.conf_path, text.as_bytes())
    }

    /// Carries out the outputs that need the cluster state; returns the rest.
    pub fn process(&self, core: &mut Core, outs: Vec<Output>, force_routing: bool) -> Effects {
        let mut eff = Effects::default();
        let mut rebuild = force_routing;
        for o in outs {
            match o {
                Output::Connect { .. } | Output::Send { .. } | Output::Close { .. } => eff.net.push(o),
                Output::SaveConfig => {
                    rebuild = true;
                    if let Err(e) = self.save(core) {
                        (self.log)(LOG_WARNING, &format!("Fatal: can't update cluster config file: {e}"));
                    }
                }
                Output::StateChanged { ok } => {
                    rebuild = true;
                    (self.log)(LOG_WARNING, &format!("Cluster state changed: {}", if ok { "ok" } else { "fail" }));
                }
                Output::SlotLost { slot } => {
                    rebuild = true;
                    eff.slots_lost.push(slot);
                }
                Output::BecomeReplicaOf { master } => {
                    rebuild = true;
                    (self.log)(LOG_WARNING, &format!("Configuration change detected. Reconfiguring myself as a replica of {master}"));
                }
                Output::Publish { channel, message, shard } => eff.publish.push((channel, message, shard)),
                Output::Module { .. } => {}
            }
        }
        if rebuild {
            core.routing_gen += 1;
            eff.routing = Some((core.routing_gen, Box::new(build_routing(&core.cs))));
        }
        eff
    }

    /// Applies the effects that need the command lock (held by the caller: `st`).
    pub fn apply_state(&self, st: &mut State, shared: &Shared, eff: &mut Effects) {
        if let Some((gen, mut r)) = eff.routing.take() {
            if gen > self.stored_gen.load(Ordering::Relaxed) {
                self.stored_gen.store(gen, Ordering::Relaxed);
                let cfg = shared.config.read();
                r.allow_reads_when_down = cfg.get_bool("cluster-allow-reads-when-down");
                r.endpoint_type = match cfg.get("cluster-preferred-endpoint-type").unwrap_or("ip") {
                    "hostname" => EndpointType::Hostname,
                    "unknown-endpoint" => EndpointType::Unknown,
                    _ => EndpointType::Ip,
                };
                st.cluster = Some(r);
            }
        }
        for slot in eff.slots_lost.drain(..) {
            let db = &mut st.ks.dbs[0];
            let keys = db.keys_in_slot(slot, usize::MAX);
            for k in keys {
                db.remove(&k);
            }
        }
        for (ch, msg, shard) in eff.publish.drain(..) {
            st.pubsub.publish(shared, None, &ch, &msg, shard);
        }
    }

    /// Hands network outputs to the driver.
    pub fn send_net(&self, net: Vec<Output>) {
        if net.is_empty() {
            return;
        }
        if let Some(f) = self.net.get() {
            f(net);
        }
    }
}

/// The routing copy of the cluster state (ok flag and node table; config-dependent fields are
/// filled by [`ClusterNode::apply_state`]).
pub fn build_routing(cs: &ClusterState) -> Routing {
    let mut r = Routing { nodes: Vec::with_capacity(cs.node_count()), ..Routing::default() };
    let mut map: HashMap<u32, u16> = HashMap::with_capacity(cs.node_count());
    for (i, n) in cs.nodes() {
        let ri = r.nodes.len() as u16;
        map.insert(i, ri);
        r.nodes.push(Endpoint { ip: n.ip.clone(), port: n.port, hostname: n.hostname.clone() });
    }
    for (i, n) in cs.nodes() {
        if n.numslots == 0 {
            continue;
        }
        let ri = map[&i];
        for s in n.slots.iter() {
            r.owner[s] = ri;
        }
    }
    r.myself = map.get(&cs.myself).copied().unwrap_or(NO_NODE);
    let me = cs.me();
    if me.is_slave() {
        r.my_master = map.get(&me.replicaof).copied();
    }
    let idx = |name: &NodeName| cs.lookup(name).and_then(|i| map.get(&i).copied());
    for (s, n) in &cs.migrating {
        if let Some(i) = idx(n) {
            r.migrating.insert(*s, i);
        }
    }
    for (s, n) in &cs.importing {
        if let Some(i) = idx(n) {
            r.importing.insert(*s, i);
        }
    }
    r.ok = cs.state_ok;
    r
}

/// Broadcasts a PUBLISH (or SPUBLISH when `shard`) to the cluster (Redis's
/// clusterPropagatePublish). A no-op when cluster mode is off.
pub fn propagate_publish(shared: &Shared, channel: &[u8], message: &[u8], shard: bool) {
    let Some(node) = shared.cluster.as_deref() else { return };
    let mut core = node.core.lock();
    let outs = core.cs.publish(channel, message, shard, now_ms());
    let eff = node.process(&mut core, outs, false);
    drop(core);
    node.send_net(eff.net);
}

// -------------------------------------------------------------------------------------------
// Commands
// -------------------------------------------------------------------------------------------

fn disabled() -> CmdError {
    CmdError::err("This instance has cluster support disabled")
}

fn node_of<'a>(ctx: &Ctx<'a>) -> Result<&'a ClusterNode, CmdError> {
    ctx.shared.cluster.as_deref().ok_or_else(disabled)
}

/// addReplySubcommandSyntaxError
fn bad_sub(args: Args<'_>) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{:.128}'. Try CLUSTER HELP.",
        String::from_utf8_lossy(args.get(1))
    ))
}

fn not_int() -> CmdError {
    CmdError::err("value is not an integer or out of range")
}

/// getSlotOrReply
fn slot_arg(a: &[u8]) -> Result<u16, CmdError> {
    match parse_i64(a) {
        Ok(s) if (0..SLOTS as i64).contains(&s) => Ok(s as u16),
        _ => Err(CmdError::err("Invalid or out of range slot")),
    }
}

/// clusterLookupNode: a 40-char lowercase hex name that we know.
fn lookup(cs: &ClusterState, name: &[u8]) -> Option<NodeName> {
    let n = NodeName::from_bytes(name)?;
    if !n.is_valid_hex() {
        return None;
    }
    cs.lookup(&n).map(|_| n)
}

/// Runs the tail of a command step: process outputs, apply what needs the command lock, send
/// network outputs.
fn finish(ctx: &mut Ctx<'_>, node: &ClusterNode, mut core: parking_lot::MutexGuard<'_, Core>, outs: Vec<Output>) {
    let mut eff = node.process(&mut core, outs, false);
    drop(core);
    node.apply_state(ctx.st, ctx.shared, &mut eff);
    node.send_net(std::mem::take(&mut eff.net));
}

const HELP: &[&str] = &[
    "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ADDSLOTS <slot> [<slot> ...]",
    "    Assign slots to current node.",
    "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Assign slots which are between <start-slot> and <end-slot> to current node.",
    "BUMPEPOCH",
    "    Advance the cluster config epoch.",
    "COUNT-FAILURE-REPORTS <node-id>",
    "    Return number of failure reports for <node-id>.",
    "COUNTKEYSINSLOT <slot>",
    "    Return the number of keys in <slot>.",
    "DELSLOTS <slot> [<slot> ...]",
    "    Delete slots information from current node.",
    "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
    "FAILOVER [FORCE|TAKEOVER]",
    "    Promote current replica node to being a master.",
    "FORGET <node-id>",
    "    Remove a node from the cluster.",
    "GETKEYSINSLOT <slot> <count>",
    "    Return key names stored by current node in a slot.",
    "FLUSHSLOTS",
    "    Delete current node own slots information.",
    "INFO",
    "    Return information about the cluster.",
    "KEYSLOT <key>",
    "    Return the hash slot for <key>.",
    "MEET <ip> <port> [<bus-port>]",
    "    Connect nodes into a working cluster.",
    "MYID",
    "    Return the node id.",
    "NODES",
    "    Return cluster configuration seen by node. Output format:",
    "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
    "REPLICATE <node-id>",
    "    Configure current node as replica to <node-id>.",
    "RESET [HARD|SOFT]",
    "    Reset current node (default: soft).",
    "SET-CONFIG-EPOCH <epoch>",
    "    Set config epoch of current node.",
    "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
    "    Set slot state.",
    "REPLICAS <node-id>",
    "    Return <node-id> replicas.",
    "SAVECONFIG",
    "    Force saving cluster configuration on disk.",
    "SLOTS",
    "    Return information about slots range mappings. Each range is made of:",
    "    start, end, master and replicas IP addresses, ports and ids",
    "SHARDS",
    "    Return information about slot range mappings and the nodes associated with them.",
    "LINKS",
    "    Return information about all network links between this node and its peers.",
    "    Output format is an array where each array element is a map containing attributes of a link",
    "HELP",
    "    Prints this help.",
];

fn cluster_container(_ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    Err(CmdError::WrongArity("cluster".into()))
}

fn cluster_help(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    node_of(ctx)?;
    ctx.out.array(HELP.len());
    for l in HELP {
        ctx.out.simple(l);
    }
    Ok(())
}

fn cluster_info(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    let core = node.core.lock();
    let cs = &core.cs;
    let (mut assigned, mut ok, mut pfail, mut fail) = (0, 0, 0, 0);
    for s in 0..SLOTS {
        if let Some(n) = cs.slot_owner(s) {
            assigned += 1;
            if n.failed() {
                fail += 1;
            } else if n.timed_out() {
                pfail += 1;
            } else {
                ok += 1;
            }
        }
    }
    let me = cs.me();
    let my_epoch = if me.is_slave() {
        cs.nodes().find(|(i, _)| *i == me.replicaof).map_or(me.config_epoch, |(_, m)| m.config_epoch)
    } else {
        me.config_epoch
    };
    use std::fmt::Write as _;
    let mut s = String::with_capacity(512);
    let _ = write!(
        s,
        "cluster_state:{}\r\ncluster_slots_assigned:{assigned}\r\ncluster_slots_ok:{ok}\r\ncluster_slots_pfail:{pfail}\r\n\
         cluster_slots_fail:{fail}\r\ncluster_known_nodes:{}\r\ncluster_size:{}\r\ncluster_current_epoch:{}\r\ncluster_my_epoch:{my_epoch}\r\n",
        if cs.state_ok { "ok" } else { "fail" },
        cs.node_count(),
        cs.size,
        cs.current_epoch,
    );
    drop(core);
    for (dir, stats) in [("sent", &node.sent), ("received", &node.received)] {
        let mut tot = 0;
        for (t, c) in stats.iter().enumerate() {
            let c = c.load(Ordering::Relaxed);
            if c == 0 {
                continue;
            }
            tot += c;
            let _ = write!(s, "cluster_stats_messages_{}_{dir}:{c}\r\n", wire::type_name(t as u16));
        }
        let _ = write!(s, "cluster_stats_messages_{dir}:{tot}\r\n");
    }
    s.push_str("total_cluster_links_buffer_limit_exceeded:0\r\n");
    ctx.out.verbatim(s.as_bytes());
    Ok(())
}

/// The node line of CLUSTER NODES / REPLICAS (clusterGenNodeDescription).
fn node_line(cs: &ClusterState, i: u32, out: &mut String) {
    let n = cs.node(i);
    let master = if n.is_slave() { cs.nodes().find(|(j, _)| *j == n.replicaof).map(|(_, m)| m) } else { None };
    let mut moves = Vec::new();
    if i == cs.myself {
        for s in 0..SLOTS as u16 {
            if let Some(to) = cs.migrating.get(&s) {
                moves.push(SlotMove::Migrating { slot: s, to: *to });
            } else if let Some(from) = cs.importing.get(&s) {
                moves.push(SlotMove::Importing { slot: s, from: *from });
            }
        }
    }
    let line = NodeLine {
        name: n.name,
        ip: n.ip.clone(),
        port: n.port,
        cport: n.cport,
        hostname: n.hostname.clone(),
        flags: n.flags,
        master: master.map(|m| m.name),
        ping_sent: n.ping_sent,
        pong_received: n.pong_received,
        config_epoch: master.map_or(n.config_epoch, |m| m.config_epoch),
        connected: n.link.is_some() || i == cs.myself,
        slots: n.slots.ranges().into_iter().map(|(a, b)| (a as u16, b as u16)).collect(),
        moves,
    };
    nodes_conf::render_line(&line, out);
    out.push('\n');
}

fn cluster_nodes(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    let core = node.core.lock();
    let mut s = String::with_capacity(128 * core.cs.node_count());
    let idx: Vec<u32> = core.cs.nodes().map(|(i, _)| i).collect();
    for i in idx {
        node_line(&core.cs, i, &mut s);
    }
    drop(core);
    ctx.out.verbatim(s.as_bytes());
    Ok(())
}

fn cluster_myid(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    let name = node.core.lock().cs.myself_name();
    ctx.out.bulk(&name.0);
    Ok(())
}

fn endpoint_type(ctx: &Ctx<'_>) -> EndpointType {
    match ctx.shared.config.read().get("cluster-preferred-endpoint-type").unwrap_or("ip") {
        "hostname" => EndpointType::Hostname,
        "unknown-endpoint" => EndpointType::Unknown,
        _ => EndpointType::Ip,
    }
}

/// addNodeToNodeReply (CLUSTER SLOTS).
fn slots_node(out: &mut shoal_resp::ReplyBuf, n: &shoal_cluster::state::Node, et: EndpointType) {
    out.array(4);
    match et {
        EndpointType::Ip => out.bulk_str(&n.ip),
        EndpointType::Hostname => out.bulk_str(if n.hostname.is_empty() { "?" } else { &n.hostname }),
        EndpointType::Unknown => out.null(),
    }
    out.int(n.port as i64);
    out.bulk(&n.name.0);
    let mut len = 0;
    if et != EndpointType::Ip {
        len += 1;
    }
    if et != EndpointType::Hostname && !n.hostname.is_empty() {
        len += 1;
    }
    out.map(len);
    if et != EndpointType::Ip {
        out.bulk_str("ip");
        out.bulk_str(&n.ip);
    }
    if et != EndpointType::Hostname && !n.hostname.is_empty() {
        out.bulk_str("hostname");
        out.bulk_str(&n.hostname);
    }
}

fn replicas_of(cs: &ClusterState, master: u32) -> Vec<u32> {
    cs.nodes().filter(|(_, n)| n.is_slave() && n.replicaof == master).map(|(i, _)| i).collect()
}

fn cluster_slots(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    let et = endpoint_type(ctx);
    let core = node.core.lock();
    let cs = &core.cs;
    // Ranges of consecutive slots with the same owner, in slot order.
    let mut ranges: Vec<(usize, usize, u32)> = Vec::new();
    for s in 0..SLOTS {
        let Some(o) = cs.slot_owner(s) else { continue };
        let oi = cs.lookup(&o.name).unwrap_or(u32::MAX);
        match ranges.last_mut() {
            Some(r) if r.1 + 1 == s && r.2 == oi => r.1 = s,
            _ => ranges.push((s, s, oi)),
        }
    }
    let out = &mut *ctx.out;
    out.array(ranges.len());
    for (a, b, oi) in ranges {
        let reps: Vec<u32> = replicas_of(cs, oi).into_iter().filter(|&r| !cs.node(r).failed() && cs.node(r).repl_offset != 0).collect();
        out.array(3 + reps.len());
        out.int(a as i64);
        out.int(b as i64);
        slots_node(out, cs.node(oi), et);
        for r in reps {
            slots_node(out, cs.node(r), et);
        }
    }
    Ok(())
}

fn cluster_shards(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    let et = endpoint_type(ctx);
    let core = node.core.lock();
    let cs = &core.cs;
    let masters: Vec<u32> = cs.nodes().filter(|(_, n)| n.is_master()).map(|(i, _)| i).collect();
    let out = &mut *ctx.out;
    out.array(masters.len());
    for m in masters {
        let mn = cs.node(m);
        out.map(2);
        out.bulk_str("slots");
        let ranges = mn.slots.ranges();
        out.array(ranges.len() * 2);
        for (a, b) in ranges {
            out.int(a as i64);
            out.int(b as i64);
        }
        out.bulk_str("nodes");
        let mut members = vec![m];
        members.extend(replicas_of(cs, m));
        out.array(members.len());
        for i in members {
            let n = cs.node(i);
            let hostname = !n.hostname.is_empty();
            out.map(if hostname { 8 } else { 7 });
            out.bulk_str("id");
            out.bulk(&n.name.0);
            out.bulk_str("port");
            out.int(n.port as i64);
            out.bulk_str("ip");
            out.bulk_str(&n.ip);
            out.bulk_str("endpoint");
            match et {
                EndpointType::Ip => out.bulk_str(&n.ip),
                EndpointType::Hostname if hostname => out.bulk_str(&n.hostname),
                EndpointType::Hostname => out.bulk_str("?"),
                EndpointType::Unknown => out.bulk_str(""),
            }
            if hostname {
                out.bulk_str("hostname");
                out.bulk_str(&n.hostname);
            }
            out.bulk_str("role");
            out.bulk_str(if n.is_slave() { "replica" } else { "master" });
            out.bulk_str("replication-offset");
            out.int(n.repl_offset as i64);
            out.bulk_str("health");
            out.bulk_str(if n.failed() {
                "fail"
            } else if n.is_slave() && n.repl_offset == 0 {
                "loading"
            } else {
                "online"
            });
        }
    }
    Ok(())
}

fn cluster_links(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    let core = node.core.lock();
    let cs = &core.cs;
    let mut links: Vec<(bool, NodeName, u64)> = Vec::new();
    for (i, n) in cs.nodes() {
        if i == cs.myself {
            continue;
        }
        for (l, inbound) in [(n.link, false), (n.inbound_link, true)] {
            if let Some(l) = l {
                links.push((inbound, n.name, core.link_ctime.get(&l).copied().unwrap_or(0)));
            }
        }
    }
    drop(core);
    let out = &mut *ctx.out;
    out.array(links.len());
    for (inbound, name, ctime) in links {
        out.map(6);
        out.bulk_str("direction");
        out.bulk_str(if inbound { "from" } else { "to" });
        out.bulk_str("node");
        out.bulk(&name.0);
        out.bulk_str("create-time");
        out.int(ctime as i64);
        out.bulk_str("events");
        out.bulk_str("r");
        out.bulk_str("send-buffer-allocated");
        out.int(0);
        out.bulk_str("send-buffer-used");
        out.int(0);
    }
    Ok(())
}

fn cluster_keyslot(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    node_of(ctx)?;
    ctx.out.int(key_slot(args.get(2)) as i64);
    Ok(())
}

fn cluster_countkeysinslot(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    node_of(ctx)?;
    let slot = parse_i64(args.get(2)).map_err(|_| not_int())?;
    if !(0..SLOTS as i64).contains(&slot) {
        return Err(CmdError::err("Invalid slot"));
    }
    let n = ctx.st.ks.dbs[0].slot_len(slot as u16);
    ctx.out.int(n as i64);
    Ok(())
}

fn cluster_getkeysinslot(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    node_of(ctx)?;
    let slot = parse_i64(args.get(2)).map_err(|_| not_int())?;
    let max = parse_i64(args.get(3)).map_err(|_| not_int())?;
    if !(0..SLOTS as i64).contains(&slot) || max < 0 {
        return Err(CmdError::err("Invalid slot or number of keys"));
    }
    let keys = ctx.st.ks.dbs[0].keys_in_slot(slot as u16, max.min(u32::MAX as i64) as usize);
    ctx.out.array(keys.len());
    for k in &keys {
        ctx.out.bulk(k);
    }
    Ok(())
}

fn cluster_meet(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    if args.len() > 5 {
        return Err(bad_sub(args));
    }
    let port_s = args.get(3);
    let port =
        parse_i64(port_s).map_err(|_| CmdError::err(format!("Invalid TCP base port specified: {}", String::from_utf8_lossy(port_s))))?;
    let cport = if args.len() == 5 {
        parse_i64(args.get(4))
            .map_err(|_| CmdError::err(format!("Invalid TCP bus port specified: {}", String::from_utf8_lossy(args.get(4)))))?
    } else {
        port + shoal_cluster::PORT_INCR as i64
    };
    let ip_s = String::from_utf8_lossy(args.get(2)).into_owned();
    let invalid = || CmdError::err(format!("Invalid node address specified: {ip_s}:{}", String::from_utf8_lossy(port_s)));
    let ip: std::net::IpAddr = ip_s.parse().map_err(|_| invalid())?;
    if !(1..=65535).contains(&port) || !(1..=65535).contains(&cport) {
        return Err(invalid());
    }
    let mut core = node.core.lock();
    let c = &mut *core;
    // An already running handshake with the same address is not an error (Redis answers OK).
    let _ = c.cs.meet(&ip.to_string(), port as u16, cport as u16, now_ms(), &mut c.rng);
    drop(core);
    ctx.out.ok();
    Ok(())
}

/// Expands ADDSLOTS / DELSLOTS(RANGE) arguments with Redis's checks in Redis's order.
fn slot_list(cs: &ClusterState, args: Args<'_>, del: bool, ranges: bool) -> Result<Vec<u16>, CmdError> {
    let mut seen = vec![false; SLOTS];
    let mut out = Vec::new();
    let mut check = |s: u16, out: &mut Vec<u16>| -> Result<(), CmdError> {
        let owned = cs.slot_owner(s as usize).is_some();
        if del && !owned {
            return Err(CmdError::err(format!("Slot {s} is already unassigned")));
        } else if !del && owned {
            return Err(CmdError::err(format!("Slot {s} is already busy")));
        }
        if std::mem::replace(&mut seen[s as usize], true) {
            return Err(CmdError::err(format!("Slot {s} specified multiple times")));
        }
        out.push(s);
        Ok(())
    };
    if ranges {
        if args.len() % 2 == 1 {
            return Err(CmdError::WrongArity(format!("cluster|{}", String::from_utf8_lossy(args.get(1)).to_ascii_lowercase())));
        }
        let mut i = 2;
        while i < args.len() {
            let a = slot_arg(args.get(i))?;
            let b = slot_arg(args.get(i + 1))?;
            if a > b {
                return Err(CmdError::err(format!("start slot number {a} is greater than end slot number {b}")));
            }
            for s in a..=b {
                check(s, &mut out)?;
            }
            i += 2;
        }
    } else {
        for i in 2..args.len() {
            slot_arg(args.get(i))?;
        }
        for i in 2..args.len() {
            check(slot_arg(args.get(i))?, &mut out)?;
        }
    }
    Ok(out)
}

fn slots_cmd(ctx: &mut Ctx<'_>, args: Args<'_>, del: bool, ranges: bool) -> CmdResult {
    let node = node_of(ctx)?;
    let mut core = node.core.lock();
    let slots = slot_list(&core.cs, args, del, ranges)?;
    let now = now_ms();
    let outs = if del { core.cs.del_slots(&slots, now) } else { core.cs.add_slots(&slots, now) }.map_err(CmdError::err)?;
    finish(ctx, node, core, outs);
    ctx.out.ok();
    Ok(())
}

fn cluster_addslots(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    slots_cmd(ctx, args, false, false)
}
fn cluster_delslots(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    slots_cmd(ctx, args, true, false)
}
fn cluster_addslotsrange(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    slots_cmd(ctx, args, false, true)
}
fn cluster_delslotsrange(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    slots_cmd(ctx, args, true, true)
}

fn cluster_flushslots(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    if !ctx.st.ks.dbs[0].is_empty() {
        return Err(CmdError::err("DB must be empty to perform CLUSTER FLUSHSLOTS."));
    }
    let mut core = node.core.lock();
    let mine: Vec<u16> = core.cs.me().slots.iter().map(|s| s as u16).collect();
    let outs = if mine.is_empty() { Vec::new() } else { core.cs.del_slots(&mine, now_ms()).map_err(CmdError::err)? };
    finish(ctx, node, core, outs);
    ctx.out.ok();
    Ok(())
}

fn cluster_forget(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    let mut core = node.core.lock();
    let unknown = || CmdError::err(format!("Unknown node {}", String::from_utf8_lossy(args.get(2))));
    let name = lookup(&core.cs, args.get(2)).ok_or_else(unknown)?;
    let outs = core.cs.forget(&name, now_ms()).map_err(CmdError::err)?;
    finish(ctx, node, core, outs);
    ctx.out.ok();
    Ok(())
}

fn cluster_reset(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    if args.len() > 3 {
        return Err(bad_sub(args));
    }
    let mut hard = false;
    if args.len() == 3 {
        if eq_ic(args.get(2), "hard") {
            hard = true;
        } else if !eq_ic(args.get(2), "soft") {
            return Err(CmdError::Syntax);
        }
    }
    let mut core = node.core.lock();
    if core.cs.me().is_master() && !ctx.st.ks.dbs[ctx.client.db].is_empty() {
        return Err(CmdError::err("CLUSTER RESET can't be called with master nodes containing keys"));
    }
    let c = &mut *core;
    let outs = c.cs.reset(hard, now_ms(), &mut c.rng);
    if hard {
        (node.log)(LOG_WARNING, &format!("Node hard reset, now I'm {:.40}", c.cs.myself_name().as_str()));
    }
    finish(ctx, node, core, outs);
    ctx.out.ok();
    Ok(())
}

fn cluster_saveconfig(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    let core = node.core.lock();
    node.save(&core).map_err(|e| CmdError::err(format!("error saving the cluster node config: {e}")))?;
    drop(core);
    ctx.out.ok();
    Ok(())
}

fn cluster_set_config_epoch(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    let epoch = parse_i64(args.get(2)).map_err(|_| not_int())?;
    let mut core = node.core.lock();
    let outs = core.cs.set_config_epoch(epoch, now_ms()).map_err(CmdError::err)?;
    (node.log)(LOG_WARNING, &format!("configEpoch set to {epoch} via CLUSTER SET-CONFIG-EPOCH"));
    finish(ctx, node, core, outs);
    ctx.out.ok();
    Ok(())
}

fn cluster_bumpepoch(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    let mut core = node.core.lock();
    let (bumped, epoch, outs) = core.cs.bump_epoch(now_ms());
    finish(ctx, node, core, outs);
    ctx.out.simple(&format!("{} {epoch}", if bumped { "BUMPED" } else { "STILL" }));
    Ok(())
}

fn cluster_count_failure_reports(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    let mut core = node.core.lock();
    let unknown = || CmdError::err(format!("Unknown node {}", String::from_utf8_lossy(args.get(2))));
    let name = lookup(&core.cs, args.get(2)).ok_or_else(unknown)?;
    let n = core.cs.failure_reports_count(&name, now_ms()).unwrap_or(0);
    drop(core);
    ctx.out.int(n as i64);
    Ok(())
}

fn cluster_setslot(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    let mut core = node.core.lock();
    if core.cs.me().is_slave() {
        return Err(CmdError::err("Please use SETSLOT only with masters."));
    }
    let slot = slot_arg(args.get(2))?;
    let action = args.get(3);
    let argc = args.len();
    let cs = &core.cs;
    let owner_is_me = cs.slot_owner(slot as usize).map(|n| n.name) == Some(cs.myself_name());
    let target = |what: &str| -> Result<NodeName, CmdError> {
        let name = lookup(cs, args.get(4)).ok_or_else(|| CmdError::err(format!("{what} {}", String::from_utf8_lossy(args.get(4)))))?;
        if cs.get(&name).is_some_and(|n| n.is_slave()) {
            return Err(CmdError::err("Target node is not a master"));
        }
        Ok(name)
    };
    let act = if eq_ic(action, "migrating") && argc == 5 {
        if !owner_is_me {
            return Err(CmdError::err(format!("I'm not the owner of hash slot {slot}")));
        }
        SetSlot::Migrating(target("I don't know about node")?)
    } else if eq_ic(action, "importing") && argc == 5 {
        if owner_is_me {
            return Err(CmdError::err(format!("I'm already the owner of hash slot {slot}")));
        }
        SetSlot::Importing(target("I don't know about node")?)
    } else if eq_ic(action, "stable") && argc == 4 {
        SetSlot::Stable
    } else if eq_ic(action, "node") && argc == 5 {
        SetSlot::Node(target("Unknown node")?)
    } else {
        return Err(CmdError::err("Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP"));
    };
    let keys = ctx.st.ks.dbs[0].slot_len(slot) as u64;
    let was_importing_to_me = matches!(&act, SetSlot::Node(n) if *n == core.cs.myself_name()) && core.cs.importing.contains_key(&slot);
    let now = now_ms();
    let mut outs = core.cs.set_slot(slot, act, keys, now).map_err(CmdError::err)?;
    if was_importing_to_me {
        (node.log)(LOG_WARNING, &format!("configEpoch updated after importing slot {slot}"));
        let c = &mut *core;
        outs.extend(c.cs.broadcast_pong(now, &mut c.rng));
    }
    finish(ctx, node, core, outs);
    ctx.out.ok();
    Ok(())
}

fn cluster_replicas(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    let core = node.core.lock();
    let cs = &core.cs;
    let unknown = || CmdError::err(format!("Unknown node {}", String::from_utf8_lossy(args.get(2))));
    let name = lookup(cs, args.get(2)).ok_or_else(unknown)?;
    let i = cs.lookup(&name).ok_or_else(unknown)?;
    if cs.node(i).is_slave() {
        return Err(CmdError::err("The specified node is not a master"));
    }
    let reps = replicas_of(cs, i);
    let mut lines = Vec::with_capacity(reps.len());
    for r in reps {
        let mut s = String::new();
        node_line(cs, r, &mut s);
        s.pop();
        lines.push(s);
    }
    drop(core);
    ctx.out.array(lines.len());
    for l in lines {
        ctx.out.bulk(l.as_bytes());
    }
    Ok(())
}

fn cluster_replicate(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    let core = node.core.lock();
    let cs = &core.cs;
    let name = lookup(cs, args.get(2)).ok_or_else(|| CmdError::err(format!("Unknown node {}", String::from_utf8_lossy(args.get(2)))))?;
    if name == cs.myself_name() {
        return Err(CmdError::err("Can't replicate myself"));
    }
    if cs.get(&name).is_some_and(|n| n.is_slave()) {
        return Err(CmdError::err("I can only replicate a master, not a replica."));
    }
    if cs.me().is_master() && (cs.me().numslots != 0 || !ctx.st.ks.dbs[0].is_empty()) {
        return Err(CmdError::err("To set a master the node must be empty and without assigned slots."));
    }
    Err(CmdError::err("Shoal does not support replicas in cluster mode yet"))
}

fn cluster_failover(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let node = node_of(ctx)?;
    if args.len() > 3 {
        return Err(bad_sub(args));
    }
    if args.len() == 3 && !eq_ic(args.get(2), "force") && !eq_ic(args.get(2), "takeover") {
        return Err(CmdError::Syntax);
    }
    let core = node.core.lock();
    if core.cs.me().is_master() {
        return Err(CmdError::err("You should send CLUSTER FAILOVER to a replica"));
    }
    Err(CmdError::err("Shoal does not support replicas in cluster mode yet"))
}

fn readonly(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    node_of(ctx)?;
    ctx.client.readonly = true;
    ctx.out.ok();
    Ok(())
}

fn readwrite(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    node_of(ctx)?;
    ctx.client.readonly = false;
    ctx.out.ok();
    Ok(())
}

fn asking(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    node_of(ctx)?;
    ctx.client.asking = true;
    ctx.out.ok();
    Ok(())
}

const A: u32 = ADMIN | STALE;
const AN: u32 = ADMIN | STALE | NO_ASYNC_LOADING;

macro_rules! sub {
    ($name:expr, $arity:expr, $flags:expr, $h:expr, $summary:expr, $since:expr) => {
        CommandDef { summary: $summary, since: $since, ..CommandDef::new($name, $arity, $flags, (0, 0, 0), "cluster", $h) }
    };
}

static SUBCOMMANDS: &[CommandDef] = &[
    sub!("addslots", -3, AN, cluster_addslots, "Assigns new hash slots to a node.", "3.0.0"),
    sub!("addslotsrange", -4, AN, cluster_addslotsrange, "Assigns new hash slot ranges to a node.", "7.0.0"),
    sub!("bumpepoch", 2, AN, cluster_bumpepoch, "Advances the cluster config epoch.", "3.0.0"),
    sub!(
        "count-failure-reports",
        3,
        A,
        cluster_count_failure_reports,
        "Returns the number of active failure reports active for a node.",
        "3.0.0"
    ),
    sub!("countkeysinslot", 3, STALE, cluster_countkeysinslot, "Returns the number of keys in a hash slot.", "3.0.0"),
    sub!("delslots", -3, AN, cluster_delslots, "Sets hash slots as unbound for a node.", "3.0.0"),
    sub!("delslotsrange", -4, AN, cluster_delslotsrange, "Sets hash slot ranges as unbound for a node.", "7.0.0"),
    sub!("failover", -2, AN, cluster_failover, "Forces a replica to perform a manual failover of its master.", "3.0.0"),
    sub!("flushslots", 2, AN, cluster_flushslots, "Deletes all slots information from a node.", "3.0.0"),
    sub!("forget", 3, AN, cluster_forget, "Removes a node from the nodes table.", "3.0.0"),
    sub!("getkeysinslot", 4, STALE, cluster_getkeysinslot, "Returns the key names in a hash slot.", "3.0.0"),
    sub!("help", 2, LOADING | STALE, cluster_help, "Returns helpful text about the different subcommands.", "5.0.0"),
    sub!("info", 2, STALE, cluster_info, "Returns information about the state of a node.", "3.0.0"),
    sub!("keyslot", 3, STALE, cluster_keyslot, "Returns the hash slot for a key.", "3.0.0"),
    sub!("links", 2, STALE, cluster_links, "Returns a list of all TCP links to and from peer nodes.", "7.0.0"),
    sub!("meet", -4, AN, cluster_meet, "Forces a node to handshake with another node.", "3.0.0"),
    sub!("myid", 2, STALE, cluster_myid, "Returns the ID of a node.", "3.0.0"),
    sub!("nodes", 2, STALE, cluster_nodes, "Returns the cluster configuration for a node.", "3.0.0"),
    sub!("replicas", 3, A, cluster_replicas, "Lists the replica nodes of a master node.", "5.0.0"),
    sub!("replicate", 3, AN, cluster_replicate, "Configure a node as replica of a master node.", "3.0.0"),
    sub!("reset", -2, ADMIN | NOSCRIPT | STALE, cluster_reset, "Resets a node.", "3.0.0"),
    sub!("saveconfig", 2, AN, cluster_saveconfig, "Forces a node to save the cluster configuration to disk.", "3.0.0"),
    sub!("set-config-epoch", 3, AN, cluster_set_config_epoch, "Sets the configuration epoch for a new node.", "3.0.0"),
    sub!("setslot", -4, AN, cluster_setslot, "Binds a hash slot to a node.", "3.0.0"),
    sub!("shards", 2, STALE, cluster_shards, "Returns the mapping of cluster slots to shards.", "7.0.0"),
    sub!("slaves", 3, A, cluster_replicas, "Lists the replica nodes of a master node.", "3.0.0"),
    sub!("slots", 2, STALE, cluster_slots, "Returns the mapping of cluster slots to nodes.", "3.0.0"),
];

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "A container for Redis Cluster commands.",
        since: "3.0.0",
        complexity: "Depends on subcommand.",
        subcommands: SUBCOMMANDS,
        ..CommandDef::new("cluster", -2, 0, (0, 0, 0), "cluster", cluster_container)
    },
    CommandDef {
        summary: "Enables read-only queries for a connection to a Redis Cluster replica node.",
        since: "3.0.0",
        complexity: "O(1)",
        ..CommandDef::new("readonly", 1, LOADING | STALE | FAST, (0, 0, 0), "cluster", readonly)
    },
    CommandDef {
        summary: "Enables read-write queries for a connection to a Reids Cluster replica node.",
        since: "3.0.0",
        complexity: "O(1)",
        ..CommandDef::new("readwrite", 1, LOADING | STALE | FAST, (0, 0, 0), "cluster", readwrite)
    },
    CommandDef {
        summary: "Signals that a cluster client is following an -ASK redirect.",
        since: "3.0.0",
        complexity: "O(1)",
        ..CommandDef::new("asking", 1, FAST, (0, 0, 0), "cluster", asking)
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use shoal_cluster::state::Config;

    #[test]
    fn routing_copy_of_state() {
        let mut rng = SplitMix64(7);
        let mut cs = ClusterState::new(Config { port: 7000, cport: 17000, ..Config::default() }, 1000, &mut rng);
        cs.add_slots(&[0, 1, 5], 1000).expect("add");
        let r = build_routing(&cs);
        assert_eq!(r.owner[0], r.myself);
        assert_eq!(r.owner[5], r.myself);
        assert_eq!(r.owner[2], NO_NODE);
        assert_eq!(r.nodes[r.myself as usize].port, 7000);
    }
}
