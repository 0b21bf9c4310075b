//! The Redis 7.0 cluster bus message format ("RCmb"), byte compatible with redis-server 7.0.15.
//!
//! What Redis does: every cluster bus message is a `clusterMsg` (cluster.h of 7.0): a fixed 2256-byte
//! header (signature "RCmb", totlen, ver=1, port, type, count, currentEpoch, configEpoch, replication
//! offset, sender name, the sender's 16384-bit slot bitmap, slaveof, myip, extensions count, 30 reserved
//! bytes, pport, cport, flags, state, mflags[3]) followed by a type-specific body. Integers are big-endian
//! (htons/htonl/htonu64). PING/PONG/MEET carry `count` gossip entries of 104 bytes, then (when mflags[0]
//! has CLUSTERMSG_FLAG0_EXT_DATA) `extensions` ping extensions, each an 8-byte header (u32 length incl.
//! header, u16 type, u16 unused) plus a payload padded to a multiple of 8. Redis 7.0.15 knows exactly one
//! extension type: CLUSTERMSG_EXT_TYPE_HOSTNAME (0), a NUL-terminated hostname (FORGOTTEN_NODE, SHARDID and
//! HUMAN_NODENAME are 7.2+: the 7.0.15 binary has no trace of them; unknown types are skipped with a log
//! line). The stream reader first reads 8 bytes and drops the link when the signature is wrong or totlen is
//! below the header size (CLUSTERMSG_MIN_LEN); then a whole message is validated by clusterIsValidPacket
//! (exact totlen per type, unknown types accepted as-is) and an invalid message is ignored (link kept).
//!
//! What we do: plain Rust structs, encoded and decoded at explicit byte offsets (no transmute/unsafe).
//! The offsets are constants pinned by compile-time assertions mirroring Redis's static_asserts.
//! [`frame_len`] is the 8-byte check of the stream reader; [`decode`] is clusterIsValidPacket plus parsing
//! and never panics on any input; [`encode`] computes totlen, count and extensions itself.
//!
//! Differences, all on malformed input only: Redis reads an extension's length into a uint16_t while
//! validating (a length of 65544 passes as 8) and would then walk past the buffer; we use the full u32 and
//! reject. We also reject an extension header that does not fit in the message (Redis reads it anyway) and
//! extension lengths below 8 (Redis would loop on the same extension; it cannot be well formed).

use crate::{NodeName, SlotBitmap, IP_LEN, NAMELEN, SLOTS};

// ---- message types (CLUSTERMSG_TYPE_*) ----
pub const TYPE_PING: u16 = 0;
pub const TYPE_PONG: u16 = 1;
pub const TYPE_MEET: u16 = 2;
pub const TYPE_FAIL: u16 = 3;
pub const TYPE_PUBLISH: u16 = 4;
pub const TYPE_FAILOVER_AUTH_REQUEST: u16 = 5;
pub const TYPE_FAILOVER_AUTH_ACK: u16 = 6;
pub const TYPE_UPDATE: u16 = 7;
pub const TYPE_MFSTART: u16 = 8;
pub const TYPE_MODULE: u16 = 9;
pub const TYPE_PUBLISHSHARD: u16 = 10;
pub const TYPE_COUNT: u16 = 11;

/// Message type names as Redis's clusterGetMessageTypeString.
pub fn type_name(t: u16) -> &'static str {
    match t {
        TYPE_PING => "ping",
        TYPE_PONG => "pong",
        TYPE_MEET => "meet",
        TYPE_FAIL => "fail",
        TYPE_PUBLISH => "publish",
        TYPE_PUBLISHSHARD => "publishshard",
        TYPE_FAILOVER_AUTH_REQUEST => "auth-req",
        TYPE_FAILOVER_AUTH_ACK => "auth-ack",
        TYPE_UPDATE => "update",
        TYPE_MFSTART => "mfstart",
        TYPE_MODULE => "module",
        _ => "unknown",
    }
}

// ---- mflags[0] ----
pub const FLAG0_PAUSED: u8 = 1 << 0;
pub const FLAG0_FORCEACK: u8 = 1 << 1;
pub const FLAG0_EXT_DATA: u8 = 1 << 2;

// ---- extension types (clusterMsgPingtypes of 7.0) ----
pub const EXT_TYPE_HOSTNAME: u16 = 0;

/// Cluster state byte in the header.
pub const STATE_OK: u8 = 0;
pub const STATE_FAIL: u8 = 1;

pub const PROTO_VER: u16 = 1;

