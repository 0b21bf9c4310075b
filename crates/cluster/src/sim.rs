//! A deterministic single-threaded simulator of many cluster nodes over a hostile network.
//!
//! What Redis does: its cluster tests (tests/cluster, tests/unit/cluster) start real processes and
//! poke them with DEBUG commands and kill -9; failures are timing dependent and hard to replay.
//!
//! What we do: N [`ClusterState`]s run in one thread on a simulated clock. An event queue (ordered by
//! time, then insertion sequence) carries cron ticks (every 100 ms per node), connection attempts and
//! their results, message deliveries and link closures. The network, driven by one seeded generator,
//! delays every message by a random amount (so messages on one link get reordered), duplicates
//! messages, loses messages (a loss resets that connection, as on TCP), partitions the nodes into groups (cross-group connects fail, messages vanish, closures are
//! not noticed), and crashes nodes (all their links close on the peers) then restarts them from the
//! nodes.conf they last persisted (rendered and re-parsed through [`crate::nodes_conf`]). Every message is
//! encoded and decoded through [`crate::wire`]. Operators act too: CLUSTER MEET at start, slot
//! assignment, BUMPEPOCH and slot moves (SETSLOT IMPORTING + NODE, which bumps the epoch without
//! consensus) during the chaos phase.
//!
//! A run is: join phase (no faults; everyone must know everyone), chaos phase, heal (partitions removed,
//! loss off, crashed nodes restarted), settle phase, then the checkers: every node knows the same nodes
//! with no PFAIL/FAIL/handshake/noaddr flags left (all are reachable by a majority), the same slot ->
//! owner map, the same configEpoch for every node and the same currentEpoch; slot owners have distinct
//! configEpochs; every node's cluster state is ok. While running, no two live nodes may claim the same
//! slot with the same configEpoch. A failure message names the seed; [`run_seed`] replays it exactly.
//!
//! Slot moves follow the safe procedure (redis-cli --cluster reshard): only when the cluster is calm
//! (all up, no partition, no loss, epochs agreed), IMPORTING + SETSLOT NODE on the target (epoch bump
//! without consensus) and SETSLOT NODE on every other node. Moving a slot during a partition can leave
//! Redis 7.0 itself diverged for good (a node that gave a slot away never claims it, and 7.0 never
//! removes a slot from a node that stops claiming it), so that is not a checker failure of ours.

use crate::nodes_conf;
use crate::state::{ClusterState, Config, LinkId, Output, SetSlot};
use crate::wire;
use crate::{flags, NodeName, Rng, SplitMix64, SLOTS};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

/// Scenario knobs, all derived from the seed by [`Scenario::from_seed`].
#[derive(Clone, Debug)]
pub struct Scenario {
    pub nodes: usize,
    /// Nodes 0..masters get the slots.
    pub masters: usize,
    pub node_timeout: u64,
    /// Per-mille message loss during chaos.
    pub loss: u64,
    /// Per-mille message duplication.
    pub dup: u64,
    pub max_delay: u64,
    pub partitions: bool,
    pub crashes: bool,
    /// BUMPEPOCH and slot moves during chaos.
    pub operator: bool,
    /// SET-CONFIG-EPOCH 1..N before joining (as redis-cli --cluster create) instead of all zero.
    pub distinct_epochs: bool,
    pub chaos_ms: u64,
    pub settle_ms: u64,
}

impl Scenario {
    pub fn from_seed(seed: u64) -> Scenario {
        let mut r = SplitMix64(seed ^ 0x5ca1ab1e);
        let nodes = 3 + r.below(6) as usize;
        Scenario {
            nodes,
            masters: 1 + r.below(nodes as u64) as usize,
            node_timeout: 1000 + 500 * r.below(5),
            loss: [0, 10, 50, 200][r.below(4) as usize],
            dup: [0, 10, 100][r.below(3) as usize],
            max_delay: [1, 20, 200][r.below(3) as usize],
            partitions: r.below(3) != 0,
            crashes: r.below(3) != 0,
            operator: r.below(2) == 0,
            distinct_epochs: r.below(2) == 0,
            chaos_ms: 10_000 + 10_000 * r.below(3),
            settle_ms: 40_000,
        }
    }
}

