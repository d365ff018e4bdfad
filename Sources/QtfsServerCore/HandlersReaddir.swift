// READDIR: getdents64 from the entry after `cookie` (the d_off of the last entry the
// client saw, applied with lseek on the directory fd), until the byte budget is spent.
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

extension Backend {
    /// Fixed part of an encoded entry: cookie 8, ino 8, type 1, name length 2, hasattr 1.
    private static let entryFixed = 20
    private static let attrSize = 100

    /// Builds the whole response frame (entries are encoded straight into one buffer).
    func readdir(_ r: ReaddirRequest, _ handles: HandleTable, id: UInt64) throws -> [UInt8] {
        let h = try serverHandle(r.handle, handles)
        guard h.isDirectory else { throw Errno(ENOTDIR) }
        var body = WireWriter(capacity: min(Int(r.maxBytes), 1 << 16) + 512)
        let (count, eof) = try h.dirLock.withLock {
            try sys("lseek") { Glibc.lseek(h.fd, off_t(Int64(bitPattern: r.cookie)), SEEK_SET) }
            return try fill(&body, h.fd, budget: Int(r.maxBytes), plus: r.plus)
        }
        var w = WireWriter(capacity: Wire.headerSize + 5 + body.bytes.count)
        FrameHeader(kind: .response, opcode: Opcode.readdir.rawValue, id: id, length: 0).encode(into: &w)
        w.u8(eof ? 1 : 0)
        w.u32(UInt32(count))
        w.raw(body.bytes)
        w.setFrameLength()
        return w.bytes
    }

    /// Encodes entries into `w`; returns how many and whether the directory ended.
    private func fill(_ w: inout WireWriter, _ dir: Int32, budget: Int, plus: Bool) throws -> (Int, Bool) {
        let bufSize = 32 * 1024
        let buf = UnsafeMutableRawPointer.allocate(byteCount: bufSize, alignment: 8)
        defer { buf.deallocate() }
        var count = 0
        while true {
            let n = try sys("getdents64") { qtfs_getdents64(dir, buf, bufSize) }
            if n == 0 { return (count, true) }
            var at = 0
            while at + 19 < n {
                let reclen = Int(buf.loadUnaligned(fromByteOffset: at + 16, as: UInt16.self))
                guard reclen > 19, at + reclen <= n else { throw Errno(EIO) }
                let rec = UnsafeRawBufferPointer(start: buf + at, count: reclen)
                if !encode(rec, &w, dir, plus: plus, budget: budget, first: count == 0) { return (count, false) }
                count += 1
                at += reclen
            }
        }
    }

    /// Appends one linux_dirent64 record unless it would pass the budget (the first
    /// entry always goes in). Returns false when the budget is spent.
    private func encode(_ rec: UnsafeRawBufferPointer, _ w: inout WireWriter, _ dir: Int32,
                        plus: Bool, budget: Int, first: Bool) -> Bool {
        let name = UnsafeRawBufferPointer(rebasing: rec[19...])
        let nameLen = name.firstIndex(of: 0) ?? name.count
        let nameBytes = UnsafeRawBufferPointer(rebasing: name[0..<nameLen])
        let dot = nameLen <= 2 && nameBytes.allSatisfy { $0 == 0x2E }
        let attr = plus && !dot ? entryAttr(dir, nameBytes) : nil
        let size = Backend.entryFixed + nameLen + (attr == nil ? 0 : Backend.attrSize)
        if !first && w.bytes.count + size > budget { return false }
        w.u64(rec.loadUnaligned(fromByteOffset: 8, as: UInt64.self))   // d_off = cookie
        w.u64(rec.loadUnaligned(fromByteOffset: 0, as: UInt64.self))   // d_ino
        w.u8(rec[18])
        w.u16(UInt16(nameLen))
        w.raw(nameBytes)
        if let attr { w.u8(1); attr.encode(into: &w) } else { w.u8(0) }
        return true
    }

    /// Attributes of an entry, or nil if it vanished meanwhile.
    private func entryAttr(_ dir: Int32, _ name: UnsafeRawBufferPointer) -> Attr? {
        var cname = [CChar](repeating: 0, count: name.count + 1)
        cname.withUnsafeMutableBytes { $0.copyMemory(from: name) }
        return cname.withUnsafeBufferPointer { p in p.baseAddress.flatMap { try? pseudo.attr(dir, $0) } }
    }
}
