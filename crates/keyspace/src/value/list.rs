//! list values (placeholder layout; the list family owner replaces the internals but keeps
//! `encoding()`, `len()` and `mem_usage()`).

/// A list value.
#[derive(Default)]
pub struct ListValue {
    _items: Vec<crate::sso::Sso>,
}

impl ListValue {
    /// The name OBJECT ENCODING replies with.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }
    pub fn len(&self) -> usize {
        self._items.len()
    }
    pub fn is_empty(&self) -> bool {
        self._items.is_empty()
    }
    /// Approximate bytes owned (MEMORY USAGE).
    pub fn mem_usage(&self) -> usize {
        self._items.capacity() * 24
    }
}
