// Which pseudo files OPEN_READ reads on the event loop. Reading a pseudo file runs kernel
// code, and some of it waits: /proc/PID/cmdline and environ take the process's memory-map
// lock, which a process stuck in a page fault (on a hung network mount, say) can hold for
// as long as it is stuck, and a sysfs attribute calls its driver. Those go to a worker.
// A process's stat, status and statm only copy counters under spinlocks and RCU; ps and
// top read them for every process every few seconds, so they are read on the loop and
// skip the two thread hand-offs a worker costs (most of an OPEN_READ's time on the host).
enum PseudoReads {
    private static let names: Set<[UInt8]> = [Array("stat".utf8), Array("status".utf8), Array("statm".utf8)]

    /// True for one of those names in a process's or thread's directory of a proc file
    /// system (`magic`, its directory's): `path` (export-relative) ends in NUMBER/NAME.
    /// /proc/stat itself, which sums every CPU's counters, is not one.
    static func neverWait(path: [UInt8], magic: Int) -> Bool {
        guard magic == PseudoCache.procMagic else { return false }
        let parts = path.split(separator: 0x2F, omittingEmptySubsequences: false)
        guard parts.count >= 2, names.contains(Array(parts[parts.count - 1])) else { return false }
        let parent = parts[parts.count - 2]
        return !parent.isEmpty && parent.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