#[derive(Debug)]
enum Ev {
    Tick { node: usize, inc: u32 },
    ConnectDone { node: usize, inc: u32, link: LinkId, target: usize },
    Deliver { node: usize, inc: u32, link: LinkId, bytes: Vec<u8> },
    Closed { node: usize, inc: u32, link: LinkId },
}

struct Queued {
    t: u64,
    seq: u64,
    ev: Ev,
}
impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        (self.t, self.seq) == (o.t, o.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> Ordering {
        (o.t, o.seq).cmp(&(self.t, self.seq))
    }
}

struct SimNode {
    st: Option<ClusterState>,
    disk: String,
    inc: u32,
    ip: String,
    port: u16,
    rng: SplitMix64,
    /// Messages sent on outbound links that are still connecting.
    pending: BTreeMap<LinkId, Vec<wire::Message>>,
}

/// One endpoint: (node, incarnation, link).
type End = (usize, u32, LinkId);

pub struct Sim {
    pub sc: Scenario,
    pub seed: u64,
    pub now: u64,
    rng: SplitMix64,
    nodes: Vec<SimNode>,
    q: BinaryHeap<Queued>,
    seq: u64,
    conns: BTreeMap<End, End>,
    group: Vec<u8>,
    loss: u64,
    /// Check "no two nodes claim a slot with the same configEpoch" while running.
    strict_epochs: bool,
    pub messages: u64,
}

impl Sim {
    pub fn new(seed: u64, sc: Scenario) -> Sim {
        let mut rng = SplitMix64(seed);
        let mut nodes = Vec::new();
        for i in 0..sc.nodes {
            let mut nrng = SplitMix64(rng.next_u64());
            let port = 7000 + i as u16;
            let cfg = Config { node_timeout: sc.node_timeout, port, cport: port + 10000, ..Config::default() };
            let mut st = ClusterState::new(cfg, 1, &mut nrng);
            let ip = format!("10.0.0.{i}");
            let disk = nodes_conf::render(&st.to_nodes_conf());
            if sc.distinct_epochs {
                let _ = st.set_config_epoch(i as i64 + 1, 1);
            }
            nodes.push(SimNode { st: Some(st), disk, inc: 0, ip, port, rng: nrng, pending: BTreeMap::new() });
        }
        let n = sc.nodes;
        let mut sim = Sim {
            sc,
            seed,
            now: 1,
            rng,
            nodes,
            q: BinaryHeap::new(),
            seq: 0,
            conns: BTreeMap::new(),
            group: vec![0; n],
            loss: 0,
            strict_epochs: true,
            messages: 0,
        };
        for i in 0..n {
            let off = 1 + sim.rng.below(100);
            sim.push(off, Ev::Tick { node: i, inc: 0 });
        }
        sim
    }

    fn push(&mut self, delay: u64, ev: Ev) {
        self.seq += 1;
        self.q.push(Queued { t: self.now + delay, seq: self.seq, ev });
    }

    fn delay(&mut self) -> u64 {
        1 + self.rng.below(self.sc.max_delay)
    }

    fn reachable(&self, a: usize, b: usize) -> bool {
        self.group[a] == self.group[b]
    }

    pub fn state(&self, i: usize) -> Option<&ClusterState> {
        self.nodes[i].st.as_ref()
    }

    fn handle(&mut self, i: usize, outs: Vec<Output>) {
        let inc = self.nodes[i].inc;
        for o in outs {
            match o {
                Output::Connect { link, ip, cport } => {
                    let target = self.nodes.iter().position(|n| n.ip == ip && n.port + 10000 == cport);
                    let d = self.delay();
                    match target {
                        Some(t) => self.push(d, Ev::ConnectDone { node: i, inc, link, target: t }),
                        None => self.push(d, Ev::Closed { node: i, inc, link }),
                    }
                }
                Output::Send { link, msg } => {
                    if let Some(&peer) = self.conns.get(&(i, inc, link)) {
                        self.transmit(i, peer, &msg);
                    } else if let Some(p) = self.nodes[i].pending.get_mut(&link) {
                        p.push(msg);
                    }
                }
                Output::Close { link } => {
                    self.nodes[i].pending.remove(&link);
                    if let Some(peer) = self.conns.remove(&(i, inc, link)) {
                        self.conns.remove(&peer);
                        if self.reachable(i, peer.0) {
                            let d = self.delay();
                            self.push(d, Ev::Closed { node: peer.0, inc: peer.1, link: peer.2 });
                        }
                    }
                }
                Output::SaveConfig => {
                    if let Some(st) = &self.nodes[i].st {
                        self.nodes[i].disk = nodes_conf::render(&st.to_nodes_conf());
                    }
                }
                _ => {}
            }
        }
    }

