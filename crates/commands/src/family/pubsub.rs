//! Family: pub/sub (SUBSCRIBE ... PUBSUB, sharded channels) and keyspace notifications delivery.
//!
//! Delivery: the [`Registry`] lives in [`State`] (under the command lock). Every connection
//! owns an [`Outbox`] (created by the server, shared with the registry while subscribed).
//! PUBLISH encodes the message once and appends it to each subscriber's outbox (RESP2 array
//! or RESP3 push, per the subscriber's protocol at that moment) and wakes its connection,
//! which writes the queued bytes out; PUBLISH never waits for a subscriber. A message for
//! the publishing client itself goes straight into its reply buffer, so (as in Redis) it
//! precedes the reply of the command that produced it. The connection drains its outbox into
//! its reply buffer before running a batch (under the lock), which keeps messages in order
//! with its own replies.
//!
//! Output limits: each append checks the `pubsub` class of `client-output-buffer-limit`
//! against the subscriber's queued bytes (hard limit, or soft limit held for longer than
//! its seconds, as Redis's checkClientOutputBufferLimits) and closes the subscriber.
//!
//! Counts as Redis 7.0: the count in (p)(un)subscribe replies is channels + patterns; the
//! shard count (ssubscribe/sunsubscribe) is the shard channels alone. A client is in
//! pub/sub mode (RESP2 restrictions, the `P` flag) while it has any subscription.

use crate::ctx::{push_sink, unix_ms, ClientInfo, Ctx, Shared, State};
use crate::error::{CmdError, CmdResult};
use crate::table::{flags::*, CommandDef};
use parking_lot::Mutex;
use shoal_keyspace::glob::glob_match;
use shoal_resp::{Args, ReplyBuf};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type Set<K> = hashbrown::HashSet<K, foldhash::fast::RandomState>;

// ---------------------------------------------------------------------------------
// Outbox: a connection's queue of pushed messages
// ---------------------------------------------------------------------------------

#[derive(Default)]
struct OutboxInner {
    /// Encoded messages not yet taken by the connection.
    buf: Vec<u8>,
    /// Bytes the connection took and is still writing.
    inflight: usize,
    /// Unix ms since which the soft limit has been exceeded (0 = it is not).
    soft_since_ms: u64,
    /// Closed for exceeding the output limits: further messages are dropped.
    dead: bool,
}

/// A connection's queue of messages pushed by other clients (PUBLISH, keyspace events).
pub struct Outbox {
    pub id: u64,
    pub info: Arc<ClientInfo>,
    inner: Mutex<OutboxInner>,
    /// Wakes the connection task (called when the queue goes from empty to non-empty).
    wake: Box<dyn Fn() + Send + Sync>,
}

impl Outbox {
    pub fn new(info: Arc<ClientInfo>, wake: Box<dyn Fn() + Send + Sync>) -> Outbox {
        Outbox { id: info.id, info, inner: Mutex::new(OutboxInner::default()), wake }
    }

    /// Connection side: appends the queued messages to `out` (before running a batch).
    pub fn drain_into(&self, out: &mut Vec<u8>) {
        let mut g = self.inner.lock();
        if !g.buf.is_empty() {
            out.extend_from_slice(&g.buf);
            g.buf.clear();
            g.soft_since_ms = 0;
        }
    }

    /// Connection side: swaps the queued messages into `spare` (which should be empty) to
    /// write them; they count against the limits until [`Outbox::written`].
    pub fn take(&self, spare: &mut Vec<u8>) {
        let mut g = self.inner.lock();
        std::mem::swap(&mut g.buf, spare);
        g.inflight = spare.len();
    }

    /// Connection side: the bytes from [`Outbox::take`] were written.
    pub fn written(&self) {
        let mut g = self.inner.lock();
        g.inflight = 0;
        if g.buf.is_empty() {
            g.soft_since_ms = 0;
        }
        self.info.omem.store(g.buf.len(), Ordering::Relaxed);
    }

    /// Bytes queued or being written.
    pub fn pending(&self) -> usize {
        let g = self.inner.lock();
        g.buf.len() + g.inflight
    }

