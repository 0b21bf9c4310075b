//! Shoal's cluster logic: the Redis 7.0 cluster bus wire format, the node state machine
//! (messages and clock ticks in, messages and state changes out; no I/O, no wall clock,
//! no thread randomness), nodes.conf, and a deterministic simulator.
//!
//! Layout:
//! - [`wire`]: the "RCmb" cluster bus messages, byte compatible with redis-server 7.0
//!   (`clusterMsg` of cluster.h), encode/decode with Redis's validation rules.
//! - [`nodes_conf`]: the nodes.conf file format (parse/render) and an atomic write helper.
//! - [`state`]: the per-node state machine (`ClusterState`), modelled on cluster.c of 7.0.
//! - [`sim`]: a single-threaded deterministic simulator of many nodes over a lossy network.
//!
//! Shared small types (node names, slot bitmaps, node flags) live here.

pub mod nodes_conf;
pub mod sim;
pub mod state;
pub mod wire;

/// Number of hash slots.
pub const SLOTS: usize = 16384;
/// Length of a node name (hex SHA1-like, 40 chars).
pub const NAMELEN: usize = 40;
/// NET_IP_STR_LEN of Redis (INET6_ADDRSTRLEN).
pub const IP_LEN: usize = 46;
/// Cluster bus port = client port + this (Redis's CLUSTER_PORT_INCR).
pub const PORT_INCR: u16 = 10000;

/// Injected randomness: the state machine draws every random number through this.
pub trait Rng {
    fn next_u64(&mut self) -> u64;
    /// Uniform in 0..n (n > 0); modulo bias is irrelevant here.
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}

/// SplitMix64: a tiny seeded generator for tests and the simulator.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl Rng for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
}

/// A node name: 40 bytes, normally lowercase hex. All zero means "none" on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeName(pub [u8; NAMELEN]);

impl NodeName {
    pub const NULL: NodeName = NodeName([0; NAMELEN]);

    pub fn is_null(&self) -> bool {
        self.0 == [0; NAMELEN]
    }

    /// Parses a 40-byte name (any bytes; see [`NodeName::is_valid_hex`]).
    pub fn from_bytes(b: &[u8]) -> Option<NodeName> {
        let a: [u8; NAMELEN] = b.try_into().ok()?;
        Some(NodeName(a))
    }

    /// Redis's verifyClusterNodeId: 40 chars of [0-9a-f].
    pub fn is_valid_hex(&self) -> bool {
        self.0.iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
    }

    /// A random name as Redis's getRandomHexChars: 40 lowercase hex chars, from the injected rng.
    pub fn random(rng: &mut dyn Rng) -> NodeName {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut n = [0u8; NAMELEN];
        let mut bits = 0u64;
        for (i, c) in n.iter_mut().enumerate() {
            if i % 16 == 0 {
                bits = rng.next_u64();
            }
            *c = HEX[(bits & 15) as usize];
            bits >>= 4;
        }
        NodeName(n)
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("<non-utf8-name>")
    }
}

impl std::fmt::Debug for NodeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_null() {
            f.write_str("NULL")
        } else {
            f.write_str(&String::from_utf8_lossy(&self.0))
        }
    }
}

impl std::fmt::Display for NodeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// A 16384-bit slot bitmap laid out as Redis's (bit `slot & 7` of byte `slot / 8`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SlotBitmap(pub Box<[u8; SLOTS / 8]>);

impl Default for SlotBitmap {
    fn default() -> Self {
        SlotBitmap(Box::new([0; SLOTS / 8]))
    }
}

impl SlotBitmap {
    pub fn get(&self, slot: usize) -> bool {
        self.0[slot >> 3] & (1 << (slot & 7)) != 0
    }
    pub fn set(&mut self, slot: usize) {
        self.0[slot >> 3] |= 1 << (slot & 7);
    }
    pub fn clear(&mut self, slot: usize) {
        self.0[slot >> 3] &= !(1 << (slot & 7));
    }
    pub fn count(&self) -> usize {
        self.0.iter().map(|b| b.count_ones() as usize).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&b| b == 0)
    }
    pub fn from_slice(b: &[u8]) -> Option<SlotBitmap> {
        let a: [u8; SLOTS / 8] = b.try_into().ok()?;
        Some(SlotBitmap(Box::new(a)))
    }
    /// Iterates the set slots in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0
            .iter()
            .enumerate()
            .filter(|(_, &b)| b != 0)
            .flat_map(|(i, &b)| (0..8).filter(move |k| b & (1 << k) != 0).map(move |k| i * 8 + k))
    }
    /// Set slots as inclusive ranges.
    pub fn ranges(&self) -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = Vec::new();
        for s in self.iter() {
            match out.last_mut() {
                Some(r) if r.1 + 1 == s => r.1 = s,
                _ => out.push((s, s)),
            }
        }
        out
    }
}

impl std::fmt::Debug for SlotBitmap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SlotBitmap{:?}", self.ranges())
    }
}

/// Node flags, values as Redis's CLUSTER_NODE_* (they travel on the wire in the header and gossip).
pub mod flags {
    pub const MASTER: u16 = 1;
    pub const SLAVE: u16 = 2;
    pub const PFAIL: u16 = 4;
    pub const FAIL: u16 = 8;
    pub const MYSELF: u16 = 16;
    pub const HANDSHAKE: u16 = 32;
    pub const NOADDR: u16 = 64;
    pub const MEET: u16 = 128;
    pub const MIGRATE_TO: u16 = 256;
    pub const NOFAILOVER: u16 = 512;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_bitmap_layout_and_ranges() {
        let mut b = SlotBitmap::default();
        b.set(0);
        b.set(1);
        b.set(9);
        b.set(16383);
        assert_eq!(b.0[0], 0b11);
        assert_eq!(b.0[1], 0b10);
        assert_eq!(b.0[2047], 0x80);
        assert_eq!(b.ranges(), vec![(0, 1), (9, 9), (16383, 16383)]);
        assert_eq!(b.count(), 4);
        b.clear(9);
        assert!(!b.get(9));
    }

    #[test]
    fn random_names_are_hex() {
        let mut rng = SplitMix64(1);
        let n = NodeName::random(&mut rng);
        assert!(n.is_valid_hex());
        assert_ne!(n, NodeName::random(&mut rng));
    }
}
