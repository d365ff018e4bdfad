// Where answers go: libfuse for a mounted file system; the unit tests put a recorder here
// and drive the operations without a kernel. Where the caller is read (RequestSource) is in
// FuseRequest.swift.
import CFuse
import CQtfsSys
import QtfsProtocol

/// Each answer returns libfuse's result: non-zero when the kernel no longer wants it (the
/// request was interrupted), so the answer's side effects must be undone.
protocol ReplyChannel: RequestSource {
    func err(_ req: fuse_req_t?, _ e: Int32)
    func none(_ req: fuse_req_t?)
    func entry(_ req: fuse_req_t?, _ e: UnsafePointer<fuse_entry_param>) -> Int32
    func create(_ req: fuse_req_t?, _ e: UnsafePointer<fuse_entry_param>, _ fi: UnsafePointer<fuse_file_info>) -> Int32
    func open(_ req: fuse_req_t?, _ fi: UnsafePointer<fuse_file_info>) -> Int32
    func attr(_ req: fuse_req_t?, _ st: UnsafePointer<stat>, _ timeout: Double) -> Int32
    func readlink(_ req: fuse_req_t?, _ link: UnsafePointer<CChar>) -> Int32
    func buf(_ req: fuse_req_t?, _ data: UnsafeRawBufferPointer) -> Int32
    func write(_ req: fuse_req_t?, _ count: Int) -> Int32
    func statfs(_ req: fuse_req_t?, _ s: UnsafePointer<statvfs>) -> Int32
    func xattr(_ req: fuse_req_t?, _ size: Int) -> Int32
    func lseek(_ req: fuse_req_t?, _ off: off_t) -> Int32
    func poll(_ req: fuse_req_t?, _ revents: UInt32) -> Int32
}

/// The real thing: every answer is one fuse_reply_* call.
final class LibfuseReplies: ReplyChannel {
    func err(_ req: fuse_req_t?, _ e: Int32) { fuse_reply_err(req, e) }
    func none(_ req: fuse_req_t?) { fuse_reply_none(req) }
    func entry(_ req: fuse_req_t?, _ e: UnsafePointer<fuse_entry_param>) -> Int32 { fuse_reply_entry(req, e) }
    func create(_ req: fuse_req_t?, _ e: UnsafePointer<fuse_entry_param>, _ fi: UnsafePointer<fuse_file_info>) -> Int32 {
        fuse_reply_create(req, e, fi)
    }
    func open(_ req: fuse_req_t?, _ fi: UnsafePointer<fuse_file_info>) -> Int32 { fuse_reply_open(req, fi) }
    func attr(_ req: fuse_req_t?, _ st: UnsafePointer<stat>, _ timeout: Double) -> Int32 { fuse_reply_attr(req, st, timeout) }
    func readlink(_ req: fuse_req_t?, _ link: UnsafePointer<CChar>) -> Int32 { fuse_reply_readlink(req, link) }
    func buf(_ req: fuse_req_t?, _ data: UnsafeRawBufferPointer) -> Int32 {
        fuse_reply_buf(req, data.baseAddress?.assumingMemoryBound(to: CChar.self), data.count)
    }
    func write(_ req: fuse_req_t?, _ count: Int) -> Int32 { fuse_reply_write(req, count) }
    func statfs(_ req: fuse_req_t?, _ s: UnsafePointer<statvfs>) -> Int32 { fuse_reply_statfs(req, s) }
    func xattr(_ req: fuse_req_t?, _ size: Int) -> Int32 { fuse_reply_xattr(req, size) }
    func lseek(_ req: fuse_req_t?, _ off: off_t) -> Int32 { fuse_reply_lseek(req, off) }
    func poll(_ req: fuse_req_t?, _ revents: UInt32) -> Int32 { fuse_reply_poll(req, revents) }
}
