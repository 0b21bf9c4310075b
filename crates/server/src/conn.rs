//! One client connection: read, decode every complete command in the buffer, execute
//! the batch under one lock, write all replies with one write.
//!
//! Error handling, as redis-server: a malformed request gets `-ERR Protocol error: ...`
//! after the replies of the commands before it, then the connection is closed; every
//! other error is a reply and the connection carries on. A query buffer above
//! `client-query-buffer-limit` closes the connection.

use crate::server::Server;
use crate::{verbose, warning};
use shoal_commands::blocking::{self, Blocked};
use shoal_commands::ctx::{mono_us, unix_ms, Action, Client, ClientInfo};
use shoal_commands::exec;
use shoal_commands::family::pubsub::Outbox;
use shoal_commands::table::flags;
use shoal_resp::{decode, Args, Decoded, Limits, OwnedArgs, ReplyBuf};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const READ_CHUNK: usize = 16 * 1024;

/// redis-server's reply to a non-loopback client in protected mode.
const PROTECTED_MODE_DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// TCP keepalive as Redis's `anetKeepAlive`: probes after `interval` seconds idle,
/// then every interval/3 seconds, 3 probes.
fn set_keepalive(fd: i32, interval: i32) {
    let one: libc::c_int = 1;
    let probe = (interval / 3).max(1);
    let cnt: libc::c_int = 3;
    let sz = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: setsockopt on a socket fd we own, with pointers to live c_ints.
    unsafe {
        libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, &one as *const _ as *const libc::c_void, sz);
        libc::setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, &interval as *const _ as *const libc::c_void, sz);
        libc::setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, &probe as *const _ as *const libc::c_void, sz);
        libc::setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, &cnt as *const _ as *const libc::c_void, sz);
    }
}

/// A decoded command of the current batch.
enum Cmd {
    /// Ranges `ranges[a..b]` into the input buffer.
    Ranges(usize, usize),
    /// An inline command with escapes, decoded into its own buffer.
    Owned(OwnedArgs),
}

/// Per-connection copies of limits, refreshed from the config once a second.
struct Limitsx {
    decode: Limits,
    qbuf_max: usize,
    /// client-output-buffer-limit, normal class: hard bytes, soft bytes, soft seconds.
    obuf_hard: usize,
    obuf_soft: usize,
    obuf_soft_s: u64,
    refreshed_ms: u64,
}

/// Parses the `normal` class of `client-output-buffer-limit` ("normal H S secs ...").
fn normal_obuf_limits(v: &str) -> (usize, usize, u64) {
    let parts: Vec<&str> = v.split_whitespace().collect();
    for c in parts.chunks(4) {
        if c.len() == 4 && c[0] == "normal" {
            return (c[1].parse().unwrap_or(0), c[2].parse().unwrap_or(0), c[3].parse().unwrap_or(0));
        }
    }
    (0, 0, 0)
}

fn refresh(srv: &Server, l: &mut Limitsx, now: u64, authenticated: bool) {
    if now.saturating_sub(l.refreshed_ms) >= 1000 {
        let c = srv.shared.config.read();
        l.decode.bulk_len_max = c.get_i64("proto-max-bulk-len") as u64;
        l.qbuf_max = c.get_i64("client-query-buffer-limit") as usize;
        (l.obuf_hard, l.obuf_soft, l.obuf_soft_s) = normal_obuf_limits(c.get("client-output-buffer-limit").unwrap_or(""));
        l.refreshed_ms = now;
    }
    l.decode.unauthenticated = !authenticated;
}