// ---- header field offsets (offsetof(clusterMsg, ...)) ----
pub const OFF_SIG: usize = 0;
pub const OFF_TOTLEN: usize = 4;
pub const OFF_VER: usize = 8;
pub const OFF_PORT: usize = 10;
pub const OFF_TYPE: usize = 12;
pub const OFF_COUNT: usize = 14;
pub const OFF_CURRENT_EPOCH: usize = 16;
pub const OFF_CONFIG_EPOCH: usize = 24;
pub const OFF_OFFSET: usize = 32;
pub const OFF_SENDER: usize = 40;
pub const OFF_MYSLOTS: usize = OFF_SENDER + NAMELEN;
pub const OFF_SLAVEOF: usize = OFF_MYSLOTS + SLOTS / 8;
pub const OFF_MYIP: usize = OFF_SLAVEOF + NAMELEN;
pub const OFF_EXTENSIONS: usize = OFF_MYIP + IP_LEN;
pub const OFF_NOTUSED1: usize = OFF_EXTENSIONS + 2;
pub const OFF_PPORT: usize = OFF_NOTUSED1 + 30;
pub const OFF_CPORT: usize = OFF_PPORT + 2;
pub const OFF_FLAGS: usize = OFF_CPORT + 2;
pub const OFF_STATE: usize = OFF_FLAGS + 2;
pub const OFF_MFLAGS: usize = OFF_STATE + 1;
/// offsetof(clusterMsg, data) == CLUSTERMSG_MIN_LEN.
pub const OFF_DATA: usize = OFF_MFLAGS + 3;
pub const HEADER_LEN: usize = OFF_DATA;

// The static_asserts of cluster.h (7.0).
const _: () = assert!(OFF_SIG == 0);
const _: () = assert!(OFF_TOTLEN == 4);
const _: () = assert!(OFF_VER == 8);
const _: () = assert!(OFF_PORT == 10);
const _: () = assert!(OFF_TYPE == 12);
const _: () = assert!(OFF_COUNT == 14);
const _: () = assert!(OFF_CURRENT_EPOCH == 16);
const _: () = assert!(OFF_CONFIG_EPOCH == 24);
const _: () = assert!(OFF_OFFSET == 32);
const _: () = assert!(OFF_SENDER == 40);
const _: () = assert!(OFF_MYSLOTS == 80);
const _: () = assert!(OFF_SLAVEOF == 2128);
const _: () = assert!(OFF_MYIP == 2168);
const _: () = assert!(OFF_EXTENSIONS == 2214);
const _: () = assert!(OFF_NOTUSED1 == 2216);
const _: () = assert!(OFF_PPORT == 2246);
const _: () = assert!(OFF_CPORT == 2248);
const _: () = assert!(OFF_FLAGS == 2250);
const _: () = assert!(OFF_STATE == 2252);
const _: () = assert!(OFF_MFLAGS == 2253);
const _: () = assert!(OFF_DATA == 2256);

// ---- clusterMsgDataGossip: offsets inside one entry ----
pub const G_NODENAME: usize = 0;
pub const G_PING_SENT: usize = 40;
pub const G_PONG_RECEIVED: usize = 44;
pub const G_IP: usize = 48;
pub const G_PORT: usize = G_IP + IP_LEN;
pub const G_CPORT: usize = G_PORT + 2;
pub const G_FLAGS: usize = G_CPORT + 2;
pub const G_PPORT: usize = G_FLAGS + 2;
pub const G_NOTUSED1: usize = G_PPORT + 2;
pub const GOSSIP_LEN: usize = G_NOTUSED1 + 2;
const _: () = assert!(G_PORT == 94);
const _: () = assert!(GOSSIP_LEN == 104); // sizeof(clusterMsgDataGossip)

/// sizeof(clusterMsgDataFail)
pub const FAIL_LEN: usize = NAMELEN;
/// sizeof(clusterMsgDataPublish) - 8 (the bulk placeholder): channel_len + message_len.
pub const PUBLISH_FIXED_LEN: usize = 8;
/// sizeof(clusterMsgDataUpdate): configEpoch + nodename + slots.
pub const UPDATE_LEN: usize = 8 + NAMELEN + SLOTS / 8;
/// sizeof(clusterMsgModule) - 3 (the bulk placeholder): module_id + len + type.
pub const MODULE_FIXED_LEN: usize = 13;
/// sizeof(clusterMsgPingExt) (the extension header).
pub const EXT_HEADER_LEN: usize = 8;
/// sizeof(clusterMsg): the header plus the largest body (UPDATE).
pub const MSG_STRUCT_LEN: usize = HEADER_LEN + UPDATE_LEN;
const _: () = assert!(UPDATE_LEN == 2096);
const _: () = assert!(MSG_STRUCT_LEN == 4352);

/// EIGHT_BYTE_ALIGN of cluster.h.
pub const fn eight_byte_align(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// The common header of every message. `totlen`, `count` and `extensions` are derived on encode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub ver: u16,
    /// TCP base port (the client port; TLS port when TLS is on).
    pub port: u16,
    pub msg_type: u16,
    pub current_epoch: u64,
    pub config_epoch: u64,
    /// Replication offset.
    pub offset: u64,
    pub sender: NodeName,
    pub myslots: SlotBitmap,
    /// Name of the master if the sender is a replica, NULL otherwise.
    pub slaveof: NodeName,
    /// Sender IP as a NUL-padded string; all zero means "use the address the packet came from".
    pub myip: [u8; IP_LEN],
    pub pport: u16,
    pub cport: u16,
    pub flags: u16,
    pub state: u8,
    pub mflags: [u8; 3],
}

