// The remote programs running on this server, for qtinfo and the logs.
import Glibc
import Logging
import QtfsSystem
import Synchronization

public enum RexecRegistry {
    public final class Entry: @unchecked Sendable {
        public let id: UInt64
        public let peer: String
        public let dpuPid: UInt32
        public let hostPid: Int32
        public let program: String
        public let uid: UInt32
        public let started: Double   // CLOCK_REALTIME seconds
        public let bytesIn = Counter(), bytesOut = Counter()
        init(id: UInt64, peer: String, dpuPid: UInt32, hostPid: Int32, program: String, uid: UInt32) {
            self.id = id; self.peer = peer; self.dpuPid = dpuPid; self.hostPid = hostPid
            self.program = program; self.uid = uid
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            started = Double(ts.tv_sec)
        }
        var metadata: Logger.Metadata {
            ["conn.peer": "\(peer)", "rexec.program": "\(program)", "rexec.uid": "\(uid)",
             "rexec.host_pid": "\(hostPid)", "rexec.dpu_pid": "\(dpuPid)"]
        }
    }

    public final class Counter: @unchecked Sendable {
        private let value = Atomic<UInt64>(0)
        func add(_ n: UInt64) { value.add(n, ordering: .relaxed) }
        func set(_ n: UInt64) { value.store(n, ordering: .relaxed) }
        public var current: UInt64 { value.load(ordering: .relaxed) }
    }

    private static let lock = Lock()
    nonisolated(unsafe) private static var entries: [UInt64: Entry] = [:]
    nonisolated(unsafe) private static var nextId: UInt64 = 1

    static func add(peer: String, dpuPid: UInt32, hostPid: Int32, program: String, uid: UInt32) -> Entry {
        lock.withLock {
            let e = Entry(id: nextId, peer: peer, dpuPid: dpuPid, hostPid: hostPid, program: program, uid: uid)
            nextId += 1
            entries[e.id] = e
            return e
        }
    }

    static func remove(_ e: Entry) { lock.withLock { entries[e.id] = nil } }

    /// The running programs, oldest first.
    public static var running: [Entry] { lock.withLock { entries.values.sorted { $0.id < $1.id } } }
}