pub async fn serve(srv: Arc<Server>, std: std::net::TcpStream) {
    let _ = std.set_nodelay(true);
    let addr = std.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    let laddr = std.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let fd = std.as_raw_fd();
    if std.set_nonblocking(true).is_err() {
        return;
    }
    let Ok(mut stream) = TcpStream::from_std(std) else { return };

    let (maxclients, needs_auth, keepalive_s, protected) = {
        let c = srv.shared.config.read();
        // protected-mode, as Redis: with no password and the default bind, only loopback
        // clients are served.
        let protected = c.get_bool("protected-mode") && c.requirepass().is_none() && c.get("bind") == Some("* -::*");
        (c.get_i64("maxclients") as usize, c.requirepass().is_some(), c.get_i64("tcp-keepalive"), protected)
    };
    if keepalive_s > 0 {
        set_keepalive(fd, keepalive_s as i32);
    }
    if protected && !stream.peer_addr().map(|a| a.ip().is_loopback()).unwrap_or(true) {
        let _ = stream.write_all(PROTECTED_MODE_DENIED.as_bytes()).await;
        return;
    }
    {
        let full = srv.shared.clients.lock().len() >= maxclients;
        if full {
            srv.shared.stats.rejected_connections.fetch_add(1, Ordering::Relaxed);
            let _ = stream.write_all(b"-ERR max number of clients reached\r\n").await;
            return;
        }
    }
    let id = srv.shared.next_client_id.fetch_add(1, Ordering::Relaxed);
    let info = Arc::new(ClientInfo::new(id, addr, laddr, fd));
    // CLIENT KILL and timeouts wake the task by shutting the socket down: the pending
    // read then returns, and the loop sees `killed`.
    *info.waker.lock() = Some(Box::new(move || {
        // SAFETY: shutdown on an fd this connection still owns (the waker is removed
        // before the socket is closed).
        unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
    }));
    srv.shared.clients.lock().insert(id, info.clone());
    let mut client = Client::new(info.clone(), !needs_auth);

    run(&srv, &mut stream, &mut client).await;

    *info.waker.lock() = None;
    srv.shared.clients.lock().remove(&id);
    if info.is_monitor.load(Ordering::Relaxed) {
        let mut m = srv.shared.monitors.lock();
        m.retain(|(cid, _)| *cid != id);
        if m.is_empty() {
            srv.shared.has_monitors.store(false, Ordering::Relaxed);
        }
    }
    if client.pubsub {
        srv.state.lock().pubsub.remove_client(id);
    }
    client.outbox = None;
    if !client.watching.is_empty() {
        let mut st = srv.state.lock();
        for (db, key) in client.watching.drain(..) {
            if let Some(d) = st.ks.dbs.get_mut(db) {
                d.unwatch(&key, id);
            }
        }
    }
}

