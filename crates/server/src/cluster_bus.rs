//! The cluster bus driver: sockets and timers around the pure cluster state machine.
//!
//! What Redis does (cluster.c 7.0): the bus port (client port + 10000, or `cluster-port`) accepts
//! links from other nodes; `clusterCron` runs every 100 ms on the main thread and opens outgoing
//! links, sends pings, detects failures; each link has a read handler that assembles messages
//! (8-byte pre-check, then the whole `totlen`) and calls `clusterProcessPacket`, and a send buffer.
//!
//! What we do: one thread ("shoal-cluster") with a single-threaded tokio runtime runs this driver,
//! separate from the I/O workers and the command lock, so a slow command never delays heartbeats.
//! The state machine ([`ClusterNode::core`], its own mutex) returns `Output`s; the driver opens and
//! closes links, frames and writes messages (a writer task per link), feeds decoded messages back
//! (a reader task per link), ticks every 100 ms, and, when a step changed ownership or the cluster
//! state, stores the new routing copy into `State.cluster` under the command lock (a timed try-lock:
//! when the lock stays busy, the effects wait for the next step). Commands reach the driver through
//! [`ClusterNode::net`] (a channel into this loop).

use crate::server::Server;
use crate::{notice, warning};
use shoal_cluster::state::{LinkId, Output};
use shoal_cluster::wire;
use shoal_commands::config::Config;
use shoal_commands::family::cluster::{now_ms, ClusterNode, Effects};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::task::AbortHandle;

/// Start-up (clusterInit): loads or creates the node, binds the bus port on the `bind` addresses.
pub fn open(cfg: &Config, port: u16) -> Result<(ClusterNode, Vec<std::net::TcpListener>), String> {
    let node = ClusterNode::open(cfg, port, |lvl, m| crate::log::log(lvl, 'M', m))?;
    let cluster_port = cfg.get_i64("cluster-port");
    let cport = if cluster_port > 0 { cluster_port as u16 } else { port.checked_add(shoal_cluster::PORT_INCR).unwrap_or(0) };
    if cport == 0 {
        return Err(format!("Redis port number too high. Cluster communication port is 10,000 port numbers higher than your Redis port. Your Redis port number must be 55535 or less, but {port} was specified."));
    }
    let mut listeners = Vec::new();
    for b in cfg.bind() {
        let (optional, a) = match b.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, b.as_str()),
        };
        let host = match a {
            "*" => "0.0.0.0",
            "::*" => "::",
            h => h,
        };
        let ip: IpAddr = match host.parse() {
            Ok(ip) => ip,
            Err(_) if optional => continue,
            Err(e) => return Err(format!("Warning: Could not create server TCP listening socket {host}:{cport}: {e}")),
        };
        match listen(SocketAddr::new(ip, cport)) {
            Ok(l) => listeners.push(l),
            Err(_) if optional => {}
            Err(e) => {
                warning!("Warning: Could not create server TCP listening socket {host}:{cport}: {e}");
                return Err(format!("Failed listening on port {cport} (cluster), aborting."));
            }
        }
    }
    if listeners.is_empty() {
        return Err(format!("Failed listening on port {cport} (cluster), aborting."));
    }
    Ok((node, listeners))
}

fn listen(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    crate::server::listen_on(addr, 511)
}

enum Ev {
    /// Network outputs of a command step.
    Net(Vec<Output>),
    Accepted(TcpStream),
    Connected {
        link: LinkId,
        stream: TcpStream,
    },
    ConnectFailed {
        link: LinkId,
    },
    Msg {
        link: LinkId,
        msg: Box<wire::Message>,
    },
    Closed {
        link: LinkId,
    },
}

#[derive(Default)]
struct Io {
    tx: Option<UnboundedSender<Vec<u8>>>,
    /// Messages sent before the connection completed.
    pending: Vec<u8>,
    tasks: Vec<AbortHandle>,
}

struct Driver {
    server: Arc<Server>,
    node: Arc<ClusterNode>,
    tx: UnboundedSender<Ev>,
    links: HashMap<LinkId, Io>,
    /// Effects waiting for the command lock.
    waiting: Effects,
}

