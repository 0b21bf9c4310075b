//! The command table: one [`CommandDef`] per command (and per subcommand of container
//! commands such as CONFIG or CLIENT), declared by each family file in its `COMMANDS`
//! array. It is the single source of truth for dispatch, arity checks, key positions
//! (routing, CROSSSLOT, COMMAND GETKEYS), flags (COMMAND INFO, MULTI, OOM and replica
//! checks) and ACL categories.

use crate::ctx::Ctx;
use crate::error::CmdResult;
use shoal_resp::Args;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Runs a command whose arity was already checked.
pub type Handler = fn(&mut Ctx<'_>, Args<'_>) -> CmdResult;
/// Returns the argument indexes that are keys, for commands whose key positions
/// cannot be given by first/last/step (e.g. numkeys arguments).
pub type KeysFn = fn(Args<'_>) -> Vec<usize>;

/// Command flags, as Redis's `CMD_*` (names as COMMAND INFO prints them).
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const ASKING: u32 = 1 << 11;
    pub const FAST: u32 = 1 << 12;
    pub const NO_AUTH: u32 = 1 << 13;
    pub const MAY_REPLICATE: u32 = 1 << 14;
    pub const NO_MULTI: u32 = 1 << 15;
    pub const MOVABLE_KEYS: u32 = 1 << 16;
    pub const ALLOW_BUSY: u32 = 1 << 17;
    pub const NO_ASYNC_LOADING: u32 = 1 << 18;
    pub const SENTINEL: u32 = 1 << 19;
    /// Not queued by MULTI: runs immediately (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).
    pub const TX_CONTROL: u32 = 1 << 20;

    /// (flag, name) pairs in the order COMMAND INFO prints them.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// One command or subcommand.
pub struct CommandDef {
    /// Lowercase name (for a subcommand: the subcommand name alone, e.g. "get").
    pub name: &'static str,
    /// Redis arity: N = exactly N arguments (name included), -N = at least N.
    pub arity: i32,
    pub flags: u32,
    /// Key positions: first, last (negative counts from the end), step. 0,0,0 = no keys.
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    /// Custom key extraction (overrides first/last/step).
    pub keys: Option<KeysFn>,
    /// ACL categories beyond those derived from flags and group (e.g. "@string").
    pub acl: &'static [&'static str],
    /// Documentation group (COMMAND DOCS): "string", "hash", "generic", "server", ...
    pub group: &'static str,
    pub summary: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
    pub handler: Handler,
    /// Subcommands of a container command (CONFIG GET, CLIENT LIST, ...).
    pub subcommands: &'static [CommandDef],
}

impl CommandDef {
    /// A definition with empty documentation and no subcommands; families fill the rest
    /// with struct-update syntax.
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        keys: (i32, i32, i32),
        group: &'static str,
        handler: Handler,
    ) -> CommandDef {
        CommandDef {
            name,
            arity,
            flags,
            first_key: keys.0,
            last_key: keys.1,
            step: keys.2,
            keys: None,
            acl: &[],
            group,
            summary: "",
            since: "1.0.0",
            complexity: "",
            handler,
            subcommands: &[],
        }
    }

    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    /// True when `argc` satisfies the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        if self.arity >= 0 {
            argc == self.arity as usize
        } else {
            argc >= (-self.arity) as usize
        }
    }

    /// Argument indexes of the keys of this invocation.
    pub fn key_indexes(&self, args: Args<'_>) -> Vec<usize> {
        if let Some(f) = self.keys {
            return f(args);
        }
        if self.first_key <= 0 {
            return Vec::new();
        }
        let argc = args.len() as i32;
        let last = if self.last_key < 0 { argc + self.last_key } else { self.last_key };
        let step = self.step.max(1);
        let mut out = Vec::new();
        let mut i = self.first_key;
        while i <= last && i < argc {
            out.push(i as usize);
            i += step;
        }
        out
    }

    /// ACL categories as COMMAND INFO lists them.
    pub fn acl_categories(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        if self.has(flags::WRITE) {
            v.push("@write".into());
        }
        if self.has(flags::READONLY) {
            v.push("@read".into());
        }
        if self.has(flags::ADMIN) {
            v.push("@admin".into());
            v.push("@dangerous".into());
        }
        if self.has(flags::PUBSUB) {
            v.push("@pubsub".into());
        }
        if self.has(flags::FAST) {
            v.push("@fast".into());
        } else {
            v.push("@slow".into());
        }
        if self.has(flags::BLOCKING) {
            v.push("@blocking".into());
        }
        let g = match self.group {
            "generic" => Some("@keyspace"),
            "string" | "bitmap" => Some(if self.group == "bitmap" { "@bitmap" } else { "@string" }),
            "hash" => Some("@hash"),
            "list" => Some("@list"),
            "set" => Some("@set"),
            "sorted-set" => Some("@sortedset"),
            "hyperloglog" => Some("@hyperloglog"),
            "geo" => Some("@geo"),
            "stream" => Some("@stream"),
            "transactions" => Some("@transaction"),
            "connection" => Some("@connection"),
            "scripting" => Some("@scripting"),
            _ => None,
        };
        if let Some(g) = g {
            v.insert(v.len().min(2), g.into());
        }
        for a in self.acl {
            if !v.iter().any(|x| x == a) {
                v.push((*a).into());
            }
        }
        v
    }
}

/// Every family's table, in one list.
pub fn families() -> &'static [&'static [CommandDef]] {
    use crate::family::*;
    static FAMILIES: &[&[CommandDef]] = &[
        string::COMMANDS,
        bitops::COMMANDS,
        hash::COMMANDS,
        keys::COMMANDS,
        connection::COMMANDS,
        server::COMMANDS,
        tx::COMMANDS,
        config::COMMANDS,
        list::COMMANDS,
        set::COMMANDS,
        zset::COMMANDS,
        blocking::COMMANDS,
        hll::COMMANDS,
        sort::COMMANDS,
        geo::COMMANDS,
        stream::COMMANDS,
        pubsub::COMMANDS,
        dump::COMMANDS,
        migrate::COMMANDS,
        cluster::COMMANDS,
    ];
    FAMILIES
}

/// Looks a command up by name, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static CommandDef> {
    // foldhash rather than SipHash: this lookup runs for every command.
    type Map = HashMap<&'static str, &'static CommandDef, foldhash::fast::FixedState>;
    static MAP: OnceLock<Map> = OnceLock::new();
    let map = MAP.get_or_init(|| {
        let mut m = Map::default();
        for fam in families() {
            for c in fam.iter() {
                assert!(m.insert(c.name, c).is_none(), "duplicate command {}", c.name);
            }
        }
        m
    });
    if name.len() > 32 {
        return None;
    }
    let mut buf = [0u8; 32];
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let s = std::str::from_utf8(lower).ok()?;
    map.get(s).copied()
}

/// Looks a subcommand up in a container command.
pub fn lookup_sub(cmd: &'static CommandDef, sub: &[u8]) -> Option<&'static CommandDef> {
    cmd.subcommands.iter().find(|c| c.name.as_bytes().eq_ignore_ascii_case(sub))
}

/// All commands (top level), for COMMAND LIST / COUNT / INFO.
pub fn all() -> impl Iterator<Item = &'static CommandDef> {
    families().iter().flat_map(|f| f.iter())
}
