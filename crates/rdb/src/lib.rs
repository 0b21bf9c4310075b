//! Redis RDB serialization: the object encodings of every value type, DUMP/RESTORE
//! payloads (value + RDB version + CRC64), and RDB files. One implementation shared by
//! DUMP/RESTORE, MIGRATE, persistence and replication.
//!
//! Objects are written as redis-server 7.0 (RDB version 10) writes them: strings with
//! the integer and LZF encodings, lists as quicklist-2 with listpack nodes split where
//! Redis's quicklist splits an RPUSH-built list, sets as intset blobs or plain member
//! lists, sorted sets and hashes as listpack blobs or plain lists, streams as listpack
//! nodes (type 19). Shoal's own compact encodings differ from Redis's listpack bytes, so
//! writing rebuilds real listpacks and reading rebuilds Shoal values, choosing the
//! encoding the way Redis 7.0's `rdbLoadObject` does. Reading also accepts the older
//! types Redis 7.0 still loads (linked lists, ziplists, quicklist-1, zipmaps, stream
//! type 15).

pub mod file;
pub mod listpack;
pub mod lzf;

use listpack::{parse_intset, parse_listpack, parse_ziplist, score_str, write_intset, Elem, LpWriter};
use shoal_keyspace::value::hash::HashLimits;
use shoal_keyspace::value::list::ListFill;
use shoal_keyspace::value::set::Member;
use shoal_keyspace::value::stream::{Consumer, Group, Nack, StreamId, ITEM_FLAG_DELETED, ITEM_FLAG_SAMEFIELDS};
use shoal_keyspace::value::zset::ZSetLimits;
use shoal_keyspace::value::{shoal_parse_i64, HashValue, ListValue, SetValue, StreamValue, ZSetValue};
use shoal_keyspace::Value;
use std::borrow::Cow;
use std::collections::HashSet;

/// The RDB version redis-server 7.0 writes (DUMP footers and file headers).
pub const RDB_VERSION: u16 = 10;

/// Object type bytes (`RDB_TYPE_*`).
pub mod types {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
}

/// Why a payload cannot be restored (RESTORE replies "ERR DUMP payload version or
/// checksum are wrong" or "ERR Bad data format").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreError {
    /// Footer version newer than ours, or CRC mismatch.
    VersionOrChecksum,
    /// The object could not be decoded.
    BadFormat,
}

/// Settings that change how objects are written (`rdbcompression`,
/// `list-max-listpack-size`).
#[derive(Clone, Copy, Debug)]
pub struct SaveOptions {
    /// LZF-compress strings longer than 20 bytes when it saves space.
    pub compression: bool,
    /// Quicklist fill: where list nodes are split.
    pub list_max_listpack_size: i64,
}

impl Default for SaveOptions {
    fn default() -> Self {
        SaveOptions { compression: true, list_max_listpack_size: -2 }
    }
}

/// Encoding thresholds applied when loading (the server's configuration).
#[derive(Clone, Copy, Debug)]
pub struct LoadLimits {
    pub hash: HashLimits,
    pub zset: ZSetLimits,
    pub set_max_intset_entries: usize,
    pub list_fill: ListFill,
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits { hash: HashLimits::default(), zset: ZSetLimits::default(), set_max_intset_entries: 512, list_fill: ListFill::default() }
    }
}

type Res<T> = Result<T, RestoreError>;
const BAD: RestoreError = RestoreError::BadFormat;

// ----------------------------------------------------------------------------------
// Checksum

const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// Redis's `crc64(0, data)` (Jones polynomial, reflected).
pub fn crc64(data: &[u8]) -> u64 {
    CRC64.checksum(data)
}

/// An incremental CRC64 (RDB files).
pub fn crc64_digest() -> crc::Digest<'static, u64> {
    CRC64.digest()
}

// ----------------------------------------------------------------------------------
// Writing

/// `rdbSaveLen`.
pub fn save_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(((n >> 8) as u8) | 0x40);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// `rdbTryIntegerEncoding` + `rdbEncodeInteger`.
fn int_encoding(s: &[u8], out: &mut Vec<u8>) -> bool {
    if s.is_empty() || s.len() > 11 {
        return false;
    }
    let Some(v) = shoal_parse_i64(s) else { return false };
    if (-128..=127).contains(&v) {
        out.push(0xC0);
        out.push(v as i8 as u8);
    } else if (-32768..=32767).contains(&v) {
        out.push(0xC1);
        out.extend_from_slice(&(v as i16).to_le_bytes());
    } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
        out.push(0xC2);
        out.extend_from_slice(&(v as i32).to_le_bytes());
    } else {
        return false;
    }
    true
}

