// Live connections of a component as the control endpoint sees them. The owner of a
// connection updates its cell with relaxed atomic adds; the endpoint reads them from its
// own thread. Registering and removing (connect, close) take a lock; traffic does not.
import Synchronization

public enum ConnectionState: UInt8, Sendable {
    case connecting, active, reconnecting, closed
    public var name: String { "\(self)" }
}

public final class ConnectionCell: Sendable {
    public let id: UInt64
    public let peer: String
    let stateRaw = Atomic<UInt8>(ConnectionState.active.rawValue)
    let inFlightCount = Atomic<UInt64>(0)
    let bytesInCount = Atomic<UInt64>(0)
    let bytesOutCount = Atomic<UInt64>(0)
    private let cryptName = Mutex<String?>(nil)

    public init(id: UInt64, peer: String, state: ConnectionState = .active) {
        self.id = id; self.peer = peer
        stateRaw.store(state.rawValue, ordering: .relaxed)
    }

    public var state: ConnectionState {
        get { ConnectionState(rawValue: stateRaw.load(ordering: .relaxed)) ?? .closed }
        set { stateRaw.store(newValue.rawValue, ordering: .relaxed) }
    }
    /// How its frames travel once authenticated: a suite's name, or "none" (qtinfo).
    public var crypt: String? {
        get { cryptName.withLock { $0 } }
        set { cryptName.withLock { $0 = newValue } }
    }
    @inline(__always) public func received(_ n: Int) { bytesInCount.wrappingAdd(UInt64(n), ordering: .relaxed) }
    @inline(__always) public func sent(_ n: Int) { bytesOutCount.wrappingAdd(UInt64(n), ordering: .relaxed) }
    @inline(__always) public func requestStarted() { inFlightCount.wrappingAdd(1, ordering: .relaxed) }
    @inline(__always) public func requestEnded() { inFlightCount.wrappingSubtract(1, ordering: .relaxed) }

    public var report: ConnectionReport {
        ConnectionReport(id: id, peer: peer, state: state.name, requestsInFlight: inFlightCount.load(ordering: .relaxed),
                         bytesIn: bytesInCount.load(ordering: .relaxed), bytesOut: bytesOutCount.load(ordering: .relaxed), crypt: crypt)
    }
}

public final class ConnectionRegistry: Sendable {
    private let cells = Mutex<[UInt64: ConnectionCell]>([:])
    public init() {}

    public func add(_ c: ConnectionCell) { cells.withLock { $0[c.id] = c } }
    public func remove(_ id: UInt64) { _ = cells.withLock { $0.removeValue(forKey: id) } }
    public var reports: [ConnectionReport] { cells.withLock { Array($0.values) }.map(\.report).sorted { $0.id < $1.id } }
}
