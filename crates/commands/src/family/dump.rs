//! Family: DUMP and RESTORE (RESTORE-ASKING), payloads from shoal_rdb.
//!
//! RESTORE follows Redis 7.0's `restoreCommand` (cluster.c) step by step: options
//! (REPLACE, ABSTTL, IDLETIME, FREQ), BUSYKEY, the TTL, the payload's footer, the
//! object; then an already-expired TTL only deletes the replaced key. Shoal keeps no
//! LRU/LFU data per key, so IDLETIME and FREQ are validated as Redis validates them and
//! otherwise ignored.

use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::table::flags::*;
use crate::table::CommandDef;
use crate::util::{eq_ic, parse_i64};
use shoal_keyspace::value::hash::HashLimits;
use shoal_keyspace::value::list::ListFill;
use shoal_keyspace::value::zset::ZSetLimits;
use shoal_rdb::{LoadLimits, RestoreError, SaveOptions};
use shoal_resp::Args;
use std::sync::atomic::Ordering;

/// Write settings from the configuration (`rdbcompression`, `list-max-listpack-size`).
pub fn save_options(ctx: &Ctx<'_>) -> SaveOptions {
    let compression = ctx.shared.config.read().get_bool("rdbcompression");
    SaveOptions { compression, list_max_listpack_size: ctx.shared.hot.list_max_listpack_size.load(Ordering::Relaxed) }
}

/// Encoding thresholds from the configuration, for values built from payloads.
pub fn load_limits(ctx: &Ctx<'_>) -> LoadLimits {
    let c = ctx.shared.config.read();
    let u = |name: &str| c.get_i64(name).max(0) as usize;
    LoadLimits {
        hash: HashLimits { max_listpack_entries: u("hash-max-listpack-entries"), max_listpack_value: u("hash-max-listpack-value") },
        zset: ZSetLimits { max_listpack_entries: u("zset-max-listpack-entries"), max_listpack_value: u("zset-max-listpack-value") },
        set_max_intset_entries: u("set-max-intset-entries"),
        list_fill: ListFill::new(c.get_i64("list-max-listpack-size")),
    }
}

/// DUMP key
fn dump(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let opts = save_options(ctx);
    let (v, out) = ctx.read_value(args.get(1));
    match v {
        None => out.null(),
        Some(v) => {
            let payload = shoal_rdb::dump_with(v, &opts);
            out.bulk(&payload);
        }
    }
    Ok(())
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
fn restore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let mut replace = false;
    let mut absttl = false;
    let mut idle_set = false;
    let mut freq_set = false;
    let mut j = 4;
    while j < args.len() {
        let a = args.get(j);
        let additional = args.len() - j - 1;
        if eq_ic(a, "replace") {
            replace = true;
        } else if eq_ic(a, "absttl") {
            absttl = true;
        } else if eq_ic(a, "idletime") && additional >= 1 && !freq_set {
            let v = parse_i64(args.get(j + 1))?;
            if v < 0 {
                return Err(CmdError::err("Invalid IDLETIME value, must be >= 0"));
            }
            idle_set = true;
            j += 1;
        } else if eq_ic(a, "freq") && additional >= 1 && !idle_set {
            let v = parse_i64(args.get(j + 1))?;
            if !(0..=255).contains(&v) {
                return Err(CmdError::err("Invalid FREQ value, must be >= 0 and <= 255"));
            }
            freq_set = true;
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let key = args.get(1);
    let now = ctx.now();
    if !replace && ctx.db().get(key, now).is_some() {
        return Err(CmdError::raw("BUSYKEY Target key name already exists."));
    }
    let ttl = parse_i64(args.get(2))?;
    if ttl < 0 {
        return Err(CmdError::err("Invalid TTL value, must be >= 0"));
    }
    let limits = load_limits(ctx);
    let value = match shoal_rdb::restore_with(args.get(3), &limits) {
        Ok(v) => v,
        Err(RestoreError::VersionOrChecksum) => return Err(CmdError::err("DUMP payload version or checksum are wrong")),
        Err(RestoreError::BadFormat) => return Err(CmdError::err("Bad data format")),
    };
    let deleted = replace && ctx.db().remove_live(key, now).is_some();
    let when = if ttl != 0 && !absttl { ttl.wrapping_add(now as i64) } else { ttl };
    if when != 0 && when <= now as i64 {
        // checkAlreadyExpired: the key is not created (and a replaced one is gone).
        if deleted {
            ctx.notify(b'g', "del", key);
            ctx.dirty(1);
        }
        ctx.out.ok();
        return Ok(());
    }
    let db = ctx.db();
    db.set(key, value, false);
    if when != 0 {
        db.set_expire(key, when as u64);
    }
    ctx.notify(b'g', "restore", key);
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Returns a serialized representation of the value stored at a key.",
        since: "2.6.0",
        complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
        acl: &["@keyspace"],
        ..CommandDef::new("dump", 2, READONLY, (1, 1, 1), "generic", dump)
    },
    CommandDef {
        summary: "Creates a key from the serialized representation of a value.",
        since: "2.6.0",
        complexity: "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
        acl: &["@keyspace", "@dangerous"],
        ..CommandDef::new("restore", -4, WRITE | DENYOOM, (1, 1, 1), "generic", restore)
    },
    CommandDef {
        summary: "An internal command for migrating keys in a cluster.",
        since: "3.0.0",
        complexity: "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
        acl: &["@keyspace", "@dangerous"],
        ..CommandDef::new("restore-asking", -4, WRITE | DENYOOM | ASKING, (1, 1, 1), "server", restore)
    },
];
