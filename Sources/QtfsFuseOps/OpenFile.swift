// What fuse_file_info.fh points to: a retained object per open file or directory.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol
import QtfsSystem

class OpenFile {
    /// nil only for host fifos (FifoFile), whose handle lives on the stream channel.
    let remote: OpenHandle!
    /// The content that came with the open, if any (OPEN_READ).
    let content: OpenContent?
    /// The file's node, counted in FS.opens while this file is open (PageStore.swift).
    var counted: UInt64?
    /// The handle came from CREATE, of an ordinary file (NodeOpens).
    var created = false
    /// `ino`'s current path is where the handle is re-opened after a reconnect.
    init(_ remote: OpenHandle, ino: fuse_ino_t, _ fs: FS, content: OpenContent? = nil) {
        self.remote = remote
        self.content = content
        let nodes = fs.nodes
        remote.path = { nodes.path(UInt64(ino)) }
    }
    /// A file without a session handle (FifoFile).
    init(streamHandle: ()) { remote = nil; content = nil }

    /// Gives the handle back: the session's RELEASE, and its count in FS.opens.
    func release(_ fs: FS) {
        if let ino = counted { fs.opens.end(ino, created: created) }
        fs.session.release(remote, pseudo: counted.map { fs.nodes.isPseudo($0) } ?? false)
    }

    /// Stores a retained reference in fi->fh.
    func attach(_ fi: UnsafeMutablePointer<fuse_file_info>) {
        fi.pointee.fh = UInt64(UInt(bitPattern: Unmanaged.passRetained(self).toOpaque()))
    }
    static func from(_ fi: UnsafeMutablePointer<fuse_file_info>) -> OpenFile? {
        guard let p = UnsafeMutableRawPointer(bitPattern: UInt(fi.pointee.fh)) else { return nil }
        return Unmanaged<OpenFile>.fromOpaque(p).takeUnretainedValue()
    }
    /// The open file of an operation on a handle: EBADF without one.
    static func required(_ fi: UnsafeMutablePointer<fuse_file_info>?) throws -> OpenFile {
        guard let fi, let f = from(fi) else { throw Errno(EBADF) }
        return f
    }
    /// Drops the reference held by fi->fh (release, releasedir).
    static func detach(_ fi: UnsafeMutablePointer<fuse_file_info>) -> OpenFile? {
        guard let p = UnsafeMutableRawPointer(bitPattern: UInt(fi.pointee.fh)) else { return nil }
        fi.pointee.fh = 0
        return Unmanaged<OpenFile>.fromOpaque(p).takeRetainedValue()
    }
}
