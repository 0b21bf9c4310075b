//! A fake cluster node that talks to a real redis-server over the cluster bus using only this crate's
//! wire module: it answers MEET/PING with PONG (claiming some slots), pings the server itself, prints
//! every decoded message, and saves the first message of each kind it receives as a fixture.
//!
//! Usage: bus_probe <my-port> <redis-bus-port> <seconds> <fixture-dir> <my-slot-ranges e.g. 0-10,100-200>
//! (used by hand and by tests/fixtures/README.md; not part of `cargo test`).

use shoal_cluster::wire::{self, Body, Header, Message};
use shoal_cluster::{flags, NodeName, SlotBitmap};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MY_NAME: &[u8; 40] = b"abcdef0000000000000000000000000000000001";

struct Cfg {
    port: u16,
    slots: SlotBitmap,
    dir: String,
    saved: Mutex<Vec<String>>,
}

fn pong(cfg: &Cfg, t: u16) -> Vec<u8> {
    let mut h = Header::new(t, NodeName(*MY_NAME));
    h.port = cfg.port;
    h.cport = cfg.port + 10000;
    h.flags = flags::MASTER;
    h.current_epoch = 1;
    h.config_epoch = 0;
    h.myslots = cfg.slots.clone();
    let m = Message { hdr: h, body: Body::Ping { gossip: vec![], exts: vec![wire::PingExt::Hostname(b"shoal-probe".to_vec())] } };
    wire::encode(&m)
}

fn save(cfg: &Cfg, kind: &str, raw: &[u8]) {
    let mut s = cfg.saved.lock().unwrap_or_else(|e| e.into_inner());
    if s.iter().any(|k| k == kind) {
        return;
    }
    s.push(kind.to_string());
    let p = format!("{}/{}.bin", cfg.dir, kind);
    std::fs::write(&p, raw).expect("write fixture");
    println!("saved {p} ({} bytes)", raw.len());
}

fn describe(m: &Message) -> String {
    let h = &m.hdr;
    let mut s = format!(
        "{} from {} port={} cport={} pport={} flags={} state={} curEpoch={} cfgEpoch={} slots={:?} mflags={:?} ip={:?}",
        wire::type_name(h.msg_type),
        h.sender,
        h.port,
        h.cport,
        h.pport,
        h.flags,
        h.state,
        h.current_epoch,
        h.config_epoch,
        h.myslots.ranges(),
        h.mflags,
        String::from_utf8_lossy(h.ip())
    );
    match &m.body {
        Body::Ping { gossip, exts } => {
            for g in gossip {
                s += &format!(
                    "\n    gossip {} {}:{}@{} flags={} ping={} pong={}",
                    g.nodename,
                    String::from_utf8_lossy(g.ip()),
                    g.port,
                    g.cport,
                    g.flags,
                    g.ping_sent,
                    g.pong_received
                );
            }
            for e in exts {
                s += &format!("\n    ext {e:?}");
            }
        }
        Body::Update { config_epoch, nodename, slots } => {
            s += &format!("\n    update {nodename} epoch={config_epoch} {:?}", slots.ranges())
        }
        Body::Fail { about } => s += &format!("\n    fail {about}"),
        _ => {}
    }
    s
}

fn kind_of(m: &Message) -> String {
    let base = wire::type_name(m.hdr.msg_type).to_string();
    match &m.body {
        Body::Ping { gossip, exts } => {
            let mut k = base;
            if !gossip.is_empty() {
                k += "_gossip";
            }
            if !exts.is_empty() {
                k += "_ext";
            }
            k
        }
        _ => base,
    }
}

fn serve(cfg: Arc<Cfg>, mut s: TcpStream, label: &str, deadline: Instant) {
    s.set_read_timeout(Some(Duration::from_millis(200))).ok();
    let mut buf = Vec::new();
    let mut tmp = [0u8; 65536];
    let mut last_ping = Instant::now() - Duration::from_secs(10);
    while Instant::now() < deadline {
        if label == "out" && last_ping.elapsed() > Duration::from_millis(500) {
            if s.write_all(&pong(&cfg, wire::TYPE_PING)).is_err() {
                return;
            }
            last_ping = Instant::now();
        }
        match s.read(&mut tmp) {
            Ok(0) => {
                println!("[{label}] closed");
                return;
            }
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
            Err(_) => continue,
        }
        loop {
            match wire::next_frame(&buf) {
                Err(e) => {
                    println!("[{label}] stream error {e}");
                    return;
                }
                Ok(None) => break,
                Ok(Some((n, r))) => {
                    let raw: Vec<u8> = buf.drain(..n).collect();
                    match r {
                        Err(e) => println!("[{label}] invalid message: {e}"),
                        Ok(m) => {
                            println!("[{label}] {}", describe(&m));
                            save(&cfg, &kind_of(&m), &raw);
                            if (m.hdr.msg_type == wire::TYPE_PING || m.hdr.msg_type == wire::TYPE_MEET)
                                && s.write_all(&pong(&cfg, wire::TYPE_PONG)).is_err()
                            {
                                return;
                            }
                        }
                    }
                }
            }
        }
    }
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 6 {
        eprintln!("usage: bus_probe <my-port> <redis-bus-port> <seconds> <fixture-dir> <slot-ranges>");
        std::process::exit(2);
    }
    let port: u16 = a[1].parse().expect("port");
    let redis_bus: u16 = a[2].parse().expect("redis bus port");
    let secs: u64 = a[3].parse().expect("seconds");
    let mut slots = SlotBitmap::default();
    for r in a[5].split(',').filter(|r| !r.is_empty()) {
        let (x, y) = r.split_once('-').unwrap_or((r, r));
        for s in x.parse::<usize>().expect("slot")..=y.parse::<usize>().expect("slot") {
            slots.set(s);
        }
    }
    let cfg = Arc::new(Cfg { port, slots, dir: a[4].clone(), saved: Mutex::new(Vec::new()) });
    let deadline = Instant::now() + Duration::from_secs(secs);
    let l = TcpListener::bind(("127.0.0.1", port + 10000)).expect("bind");
    l.set_nonblocking(true).ok();
    let mut handles = Vec::new();
    let mut out_started = false;
    let start = Instant::now();
    while Instant::now() < deadline {
        if let Ok((s, peer)) = l.accept() {
            println!("[in] accepted {peer}");
            s.set_nonblocking(false).ok();
            let c = cfg.clone();
            handles.push(std::thread::spawn(move || serve(c, s, "in", deadline)));
        }
        if !out_started && start.elapsed() > Duration::from_secs(2) {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", redis_bus)) {
                out_started = true;
                let c = cfg.clone();
                handles.push(std::thread::spawn(move || serve(c, s, "out", deadline)));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for h in handles {
        let _ = h.join();
    }
}