impl Header {
    /// A zeroed header of the given type (ver 1).
    pub fn new(msg_type: u16, sender: NodeName) -> Header {
        Header {
            ver: PROTO_VER,
            port: 0,
            msg_type,
            current_epoch: 0,
            config_epoch: 0,
            offset: 0,
            sender,
            myslots: SlotBitmap::default(),
            slaveof: NodeName::NULL,
            myip: [0; IP_LEN],
            pport: 0,
            cport: 0,
            flags: 0,
            state: STATE_OK,
            mflags: [0; 3],
        }
    }

    /// The IP string (up to the first NUL); empty when unset.
    pub fn ip(&self) -> &[u8] {
        c_str(&self.myip)
    }
}

/// Bytes up to the first NUL.
pub fn c_str(b: &[u8]) -> &[u8] {
    let n = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    &b[..n]
}

/// Copies `s` into a fixed NUL-padded field (truncating to leave one NUL, as Redis's memcpy of
/// NET_IP_STR_LEN after a strlen-bounded copy).
pub fn ip_field(s: &[u8]) -> [u8; IP_LEN] {
    let mut a = [0u8; IP_LEN];
    let n = s.len().min(IP_LEN - 1);
    a[..n].copy_from_slice(&s[..n]);
    a
}

/// One gossip section (clusterMsgDataGossip).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gossip {
    pub nodename: NodeName,
    /// Seconds (Redis sends ping_sent/1000).
    pub ping_sent: u32,
    /// Seconds.
    pub pong_received: u32,
    pub ip: [u8; IP_LEN],
    pub port: u16,
    pub cport: u16,
    pub flags: u16,
    pub pport: u16,
    pub notused1: u16,
}

impl Gossip {
    pub fn ip(&self) -> &[u8] {
        c_str(&self.ip)
    }
}

/// A ping extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PingExt {
    /// CLUSTERMSG_EXT_TYPE_HOSTNAME: the announced hostname (without the NUL).
    Hostname(Vec<u8>),
    /// Any other type: the payload after the 8-byte header (length a multiple of 8 to encode).
    Unknown { ext_type: u16, data: Vec<u8> },
}

/// The type-specific body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// PING, PONG, MEET.
    Ping { gossip: Vec<Gossip>, exts: Vec<PingExt> },
    /// FAIL: the node that failed.
    Fail { about: NodeName },
    /// PUBLISH, PUBLISHSHARD.
    Publish { channel: Vec<u8>, message: Vec<u8> },
    /// FAILOVER_AUTH_REQUEST, FAILOVER_AUTH_ACK, MFSTART: header only.
    Empty,
    /// UPDATE: the slots owned by `nodename` at `config_epoch`.
    Update { config_epoch: u64, nodename: NodeName, slots: SlotBitmap },
    /// MODULE.
    Module { module_id: u64, module_type: u8, payload: Vec<u8> },
    /// A type this version does not know: the bytes after the header, kept as-is.
    Unknown(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub hdr: Header,
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer than 8 bytes, or fewer bytes than totlen says.
    Truncated,
    /// Not "RCmb" (the link is dropped).
    BadSignature,
    /// totlen below the header size (the link is dropped).
    TooShort(u32),
    /// ver != 1 (ignored).
    Version(u16),
    /// The gossip count does not fit in totlen.
    GossipCount { count: u16, totlen: u32 },
    /// An extension's length is not a multiple of 8 (or below the extension header).
    ExtPadding(u32),
    /// Extension data past totlen.
    ExtOverflow { totlen: u32 },
    /// A HOSTNAME extension not ending with NUL.
    ExtMissingNul(u16),
    /// totlen differs from what the type and its counts imply.
    Length { msg_type: u16, totlen: u32, expected: u64 },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Truncated => write!(f, "truncated cluster bus message"),
            DecodeError::BadSignature => write!(f, "Bad message length or signature received from Cluster bus."),
            DecodeError::TooShort(_) => write!(f, "Bad message length or signature received from Cluster bus."),
            DecodeError::Version(v) => write!(f, "cluster bus protocol version {v} not supported"),
            DecodeError::GossipCount { count, totlen } => {
                write!(f, "Received invalid packet with gossip count {count} that exceeds total packet length ({totlen})")
            }
            DecodeError::ExtPadding(l) => write!(f, "Received a packet without proper padding ({l} bytes)"),
            DecodeError::ExtOverflow { totlen } => {
                write!(f, "Received invalid packet with extension data that exceeds total packet length ({totlen})")
            }
            DecodeError::ExtMissingNul(t) => write!(f, "Received packet with missing null terminator in extension type {t}"),
            DecodeError::Length { msg_type, totlen, expected } => {
                write!(f, "Received invalid {} packet of length {totlen} but expected length {expected}", type_name(*msg_type))
            }
        }
    }
}

impl std::error::Error for DecodeError {}