/// `rdbSaveRawString`: integer encoding for short numbers, LZF when enabled and it
/// pays, raw otherwise.
pub fn save_string(out: &mut Vec<u8>, s: &[u8], compression: bool) {
    if s.len() <= 11 && int_encoding(s, out) {
        return;
    }
    if compression && s.len() > 20 {
        if let Some(c) = lzf::compress(s, s.len() - 4) {
            out.push(0xC3);
            save_len(out, c.len() as u64);
            save_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    save_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

fn save_id_raw(out: &mut Vec<u8>, id: StreamId) {
    out.extend_from_slice(&id.ms.to_be_bytes());
    out.extend_from_slice(&id.seq.to_be_bytes());
}

/// `_quicklistNodeAllowInsert` (7.0): may a node of `node_sz` bytes and `count`
/// elements take one more element of `sz` bytes?
fn ql_allow_insert(node_sz: usize, count: usize, fill: i64, sz: usize) -> bool {
    const OPT: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
    let fill = fill.clamp(-5, (1 << 15) - 1);
    let new_sz = node_sz + sz + 8;
    if fill < 0 {
        let off = (-fill - 1) as usize;
        if off < OPT.len() && new_sz <= OPT[off] {
            return true;
        }
    }
    if new_sz > 8192 {
        return false;
    }
    (count as i64) < fill
}

/// The listpack nodes Redis's quicklist would hold for these elements pushed at the
/// tail one by one.
fn list_nodes(l: &ListValue, fill: i64) -> Vec<Vec<u8>> {
    let mut nodes = Vec::new();
    let mut w: Option<LpWriter> = None;
    for e in l.iter() {
        let allow = w.as_ref().is_some_and(|w| ql_allow_insert(w.bytes(), w.count(), fill, e.len()));
        if !allow {
            if let Some(done) = w.take() {
                nodes.push(done.finish());
            }
            w = Some(LpWriter::new());
        }
        if let Some(w) = w.as_mut() {
            w.str(e);
        }
    }
    if let Some(done) = w {
        nodes.push(done.finish());
    }
    nodes
}

/// The Redis listpack of one stream node.
fn stream_node_listpack(n: &shoal_keyspace::value::stream::NodeView<'_>) -> Vec<u8> {
    let mut w = LpWriter::new();
    w.int(n.live as i64);
    w.int(n.deleted as i64);
    w.int(n.master_fields.len() as i64);
    for f in n.master_fields {
        w.str(f);
    }
    w.int(0);
    for (flags, e) in n.entries() {
        let same = flags & ITEM_FLAG_SAMEFIELDS != 0;
        w.int(flags as i64);
        w.int(e.id.ms.wrapping_sub(n.master_id.ms) as i64);
        w.int(e.id.seq.wrapping_sub(n.master_id.seq) as i64);
        let nf = e.numfields();
        if !same {
            w.int(nf as i64);
        }
        e.for_each(|f, v| {
            if !same {
                w.str(f);
            }
            w.str(v);
        });
        w.int(nf as i64 + 3 + if same { 0 } else { nf as i64 + 1 });
    }
    w.finish()
}

/// Writes `v`'s object (without the type byte) and returns its type byte
/// (`rdbSaveObjectType` + `rdbSaveObject`).
pub fn write_object(out: &mut Vec<u8>, v: &Value, opts: &SaveOptions) -> u8 {
    let c = opts.compression;
    match v {
        Value::Str(s) => {
            save_string(out, s.as_bytes(), c);
            types::STRING
        }
        Value::List(l) => {
            let nodes = list_nodes(l, opts.list_max_listpack_size);
            save_len(out, nodes.len() as u64);
            for n in &nodes {
                save_len(out, 2); // QUICKLIST_NODE_CONTAINER_PACKED
                save_string(out, n, c);
            }
            types::LIST_QUICKLIST_2
        }
        Value::Set(s) => {
            let width = match &**s {
                SetValue::Small { .. } | SetValue::I16(_) => Some(2),
                SetValue::I32(_) => Some(4),
                SetValue::I64(_) => Some(8),
                _ => None,
            };
            if let Some(width) = width {
                let items: Vec<i64> = s.iter().map(|m| if let Member::Int(v) = m { v } else { 0 }).collect();
                save_string(out, &write_intset(width, items.into_iter()), c);
                types::SET_INTSET
            } else {
                save_len(out, s.len() as u64);
                for m in s.iter() {
                    m.with_bytes(|b| save_string(out, b, c));
                }
                types::SET
            }
        }
        Value::ZSet(z) => {
            if z.is_skiplist() {
                let items: Vec<(&[u8], f64)> = z.iter().collect();
                save_len(out, items.len() as u64);
                for (m, s) in items.iter().rev() {
                    save_string(out, m, c);
                    out.extend_from_slice(&s.to_le_bytes());
                }
                types::ZSET_2
            } else {
                let mut w = LpWriter::new();
                for (m, s) in z.iter() {
                    w.str(m);
                    w.str(&score_str(s));
                }
                save_string(out, &w.finish(), c);
                types::ZSET_LISTPACK
            }
        }
        Value::Hash(h) => match &**h {
            HashValue::Listpack(_) => {
                let mut w = LpWriter::new();
                for (f, v) in h.iter() {
                    w.str(f);
                    w.str(v);
                }
                save_string(out, &w.finish(), c);
                types::HASH_LISTPACK
            }
            HashValue::Table(_) => {
                save_len(out, h.len() as u64);
                for (f, v) in h.iter() {
                    save_string(out, f, c);
                    save_string(out, v, c);
                }
                types::HASH
            }
        },
        Value::Stream(s) => {
            save_len(out, s.node_count() as u64);
            for n in s.node_views() {
                let mut key = Vec::with_capacity(16);
                save_id_raw(&mut key, n.master_id);
                save_string(out, &key, c);
                save_string(out, &stream_node_listpack(&n), c);
            }
            save_len(out, s.length);
            save_len(out, s.last_id.ms);
            save_len(out, s.last_id.seq);
            save_len(out, s.first_id.ms);
            save_len(out, s.first_id.seq);
            save_len(out, s.max_deleted.ms);
            save_len(out, s.max_deleted.seq);
            save_len(out, s.entries_added);
            save_len(out, s.groups.len() as u64);
            for (name, g) in &s.groups {
                save_string(out, name, c);
                save_len(out, g.last_id.ms);
                save_len(out, g.last_id.seq);
                save_len(out, g.entries_read as u64);
                save_len(out, g.pel.len() as u64);
                for (id, nack) in &g.pel {
                    save_id_raw(out, *id);
                    out.extend_from_slice(&nack.delivery_time.to_le_bytes());
                    save_len(out, nack.delivery_count);
                }
                save_len(out, g.consumers.len() as u64);
                for (cname, cons) in &g.consumers {
                    save_string(out, cname, c);
                    out.extend_from_slice(&cons.seen_time.to_le_bytes());
                    save_len(out, cons.pel.len() as u64);
                    for id in &cons.pel {
                        save_id_raw(out, *id);
                    }
                }
            }
            types::STREAM_LISTPACKS_2
        }
    }
}

/// The DUMP payload of `v` with the default settings (`rdbcompression yes`,
/// `list-max-listpack-size -2`).
pub fn dump(v: &Value) -> Vec<u8> {
    dump_with(v, &SaveOptions::default())
}

/// The DUMP payload of `v`: type byte, object, RDB version (2 bytes LE), CRC64 (8 bytes
/// LE) of everything before it.
pub fn dump_with(v: &Value, opts: &SaveOptions) -> Vec<u8> {
    let mut out = vec![0u8];
    out[0] = write_object(&mut out, v, opts);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// `verifyDumpPayload`: footer version not newer than ours and a matching CRC64.
pub fn verify_payload(p: &[u8]) -> bool {
    if p.len() < 10 {
        return false;
    }
    let footer = &p[p.len() - 10..];
    let ver = u16::from_le_bytes([footer[0], footer[1]]);
    if ver > RDB_VERSION {
        return false;
    }
    let crc = crc64(&p[..p.len() - 8]);
    crc.to_le_bytes() == footer[2..10]
}

/// Decodes a DUMP payload with the default encoding thresholds.
pub fn restore(payload: &[u8]) -> Result<Value, RestoreError> {
    restore_with(payload, &LoadLimits::default())
}

/// Decodes a DUMP payload (`verifyDumpPayload`, then `rdbLoadObjectType` +
/// `rdbLoadObject`), building values with the thresholds in `limits`.
pub fn restore_with(payload: &[u8], limits: &LoadLimits) -> Result<Value, RestoreError> {
    if !verify_payload(payload) {
        return Err(RestoreError::VersionOrChecksum);
    }
    // Redis reads the object from the whole payload, footer included (a damaged
    // object may run into it), and ignores what follows the object.
    let mut r = Reader::new(payload);
    let t = r.u8()?;
    read_object(t, &mut r, limits)
}

// ----------------------------------------------------------------------------------
// Reading

/// A cursor over RDB bytes; every read is bounds-checked.
pub struct Reader<'a> {
    b: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(b: &'a [u8]) -> Reader<'a> {
        Reader { b, pos: 0 }
    }
    pub fn remaining(&self) -> usize {
        self.b.len() - self.pos
    }
    pub fn u8(&mut self) -> Res<u8> {
        let v = *self.b.get(self.pos).ok_or(BAD)?;
        self.pos += 1;
        Ok(v)
    }
    pub fn take(&mut self, n: usize) -> Res<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(BAD)?;
        let s = self.b.get(self.pos..end).ok_or(BAD)?;
        self.pos = end;
        Ok(s)
    }
    /// `rdbLoadLenByRef`: (value, is_encoded).
    pub fn len_enc(&mut self) -> Res<(u64, bool)> {
        let b = self.u8()?;
        Ok(match b >> 6 {
            0 => ((b & 0x3F) as u64, false),
            1 => ((((b & 0x3F) as u64) << 8) | self.u8()? as u64, false),
            2 => match b {
                0x80 => {
                    let s = self.take(4)?;
                    (u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as u64, false)
                }
                0x81 => {
                    let s = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(s);
                    (u64::from_be_bytes(a), false)
                }
                _ => return Err(BAD),
            },
            _ => ((b & 0x3F) as u64, true),
        })
    }
    pub fn length(&mut self) -> Res<u64> {
        match self.len_enc()? {
            (v, false) => Ok(v),
            _ => Err(BAD),
        }
    }
    /// A length used as an element count (bounded by what the input could hold).
    fn count(&mut self) -> Res<usize> {
        let n = self.length()?;
        if n > self.remaining() as u64 {
            return Err(BAD);
        }
        Ok(n as usize)
    }
    /// `rdbGenericLoadStringObject`.
    pub fn string(&mut self) -> Res<Cow<'a, [u8]>> {
        let (n, enc) = self.len_enc()?;
        if enc {
            return Ok(Cow::Owned(match n {
                0 => (self.u8()? as i8 as i64).to_string().into_bytes(),
                1 => {
                    let s = self.take(2)?;
                    (i16::from_le_bytes([s[0], s[1]]) as i64).to_string().into_bytes()
                }
                2 => {
                    let s = self.take(4)?;
                    (i32::from_le_bytes([s[0], s[1], s[2], s[3]]) as i64).to_string().into_bytes()
                }
                3 => {
                    let clen = self.length()?;
                    let len = self.length()?;
                    if clen > self.remaining() as u64 || len > (1 << 32) {
                        return Err(BAD);
                    }
                    let c = self.take(clen as usize)?;
                    lzf::decompress(c, len as usize).ok_or(BAD)?
                }
                _ => return Err(BAD),
            }));
        }
        if n > self.remaining() as u64 {
            return Err(BAD);
        }
        Ok(Cow::Borrowed(self.take(n as usize)?))
    }
    pub fn millis(&mut self) -> Res<u64> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
    pub fn binary_double(&mut self) -> Res<f64> {
        Ok(f64::from_bits(self.millis()?))
    }
    /// `rdbLoadDoubleValue` (the old ASCII form).
    pub fn old_double(&mut self) -> Res<f64> {
        let n = self.u8()?;
        match n {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            _ => parse_f64(self.take(n as usize)?).ok_or(BAD),
        }
    }
    fn stream_id_raw(&mut self) -> Res<StreamId> {
        let s = self.take(16)?;
        Ok(id_from_key(s))
    }
}

fn id_from_key(s: &[u8]) -> StreamId {
    let mut a = [0u8; 8];
    a.copy_from_slice(&s[..8]);
    let ms = u64::from_be_bytes(a);
    a.copy_from_slice(&s[8..16]);
    StreamId::new(ms, u64::from_be_bytes(a))
}

/// C's `strtod` on `s`: the longest prefix that reads as a number (None when there is
/// none), as `zzlStrtod` and `sscanf("%lg")` read scores.
fn parse_f64(s: &[u8]) -> Option<f64> {
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_whitespace() {
        i += 1;
    }
    let start = i;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        i += 1;
    }
    let neg = start < s.len() && s[start] == b'-';
    let rest = &s[i..];
    let lower: Vec<u8> = rest.iter().take(8).map(|c| c.to_ascii_lowercase()).collect();
    if lower.starts_with(b"inf") {
        return Some(if neg { f64::NEG_INFINITY } else { f64::INFINITY });
    }
    if lower.starts_with(b"nan") {
        return Some(f64::NAN);
    }
    let digits_from = i;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    let mut ndigits = i - digits_from;
    if i < s.len() && s[i] == b'.' {
        i += 1;
        let f = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        ndigits += i - f;
    }
    if ndigits == 0 {
        return None;
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        let mut j = i + 1;
        if j < s.len() && (s[j] == b'+' || s[j] == b'-') {
            j += 1;
        }
        let e = j;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if j > e {
            i = j;
        }
    }
    let mut txt = std::str::from_utf8(&s[start..i]).ok()?.to_string();
    if txt.ends_with('.') {
        txt.push('0');
    }
    txt.parse::<f64>().ok()
}

fn elem_score(e: &Elem<'_>) -> Res<f64> {
    match *e {
        Elem::Int(v) => Ok(v as f64),
        Elem::Str(s) => Ok(parse_f64(&s[..s.len().min(127)]).unwrap_or(0.0)),
    }
}

fn list_from<'a>(items: impl IntoIterator<Item = &'a [u8]>, limits: &LoadLimits) -> Res<Value> {
    let l = ListValue::from_elements(items, &limits.list_fill);
    if l.is_empty() {
        return Err(BAD);
    }
    Ok(Value::List(Box::new(l)))
}