/// Starts the driver thread. Stores the first routing copy before returning.
pub fn start(server: Arc<Server>, listeners: Vec<std::net::TcpListener>) {
    let Some(node) = server.shared.cluster.clone() else { return };
    {
        let mut eff = {
            let mut core = node.core.lock();
            node.process(&mut core, Vec::new(), true)
        };
        let mut st = server.state.lock();
        node.apply_state(&mut st, &server.shared, &mut eff);
    }
    let (tx, rx) = unbounded_channel::<Ev>();
    let tx2 = tx.clone();
    let _ = node.net.set(Box::new(move |outs| {
        let _ = tx2.send(Ev::Net(outs));
    }));
    std::thread::Builder::new()
        .name("shoal-cluster".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                for l in listeners {
                    if l.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let Ok(l) = tokio::net::TcpListener::from_std(l) else { continue };
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        loop {
                            match l.accept().await {
                                Ok((s, _)) => {
                                    if tx.send(Ev::Accepted(s)).is_err() {
                                        return;
                                    }
                                }
                                Err(e) => {
                                    warning!("Error accepting cluster node: {e}");
                                    tokio::time::sleep(Duration::from_millis(10)).await;
                                }
                            }
                        }
                    });
                }
                let d = Driver { server, node, tx, links: HashMap::new(), waiting: Effects::default() };
                d.run(rx).await;
            });
        })
        .expect("spawn cluster thread");
}

fn ip_string(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        IpAddr::V4(v4) => v4.to_string(),
    }
}

