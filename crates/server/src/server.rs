//! Start-up, listeners, I/O threads and the cron.
//!
//! Threads: `io-threads` worker threads each run a single-threaded tokio runtime; the
//! acceptor hands each new connection to the next worker (round robin). A connection
//! is served by one worker for its whole life. Commands of all connections execute under
//! one lock around [`State`], taken once per batch of pipelined commands, so a batch,
//! a MULTI/EXEC block and every multi-key command are atomic. Parsing, reply encoding
//! and socket I/O (most of the CPU per request) run in parallel on the workers. See
//! ARCHITECTURE.md for the measurements behind this choice.

use crate::conn;
use crate::{notice, warning};
use parking_lot::Mutex;
use shoal_commands::config::{self, Config};
use shoal_commands::ctx::{unix_ms, Shared, State};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// What every connection task needs.
pub struct Server {
    pub shared: Shared,
    pub state: Mutex<State>,
    /// Woken when SHUTDOWN was accepted (`shared.shutdown` is set first), so the main
    /// loop needs no polling timer.
    pub shutdown_requested: tokio::sync::Notify,
}

fn resolve_bind(addr: &str, port: u16) -> (String, bool) {
    let (optional, a) = match addr.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, addr),
    };
    let host = match a {
        "*" => "0.0.0.0".to_string(),
        "::*" => "::".to_string(),
        h => h.to_string(),
    };
    let sa = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    (sa, optional)
}

fn bind_all(cfg: &Config) -> Result<Vec<std::net::TcpListener>, String> {
    let port = cfg.port();
    let backlog = cfg.get_i64("tcp-backlog").clamp(1, 65535) as i32;
    let mut out = Vec::new();
    for b in cfg.bind() {
        let (sa, optional) = resolve_bind(&b, port);
        match listen(&sa, backlog) {
            Ok(l) => out.push(l),
            Err(e) if optional && (e.kind() == std::io::ErrorKind::AddrNotAvailable || e.raw_os_error() == Some(libc::EAFNOSUPPORT)) => {}
            Err(e) => return Err(format!("Warning: Could not create server TCP listening socket {sa}: {e}")),
        }
    }
    if out.is_empty() {
        return Err("Failed listening on port (tcp), aborting.".into());
    }
    Ok(out)
}

fn listen(sa: &str, backlog: i32) -> std::io::Result<std::net::TcpListener> {
    let addr: std::net::SocketAddr = sa.parse().map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{e}")))?;
    listen_on(addr, backlog as u32)
}

