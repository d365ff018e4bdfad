// st_ino as shown to the DPU. The mount is one st_dev locally, but the host tree may span
// several file systems (/proc under a "/" export): inode numbers are unique only per
// host dev, so other devs get a small index mixed into the top bits.
public final class InoMap: @unchecked Sendable {
    private let rootDev: UInt64
    private let lock = Lock()
    private var index: [UInt64: UInt64] = .preallocated()   // protected by lock

    public init(rootDev: UInt64) { self.rootDev = rootDev }

    public func map(dev: UInt64, ino: UInt64) -> UInt64 {
        if dev == rootDev { return ino }
        let idx: UInt64 = lock.withLock {
            if let i = index[dev] { return i }
            let i = UInt64(index.count + 1) & 0xff
            index[dev] = i
            return i
        }
        return ino ^ (idx << 56)
    }
}
