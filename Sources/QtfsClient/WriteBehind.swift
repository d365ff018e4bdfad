// Write-behind for streaming writes. A large WRITE is copied into one of a few session
// buffers, sent, and answered to the kernel at once, so the program's next write overlaps
// the network and the host's write of this one (a synchronous WRITE leaves both CPUs
// waiting on each other in turn). The rules that keep this invisible to programs:
// - one open file at a time has writes in flight; every other request of the session
//   first waits for them (`settle`), so no read, stat or lookup can overtake a write;
// - a write overlapping one in flight, an O_APPEND handle, or no free buffer: sent the
//   ordinary, synchronous way;
// - a write lost with its connection, or written short, is written again synchronously
//   (reconnecting like any write) from the buffer it still holds;
// - an error the host returned is kept for the handle and reported by its next write,
//   flush (close) or fsync, as a page-cache file system reports a failed writeback.
#if canImport(Glibc)
import Glibc
#endif
import QtfsProtocol
import Synchronization
import QtfsSystem

final class WriteBehind: @unchecked Sendable {
    /// Writes smaller than this are sent synchronously (they are not streaming).
    static let minimumSize = 64 * 1024
    static let bufferCount = 8

    private struct Piece {
        var offset: UInt64
        var count: Int
        var buffer: Int        // index into `buffers`
        var start = 0          // first byte of the buffer still to write (after a short write)
    }

    private let lock = Lock()            // a leaf lock: held without taking any other
    private var buffers: [UnsafeMutableRawPointer] = []   // protected by lock; allocated on first use
    private var freeBuffers: [Int] = []                    // protected by lock
    private var active: (handle: OpenHandle, conn: Connection)?   // protected by lock
    private var inFlight: [UInt64: Piece] = [:]            // protected by lock, by sequence number
    private var redo: [Piece] = []                         // protected by lock
    private var nextSeq: UInt64 = 0                        // protected by lock
    private var draining = false                           // protected by lock
    private var errors: [ObjectIdentifier: Int32] = [:]    // protected by lock: per handle
    /// Something is in flight or waits to be redone: other requests must `settle` first.
    let busy = Atomic<Bool>(false)
    /// One settle at a time; the writes it redoes must not settle again (same thread).
    private let settleLock = Lock()

    deinit { for b in buffers { b.deallocate() } }

    /// Sends `data` at `offset` without waiting for the answer. False when it must go the
    /// synchronous way instead (nothing was sent then).
    func write(_ s: Session, _ h: OpenHandle, offset: UInt64, data: UnsafeRawBufferPointer) -> Bool {
        guard data.count >= Self.minimumSize, data.count <= Wire.maxIOSize, !h.appends,
              let (c, id) = h.live else { return false }
        if lock.withLock({ active != nil && active!.handle !== h }) { try? settle(s) }
        guard let slot = reserve(h, c, offset, data.count) else { return false }
        let p = Piece(offset: offset, count: data.count, buffer: slot.buffer)
        slot.memory.copyMemory(from: data.baseAddress!, byteCount: data.count)
        let tail = UnsafeRawBufferPointer(start: slot.memory, count: data.count)
        let sent = c.postTracked(.write, tail: tail, { w in w.u64(id); w.u64(offset) }) { [self] r in
            answered(slot.seq, r)
        }
        if !sent { lock.withLock { inFlight[slot.seq] = nil; redo.append(p) } }
        return true
    }

    /// Claims a buffer and a sequence number for a write of `count` bytes at `offset`, if
    /// the handle may write behind now. Waits for a free buffer while all are in flight.
    private func reserve(_ h: OpenHandle, _ c: Connection, _ offset: UInt64, _ count: Int)
        -> (seq: UInt64, buffer: Int, memory: UnsafeMutableRawPointer)? {
        if lock.withLock({ inFlight.count >= Self.bufferCount }) {
            if c.waitUntil({ [self] in lock.withLock { inFlight.count < Self.bufferCount } }) != nil { return nil }
        }
        lock.lock()
        defer { lock.unlock() }
        let end = offset + UInt64(count)
        let overlaps: (Piece) -> Bool = { $0.offset < end && offset < $0.offset + UInt64($0.count) }
        let overlapping = inFlight.values.contains(where: overlaps) || redo.contains(where: overlaps)
        if draining || overlapping || (active != nil && active!.handle !== h) { return nil }
        if buffers.isEmpty { allocateBuffers() }
        guard let b = freeBuffers.popLast() else { return nil }
        let seq = nextSeq
        nextSeq += 1
        inFlight[seq] = Piece(offset: offset, count: count, buffer: b)
        active = (h, c)
        busy.store(true, ordering: .releasing)
        return (seq, b, buffers[b])
    }