    /// Queues one message (`msg` is encoded as a RESP2 array; for a RESP3 subscriber its
    /// first byte becomes `>`), then applies the pubsub output limits.
    fn push(&self, msg: &[u8], shared: &Shared) {
        let resp3 = self.info.resp.load(Ordering::Relaxed) == 3;
        let mut g = self.inner.lock();
        if g.dead {
            return;
        }
        let was_empty = g.buf.is_empty();
        if resp3 {
            g.buf.push(b'>');
            g.buf.extend_from_slice(&msg[1..]);
        } else {
            g.buf.extend_from_slice(msg);
        }
        let used = g.buf.len() + g.inflight;
        self.info.omem.store(used, Ordering::Relaxed);
        let hard = shared.pubsub_obuf_hard.load(Ordering::Relaxed) as usize;
        let soft = shared.pubsub_obuf_soft.load(Ordering::Relaxed) as usize;
        let over_hard = hard > 0 && used >= hard;
        let mut over_soft = false;
        if soft > 0 && used >= soft {
            let now = unix_ms();
            if g.soft_since_ms == 0 {
                g.soft_since_ms = now;
            } else {
                over_soft = now.saturating_sub(g.soft_since_ms) / 1000 > shared.pubsub_obuf_soft_s.load(Ordering::Relaxed);
            }
        } else {
            g.soft_since_ms = 0;
        }
        if over_hard || over_soft {
            g.dead = true;
            g.buf = Vec::new();
            drop(g);
            shared.stats.client_output_buffer_limit_disconnections.fetch_add(1, Ordering::Relaxed);
            self.info.kill();
            return;
        }
        drop(g);
        if was_empty {
            (self.wake)();
        }
    }
}

// ---------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------

/// One client's subscriptions.
struct ClientSubs {
    outbox: Arc<Outbox>,
    channels: Set<Vec<u8>>,
    /// In subscription order (PUNSUBSCRIBE without arguments follows it, as Redis 7.0's list).
    patterns: Vec<Vec<u8>>,
    shard: Set<Vec<u8>>,
}

impl ClientSubs {
    fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }
    fn total(&self) -> usize {
        self.count() + self.shard.len()
    }
}

/// A shard channel: its slot (so cluster mode can drop a slot's channels) and subscribers.
pub struct ShardChannel {
    pub slot: u16,
    subs: Vec<Arc<Outbox>>,
}

/// Every subscription of the server (lives in [`State`]).
#[derive(Default)]
pub struct Registry {
    channels: Map<Vec<u8>, Vec<Arc<Outbox>>>,
    patterns: Map<Vec<u8>, Vec<Arc<Outbox>>>,
    shard: Map<Vec<u8>, ShardChannel>,
    clients: Map<u64, ClientSubs>,
}

fn remove_sub(list: &mut Vec<Arc<Outbox>>, id: u64) {
    if let Some(i) = list.iter().position(|o| o.id == id) {
        list.remove(i);
    }
}

/// Encodes `*n` + bulk strings (a RESP2 array; the RESP3 push differs in the first byte).
fn encode(parts: &[&[u8]]) -> Vec<u8> {
    let mut rb = ReplyBuf::new(false);
    rb.buf.reserve(parts.iter().map(|p| p.len() + 16).sum::<usize>() + 8);
    rb.array(parts.len());
    for p in parts {
        rb.bulk(p);
    }
    rb.buf
}

impl Registry {
    /// Distinct channels with subscribers (INFO pubsub_channels).
    pub fn num_channels(&self) -> usize {
        self.channels.len()
    }
    /// Distinct patterns with subscribers (INFO pubsub_patterns, PUBSUB NUMPAT).
    pub fn num_patterns(&self) -> usize {
        self.patterns.len()
    }
    /// Distinct shard channels with subscribers (INFO pubsubshard_channels).
    pub fn num_shard_channels(&self) -> usize {
        self.shard.len()
    }
    /// Shard channels of `slot` (for cluster mode dropping a slot's channels).
    pub fn shard_channels_in_slot(&self, slot: u16) -> Vec<Vec<u8>> {
        self.shard.iter().filter(|(_, c)| c.slot == slot).map(|(k, _)| k.clone()).collect()
    }