    fn transmit(&mut self, from: usize, to: End, msg: &wire::Message) {
        self.messages += 1;
        if !self.reachable(from, to.0) {
            return;
        }
        if self.loss > 0 && self.rng.below(1000) < self.loss {
            // The bus is TCP: a lost segment is retransmitted or the connection dies. Silently dropping
            // one message while the link stays up cannot happen, and Redis does not survive it (a lost
            // PING leaves ping_sent set; the peer's own traffic keeps data_received fresh, so the link is
            // never recycled and PFAIL/FAIL are never cleared). So loss resets the connection.
            let me = self.conns.iter().find(|(_, v)| **v == to).map(|(k, _)| *k);
            if let Some(me) = me {
                self.conns.remove(&me);
                self.conns.remove(&to);
                let d = self.delay();
                self.push(d, Ev::Closed { node: me.0, inc: me.1, link: me.2 });
                let d = self.delay();
                self.push(d, Ev::Closed { node: to.0, inc: to.1, link: to.2 });
            }
            return;
        }
        let bytes = wire::encode(msg);
        let copies = if self.sc.dup > 0 && self.rng.below(1000) < self.sc.dup { 2 } else { 1 };
        for _ in 0..copies {
            let d = self.delay();
            self.push(d, Ev::Deliver { node: to.0, inc: to.1, link: to.2, bytes: bytes.clone() });
        }
    }

    fn alive(&self, i: usize, inc: u32) -> bool {
        self.nodes[i].st.is_some() && self.nodes[i].inc == inc
    }

    fn step(&mut self, ev: Ev) {
        match ev {
            Ev::Tick { node, inc } => {
                if !self.alive(node, inc) {
                    return;
                }
                let now = self.now;
                let n = &mut self.nodes[node];
                let outs = n.st.as_mut().map(|st| st.tick(now, &mut n.rng)).unwrap_or_default();
                self.handle(node, outs);
                self.push(crate::state::CRON_PERIOD_MS, Ev::Tick { node, inc });
            }
            Ev::ConnectDone { node, inc, link, target } => {
                if !self.alive(node, inc) {
                    return;
                }
                let now = self.now;
                if self.nodes[target].st.is_some() && self.reachable(node, target) {
                    let tinc = self.nodes[target].inc;
                    let (pip, lip) = (self.nodes[node].ip.clone(), self.nodes[target].ip.clone());
                    let tl = self.nodes[target].st.as_mut().map(|st| st.accept_link(&pip, &lip, now)).unwrap_or(0);
                    self.conns.insert((node, inc, link), (target, tinc, tl));
                    self.conns.insert((target, tinc, tl), (node, inc, link));
                    let pending = self.nodes[node].pending.remove(&link).unwrap_or_default();
                    for m in pending {
                        self.transmit(node, (target, tinc, tl), &m);
                    }
                    let n = &mut self.nodes[node];
                    let ip = n.ip.clone();
                    let outs = n.st.as_mut().map(|st| st.link_connected(link, &ip, now, &mut n.rng)).unwrap_or_default();
                    self.handle(node, outs);
                } else {
                    self.nodes[node].pending.remove(&link);
                    let outs = self.nodes[node].st.as_mut().map(|st| st.link_closed(link, now)).unwrap_or_default();
                    self.handle(node, outs);
                }
            }
            Ev::Deliver { node, inc, link, bytes } => {
                if !self.alive(node, inc) || !self.conns.contains_key(&(node, inc, link)) {
                    return;
                }
                let msg = match wire::decode(&bytes) {
                    Ok(m) => m,
                    Err(e) => panic!("seed {}: simulator produced an undecodable message: {e}", self.seed),
                };
                let now = self.now;
                let n = &mut self.nodes[node];
                let outs = n.st.as_mut().map(|st| st.on_message(link, &msg, now, &mut n.rng)).unwrap_or_default();
                self.handle(node, outs);
            }
            Ev::Closed { node, inc, link } => {
                if !self.alive(node, inc) {
                    return;
                }
                if let Some(peer) = self.conns.remove(&(node, inc, link)) {
                    self.conns.remove(&peer);
                }
                self.nodes[node].pending.remove(&link);
                let now = self.now;
                let outs = self.nodes[node].st.as_mut().map(|st| st.link_closed(link, now)).unwrap_or_default();
                self.handle(node, outs);
            }
        }
    }

