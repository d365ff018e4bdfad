// Tables that a request touches are allocated when their owner is made, not by the first
// request. The first allocation of a dictionary's storage makes the Swift runtime build
// that generic type's metadata (a demangle and a scan of the binary's protocol
// conformances), tens to hundreds of µs each: the first stat through a fresh strict mount
// cost ~975 µs where later ones cost ~250 (docs/client.md, "The first request of a mount").

extension Dictionary {
    /// An empty dictionary whose storage (and so its type) exists already.
    public static func preallocated(_ capacity: Int = 16) -> Self { Self(minimumCapacity: capacity) }
}