    fn entry(&mut self, outbox: &Arc<Outbox>) -> &mut ClientSubs {
        self.clients.entry(outbox.id).or_insert_with(|| ClientSubs {
            outbox: outbox.clone(),
            channels: Set::default(),
            patterns: Vec::new(),
            shard: Set::default(),
        })
    }

    /// Drops every subscription of client `id` without replies (connection closed, RESET).
    pub fn remove_client(&mut self, id: u64) {
        let Some(c) = self.clients.remove(&id) else { return };
        for ch in &c.channels {
            if let Some(l) = self.channels.get_mut(ch) {
                remove_sub(l, id);
                if l.is_empty() {
                    self.channels.remove(ch);
                }
            }
        }
        for p in &c.patterns {
            if let Some(l) = self.patterns.get_mut(p) {
                remove_sub(l, id);
                if l.is_empty() {
                    self.patterns.remove(p);
                }
            }
        }
        for ch in &c.shard {
            if let Some(e) = self.shard.get_mut(ch) {
                remove_sub(&mut e.subs, id);
                if e.subs.is_empty() {
                    self.shard.remove(ch);
                }
            }
        }
        let info = &c.outbox.info;
        info.sub_count.store(0, Ordering::Relaxed);
        info.psub_count.store(0, Ordering::Relaxed);
        info.ssub_count.store(0, Ordering::Relaxed);
    }

    fn sync_counts(&mut self, id: u64) -> bool {
        let Some(c) = self.clients.get(&id) else { return false };
        let info = &c.outbox.info;
        info.sub_count.store(c.channels.len(), Ordering::Relaxed);
        info.psub_count.store(c.patterns.len(), Ordering::Relaxed);
        info.ssub_count.store(c.shard.len(), Ordering::Relaxed);
        let total = c.total();
        if total == 0 {
            self.clients.remove(&id);
        }
        total > 0
    }

    /// Sends `msg` on `channel` to its subscribers (and pattern subscribers unless
    /// `shard`); returns the number of receivers. A receiver that is `me` (the calling
    /// client) gets the message in `me_out` directly.
    pub fn publish(&self, shared: &Shared, me: Option<(u64, &mut ReplyBuf)>, channel: &[u8], msg: &[u8], shard: bool) -> usize {
        let mut me = me;
        let mut n = 0;
        let mut deliver = |o: &Arc<Outbox>, enc: &[u8]| match me.as_mut() {
            Some((id, out)) if *id == o.id => {
                if out.resp3 {
                    out.buf.push(b'>');
                    out.buf.extend_from_slice(&enc[1..]);
                } else {
                    out.buf.extend_from_slice(enc);
                }
            }
            _ => o.push(enc, shared),
        };
        if shard {
            if let Some(e) = self.shard.get(channel) {
                let enc = encode(&[b"smessage", channel, msg]);
                for o in &e.subs {
                    deliver(o, &enc);
                    n += 1;
                }
            }
            return n;
        }
        if let Some(l) = self.channels.get(channel) {
            let enc = encode(&[b"message", channel, msg]);
            for o in l {
                deliver(o, &enc);
                n += 1;
            }
        }
        for (pat, l) in &self.patterns {
            if glob_match(pat, channel, false) {
                let enc = encode(&[b"pmessage", pat, channel, msg]);
                for o in l {
                    deliver(o, &enc);
                    n += 1;
                }
            }
        }
        n
    }
}

// ---------------------------------------------------------------------------------
// Keyspace notifications
// ---------------------------------------------------------------------------------

/// Redis's NOTIFY_* bits (the same as `config::keyspace_events_flags` produces).
pub const NOTIFY_KEYSPACE: u32 = 1 << 0;
pub const NOTIFY_KEYEVENT: u32 = 1 << 1;

/// The flag bit of an event class character (`g $ l s h z x e t m d n`); 0 if unknown.
#[inline]
pub fn class_bit(class: u8) -> u32 {
    match class {
        b'g' => 1 << 2,
        b'$' => 1 << 3,
        b'l' => 1 << 4,
        b's' => 1 << 5,
        b'h' => 1 << 6,
        b'z' => 1 << 7,
        b'x' => 1 << 8,
        b'e' => 1 << 9,
        b't' => 1 << 10,
        b'm' => 1 << 11,
        b'd' => 1 << 12,
        b'n' => 1 << 13,
        _ => 0,
    }
}

