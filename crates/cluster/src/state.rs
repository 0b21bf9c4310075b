//! The cluster node state machine, modelled on cluster.c of redis-server 7.0 (the `cluster_legacy.c` of
//! later versions).
//!
//! What Redis does: every node keeps a table of known nodes (flags, address, configEpoch, slot bitmap,
//! master, ping/pong times, failure reports) and a slot -> owner table, and runs `clusterCron` every 100 ms
//! (connect links, ping a random node each second and any node whose pong is older than node_timeout/2,
//! flag PFAIL when a ping waits longer than node_timeout, drop stale handshakes) plus `clusterProcessPacket`
//! for each bus message (MEET/PING -> PONG, handshake completion by renaming the random-named handshake
//! node, node discovery from gossip, failure reports -> FAIL with a majority of masters, FAIL broadcast,
//! epoch updates, configEpoch collision handling, slot ownership by highest configEpoch, UPDATE to stale
//! senders). Side effects happen through sockets, the clock, random() and `clusterDoBeforeSleep` flags.
//!
//! What we do: the same algorithms as a pure state machine. Time (`now_ms`) and randomness ([`Rng`]) are
//! injected; every effect is an [`Output`] returned to the caller (send a message on a link, open or close
//! a link, persist nodes.conf, cluster state changes, ...). Links are identified by [`LinkId`]s that the
//! state machine allocates: an outbound link comes from an `Output::Connect` (the driver answers with
//! [`ClusterState::link_connected`] or [`ClusterState::link_closed`]), an inbound link from
//! [`ClusterState::accept_link`]. Nodes live in a slab indexed by [`NodeIdx`] (Redis's clusterNode
//! pointers), names map to indexes, and the slot table stores indexes. Deterministic: iteration is in
//! index order and all random choices come from the injected Rng, so a simulation replays exactly.
//!
//! Not done yet (message types decode, handlers ignore them): replica failover (FAILOVER_AUTH_REQUEST/ACK,
//! MFSTART, manual failover, replica migration, orphaned masters), PUBLISH is surfaced to the driver as an
//! output but has no subscriber logic here. Differences from Redis: myself's IP is learned from the local
//! address the driver reports for inbound links (Redis uses getsockname on the MEET link, the same value);
//! gossip entries whose name is not 40 hex chars are ignored (a defensive check).

use crate::nodes_conf::{NodeLine, NodesConf, SlotMove};
use crate::wire::{self, Body, Gossip, Header, Message, PingExt};
use crate::{flags, NodeName, Rng, SlotBitmap, SLOTS};
use std::collections::{BTreeMap, HashMap};

pub type LinkId = u64;
pub type NodeIdx = u32;
const NONE: NodeIdx = u32::MAX;

/// CLUSTER_FAIL_REPORT_VALIDITY_MULT
pub const FAIL_REPORT_VALIDITY_MULT: u64 = 2;
/// CLUSTER_FAIL_UNDO_TIME_MULT
pub const FAIL_UNDO_TIME_MULT: u64 = 2;
/// CLUSTER_BLACKLIST_TTL (seconds) for CLUSTER FORGET.
pub const BLACKLIST_TTL_MS: u64 = 60_000;
pub const MAX_REJOIN_DELAY: u64 = 5000;
pub const MIN_REJOIN_DELAY: u64 = 500;
pub const WRITABLE_DELAY: u64 = 2000;
/// clusterCron period.
pub const CRON_PERIOD_MS: u64 = 100;

#[derive(Clone, Debug)]
pub struct Config {
    /// cluster-node-timeout (ms).
    pub node_timeout: u64,
    /// cluster-require-full-coverage.
    pub require_full_coverage: bool,
    /// Announced client port, plaintext port (TLS only, else 0) and bus port.
    pub port: u16,
    pub pport: u16,
    pub cport: u16,
    /// cluster-announce-ip (sent as myip; disables IP learning).
    pub announce_ip: Option<String>,
    /// cluster-announce-hostname (sent as the HOSTNAME ping extension when non-empty).
    pub hostname: String,
    /// cluster-allow-replica-migration.
    pub allow_replica_migration: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            node_timeout: 15000,
            require_full_coverage: true,
            port: 6379,
            pport: 0,
            cport: 16379,
            announce_ip: None,
            hostname: String::new(),
            allow_replica_migration: true,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Node {
    pub name: NodeName,
    pub flags: u16,
    pub ip: String,
    pub port: u16,
    pub pport: u16,
    pub cport: u16,
    pub hostname: String,
    pub config_epoch: u64,
    pub slots: SlotBitmap,
    pub numslots: usize,
    pub replicaof: NodeIdx,
    pub ctime: u64,
    pub ping_sent: u64,
    pub pong_received: u64,
    pub data_received: u64,
    pub fail_time: u64,
    pub repl_offset: u64,
    pub link: Option<LinkId>,
    pub inbound_link: Option<LinkId>,
    /// (reporter, time of last report)
    pub fail_reports: Vec<(NodeIdx, u64)>,
}

impl Node {
    fn new(name: NodeName, flags: u16, now: u64) -> Node {
        Node {
            name,
            flags,
            ip: String::new(),
            port: 0,
            pport: 0,
            cport: 0,
            hostname: String::new(),
            config_epoch: 0,
            slots: SlotBitmap::default(),
            numslots: 0,
            replicaof: NONE,
            ctime: now,
            ping_sent: 0,
            pong_received: 0,
            data_received: 0,
            fail_time: 0,
            repl_offset: 0,
            link: None,
            inbound_link: None,
            fail_reports: Vec::new(),
        }
    }
    pub fn is_master(&self) -> bool {
        self.flags & flags::MASTER != 0
    }
    pub fn is_slave(&self) -> bool {
        self.flags & flags::SLAVE != 0
    }
    pub fn in_handshake(&self) -> bool {
        self.flags & flags::HANDSHAKE != 0
    }
    pub fn timed_out(&self) -> bool {
        self.flags & flags::PFAIL != 0
    }
    pub fn failed(&self) -> bool {
        self.flags & flags::FAIL != 0
    }
}

#[derive(Clone, Debug)]
struct Link {
    node: NodeIdx,
    inbound: bool,
    ctime: u64,
    /// Remote address (for nodeIp2String when the sender announces no IP).
    peer_ip: String,
    /// Our local address on this link (myself's IP learning on MEET).
    local_ip: String,
}

/// What the driver must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Open a TCP connection to ip:cport for this outbound link; report with `link_connected`/`link_closed`.
    Connect { link: LinkId, ip: String, cport: u16 },
    /// Send on a link (buffer it if the link is still connecting).
    Send { link: LinkId, msg: Message },
    /// Close the link (the state machine already forgot it).
    Close { link: LinkId },
    /// Persist nodes.conf (render [`ClusterState::to_nodes_conf`], write atomically, fsync).
    SaveConfig,
    /// The cluster state (CLUSTER INFO cluster_state) changed.
    StateChanged { ok: bool },
    /// We lost ownership of a slot to a node with a greater configEpoch: delete its keys, if any
    /// (Redis's dirty slots in clusterUpdateSlotsConfigWith).
    SlotLost { slot: u16 },
    /// Myself became a replica of this node (Redis's clusterSetMaster): start replicating.
    BecomeReplicaOf { master: NodeName },
    /// A PUBLISH / PUBLISHSHARD arrived from the bus: deliver to local subscribers.
    Publish { channel: Vec<u8>, message: Vec<u8>, shard: bool },
    /// A MODULE message arrived.
    Module { sender: NodeName, module_id: u64, module_type: u8, payload: Vec<u8> },
}

