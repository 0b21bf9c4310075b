//! Family: strings (GET, SET and its options, counters, ranges).

use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::table::{flags::*, CommandDef};
use crate::util::{eq_ic, parse_i64};
use shoal_keyspace::Value;
use shoal_resp::Args;

/// Reads the string at `key`: Ok(None) when absent, WRONGTYPE for other types.
pub fn get_str<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c [u8]>, CmdError> {
    let now = ctx.now();
    match ctx.st.ks.dbs[ctx.client.db].get(key, now) {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.as_bytes())),
        Some(_) => Err(CmdError::WrongType),
    }
}

fn get(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let now = ctx.now();
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    match db.get(args.get(1), now) {
        None => {
            ctx.out.null();
            ctx.hit(false);
        }
        Some(Value::Str(s)) => {
            ctx.out.bulk(s.as_bytes());
            ctx.hit(true);
        }
        Some(_) => return Err(CmdError::WrongType),
    }
    Ok(())
}

#[derive(PartialEq)]
enum Cond {
    None,
    Nx,
    Xx,
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]
fn set(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let mut cond = Cond::None;
    let mut want_get = false;
    let mut keep_ttl = false;
    let mut expire: Option<(&[u8], u64, bool)> = None; // (arg, multiplier to ms, absolute)
    let mut i = 3;
    while i < args.len() {
        let a = args.get(i);
        let next = if i + 1 < args.len() { Some(args.get(i + 1)) } else { None };
        if eq_ic(a, "nx") && cond == Cond::None {
            cond = Cond::Nx;
        } else if eq_ic(a, "xx") && cond == Cond::None {
            cond = Cond::Xx;
        } else if eq_ic(a, "get") {
            want_get = true;
        } else if eq_ic(a, "keepttl") && expire.is_none() {
            keep_ttl = true;
        } else if (eq_ic(a, "ex") || eq_ic(a, "px") || eq_ic(a, "exat") || eq_ic(a, "pxat"))
            && expire.is_none()
            && !keep_ttl
            && next.is_some()
        {
            let unit = if eq_ic(a, "ex") || eq_ic(a, "exat") { 1000 } else { 1 };
            let abs = eq_ic(a, "exat") || eq_ic(a, "pxat");
            expire = Some((next.expect("checked"), unit, abs));
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let now = ctx.now();
    let when = match expire {
        Some((arg, unit, abs)) => Some(expire_deadline(arg, unit, abs, now, "set")?),
        None => None,
    };
    let key = args.get(1);
    let db = &mut ctx.st.ks.dbs[ctx.client.db];
    let old = match db.get(key, now) {
        None => None,
        Some(Value::Str(s)) => Some(if want_get { Some(s.as_bytes().to_vec()) } else { None }),
        Some(_) => {
            if want_get {
                return Err(CmdError::WrongType);
            }
            Some(None)
        }
    };
    let exists = old.is_some();
    if (cond == Cond::Nx && exists) || (cond == Cond::Xx && !exists) {
        if want_get {
            match old.flatten() {
                Some(v) => ctx.out.bulk(&v),
                None => ctx.out.null(),
            }
        } else {
            ctx.out.null();
        }
        return Ok(());
    }
    db.set(key, Value::str(args.get(2)), keep_ttl);
    if let Some(w) = when {
        db.set_expire(key, w);
    }
    ctx.dirty(1);
    ctx.notify(b'$', "set", key);
    if want_get {
        match old.flatten() {
            Some(v) => ctx.out.bulk(&v),
            None => ctx.out.null(),
        }
    } else {
        ctx.out.ok();
    }
    Ok(())
}

/// Converts an expire argument to an absolute unix-ms deadline, with Redis's checks:
/// non-integer -> "value is not an integer", <= 0 or overflow -> "invalid expire time".
pub fn expire_deadline(arg: &[u8], unit_ms: u64, absolute: bool, now: u64, cmd: &'static str) -> Result<u64, CmdError> {
    let v = parse_i64(arg)?;
    if v <= 0 {
        return Err(CmdError::InvalidExpire(cmd));
    }
    let ms = (v as u64).checked_mul(unit_ms).filter(|&m| m <= i64::MAX as u64).ok_or(CmdError::InvalidExpire(cmd))?;
    if absolute {
        Ok(ms)
    } else {
        ms.checked_add(now).filter(|&m| m <= i64::MAX as u64).ok_or(CmdError::InvalidExpire(cmd))
    }
}

pub static COMMANDS: &[CommandDef] = &[
    CommandDef { summary: "Returns the string value of a key.", ..CommandDef::new("get", 2, READONLY | FAST, (1, 1, 1), "string", get) },
    CommandDef {
        summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        ..CommandDef::new("set", -3, WRITE | DENYOOM, (1, 1, 1), "string", set)
    },
];