/// Redis's notifyKeyspaceEvent: publishes `__keyspace@<db>__:<key>` -> event and
/// `__keyevent@<db>__:<event>` -> key, as `notify-keyspace-events` asks. `me` is the
/// calling client (it receives its own notifications in its reply buffer).
pub fn notify_with(st: &mut State, shared: &Shared, me: Option<(u64, &mut ReplyBuf)>, db: usize, class: u8, event: &str, key: &[u8]) {
    let flags = shared.notify_flags.load(Ordering::Relaxed);
    if flags & class_bit(class) == 0 {
        return;
    }
    let mut me = me;
    let dbs = db.to_string();
    if flags & NOTIFY_KEYSPACE != 0 {
        let mut chan = Vec::with_capacity(16 + key.len());
        chan.extend_from_slice(b"__keyspace@");
        chan.extend_from_slice(dbs.as_bytes());
        chan.extend_from_slice(b"__:");
        chan.extend_from_slice(key);
        let m = me.as_mut().map(|(id, out)| (*id, &mut **out));
        st.pubsub.publish(shared, m, &chan, event.as_bytes(), false);
    }
    if flags & NOTIFY_KEYEVENT != 0 {
        let mut chan = Vec::with_capacity(16 + event.len());
        chan.extend_from_slice(b"__keyevent@");
        chan.extend_from_slice(dbs.as_bytes());
        chan.extend_from_slice(b"__:");
        chan.extend_from_slice(event.as_bytes());
        let m = me.as_mut().map(|(id, out)| (*id, &mut **out));
        st.pubsub.publish(shared, m, &chan, key, false);
    }
}

/// Keyspace notification for callers without a [`Ctx`] (the cron's active expiry).
pub fn notify_in(st: &mut State, shared: &Shared, db: usize, class: u8, event: &str, key: &[u8]) {
    notify_with(st, shared, None, db, class, event, key);
}

// ---------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------

/// The calling client's outbox (the server sets one per connection; a client without one,
/// as in unit tests, gets one that never wakes anybody).
fn my_outbox(ctx: &mut Ctx<'_>) -> Arc<Outbox> {
    if let Some(o) = &ctx.client.outbox {
        return o.clone();
    }
    let o = Arc::new(Outbox::new(ctx.client.info.clone(), Box::new(|| {})));
    ctx.client.outbox = Some(o.clone());
    o
}

fn reply3(out: &mut ReplyBuf, kind: &str, name: Option<&[u8]>, count: usize) {
    out.push(3);
    out.bulk_str(kind);
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(count as i64);
}

fn finish(ctx: &mut Ctx<'_>) {
    let id = ctx.client.id;
    ctx.client.pubsub = ctx.st.pubsub.sync_counts(id);
}

fn subscribe(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let ob = my_outbox(ctx);
    let reg = &mut ctx.st.pubsub;
    for ch in args.iter().skip(1) {
        let c = reg.entry(&ob);
        if c.channels.insert(ch.to_vec()) {
            let count = c.count();
            reg.channels.entry(ch.to_vec()).or_default().push(ob.clone());
            reply3(push_sink(ctx.client, ctx.out).1, "subscribe", Some(ch), count);
        } else {
            reply3(push_sink(ctx.client, ctx.out).1, "subscribe", Some(ch), c.count());
        }
    }
    finish(ctx);
    Ok(())
}

fn psubscribe(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let ob = my_outbox(ctx);
    let reg = &mut ctx.st.pubsub;
    for p in args.iter().skip(1) {
        let c = reg.entry(&ob);
        if !c.patterns.iter().any(|x| x.as_slice() == p) {
            c.patterns.push(p.to_vec());
            let count = c.count();
            reg.patterns.entry(p.to_vec()).or_default().push(ob.clone());
            reply3(push_sink(ctx.client, ctx.out).1, "psubscribe", Some(p), count);
        } else {
            reply3(push_sink(ctx.client, ctx.out).1, "psubscribe", Some(p), c.count());
        }
    }
    finish(ctx);
    Ok(())
}