pub struct ClusterState {
    pub cfg: Config,
    pub myself: NodeIdx,
    slab: Vec<Option<Node>>,
    free: Vec<NodeIdx>,
    names: HashMap<NodeName, NodeIdx>,
    /// Live node indexes, for uniform random picks (dictGetRandomKey).
    order: Vec<NodeIdx>,
    pub current_epoch: u64,
    pub last_vote_epoch: u64,
    slots: Vec<NodeIdx>,
    pub importing: BTreeMap<u16, NodeName>,
    pub migrating: BTreeMap<u16, NodeName>,
    pub state_ok: bool,
    /// Number of masters serving at least one slot (computed by update_state).
    pub size: usize,
    blacklist: BTreeMap<NodeName, u64>,
    links: BTreeMap<LinkId, Link>,
    next_link: LinkId,
    iteration: u64,
    stats_pfail_nodes: usize,
    first_call_time: u64,
    among_minority_time: u64,
    todo_save: bool,
    todo_update: bool,
    out: Vec<Output>,
}

impl ClusterState {
    /// A fresh node (clusterInit without nodes.conf): myself with a random name, master, no slots.
    pub fn new(cfg: Config, now: u64, rng: &mut dyn Rng) -> ClusterState {
        let name = NodeName::random(rng);
        let mut st = ClusterState::empty(cfg);
        let me = st.add_node(Node::new(name, flags::MYSELF | flags::MASTER, now));
        st.myself = me;
        st.apply_my_ports();
        st
    }

    fn empty(cfg: Config) -> ClusterState {
        ClusterState {
            cfg,
            myself: NONE,
            slab: Vec::new(),
            free: Vec::new(),
            names: HashMap::new(),
            order: Vec::new(),
            current_epoch: 0,
            last_vote_epoch: 0,
            slots: vec![NONE; SLOTS],
            importing: BTreeMap::new(),
            migrating: BTreeMap::new(),
            state_ok: false,
            size: 1,
            blacklist: BTreeMap::new(),
            links: BTreeMap::new(),
            next_link: 1,
            iteration: 0,
            stats_pfail_nodes: 0,
            first_call_time: 0,
            among_minority_time: 0,
            todo_save: false,
            todo_update: false,
            out: Vec::new(),
        }
    }

    fn apply_my_ports(&mut self) {
        let (port, pport, cport) = (self.cfg.port, self.cfg.pport, self.cfg.cport);
        let hostname = self.cfg.hostname.clone();
        let announce = self.cfg.announce_ip.clone();
        let me = self.me_mut();
        me.port = port;
        me.pport = pport;
        me.cport = cport;
        me.hostname = hostname;
        if let Some(ip) = announce {
            me.ip = ip;
        }
    }

    // ---------------------------------------------------------------- accessors