impl Driver {
    async fn run(mut self, mut rx: UnboundedReceiver<Ev>) {
        let mut tick = tokio::time::interval(Duration::from_millis(shoal_cluster::state::CRON_PERIOD_MS));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n: u64 = 0;
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    n += 1;
                    self.tick(n);
                }
                ev = rx.recv() => match ev {
                    Some(ev) => self.event(ev),
                    None => return,
                }
            }
        }
    }

    fn tick(&mut self, n: u64) {
        let refresh = n.is_multiple_of(10);
        let outs = {
            let mut core = self.node.core.lock();
            if refresh {
                let cfg = self.server.shared.config.read();
                core.cs.cfg.node_timeout = cfg.get_i64("cluster-node-timeout").max(0) as u64;
                core.cs.cfg.require_full_coverage = cfg.get_bool("cluster-require-full-coverage");
                core.cs.cfg.allow_replica_migration = cfg.get_bool("cluster-allow-replica-migration");
            }
            let c = &mut *core;
            c.cs.tick(now_ms(), &mut c.rng)
        };
        self.step(outs, refresh);
    }

    /// Carries out a state-machine step's outputs.
    fn step(&mut self, outs: Vec<Output>, force_routing: bool) {
        let eff = {
            let mut core = self.node.core.lock();
            self.node.process(&mut core, outs, force_routing)
        };
        let Effects { net, routing, slots_lost, publish } = eff;
        if routing.is_some() {
            self.waiting.routing = routing;
        }
        self.waiting.slots_lost.extend(slots_lost);
        self.waiting.publish.extend(publish);
        self.net(net);
        if self.waiting.needs_state() {
            if let Some(mut st) = self.server.state.try_lock_for(Duration::from_millis(5)) {
                self.node.apply_state(&mut st, &self.server.shared, &mut self.waiting);
            }
        }
    }

    fn net(&mut self, outs: Vec<Output>) {
        for o in outs {
            match o {
                Output::Connect { link, ip, cport } => {
                    self.links.insert(link, Io::default());
                    let timeout = {
                        let mut core = self.node.core.lock();
                        core.link_ctime.insert(link, now_ms());
                        core.cs.cfg.node_timeout.max(1000)
                    };
                    let tx = self.tx.clone();
                    tokio::spawn(async move {
                        let ev = match ip.parse::<IpAddr>() {
                            Ok(a) => {
                                match tokio::time::timeout(Duration::from_millis(timeout), TcpStream::connect(SocketAddr::new(a, cport)))
                                    .await
                                {
                                    Ok(Ok(stream)) => Ev::Connected { link, stream },
                                    _ => Ev::ConnectFailed { link },
                                }
                            }
                            Err(_) => Ev::ConnectFailed { link },
                        };
                        let _ = tx.send(ev);
                    });
                }
                Output::Send { link, msg } => {
                    if let Some(c) = self.node.sent.get(msg.hdr.msg_type as usize) {
                        c.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Some(io) = self.links.get_mut(&link) {
                        match &io.tx {
                            Some(tx) => {
                                let _ = tx.send(wire::encode(&msg));
                            }
                            None => wire::encode_into(&msg, &mut io.pending),
                        }
                    }
                }
                Output::Close { link } => {
                    if let Some(io) = self.links.remove(&link) {
                        for t in io.tasks {
                            t.abort();
                        }
                    }
                    self.node.core.lock().link_ctime.remove(&link);
                }
                _ => {}
            }
        }
    }

    /// Starts the reader and writer tasks of a connected link.
    fn attach(&mut self, link: LinkId, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let (mut rd, mut wr) = stream.into_split();
        let (wtx, mut wrx) = unbounded_channel::<Vec<u8>>();
        let io = self.links.entry(link).or_default();
        if !io.pending.is_empty() {
            let _ = wtx.send(std::mem::take(&mut io.pending));
        }
        io.tx = Some(wtx);
        let tx = self.tx.clone();
        let w = tokio::spawn(async move {
            while let Some(mut b) = wrx.recv().await {
                while let Ok(more) = wrx.try_recv() {
                    b.extend_from_slice(&more);
                }
                if wr.write_all(&b).await.is_err() {
                    let _ = tx.send(Ev::Closed { link });
                    return;
                }
            }
        });
        let tx = self.tx.clone();
        let r = tokio::spawn(async move {
            let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
            let mut tmp = vec![0u8; 64 * 1024];
            loop {
                let n = match rd.read(&mut tmp).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&tmp[..n]);
                let mut off = 0;
                loop {
                    match wire::next_frame(&buf[off..]) {
                        Err(_) => {
                            let _ = tx.send(Ev::Closed { link });
                            return;
                        }
                        Ok(None) => break,
                        Ok(Some((len, r))) => {
                            off += len;
                            if let Ok(msg) = r {
                                if tx.send(Ev::Msg { link, msg: Box::new(msg) }).is_err() {
                                    return;
                                }
                            }
                        }
                    }
                }
                buf.drain(..off);
            }
            let _ = tx.send(Ev::Closed { link });
        });
        io.tasks.push(w.abort_handle());
        io.tasks.push(r.abort_handle());
    }

    fn event(&mut self, ev: Ev) {
        match ev {
            Ev::Net(outs) => self.net(outs),
            Ev::Accepted(stream) => {
                let peer = stream.peer_addr().map(|a| ip_string(a.ip())).unwrap_or_default();
                let local = stream.local_addr().map(|a| ip_string(a.ip())).unwrap_or_default();
                let link = {
                    let mut core = self.node.core.lock();
                    let now = now_ms();
                    let l = core.cs.accept_link(&peer, &local, now);
                    core.link_ctime.insert(l, now);
                    l
                };
                self.links.insert(link, Io::default());
                self.attach(link, stream);
            }
            Ev::Connected { link, stream } => {
                if !self.links.contains_key(&link) {
                    return;
                }
                let local = stream.local_addr().map(|a| ip_string(a.ip())).unwrap_or_default();
                self.attach(link, stream);
                let outs = {
                    let mut core = self.node.core.lock();
                    let c = &mut *core;
                    c.cs.link_connected(link, &local, now_ms(), &mut c.rng)
                };
                self.step(outs, false);
            }
            Ev::ConnectFailed { link } | Ev::Closed { link } => {
                let Some(io) = self.links.remove(&link) else { return };
                for t in io.tasks {
                    t.abort();
                }
                let outs = {
                    let mut core = self.node.core.lock();
                    core.link_ctime.remove(&link);
                    core.cs.link_closed(link, now_ms())
                };
                self.step(outs, false);
            }
            Ev::Msg { link, msg } => {
                if !self.links.contains_key(&link) {
                    return;
                }
                if let Some(c) = self.node.received.get(msg.hdr.msg_type as usize) {
                    c.fetch_add(1, Ordering::Relaxed);
                }
                let outs = {
                    let mut core = self.node.core.lock();
                    let c = &mut *core;
                    c.cs.on_message(link, &msg, now_ms(), &mut c.rng)
                };
                self.step(outs, false);
            }
        }
    }
}

/// Logs the start-up line of cluster mode (kept here so server.rs stays small).
pub fn log_ready(port: u16) {
    notice!("Running mode=cluster, port={port}.");
}