    /// Runs the event loop until `until`, checking invariants every simulated second.
    pub fn run_until(&mut self, until: u64) -> Result<(), String> {
        let mut next_check = self.now + 1000;
        while let Some(top) = self.q.peek() {
            if top.t > until {
                break;
            }
            let Some(Queued { t, ev, .. }) = self.q.pop() else { break };
            self.now = t;
            self.step(ev);
            if self.now >= next_check {
                next_check = self.now + 1000;
                self.check_running()?;
            }
        }
        self.now = until;
        Ok(())
    }

    pub fn crash(&mut self, i: usize) {
        if self.nodes[i].st.is_none() {
            return;
        }
        self.nodes[i].st = None;
        self.nodes[i].pending.clear();
        let inc = self.nodes[i].inc;
        let mine: Vec<End> = self.conns.keys().filter(|e| e.0 == i && e.1 == inc).copied().collect();
        for e in mine {
            if let Some(peer) = self.conns.remove(&e) {
                self.conns.remove(&peer);
                if self.reachable(i, peer.0) {
                    let d = self.delay();
                    self.push(d, Ev::Closed { node: peer.0, inc: peer.1, link: peer.2 });
                }
            }
        }
        self.nodes[i].inc += 1;
    }

    pub fn restart(&mut self, i: usize) -> Result<(), String> {
        if self.nodes[i].st.is_some() {
            return Ok(());
        }
        let n = &self.nodes[i];
        let conf =
            nodes_conf::parse(&n.disk).map_err(|e| format!("seed {}: node {i} nodes.conf unreadable: {e}\n{}", self.seed, n.disk))?;
        let cfg = Config { node_timeout: self.sc.node_timeout, port: n.port, cport: n.port + 10000, ..Config::default() };
        let st = ClusterState::from_nodes_conf(cfg, &conf, self.now).map_err(|e| format!("seed {}: node {i} load: {e}", self.seed))?;
        self.nodes[i].st = Some(st);
        let inc = self.nodes[i].inc;
        let d = self.delay();
        self.push(d, Ev::Tick { node: i, inc });
        Ok(())
    }

    fn live(&self) -> impl Iterator<Item = (usize, &ClusterState)> {
        self.nodes.iter().enumerate().filter_map(|(i, n)| n.st.as_ref().map(|s| (i, s)))
    }

    /// No two live nodes claim (as myself) the same slot with the same configEpoch.
    fn check_running(&self) -> Result<(), String> {
        if !self.strict_epochs {
            return Ok(());
        }
        let claims: Vec<(usize, u64, &crate::SlotBitmap)> = self
            .live()
            .filter(|(_, s)| s.me().is_master() && s.me().numslots > 0)
            .map(|(i, s)| (i, s.me().config_epoch, &s.me().slots))
            .collect();
        for (a, (ia, ea, sa)) in claims.iter().enumerate() {
            for (ib, eb, sb) in &claims[a + 1..] {
                if ea == eb && sa.0.iter().zip(sb.0.iter()).any(|(x, y)| x & y != 0) {
                    return Err(format!("seed {}: t={} nodes {ia} and {ib} both claim a slot with configEpoch {ea}", self.seed, self.now));
                }
            }
        }
        Ok(())
    }

