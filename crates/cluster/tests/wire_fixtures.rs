//! Messages captured from a real redis-server 7.0.15 (see tests/fixtures/README.md): they decode to what
//! the servers reported, and re-encode to the identical bytes.

use shoal_cluster::wire::{self, Body, PingExt};
use shoal_cluster::{flags, NodeName};

fn fixture(name: &str) -> Vec<u8> {
    let p = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn myid(name: &str) -> NodeName {
    let s = String::from_utf8(fixture(name)).expect("utf8");
    NodeName::from_bytes(s.trim().as_bytes()).expect("40 chars")
}

const PROBE: &[u8; 40] = b"abcdef0000000000000000000000000000000001";

fn check_a_header(m: &wire::Message) {
    let a = myid("redis_a.myid");
    assert_eq!(m.hdr.sender, a);
    assert_eq!(m.hdr.port, 7160);
    assert_eq!(m.hdr.cport, 17160);
    assert_eq!(m.hdr.pport, 0);
    assert_eq!(m.hdr.flags, flags::MYSELF | flags::MASTER);
    assert_eq!(m.hdr.config_epoch, 1);
    assert_eq!(m.hdr.myslots.ranges(), vec![(0, 10)]);
    assert!(m.hdr.slaveof.is_null());
}

#[test]
fn all_fixtures_round_trip_byte_for_byte() {
    for f in ["meet_ext", "ping", "ping_ext", "ping_gossip", "ping_gossip_ext", "pong_ext", "pong_gossip_ext", "update"] {
        let raw = fixture(&format!("{f}.bin"));
        let m = wire::decode(&raw).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(wire::encode(&m), raw, "{f}");
        assert_eq!(wire::next_frame(&raw).expect("frame").expect("whole").0, raw.len());
    }
}

#[test]
fn meet_from_redis() {
    let m = wire::decode(&fixture("meet_ext.bin")).expect("decode");
    assert_eq!(m.hdr.msg_type, wire::TYPE_MEET);
    check_a_header(&m);
    // redis-a was started with --cluster-announce-hostname redis-a
    assert_eq!(m.hdr.mflags[0], wire::FLAG0_EXT_DATA);
    assert_eq!(m.body, Body::Ping { gossip: vec![], exts: vec![PingExt::Hostname(b"redis-a".to_vec())] });
}

#[test]
fn ping_with_gossip_and_hostname() {
    let m = wire::decode(&fixture("ping_gossip_ext.bin")).expect("decode");
    assert_eq!(m.hdr.msg_type, wire::TYPE_PING);
    check_a_header(&m);
    let Body::Ping { gossip, exts } = &m.body else { panic!("not a ping body") };
    assert_eq!(gossip.len(), 1);
    let g = &gossip[0];
    assert_eq!(g.nodename, myid("redis_b.myid"));
    assert_eq!(g.ip(), b"127.0.0.1");
    assert_eq!((g.port, g.cport, g.pport, g.flags), (7162, 17162, 0, flags::MASTER));
    assert_eq!(exts, &vec![PingExt::Hostname(b"redis-a".to_vec())]);
}

#[test]
fn ping_from_node_without_hostname_has_no_extensions() {
    let m = wire::decode(&fixture("ping_gossip.bin")).expect("decode");
    assert_eq!(m.hdr.sender, myid("redis_b.myid"));
    assert_eq!(m.hdr.mflags, [0, 0, 0]);
    let Body::Ping { gossip, exts } = &m.body else { panic!("not a ping body") };
    assert!(exts.is_empty());
    assert_eq!(gossip[0].nodename, myid("redis_a.myid"));
    assert_eq!((gossip[0].port, gossip[0].cport), (7160, 17160));
}

#[test]
fn pong_and_update_from_redis() {
    let m = wire::decode(&fixture("pong_ext.bin")).expect("decode");
    assert_eq!(m.hdr.msg_type, wire::TYPE_PONG);
    check_a_header(&m);
    // We (the probe) claimed 0-10 with configEpoch 0 while redis-a owns them at epoch 1: it sent UPDATE.
    let m = wire::decode(&fixture("update.bin")).expect("decode");
    assert_eq!(m.hdr.msg_type, wire::TYPE_UPDATE);
    check_a_header(&m);
    let Body::Update { config_epoch, nodename, slots } = &m.body else { panic!("not an update") };
    assert_eq!(*config_epoch, 1);
    assert_eq!(*nodename, myid("redis_a.myid"));
    assert_eq!(slots.ranges(), vec![(0, 10)]);
    assert_ne!(m.hdr.sender.0, *PROBE);
}

#[test]
fn nodes_conf_written_by_redis_round_trips() {
    let text = String::from_utf8(fixture("redis_a.nodes.conf")).expect("utf8");
    let c = shoal_cluster::nodes_conf::parse(&text).expect("parse");
    assert_eq!(shoal_cluster::nodes_conf::render(&c), text);
    let me = c.nodes.iter().find(|n| n.flags & flags::MYSELF != 0).expect("myself");
    assert_eq!(me.name, myid("redis_a.myid"));
    assert_eq!(me.hostname, "redis-a");
    let probe = c.nodes.iter().find(|n| n.name.0 == *PROBE).expect("probe");
    assert_eq!(probe.slots, vec![(100, 200)]);
    assert_eq!(probe.hostname, "shoal-probe");
    for f in ["redis_moves.nodes.conf", "redis_replica.nodes.conf"] {
        let text = String::from_utf8(fixture(f)).expect("utf8");
        let c = shoal_cluster::nodes_conf::parse(&text).expect("parse");
        assert_eq!(shoal_cluster::nodes_conf::render(&c), text, "{f}");
    }
    let c = shoal_cluster::nodes_conf::parse(&String::from_utf8(fixture("redis_moves.nodes.conf")).expect("utf8")).expect("parse");
    let me = c.nodes.iter().find(|n| n.flags & flags::MYSELF != 0).expect("myself");
    assert_eq!(me.slots, vec![(0, 0), (2, 3), (5, 5), (9, 9)]);
    assert_eq!(me.moves.len(), 2);
}
