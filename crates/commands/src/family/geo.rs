//! Family: geo commands (GEOADD ... GEOSEARCHSTORE) on sorted sets, as Redis 7.0's
//! `geo.c`, `geohash.c` and `geohash_helper.c`.
//!
//! A geo set is a zset whose scores are 52-bit interleaved geohashes (26 bits of
//! longitude and 26 of latitude, latitude limited to the Web Mercator ±85.05112878).
//! A radius or box search looks at the cell containing the centre and its 8 neighbours
//! at a step estimated from the radius, exactly as Redis does, so the unsorted results
//! come in the same order (cell by cell in Redis's neighbour order, zset order within a
//! cell), and sorted ones are sorted the same way (glibc's stable merge sort, or Redis's
//! `pqsort` when COUNT cuts the result).

use crate::ctx::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::family::zset::{parse_double_strict, zset_limits};
use crate::table::{flags::*, CommandDef};
use crate::util::{lossy, parse_i64};
use shoal_keyspace::value::zset::{AddFlags, AddOutcome, ScoreRange};
use shoal_keyspace::value::ZSetValue;
use shoal_keyspace::Value;
use shoal_resp::{Args, ReplyBuf};
use std::fmt::Write as _;

// ----------------------------------------------------------------------------------
// geohash.c

pub const GEO_STEP_MAX: u8 = 26;
pub const GEO_LAT_MIN: f64 = -85.05112878;
pub const GEO_LAT_MAX: f64 = 85.05112878;
pub const GEO_LONG_MIN: f64 = -180.0;
pub const GEO_LONG_MAX: f64 = 180.0;

/// A geohash of `step` bits per coordinate (`GeoHashBits`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    /// `HASHISZERO`: a neighbour excluded from the search.
    fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The cell of a geohash (`GeoHashArea`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Area {
    pub lon: Range,
    pub lat: Range,
}

const LONG_RANGE: Range = Range { min: GEO_LONG_MIN, max: GEO_LONG_MAX };
const LAT_RANGE: Range = Range { min: GEO_LAT_MIN, max: GEO_LAT_MAX };

/// Interleaves the low 32 bits of x (even bit positions) and y (odd ones).
fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] = [0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let mut x = xlo as u64;
    let mut y = ylo as u64;
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

/// The inverse of [`interleave64`]: even bits in the low half, odd bits in the high half.
fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] =
        [0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF, 0x00000000FFFFFFFF];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let mut x = interleaved;
    let mut y = interleaved >> 1;
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// `geohashEncode`: None outside the supported area (Redis returns 0).
pub fn encode(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<HashBits> {
    if step > 32 || step == 0 {
        return None;
    }
    if !(GEO_LONG_MIN..=GEO_LONG_MAX).contains(&lon) || !(GEO_LAT_MIN..=GEO_LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let mut lat_offset = (lat - lat_r.min) / (lat_r.max - lat_r.min);
    let mut long_offset = (lon - lon_r.min) / (lon_r.max - lon_r.min);
    lat_offset *= (1u64 << step) as f64;
    long_offset *= (1u64 << step) as f64;
    Some(HashBits { bits: interleave64(lat_offset as u32, long_offset as u32), step })
}

/// `geohashEncodeWGS84`.
pub fn encode_wgs84(lon: f64, lat: f64, step: u8) -> Option<HashBits> {
    encode(LONG_RANGE, LAT_RANGE, lon, lat, step)
}

/// `geohashDecode`: the cell of `hash` (None for a zeroed hash).
pub fn decode(lon_r: Range, lat_r: Range, hash: HashBits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let sep = deinterleave64(hash.bits);
    let lat_scale = lat_r.max - lat_r.min;
    let long_scale = lon_r.max - lon_r.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let div = (1u64 << hash.step) as f64;
    Some(Area {
        lat: Range { min: lat_r.min + (ilato as f64 / div) * lat_scale, max: lat_r.min + (ilato.wrapping_add(1) as f64 / div) * lat_scale },
        lon: Range {
            min: lon_r.min + (ilono as f64 / div) * long_scale,
            max: lon_r.min + (ilono.wrapping_add(1) as f64 / div) * long_scale,
        },
    })
}

/// `geohashDecodeToLongLatWGS84`: the centre of the cell, clamped to the valid area.
pub fn decode_to_lonlat(hash: HashBits) -> Option<[f64; 2]> {
    let a = decode(LONG_RANGE, LAT_RANGE, hash)?;
    let lon = ((a.lon.min + a.lon.max) / 2.0).clamp(GEO_LONG_MIN, GEO_LONG_MAX);
    let lat = ((a.lat.min + a.lat.max) / 2.0).clamp(GEO_LAT_MIN, GEO_LAT_MAX);
    Some([lon, lat])
}

/// C's `(uint64_t)score` as gcc compiles it for x86-64 (scores of members not added by
/// GEOADD can be anything): below 2^63 a truncating `cvttsd2si` (the "integer
/// indefinite" 2^63 when out of range or NaN), otherwise `cvttsd2si(x - 2^63)` with
/// bit 63 flipped.
fn score_to_bits(score: f64) -> u64 {
    const TWO63: f64 = 9223372036854775808.0;
    fn cvt(v: f64) -> u64 {
        if v.is_nan() || !(-TWO63..TWO63).contains(&v) {
            1u64 << 63
        } else {
            v as i64 as u64
        }
    }
    if score >= TWO63 {
        cvt(score - TWO63) ^ (1u64 << 63)
    } else {
        cvt(score)
    }
}

/// `decodeGeohash`: a zset score to (longitude, latitude).
pub fn decode_score(score: f64) -> Option<[f64; 2]> {
    decode_to_lonlat(HashBits { bits: score_to_bits(score), step: GEO_STEP_MAX })
}

/// `geohashAlign52Bits`.
pub fn align52(hash: HashBits) -> u64 {
    hash.bits << (52 - hash.step as u32 * 2)
}

fn move_x(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64 >> (64 - hash.step as u32 * 2);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaaaaaaaaaaaaaau64 >> (64 - hash.step as u32 * 2);
    hash.bits = x | y;
}

fn move_y(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> (64 - hash.step as u32 * 2);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555555555555555u64 >> (64 - hash.step as u32 * 2);
    hash.bits = x | y;
}

/// The 8 neighbours of a cell (`GeoHashNeighbors`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Neighbors {
    pub north: HashBits,
    pub south: HashBits,
    pub east: HashBits,
    pub west: HashBits,
    pub north_east: HashBits,
    pub north_west: HashBits,
    pub south_east: HashBits,
    pub south_west: HashBits,
}

/// `geohashNeighbors`.
pub fn neighbors(hash: HashBits) -> Neighbors {
    let at = |dx: i8, dy: i8| {
        let mut h = hash;
        move_x(&mut h, dx);
        move_y(&mut h, dy);
        h
    };
    Neighbors {
        east: at(1, 0),
        west: at(-1, 0),
        south: at(0, -1),
        north: at(0, 1),
        north_west: at(-1, 1),
        north_east: at(1, 1),
        south_east: at(1, -1),
        south_west: at(-1, -1),
    }
}

// ----------------------------------------------------------------------------------
// geohash_helper.c

const D_R: f64 = std::f64::consts::PI / 180.0;
pub const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;

#[inline]
fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

#[inline]
fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// `geohashEstimateStepsByRadius`: the step of the 9 search cells.
pub fn estimate_steps_by_radius(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// `geohashGetLatDistance`: the distance between two latitudes on one meridian.
#[inline]
fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2d) - deg_rad(lat1d)).abs()
}