    pub fn node(&self, i: NodeIdx) -> &Node {
        self.slab[i as usize].as_ref().expect("live node index")
    }
    fn node_mut(&mut self, i: NodeIdx) -> &mut Node {
        self.slab[i as usize].as_mut().expect("live node index")
    }
    pub fn me(&self) -> &Node {
        self.node(self.myself)
    }
    fn me_mut(&mut self) -> &mut Node {
        let m = self.myself;
        self.node_mut(m)
    }
    pub fn myself_name(&self) -> NodeName {
        self.me().name
    }
    pub fn lookup(&self, name: &NodeName) -> Option<NodeIdx> {
        self.names.get(name).copied()
    }
    pub fn get(&self, name: &NodeName) -> Option<&Node> {
        self.lookup(name).map(|i| self.node(i))
    }
    /// All known nodes, in index order.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeIdx, &Node)> {
        self.slab.iter().enumerate().filter_map(|(i, n)| n.as_ref().map(|n| (i as NodeIdx, n)))
    }
    pub fn node_count(&self) -> usize {
        self.order.len()
    }
    /// Owner of a slot.
    pub fn slot_owner(&self, slot: usize) -> Option<&Node> {
        match self.slots[slot] {
            NONE => None,
            i => Some(self.node(i)),
        }
    }
    pub fn slot_owner_name(&self, slot: usize) -> Option<NodeName> {
        self.slot_owner(slot).map(|n| n.name)
    }
    /// The count of valid failure reports about a node (CLUSTER COUNT-FAILURE-REPORTS).
    pub fn failure_reports_count(&mut self, name: &NodeName, now: u64) -> Option<usize> {
        let i = self.lookup(name)?;
        Some(self.fail_reports_count(i, now))
    }

    // ---------------------------------------------------------------- node table

    fn add_node(&mut self, n: Node) -> NodeIdx {
        let name = n.name;
        let i = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = Some(n);
                i
            }
            None => {
                self.slab.push(Some(n));
                (self.slab.len() - 1) as NodeIdx
            }
        };
        self.names.insert(name, i);
        self.order.push(i);
        i
    }

    /// clusterDelNode: forget slots pointing to it, its failure reports, links; free it.
    fn del_node(&mut self, i: NodeIdx) {
        for s in 0..SLOTS {
            if self.slots[s] == i {
                // clusterDelNode only clears importing/migrating; the slot bits go with the node in
                // freeClusterNode -> the owner table is cleaned by clusterDelNodeSlots.
                self.slots[s] = NONE;
            }
        }
        let name = self.node(i).name;
        self.importing.retain(|_, n| *n != name);
        self.migrating.retain(|_, n| *n != name);
        for j in self.order.clone() {
            let other = self.node_mut(j);
            other.fail_reports.retain(|(r, _)| *r != i);
            if other.replicaof == i {
                other.replicaof = NONE;
            }
        }
        let (l1, l2) = (self.node(i).link, self.node(i).inbound_link);
        if let Some(l) = l1 {
            self.free_link(l);
        }
        if let Some(l) = l2 {
            self.free_link(l);
        }
        self.names.remove(&name);
        if let Some(p) = self.order.iter().position(|&x| x == i) {
            self.order.swap_remove(p);
        }
        self.slab[i as usize] = None;
        self.free.push(i);
    }

    /// clusterRenameNode
    fn rename_node(&mut self, i: NodeIdx, name: NodeName) {
        let old = self.node(i).name;
        self.names.remove(&old);
        self.node_mut(i).name = name;
        self.names.insert(name, i);
    }

    fn free_link(&mut self, l: LinkId) {
        if let Some(link) = self.links.remove(&l) {
            if link.node != NONE {
                if let Some(n) = self.slab.get_mut(link.node as usize).and_then(|n| n.as_mut()) {
                    if n.link == Some(l) {
                        n.link = None;
                    }
                    if n.inbound_link == Some(l) {
                        n.inbound_link = None;
                    }
                }
            }
            self.out.push(Output::Close { link: l });
        }
    }

    fn blacklist_cleanup(&mut self, now: u64) {
        self.blacklist.retain(|_, exp| *exp >= now / 1000 * 1000);
    }
    fn blacklisted(&mut self, name: &NodeName, now: u64) -> bool {
        self.blacklist_cleanup(now);
        self.blacklist.contains_key(name)
    }

    // ---------------------------------------------------------------- slots

    fn add_slot(&mut self, i: NodeIdx, slot: usize) -> bool {
        if self.slots[slot] != NONE {
            return false;
        }
        let n = self.node_mut(i);
        if !n.slots.get(slot) {
            n.slots.set(slot);
            n.numslots += 1;
        }
        self.slots[slot] = i;
        true
    }

    fn del_slot(&mut self, slot: usize) -> bool {
        let i = self.slots[slot];
        if i == NONE {
            return false;
        }
        let n = self.node_mut(i);
        if n.slots.get(slot) {
            n.slots.clear(slot);
            n.numslots -= 1;
        }
        self.slots[slot] = NONE;
        true
    }

    fn del_node_slots(&mut self, i: NodeIdx) {
        for s in 0..SLOTS {
            if self.slots[s] == i {
                self.del_slot(s);
            }
        }
    }

    fn max_epoch(&self) -> u64 {
        self.nodes().map(|(_, n)| n.config_epoch).max().unwrap_or(0).max(self.current_epoch)
    }

    fn save(&mut self) {
        self.todo_save = true;
    }
    fn update(&mut self) {
        self.todo_update = true;
    }

    // ---------------------------------------------------------------- links (driver API)

    fn new_link_id(&mut self) -> LinkId {
        let l = self.next_link;
        self.next_link += 1;
        l
    }

    /// An inbound bus connection was accepted. `peer_ip`: the remote address; `local_ip`: our address on it.
    pub fn accept_link(&mut self, peer_ip: &str, local_ip: &str, now: u64) -> LinkId {
        let l = self.new_link_id();
        self.links.insert(l, Link { node: NONE, inbound: true, ctime: now, peer_ip: peer_ip.to_string(), local_ip: local_ip.to_string() });
        l
    }

    /// An outbound link from `Output::Connect` is established (clusterLinkConnectHandler): send MEET or PING.
    pub fn link_connected(&mut self, l: LinkId, local_ip: &str, now: u64, rng: &mut dyn Rng) -> Vec<Output> {
        let Some(link) = self.links.get_mut(&l) else { return Vec::new() };
        link.local_ip = local_ip.to_string();
        let i = link.node;
        if i != NONE {
            let old_ping_sent = self.node(i).ping_sent;
            let t = if self.node(i).flags & flags::MEET != 0 { wire::TYPE_MEET } else { wire::TYPE_PING };
            self.send_ping(l, t, now, rng);
            if old_ping_sent != 0 {
                self.node_mut(i).ping_sent = old_ping_sent;
            }
            self.node_mut(i).flags &= !flags::MEET;
        }
        self.finish(now)
    }

    /// A link failed to connect or was closed by the peer / an I/O error (handleLinkIOError).
    pub fn link_closed(&mut self, l: LinkId, now: u64) -> Vec<Output> {
        if let Some(link) = self.links.remove(&l) {
            if link.node != NONE {
                if let Some(n) = self.slab.get_mut(link.node as usize).and_then(|n| n.as_mut()) {
                    if n.link == Some(l) {
                        n.link = None;
                        // The synchronous connect error path: failure detection needs a ping time.
                        if n.ping_sent == 0 {
                            n.ping_sent = now;
                        }
                    }
                    if n.inbound_link == Some(l) {
                        n.inbound_link = None;
                    }
                }
            }
        }
        self.finish(now)
    }

    fn finish(&mut self, now: u64) -> Vec<Output> {
        if self.todo_update {
            self.todo_update = false;
            self.update_state(now);
        }
        if self.todo_save {
            self.todo_save = false;
            self.out.push(Output::SaveConfig);
        }
        std::mem::take(&mut self.out)
    }

    // ---------------------------------------------------------------- messages out

    /// clusterBuildMessageHdr
    pub fn build_header(&self, msg_type: u16) -> Header {
        let me = self.me();
        let master = if me.is_slave() && me.replicaof != NONE { self.node(me.replicaof) } else { me };
        let mut h = Header::new(msg_type, me.name);
        if let Some(ip) = &self.cfg.announce_ip {
            h.myip = wire::ip_field(ip.as_bytes());
        }
        h.port = self.cfg.port;
        h.pport = self.cfg.pport;
        h.cport = self.cfg.cport;
        h.myslots = master.slots.clone();
        if me.replicaof != NONE {
            h.slaveof = self.node(me.replicaof).name;
        }
        h.flags = me.flags;
        h.state = if self.state_ok { wire::STATE_OK } else { wire::STATE_FAIL };
        h.current_epoch = self.current_epoch;
        h.config_epoch = master.config_epoch;
        h.offset = me.repl_offset;
        h
    }

    fn gossip_entry(n: &Node) -> Gossip {
        Gossip {
            nodename: n.name,
            ping_sent: (n.ping_sent / 1000) as u32,
            pong_received: (n.pong_received / 1000) as u32,
            ip: wire::ip_field(n.ip.as_bytes()),
            port: n.port,
            cport: n.cport,
            flags: n.flags,
            pport: n.pport,
            notused1: 0,
        }
    }

    /// clusterSendPing: PING, PONG or MEET with gossip about max(3, N/10) random nodes plus all PFAIL ones.
    fn send_ping(&mut self, l: LinkId, msg_type: u16, now: u64, rng: &mut dyn Rng) {
        let total = self.order.len() as i64;
        let mut freshnodes = total - 2;
        let mut wanted = (total / 10).max(3);
        if wanted > freshnodes {
            wanted = freshnodes;
        }
        let mut pfail_wanted = self.stats_pfail_nodes;
        let link_node = self.links.get(&l).map(|x| x.node).unwrap_or(NONE);
        if link_node != NONE && msg_type == wire::TYPE_PING {
            self.node_mut(link_node).ping_sent = now;
        }
        let hdr = self.build_header(msg_type);
        let mut gossip: Vec<Gossip> = Vec::new();
        let mut maxiterations = wanted * 3;
        while freshnodes > 0 && (gossip.len() as i64) < wanted && maxiterations > 0 {
            maxiterations -= 1;
            let i = self.order[rng.below(self.order.len() as u64) as usize];
            if i == self.myself {
                continue;
            }
            let n = self.node(i);
            if n.flags & flags::PFAIL != 0 {
                continue;
            }
            if n.flags & (flags::HANDSHAKE | flags::NOADDR) != 0 || (n.link.is_none() && n.numslots == 0) {
                freshnodes -= 1;
                continue;
            }
            if gossip.iter().any(|g| g.nodename == n.name) {
                continue;
            }
            gossip.push(Self::gossip_entry(n));
            freshnodes -= 1;
        }
        if pfail_wanted > 0 {
            for (_, n) in self.nodes() {
                if pfail_wanted == 0 {
                    break;
                }
                if n.flags & (flags::HANDSHAKE | flags::NOADDR) != 0 || n.flags & flags::PFAIL == 0 {
                    continue;
                }
                gossip.push(Self::gossip_entry(n));
                pfail_wanted -= 1;
            }
        }
        let mut exts = Vec::new();
        if !self.cfg.hostname.is_empty() {
            exts.push(PingExt::Hostname(self.cfg.hostname.as_bytes().to_vec()));
        }
        self.out.push(Output::Send { link: l, msg: Message { hdr, body: Body::Ping { gossip, exts } } });
    }

    /// clusterBroadcastMessage: to every node with an outbound link, except myself and handshake nodes.
    fn broadcast(&mut self, msg: Message) {
        let targets: Vec<LinkId> =
            self.nodes().filter(|(i, n)| *i != self.myself && n.flags & flags::HANDSHAKE == 0).filter_map(|(_, n)| n.link).collect();
        for l in targets {
            self.out.push(Output::Send { link: l, msg: msg.clone() });
        }
    }

    fn send_fail(&mut self, about: NodeName) {
        let hdr = self.build_header(wire::TYPE_FAIL);
        self.broadcast(Message { hdr, body: Body::Fail { about } });
    }

    fn send_update(&mut self, link: Option<LinkId>, about: NodeIdx) {
        let Some(l) = link else { return };
        let n = self.node(about);
        let body = Body::Update { config_epoch: n.config_epoch, nodename: n.name, slots: n.slots.clone() };
        let hdr = self.build_header(wire::TYPE_UPDATE);
        self.out.push(Output::Send { link: l, msg: Message { hdr, body } });
    }

    /// clusterBroadcastPong (to all nodes; used after configuration changes).
    pub fn broadcast_pong(&mut self, now: u64, rng: &mut dyn Rng) -> Vec<Output> {
        let targets: Vec<LinkId> =
            self.nodes().filter(|(i, n)| *i != self.myself && n.flags & flags::HANDSHAKE == 0).filter_map(|(_, n)| n.link).collect();
        for l in targets {
            self.send_ping(l, wire::TYPE_PONG, now, rng);
        }
        self.finish(now)
    }

    /// PUBLISH propagation (clusterPropagatePublish: broadcast to all nodes) and SPUBLISH
    /// (clusterPropagatePublishShard: only to the nodes of this node's shard, i.e. its
    /// master and that master's replicas).
    pub fn publish(&mut self, channel: &[u8], message: &[u8], shard: bool, now: u64) -> Vec<Output> {
        let t = if shard { wire::TYPE_PUBLISHSHARD } else { wire::TYPE_PUBLISH };
        let hdr = self.build_header(t);
        let msg = Message { hdr, body: Body::Publish { channel: channel.to_vec(), message: message.to_vec() } };
        if shard {
            let me = self.me();
            let master = if me.is_slave() && me.replicaof != NONE { me.replicaof } else { self.myself };
            let targets: Vec<LinkId> = self
                .nodes()
                .filter(|(i, n)| *i != self.myself && n.flags & flags::HANDSHAKE == 0 && (*i == master || n.replicaof == master))
                .filter_map(|(_, n)| n.link)
                .collect();
            for l in targets {
                self.out.push(Output::Send { link: l, msg: msg.clone() });
            }
        } else {
            self.broadcast(msg);
        }
        self.finish(now)
    }

    // ---------------------------------------------------------------- failure reports

    fn add_failure_report(&mut self, failing: NodeIdx, sender: NodeIdx, now: u64) -> bool {
        let n = self.node_mut(failing);
        if let Some(r) = n.fail_reports.iter_mut().find(|(s, _)| *s == sender) {
            r.1 = now;
            return false;
        }
        n.fail_reports.push((sender, now));
        true
    }

    fn remove_failure_report(&mut self, failing: NodeIdx, sender: NodeIdx) -> bool {
        let n = self.node_mut(failing);
        let before = n.fail_reports.len();
        n.fail_reports.retain(|(s, _)| *s != sender);
        n.fail_reports.len() != before
    }

    fn fail_reports_count(&mut self, i: NodeIdx, now: u64) -> usize {
        let maxtime = self.cfg.node_timeout * FAIL_REPORT_VALIDITY_MULT;
        let n = self.node_mut(i);
        n.fail_reports.retain(|(_, t)| now.saturating_sub(*t) <= maxtime);
        n.fail_reports.len()
    }

    /// markNodeAsFailingIfNeeded
    fn mark_failing_if_needed(&mut self, i: NodeIdx, now: u64) {
        let needed_quorum = self.size / 2 + 1;
        let n = self.node(i);
        if !n.timed_out() || n.failed() {
            return;
        }
        let mut failures = self.fail_reports_count(i, now);
        if self.me().is_master() {
            failures += 1;
        }
        if failures < needed_quorum {
            return;
        }
        let n = self.node_mut(i);
        n.flags &= !flags::PFAIL;
        n.flags |= flags::FAIL;
        n.fail_time = now;
        let name = n.name;
        self.send_fail(name);
        self.update();
        self.save();
    }

    /// clearNodeFailureIfNeeded
    fn clear_failure_if_needed(&mut self, i: NodeIdx, now: u64) {
        let timeout = self.cfg.node_timeout;
        let n = self.node_mut(i);
        if n.is_slave() || n.numslots == 0 {
            n.flags &= !flags::FAIL;
            self.update();
            self.save();
            return;
        }
        if n.is_master() && n.numslots > 0 && now.saturating_sub(n.fail_time) > timeout * FAIL_UNDO_TIME_MULT {
            n.flags &= !flags::FAIL;
            self.update();
            self.save();
        }
    }

    // ---------------------------------------------------------------- roles

    /// clusterSetNodeAsMaster
    fn set_node_as_master(&mut self, i: NodeIdx) {
        let me = self.myself;
        let n = self.node_mut(i);
        if n.is_master() {
            return;
        }
        if i != me {
            n.flags |= flags::MIGRATE_TO;
        }
        n.flags &= !flags::SLAVE;
        n.flags |= flags::MASTER;
        n.replicaof = NONE;
        self.update();
        self.save();
    }

    /// clusterSetMaster (myself becomes a replica of `m`).
    fn set_my_master(&mut self, m: NodeIdx) {
        let mname = self.node(m).name;
        let me = self.me_mut();
        if me.is_master() {
            me.flags &= !(flags::MASTER | flags::MIGRATE_TO);
            me.flags |= flags::SLAVE;
        }
        me.replicaof = m;
        self.importing.clear();
        self.migrating.clear();
        self.out.push(Output::BecomeReplicaOf { master: mname });
        self.update();
        self.save();
    }

    // ---------------------------------------------------------------- slot config

    /// clusterUpdateSlotsConfigWith
    fn update_slots_config_with(&mut self, sender: NodeIdx, sender_config_epoch: u64, slots: &SlotBitmap) {
        if sender == self.myself {
            return;
        }
        let me = self.me();
        let curmaster = if me.is_master() { self.myself } else { me.replicaof };
        let mut newmaster = NONE;
        let mut migrated_our_slots = 0usize;
        let mut sender_slots = 0usize;
        let mut dirty: Vec<u16> = Vec::new();
        for j in slots.iter() {
            sender_slots += 1;
            let owner = self.slots[j];
            if owner == sender {
                continue;
            }
            if self.importing.contains_key(&(j as u16)) {
                continue;
            }
            if owner == NONE || self.node(owner).config_epoch < sender_config_epoch {
                if owner == self.myself {
                    dirty.push(j as u16);
                }
                if owner == curmaster && curmaster != NONE {
                    newmaster = sender;
                    migrated_our_slots += 1;
                }
                self.del_slot(j);
                self.add_slot(sender, j);
                self.update();
                self.save();
            }
        }
        let cur_numslots = if curmaster != NONE { self.node(curmaster).numslots } else { 1 };
        if newmaster != NONE && cur_numslots == 0 && (self.cfg.allow_replica_migration || sender_slots == migrated_our_slots) {
            self.set_my_master(sender);
        } else {
            for s in dirty {
                self.out.push(Output::SlotLost { slot: s });
            }
        }
    }

    /// clusterHandleConfigEpochCollision
    fn handle_config_epoch_collision(&mut self, sender: NodeIdx) {
        let (s, me) = (self.node(sender), self.me());
        if s.config_epoch != me.config_epoch || !s.is_master() || !me.is_master() {
            return;
        }
        if s.name <= me.name {
            return;
        }
        self.current_epoch += 1;
        let e = self.current_epoch;
        self.me_mut().config_epoch = e;
        self.save();
    }

    /// nodeIp2String: the announced IP if any, else the link's peer address.
    fn node_ip(&self, l: LinkId, hdr: &Header) -> String {
        let ip = hdr.ip();
        if !ip.is_empty() {
            return String::from_utf8_lossy(ip).into_owned();
        }
        self.links.get(&l).map(|x| x.peer_ip.clone()).unwrap_or_default()
    }

    /// nodeUpdateAddressIfNeeded
    fn update_address_if_needed(&mut self, i: NodeIdx, l: LinkId, hdr: &Header) -> bool {
        if self.node(i).link == Some(l) {
            return false;
        }
        let ip = self.node_ip(l, hdr);
        let n = self.node(i);
        if n.port == hdr.port && n.cport == hdr.cport && n.pport == hdr.pport && n.ip == ip {
            return false;
        }
        let n = self.node_mut(i);
        n.ip = ip;
        n.port = hdr.port;
        n.cport = hdr.cport;
        n.pport = hdr.pport;
        n.flags &= !flags::NOADDR;
        if let Some(old) = n.link {
            self.free_link(old);
        }
        true
    }

    // ---------------------------------------------------------------- message processing

    /// clusterProcessPacket for one decoded message received on link `l`.
    pub fn on_message(&mut self, l: LinkId, msg: &Message, now: u64, rng: &mut dyn Rng) -> Vec<Output> {
        self.process(l, msg, now, rng);
        self.finish(now)
    }

    fn process(&mut self, l: LinkId, msg: &Message, now: u64, rng: &mut dyn Rng) {
        let Some(link) = self.links.get(&l).cloned() else { return };
        let hdr = &msg.hdr;
        let t = hdr.msg_type;
        // getNodeFromLinkAndMsg
        let mut sender = if !link.inbound && link.node != NONE && !self.node(link.node).in_handshake() {
            link.node
        } else {
            self.lookup(&hdr.sender).unwrap_or(NONE)
        };
        if sender != NONE && self.node(sender).in_handshake() {
            // A handshake node is only known by its random name; treat as unknown.
            sender = NONE;
        }
        if sender != NONE && link.inbound && self.node(sender).inbound_link != Some(l) {
            // setClusterNodeToInboundClusterLink
            if let Some(old) = self.node(sender).inbound_link {
                self.free_link(old);
            }
            self.node_mut(sender).inbound_link = Some(l);
            if let Some(x) = self.links.get_mut(&l) {
                x.node = sender;
            }
        }
        if sender != NONE {
            self.node_mut(sender).data_received = now;
        }
        let mut sender_config_epoch = 0;
        if sender != NONE {
            sender_config_epoch = hdr.config_epoch;
            if hdr.current_epoch > self.current_epoch {
                self.current_epoch = hdr.current_epoch;
                self.save();
            }
            let s = self.node_mut(sender);
            if sender_config_epoch > s.config_epoch {
                s.config_epoch = sender_config_epoch;
                self.save();
            }
            self.node_mut(sender).repl_offset = hdr.offset;
        }

        if t == wire::TYPE_PING || t == wire::TYPE_MEET {
            // Learn our own IP from the local address of the link a MEET arrived on.
            if (t == wire::TYPE_MEET || self.me().ip.is_empty())
                && self.cfg.announce_ip.is_none()
                && !link.local_ip.is_empty()
                && self.me().ip != link.local_ip
            {
                self.me_mut().ip = link.local_ip.clone();
                self.save();
            }
            if sender == NONE && t == wire::TYPE_MEET {
                let mut n = Node::new(NodeName::random(rng), flags::HANDSHAKE, now);
                n.ip = self.node_ip(l, hdr);
                n.port = hdr.port;
                n.pport = hdr.pport;
                n.cport = hdr.cport;
                self.add_node(n);
                self.save();
                // Trust a MEET's gossip section (without a sender it only refreshes known nodes).
                self.process_gossip(msg, NONE, now);
            }
            self.send_ping(l, wire::TYPE_PONG, now, rng);
        }

        match t {
            wire::TYPE_PING | wire::TYPE_PONG | wire::TYPE_MEET => self.process_ping_like(l, &link, sender, sender_config_epoch, msg, now),
            wire::TYPE_FAIL => {
                if sender == NONE {
                    return;
                }
                let Body::Fail { about } = &msg.body else { return };
                if let Some(f) = self.lookup(about) {
                    let n = self.node_mut(f);
                    if n.flags & (flags::FAIL | flags::MYSELF) == 0 {
                        n.flags |= flags::FAIL;
                        n.fail_time = now;
                        n.flags &= !flags::PFAIL;
                        self.update();
                        self.save();
                    }
                }
            }
            wire::TYPE_PUBLISH | wire::TYPE_PUBLISHSHARD => {
                if sender == NONE {
                    return;
                }
                if let Body::Publish { channel, message } = &msg.body {
                    self.out.push(Output::Publish {
                        channel: channel.clone(),
                        message: message.clone(),
                        shard: t == wire::TYPE_PUBLISHSHARD,
                    });
                }
            }
            wire::TYPE_UPDATE => {
                if sender == NONE {
                    return;
                }
                let Body::Update { config_epoch, nodename, slots } = &msg.body else { return };
                let Some(n) = self.lookup(nodename) else { return };
                if self.node(n).config_epoch >= *config_epoch {
                    return;
                }
                if self.node(n).is_slave() {
                    self.set_node_as_master(n);
                }
                self.node_mut(n).config_epoch = *config_epoch;
                self.save();
                self.update_slots_config_with(n, *config_epoch, slots);
            }
            wire::TYPE_MODULE => {
                if sender == NONE {
                    return;
                }
                if let Body::Module { module_id, module_type, payload } = &msg.body {
                    let s = self.node(sender).name;
                    self.out.push(Output::Module { sender: s, module_id: *module_id, module_type: *module_type, payload: payload.clone() });
                }
            }
            // Failover messages: decoded, not handled yet.
            _ => {}
        }
    }

    fn process_ping_like(&mut self, l: LinkId, link: &Link, sender: NodeIdx, sender_config_epoch: u64, msg: &Message, now: u64) {
        let hdr = &msg.hdr;
        let t = hdr.msg_type;
        if !link.inbound && link.node != NONE {
            let ln = link.node;
            if self.node(ln).in_handshake() {
                if sender != NONE {
                    if self.update_address_if_needed(sender, l, hdr) {
                        self.save();
                        self.update();
                    }
                    self.del_node(ln);
                    return;
                }
                if self.lookup(&hdr.sender).is_some() {
                    // The name is taken by another handshake node: drop this one (it cannot be renamed).
                    self.del_node(ln);
                    return;
                }
                self.rename_node(ln, hdr.sender);
                let n = self.node_mut(ln);
                n.flags &= !flags::HANDSHAKE;
                n.flags |= hdr.flags & (flags::MASTER | flags::SLAVE);
                self.save();
            } else if self.node(ln).name != hdr.sender {
                let n = self.node_mut(ln);
                n.flags |= flags::NOADDR;
                n.ip.clear();
                n.port = 0;
                n.pport = 0;
                n.cport = 0;
                self.free_link(l);
                self.save();
                return;
            }
        }

        if sender != NONE {
            let s = self.node_mut(sender);
            s.flags = (s.flags & !flags::NOFAILOVER) | (hdr.flags & flags::NOFAILOVER);
        }

        if sender != NONE && t == wire::TYPE_PING && self.update_address_if_needed(sender, l, hdr) {
            self.save();
            self.update();
        }

        if !link.inbound && link.node != NONE && t == wire::TYPE_PONG && self.links.contains_key(&l) {
            let ln = link.node;
            let n = self.node_mut(ln);
            n.pong_received = now;
            n.ping_sent = 0;
            if n.timed_out() {
                n.flags &= !flags::PFAIL;
                self.update();
                self.save();
            } else if n.failed() {
                self.clear_failure_if_needed(ln, now);
            }
        }

        if sender == NONE {
            return;
        }

        // Role switch.
        if hdr.slaveof.is_null() {
            self.set_node_as_master(sender);
        } else {
            let master = self.lookup(&hdr.slaveof).unwrap_or(NONE);
            if self.node(sender).is_master() {
                self.del_node_slots(sender);
                let s = self.node_mut(sender);
                s.flags &= !(flags::MASTER | flags::MIGRATE_TO);
                s.flags |= flags::SLAVE;
                self.save();
                self.update();
            }
            if master != NONE && self.node(sender).replicaof != master {
                self.node_mut(sender).replicaof = master;
                self.save();
            }
        }

        // Slots.
        let s = self.node(sender);
        let sender_master = if s.is_master() { sender } else { s.replicaof };
        let dirty_slots = sender_master != NONE && self.node(sender_master).slots != hdr.myslots;
        if self.node(sender).is_master() && dirty_slots {
            self.update_slots_config_with(sender, sender_config_epoch, &hdr.myslots);
        }
        if dirty_slots {
            for j in hdr.myslots.iter() {
                let owner = self.slots[j];
                if owner == sender || owner == NONE {
                    continue;
                }
                if self.node(owner).config_epoch > sender_config_epoch {
                    let sl = self.node(sender).link;
                    self.send_update(sl, owner);
                    break;
                }
            }
        }

        if self.me().is_master() && self.node(sender).is_master() && sender_config_epoch == self.me().config_epoch {
            self.handle_config_epoch_collision(sender);
        }

        self.process_gossip(msg, sender, now);
        // clusterProcessPingExt
        if let Body::Ping { exts, .. } = &msg.body {
            let mut hostname = String::new();
            for e in exts {
                if let PingExt::Hostname(h) = e {
                    hostname = String::from_utf8_lossy(h).into_owned();
                }
            }
            if msg.hdr.mflags[0] & wire::FLAG0_EXT_DATA != 0 || !hostname.is_empty() || !self.node(sender).hostname.is_empty() {
                let n = self.node_mut(sender);
                if n.hostname != hostname {
                    n.hostname = hostname;
                    self.save();
                }
            }
        }
    }

    /// clusterProcessGossipSection
    fn process_gossip(&mut self, msg: &Message, sender: NodeIdx, now: u64) {
        let Body::Ping { gossip, .. } = &msg.body else { return };
        for g in gossip {
            let gflags = g.flags;
            match self.lookup(&g.nodename) {
                Some(node) => {
                    if sender != NONE && self.node(sender).is_master() && node != self.myself {
                        if gflags & (flags::FAIL | flags::PFAIL) != 0 {
                            self.add_failure_report(node, sender, now);
                            self.mark_failing_if_needed(node, now);
                        } else {
                            self.remove_failure_report(node, sender);
                        }
                    }
                    if gflags & (flags::FAIL | flags::PFAIL) == 0
                        && self.node(node).ping_sent == 0
                        && self.fail_reports_count(node, now) == 0
                    {
                        let pongtime = g.pong_received as u64 * 1000;
                        let n = self.node_mut(node);
                        if pongtime <= now + 500 && pongtime > n.pong_received {
                            n.pong_received = pongtime;
                        }
                    }
                    let n = self.node(node);
                    let gip = String::from_utf8_lossy(g.ip()).into_owned();
                    if n.flags & (flags::FAIL | flags::PFAIL) != 0
                        && gflags & flags::NOADDR == 0
                        && gflags & (flags::FAIL | flags::PFAIL) == 0
                        && (!n.ip.eq_ignore_ascii_case(&gip) || n.port != g.port || n.cport != g.cport)
                    {
                        if let Some(old) = n.link {
                            self.free_link(old);
                        }
                        let n = self.node_mut(node);
                        n.ip = gip;
                        n.port = g.port;
                        n.pport = g.pport;
                        n.cport = g.cport;
                        n.flags &= !flags::NOADDR;
                    }
                }
                None => {
                    if sender != NONE && gflags & flags::NOADDR == 0 && !self.blacklisted(&g.nodename, now) && g.nodename.is_valid_hex() {
                        let mut n = Node::new(g.nodename, gflags & !(flags::MYSELF), now);
                        n.ip = String::from_utf8_lossy(g.ip()).into_owned();
                        n.port = g.port;
                        n.pport = g.pport;
                        n.cport = g.cport;
                        self.add_node(n);
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- cron

    /// clusterCron: call every 100 ms.
    pub fn tick(&mut self, now: u64, rng: &mut dyn Rng) -> Vec<Output> {
        self.iteration += 1;
        let timeout = self.cfg.node_timeout;
        let handshake_timeout = timeout.max(1000);
        self.stats_pfail_nodes = 0;
        let mut update_state = false;

        // clusterNodeCronHandleReconnect
        for i in self.order.clone() {
            if self.slab[i as usize].is_none() {
                continue;
            }
            let n = self.node(i);
            if n.flags & (flags::MYSELF | flags::NOADDR) != 0 {
                continue;
            }
            let pfail = n.flags & flags::PFAIL != 0;
            let stale_handshake = n.in_handshake() && now.saturating_sub(n.ctime) > handshake_timeout;
            let needs_link = n.link.is_none();
            let (ip, cport) = (n.ip.clone(), n.cport);
            if pfail {
                self.stats_pfail_nodes += 1;
            }
            if stale_handshake {
                self.del_node(i);
                continue;
            }
            if needs_link {
                let l = self.new_link_id();
                self.links.insert(l, Link { node: i, inbound: false, ctime: now, peer_ip: ip.clone(), local_ip: String::new() });
                self.node_mut(i).link = Some(l);
                self.out.push(Output::Connect { link: l, ip, cport });
            }
        }

        // Ping the node with the oldest pong among 5 random ones, once per second.
        if self.iteration.is_multiple_of(10) {
            let mut min: Option<(NodeIdx, u64)> = None;
            for _ in 0..5 {
                if self.order.is_empty() {
                    break;
                }
                let i = self.order[rng.below(self.order.len() as u64) as usize];
                let n = self.node(i);
                if n.link.is_none() || n.ping_sent != 0 {
                    continue;
                }
                if n.flags & (flags::MYSELF | flags::HANDSHAKE) != 0 {
                    continue;
                }
                if min.is_none_or(|(_, p)| p > n.pong_received) {
                    min = Some((i, n.pong_received));
                }
            }
            if let Some((i, _)) = min {
                if let Some(l) = self.node(i).link {
                    self.send_ping(l, wire::TYPE_PING, now, rng);
                }
            }
        }

        for i in self.order.clone() {
            if self.slab[i as usize].is_none() {
                continue;
            }
            let n = self.node(i);
            if n.flags & (flags::MYSELF | flags::NOADDR | flags::HANDSHAKE) != 0 {
                continue;
            }
            let ping_delay = now.saturating_sub(n.ping_sent);
            let data_delay = now.saturating_sub(n.data_received);
            if let Some(l) = n.link {
                let lctime = self.links.get(&l).map(|x| x.ctime).unwrap_or(now);
                if now.saturating_sub(lctime) > timeout && n.ping_sent != 0 && ping_delay > timeout / 2 && data_delay > timeout / 2 {
                    self.free_link(l);
                }
            }
            let n = self.node(i);
            if let Some(l) = n.link {
                if n.ping_sent == 0 && now.saturating_sub(n.pong_received) > timeout / 2 {
                    self.send_ping(l, wire::TYPE_PING, now, rng);
                    continue;
                }
            }
            if n.ping_sent == 0 {
                continue;
            }
            let node_delay = ping_delay.min(data_delay);
            if node_delay > timeout && n.flags & (flags::PFAIL | flags::FAIL) == 0 {
                self.node_mut(i).flags |= flags::PFAIL;
                update_state = true;
            }
        }

        if update_state || !self.state_ok {
            self.update_state(now);
        }
        self.finish(now)
    }

    /// clusterUpdateState
    pub fn update_state(&mut self, now: u64) {
        self.todo_update = false;
        if self.first_call_time == 0 {
            self.first_call_time = now.max(1);
        }
        if self.me().is_master() && !self.state_ok && now.saturating_sub(self.first_call_time) < WRITABLE_DELAY {
            return;
        }
        let mut new_ok = true;
        if self.cfg.require_full_coverage {
            for s in 0..SLOTS {
                let o = self.slots[s];
                if o == NONE || self.node(o).flags & flags::FAIL != 0 {
                    new_ok = false;
                    break;
                }
            }
        }
        let mut size = 0;
        let mut reachable = 0;
        for (_, n) in self.nodes() {
            if n.is_master() && n.numslots > 0 {
                size += 1;
                if n.flags & (flags::FAIL | flags::PFAIL) == 0 {
                    reachable += 1;
                }
            }
        }
        self.size = size;
        if reachable < size / 2 + 1 {
            new_ok = false;
            self.among_minority_time = now;
        }
        if new_ok != self.state_ok {
            let rejoin_delay = self.cfg.node_timeout.clamp(MIN_REJOIN_DELAY, MAX_REJOIN_DELAY);
            if new_ok && self.me().is_master() && now.saturating_sub(self.among_minority_time) < rejoin_delay {
                return;
            }
            self.state_ok = new_ok;
            self.out.push(Output::StateChanged { ok: new_ok });
        }
    }

    // ---------------------------------------------------------------- commands

    /// CLUSTER MEET ip port [cport] (clusterStartHandshake). Err = "Invalid node address specified: ...".
    pub fn meet(&mut self, ip: &str, port: u16, cport: u16, now: u64, rng: &mut dyn Rng) -> Result<(), String> {
        if ip.is_empty() || port == 0 || cport == 0 {
            return Err(format!("Invalid node address specified: {ip}:{port}"));
        }
        // Already in handshake with this address: silently OK (clusterHandshakeInProgress).
        if self.nodes().any(|(_, n)| n.in_handshake() && n.ip.eq_ignore_ascii_case(ip) && n.port == port && n.cport == cport) {
            return Ok(());
        }
        let mut n = Node::new(NodeName::random(rng), flags::HANDSHAKE | flags::MEET, now);
        n.ip = ip.to_string();
        n.port = port;
        n.cport = cport;
        self.add_node(n);
        Ok(())
    }

    fn parse_slots_errors(&self, slots: &[u16]) -> Result<(), String> {
        let mut seen = SlotBitmap::default();
        for &s in slots {
            if s as usize >= SLOTS {
                return Err("Invalid or out of range slot".into());
            }
            if seen.get(s as usize) {
                return Err(format!("Slot {s} specified multiple times"));
            }
            seen.set(s as usize);
        }
        Ok(())
    }

    /// CLUSTER ADDSLOTS / ADDSLOTSRANGE (slots already expanded).
    pub fn add_slots(&mut self, slots: &[u16], now: u64) -> Result<Vec<Output>, String> {
        self.parse_slots_errors(slots)?;
        for &s in slots {
            if self.slots[s as usize] != NONE {
                return Err(format!("Slot {s} is already busy"));
            }
        }
        for &s in slots {
            self.importing.remove(&s);
            let me = self.myself;
            self.add_slot(me, s as usize);
        }
        self.update();
        self.save();
        Ok(self.finish(now))
    }

    /// CLUSTER DELSLOTS / DELSLOTSRANGE.
    pub fn del_slots(&mut self, slots: &[u16], now: u64) -> Result<Vec<Output>, String> {
        self.parse_slots_errors(slots)?;
        for &s in slots {
            if self.slots[s as usize] == NONE {
                return Err(format!("Slot {s} is already unassigned"));
            }
        }
        for &s in slots {
            self.del_slot(s as usize);
        }
        self.update();
        self.save();
        Ok(self.finish(now))
    }

    /// CLUSTER SET-CONFIG-EPOCH
    pub fn set_config_epoch(&mut self, epoch: i64, now: u64) -> Result<Vec<Output>, String> {
        if epoch < 0 {
            return Err(format!("Invalid config epoch specified: {epoch}"));
        }
        if self.node_count() > 1 {
            return Err("The user can assign a config epoch only when the node does not know any other node.".into());
        }
        if self.me().config_epoch != 0 {
            return Err("Node config epoch is already non-zero".into());
        }
        let e = epoch as u64;
        self.me_mut().config_epoch = e;
        if self.current_epoch < e {
            self.current_epoch = e;
        }
        self.update();
        self.save();
        Ok(self.finish(now))
    }

    /// CLUSTER BUMPEPOCH (clusterBumpConfigEpochWithoutConsensus): (bumped, new configEpoch).
    pub fn bump_epoch(&mut self, now: u64) -> (bool, u64, Vec<Output>) {
        let max = self.max_epoch();
        let me = self.me();
        let bumped = me.config_epoch == 0 || me.config_epoch != max;
        if bumped {
            self.current_epoch += 1;
            let e = self.current_epoch;
            self.me_mut().config_epoch = e;
            self.save();
        }
        let e = self.me().config_epoch;
        (bumped, e, self.finish(now))
    }

    /// CLUSTER FORGET
    pub fn forget(&mut self, name: &NodeName, now: u64) -> Result<Vec<Output>, String> {
        let Some(i) = self.lookup(name) else { return Err(format!("Unknown node {name}")) };
        if i == self.myself {
            return Err("I tried hard but I can't forget myself...".into());
        }
        if self.me().is_slave() && self.me().replicaof == i {
            return Err("Can't forget my master!".into());
        }
        self.blacklist_cleanup(now);
        self.blacklist.insert(*name, now / 1000 * 1000 + BLACKLIST_TTL_MS);
        self.del_node_slots(i);
        self.del_node(i);
        self.update();
        self.save();
        Ok(self.finish(now))
    }

    /// CLUSTER SETSLOT slot IMPORTING node / MIGRATING node / STABLE / NODE node. `keys_in_slot` is the
    /// number of keys we hold in the slot (for the NODE checks).
    pub fn set_slot(&mut self, slot: u16, action: SetSlot, keys_in_slot: u64, now: u64) -> Result<Vec<Output>, String> {
        let s = slot as usize;
        if s >= SLOTS {
            return Err("Invalid or out of range slot".into());
        }
        if self.me().is_slave() {
            return Err("Please use SETSLOT only with masters.".into());
        }
        let find = |st: &Self, n: &NodeName| st.lookup(n).ok_or_else(|| format!("I don't know about node {n}"));
        match action {
            SetSlot::Migrating(n) => {
                if self.slots[s] != self.myself {
                    return Err(format!("I'm not the owner of hash slot {slot}"));
                }
                let i = find(self, &n)?;
                if self.node(i).is_slave() {
                    return Err("Target node is not a master".into());
                }
                self.migrating.insert(slot, n);
            }
            SetSlot::Importing(n) => {
                if self.slots[s] == self.myself {
                    return Err(format!("I'm already the owner of hash slot {slot}"));
                }
                let i = find(self, &n)?;
                if self.node(i).is_slave() {
                    return Err("Target node is not a master".into());
                }
                self.importing.insert(slot, n);
            }
            SetSlot::Stable => {
                self.importing.remove(&slot);
                self.migrating.remove(&slot);
            }
            SetSlot::Node(n) => {
                let i = find(self, &n)?;
                if self.node(i).is_slave() {
                    return Err("Target node is not a master".into());
                }
                if self.slots[s] == self.myself && i != self.myself && keys_in_slot != 0 {
                    return Err(format!("Can't assign hashslot {slot} to a different node while I still hold keys for this hash slot."));
                }
                if keys_in_slot == 0 && self.migrating.contains_key(&slot) {
                    self.migrating.remove(&slot);
                }
                if i == self.myself && self.importing.contains_key(&slot) {
                    // Importing slot finalised: take it with a new epoch so that the cluster converges.
                    self.bump_without_consensus();
                    self.importing.remove(&slot);
                }
                self.del_slot(s);
                self.add_slot(i, s);
            }
        }
        self.update();
        self.save();
        Ok(self.finish(now))
    }

    fn bump_without_consensus(&mut self) {
        let max = self.max_epoch();
        let me = self.me();
        if me.config_epoch == 0 || me.config_epoch != max {
            self.current_epoch += 1;
            let e = self.current_epoch;
            self.me_mut().config_epoch = e;
            self.save();
        }
    }

    /// CLUSTER RESET [HARD]. The caller empties the keyspace (Redis refuses a master with keys: "CLUSTER
    /// RESET can't be called with master nodes containing keys") and stops replicating.
    pub fn reset(&mut self, hard: bool, now: u64, rng: &mut dyn Rng) -> Vec<Output> {
        if self.me().is_slave() {
            let me = self.myself;
            self.set_node_as_master(me);
        }
        for s in 0..SLOTS {
            self.del_slot(s);
        }
        self.importing.clear();
        self.migrating.clear();
        for i in self.order.clone() {
            if i != self.myself {
                self.del_node(i);
            }
        }
        if hard {
            self.current_epoch = 0;
            self.last_vote_epoch = 0;
            self.me_mut().config_epoch = 0;
            let me = self.myself;
            let name = NodeName::random(rng);
            self.rename_node(me, name);
        }
        self.update();
        self.save();
        self.finish(now)
    }

    // ---------------------------------------------------------------- persistence

    /// The nodes.conf content (handshake nodes excluded), nodes in index order.
    pub fn to_nodes_conf(&self) -> NodesConf {
        let mut nodes = Vec::new();
        for (i, n) in self.nodes() {
            if n.in_handshake() {
                continue;
            }
            let master = if n.replicaof != NONE { Some(self.node(n.replicaof).name) } else { None };
            let config_epoch = if n.is_slave() && n.replicaof != NONE { self.node(n.replicaof).config_epoch } else { n.config_epoch };
            let slots = n.slots.ranges().into_iter().map(|(a, b)| (a as u16, b as u16)).collect();
            let mut moves = Vec::new();
            if i == self.myself {
                for s in 0..SLOTS as u16 {
                    if let Some(to) = self.migrating.get(&s) {
                        moves.push(SlotMove::Migrating { slot: s, to: *to });
                    } else if let Some(from) = self.importing.get(&s) {
                        moves.push(SlotMove::Importing { slot: s, from: *from });
                    }
                }
            }
            nodes.push(NodeLine {
                name: n.name,
                ip: n.ip.clone(),
                port: n.port,
                cport: n.cport,
                hostname: n.hostname.clone(),
                flags: n.flags & !(flags::MEET | flags::MIGRATE_TO),
                master: if n.is_slave() { master } else { None },
                ping_sent: n.ping_sent,
                pong_received: n.pong_received,
                config_epoch,
                connected: n.link.is_some() || i == self.myself,
                slots,
                moves,
            });
        }
        NodesConf { nodes, current_epoch: self.current_epoch, last_vote_epoch: self.last_vote_epoch }
    }

    /// clusterLoadConfig: rebuild the state from nodes.conf.
    pub fn from_nodes_conf(cfg: Config, conf: &NodesConf, now: u64) -> Result<ClusterState, String> {
        let mut st = ClusterState::empty(cfg);
        let get_or_create = |st: &mut ClusterState, name: NodeName| -> NodeIdx {
            match st.lookup(&name) {
                Some(i) => i,
                None => st.add_node(Node::new(name, 0, now)),
            }
        };
        for line in &conf.nodes {
            let i = get_or_create(&mut st, line.name);
            {
                let n = st.node_mut(i);
                n.ip = line.ip.clone();
                n.port = line.port;
                n.cport = line.cport;
                n.hostname = line.hostname.clone();
                n.flags = line.flags;
                n.config_epoch = line.config_epoch;
                if line.ping_sent != 0 {
                    n.ping_sent = now;
                }
                if line.pong_received != 0 {
                    n.pong_received = now;
                }
            }
            if line.flags & flags::MYSELF != 0 {
                if st.myself != NONE {
                    return Err("more than one node flagged myself".into());
                }
                st.myself = i;
            }
            if let Some(m) = line.master {
                let mi = get_or_create(&mut st, m);
                st.node_mut(i).replicaof = mi;
            }
            for &(a, b) in &line.slots {
                for s in a..=b {
                    st.add_slot(i, s as usize);
                }
            }
            for mv in &line.moves {
                match mv {
                    SlotMove::Migrating { slot, to } => {
                        get_or_create(&mut st, *to);
                        st.migrating.insert(*slot, *to);
                    }
                    SlotMove::Importing { slot, from } => {
                        get_or_create(&mut st, *from);
                        st.importing.insert(*slot, *from);
                    }
                }
            }
        }
        if st.myself == NONE {
            return Err("no node flagged myself in the cluster config file".into());
        }
        st.current_epoch = conf.current_epoch.max(st.max_epoch());
        st.last_vote_epoch = conf.last_vote_epoch;
        st.apply_my_ports();
        Ok(st)
    }

    /// A CLUSTER NODES line for a node (the nodes.conf line with the live link state).
    pub fn describe_nodes(&self) -> String {
        let conf = self.to_nodes_conf();
        let mut s = String::new();
        for n in &conf.nodes {
            crate::nodes_conf::render_line(n, &mut s);
            s.push('\n');
        }
        s
    }
}

/// CLUSTER SETSLOT sub-actions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetSlot {
    Importing(NodeName),
    Migrating(NodeName),
    Stable,
    Node(NodeName),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SplitMix64;

    fn cfg(port: u16) -> Config {
        Config { node_timeout: 1000, port, cport: port + 10000, ..Config::default() }
    }

    #[test]
    fn new_node_and_commands() {
        let mut r = SplitMix64(1);
        let mut st = ClusterState::new(cfg(7000), 1000, &mut r);
        assert!(st.me().name.is_valid_hex());
        assert_eq!(st.me().flags, flags::MYSELF | flags::MASTER);
        let out = st.add_slots(&[0, 1, 2], 1000).expect("add");
        assert!(out.contains(&Output::SaveConfig));
        assert_eq!(st.add_slots(&[2], 1000).unwrap_err(), "Slot 2 is already busy");
        assert_eq!(st.add_slots(&[5, 5], 1000).unwrap_err(), "Slot 5 specified multiple times");
        assert_eq!(st.del_slots(&[9], 1000).unwrap_err(), "Slot 9 is already unassigned");
        assert_eq!(st.set_config_epoch(5, 1000).map(|_| ()), Ok(()));
        assert_eq!(st.set_config_epoch(6, 1000).unwrap_err(), "Node config epoch is already non-zero");
        assert_eq!(st.current_epoch, 5);
        let (b, e, _) = st.bump_epoch(1000);
        assert_eq!((b, e), (false, 5));
        st.meet("127.0.0.1", 7001, 17001, 1000, &mut r).expect("meet");
        assert_eq!(st.node_count(), 2);
        // all 16384 slots unassigned except 3: state stays fail
        st.tick(5000, &mut r);
        assert!(!st.state_ok);
        let all: Vec<u16> = (3..16384).collect();
        st.add_slots(&all, 5000).expect("add");
        st.tick(5100, &mut r);
        assert!(st.state_ok);
        let text = crate::nodes_conf::render(&st.to_nodes_conf());
        assert!(text.contains("myself,master - 0 0 5 connected 0-16383"), "{text}");
        let back = ClusterState::from_nodes_conf(cfg(7000), &crate::nodes_conf::parse(&text).expect("parse"), 9000).expect("load");
        assert_eq!(back.me().name, st.me().name);
        assert_eq!(back.slot_owner_name(100), Some(st.me().name));
    }

    /// Two state machines wired directly: MEET, handshake, discovery of a third node through gossip.
    #[test]
    fn handshake_between_three_nodes() {
        let mut r = SplitMix64(3);
        let mut nodes: Vec<ClusterState> = (0..3).map(|i| ClusterState::new(cfg(7000 + i), 0, &mut r)).collect();
        let ips = ["10.0.0.0", "10.0.0.1", "10.0.0.2"];
        for (i, n) in nodes.iter_mut().enumerate() {
            n.me_mut().ip = ips[i].to_string();
        }
        // connections: (from node, from link, to node, to link)
        let mut conns: Vec<(usize, LinkId, usize, LinkId)> = Vec::new();
        let mut queue: Vec<(usize, Output)> = Vec::new();
        nodes[0].meet("10.0.0.1", 7001, 17001, 0, &mut r).expect("meet");
        nodes[0].meet("10.0.0.2", 7002, 17002, 0, &mut r).expect("meet");
        let mut now = 0;
        for _ in 0..100 {
            now += 100;
            for (i, node) in nodes.iter_mut().enumerate() {
                for o in node.tick(now, &mut r) {
                    queue.push((i, o));
                }
            }
            while let Some((i, o)) = queue.pop() {
                match o {
                    Output::Connect { link, cport, .. } => {
                        let j = (cport - 17000) as usize;
                        let inl = nodes[j].accept_link(ips[i], ips[j], now);
                        conns.push((i, link, j, inl));
                        for o in nodes[i].link_connected(link, ips[i], now, &mut r) {
                            queue.push((i, o));
                        }
                    }
                    Output::Send { link, msg } => {
                        let bytes = wire::encode(&msg);
                        let msg = wire::decode(&bytes).expect("decode");
                        let dest = conns.iter().find_map(|&(a, al, b, bl)| {
                            if a == i && al == link {
                                Some((b, bl))
                            } else if b == i && bl == link {
                                Some((a, al))
                            } else {
                                None
                            }
                        });
                        if let Some((j, jl)) = dest {
                            for o in nodes[j].on_message(jl, &msg, now, &mut r) {
                                queue.push((j, o));
                            }
                        }
                    }
                    Output::Close { link } => conns.retain(|&(a, al, b, bl)| !((a == i && al == link) || (b == i && bl == link))),
                    _ => {}
                }
            }
        }
        for n in &nodes {
            assert_eq!(n.node_count(), 3, "{}", n.describe_nodes());
            for (_, x) in n.nodes() {
                assert_eq!(x.flags & (flags::HANDSHAKE | flags::PFAIL | flags::FAIL | flags::NOADDR), 0, "{}", n.describe_nodes());
            }
        }
        // Node 1 and 2 only met through node 0's gossip.
        assert!(nodes[1].get(&nodes[2].myself_name()).is_some());
    }
}