fn ssubscribe(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    // Redis 7.0: a DENY BLOCKING client (inside EXEC, scripts) cannot SSUBSCRIBE.
    if ctx.client.in_exec {
        return Err(CmdError::err("SSUBSCRIBE isn't allowed for a DENY BLOCKING client"));
    }
    let ob = my_outbox(ctx);
    let reg = &mut ctx.st.pubsub;
    for ch in args.iter().skip(1) {
        let c = reg.entry(&ob);
        if c.shard.insert(ch.to_vec()) {
            let count = c.shard.len();
            reg.shard
                .entry(ch.to_vec())
                .or_insert_with(|| ShardChannel { slot: shoal_keyspace::slot::key_slot(ch), subs: Vec::new() })
                .subs
                .push(ob.clone());
            reply3(push_sink(ctx.client, ctx.out).1, "ssubscribe", Some(ch), count);
        } else {
            reply3(push_sink(ctx.client, ctx.out).1, "ssubscribe", Some(ch), c.shard.len());
        }
    }
    finish(ctx);
    Ok(())
}

/// Which of a client's subscription sets a command works on.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Channel,
    Pattern,
    Shard,
}

/// Removes one subscription; returns the client's count afterwards (for the reply).
fn unsub_one(reg: &mut Registry, id: u64, kind: Kind, name: &[u8]) -> usize {
    let Some(c) = reg.clients.get_mut(&id) else { return 0 };
    let removed = match kind {
        Kind::Channel => c.channels.remove(name),
        Kind::Pattern => match c.patterns.iter().position(|x| x.as_slice() == name) {
            Some(i) => {
                c.patterns.remove(i);
                true
            }
            None => false,
        },
        Kind::Shard => c.shard.remove(name),
    };
    let count = if kind == Kind::Shard { c.shard.len() } else { c.count() };
    if removed {
        match kind {
            Kind::Channel | Kind::Pattern => {
                let map = if kind == Kind::Channel { &mut reg.channels } else { &mut reg.patterns };
                if let Some(l) = map.get_mut(name) {
                    remove_sub(l, id);
                    if l.is_empty() {
                        map.remove(name);
                    }
                }
            }
            Kind::Shard => {
                if let Some(e) = reg.shard.get_mut(name) {
                    remove_sub(&mut e.subs, id);
                    if e.subs.is_empty() {
                        reg.shard.remove(name);
                    }
                }
            }
        }
    }
    count
}

fn unsubscribe_kind(ctx: &mut Ctx<'_>, args: Args<'_>, kind: Kind, word: &str) -> CmdResult {
    let id = ctx.client.id;
    let reg = &mut ctx.st.pubsub;
    if args.len() > 1 {
        for name in args.iter().skip(1) {
            let count = unsub_one(reg, id, kind, name);
            reply3(push_sink(ctx.client, ctx.out).1, word, Some(name), count);
        }
    } else {
        let names: Vec<Vec<u8>> = match reg.clients.get(&id) {
            Some(c) => match kind {
                Kind::Channel => c.channels.iter().cloned().collect(),
                Kind::Pattern => c.patterns.clone(),
                Kind::Shard => c.shard.iter().cloned().collect(),
            },
            None => Vec::new(),
        };
        if names.is_empty() {
            let count = reg.clients.get(&id).map(|c| if kind == Kind::Shard { c.shard.len() } else { c.count() }).unwrap_or(0);
            reply3(push_sink(ctx.client, ctx.out).1, word, None, count);
        }
        for name in &names {
            let count = unsub_one(reg, id, kind, name);
            reply3(push_sink(ctx.client, ctx.out).1, word, Some(name), count);
        }
    }
    finish(ctx);
    Ok(())
}

fn unsubscribe(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    unsubscribe_kind(ctx, args, Kind::Channel, "unsubscribe")
}

fn punsubscribe(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    unsubscribe_kind(ctx, args, Kind::Pattern, "punsubscribe")
}

fn sunsubscribe(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    unsubscribe_kind(ctx, args, Kind::Shard, "sunsubscribe")
}

/// RESET and connection close: leave every subscription without replies.
pub fn reset_client(ctx: &mut Ctx<'_>) {
    let id = ctx.client.id;
    ctx.st.pubsub.remove_client(id);
    ctx.client.pubsub = false;
}

