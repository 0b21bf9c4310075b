//! Streams (XADD, XRANGE, consumer groups). Placeholder shape, filled in by the stream
//! family: entries ordered by ID, consumer groups with their pending entries lists.

/// A stream value.
#[derive(Clone, Default)]
pub struct StreamValue {}

impl StreamValue {
    pub fn new() -> StreamValue {
        StreamValue {}
    }
    /// OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }
    /// Approximate heap bytes owned.
    pub fn mem_usage(&self) -> usize {
        std::mem::size_of::<StreamValue>()
    }
}