/// A zset from (member, score) pairs: checks duplicates and NaN, sorts, and picks the
/// listpack encoding when `listpack`.
fn zset_from(mut items: Vec<(Vec<u8>, f64)>, listpack: bool) -> Res<Value> {
    if items.is_empty() {
        return Err(BAD);
    }
    if items.iter().any(|(_, s)| s.is_nan()) {
        return Err(BAD);
    }
    items.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.0.cmp(&b.0)));
    let mut seen = HashSet::with_capacity(items.len());
    for (m, _) in &items {
        if !seen.insert(m.as_slice()) {
            return Err(BAD);
        }
    }
    Ok(Value::ZSet(Box::new(ZSetValue::from_sorted(&items, listpack))))
}

/// A hash from pairs kept in the listpack encoding unless there are more than
/// `hash-max-listpack-entries` (how Redis loads listpack/ziplist hashes).
fn hash_from_packed(pairs: Vec<(Vec<u8>, Vec<u8>)>, limits: &LoadLimits) -> Res<Value> {
    if pairs.is_empty() {
        return Err(BAD);
    }
    let mut seen = HashSet::with_capacity(pairs.len());
    for (f, _) in &pairs {
        if !seen.insert(f.as_slice()) {
            return Err(BAD);
        }
    }
    let mut h = HashValue::from_listpack_pairs(pairs.iter().map(|(f, v)| (f.as_slice(), v.as_slice())));
    if pairs.len() > limits.hash.max_listpack_entries {
        h.convert_to_table();
    }
    Ok(Value::Hash(Box::new(h)))
}