fn publish(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let me = Some(push_sink(ctx.client, ctx.out));
    let n = ctx.st.pubsub.publish(ctx.shared, me, args.get(1), args.get(2), false);
    // Cluster mode: every node's subscribers get it too (Redis's clusterPropagatePublish).
    crate::family::cluster::propagate_publish(ctx.shared, args.get(1), args.get(2), false);
    ctx.out.int(n as i64);
    Ok(())
}

fn spublish(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let me = Some(push_sink(ctx.client, ctx.out));
    let n = ctx.st.pubsub.publish(ctx.shared, me, args.get(1), args.get(2), true);
    // Cluster mode: every node's subscribers get it too (Redis's clusterPropagatePublish).
    crate::family::cluster::propagate_publish(ctx.shared, args.get(1), args.get(2), true);
    ctx.out.int(n as i64);
    Ok(())
}

fn pubsub_container(_ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    Err(CmdError::WrongArity("pubsub".into()))
}

fn bad_sub(args: Args<'_>) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
        String::from_utf8_lossy(args.get(1))
    ))
}

fn list_channels<'a>(out: &mut ReplyBuf, names: impl Iterator<Item = &'a Vec<u8>>, pat: Option<&[u8]>) {
    let pos = out.begin_deferred();
    let mut n = 0;
    for ch in names {
        if pat.is_none_or(|p| glob_match(p, ch, false)) {
            out.bulk(ch);
            n += 1;
        }
    }
    out.end_deferred(pos, b'*', n);
}

fn pubsub_channels(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(bad_sub(args));
    }
    let pat = (args.len() == 3).then(|| args.get(2));
    list_channels(ctx.out, ctx.st.pubsub.channels.keys(), pat);
    Ok(())
}

fn pubsub_shardchannels(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(bad_sub(args));
    }
    let pat = (args.len() == 3).then(|| args.get(2));
    list_channels(ctx.out, ctx.st.pubsub.shard.keys(), pat);
    Ok(())
}

fn pubsub_numsub(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let reg = &ctx.st.pubsub;
    ctx.out.array((args.len() - 2) * 2);
    for ch in args.iter().skip(2) {
        ctx.out.bulk(ch);
        ctx.out.int(reg.channels.get(ch).map_or(0, |l| l.len()) as i64);
    }
    Ok(())
}

fn pubsub_shardnumsub(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let reg = &ctx.st.pubsub;
    ctx.out.array((args.len() - 2) * 2);
    for ch in args.iter().skip(2) {
        ctx.out.bulk(ch);
        ctx.out.int(reg.shard.get(ch).map_or(0, |e| e.subs.len()) as i64);
    }
    Ok(())
}

fn pubsub_numpat(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.int(ctx.st.pubsub.num_patterns() as i64);
    Ok(())
}

const PUBSUB_HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

fn pubsub_help(ctx: &mut Ctx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.array(PUBSUB_HELP.len());
    for l in PUBSUB_HELP {
        ctx.out.simple(l);
    }
    Ok(())
}

/// Whether a subscribed RESP2 client may run `name` (full command name).
pub fn allowed_in_subscribed(name: &str) -> bool {
    matches!(name, "ping" | "subscribe" | "ssubscribe" | "unsubscribe" | "sunsubscribe" | "psubscribe" | "punsubscribe" | "quit" | "reset")
}

/// PING in RESP2 pub/sub mode: `["pong", arg or ""]`.
pub fn ping_subscribed(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 2 {
        return Err(CmdError::WrongArity("ping".into()));
    }
    ctx.out.array(2);
    ctx.out.bulk(b"pong");
    ctx.out.bulk(if args.len() == 2 { args.get(1) } else { b"" });
    Ok(())
}

const PS: u32 = PUBSUB | LOADING | STALE;