fn be16(b: &[u8], o: usize) -> u16 {
    u16::from_be_bytes([b[o], b[o + 1]])
}
fn be32(b: &[u8], o: usize) -> u32 {
    u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}
fn be64(b: &[u8], o: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[o..o + 8]);
    u64::from_be_bytes(a)
}
fn name_at(b: &[u8], o: usize) -> NodeName {
    let mut a = [0u8; NAMELEN];
    a.copy_from_slice(&b[o..o + NAMELEN]);
    NodeName(a)
}
fn ip_at(b: &[u8], o: usize) -> [u8; IP_LEN] {
    let mut a = [0u8; IP_LEN];
    a.copy_from_slice(&b[o..o + IP_LEN]);
    a
}
fn slots_at(b: &[u8], o: usize) -> SlotBitmap {
    let mut s = SlotBitmap::default();
    s.0.copy_from_slice(&b[o..o + SLOTS / 8]);
    s
}

/// The stream reader's first check (clusterReadHandler): given at least 8 bytes, the total length of the
/// message; `Ok(None)` when fewer than 8 bytes are buffered; an error means "drop the link".
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, DecodeError> {
    if buf.len() < 8 {
        return Ok(None);
    }
    if &buf[0..4] != b"RCmb" {
        return Err(DecodeError::BadSignature);
    }
    let totlen = be32(buf, OFF_TOTLEN);
    if (totlen as usize) < HEADER_LEN {
        return Err(DecodeError::TooShort(totlen));
    }
    Ok(Some(totlen as usize))
}

/// Decodes one whole message (`buf` exactly totlen bytes, or more: only totlen bytes are used), with the
/// checks of clusterIsValidPacket. Never panics.
pub fn decode(buf: &[u8]) -> Result<Message, DecodeError> {
    let totlen_usize = match frame_len(buf)? {
        Some(n) => n,
        None => return Err(DecodeError::Truncated),
    };
    if buf.len() < totlen_usize {
        return Err(DecodeError::Truncated);
    }
    let b = &buf[..totlen_usize];
    let totlen = totlen_usize as u32;
    let ver = be16(b, OFF_VER);
    if ver != PROTO_VER {
        return Err(DecodeError::Version(ver));
    }
    let msg_type = be16(b, OFF_TYPE);
    let count = be16(b, OFF_COUNT);
    let extensions = be16(b, OFF_EXTENSIONS);
    let mflags = [b[OFF_MFLAGS], b[OFF_MFLAGS + 1], b[OFF_MFLAGS + 2]];
    let hdr = Header {
        ver,
        port: be16(b, OFF_PORT),
        msg_type,
        current_epoch: be64(b, OFF_CURRENT_EPOCH),
        config_epoch: be64(b, OFF_CONFIG_EPOCH),
        offset: be64(b, OFF_OFFSET),
        sender: name_at(b, OFF_SENDER),
        myslots: slots_at(b, OFF_MYSLOTS),
        slaveof: name_at(b, OFF_SLAVEOF),
        myip: ip_at(b, OFF_MYIP),
        pport: be16(b, OFF_PPORT),
        cport: be16(b, OFF_CPORT),
        flags: be16(b, OFF_FLAGS),
        state: b[OFF_STATE],
        mflags,
    };
    let len_err = |expected: u64| DecodeError::Length { msg_type, totlen, expected };
    let h = HEADER_LEN as u64;
    let body = match msg_type {
        TYPE_PING | TYPE_PONG | TYPE_MEET => {
            let mut explen = h + GOSSIP_LEN as u64 * count as u64;
            if (totlen as u64) < explen {
                return Err(DecodeError::GossipCount { count, totlen });
            }
            let mut gossip = Vec::with_capacity(count as usize);
            for i in 0..count as usize {
                let o = HEADER_LEN + i * GOSSIP_LEN;
                gossip.push(Gossip {
                    nodename: name_at(b, o + G_NODENAME),
                    ping_sent: be32(b, o + G_PING_SENT),
                    pong_received: be32(b, o + G_PONG_RECEIVED),
                    ip: ip_at(b, o + G_IP),
                    port: be16(b, o + G_PORT),
                    cport: be16(b, o + G_CPORT),
                    flags: be16(b, o + G_FLAGS),
                    pport: be16(b, o + G_PPORT),
                    notused1: be16(b, o + G_NOTUSED1),
                });
            }
            let mut exts = Vec::new();
            if mflags[0] & FLAG0_EXT_DATA != 0 {
                for _ in 0..extensions {
                    let o = explen as usize;
                    if o + EXT_HEADER_LEN > b.len() {
                        return Err(DecodeError::ExtOverflow { totlen });
                    }
                    let extlen = be32(b, o);
                    let ext_type = be16(b, o + 4);
                    if !extlen.is_multiple_of(8) || (extlen as usize) < EXT_HEADER_LEN {
                        return Err(DecodeError::ExtPadding(extlen));
                    }
                    if (totlen as u64 - explen) < extlen as u64 {
                        return Err(DecodeError::ExtOverflow { totlen });
                    }
                    let data = &b[o + EXT_HEADER_LEN..o + extlen as usize];
                    if ext_type == EXT_TYPE_HOSTNAME {
                        if data.last() != Some(&0) {
                            return Err(DecodeError::ExtMissingNul(ext_type));
                        }
                        exts.push(PingExt::Hostname(c_str(data).to_vec()));
                    } else {
                        exts.push(PingExt::Unknown { ext_type, data: data.to_vec() });
                    }
                    explen += extlen as u64;
                }
            }
            if explen != totlen as u64 {
                return Err(len_err(explen));
            }
            Body::Ping { gossip, exts }
        }
        TYPE_FAIL => {
            let explen = h + FAIL_LEN as u64;
            if explen != totlen as u64 {
                return Err(len_err(explen));
            }
            Body::Fail { about: name_at(b, OFF_DATA) }
        }
        TYPE_PUBLISH | TYPE_PUBLISHSHARD => {
            if b.len() < HEADER_LEN + PUBLISH_FIXED_LEN {
                // Redis reads the two lengths from its receive buffer anyway and then fails the totlen
                // comparison; the outcome (invalid) is the same.
                return Err(len_err(h + PUBLISH_FIXED_LEN as u64));
            }
            let cl = be32(b, OFF_DATA) as u64;
            let ml = be32(b, OFF_DATA + 4) as u64;
            let explen = h + PUBLISH_FIXED_LEN as u64 + cl + ml;
            if explen != totlen as u64 {
                return Err(len_err(explen));
            }
            let o = HEADER_LEN + PUBLISH_FIXED_LEN;
            let channel = b[o..o + cl as usize].to_vec();
            let message = b[o + cl as usize..].to_vec();
            Body::Publish { channel, message }
        }
        TYPE_FAILOVER_AUTH_REQUEST | TYPE_FAILOVER_AUTH_ACK | TYPE_MFSTART => {
            if totlen as u64 != h {
                return Err(len_err(h));
            }
            Body::Empty
        }
        TYPE_UPDATE => {
            let explen = h + UPDATE_LEN as u64;
            if explen != totlen as u64 {
                return Err(len_err(explen));
            }
            Body::Update { config_epoch: be64(b, OFF_DATA), nodename: name_at(b, OFF_DATA + 8), slots: slots_at(b, OFF_DATA + 8 + NAMELEN) }
        }
        TYPE_MODULE => {
            if b.len() < HEADER_LEN + MODULE_FIXED_LEN {
                return Err(len_err(h + MODULE_FIXED_LEN as u64));
            }
            let len = be32(b, OFF_DATA + 8) as u64;
            let explen = h + MODULE_FIXED_LEN as u64 + len;
            if explen != totlen as u64 {
                return Err(len_err(explen));
            }
            Body::Module {
                module_id: be64(b, OFF_DATA),
                module_type: b[OFF_DATA + 12],
                payload: b[HEADER_LEN + MODULE_FIXED_LEN..].to_vec(),
            }
        }
        // "We don't know this type of packet, so we assume it's well formed."
        _ => Body::Unknown(b[HEADER_LEN..].to_vec()),
    };
    Ok(Message { hdr, body })
}