    /// The convergence checkers, after the network healed and everything settled.
    pub fn check_converged(&self) -> Result<(), String> {
        let fail = |msg: String| Err(format!("seed {} ({:?}): {msg}", self.seed, self.sc));
        let live: Vec<(usize, &ClusterState)> = self.live().collect();
        let names: BTreeSet<NodeName> = live.iter().map(|(_, s)| s.myself_name()).collect();
        let (i0, s0) = live[0];
        for (i, s) in &live {
            let known: BTreeSet<NodeName> = s.nodes().map(|(_, n)| n.name).collect();
            if known != names {
                return fail(format!("node {i} knows {known:?}, expected {names:?}\n{}", s.describe_nodes()));
            }
            for (_, n) in s.nodes() {
                if n.flags & (flags::PFAIL | flags::FAIL | flags::HANDSHAKE | flags::NOADDR) != 0 {
                    return fail(format!("node {i} still flags {} as {}\n{}", n.name, n.flags, s.describe_nodes()));
                }
                let other = s0.get(&n.name).map(|x| x.config_epoch);
                if other != Some(n.config_epoch) {
                    return fail(format!(
                        "node {i} sees configEpoch {} for {}, node {i0} sees {other:?}\n{}\n{}",
                        n.config_epoch,
                        n.name,
                        s.describe_nodes(),
                        s0.describe_nodes()
                    ));
                }
            }
            if s.current_epoch != s0.current_epoch {
                return fail(format!("node {i} currentEpoch {} vs node {i0} {}", s.current_epoch, s0.current_epoch));
            }
            for slot in 0..SLOTS {
                if s.slot_owner_name(slot) != s0.slot_owner_name(slot) {
                    return fail(format!(
                        "slot {slot}: node {i} says {:?}, node {i0} says {:?}\n{}\n{}",
                        s.slot_owner_name(slot),
                        s0.slot_owner_name(slot),
                        s.describe_nodes(),
                        s0.describe_nodes()
                    ));
                }
            }
            if !s.state_ok {
                return fail(format!("node {i} cluster state is fail\n{}", s.describe_nodes()));
            }
        }
        let mut epochs = BTreeMap::new();
        for (_, n) in s0.nodes() {
            if n.is_master() && n.numslots > 0 {
                if let Some(other) = epochs.insert(n.config_epoch, n.name) {
                    return fail(format!(
                        "{} and {other} own slots with the same configEpoch {}\n{}",
                        n.name,
                        n.config_epoch,
                        s0.describe_nodes()
                    ));
                }
            }
        }
        Ok(())
    }

    fn apply(&mut self, i: usize, outs: Vec<Output>) {
        self.handle(i, outs);
    }

    /// All nodes up, one partition, no loss, and everyone agrees on every node's configEpoch: the moment
    /// a careful operator (redis-cli --cluster check) would reshard.
    fn calm(&self) -> bool {
        if self.nodes.iter().any(|n| n.st.is_none()) || self.group.iter().any(|&g| g != self.group[0]) || self.loss != 0 {
            return false;
        }
        let Some((_, s0)) = self.live().next() else { return false };
        self.live().all(|(_, s)| {
            s.current_epoch == s0.current_epoch
                && s.node_count() == s0.node_count()
                && s.nodes().all(|(_, x)| {
                    s0.get(&x.name).map(|y| y.config_epoch) == Some(x.config_epoch) && x.flags & (flags::PFAIL | flags::FAIL) == 0
                })
        })
    }