/// `geohashGetDistance`: haversine distance in meters, with the shortcut for equal
/// longitudes that Redis 7.0.15 has.
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// The search area (`GeoShape`): a circle of `radius`, or a `width` x `height` box,
/// in units of `conversion` meters, centred on `xy`.
#[derive(Clone, Copy, Debug, Default)]
struct Shape {
    xy: [f64; 2],
    conversion: f64,
    /// None: a circle of `radius`.
    rect: Option<(f64, f64)>,
    radius: f64,
}

impl Shape {
    /// `geoWithinShape`: the distance from the centre when the point is inside.
    #[inline]
    fn within(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.rect {
            None => {
                let d = distance(self.xy[0], self.xy[1], lon, lat);
                (d <= self.radius * self.conversion).then_some(d)
            }
            Some((w, h)) => {
                // geohashGetDistanceIfInRectangle
                let (width_m, height_m) = (w * self.conversion, h * self.conversion);
                if lat_distance(lat, self.xy[1]) > height_m / 2.0 {
                    return None;
                }
                if distance(lon, lat, self.xy[0], lat) > width_m / 2.0 {
                    return None;
                }
                Some(distance(self.xy[0], self.xy[1], lon, lat))
            }
        }
    }

    /// `geohashBoundingBox`: [min lon, min lat, max lon, max lat].
    fn bounding_box(&self) -> [f64; 4] {
        let (lon, lat) = (self.xy[0], self.xy[1]);
        let (height, width) = match self.rect {
            None => (self.conversion * self.radius, self.conversion * self.radius),
            Some((w, h)) => (self.conversion * (h / 2.0), self.conversion * (w / 2.0)),
        };
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(lat + lat_delta).cos());
        let long_delta_bottom = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(lat - lat_delta).cos());
        let southern = lat < 0.0;
        [
            if southern { lon - long_delta_bottom } else { lon - long_delta_top },
            lat - lat_delta,
            if southern { lon + long_delta_bottom } else { lon + long_delta_top },
            lat + lat_delta,
        ]
    }

    /// `geohashCalculateAreasByShapeWGS84`: the centre cell and its neighbours, in the
    /// order Redis searches them (centre, N, S, E, W, NE, NW, SE, SW); zeroed cells are
    /// outside the search.
    fn search_cells(&self) -> [HashBits; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounding_box();
        let (lon, lat) = (self.xy[0], self.xy[1]);
        let mut radius_meters = match self.rect {
            None => self.radius,
            Some((w, h)) => ((w / 2.0) * (w / 2.0) + (h / 2.0) * (h / 2.0)).sqrt(),
        };
        radius_meters *= self.conversion;
        let mut steps = estimate_steps_by_radius(radius_meters, lat);
        let cell = |steps: u8| {
            let hash = encode(LONG_RANGE, LAT_RANGE, lon, lat, steps).unwrap_or(HashBits { bits: 0, step: steps });
            let area = decode(LONG_RANGE, LAT_RANGE, hash).unwrap_or_default();
            (hash, neighbors(hash), area)
        };
        let (mut hash, mut nb, mut area) = cell(steps);
        let dec = |h: HashBits| decode(LONG_RANGE, LAT_RANGE, h).unwrap_or_default();
        let decrease_step = dec(nb.north).lat.max < max_lat
            || dec(nb.south).lat.min > min_lat
            || dec(nb.east).lon.max < max_lon
            || dec(nb.west).lon.min > min_lon;
        if steps > 1 && decrease_step {
            steps -= 1;
            (hash, nb, area) = cell(steps);
        }
        if steps >= 2 {
            let z = HashBits::default();
            if area.lat.min < min_lat {
                nb.south = z;
                nb.south_west = z;
                nb.south_east = z;
            }
            if area.lat.max > max_lat {
                nb.north = z;
                nb.north_east = z;
                nb.north_west = z;
            }
            if area.lon.min < min_lon {
                nb.west = z;
                nb.south_west = z;
                nb.north_west = z;
            }
            if area.lon.max > max_lon {
                nb.east = z;
                nb.south_east = z;
                nb.north_east = z;
            }
        }
        [hash, nb.north, nb.south, nb.east, nb.west, nb.north_east, nb.north_west, nb.south_east, nb.south_west]
    }
}