fn put16(v: &mut [u8], o: usize, x: u16) {
    v[o..o + 2].copy_from_slice(&x.to_be_bytes());
}
fn put32(v: &mut [u8], o: usize, x: u32) {
    v[o..o + 4].copy_from_slice(&x.to_be_bytes());
}
fn put64(v: &mut [u8], o: usize, x: u64) {
    v[o..o + 8].copy_from_slice(&x.to_be_bytes());
}

/// The encoded size of an extension.
pub fn ext_len(e: &PingExt) -> usize {
    match e {
        PingExt::Hostname(h) => eight_byte_align(EXT_HEADER_LEN + h.len() + 1),
        PingExt::Unknown { data, .. } => eight_byte_align(EXT_HEADER_LEN + data.len()),
    }
}

/// Encodes a message. totlen, count and extensions come from the body; for a PING/PONG/MEET with
/// extensions the EXT_DATA bit of mflags[0] is set. The body variant should match `hdr.msg_type`
/// (a mismatched pair encodes the body as given, which the receiver will reject on length).
pub fn encode(m: &Message) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(m, &mut out);
    out
}

/// Like [`encode`], appending to `out`.
pub fn encode_into(m: &Message, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + HEADER_LEN, 0);
    let h = &m.hdr;
    let mut count = 0u16;
    let mut extensions = 0u16;
    let mut mflags = h.mflags;
    match &m.body {
        Body::Ping { gossip, exts } => {
            count = gossip.len() as u16;
            for g in gossip {
                let o = out.len();
                out.resize(o + GOSSIP_LEN, 0);
                let e = &mut out[o..];
                e[G_NODENAME..G_NODENAME + NAMELEN].copy_from_slice(&g.nodename.0);
                put32(e, G_PING_SENT, g.ping_sent);
                put32(e, G_PONG_RECEIVED, g.pong_received);
                e[G_IP..G_IP + IP_LEN].copy_from_slice(&g.ip);
                put16(e, G_PORT, g.port);
                put16(e, G_CPORT, g.cport);
                put16(e, G_FLAGS, g.flags);
                put16(e, G_PPORT, g.pport);
                put16(e, G_NOTUSED1, g.notused1);
            }
            if !exts.is_empty() {
                mflags[0] |= FLAG0_EXT_DATA;
                extensions = exts.len() as u16;
            }
            for x in exts {
                let o = out.len();
                let len = ext_len(x);
                out.resize(o + len, 0);
                put32(out, o, len as u32);
                match x {
                    PingExt::Hostname(name) => {
                        put16(out, o + 4, EXT_TYPE_HOSTNAME);
                        out[o + EXT_HEADER_LEN..o + EXT_HEADER_LEN + name.len()].copy_from_slice(name);
                    }
                    PingExt::Unknown { ext_type, data } => {
                        put16(out, o + 4, *ext_type);
                        out[o + EXT_HEADER_LEN..o + EXT_HEADER_LEN + data.len()].copy_from_slice(data);
                    }
                }
            }
        }
        Body::Fail { about } => out.extend_from_slice(&about.0),
        Body::Publish { channel, message } => {
            out.extend_from_slice(&(channel.len() as u32).to_be_bytes());
            out.extend_from_slice(&(message.len() as u32).to_be_bytes());
            out.extend_from_slice(channel);
            out.extend_from_slice(message);
        }
        Body::Empty => {}
        Body::Update { config_epoch, nodename, slots } => {
            out.extend_from_slice(&config_epoch.to_be_bytes());
            out.extend_from_slice(&nodename.0);
            out.extend_from_slice(&slots.0[..]);
        }
        Body::Module { module_id, module_type, payload } => {
            out.extend_from_slice(&module_id.to_be_bytes());
            out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
            out.push(*module_type);
            out.extend_from_slice(payload);
        }
        Body::Unknown(bytes) => out.extend_from_slice(bytes),
    }
    let totlen = (out.len() - start) as u32;
    let b = &mut out[start..];
    b[0..4].copy_from_slice(b"RCmb");
    put32(b, OFF_TOTLEN, totlen);
    put16(b, OFF_VER, h.ver);
    put16(b, OFF_PORT, h.port);
    put16(b, OFF_TYPE, h.msg_type);
    put16(b, OFF_COUNT, count);
    put64(b, OFF_CURRENT_EPOCH, h.current_epoch);
    put64(b, OFF_CONFIG_EPOCH, h.config_epoch);
    put64(b, OFF_OFFSET, h.offset);
    b[OFF_SENDER..OFF_SENDER + NAMELEN].copy_from_slice(&h.sender.0);
    b[OFF_MYSLOTS..OFF_MYSLOTS + SLOTS / 8].copy_from_slice(&h.myslots.0[..]);
    b[OFF_SLAVEOF..OFF_SLAVEOF + NAMELEN].copy_from_slice(&h.slaveof.0);
    b[OFF_MYIP..OFF_MYIP + IP_LEN].copy_from_slice(&h.myip);
    put16(b, OFF_EXTENSIONS, extensions);
    put16(b, OFF_PPORT, h.pport);
    put16(b, OFF_CPORT, h.cport);
    put16(b, OFF_FLAGS, h.flags);
    b[OFF_STATE] = h.state;
    b[OFF_MFLAGS..OFF_MFLAGS + 3].copy_from_slice(&mflags);
}