    /// One random chaos action.
    fn chaos_action(&mut self) -> Result<(), String> {
        let n = self.sc.nodes;
        let now = self.now;
        match self.rng.below(10) {
            0 | 1 if self.sc.partitions => {
                let mut g = vec![0u8; n];
                for x in g.iter_mut() {
                    *x = self.rng.below(2) as u8;
                }
                self.group = g;
            }
            2 if self.sc.partitions => self.group = vec![0; n],
            3 if self.sc.crashes => {
                let live = self.live().count();
                if live > 1 {
                    let i = self.rng.below(n as u64) as usize;
                    self.crash(i);
                }
            }
            4 if self.sc.crashes => {
                let i = self.rng.below(n as u64) as usize;
                self.restart(i)?;
            }
            5 => self.loss = self.sc.loss,
            6 => self.loss = 0,
            7 if self.sc.operator => {
                let i = self.rng.below(n as u64) as usize;
                if let Some(st) = self.nodes[i].st.as_mut() {
                    let (_, _, outs) = st.bump_epoch(now);
                    self.apply(i, outs);
                }
            }
            8 | 9 if self.sc.operator && self.calm() => {
                // Move a slot as redis-cli --cluster reshard does: IMPORTING on the target, then SETSLOT
                // NODE on the target (which bumps its epoch) and on every other node.
                let b = self.rng.below(n as u64) as usize;
                let slot = self.rng.below(SLOTS as u64) as u16;
                let Some(stb) = self.nodes[b].st.as_ref() else { return Ok(()) };
                let Some(owner) = stb.slot_owner_name(slot as usize) else { return Ok(()) };
                let me_b = stb.myself_name();
                if owner == me_b {
                    return Ok(());
                }
                let stb = self.nodes[b].st.as_mut().expect("live");
                let mut outs = Vec::new();
                outs.extend(stb.set_slot(slot, SetSlot::Importing(owner), 0, now).map_err(|e| format!("seed {}: {e}", self.seed))?);
                outs.extend(stb.set_slot(slot, SetSlot::Node(me_b), 0, now).map_err(|e| format!("seed {}: {e}", self.seed))?);
                self.apply(b, outs);
                for a in 0..n {
                    if a == b {
                        continue;
                    }
                    if let Some(sta) = self.nodes[a].st.as_mut() {
                        let o = sta.set_slot(slot, SetSlot::Node(me_b), 0, now).map_err(|e| format!("seed {}: {e}", self.seed))?;
                        self.apply(a, o);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Runs one complete scenario for a seed: join, chaos, heal, settle, check.
pub fn run_seed(seed: u64) -> Result<u64, String> {
    let sc = Scenario::from_seed(seed);
    let mut sim = Sim::new(seed, sc.clone());
    let n = sc.nodes;
    // Operator: slots to the masters, then node 0 meets everyone.
    let per = SLOTS / sc.masters;
    for m in 0..sc.masters {
        let lo = m * per;
        let hi = if m + 1 == sc.masters { SLOTS } else { lo + per };
        let slots: Vec<u16> = (lo as u16..hi as u16).collect();
        let st = sim.nodes[m].st.as_mut().expect("live");
        let outs = st.add_slots(&slots, 1).map_err(|e| format!("seed {seed}: addslots: {e}"))?;
        sim.apply(m, outs);
    }
    for j in 1..n {
        let (ip, port) = (sim.nodes[j].ip.clone(), sim.nodes[j].port);
        let n0 = &mut sim.nodes[0];
        n0.st.as_mut().expect("live").meet(&ip, port, port + 10000, 1, &mut n0.rng).map_err(|e| format!("seed {seed}: meet: {e}"))?;
    }
    // Join phase, no faults.
    let mut joined = false;
    for _ in 0..60 {
        let t = sim.now + 500;
        sim.run_until(t)?;
        if sim.live().all(|(_, s)| s.node_count() == n && s.nodes().all(|(_, x)| x.flags & flags::HANDSHAKE == 0)) {
            joined = true;
            break;
        }
    }
    if !joined {
        return Err(format!("seed {seed}: cluster did not form without faults"));
    }
    sim.run_until(sim.now + 3000)?;
    // Chaos.
    let end = sim.now + sc.chaos_ms;
    while sim.now < end {
        let t = sim.now + 200 + sim.rng.below(2000);
        sim.run_until(t.min(end))?;
        sim.chaos_action()?;
    }
    // Heal.
    sim.group = vec![0; n];
    sim.loss = 0;
    for i in 0..n {
        sim.restart(i)?;
    }
    sim.run_until(sim.now + sc.settle_ms)?;
    sim.check_converged()?;
    Ok(sim.messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_seeds() {
        for seed in 0..3 {
            run_seed(seed).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
