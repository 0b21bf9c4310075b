//! Float parsing and printing with the exact rules redis-server 7.0 uses, so that
//! scores and INCRBYFLOAT results read the same on both servers.

/// Formats like C's `printf("%.17g", d)`, which Redis 7.0 uses for doubles
/// (ZSCORE, RESP3 doubles); `inf`, `-inf` and `nan` as Redis writes them.
pub fn fmt_double(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // 17 significant digits in scientific form: "d.dddddddddddddddde<exp>"
    let sci = format!("{:.16e}", d);
    let (mant, exp) = sci.split_once('e').expect("scientific format");
    let exp: i32 = exp.parse().expect("exponent");
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::with_capacity(24);
    if neg {
        out.push('-');
    }
    if (-4..17).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            out.push_str(&digits[..int_len]);
            let frac = digits[int_len..].trim_end_matches('0');
            if !frac.is_empty() {
                out.push('.');
                out.push_str(frac);
            }
        } else {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(digits.trim_end_matches('0'));
        }
    } else {
        out.push_str(&digits[..1]);
        let frac = digits[1..].trim_end_matches('0');
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
    }
    out
}

/// Formats like Redis's `ld2string(.., LD_STR_HUMAN)`: `%.17Lf` with trailing zeros
/// (and a trailing '.') removed, and "-0" printed as "0".
pub fn fmt_long_double_human(d: f64) -> String {
    let mut s = format!("{:.17}", d);
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// Parses a double as Redis's `getDoubleFromObject` (strtod on the whole string): no
/// leading space, nothing after the number, overflow and NaN refused. Accepts
/// `inf`/`-inf`/`+inf`/`infinity` in any case.
pub fn parse_double(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() > 5000 || s[0].is_ascii_whitespace() {
        return None;
    }
    let st = std::str::from_utf8(s).ok()?;
    let lower = st.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if body.starts_with("nan") {
        return None;
    }
    // Rust accepts a few spellings strtod does not ("1." is fine for both, "." is not).
    if !body.starts_with("inf") && !body.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-')) {
        return None;
    }
    let v: f64 = st.parse().ok()?;
    if v.is_infinite() && !body.starts_with("inf") {
        return None; // ERANGE overflow
    }
    if v == 0.0 && body.bytes().take_while(|&c| c != b'e').any(|c| (b'1'..=b'9').contains(&c)) {
        return None; // ERANGE underflow
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g17_matches_printf() {
        assert_eq!(fmt_double(1.5), "1.5");
        assert_eq!(fmt_double(0.1), "0.10000000000000001");
        assert_eq!(fmt_double(100.0), "100");
        assert_eq!(fmt_double(1e17), "1e+17");
        assert_eq!(fmt_double(1e16), "10000000000000000");
        assert_eq!(fmt_double(0.0001), "0.0001");
        assert_eq!(fmt_double(0.00001), "1.0000000000000001e-05");
        assert_eq!(fmt_double(-2.5e-300), "-2.5e-300");
        assert_eq!(fmt_double(f64::INFINITY), "inf");
    }

    #[test]
    fn long_double_human() {
        assert_eq!(fmt_long_double_human(10.5), "10.5");
        assert_eq!(fmt_long_double_human(3.0), "3");
        assert_eq!(fmt_long_double_human(-0.0), "0");
    }

    #[test]
    fn parse_rules() {
        assert_eq!(parse_double(b"1.5"), Some(1.5));
        assert_eq!(parse_double(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_double(b" 1"), None);
        assert_eq!(parse_double(b"1 "), None);
        assert_eq!(parse_double(b"nan"), None);
        assert_eq!(parse_double(b"1e400"), None);
        assert_eq!(parse_double(b"abc"), None);
        assert_eq!(parse_double(b""), None);
        assert_eq!(parse_double(b"5e3"), Some(5000.0));
    }
}