fn set_from_members<'a>(items: impl IntoIterator<Item = Cow<'a, [u8]>>, limits: &LoadLimits) -> Res<Value> {
    let mut s = SetValue::new_intset();
    for m in items {
        if !s.add(&m, limits.set_max_intset_entries) {
            return Err(BAD);
        }
    }
    if s.is_empty() {
        return Err(BAD);
    }
    Ok(Value::Set(Box::new(s)))
}

fn elems_to_vecs(v: &[Elem<'_>]) -> Vec<Vec<u8>> {
    v.iter().map(|e| e.to_vec()).collect()
}

fn pairs(v: Vec<Vec<u8>>) -> Res<Vec<(Vec<u8>, Vec<u8>)>> {
    if !v.len().is_multiple_of(2) {
        return Err(BAD);
    }
    let mut it = v.into_iter();
    let mut out = Vec::new();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a, b));
    }
    Ok(out)
}

/// Reads one object of type `t` (`rdbLoadObject`).
pub fn read_object(t: u8, r: &mut Reader<'_>, limits: &LoadLimits) -> Res<Value> {
    match t {
        types::STRING => Ok(Value::str(&r.string()?)),
        types::LIST => {
            let n = r.count()?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(r.string()?);
            }
            list_from(items.iter().map(|c| &**c), limits)
        }
        types::SET => {
            let n = r.count()?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(r.string()?);
            }
            if n > limits.set_max_intset_entries {
                // Redis creates a hashtable set up front.
                let mut s = SetValue::new_for(b"x");
                for m in &items {
                    if !s.add(m, limits.set_max_intset_entries) {
                        return Err(BAD);
                    }
                }
                if s.is_empty() {
                    return Err(BAD);
                }
                return Ok(Value::Set(Box::new(s)));
            }
            set_from_members(items, limits)
        }
        types::ZSET | types::ZSET_2 => {
            let n = r.count()?;
            let mut items = Vec::with_capacity(n);
            let mut maxlen = 0;
            for _ in 0..n {
                let m = r.string()?.into_owned();
                let s = if t == types::ZSET_2 { r.binary_double()? } else { r.old_double()? };
                maxlen = maxlen.max(m.len());
                items.push((m, s));
            }
            let lp = n <= limits.zset.max_listpack_entries && maxlen <= limits.zset.max_listpack_value;
            zset_from(items, lp)
        }
        types::HASH => {
            let n = r.count()?;
            let mut h = HashValue::new();
            for _ in 0..n {
                let f = r.string()?;
                let v = r.string()?;
                if !h.set(&f, &v, &limits.hash) {
                    return Err(BAD);
                }
            }
            if n > limits.hash.max_listpack_entries {
                h.convert_to_table();
            }
            if h.is_empty() {
                return Err(BAD);
            }
            Ok(Value::Hash(Box::new(h)))
        }
        types::HASH_ZIPMAP => {
            let blob = r.string()?;
            let pairs = parse_zipmap(&blob).ok_or(BAD)?;
            let long = pairs.iter().any(|(f, v)| f.len() > limits.hash.max_listpack_value || v.len() > limits.hash.max_listpack_value);
            let n = pairs.len();
            let mut v = hash_from_packed(pairs, limits)?;
            if long || n > limits.hash.max_listpack_entries {
                if let Value::Hash(h) = &mut v {
                    h.convert_to_table();
                }
            }
            Ok(v)
        }
        types::LIST_ZIPLIST => {
            let blob = r.string()?;
            let items = elems_to_vecs(&parse_ziplist(&blob).ok_or(BAD)?);
            list_from(items.iter().map(|v| v.as_slice()), limits)
        }
        types::SET_INTSET => {
            let blob = r.string()?;
            let (width, items) = parse_intset(&blob).ok_or(BAD)?;
            if items.is_empty() {
                return Err(BAD);
            }
            if items.len() > limits.set_max_intset_entries {
                return set_from_members(items.iter().map(|v| Cow::Owned(v.to_string().into_bytes())), limits);
            }
            let s = match width {
                2 => SetValue::I16(items.iter().map(|&v| v as i16).collect()),
                4 => SetValue::I32(items.iter().map(|&v| v as i32).collect()),
                _ => SetValue::I64(items.into_boxed_slice()),
            };
            Ok(Value::Set(Box::new(s)))
        }
        types::ZSET_ZIPLIST | types::ZSET_LISTPACK => {
            let blob = r.string()?;
            let elems = if t == types::ZSET_LISTPACK { parse_listpack(&blob) } else { parse_ziplist(&blob) }.ok_or(BAD)?;
            if !elems.len().is_multiple_of(2) {
                return Err(BAD);
            }
            let mut items = Vec::with_capacity(elems.len() / 2);
            for p in elems.chunks_exact(2) {
                items.push((p[0].to_vec(), elem_score(&p[1])?));
            }
            let lp = items.len() <= limits.zset.max_listpack_entries;
            zset_from(items, lp)
        }
        types::HASH_ZIPLIST | types::HASH_LISTPACK => {
            let blob = r.string()?;
            let elems = if t == types::HASH_LISTPACK { parse_listpack(&blob) } else { parse_ziplist(&blob) }.ok_or(BAD)?;
            hash_from_packed(pairs(elems_to_vecs(&elems))?, limits)
        }
        types::LIST_QUICKLIST | types::LIST_QUICKLIST_2 => {
            let n = r.count()?;
            let mut items: Vec<Vec<u8>> = Vec::new();
            for _ in 0..n {
                let container = if t == types::LIST_QUICKLIST_2 { r.length()? } else { 2 };
                let blob = r.string()?;
                match container {
                    1 => items.push(blob.into_owned()),
                    2 => {
                        let elems = if t == types::LIST_QUICKLIST_2 { parse_listpack(&blob) } else { parse_ziplist(&blob) }.ok_or(BAD)?;
                        // Redis skips empty nodes.
                        items.extend(elems.iter().map(|e| e.to_vec()));
                    }
                    _ => return Err(BAD),
                }
            }
            list_from(items.iter().map(|v| v.as_slice()), limits)
        }
        types::STREAM_LISTPACKS | types::STREAM_LISTPACKS_2 => read_stream(t, r),
        _ => Err(BAD),
    }
}

