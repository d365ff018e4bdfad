// Per-operation statistics, recorded on the hot path of the server's io_uring loop, its
// workers and the FUSE threads. Recording is a handful of relaxed atomic adds: no lock,
// no allocation. Latency goes into log2 buckets (bucket i holds [2^i, 2^(i+1)) ns), from
// which percentiles are estimated as the bucket's upper bound.
import Glibc
import Synchronization

/// Counters of one operation.
public final class OpCounters: Sendable {
    public static let bucketCount = 40      // 2^40 ns ≈ 18 minutes; anything slower lands in the last
    public static let errnoSlots = 134      // errno 1...133 (Linux); slot 0 counts any other value

    let count = Atomic<UInt64>(0)
    let errors = Atomic<UInt64>(0)
    let totalNanos = Atomic<UInt64>(0)
    let maxNanos = Atomic<UInt64>(0)
    let buckets: InlineArray<40, Atomic<UInt64>> = InlineArray { _ in Atomic<UInt64>(0) }
    let errnos: InlineArray<134, Atomic<UInt64>> = InlineArray { _ in Atomic<UInt64>(0) }

    @inline(__always)
    func record(errno: Int32, nanos: UInt64) {
        count.wrappingAdd(1, ordering: .relaxed)
        totalNanos.wrappingAdd(nanos, ordering: .relaxed)
        buckets[OpCounters.bucket(nanos)].wrappingAdd(1, ordering: .relaxed)
        if errno != 0 {
            errors.wrappingAdd(1, ordering: .relaxed)
            errnos[errno > 0 && errno < Int32(OpCounters.errnoSlots) ? Int(errno) : 0].wrappingAdd(1, ordering: .relaxed)
        }
        // Only a new maximum pays for the compare-exchange loop.
        var seen = maxNanos.load(ordering: .relaxed)
        while nanos > seen {
            let (done, now) = maxNanos.compareExchange(expected: seen, desired: nanos, ordering: .relaxed)
            if done { break }
            seen = now
        }
    }

    @inline(__always)
    static func bucket(_ nanos: UInt64) -> Int {
        nanos == 0 ? 0 : min(bucketCount - 1, 63 - nanos.leadingZeroBitCount)
    }

    /// Zeroes every counter. A request completing meanwhile may be counted in some
    /// fields and not others; the next one is whole again.
    func clear() {
        count.store(0, ordering: .relaxed)
        errors.store(0, ordering: .relaxed)
        totalNanos.store(0, ordering: .relaxed)
        maxNanos.store(0, ordering: .relaxed)
        for i in 0..<OpCounters.bucketCount { buckets[i].store(0, ordering: .relaxed) }
        for i in 0..<OpCounters.errnoSlots { errnos[i].store(0, ordering: .relaxed) }
    }

    func snapshot(name: String) -> OpStatsReport {
        var hist: [UInt64] = []
        for i in 0..<OpCounters.bucketCount { hist.append(buckets[i].load(ordering: .relaxed)) }
        var errs: [String: UInt64] = [:]
        for i in 0..<OpCounters.errnoSlots {
            let n = errnos[i].load(ordering: .relaxed)
            if n > 0 { errs[ErrnoNames.name(Int32(i))] = n }
        }
        return OpStatsReport(op: name, count: count.load(ordering: .relaxed), errors: errors.load(ordering: .relaxed),
                             errnos: errs, totalNanos: totalNanos.load(ordering: .relaxed),
                             maxNanos: maxNanos.load(ordering: .relaxed), histogram: hist)
    }
}

/// Every operation of one component, addressed by a small index (the server uses the
/// wire opcode, the FUSE client its own list). Indexes without a name are not reported.
public final class StatsRegistry: Sendable {
    private let names: [String?]
    private let ops: [OpCounters]
    /// Optional second sink (the Prometheus export).
    private let mirror: (any StatsMirror)?

    /// `names[i]` names operation index i; nil leaves a hole.
    public init(names: [String?], mirror: (any StatsMirror)? = nil) {
        self.names = names
        self.mirror = mirror
        ops = names.map { _ in OpCounters() }
    }

    /// Records one completed request. Unknown indexes are ignored (a hostile opcode).
    @inline(__always)
    public func record(_ op: Int, errno: Int32, nanos: UInt64) {
        guard op >= 0 && op < ops.count else { return }
        ops[op].record(errno: errno, nanos: nanos)
        if let mirror, let name = names[op] { mirror.record(op: name, errno: errno, nanos: nanos) }
    }

    public func clear() { ops.forEach { $0.clear() } }

    /// Named operations that have been used since the last clear.
    public func snapshot() -> [OpStatsReport] {
        var out: [OpStatsReport] = []
        for (i, name) in names.enumerated() {
            guard let name else { continue }
            let r = ops[i].snapshot(name: name)
            if r.count > 0 { out.append(r) }
        }
        return out
    }
}

/// A second consumer of every recorded request (e.g. swift-metrics).
public protocol StatsMirror: Sendable {
    func record(op: String, errno: Int32, nanos: UInt64)
}