static PUBSUB_SUBCOMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Returns the active channels.",
        since: "2.8.0",
        complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
        ..CommandDef::new("channels", -2, PS, (0, 0, 0), "pubsub", pubsub_channels)
    },
    CommandDef {
        summary: "Returns a count of subscribers to channels.",
        since: "2.8.0",
        complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
        ..CommandDef::new("numsub", -2, PS, (0, 0, 0), "pubsub", pubsub_numsub)
    },
    CommandDef {
        summary: "Returns a count of unique pattern subscriptions.",
        since: "2.8.0",
        complexity: "O(1)",
        ..CommandDef::new("numpat", 2, PS, (0, 0, 0), "pubsub", pubsub_numpat)
    },
    CommandDef {
        summary: "Returns helpful text about the different subcommands.",
        since: "6.2.0",
        complexity: "O(1)",
        ..CommandDef::new("help", 2, LOADING | STALE, (0, 0, 0), "pubsub", pubsub_help)
    },
    CommandDef {
        summary: "Returns the active shard channels.",
        since: "7.0.0",
        complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
        ..CommandDef::new("shardchannels", -2, PS, (0, 0, 0), "pubsub", pubsub_shardchannels)
    },
    CommandDef {
        summary: "Returns the count of subscribers of shard channels.",
        since: "7.0.0",
        complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
        ..CommandDef::new("shardnumsub", -2, PS, (0, 0, 0), "pubsub", pubsub_shardnumsub)
    },
];

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Listens for messages published to channels.",
        since: "2.0.0",
        complexity: "O(N) where N is the number of channels to subscribe to.",
        ..CommandDef::new("subscribe", -2, PS | NOSCRIPT, (0, 0, 0), "pubsub", subscribe)
    },
    CommandDef {
        summary: "Listens for messages published to channels that match one or more patterns.",
        since: "2.0.0",
        complexity: "O(N) where N is the number of patterns to subscribe to.",
        ..CommandDef::new("psubscribe", -2, PS | NOSCRIPT, (0, 0, 0), "pubsub", psubscribe)
    },
    CommandDef {
        summary: "Listens for messages published to shard channels.",
        since: "7.0.0",
        complexity: "O(N) where N is the number of shard channels to subscribe to.",
        ..CommandDef::new("ssubscribe", -2, PS | NOSCRIPT, (1, -1, 1), "pubsub", ssubscribe)
    },
    CommandDef {
        summary: "Stops listening to messages posted to channels.",
        since: "2.0.0",
        complexity: "O(N) where N is the number of channels to unsubscribe.",
        ..CommandDef::new("unsubscribe", -1, PS | NOSCRIPT, (0, 0, 0), "pubsub", unsubscribe)
    },
    CommandDef {
        summary: "Stops listening to messages published to channels that match one or more patterns.",
        since: "2.0.0",
        complexity: "O(N) where N is the number of patterns to unsubscribe.",
        ..CommandDef::new("punsubscribe", -1, PS | NOSCRIPT, (0, 0, 0), "pubsub", punsubscribe)
    },
    CommandDef {
        summary: "Stops listening to messages posted to shard channels.",
        since: "7.0.0",
        complexity: "O(N) where N is the number of shard channels to unsubscribe.",
        ..CommandDef::new("sunsubscribe", -1, PS | NOSCRIPT, (1, -1, 1), "pubsub", sunsubscribe)
    },
    CommandDef {
        summary: "Posts a message to a channel.",
        since: "2.0.0",
        complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
        ..CommandDef::new("publish", 3, PS | FAST, (0, 0, 0), "pubsub", publish)
    },
    CommandDef {
        summary: "Post a message to a shard channel",
        since: "7.0.0",
        complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
        ..CommandDef::new("spublish", 3, PS | FAST, (1, 1, 1), "pubsub", spublish)
    },
    CommandDef {
        summary: "A container for Pub/Sub commands.",
        since: "2.8.0",
        complexity: "Depends on subcommand.",
        subcommands: PUBSUB_SUBCOMMANDS,
        ..CommandDef::new("pubsub", -2, 0, (0, 0, 0), "pubsub", pubsub_container)
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_bits_match_config_flags() {
        for c in b"g$lshzxetmdn" {
            let want = crate::config::keyspace_events_flags(std::str::from_utf8(&[*c]).unwrap_or("")).unwrap_or(0);
            assert_eq!(class_bit(*c), want, "class {}", *c as char);
        }
        assert_eq!(crate::config::keyspace_events_flags("K"), Some(NOTIFY_KEYSPACE));
        assert_eq!(crate::config::keyspace_events_flags("E"), Some(NOTIFY_KEYEVENT));
    }

    #[test]
    fn encode_message() {
        assert_eq!(encode(&[b"message", b"ch", b"hi"]), b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n".to_vec());
    }
}
