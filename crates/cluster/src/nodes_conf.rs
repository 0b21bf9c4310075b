//! nodes.conf: the cluster configuration file, in redis-server 7.0's exact format.
//!
//! What Redis does (clusterSaveConfig / clusterGenNodeDescription / clusterLoadConfig of cluster.c 7.0):
//! one line per known node except those in handshake, in dict order:
//! `<id> <ip>:<port>@<cport>[,<hostname>] <flags> <master-id|-> <ping-sent> <pong-recv> <config-epoch>
//! <connected|disconnected> <slot ranges...>`, where flags is a comma list in the order myself, master,
//! slave, fail?, fail, handshake, noaddr, nofailover (or `noflags`), ranges are `a-b` or `a`, and only the
//! `myself` line also carries `[slot->-node]` (migrating) / `[slot-<-node]` (importing) entries, in slot
//! order. The last line is `vars currentEpoch N lastVoteEpoch M`. 7.0 rewrites the file in place (padding
//! with '\n' then truncating), so the loader skips empty lines. On load, unknown flags abort startup, a
//! missing `@cport` means port+10000 (pre-4.0 files), nonzero ping-sent/pong-recv become "now", and the
//! link-state column is ignored.
//!
//! What we do: [`parse`] produces a [`NodesConf`] (lines kept in file order, raw values kept) and
//! [`render`] writes it back; parse then render of a file written by redis-server is byte-identical
//! (tested against a captured redis-a nodes.conf). The state machine converts to and from `NodesConf`.
//! Saving uses [`write_atomic`] (temp file, fsync, rename, fsync of the directory) instead of Redis 7.0's
//! in-place rewrite, so a crash never leaves a half-written file (the content is the same).

use crate::{flags, NodeName, PORT_INCR, SLOTS};
use std::fmt::Write as _;

/// A `[slot->-node]` or `[slot-<-node]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlotMove {
    Migrating { slot: u16, to: NodeName },
    Importing { slot: u16, from: NodeName },
}

/// One node line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeLine {
    pub name: NodeName,
    pub ip: String,
    pub port: u16,
    pub cport: u16,
    /// The announced hostname (`,hostname` after the address); empty when absent.
    pub hostname: String,
    /// CLUSTER_NODE_* flags that the file carries (myself, master, slave, pfail, fail, handshake, noaddr, nofailover).
    pub flags: u16,
    pub master: Option<NodeName>,
    pub ping_sent: u64,
    pub pong_received: u64,
    pub config_epoch: u64,
    pub connected: bool,
    /// Inclusive slot ranges in file order.
    pub slots: Vec<(u16, u16)>,
    /// Migrating/importing entries (meaningful on the myself line).
    pub moves: Vec<SlotMove>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NodesConf {
    pub nodes: Vec<NodeLine>,
    pub current_epoch: u64,
    pub last_vote_epoch: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfError {
    pub line: usize,
    pub msg: String,
}

impl std::fmt::Display for ConfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Unrecoverable error: corrupted cluster config file (line {}: {})", self.line, self.msg)
    }
}

impl std::error::Error for ConfError {}

/// Flag names in Redis's representClusterNodeFlags order.
const FLAG_NAMES: &[(u16, &str)] = &[
    (flags::MYSELF, "myself"),
    (flags::MASTER, "master"),
    (flags::SLAVE, "slave"),
    (flags::PFAIL, "fail?"),
    (flags::FAIL, "fail"),
    (flags::HANDSHAKE, "handshake"),
    (flags::NOADDR, "noaddr"),
    (flags::NOFAILOVER, "nofailover"),
];

/// The flags column as Redis writes it (also used by CLUSTER NODES).
pub fn flags_string(f: u16, out: &mut String) {
    let start = out.len();
    for (bit, name) in FLAG_NAMES {
        if f & bit != 0 {
            if out.len() > start {
                out.push(',');
            }
            out.push_str(name);
        }
    }
    if out.len() == start {
        out.push_str("noflags");
    }
}

fn parse_u64(s: &str, line: usize, what: &str) -> Result<u64, ConfError> {
    s.parse::<u64>().map_err(|_| ConfError { line, msg: format!("bad {what} '{s}'") })
}

fn parse_name(s: &str, line: usize) -> Result<NodeName, ConfError> {
    NodeName::from_bytes(s.as_bytes()).ok_or_else(|| ConfError { line, msg: format!("bad node name '{s}'") })
}

fn parse_slot(s: &str, line: usize) -> Result<u16, ConfError> {
    match s.parse::<u16>() {
        Ok(v) if (v as usize) < SLOTS => Ok(v),
        _ => Err(ConfError { line, msg: format!("bad slot '{s}'") }),
    }
}