    /// Touches every page now, so that copies into the buffers never fault.
    private func allocateBuffers() {
        buffers = (0..<Self.bufferCount).map { _ in
            let m = UnsafeMutableRawPointer.allocate(byteCount: Wire.maxIOSize, alignment: 4096)
            memset(m, 0, Wire.maxIOSize)
            return m
        }
        freeBuffers = Array(0..<Self.bufferCount)
    }

    /// The answer to a write sent behind (runs with the connection's state lock held).
    private func answered(_ seq: UInt64, _ r: Reply) {
        lock.lock()
        defer { lock.unlock() }
        guard var p = inFlight.removeValue(forKey: seq), let h = active?.handle else { return }
        if r.failure != nil { redo.append(p); return }   // lost with its connection
        if r.status != 0 {
            if errors[ObjectIdentifier(h)] == nil { errors[ObjectIdentifier(h)] = r.status }
        } else if let w = try? WriteReply.decode(r.payload), Int(w.written) < p.count {
            // Short: the rest is written synchronously, which reports why (ENOSPC, EFBIG…).
            p.start += Int(w.written); p.offset += UInt64(w.written); p.count -= Int(w.written)
            redo.append(p)
            return
        }
        freeBuffers.append(p.buffer)
    }

    /// Waits for every write in flight, then writes again what was lost or short. Called
    /// before any other request of the session, and by flush, fsync and release. Throws
    /// only when it could not finish (interrupt, soft-mount timeout).
    func settle(_ s: Session) throws {
        guard busy.load(ordering: .acquiring), !Waiter.current().settling else { return }
        settleLock.lock()
        defer { settleLock.unlock() }
        guard let (h, c) = lock.withLock({ () -> (OpenHandle, Connection)? in
            draining = true
            return active
        }) else { return }
        defer { lock.withLock { draining = false } }
        if let stop = c.waitUntil({ [self] in lock.withLock { inFlight.isEmpty } }), stop.failure != .lost {
            throw Errno(stop.status)
        }
        // A dead connection has answered everything in flight with `.lost`: all in `redo`.
        Waiter.current().settling = true
        defer { Waiter.current().settling = false }
        while let p = lock.withLock({ redo.isEmpty ? nil : redo.removeFirst() }) {
            rewrite(s, h, p)
        }
        lock.withLock {
            active = nil
            busy.store(false, ordering: .releasing)
        }
    }

    /// Writes a lost or short piece the synchronous way; a failure is kept for the handle.
    private func rewrite(_ s: Session, _ h: OpenHandle, _ p: Piece) {
        let memory = lock.withLock { buffers[p.buffer] } + p.start
        var done = 0
        var failure: Int32?
        while done < p.count && failure == nil {
            do {
                let n = try s.write(h, offset: p.offset + UInt64(done),
                                    data: UnsafeRawBufferPointer(start: memory + done, count: p.count - done))
                if n == 0 { failure = EIO } else { done += Int(n) }
            } catch let e as Errno { failure = e.code } catch { failure = EIO }
        }
        lock.withLock {
            if let f = failure, errors[ObjectIdentifier(h)] == nil { errors[ObjectIdentifier(h)] = f }
            freeBuffers.append(p.buffer)
        }
    }

    /// The first error a write behind got on `h` since the last call, cleared once taken.
    func takeError(_ h: OpenHandle) -> Int32? {
        lock.withLock { errors.removeValue(forKey: ObjectIdentifier(h)) }
    }
}
