// What a FUSE request says besides its arguments: who asks (uid, gid, pid, groups, umask),
// read through the mount's RequestSource (libfuse, or a test's recorder), and whether a
// FUSE interrupt ends its waits for the server. The request's name arguments become bytes here.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol
import QtfsSystem

struct RequestContext {
    var uid: uid_t
    var gid: gid_t
    var pid: pid_t
    var umask: UInt32
}

/// Where a request's caller is read and its interrupt registered (ReplyChannel adds the answers).
protocol RequestSource: AnyObject, Sendable {
    func context(_ req: fuse_req_t?) -> RequestContext
    /// Supplementary groups of the caller; nil if unknown.
    func groups(_ req: fuse_req_t?) -> [gid_t]?
    func onInterrupt(_ req: fuse_req_t?, _ f: fuse_interrupt_func_t, _ data: UnsafeMutableRawPointer?)
}

extension LibfuseReplies {
    func context(_ req: fuse_req_t?) -> RequestContext {
        let c = fuse_req_ctx(req)!.pointee
        return RequestContext(uid: c.uid, gid: c.gid, pid: c.pid, umask: UInt32(c.umask))
    }

    func groups(_ req: fuse_req_t?) -> [gid_t]? {
        var list = [gid_t](repeating: 0, count: Wire.maxGroups)
        let n = fuse_req_getgroups(req, Int32(list.count), &list)
        return n > 0 ? Array(list.prefix(min(Int(n), list.count))) : nil
    }

    func onInterrupt(_ req: fuse_req_t?, _ f: fuse_interrupt_func_t, _ data: UnsafeMutableRawPointer?) {
        fuse_req_interrupt_func(req, f, data)
    }
}

extension FuseReply {
    /// Who is asking: uid, gid, pid from the request, plus supplementary groups for non-root.
    var caller: Caller {
        let ctx = fs.replies.context(req)
        var c = Caller(uid: ctx.uid, gid: ctx.gid, pid: UInt32(bitPattern: ctx.pid))
        if ctx.uid != 0, let groups = fs.replies.groups(req) { c.groups = groups }
        return c
    }
    var umask: UInt32 { fs.replies.context(req).umask }
    /// The calling thread's id on the DPU.
    var pid: Int32 { fs.replies.context(req).pid }

    /// A FUSE interrupt for this request ends its waits for the server with EINTR.
    mutating func interruptible() {
        let token = UInt(bitPattern: req)
        fs.replies.onInterrupt(req, onInterrupt, Interrupts.arm(token: token))
        armed = true
    }
}

private let onInterrupt: fuse_interrupt_func_t = { req, context in
    if let context { Interrupts.fire(context, token: UInt(bitPattern: req)) }
}

/// A name argument of a request, as the bytes the protocol carries.
func bytes(_ name: UnsafePointer<CChar>?) -> [UInt8] {
    guard let name else { return [] }
    return Array(UnsafeBufferPointer(start: UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self),
                                     count: Sys.cLength(name)))
}