/// Parses a nodes.conf. Empty lines are skipped; an unknown `vars` key is ignored (as Redis, which logs).
pub fn parse(text: &str) -> Result<NodesConf, ConfError> {
    let mut conf = NodesConf::default();
    for (i, raw) in text.split('\n').enumerate() {
        let line = i + 1;
        let argv: Vec<&str> = raw.split(' ').filter(|s| !s.is_empty()).collect();
        if argv.is_empty() {
            continue;
        }
        if argv[0] == "vars" {
            if argv.len() % 2 != 1 {
                return Err(ConfError { line, msg: "odd vars".into() });
            }
            for kv in argv[1..].chunks(2) {
                match kv[0] {
                    "currentEpoch" => conf.current_epoch = parse_u64(kv[1], line, "currentEpoch")?,
                    "lastVoteEpoch" => conf.last_vote_epoch = parse_u64(kv[1], line, "lastVoteEpoch")?,
                    _ => {}
                }
            }
            continue;
        }
        if argv.len() < 8 {
            return Err(ConfError { line, msg: "fewer than 8 fields".into() });
        }
        let name = parse_name(argv[0], line)?;
        let (addr, hostname) = match argv[1].split_once(',') {
            Some((a, h)) => (a, h.to_string()),
            None => (argv[1], String::new()),
        };
        let colon = addr.rfind(':').ok_or_else(|| ConfError { line, msg: "address without ':'".into() })?;
        let ip = addr[..colon].to_string();
        let rest = &addr[colon + 1..];
        let (port_s, cport_s) = match rest.split_once('@') {
            Some((p, c)) => (p, Some(c)),
            None => (rest, None),
        };
        let port = port_s.parse::<u16>().map_err(|_| ConfError { line, msg: format!("bad port '{port_s}'") })?;
        let cport = match cport_s {
            Some(c) => c.parse::<u16>().map_err(|_| ConfError { line, msg: format!("bad cluster port '{c}'") })?,
            None => port.wrapping_add(PORT_INCR),
        };
        let mut fl = 0u16;
        for f in argv[2].split(',') {
            if f == "noflags" {
                continue;
            }
            match FLAG_NAMES.iter().find(|(_, n)| *n == f) {
                Some((bit, _)) => fl |= bit,
                None => return Err(ConfError { line, msg: format!("Unknown flag in redis cluster config file '{f}'") }),
            }
        }
        let master = if argv[3] == "-" { None } else { Some(parse_name(argv[3], line)?) };
        let ping_sent = parse_u64(argv[4], line, "ping-sent")?;
        let pong_received = parse_u64(argv[5], line, "pong-recv")?;
        let config_epoch = parse_u64(argv[6], line, "config-epoch")?;
        let connected = argv[7] == "connected";
        let mut slots = Vec::new();
        let mut moves = Vec::new();
        for a in &argv[8..] {
            if let Some(inner) = a.strip_prefix('[') {
                let inner = inner.strip_suffix(']').ok_or_else(|| ConfError { line, msg: format!("bad slot entry '{a}'") })?;
                if let Some((s, n)) = inner.split_once("->-") {
                    moves.push(SlotMove::Migrating { slot: parse_slot(s, line)?, to: parse_name(n, line)? });
                } else if let Some((s, n)) = inner.split_once("-<-") {
                    moves.push(SlotMove::Importing { slot: parse_slot(s, line)?, from: parse_name(n, line)? });
                } else {
                    return Err(ConfError { line, msg: format!("bad slot entry '{a}'") });
                }
            } else if let Some((x, y)) = a.split_once('-') {
                let (x, y) = (parse_slot(x, line)?, parse_slot(y, line)?);
                if x > y {
                    return Err(ConfError { line, msg: format!("bad slot range '{a}'") });
                }
                slots.push((x, y));
            } else {
                let s = parse_slot(a, line)?;
                slots.push((s, s));
            }
        }
        conf.nodes.push(NodeLine {
            name,
            ip,
            port,
            cport,
            hostname,
            flags: fl,
            master,
            ping_sent,
            pong_received,
            config_epoch,
            connected,
            slots,
            moves,
        });
    }
    Ok(conf)
}

/// One node line without the trailing newline (the CLUSTER NODES / nodes.conf description).
pub fn render_line(n: &NodeLine, out: &mut String) {
    let _ = write!(out, "{} {}:{}@{}", n.name, n.ip, n.port, n.cport);
    if !n.hostname.is_empty() {
        out.push(',');
        out.push_str(&n.hostname);
    }
    out.push(' ');
    flags_string(n.flags, out);
    match &n.master {
        Some(m) => {
            out.push(' ');
            out.push_str(m.as_str());
        }
        None => out.push_str(" -"),
    }
    let _ =
        write!(out, " {} {} {} {}", n.ping_sent, n.pong_received, n.config_epoch, if n.connected { "connected" } else { "disconnected" });
    for &(a, b) in &n.slots {
        if a == b {
            let _ = write!(out, " {a}");
        } else {
            let _ = write!(out, " {a}-{b}");
        }
    }
    for m in &n.moves {
        match m {
            SlotMove::Migrating { slot, to } => {
                let _ = write!(out, " [{slot}->-{to}]");
            }
            SlotMove::Importing { slot, from } => {
                let _ = write!(out, " [{slot}-<-{from}]");
            }
        }
    }
}

