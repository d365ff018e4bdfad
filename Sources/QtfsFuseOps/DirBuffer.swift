// Per open directory: the latest READDIR chunk from the server, so the kernel's many
// small readdir calls cost one round trip per chunk. Positions are server cookies.
import QtfsClient
import QtfsProtocol

final class OpenDir: OpenFile {
    let lock = Lock()
    private var chunk: [DirEntry] = []     // protected by lock
    private var chunkStart: UInt64 = 0     // cookie the chunk was fetched after
    private var chunkPlus = false
    private var chunkEOF = false
    private var loaded = false
    private var cursor = 0                 // index of the next entry to hand out
    static let chunkBytes: UInt32 = 128 * 1024

    /// The entry after position `cookie`, fetching from the server as needed; nil at the end.
    /// Call with `lock` held.
    func entry(after cookie: UInt64, plus: Bool, _ session: Session) throws -> DirEntry? {
        if !loaded || (plus && !chunkPlus) { try fetch(cookie, plus, session) } else { try seek(cookie, plus, session) }
        if cursor < chunk.count { return chunk[cursor] }
        if chunkEOF { return nil }
        try fetch(cookie, plus, session)
        return cursor < chunk.count ? chunk[cursor] : nil
    }

    func advance() { cursor += 1 }

    /// Positions the cursor just after `cookie` within the chunk, or refetches.
    private func seek(_ cookie: UInt64, _ plus: Bool, _ session: Session) throws {
        if cursor > 0, cursor <= chunk.count, chunk[cursor - 1].cookie == cookie { return }
        if cookie == chunkStart { cursor = 0; return }
        if let i = chunk.firstIndex(where: { $0.cookie == cookie }) { cursor = i + 1; return }
        try fetch(cookie, plus, session)
    }

    private func fetch(_ cookie: UInt64, _ plus: Bool, _ session: Session) throws {
        let r = try session.readdir(remote, cookie: cookie, maxBytes: Self.chunkBytes, plus: plus)
        chunk = r.entries
        chunkStart = cookie
        chunkPlus = plus
        chunkEOF = r.eof
        loaded = true
        cursor = 0
    }
}