// ----------------------------------------------------------------------------------
// The search (geo.c)

/// One result (`geoPoint`).
#[derive(Clone, Copy, Debug)]
struct Point<'a> {
    lon: f64,
    lat: f64,
    dist: f64,
    score: f64,
    member: &'a [u8],
}

/// Appends the members of the cell `hash` that are inside `shape` (`membersOfGeoHashBox`),
/// stopping once `limit` (non-zero) results were collected.
fn members_of_box<'a>(z: &'a ZSetValue, hash: HashBits, shape: &Shape, out: &mut Vec<Point<'a>>, limit: usize) {
    let min = align52(hash) as f64;
    let max = align52(HashBits { bits: hash.bits.wrapping_add(1), step: hash.step }) as f64;
    let range = ScoreRange { min, max, minex: false, maxex: true };
    let (lo, hi) = z.score_bounds(&range);
    z.walk(lo, hi, false, |m, s| {
        if limit != 0 && out.len() >= limit {
            return;
        }
        let Some([lon, lat]) = decode_score(s) else { return };
        if let Some(dist) = shape.within(lon, lat) {
            out.push(Point { lon, lat, dist, score: s, member: m });
        }
    });
}

/// `membersOfAllNeighbors`.
fn members_of_all_neighbors<'a>(z: &'a ZSetValue, shape: &Shape, limit: usize) -> Vec<Point<'a>> {
    let cells = shape.search_cells();
    let mut out = Vec::new();
    let mut last_processed = 0usize;
    for (i, c) in cells.iter().enumerate() {
        if c.is_zero() {
            continue;
        }
        // Huge radii can make adjacent neighbours the same cell: skip repeats (as Redis,
        // the first neighbour is never compared with the centre).
        if last_processed != 0 && *c == cells[last_processed] {
            continue;
        }
        if limit != 0 && !out.is_empty() && out.len() >= limit {
            break;
        }
        members_of_box(z, *c, shape, &mut out, limit);
        last_processed = i;
    }
    out
}

/// `sort_gp_asc` / `sort_gp_desc` as qsort comparators.
#[inline]
fn cmp_dist(a: &Point<'_>, b: &Point<'_>, desc: bool) -> i32 {
    let r = if a.dist > b.dist {
        1
    } else if a.dist == b.dist {
        0
    } else {
        -1
    };
    if desc {
        -r
    } else {
        r
    }
}

// ----------------------------------------------------------------------------------
// Argument helpers

/// C's `strcasecmp` on an argument (which ends at its first NUL byte, as a C string).
#[inline]
fn eq_c(arg: &[u8], kw: &str) -> bool {
    let end = arg.iter().position(|&c| c == 0).unwrap_or(arg.len());
    arg[..end].eq_ignore_ascii_case(kw.as_bytes())
}

fn parse_float(b: &[u8], msg: Option<&str>) -> Result<f64, CmdError> {
    parse_double_strict(b).ok_or_else(|| match msg {
        Some(m) => CmdError::err(m),
        None => CmdError::NotFloat,
    })
}

/// `extractLongLatOrReply`.
fn parse_lonlat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], CmdError> {
    let x = parse_float(lon, None)?;
    let y = parse_float(lat, None)?;
    if !(GEO_LONG_MIN..=GEO_LONG_MAX).contains(&x) || !(GEO_LAT_MIN..=GEO_LAT_MAX).contains(&y) {
        return Err(CmdError::err(format!("invalid longitude,latitude pair {:.6},{:.6}", x, y)));
    }
    Ok([x, y])
}

/// `extractUnitOrReply`: meters per unit.
fn parse_unit(u: &[u8]) -> Result<f64, CmdError> {
    if eq_c(u, "m") {
        Ok(1.0)
    } else if eq_c(u, "km") {
        Ok(1000.0)
    } else if eq_c(u, "ft") {
        Ok(0.3048)
    } else if eq_c(u, "mi") {
        Ok(1609.34)
    } else {
        Err(CmdError::err("unsupported unit provided. please use M, KM, FT, MI"))
    }
}