/// The whole file, as clusterSaveConfig writes it (before padding).
pub fn render(conf: &NodesConf) -> String {
    let mut out = String::new();
    for n in &conf.nodes {
        render_line(n, &mut out);
        out.push('\n');
    }
    let _ = writeln!(out, "vars currentEpoch {} lastVoteEpoch {}", conf.current_epoch, conf.last_vote_epoch);
    out
}

/// Writes `data` to `path` atomically: a temp file beside it, fsync, rename over `path`, fsync the directory.
pub fn write_atomic(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file_name = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| "nodes.conf".into());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(&dir)?.sync_all()
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
7b91bf26fb7bfcd9a67b67647070ef6469a852b4 127.0.0.1:7162@17162 master - 0 1795311753993 2 connected
abcdef0000000000000000000000000000000001 127.0.0.1:7161@17161,shoal-probe master - 1795311755099 1795311754495 0 disconnected 100-200
6fc36fc72d5b0ab95a98fe6eefe622b5108c5131 127.0.0.1:7160@17160,redis-a myself,master - 0 1795311750000 1 connected 0-10
vars currentEpoch 2 lastVoteEpoch 0
";

    #[test]
    fn round_trip_sample() {
        let c = parse(SAMPLE).expect("parse");
        assert_eq!(c.nodes.len(), 3);
        assert_eq!(c.current_epoch, 2);
        assert_eq!(c.nodes[1].hostname, "shoal-probe");
        assert_eq!(c.nodes[2].flags, flags::MYSELF | flags::MASTER);
        assert_eq!(c.nodes[2].slots, vec![(0, 10)]);
        assert!(!c.nodes[1].connected);
        assert_eq!(render(&c), SAMPLE);
    }

    #[test]
    fn moves_replicas_flags_and_old_format() {
        let text = "\
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 10.0.0.1:6379@16379 myself,master - 0 0 5 connected 0 2-3 [5->-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb] [7-<-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb]
bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb ::1:6380@16380 slave,fail?,nofailover aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1 2 5 connected
cccccccccccccccccccccccccccccccccccccccc :0@0 noflags,noaddr - 0 0 0 disconnected

vars currentEpoch 9 lastVoteEpoch 4


";
        let c = parse(text).expect("parse");
        assert_eq!(c.nodes[0].moves.len(), 2);
        assert_eq!(c.nodes[1].ip, "::1");
        assert_eq!(c.nodes[1].master, Some(NodeName([b'a'; 40])));
        assert_eq!(c.nodes[1].flags, flags::SLAVE | flags::PFAIL | flags::NOFAILOVER);
        assert_eq!(c.nodes[2].flags, flags::NOADDR);
        assert_eq!((c.current_epoch, c.last_vote_epoch), (9, 4));
        let r = render(&c);
        assert!(r.contains(" 0 2-3 [5->-bbbb"));
        assert!(r.contains("cccccccccccccccccccccccccccccccccccccccc :0@0 noaddr - 0 0 0 disconnected\n"));
        assert_eq!(parse(&r), Ok(c));
        // pre-4.0 address without @cport
        let old = parse("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1.2.3.4:7000 myself,master - 0 0 0 connected\n").expect("old");
        assert_eq!(old.nodes[0].cport, 17000);
    }

    #[test]
    fn rejects_corruption() {
        assert!(parse("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1.2.3.4:7000 myself,master - 0 0 0\n").is_err());
        assert!(parse("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1.2.3.4:7000 bogus - 0 0 0 connected\n").is_err());
        assert!(parse("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1.2.3.4 master - 0 0 0 connected\n").is_err());
        assert!(parse("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1.2.3.4:1 master - 0 0 0 connected 16384\n").is_err());
        assert!(parse("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1.2.3.4:1 master - 0 0 0 connected 5-3\n").is_err());
        assert!(parse("vars currentEpoch\n").is_err());
        assert!(parse("short x y\n").is_err());
    }

    #[test]
    fn atomic_write() {
        let dir = std::env::temp_dir().join(format!("shoal-cluster-conf-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let p = dir.join("nodes.conf");
        write_atomic(&p, SAMPLE.as_bytes()).expect("write");
        write_atomic(&p, b"vars currentEpoch 0 lastVoteEpoch 0\n").expect("write");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "vars currentEpoch 0 lastVoteEpoch 0\n");
        assert_eq!(std::fs::read_dir(&dir).expect("ls").count(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
