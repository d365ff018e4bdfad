// A small ordinary file opened read-only comes with its whole content (OPEN_READ). That
// content is put into the kernel's page cache (FUSE_NOTIFY_STORE) before the open is
// answered, and the open keeps the cache: the read(2) calls that follow are served by the
// kernel, without a READ request each through this daemon (a trip of ~20 µs here).
//
// Only when no page the kernel caches can be newer than the content or lie past it:
// - no other open file of the node in this client, from before this open began until the
//   store (no writer whose pages the store could overwrite, no mmap with dirty pages);
// - no write-back cache (`-o writeback`: dirty pages wait in the kernel);
// - the content is the whole file and as long as the size the kernel was last told
//   (a shorter file would leave older cached pages between the two sizes).
// Otherwise the open goes on as before: the kernel drops its cached pages at the open and
// asks with READ, answered from the content (OpenContent).
import CFuse
import QtfsClient

enum PageStore {
    /// Stores `content` as `ino`'s pages when the rules above allow; true if it did (the
    /// open may then keep the kernel's cache).
    static func store(_ fs: FS, _ ino: fuse_ino_t, _ content: [UInt8], wasAlone: Bool) -> Bool {
        let id = UInt64(ino)
        guard wasAlone, !fs.writeback, let se = fs.fuseSession, !content.isEmpty,
              content.count < Int(OpenContent.maxBytes), UInt64(content.count) == fs.nodes.lastSize(id),
              fs.opens.alone(id) else { return false }
        return content.withUnsafeBytes { raw -> Bool in
            var bufv = fuse_bufvec(count: 1, idx: 0, off: 0,
                                   buf: fuse_buf(size: raw.count, flags: fuse_buf_flags(rawValue: 0),
                                                 mem: UnsafeMutableRawPointer(mutating: raw.baseAddress), fd: -1, pos: 0))
            return fuse_lowlevel_notify_store(se, ino, 0, &bufv, fuse_buf_copy_flags(rawValue: 0)) == 0
        }
    }
}