async fn run(srv: &Server, stream: &mut TcpStream, client: &mut Client) {
    let mut buf: Vec<u8> = vec![0u8; READ_CHUNK];
    let (mut start, mut len) = (0usize, 0usize);
    let mut need = 0usize;
    let mut ranges: Vec<(usize, usize)> = Vec::with_capacity(64);
    // Decoded commands with the buffer offset just past each.
    let mut batch: Vec<(Cmd, usize)> = Vec::with_capacity(16);
    // Set when complete commands are still buffered (after AUTH or a blocking command):
    // they are processed before waiting for more input.
    let mut reprocess = false;
    let mut out = ReplyBuf::new(false);
    let mut limits = Limitsx { decode: Limits::default(), qbuf_max: 1 << 30, obuf_hard: 0, obuf_soft: 0, obuf_soft_s: 0, refreshed_ms: 0 };
    // Since when the output has been above the soft limit (0 = it is not).
    let mut obuf_soft_since_ms = 0u64;
    let mut push_rx: Option<tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>> = None;
    let info = client.info.clone();
    // Pub/sub: other clients append messages to `outbox` (under the command lock) and
    // wake this task through `notify`; see shoal_commands::family::pubsub.
    let notify = Arc::new(tokio::sync::Notify::new());
    let outbox = {
        let n = notify.clone();
        Arc::new(Outbox::new(info.clone(), Box::new(move || n.notify_one())))
    };
    client.outbox = Some(outbox.clone());
    let mut spare: Vec<u8> = Vec::new();
    loop {
        // ---- read (or forward pushed messages in MONITOR mode) ----
        if reprocess {
            reprocess = false;
        } else {
            if len == buf.len() {
                let grow = buf.len().max(need.saturating_sub(buf.len())).max(READ_CHUNK);
                buf.resize(buf.len() + grow, 0);
            }
            // `read` (AsyncRead) rather than `try_read`: tokio clears the readiness flag after a
            // short read, so a drained socket costs no extra EAGAIN read and the task yields to
            // the other connections until epoll reports new data (Redis's one-read-per-event
            // fairness).
            let r = if let Some(rx) = push_rx.as_mut() {
                tokio::select! {
                    m = rx.recv() => {
                        match m {
                            Some(mut lines) => {
                                while let Ok(more) = rx.try_recv() { lines.extend_from_slice(&more); }
                                if stream.write_all(&lines).await.is_err() { return; }
                                continue;
                            }
                            None => return,
                        }
                    }
                    r = stream.read(&mut buf[len..]) => r,
                }
            } else if client.pubsub {
                tokio::select! {
                    _ = notify.notified() => {
                        if !write_pushed(srv, stream, &outbox, &mut spare).await || info.killed.load(Ordering::Acquire) {
                            return;
                        }
                        continue;
                    }
                    r = stream.read(&mut buf[len..]) => r,
                }
            } else {
                stream.read(&mut buf[len..]).await
            };
            match r {
                Ok(0) | Err(_) => return,
                Ok(n) => len += n,
            }
            if info.killed.load(Ordering::Acquire) {
                return;
            }
            srv.shared.stats.total_net_input_bytes.fetch_add((len - start) as u64, Ordering::Relaxed);
            // The query buffer limit applies while a big argument is still arriving too.
            if len - start > limits.qbuf_max {
                warning!("Closing client that reached max query buffer length: id={} addr={}", client.id, info.addr);
                srv.shared.stats.client_query_buffer_limit_disconnections.fetch_add(1, Ordering::Relaxed);
                return;
            }
            if len - start < need {
                continue;
            }
        }
        // One clock read for the batch: the first command starts here, each later one
        // where the previous ended (exec::call_with reads the clock at each end).
        let mut mono = mono_us();
        let now = srv.shared.unix_ms_at(mono);
        refresh(srv, &mut limits, now, client.authenticated);

        // ---- decode every complete command ----
        let mut proto_err = None;
        let mut pos = start;
        ranges.clear();
        batch.clear();
        need = 0;
        loop {
            let before = ranges.len();
            match decode(&buf[pos..len], &mut ranges, &limits.decode) {
                Ok(Decoded::Command { consumed }) => {
                    for r in &mut ranges[before..] {
                        r.0 += pos;
                        r.1 += pos;
                    }
                    if ranges.len() > before {
                        batch.push((Cmd::Ranges(before, ranges.len()), pos + consumed));
                    }
                    pos += consumed;
                }
                Ok(Decoded::Owned { consumed, args }) => {
                    if !args.is_empty() {
                        batch.push((Cmd::Owned(OwnedArgs::from_slices(&args)), pos + consumed));
                    }
                    pos += consumed;
                }
                Ok(Decoded::Incomplete { need: n }) => {
                    need = n;
                    break;
                }
                Err(e) => {
                    proto_err = Some(e);
                    break;
                }
            }
            if pos == len {
                break;
            }
            // An unauthenticated client's limits change once AUTH runs: decode the rest
            // after this batch.
            if !client.authenticated {
                reprocess = true;
                break;
            }
        }

        // ---- execute the batch under one lock ----
        let mut close = false;
        let mut blocked = None;
        let mut resume_at = None;
        if !batch.is_empty() {
            if srv.shared.pause_until_ms.load(Ordering::Relaxed) != 0 {
                let writes = batch.iter().any(|(c, _)| {
                    let args = match c {
                        Cmd::Ranges(a, b) => Args::new(&buf, &ranges[*a..*b]),
                        Cmd::Owned(o) => o.args(),
                    };
                    exec::resolve(args).is_ok_and(|d| d.has(flags::WRITE) || d.has(flags::MAY_REPLICATE))
                });
                wait_if_paused(srv, writes).await;
                mono = mono_us();
            }
            let mut st = srv.state.lock();
            st.clock_us = mono;
            if client.pubsub {
                // Messages published before this batch go out before its replies.
                outbox.drain_into(&mut out.buf);
            }
            for (cmd, end) in batch.drain(..) {
                let args = match &cmd {
                    Cmd::Ranges(a, b) => Args::new(&buf, &ranges[*a..*b]),
                    Cmd::Owned(o) => o.args(),
                };
                st.ks.now_ms = srv.shared.unix_ms_at(st.clock_us);
                match exec::execute(&mut st, client, &srv.shared, &mut out, args) {
                    None => {}
                    Some(Action::Close) => {
                        close = true;
                        break;
                    }
                    Some(Action::Shutdown { .. }) => {
                        srv.shared.shutdown.store(true, Ordering::Release);
                        srv.shutdown_requested.notify_one();
                        close = true;
                        break;
                    }
                    Some(Action::Monitor) => {
                        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
                        let sink: shoal_commands::ctx::MonitorSink = Arc::new(move |l: &[u8]| tx.send(l.to_vec()).is_ok());
                        srv.shared.monitors.lock().push((client.id, sink));
                        srv.shared.has_monitors.store(true, Ordering::Relaxed);
                        info.is_monitor.store(true, Ordering::Relaxed);
                        push_rx = Some(rx);
                    }
                    Some(Action::Block { keys, deadline_ms, timeout_reply }) => {
                        let (tx, rx) = tokio::sync::oneshot::channel::<Vec<u8>>();
                        let def = exec::resolve(args).expect("a command that just blocked resolves");
                        blocking::block(
                            &mut st,
                            &srv.shared,
                            Blocked {
                                id: client.id,
                                db: client.db,
                                resp3: client.resp3,
                                info: info.clone(),
                                def,
                                args: OwnedArgs::from_args(&args),
                                keys,
                                deliver: Box::new(move |reply| {
                                    let _ = tx.send(reply);
                                }),
                            },
                        );
                        blocked = Some((rx, deadline_ms, timeout_reply));
                        // Commands pipelined after the blocking one wait until it is served.
                        resume_at = Some(end);
                        break;
                    }
                }
            }
            drop(st);
            info.last_interaction_ms.store(now, Ordering::Relaxed);
        }
        if let Some(e) = &proto_err {
            verbose!("Protocol error ({}) from client: id={} addr={}", e.0, client.id, info.addr);
            out.error(&e.0);
            close = true;
        }
        start = resume_at.unwrap_or(pos);
        if resume_at.is_some() && start < len {
            reprocess = true;
        }
        if start == len {
            start = 0;
            len = 0;
            if buf.len() > 4 * READ_CHUNK {
                buf.truncate(READ_CHUNK);
                buf.shrink_to_fit();
            }
        } else if !close {
            if len - start > limits.qbuf_max {
                warning!(
                    "Closing client that reached max query buffer length: id={} addr={} (qbuf initial bytes: {:?})",
                    client.id,
                    info.addr,
                    String::from_utf8_lossy(&buf[start..(start + 64).min(len)])
                );
                srv.shared.stats.client_query_buffer_limit_disconnections.fetch_add(1, Ordering::Relaxed);
                return;
            }
            if start > 0 {
                buf.copy_within(start..len, 0);
                len -= start;
                need = need.saturating_sub(start);
                start = 0;
            }
        }
        info.qbuf.store(len - start, Ordering::Relaxed);

        // ---- output buffer limits (normal or pubsub class), as Redis's checkClientOutputBufferLimits ----
        let pending = out.len();
        info.omem.store(pending, Ordering::Relaxed);
        let (obuf_hard, obuf_soft, obuf_soft_s) = if client.pubsub {
            let sh = &srv.shared;
            (
                sh.pubsub_obuf_hard.load(Ordering::Relaxed) as usize,
                sh.pubsub_obuf_soft.load(Ordering::Relaxed) as usize,
                sh.pubsub_obuf_soft_s.load(Ordering::Relaxed),
            )
        } else {
            (limits.obuf_hard, limits.obuf_soft, limits.obuf_soft_s)
        };
        let over_hard = obuf_hard > 0 && pending >= obuf_hard;
        let over_soft = obuf_soft > 0 && pending >= obuf_soft;
        // The soft limit closes a client that stays above it for longer than its seconds
        // (the first time it is seen above, only the time is noted).
        let soft_expired = if !over_soft {
            obuf_soft_since_ms = 0;
            false
        } else if obuf_soft_since_ms == 0 {
            obuf_soft_since_ms = now;
            false
        } else {
            now.saturating_sub(obuf_soft_since_ms) / 1000 > obuf_soft_s
        };
        if over_hard || soft_expired {
            warning!("Client id={} addr={} closed for overcoming of output buffer limits.", client.id, info.addr);
            srv.shared.stats.client_output_buffer_limit_disconnections.fetch_add(1, Ordering::Relaxed);
            return;
        }

        // ---- write all replies at once ----
        if !out.is_empty() {
            srv.shared.stats.total_net_output_bytes.fetch_add(out.len() as u64, Ordering::Relaxed);
            if stream.write_all(&out.buf).await.is_err() {
                return;
            }
            out.clear();
            if out.buf.capacity() > 1 << 20 {
                out.buf = Vec::with_capacity(256);
            }
        }
        if close {
            let _ = stream.shutdown().await;
            return;
        }

        // ---- blocked: wait for the reply, the timeout, or the client going away ----
        if let Some((mut rx, deadline_ms, timeout_reply)) = blocked {
            let sleep = tokio::time::sleep(std::time::Duration::from_millis(if deadline_ms == 0 {
                u32::MAX as u64
            } else {
                deadline_ms.saturating_sub(unix_ms())
            }));
            tokio::pin!(sleep);
            let reply = loop {
                if len == buf.len() {
                    buf.resize(buf.len() + READ_CHUNK, 0);
                }
                tokio::select! {
                    r = &mut rx => break r.ok(),
                    _ = notify.notified(), if client.pubsub => {
                        // A RESP3 client blocked while subscribed still gets its messages.
                        if !write_pushed(srv, stream, &outbox, &mut spare).await || info.killed.load(Ordering::Acquire) {
                            blocking::unblock(&mut srv.state.lock(), &srv.shared, client.id);
                            return;
                        }
                    }
                    _ = &mut sleep => {
                        let still = blocking::unblock(&mut srv.state.lock(), &srv.shared, client.id).is_some();
                        if still {
                            let mut rb = ReplyBuf::new(client.resp3);
                            timeout_reply(&mut rb);
                            break Some(rb.buf);
                        }
                        // Served meanwhile: the reply is on its way through `rx`.
                        sleep.as_mut().reset(tokio::time::Instant::now() + std::time::Duration::from_secs(3600));
                    }
                    r = stream.read(&mut buf[len..]) => {
                        match r {
                            Ok(n) if n > 0 && !info.killed.load(Ordering::Acquire) => len += n,
                            _ => {
                                blocking::unblock(&mut srv.state.lock(), &srv.shared, client.id);
                                return;
                            }
                        }
                    }
                }
            };
            let Some(reply) = reply else { return };
            if stream.write_all(&reply).await.is_err() {
                return;
            }
            srv.shared.stats.total_net_output_bytes.fetch_add(reply.len() as u64, Ordering::Relaxed);
            if start < len {
                reprocess = true;
            }
        }
    }
}

/// Writes the messages queued in the connection's outbox; false when the connection broke.
async fn write_pushed(srv: &Server, stream: &mut TcpStream, outbox: &Outbox, spare: &mut Vec<u8>) -> bool {
    outbox.take(spare);
    if !spare.is_empty() {
        srv.shared.stats.total_net_output_bytes.fetch_add(spare.len() as u64, Ordering::Relaxed);
        if stream.write_all(spare).await.is_err() {
            return false;
        }
        spare.clear();
        if spare.capacity() > 1 << 20 {
            *spare = Vec::new();
        }
    }
    outbox.written();
    true
}

/// CLIENT PAUSE: hold the batch until the pause ends (checked every 10 ms so that
/// CLIENT UNPAUSE takes effect promptly). A WRITE pause holds only batches with a write
/// (or may-replicate) command.
async fn wait_if_paused(srv: &Server, writes: bool) {
    loop {
        let until = srv.shared.pause_until_ms.load(Ordering::Relaxed);
        if until == 0 || unix_ms() >= until || !(writes || srv.shared.pause_all.load(Ordering::Relaxed)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
