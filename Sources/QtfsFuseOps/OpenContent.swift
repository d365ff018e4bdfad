// A small file's content that came with its OPEN (OPEN_READ): the first READs are answered
// from it, each byte once, so a later read sees the host file again (tail -f keeps working).
import QtfsClient
import QtfsProtocol

final class OpenContent: @unchecked Sendable {
    /// Asked for at open: larger files are read with READ as before.
    static let maxBytes = UInt32(Wire.maxOpenContent)

    private let lock = Lock()
    private var bytes: [UInt8]?          // nil once used up
    private var next = 0                 // pseudo files: the offset a sequential reader asks next
    /// Pseudo files (direct I/O) are read sequentially up to an empty read, as a seq_file
    /// serves one generation of its content to one open file; ordinary files come through
    /// the page cache, in any order of page-aligned reads.
    private let sequential: Bool

    init(_ bytes: [UInt8], sequential: Bool) { self.bytes = bytes; self.sequential = sequential }

    /// The answer to a READ of `size` bytes at `offset`, or nil: ask the server.
    func take(offset: Int, size: Int) -> ArraySlice<UInt8>? {
        lock.withLock {
            guard let b = bytes else { return nil }
            if sequential {
                guard offset == next else { bytes = nil; return nil }
                let end = min(b.count, offset + size)
                next = end
                if end == offset { bytes = nil }   // the empty read that ends the file
                return b[offset..<end]
            }
            guard offset < b.count else { bytes = nil; return nil }
            let end = min(b.count, offset + size)
            if end == b.count { bytes = nil }      // the last byte is out: later reads ask again
            return b[offset..<end]
        }
    }
}
