// The one monotonic clock: seconds since boot as a Double, and conversions for timed waits.
#if canImport(Glibc)
import Glibc
#endif

public enum MonotonicClock {
    public static func now() -> Double {
        var t = Glibc.timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Nanoseconds since boot, for latency statistics.
    public static func nanoseconds() -> UInt64 {
        var t = Glibc.timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    /// A CLOCK_MONOTONIC timespec for the time `seconds` (as returned by `now`).
    public static func deadline(at seconds: Double) -> Glibc.timespec {
        let s = max(0, seconds)
        let whole = s.rounded(.down)
        return Glibc.timespec(tv_sec: Int(whole), tv_nsec: Int((s - whole) * 1e9))
    }

    /// Milliseconds left until `deadline`, for poll(2): 0 when passed, -1 for nil (forever).
    public static func pollTimeout(until deadline: Double?) -> Int32 {
        guard let deadline else { return -1 }
        return Int32(max(0, min((deadline - now()) * 1000, 3_600_000)).rounded(.up))
    }
}
