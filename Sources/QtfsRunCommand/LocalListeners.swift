// Host socket paths that a process under some qtfs-run on this DPU listens at (its bind was
// done on the host), shared by every qtfs-run here through /run/qtfs-run.bound. A connect
// from the DPU to such a path would go to the host only to be handed straight back to this
// DPU (ctr to containerd's socket: every request crossing the network twice); with the
// entry, the caller's socket is connected to the listener's private path directly.
//
// An entry is a symlink named by a hash of the server and host path, whose target holds
// "PRIVATE-PATH\nSERVER\nHOST-PATH" (checked on use: a hash collision is never followed).
// A qtfs-run removes its entries when it exits; one killed leaves them behind, and the
// first connect that finds nothing listening removes the stale entry and goes to the host.
import Glibc
import QtfsClient

enum LocalListeners {
    static let directory = "/run/qtfs-run.bound"

    /// Records that `privatePath` listens for `hostPath` of `server`.
    static func add(privatePath: String, hostPath: String, server: ServerAddress) {
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else { return }
        let name = entryPath(hostPath, server)
        let temporary = "\(name).\(getpid())"
        unlink(temporary)
        guard symlink(target(privatePath, hostPath, server), temporary) == 0 else { return }
        if rename(temporary, name) != 0 { unlink(temporary) }
    }

    /// The private path listening for `hostPath`, when some qtfs-run here recorded one.
    static func privatePath(for hostPath: String, server: ServerAddress) -> String? {
        var buf = [CChar](repeating: 0, count: 3 * Int(PATH_MAX))
        let n = readlink(entryPath(hostPath, server), &buf, buf.count - 1)
        guard n > 0 else { return nil }
        let text = String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let parts = text.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1] == "\(server)", parts[2] == hostPath else { return nil }
        return String(parts[0])
    }

    /// Forgets `hostPath` (nothing listens at its private path any more).
    static func remove(_ hostPath: String, server: ServerAddress) { unlink(entryPath(hostPath, server)) }

    /// Forgets every entry whose private path is in `privateDirectory` (qtfs-run exits).
    static func removeAll(in privateDirectory: String) {
        guard let d = opendir(directory) else { return }
        defer { closedir(d) }
        var buf = [CChar](repeating: 0, count: 3 * Int(PATH_MAX))
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            let path = "\(directory)/\(name)"
            let n = readlink(path, &buf, buf.count - 1)
            guard n > 0 else { continue }
            let text = String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix(privateDirectory + "/") { unlink(path) }
        }
    }

    private static func target(_ privatePath: String, _ hostPath: String, _ server: ServerAddress) -> String {
        "\(privatePath)\n\(server)\n\(hostPath)"
    }

    /// FNV-1a of server and path: a short, stable file name.
    private static func entryPath(_ hostPath: String, _ server: ServerAddress) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in "\(server)\n\(hostPath)".utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let hex = String(h, radix: 16)
        return "\(directory)/\(String(repeating: "0", count: 16 - hex.count))\(hex)"
    }
}