/// `extractDistanceOrReply`: (radius, conversion).
fn parse_distance(r: &[u8], unit: &[u8]) -> Result<(f64, f64), CmdError> {
    let d = parse_float(r, Some("need numeric radius"))?;
    if d < 0.0 {
        return Err(CmdError::err("radius cannot be negative"));
    }
    Ok((d, parse_unit(unit)?))
}

/// `extractBoxOrReply`: (width, height, conversion).
fn parse_box(w: &[u8], h: &[u8], unit: &[u8]) -> Result<(f64, f64, f64), CmdError> {
    let w = parse_float(w, Some("need numeric width"))?;
    let h = parse_float(h, Some("need numeric height"))?;
    if h < 0.0 || w < 0.0 {
        return Err(CmdError::err("height or width cannot be negative"));
    }
    Ok((w, h, parse_unit(unit)?))
}

/// A small stack buffer for `write!` (no allocation per formatted number).
struct StackBuf {
    buf: [u8; 64],
    len: usize,
}

impl StackBuf {
    fn new() -> Self {
        StackBuf { buf: [0; 64], len: 0 }
    }
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let b = s.as_bytes();
        if self.len + b.len() > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
        Ok(())
    }
}

/// `addReplyDoubleDistance`: Redis's `fixedpoint_d2string(d, 4)`, i.e. `llrint(d * 1e4)`
/// written with 4 decimals (not quite `%.4f`: the product is rounded first).
fn reply_distance(out: &mut ReplyBuf, d: f64) {
    let mut b = StackBuf::new();
    if d == 0.0 {
        out.bulk(b"0.0000");
        return;
    }
    let r = (d * 10000.0).round_ties_even();
    // llrint: out of range or NaN gives LLONG_MIN on x86-64
    let sv: i64 = if r.is_nan() || !(-9223372036854775808.0..9223372036854775808.0).contains(&r) { i64::MIN } else { r as i64 };
    let v = sv.unsigned_abs();
    // at most 21 bytes: always fits
    let _ = write!(b, "{}{}.{:04}", if sv < 0 { "-" } else { "" }, v / 10000, v % 10000);
    out.bulk(b.as_bytes());
}

/// `addReplyHumanLongDouble`: `%.17Lf` without trailing zeros, a bulk string in RESP2
/// and a double in RESP3.
fn reply_human(out: &mut ReplyBuf, d: f64) {
    let mut b = StackBuf::new();
    let s: std::borrow::Cow<'_, [u8]> = if write!(b, "{:.17}", d).is_ok() {
        let mut s = b.as_bytes();
        if s.contains(&b'.') {
            while let [rest @ .., b'0'] = s {
                s = rest;
            }
            if let [rest @ .., b'.'] = s {
                s = rest;
            }
        }
        if s == b"-0" {
            s = b"0";
        }
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(shoal_resp::fmt_long_double_human(d).into_bytes())
    };
    if out.resp3 {
        out.raw(b",");
        out.raw(&s);
        out.raw(b"\r\n");
    } else {
        out.bulk(&s);
    }
}

// ----------------------------------------------------------------------------------
// Lookups

/// Read lookup with the type check (`lookupKeyRead` + `checkType`).
fn read<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<(Option<&'c ZSetValue>, &'c mut ReplyBuf), CmdError> {
    match ctx.read_value(key) {
        (None, out) => Ok((None, out)),
        (Some(Value::ZSet(z)), out) => Ok((Some(&**z), out)),
        (Some(_), _) => Err(CmdError::WrongType),
    }
}

/// Stores a search result at `dst` (replacing it; deleting it when empty) as
/// georadiusGeneric does, and replies with the count.
fn store_points(ctx: &mut Ctx<'_>, dst: &[u8], mut items: Vec<(Vec<u8>, f64)>, event: &str) {
    let n = items.len();
    if n == 0 {
        if ctx.db().remove(dst).is_some() {
            ctx.notify(b'g', "del", dst);
            ctx.dirty(1);
        }
        ctx.out.int(0);
        return;
    }
    items.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    items.dedup_by(|a, b| a.0 == b.0);
    let lim = zset_limits(ctx);
    let maxlen = items.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
    let lp = items.len() <= lim.max_listpack_entries && maxlen <= lim.max_listpack_value;
    let z = ZSetValue::from_sorted(&items, lp);
    let now = ctx.now();
    let db = ctx.db();
    if db.expires_len() > 0 {
        // setKey's lookupKeyWrite: an expired destination expires first (its event).
        db.get(dst, now);
    }
    db.set(dst, Value::ZSet(Box::new(z)), false);
    ctx.notify(b'z', event, dst);
    ctx.dirty(n as u64);
    ctx.out.int(n as i64);
}

// ----------------------------------------------------------------------------------
// Commands

/// GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]
fn geoadd(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut i = 2;
    while i < args.len() {
        let o = args.get(i);
        if eq_c(o, "nx") {
            nx = true;
        } else if eq_c(o, "xx") {
            xx = true;
        } else if eq_c(o, "ch") {
            ch = true;
        } else {
            break;
        }
        i += 1;
    }
    let n = args.len() - i;
    if !n.is_multiple_of(3) || (xx && nx) || n == 0 {
        return Err(CmdError::Syntax);
    }
    // Every coordinate pair first, then ZADD's own checks.
    // (no allocation for the usual few members)
    let mut small = [0f64; 8];
    let mut big: Vec<f64> = Vec::new();
    let scores: &mut [f64] = if n / 3 <= small.len() {
        &mut small[..n / 3]
    } else {
        big.resize(n / 3, 0.0);
        &mut big
    };
    for (k, j) in (i..args.len()).step_by(3).enumerate() {
        let [lon, lat] = parse_lonlat(args.get(j), args.get(j + 1))?;
        scores[k] = encode_wgs84(lon, lat, GEO_STEP_MAX).map_or(0, align52) as f64;
    }
    let now = ctx.now();
    let exists = match ctx.db().get(key, now) {
        None => false,
        Some(Value::ZSet(_)) => true,
        Some(_) => return Err(CmdError::WrongType),
    };
    if !exists && xx {
        ctx.out.int(0);
        return Ok(());
    }
    let lim = zset_limits(ctx);
    if !exists {
        let z = ZSetValue::new_for(args.get(i + 2).len(), &lim);
        ctx.db().set(key, Value::ZSet(Box::new(z)), false);
    }
    let Some(Value::ZSet(z)) = ctx.db().get_mut_untracked(key, now) else { return Err(CmdError::WrongType) };
    let f = AddFlags { nx, xx, ..Default::default() };
    let (mut added, mut updated) = (0i64, 0i64);
    for (k, j) in (i..args.len()).step_by(3).enumerate() {
        match z.add(scores[k], args.get(j + 2), f, &lim) {
            AddOutcome::Added(_) => added += 1,
            AddOutcome::Updated(_) => updated += 1,
            _ => {}
        }
    }
    if added + updated > 0 {
        if exists {
            ctx.db().touch(key);
        }
        ctx.notify(b'z', "zadd", key);
        ctx.dirty((added + updated) as u64);
    }
    ctx.out.int(if ch { added + updated } else { added });
    Ok(())
}

/// GEODIST key member1 member2 [M|KM|FT|MI]
fn geodist(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let to_meter = match args.len() {
        5 => parse_unit(args.get(4))?,
        n if n > 5 => return Err(CmdError::Syntax),
        _ => 1.0,
    };
    let (z, out) = read(ctx, args.get(1))?;
    let Some(z) = z else {
        out.null();
        return Ok(());
    };
    let (Some(s1), Some(s2)) = (z.score(args.get(2)), z.score(args.get(3))) else {
        out.null();
        return Ok(());
    };
    match (decode_score(s1), decode_score(s2)) {
        (Some(a), Some(b)) => reply_distance(out, distance(a[0], a[1], b[0], b[1]) / to_meter),
        _ => out.null(),
    }
    Ok(())
}

const GEOALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// The standard 11-character geohash of a GEO score (Redis re-encodes the decoded
/// position with the standard latitude range ±90).
pub fn geohash_string(score: f64) -> Option<[u8; 11]> {
    let [lon, lat] = decode_score(score)?;
    let r_lon = Range { min: -180.0, max: 180.0 };
    let r_lat = Range { min: -90.0, max: 90.0 };
    let bits = encode(r_lon, r_lat, lon, lat, 26).map_or(0, |h| h.bits);
    let mut buf = [b'0'; 11];
    for (i, c) in buf.iter_mut().enumerate().take(10) {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = GEOALPHABET[idx as usize];
    }
    Some(buf)
}

/// GEOHASH key [member ...]
fn geohash(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (z, out) = read(ctx, args.get(1))?;
    out.array(args.len() - 2);
    for m in args.iter().skip(2) {
        match z.and_then(|z| z.score(m)).and_then(geohash_string) {
            Some(h) => out.bulk(&h),
            None => out.null(),
        }
    }
    Ok(())
}

/// GEOPOS key [member ...]
fn geopos(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    let (z, out) = read(ctx, args.get(1))?;
    out.array(args.len() - 2);
    for m in args.iter().skip(2) {
        match z.and_then(|z| z.score(m)).and_then(decode_score) {
            Some([lon, lat]) => {
                out.array(2);
                reply_human(out, lon);
                reply_human(out, lat);
            }
            None => out.null_array(),
        }
    }
    Ok(())
}

const RADIUS_COORDS: u32 = 1;
const RADIUS_MEMBER: u32 = 2;
const RADIUS_NOSTORE: u32 = 4;
const GEOSEARCH: u32 = 8;
const GEOSEARCHSTORE: u32 = 16;