/// Decodes the next message from a stream buffer: `Ok(None)` if more bytes are needed, otherwise the
/// bytes consumed and the decode result of that message (an `Err` inside means "ignore this message";
/// an outer `Err` means "drop the link").
pub type Consumed = (usize, Result<Message, DecodeError>);
pub fn next_frame(buf: &[u8]) -> Result<Option<Consumed>, DecodeError> {
    match frame_len(buf)? {
        Some(n) if buf.len() >= n => Ok(Some((n, decode(&buf[..n])))),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Rng, SplitMix64};

    fn name(c: u8) -> NodeName {
        NodeName([c; NAMELEN])
    }

    fn random_header(r: &mut SplitMix64, t: u16) -> Header {
        let mut h = Header::new(t, NodeName::random(r));
        h.port = r.next_u64() as u16;
        h.current_epoch = r.next_u64();
        h.config_epoch = r.next_u64();
        h.offset = r.next_u64();
        for _ in 0..r.below(50) {
            h.myslots.set(r.below(16384) as usize);
        }
        if r.below(2) == 0 {
            h.slaveof = NodeName::random(r);
        }
        h.myip = ip_field(b"10.0.0.1");
        h.pport = r.next_u64() as u16;
        h.cport = r.next_u64() as u16;
        h.flags = r.next_u64() as u16;
        h.state = r.below(2) as u8;
        // EXT_DATA only appears together with extensions (encode sets it).
        h.mflags = [(r.next_u64() as u8) & !FLAG0_EXT_DATA, r.next_u64() as u8, r.next_u64() as u8];
        h
    }

    fn random_bytes(r: &mut SplitMix64, max: u64) -> Vec<u8> {
        (0..r.below(max)).map(|_| r.next_u64() as u8).collect()
    }

    fn random_message(r: &mut SplitMix64) -> Message {
        let t = r.below(13) as u16;
        let mut hdr = random_header(r, t);
        let body = match t {
            TYPE_PING | TYPE_PONG | TYPE_MEET => {
                let gossip = (0..r.below(6))
                    .map(|_| Gossip {
                        nodename: NodeName::random(r),
                        ping_sent: r.next_u64() as u32,
                        pong_received: r.next_u64() as u32,
                        ip: ip_field(b"::1"),
                        port: r.next_u64() as u16,
                        cport: r.next_u64() as u16,
                        flags: r.next_u64() as u16,
                        pport: r.next_u64() as u16,
                        notused1: 0,
                    })
                    .collect();
                let exts = (0..r.below(3))
                    .map(|_| {
                        if r.below(2) == 0 {
                            PingExt::Hostname((0..r.below(20)).map(|_| b'a' + r.below(26) as u8).collect())
                        } else {
                            let n = r.below(4) as usize * 8;
                            PingExt::Unknown { ext_type: 1 + r.below(100) as u16, data: (0..n).map(|_| r.next_u64() as u8).collect() }
                        }
                    })
                    .collect::<Vec<_>>();
                if !exts.is_empty() {
                    hdr.mflags[0] |= FLAG0_EXT_DATA;
                }
                Body::Ping { gossip, exts }
            }
            TYPE_FAIL => Body::Fail { about: NodeName::random(r) },
            TYPE_PUBLISH | TYPE_PUBLISHSHARD => Body::Publish { channel: random_bytes(r, 20), message: random_bytes(r, 40) },
            TYPE_FAILOVER_AUTH_REQUEST | TYPE_FAILOVER_AUTH_ACK | TYPE_MFSTART => Body::Empty,
            TYPE_UPDATE => {
                let mut slots = SlotBitmap::default();
                for _ in 0..r.below(100) {
                    slots.set(r.below(16384) as usize);
                }
                Body::Update { config_epoch: r.next_u64(), nodename: NodeName::random(r), slots }
            }
            TYPE_MODULE => Body::Module { module_id: r.next_u64(), module_type: r.next_u64() as u8, payload: random_bytes(r, 30) },
            _ => Body::Unknown(random_bytes(r, 30)),
        };
        Message { hdr, body }
    }

    #[test]
    fn sizes_match_redis() {
        let m = Message { hdr: Header::new(TYPE_PING, name(b'a')), body: Body::Ping { gossip: vec![], exts: vec![] } };
        assert_eq!(encode(&m).len(), 2256);
        let m = Message { hdr: Header::new(TYPE_FAIL, name(b'a')), body: Body::Fail { about: name(b'b') } };
        assert_eq!(encode(&m).len(), 2296);
        let m = Message {
            hdr: Header::new(TYPE_UPDATE, name(b'a')),
            body: Body::Update { config_epoch: 3, nodename: name(b'b'), slots: SlotBitmap::default() },
        };
        assert_eq!(encode(&m).len(), 4352);
        let m = Message {
            hdr: Header::new(TYPE_PUBLISH, name(b'a')),
            body: Body::Publish { channel: b"ch".to_vec(), message: b"hello".to_vec() },
        };
        assert_eq!(encode(&m).len(), 2256 + 8 + 7);
        let m = Message {
            hdr: Header::new(TYPE_PING, name(b'a')),
            body: Body::Ping { gossip: vec![], exts: vec![PingExt::Hostname(b"host".to_vec())] },
        };
        // 8 + "host\0" = 13 -> 16
        let b = encode(&m);
        assert_eq!(b.len(), 2256 + 16);
        assert_eq!(b[OFF_MFLAGS] & FLAG0_EXT_DATA, FLAG0_EXT_DATA);
        assert_eq!(be16(&b, OFF_EXTENSIONS), 1);
    }

    #[test]
    fn round_trip_random_messages() {
        let mut r = SplitMix64(7);
        for _ in 0..2000 {
            let m = random_message(&mut r);
            let b = encode(&m);
            let d = decode(&b).unwrap_or_else(|e| panic!("{e:?} for {m:?}"));
            assert_eq!(d, m);
            assert_eq!(encode(&d), b);
        }
    }

    #[test]
    fn validation_rules() {
        let mut m = Message {
            hdr: Header::new(TYPE_PING, name(b'a')),
            body: Body::Ping { gossip: vec![], exts: vec![PingExt::Hostname(b"h".to_vec())] },
        };
        let good = encode(&m);
        // wrong signature / short totlen are stream-level errors
        let mut b = good.clone();
        b[0] = b'X';
        assert_eq!(decode(&b), Err(DecodeError::BadSignature));
        let mut b = good.clone();
        put32(&mut b, OFF_TOTLEN, 100);
        assert_eq!(decode(&b), Err(DecodeError::TooShort(100)));
        // version
        let mut b = good.clone();
        put16(&mut b, OFF_VER, 2);
        assert_eq!(decode(&b), Err(DecodeError::Version(2)));
        // gossip count larger than the packet
        let mut b = good.clone();
        put16(&mut b, OFF_COUNT, 3);
        assert!(matches!(decode(&b), Err(DecodeError::GossipCount { .. })));
        // extension padding
        let mut b = good.clone();
        put32(&mut b, HEADER_LEN, 12);
        assert_eq!(decode(&b), Err(DecodeError::ExtPadding(12)));
        // extension past the end
        let mut b = good.clone();
        put32(&mut b, HEADER_LEN, 24);
        assert!(matches!(decode(&b), Err(DecodeError::ExtOverflow { .. })));
        // hostname not NUL terminated
        let mut b = good.clone();
        b[HEADER_LEN + 15] = b'x';
        assert_eq!(decode(&b), Err(DecodeError::ExtMissingNul(0)));
        // without EXT_DATA the extension bytes are unexpected length
        let mut b = good.clone();
        b[OFF_MFLAGS] = 0;
        assert!(matches!(decode(&b), Err(DecodeError::Length { .. })));
        // extension count 0 with flag: extra bytes -> length error
        let mut b = good.clone();
        put16(&mut b, OFF_EXTENSIONS, 0);
        assert!(matches!(decode(&b), Err(DecodeError::Length { expected: 2256, .. })));
        // unknown types are accepted as-is
        m.hdr.msg_type = 77;
        m.body = Body::Unknown(vec![1, 2, 3]);
        assert_eq!(decode(&encode(&m)), Ok(m));
        // FAIL with wrong length
        let f = Message { hdr: Header::new(TYPE_FAIL, name(b'a')), body: Body::Empty };
        assert!(matches!(decode(&encode(&f)), Err(DecodeError::Length { expected: 2296, .. })));
        // publish lengths must add up
        let p =
            Message { hdr: Header::new(TYPE_PUBLISH, name(b'a')), body: Body::Publish { channel: b"c".to_vec(), message: b"m".to_vec() } };
        let mut b = encode(&p);
        put32(&mut b, OFF_DATA, 2);
        assert!(matches!(decode(&b), Err(DecodeError::Length { .. })));
    }

    #[test]
    fn framing() {
        let m = Message { hdr: Header::new(TYPE_MFSTART, name(b'a')), body: Body::Empty };
        let mut stream = encode(&m);
        stream.extend(encode(&m));
        assert_eq!(next_frame(&stream[..7]), Ok(None));
        assert_eq!(next_frame(&stream[..2000]), Ok(None));
        let (n, r) = next_frame(&stream).unwrap().unwrap();
        assert_eq!(n, 2256);
        assert_eq!(r, Ok(m.clone()));
        assert_eq!(next_frame(b"GET foo\r\n"), Err(DecodeError::BadSignature));
    }

    #[test]
    fn fuzz_decode_never_panics() {
        let mut r = SplitMix64(99);
        for i in 0..3000 {
            let m = random_message(&mut r);
            let mut b = encode(&m);
            match i % 4 {
                0 => {
                    // truncate
                    let n = r.below(b.len() as u64 + 1) as usize;
                    b.truncate(n);
                }
                1 => {
                    // flip bytes, including in length/count fields
                    for _ in 0..1 + r.below(8) {
                        let p = r.below(b.len() as u64) as usize;
                        b[p] = r.next_u64() as u8;
                    }
                    for o in [OFF_COUNT, OFF_EXTENSIONS, OFF_TOTLEN + 2, HEADER_LEN.min(b.len() - 2)] {
                        if r.below(4) == 0 {
                            b[o] = r.next_u64() as u8;
                            b[o + 1] = r.next_u64() as u8;
                        }
                    }
                }
                2 => {
                    // random garbage with a valid signature and a plausible totlen
                    let n = 8 + r.below(5000) as usize;
                    b = (0..n).map(|_| r.next_u64() as u8).collect();
                    b[0..4].copy_from_slice(b"RCmb");
                    if r.below(2) == 0 {
                        put32(&mut b, OFF_TOTLEN, n as u32);
                    }
                    if n > 10 && r.below(2) == 0 {
                        put16(&mut b, OFF_VER, 1);
                    }
                }
                _ => {
                    // random extension headers
                    if b.len() > HEADER_LEN + 8 {
                        b[OFF_MFLAGS] |= FLAG0_EXT_DATA;
                        put16(&mut b, OFF_EXTENSIONS, r.below(5) as u16);
                        let p = HEADER_LEN + r.below((b.len() - HEADER_LEN - 8) as u64) as usize;
                        put32(&mut b, p, r.next_u64() as u32 % 64);
                    }
                }
            }
            let _ = decode(&b);
            let _ = next_frame(&b);
            if let Ok(m2) = decode(&b) {
                // whatever decodes, re-encodes to something that decodes to the same message
                assert_eq!(decode(&encode(&m2)), Ok(m2));
            }
        }
    }
}
