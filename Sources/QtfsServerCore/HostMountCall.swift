// HOST_MOUNT's last steps: what a new mount's type and options may be, and the mount(2)
// call itself with the confined target (and source) as /proc/self/fd paths.
import Glibc
internal import CQtfsSys
import Logging
import QtfsProtocol
import QtfsSystem

extension HostMounts {
    /// A new mount: a type from HostMountTypes.allowed, and for overlay every layer
    /// directory confined to an export (a written one to a writable export).
    func checkNewMount(_ r: HostMountRequest) throws {
        guard !r.fstype.isEmpty, !r.fstype.contains(0), !r.source.contains(0), !r.data.contains(0) else {
            throw Errno(EINVAL)
        }
        let type = String(decoding: r.fstype, as: UTF8.self)
        guard HostMountTypes.allowed.contains(type) else {
            throw refuse(EPERM, "file system type '\(type)' is not allowed for host mounts", r.target,
                         fix: "allowed are \(HostMountTypes.allowedList) and bind, move, remount and propagation changes")
        }
        if type == "overlay" { try checkOverlayLayers(r) }
    }

    private func checkOverlayLayers(_ r: HostMountRequest) throws {
        for (key, path) in OverlayOptions.paths(r.data) {
            do {
                let (e, rel) = try HostPath.locate(backend.exports, r.caller, path)
                // The kernel reads (and writes) the layers as root: a squashed export stays out.
                if e.rootSquash { throw Errno(EPERM) }
                if OverlayOptions.writtenKeys.contains(key) && e.readOnly { throw Errno(EROFS) }
                try Credentials.asCaller(r.caller, squash: false) {
                    if !rel.isEmpty { close(try PathCheck.openBeneath(e.fd, rel[...])) }
                }
            } catch let e as Errno {
                let errno = [ENOENT, ENOTDIR, EROFS, EPERM].contains(e.code) ? e.code : EACCES
                throw refuse(errno, "overlay \(key) \(String(decoding: path, as: UTF8.self)) is not a directory inside an export "
                             + "(\(String(cString: strerror(e.code))))", r.target,
                             fix: "give overlay only directories inside the exports (symlinks in them must stay inside)")
            }
        }
    }

    /// mount(2) as the operation needs it: the kernel ignores the arguments an operation
    /// does not use, but they are left out so nothing unchecked reaches it.
    func callMount(_ r: HostMountRequest, _ operation: HostMountOperation, targetFd: Int32, sourceFd: Int32?) throws {
        let target = "/proc/self/fd/\(targetFd)"
        let source: [UInt8]? = sourceFd.map { Array("/proc/self/fd/\($0)".utf8) }
            ?? (operation == .create && !r.source.isEmpty ? r.source : nil)
        let fstype = operation == .create ? r.fstype : nil
        let data = operation == .create || operation == .reconfigure ? r.data : nil
        let flags = UInt(truncatingIfNeeded: HostMountOperation.effectiveFlags(r.flags))
        let result = withOptionalCString(source) { src in
            withOptionalCString(fstype) { type in
                withOptionalCString(data) { options in Glibc.mount(src, target, type, flags, options) }
            }
        }
        let details: Logger.Metadata = ["operation": "\(operation)", "flags": "0x\(String(flags, radix: 16))",
                                        "fstype": "\(String(decoding: r.fstype, as: UTF8.self))"]
        guard result == 0 else {
            let e = errno
            logger.notice("host mount failed", metadata: meta(r.target, details.merging(["error": "\(String(cString: strerror(e)))"]) { a, _ in a }))
            throw Errno(e)
        }
        logger.info("host mount", metadata: meta(r.target, details))
    }
}

/// `body` with a NUL-terminated copy of `bytes`, or with nil.
private func withOptionalCString<T>(_ bytes: [UInt8]?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
    guard let bytes else { return body(nil) }
    return bytes.withCStr { body($0) }
}