#[derive(Clone, Copy, PartialEq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// `georadiusGeneric`: GEORADIUS[_RO], GEORADIUSBYMEMBER[_RO], GEOSEARCH, GEOSEARCHSTORE.
fn georadius_generic(ctx: &mut Ctx<'_>, args: Args<'_>, src_idx: usize, flags: u32) -> CmdResult {
    let mut storekey: Option<&[u8]> = None;
    let mut storedist = false;
    let (zobj, out) = read(ctx, args.get(src_idx))?;

    let mut shape = Shape::default();
    let base_args;
    if flags & RADIUS_COORDS != 0 {
        base_args = 6;
        shape.xy = parse_lonlat(args.get(2), args.get(3))?;
        (shape.radius, shape.conversion) = parse_distance(args.get(4), args.get(5))?;
    } else if flags & RADIUS_MEMBER != 0 {
        base_args = 5;
        if let Some(z) = zobj {
            shape.xy =
                z.score(args.get(2)).and_then(decode_score).ok_or_else(|| CmdError::err("could not decode requested zset member"))?;
            (shape.radius, shape.conversion) = parse_distance(args.get(3), args.get(4))?;
        }
    } else {
        base_args = if flags & GEOSEARCHSTORE != 0 { 3 } else { 2 };
        if flags & GEOSEARCHSTORE != 0 {
            storekey = Some(args.get(1));
        }
    }

    let (mut withdist, mut withhash, mut withcoords) = (false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut any = false;
    let mut count: i64 = 0;
    let search = flags & GEOSEARCH != 0;
    let can_store = flags & (RADIUS_NOSTORE | GEOSEARCH) == 0;
    let remaining = args.len().saturating_sub(base_args);
    let mut i = 0;
    while i < remaining {
        let arg = args.get(base_args + i);
        let next = |k: usize| args.get(base_args + i + k);
        if eq_c(arg, "withdist") {
            withdist = true;
        } else if eq_c(arg, "withhash") {
            withhash = true;
        } else if eq_c(arg, "withcoord") {
            withcoords = true;
        } else if eq_c(arg, "any") {
            any = true;
        } else if eq_c(arg, "asc") {
            sort = Sort::Asc;
        } else if eq_c(arg, "desc") {
            sort = Sort::Desc;
        } else if eq_c(arg, "count") && i + 1 < remaining {
            count = parse_i64(next(1))?;
            if count <= 0 {
                return Err(CmdError::err("COUNT must be > 0"));
            }
            i += 1;
        } else if eq_c(arg, "store") && i + 1 < remaining && can_store {
            storekey = Some(next(1));
            storedist = false;
            i += 1;
        } else if eq_c(arg, "storedist") && i + 1 < remaining && can_store {
            storekey = Some(next(1));
            storedist = true;
            i += 1;
        } else if eq_c(arg, "storedist") && search && flags & GEOSEARCHSTORE != 0 {
            storedist = true;
        } else if eq_c(arg, "frommember") && i + 1 < remaining && search && !fromloc {
            if let Some(z) = zobj {
                shape.xy =
                    z.score(next(1)).and_then(decode_score).ok_or_else(|| CmdError::err("could not decode requested zset member"))?;
            }
            frommember = true;
            i += 1;
        } else if eq_c(arg, "fromlonlat") && i + 2 < remaining && search && !frommember {
            shape.xy = parse_lonlat(next(1), next(2))?;
            fromloc = true;
            i += 2;
        } else if eq_c(arg, "byradius") && i + 2 < remaining && search && !bybox {
            (shape.radius, shape.conversion) = parse_distance(next(1), next(2))?;
            shape.rect = None;
            byradius = true;
            i += 2;
        } else if eq_c(arg, "bybox") && i + 3 < remaining && search && !byradius {
            let (w, h, c) = parse_box(next(1), next(2), next(3))?;
            shape.rect = Some((w, h));
            shape.conversion = c;
            bybox = true;
            i += 3;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }

    if storekey.is_some() && (withdist || withhash || withcoords) {
        let what = if flags & GEOSEARCHSTORE != 0 { "GEOSEARCHSTORE" } else { "STORE option in GEORADIUS" };
        return Err(CmdError::err(format!("{} is not compatible with WITHDIST, WITHHASH and WITHCOORD options", what)));
    }
    if search && !(frommember || fromloc) {
        return Err(CmdError::err(format!("exactly one of FROMMEMBER or FROMLONLAT can be specified for {}", lossy(args.get(0)))));
    }
    if search && !(byradius || bybox) {
        return Err(CmdError::err(format!("exactly one of BYRADIUS and BYBOX can be specified for {}", lossy(args.get(0)))));
    }
    if any && count == 0 {
        return Err(CmdError::err("the ANY argument requires COUNT argument"));
    }

    let event = if search { "geosearchstore" } else { "georadiusstore" };
    let Some(z) = zobj else {
        match storekey {
            Some(dst) => store_points(ctx, dst, Vec::new(), event),
            None => out.array(0),
        }
        return Ok(());
    };

    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let limit = if any { count as usize } else { 0 };
    let mut ga = members_of_all_neighbors(z, &shape, limit);
    if ga.is_empty() && storekey.is_none() {
        out.array(0);
        return Ok(());
    }
    let result_length = ga.len();
    let returned = if count == 0 || (result_length as i64) < count { result_length } else { count as usize };
    if sort != Sort::None {
        let desc = sort == Sort::Desc;
        if returned == result_length {
            // glibc's qsort is a stable merge sort for arrays like these.
            ga.sort_by(|a, b| cmp_dist(a, b, desc).cmp(&0));
        } else {
            crate::util::pqsort(&mut ga, 0, returned as isize - 1, &|a: &Point<'_>, b: &Point<'_>| cmp_dist(a, b, desc).cmp(&0));
        }
    }

    match storekey {
        None => {
            let option_length = withdist as usize + withcoords as usize + withhash as usize;
            out.array(returned);
            for gp in &ga[..returned] {
                if option_length > 0 {
                    out.array(option_length + 1);
                }
                out.bulk(gp.member);
                if withdist {
                    reply_distance(out, gp.dist / shape.conversion);
                }
                if withhash {
                    out.int(gp.score as i64);
                }
                if withcoords {
                    out.array(2);
                    reply_human(out, gp.lon);
                    reply_human(out, gp.lat);
                }
            }
        }
        Some(dst) => {
            let items: Vec<(Vec<u8>, f64)> = ga[..returned]
                .iter()
                .map(|gp| (gp.member.to_vec(), if storedist { gp.dist / shape.conversion } else { gp.score }))
                .collect();
            store_points(ctx, dst, items, event);
        }
    }
    Ok(())
}

/// GEORADIUS key longitude latitude radius unit [options] [STORE key] [STOREDIST key]
fn georadius(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    georadius_generic(ctx, args, 1, RADIUS_COORDS)
}

/// GEORADIUSBYMEMBER key member radius unit [options] [STORE key] [STOREDIST key]
fn georadiusbymember(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    georadius_generic(ctx, args, 1, RADIUS_MEMBER)
}

/// GEORADIUS_RO key longitude latitude radius unit [options]
fn georadius_ro(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    georadius_generic(ctx, args, 1, RADIUS_COORDS | RADIUS_NOSTORE)
}

/// GEORADIUSBYMEMBER_RO key member radius unit [options]
fn georadiusbymember_ro(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    georadius_generic(ctx, args, 1, RADIUS_MEMBER | RADIUS_NOSTORE)
}

/// GEOSEARCH key FROMMEMBER m|FROMLONLAT lon lat BYRADIUS r unit|BYBOX w h unit [options]
fn geosearch(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    georadius_generic(ctx, args, 1, GEOSEARCH)
}

/// GEOSEARCHSTORE dst src FROMMEMBER ...|FROMLONLAT ... BYRADIUS ...|BYBOX ... [options] [STOREDIST]
fn geosearchstore(ctx: &mut Ctx<'_>, args: Args<'_>) -> CmdResult {
    georadius_generic(ctx, args, 2, GEOSEARCH | GEOSEARCHSTORE)
}

/// Keys of GEORADIUS / GEORADIUSBYMEMBER from their key specs: the source, then the
/// argument after the first `STORE` and after the first `STOREDIST` at or after
/// `startfrom` (the last argument is never taken as the keyword).
fn store_keys(args: Args<'_>, startfrom: usize) -> Vec<usize> {
    let mut v = vec![1];
    for kw in ["store", "storedist"] {
        if let Some(p) = (startfrom..args.len().saturating_sub(1)).find(|&i| eq_c(args.get(i), kw)) {
            v.push(p + 1);
        }
    }
    v
}

fn georadius_keys(args: Args<'_>) -> Vec<usize> {
    store_keys(args, 6)
}

fn georadiusbymember_keys(args: Args<'_>) -> Vec<usize> {
    store_keys(args, 5)
}

const SEARCH_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";
const GEOSEARCH_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";

pub static COMMANDS: &[CommandDef] = &[
    CommandDef {
        summary: "Add one or more geospatial items in the geospatial index represented using a sorted set",
        since: "3.2.0",
        complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        ..CommandDef::new("geoadd", -5, WRITE | DENYOOM, (1, 1, 1), "geo", geoadd)
    },
    CommandDef {
        summary: "Returns the distance between two members of a geospatial index",
        since: "3.2.0",
        complexity: "O(log(N))",
        ..CommandDef::new("geodist", -4, READONLY, (1, 1, 1), "geo", geodist)
    },
    CommandDef {
        summary: "Returns members of a geospatial index as standard geohash strings",
        since: "3.2.0",
        complexity: "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
        ..CommandDef::new("geohash", -2, READONLY, (1, 1, 1), "geo", geohash)
    },
    CommandDef {
        summary: "Returns longitude and latitude of members of a geospatial index",
        since: "3.2.0",
        complexity: "O(N) where N is the number of members requested.",
        ..CommandDef::new("geopos", -2, READONLY, (1, 1, 1), "geo", geopos)
    },
    CommandDef {
        summary: "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
        since: "3.2.0",
        complexity: SEARCH_COMPLEXITY,
        keys: Some(georadius_keys),
        ..CommandDef::new("georadius", -6, WRITE | DENYOOM | MOVABLE_KEYS, (1, 1, 1), "geo", georadius)
    },
    CommandDef {
        summary: "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
        since: "3.2.0",
        complexity: SEARCH_COMPLEXITY,
        keys: Some(georadiusbymember_keys),
        ..CommandDef::new("georadiusbymember", -5, WRITE | DENYOOM | MOVABLE_KEYS, (1, 1, 1), "geo", georadiusbymember)
    },
    CommandDef {
        summary: "A read-only variant for GEORADIUS",
        since: "3.2.10",
        complexity: SEARCH_COMPLEXITY,
        ..CommandDef::new("georadius_ro", -6, READONLY, (1, 1, 1), "geo", georadius_ro)
    },
    CommandDef {
        summary: "A read-only variant for GEORADIUSBYMEMBER",
        since: "3.2.10",
        complexity: SEARCH_COMPLEXITY,
        ..CommandDef::new("georadiusbymember_ro", -5, READONLY, (1, 1, 1), "geo", georadiusbymember_ro)
    },
    CommandDef {
        summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
        since: "6.2.0",
        complexity: GEOSEARCH_COMPLEXITY,
        ..CommandDef::new("geosearch", -7, READONLY, (1, 1, 1), "geo", geosearch)
    },
    CommandDef {
        summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
        since: "6.2.0",
        complexity: GEOSEARCH_COMPLEXITY,
        ..CommandDef::new("geosearchstore", -8, WRITE | DENYOOM, (1, 2, 1), "geo", geosearchstore)
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_roundtrip() {
        for &(x, y) in &[(0u32, 0u32), (1, 0), (0, 1), (0x3ffffff, 0x1234567), (0xffffffff, 0), (0xdeadbeef, 0xcafebabe)] {
            let v = interleave64(x, y);
            let d = deinterleave64(v);
            assert_eq!(d as u32, x);
            assert_eq!((d >> 32) as u32, y);
        }
        assert_eq!(interleave64(1, 0), 1);
        assert_eq!(interleave64(0, 1), 2);
    }

    #[test]
    fn encode_matches_redis() {
        // GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
        let p = align52(encode_wgs84(13.361389, 38.115556, 26).unwrap());
        let c = align52(encode_wgs84(15.087269, 37.502669, 26).unwrap());
        assert_eq!(p, 3479099956230698);
        assert_eq!(c, 3479447370796909);
        assert!(encode_wgs84(180.1, 0.0, 26).is_none());
        assert!(encode_wgs84(0.0, 85.06, 26).is_none());
    }

    #[test]
    fn decode_and_geohash() {
        let [lon, lat] = decode_score(3479099956230698.0).unwrap();
        let mut out = ReplyBuf::new(false);
        reply_human(&mut out, lon);
        reply_human(&mut out, lat);
        assert_eq!(&out.buf[..], b"$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n");
        assert_eq!(&geohash_string(3479099956230698.0).unwrap(), b"sqc8b49rny0");
        assert_eq!(&geohash_string(3479447370796909.0).unwrap(), b"sqdtr74hyu0");
        // Scores that are no geohash decode as C's (uint64_t) cast on x86-64 does.
        assert_eq!(score_to_bits(-1.0), u64::MAX);
        assert_eq!(score_to_bits(1e30), 0);
        assert_eq!(score_to_bits(f64::NEG_INFINITY), 1 << 63);
        assert_eq!(score_to_bits(1.5), 1);
        assert_eq!(decode_score(-1.0).unwrap(), [180.0, GEO_LAT_MAX]);
    }

    #[test]
    fn neighbours_wrap() {
        let h = HashBits { bits: 0b0110, step: 2 };
        let n = neighbors(h);
        // x = bits at odd positions (longitude), y = even ones (latitude)
        let back = |mut g: HashBits, dx: i8, dy: i8| {
            move_x(&mut g, dx);
            move_y(&mut g, dy);
            g
        };
        assert_eq!(back(n.east, -1, 0), h);
        assert_eq!(back(n.north_west, 1, -1), h);
        assert_eq!(back(n.south_east, -1, 1), h);
        // The westmost column wraps to the eastmost.
        let w = HashBits { bits: 0, step: 3 };
        let nw = neighbors(w);
        assert_eq!(nw.west.bits, 0b101010);
        assert_eq!(nw.south.bits, 0b010101);
        // the centre cell decodes around the point it was encoded from
        let c = encode_wgs84(-179.9, -85.0, 5).unwrap();
        let a = decode(LONG_RANGE, LAT_RANGE, c).unwrap();
        assert!(a.lon.min <= -179.9 && a.lon.max >= -179.9 && a.lat.min <= -85.0 && a.lat.max >= -85.0);
    }

    #[test]
    fn steps_and_distance() {
        assert_eq!(estimate_steps_by_radius(0.0, 0.0), 26);
        assert_eq!(estimate_steps_by_radius(200_000.0, 38.0), 6);
        assert_eq!(estimate_steps_by_radius(200_000.0, 70.0), 5);
        assert_eq!(estimate_steps_by_radius(200_000.0, -81.0), 4);
        assert_eq!(estimate_steps_by_radius(f64::INFINITY, 0.0), 1);
        let ([lon1, lat1], [lon2, lat2]) = (decode_score(3479099956230698.0).unwrap(), decode_score(3479447370796909.0).unwrap());
        let d = distance(lon1, lat1, lon2, lat2);
        let mut out = ReplyBuf::new(false);
        reply_distance(&mut out, d / 1000.0);
        assert_eq!(&out.buf[..], b"$8\r\n166.2742\r\n");
        // fixedpoint_d2string rounds d * 1e4 (not the exact decimal value as %.4f would)
        let mut out = ReplyBuf::new(false);
        for d in [0.12345, 0.00005, 0.0, 5e-9, 20037726.123456] {
            reply_distance(&mut out, d);
        }
        assert_eq!(&out.buf[..], b"$6\r\n0.1234\r\n$6\r\n0.0000\r\n$6\r\n0.0000\r\n$6\r\n0.0000\r\n$13\r\n20037726.1235\r\n");
        // equal longitudes: the meridian shortcut
        assert_eq!(distance(180.0, -85.05, 180.0, 1.172_051_261_996_593), 9_590_159.740_282_29);
    }

    #[test]
    fn pqsort_sorts_the_requested_range() {
        let mut seed = 12345u64;
        for n in [1usize, 5, 7, 8, 40, 41, 100, 300] {
            let mut v: Vec<u32> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((seed >> 33) % 50) as u32
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort();
            let k = n.div_ceil(3);
            crate::util::pqsort(&mut v, 0, k as isize - 1, &|a: &u32, b: &u32| a.cmp(b));
            assert_eq!(&v[..k], &sorted[..k], "n={n}");
        }
    }
}
