// Raw byte buffers with stable addresses, as io_uring needs while an op is in flight.
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

/// Recycles the large (one whole frame) buffers used by READ replies and receive
/// buffers, so a 1 MiB read does not cost an mmap and page faults each time.
final class BufferPool: @unchecked Sendable {
    /// A whole frame, sealed or not (a sealed one carries a 16-byte tag after its payload).
    static let frameSize = Wire.headerSize + Wire.maxPayload + Sealed.tagSize
    static let shared = BufferPool(keep: 32)
    private let lock = Lock()
    private var free: [UnsafeMutableRawPointer] = []
    private let keep: Int

    init(keep: Int) { self.keep = keep }

    func take() -> UnsafeMutableRawPointer {
        lock.withLock { free.popLast() }
            ?? UnsafeMutableRawPointer.allocate(byteCount: BufferPool.frameSize + OutBuffer.payloadLead, alignment: 4096)
    }

    func give(_ p: UnsafeMutableRawPointer) {
        let kept = lock.withLock { () -> Bool in
            guard free.count < keep else { return false }
            free.append(p)
            return true
        }
        if !kept { p.deallocate() }
    }
}

/// A buffer queued for sending: owns its memory, remembers how much has gone out.
final class OutBuffer {
    let base: UnsafeMutableRawPointer
    /// Bytes to send (a READ answer shrinks to the data actually read).
    var count: Int
    /// Bytes allocated: `count` plus room for a sealed frame's tag (GatekeeperSealing.swift).
    let capacity: Int
    var sent = 0
    /// Bytes to splice from a file once this buffer (a READ answer's header) is sent
    /// (Splicer.swift); nothing else is sent on the connection until they are.
    var spliceAfter: SpliceJob?
    /// An answer nobody waits for (RELEASE, RELEASEDIR): it need not leave on its own
    /// while another answer for the same connection is on the way (ConnectionIO.flush).
    var lazy = false
    private let pooled: Bool
    /// Bytes of the allocation before `base` (see `payloadLead`).
    private let lead: Int

    /// How far into its allocation a READ answer's frame starts, so that the data after
    /// the 24-byte header is 64-byte aligned. The kernel copies page cache into a
    /// destination 8–24 bytes past such a boundary about 4× slower (measured here: 510
    /// against 137 µs per MiB), and that copy was most of a sealed read's cost.
    static let payloadLead = 64 - Wire.headerSize

    /// A READ answer of up to `size` data bytes, its data 64-byte aligned: from the pool
    /// when large, else its own allocation. The caller reads into `base + headerSize`.
    init(readAnswer size: Int) {
        pooled = size > ConnectionIO.stealThreshold
        capacity = pooled ? BufferPool.frameSize : Wire.headerSize + size + Sealed.tagSize
        let raw = pooled ? BufferPool.shared.take()
            : UnsafeMutableRawPointer.allocate(byteCount: capacity + OutBuffer.payloadLead, alignment: 64)
        lead = OutBuffer.payloadLead
        base = raw + lead
        count = Wire.headerSize + size
    }

    init(copying bytes: [UInt8]) {
        capacity = bytes.count + Sealed.tagSize
        let p = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        bytes.withUnsafeBytes { if let src = $0.baseAddress { p.copyMemory(from: src, byteCount: $0.count) } }
        base = p
        count = bytes.count
        pooled = false
        lead = 0
    }

    deinit {
        let raw = base - lead
        if pooled { BufferPool.shared.give(raw) } else { raw.deallocate() }
    }
}

/// A connection's receive buffer: bytes [start, end) are received but not yet parsed.
final class RecvBuffer {
    static let initialSize = 256 * 1024
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    var start = 0
    var end = 0
    private var pooled = false

    init() {
        capacity = RecvBuffer.initialSize
        base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    /// A whole-frame buffer from the pool: what replaces a buffer taken over by a big
    /// WRITE (the next frame is likely big too, and the pool spares mmap/munmap per write).
    init(pooledFrom pool: BufferPool) {
        capacity = BufferPool.frameSize
        base = pool.take()
        pooled = true
    }

    deinit { pooled ? BufferPool.shared.give(base) : base.deallocate() }

    var unparsed: Int { end - start }

    /// Makes room for a frame of `total` bytes starting at `start` (compacting first).
    func reserve(frame total: Int) {
        if start > 0 && (capacity - start < total || end == start || capacity - end < 4096) {
            if end > start { memmove(base, base + start, end - start) }
            end -= start
            start = 0
        }
        guard total > capacity, !pooled else { return }
        let bigger = BufferPool.shared.take()
        if end > 0 { bigger.copyMemory(from: base, byteCount: end) }
        base.deallocate()
        base = bigger
        capacity = BufferPool.frameSize
        pooled = true
    }
}
