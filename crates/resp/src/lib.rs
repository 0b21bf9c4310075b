//! RESP2/RESP3 wire format: an incremental request decoder ([`decode`]) and a reply
//! encoder ([`ReplyBuf`]). No I/O happens here: the server crate owns the sockets.
//!
//! Invariants: the decoder never allocates per argument (arguments are byte ranges into
//! the caller's buffer), and an incomplete frame is never an error, only "need more".

mod decode;
mod encode;
mod float;

pub use decode::{decode, split_inline_owned as split_args, Decoded, Limits, ProtocolError, PROTO_INLINE_MAX_SIZE};
pub use encode::ReplyBuf;
pub use float::{fmt_double, fmt_long_double_human, parse_double};

/// The arguments of one decoded command: byte ranges into a buffer the caller owns.
#[derive(Clone, Copy)]
pub struct Args<'a> {
    buf: &'a [u8],
    ranges: &'a [(usize, usize)],
}

impl<'a> Args<'a> {
    pub fn new(buf: &'a [u8], ranges: &'a [(usize, usize)]) -> Self {
        Args { buf, ranges }
    }
    /// Number of arguments, the command name included.
    #[inline]
    pub fn len(&self) -> usize {
        self.ranges.len()
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
    /// Argument `i` (0 is the command name). Panics when out of range: arity is checked
    /// before a command runs, so an out-of-range index is a programmer error.
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        let (s, e) = self.ranges[i];
        &self.buf[s..e]
    }
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + 'a {
        let buf = self.buf;
        self.ranges.iter().map(move |&(s, e)| &buf[s..e])
    }
    /// The arguments from `i` on.
    pub fn from(&self, i: usize) -> Args<'a> {
        Args { buf: self.buf, ranges: &self.ranges[i.min(self.ranges.len())..] }
    }
    pub fn to_vecs(&self) -> Vec<Vec<u8>> {
        self.iter().map(|a| a.to_vec()).collect()
    }
}

/// Owned arguments (queued MULTI commands, propagated writes): one buffer plus ranges.
#[derive(Clone, Default, Debug)]
pub struct OwnedArgs {
    pub buf: Vec<u8>,
    pub ranges: Vec<(usize, usize)>,
}

impl OwnedArgs {
    pub fn from_args(a: &Args<'_>) -> Self {
        let mut o = OwnedArgs::default();
        for x in a.iter() {
            o.push(x);
        }
        o
    }
    pub fn from_slices<T: AsRef<[u8]>>(parts: &[T]) -> Self {
        let mut o = OwnedArgs::default();
        for x in parts {
            o.push(x.as_ref());
        }
        o
    }
    pub fn push(&mut self, a: &[u8]) {
        let s = self.buf.len();
        self.buf.extend_from_slice(a);
        self.ranges.push((s, self.buf.len()));
    }
    pub fn args(&self) -> Args<'_> {
        Args::new(&self.buf, &self.ranges)
    }
}