/// Parses a zipmap (Redis < 2.6 small hashes).
fn parse_zipmap(z: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut p = 1;
    let mut out = Vec::new();
    let len_at = |p: &mut usize| -> Option<usize> {
        let b = *z.get(*p)?;
        if b < 254 {
            *p += 1;
            Some(b as usize)
        } else if b == 254 {
            let s = z.get(*p + 1..*p + 5)?;
            *p += 5;
            Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
        } else {
            None
        }
    };
    loop {
        if *z.get(p)? == 255 {
            break;
        }
        let kl = len_at(&mut p)?;
        let k = z.get(p..p.checked_add(kl)?)?.to_vec();
        p += kl;
        let vl = len_at(&mut p)?;
        let free = *z.get(p)? as usize;
        p += 1;
        let v = z.get(p..p.checked_add(vl)?)?.to_vec();
        p += vl + free;
        out.push((k, v));
    }
    if p + 1 != z.len() {
        return None;
    }
    Some(out)
}

fn read_stream(t: u8, r: &mut Reader<'_>) -> Res<Value> {
    let mut s = StreamValue::new();
    let nodes = r.count()?;
    let mut length = 0u64;
    let mut last_master: Option<StreamId> = None;
    for _ in 0..nodes {
        let key = r.string()?;
        if key.len() != 16 {
            return Err(BAD);
        }
        let master = id_from_key(&key);
        if last_master.is_some_and(|m| m >= master) {
            return Err(BAD);
        }
        last_master = Some(master);
        let blob = r.string()?;
        let elems = parse_listpack(&blob).ok_or(BAD)?;
        if elems.is_empty() {
            return Err(BAD);
        }
        let mut it = elems.iter();
        let next_int = |it: &mut std::slice::Iter<'_, Elem<'_>>| -> Res<i64> { it.next().and_then(|e| e.as_int()).ok_or(BAD) };
        let live = next_int(&mut it)?;
        let deleted = next_int(&mut it)?;
        let nmf = next_int(&mut it)?;
        if live < 0 || deleted < 0 || nmf < 0 || nmf as usize > elems.len() {
            return Err(BAD);
        }
        let mut mf = Vec::with_capacity(nmf as usize);
        for _ in 0..nmf {
            mf.push(it.next().ok_or(BAD)?.to_vec().into_boxed_slice());
        }
        if next_int(&mut it)? != 0 {
            return Err(BAD);
        }
        s.load_node(master, mf, live as u64, deleted as u64, blob.len());
        let (mut seen_live, mut seen_del) = (0u64, 0u64);
        while it.len() > 0 {
            let flags = next_int(&mut it)?;
            let msd = next_int(&mut it)?;
            let seqd = next_int(&mut it)?;
            let id = StreamId::new(master.ms.wrapping_add(msd as u64), master.seq.wrapping_add(seqd as u64));
            let same = flags & ITEM_FLAG_SAMEFIELDS as i64 != 0;
            let mut fields = Vec::new();
            let mut values = Vec::new();
            if same {
                for _ in 0..nmf {
                    values.push(it.next().ok_or(BAD)?.to_vec());
                }
            } else {
                let nf = next_int(&mut it)?;
                if nf < 0 || nf as usize > it.len() {
                    return Err(BAD);
                }
                for _ in 0..nf {
                    fields.push(it.next().ok_or(BAD)?.to_vec());
                    values.push(it.next().ok_or(BAD)?.to_vec());
                }
            }
            next_int(&mut it)?; // lp-count
            let fr: Vec<&[u8]> = fields.iter().map(|v| v.as_slice()).collect();
            let vr: Vec<&[u8]> = values.iter().map(|v| v.as_slice()).collect();
            if !s.load_entry(id, flags as u8, &fr, &vr) {
                return Err(BAD);
            }
            if flags as u8 & ITEM_FLAG_DELETED != 0 {
                seen_del += 1;
            } else {
                seen_live += 1;
            }
        }
        if seen_live != live as u64 || seen_del != deleted as u64 || seen_live == 0 {
            return Err(BAD);
        }
        length += seen_live;
    }
    s.length = r.length()?;
    if s.length != length {
        return Err(BAD);
    }
    s.last_id = StreamId::new(r.length()?, r.length()?);
    if t == types::STREAM_LISTPACKS_2 {
        s.first_id = StreamId::new(r.length()?, r.length()?);
        s.max_deleted = StreamId::new(r.length()?, r.length()?);
        s.entries_added = r.length()?;
    } else {
        s.first_id = s.first_valid_id().unwrap_or_default();
        s.max_deleted = StreamId::MIN;
        s.entries_added = s.length;
    }
    let ngroups = r.count()?;
    for _ in 0..ngroups {
        let name = r.string()?.into_owned().into_boxed_slice();
        let last_id = StreamId::new(r.length()?, r.length()?);
        let mut g = Group { last_id, entries_read: 0, ..Default::default() };
        g.entries_read = if t == types::STREAM_LISTPACKS_2 { r.length()? as i64 } else { s.estimate_distance(last_id) };
        let npel = r.count()?;
        for _ in 0..npel {
            let id = r.stream_id_raw()?;
            let delivery_time = r.millis()?;
            let delivery_count = r.length()?;
            if g.pel.insert(id, Nack { delivery_time, delivery_count, consumer: Box::default() }).is_some() {
                return Err(BAD);
            }
        }
        let ncons = r.count()?;
        for _ in 0..ncons {
            let cname = r.string()?.into_owned().into_boxed_slice();
            let seen_time = r.millis()?;
            let mut c = Consumer { seen_time, ..Default::default() };
            let n = r.count()?;
            for _ in 0..n {
                let id = r.stream_id_raw()?;
                let nack = g.pel.get_mut(&id).ok_or(BAD)?;
                nack.consumer = cname.clone();
                c.pel.insert(id);
            }
            if g.consumers.insert(cname, c).is_some() {
                return Err(BAD);
            }
        }
        if s.groups.insert(name, g).is_some() {
            return Err(BAD);
        }
    }
    Ok(Value::Stream(Box::new(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload_of(hex: &[u8]) -> Vec<u8> {
        hex.to_vec()
    }

    #[test]
    fn string_payloads_match_redis() {
        // redis-server 7.0.15: SET s 12345; DUMP s
        let want = payload_of(b"\x00\xc190\n\x00\x9d\x94\xea'\x93\xfc\x08\xb9");
        assert_eq!(dump(&Value::str(b"12345")), want);
        let v = restore(&want).unwrap();
        assert_eq!(v.as_str().unwrap(), b"12345");
        let s52 = vec![b'a'; 52];
        let want = payload_of(b"\x00\xc3\t4\x01aa\xe0'\x00\x01aa\n\x00c\xdd)\xd3L\x1a$n");
        assert_eq!(dump(&Value::str(&s52)), want);
        assert_eq!(restore(&want).unwrap().as_str().unwrap(), &s52[..]);
    }

    #[test]
    fn zset_listpack_matches_redis() {
        // ZADD z 1.5 a 0.1 b -0 c 3 d 1e300 e; DUMP z
        let want: &[u8] = b"\x11\xc3:@M\x12M\x00\x00\x00\n\x00\x81c\x02\x00\x01\x81b\x02\x930.10\xe0\x05\x00\x141\x14\x81a\x02\x831.5\x04\x81d\x02\x03\x01\x81e\x02\x971.\xe0\x05\"\x0801e+300\x18\xff\n\x00\x17\xa8\xd3Z\x0f\x00\xc3\x17";
        let v = restore(want).unwrap();
        assert_eq!(dump(&v), want);
    }

    #[test]
    fn stream_matches_redis() {
        // XADD st 1-1 a 1 b x; DUMP st
        let want: &[u8] = b"\x13\x01\x10\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\"\"\x00\x00\x00\x0c\x00\x01\x01\x00\x01\x02\x01\x81a\x02\x81b\x02\x00\x01\x02\x01\x00\x01\x00\x01\x01\x01\x81x\x02\x05\x01\xff\x01\x01\x01\x01\x01\x00\x00\x01\x00\n\x00\xc9c\xbe\xe3O[\xdf\x1e";
        let v = restore(want).unwrap();
        assert_eq!(dump(&v), want);
    }

    #[test]
    fn corrupt() {
        let mut p = dump(&Value::str(b"hello"));
        assert!(restore(&p).is_ok());
        p[1] ^= 1;
        assert_eq!(restore(&p).err(), Some(RestoreError::VersionOrChecksum));
        assert_eq!(restore(&p[..5]).err(), Some(RestoreError::VersionOrChecksum));
    }
}