/// A listening socket on `addr` (client port and cluster bus port alike).
pub(crate) fn listen_on(addr: std::net::SocketAddr, backlog: u32) -> std::io::Result<std::net::TcpListener> {
    let sock = if addr.is_ipv6() { tokio::net::TcpSocket::new_v6()? } else { tokio::net::TcpSocket::new_v4()? };
    if addr.is_ipv6() {
        // As Redis (anetV6Only): "::" must not also claim the IPv4 port bound by "*".
        use std::os::fd::AsRawFd;
        let one: libc::c_int = 1;
        // SAFETY: a valid socket fd and a c_int option value of the right size.
        let rc = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::IPPROTO_IPV6,
                libc::IPV6_V6ONLY,
                &one as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    sock.set_reuseaddr(true)?;
    sock.bind(addr)?;
    sock.listen(backlog)?.into_std()
}

/// Runs the server until SHUTDOWN or a signal; returns the process exit status.
pub fn run(argv: &[String], allocated_bytes: fn() -> usize) -> i32 {
    let (cfg, file, warnings) = match config::load(argv) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    if cfg.get_bool("daemonize") {
        // SAFETY: no threads exist yet; daemon() forks and the parent exits.
        if unsafe { libc::daemon(1, 0) } != 0 {
            eprintln!("daemonize failed");
            return 1;
        }
    }
    if let Err(e) = crate::log::init(cfg.get("logfile").unwrap_or(""), cfg.get("loglevel").unwrap_or("notice")) {
        eprintln!("Can't open the log file: {e}");
        return 1;
    }
    let dir = cfg.get("dir").unwrap_or("").to_string();
    if !dir.is_empty() {
        if let Err(e) = std::env::set_current_dir(&dir) {
            eprintln!("Can't chdir to '{dir}': {e}");
            return 1;
        }
    }
    let pid = std::process::id();
    crate::log::log(crate::log::WARNING, 'C', "oO0OoO0OoO0Oo Shoal is starting oO0OoO0OoO0Oo");
    crate::log::log(
        crate::log::WARNING,
        'C',
        &format!("Shoal version={} (Redis 7.0.15 compatible), bits=64, pid={pid}, just started", env!("CARGO_PKG_VERSION")),
    );
    crate::log::log(crate::log::WARNING, 'C', "Configuration loaded");
    for w in &warnings {
        warning!("{w}");
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let guard = rt.enter();
    let listeners = match bind_all(&cfg) {
        Ok(l) => l,
        Err(e) => {
            warning!("{e}");
            return 1;
        }
    };
    let port = listeners[0].local_addr().map(|a| a.port()).unwrap_or(0);
    let pidfile = cfg.get("pidfile").unwrap_or("").to_string();
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{pid}\n")) {
            warning!("Failed to write PID file: {e}");
        }
    }
    // `io-threads` as in redis.conf (default 1): the number of worker threads that serve
    // connections. See ARCHITECTURE.md ("Threads") for why 1 is the default on small machines.
    let io_threads = cfg.get("io-threads").and_then(|v| v.parse::<usize>().ok()).unwrap_or(1).clamp(1, 128);
    let databases = cfg.databases();
    let mut shared = Shared::new(cfg, file);
    shared.allocated_bytes = allocated_bytes;
    shared.tcp_port.store(port as u32, Ordering::Relaxed);
    // Cluster mode (clusterInit): nodes.conf and the bus port.
    let mut bus_listeners = Vec::new();
    if shared.config.read().get_bool("cluster-enabled") {
        let opened = crate::cluster_bus::open(&shared.config.read(), port);
        match opened {
            Ok((node, l)) => {
                shared.cluster = Some(Arc::new(node));
                bus_listeners = l;
            }
            Err(e) => {
                warning!("{e}");
                return 1;
            }
        }
    }
    let server = Arc::new(Server { shared, state: Mutex::new(State::new(databases)), shutdown_requested: tokio::sync::Notify::new() });
    config::set_loglevel_hook(crate::log::set_level);
    config::apply_hot(&server.shared.config.read(), &server.shared);
    if server.shared.cluster.is_some() {
        crate::cluster_bus::log_ready(port);
    } else {
        notice!("Running mode=standalone, port={port}.");
    }
    warning!("Server initialized");
    crate::cluster_bus::start(server.clone(), bus_listeners);

    // I/O workers
    let mut workers = Vec::new();
    for i in 0..io_threads {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<std::net::TcpStream>();
        let srv = server.clone();
        std::thread::Builder::new()
            .name(format!("shoal-io-{i}"))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                let local = tokio::task::LocalSet::new();
                local.block_on(&rt, async move {
                    while let Some(s) = rx.recv().await {
                        let srv = srv.clone();
                        tokio::task::spawn_local(async move {
                            conn::serve(srv, s).await;
                        });
                    }
                });
            })
            .expect("spawn io thread");
        workers.push(tx);
    }

    drop(guard);
    let code = rt.block_on(async move {
        for l in listeners {
            let workers = workers.clone();
            let srv = server.clone();
            l.set_nonblocking(true).expect("nonblocking");
            let l = tokio::net::TcpListener::from_std(l).expect("listener");
            tokio::spawn(async move {
                let mut next = 0usize;
                loop {
                    match l.accept().await {
                        Ok((s, _)) => {
                            srv.shared.stats.total_connections_received.fetch_add(1, Ordering::Relaxed);
                            let std = match s.into_std() {
                                Ok(x) => x,
                                Err(_) => continue,
                            };
                            let _ = workers[next % workers.len()].send(std);
                            next = next.wrapping_add(1);
                        }
                        Err(e) => {
                            warning!("Accepting client connection: {e}");
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
            });
        }
        tokio::spawn(cron(server.clone()));
        notice!("Ready to accept connections");
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal");
        let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).expect("signal");
        loop {
            tokio::select! {
                _ = term.recv() => { warning!("Received SIGTERM scheduling shutdown..."); break; }
                _ = int.recv() => { warning!("Received SIGINT scheduling shutdown..."); break; }
                _ = server.shutdown_requested.notified() => {
                    if server.shared.shutdown.load(Ordering::Acquire) { break; }
                }
            }
        }
        warning!("User requested shutdown...");
        if !pidfile.is_empty() {
            let _ = std::fs::remove_file(&pidfile);
        }
        warning!("Shoal is now ready to exit, bye bye...");
        0
    });
    code
}

/// Periodic jobs, `hz` times a second (10, as Redis's default): active expiry with
/// Redis's adaptive sampling (repeat while more than 10% of sampled keys had expired,
/// within 25% of the period), and idle-client timeouts once a second.
async fn cron(srv: Arc<Server>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        n += 1;
        srv.shared.sync_clock();
        shoal_commands::family::info::sample_instantaneous(&srv.shared);
        if srv.shared.active_expire_enabled.load(Ordering::Relaxed) {
            let start = std::time::Instant::now();
            let mut st = srv.state.lock();
            let now = unix_ms();
            st.ks.now_ms = now;
            for db in st.ks.dbs.iter_mut() {
                loop {
                    let (sampled, e) = db.active_expire_cycle(now, 20);
                    if sampled == 0 || e * 10 <= sampled || start.elapsed() > Duration::from_millis(25) {
                        break;
                    }
                }
            }
            // INFO expired_keys and the "expired" keyspace events.
            shoal_commands::exec::drain_key_events(&mut st, &srv.shared, None);
        }
        if n.is_multiple_of(10) {
            let timeout_s = srv.shared.config.read().get_i64("timeout");
            if timeout_s > 0 {
                let now = unix_ms();
                for c in srv.shared.clients.lock().values() {
                    let idle = now.saturating_sub(c.last_interaction_ms.load(Ordering::Relaxed));
                    if idle / 1000 > timeout_s as u64 && !c.is_monitor.load(Ordering::Relaxed) {
                        c.kill();
                    }
                }
            }
        }
    }
}
