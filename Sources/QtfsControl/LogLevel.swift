// Log levels changed at run time. Every logger of a component shares one LogLevelHandle
// through ControlledLogHandler, so `qtinfo -l DEBUG` takes effect on the next log call
// everywhere, without restarting or dropping connections.
import Logging
import Synchronization

/// Upstream qtfs's level names (qtinfo -l), plus TRACE for swift-log's finest level.
public enum QtfsLogLevel: String, CaseIterable, Sendable {
    case none = "NONE", error = "ERROR", warn = "WARN", info = "INFO", debug = "DEBUG", trace = "TRACE"

    /// Case-insensitive; nil for anything else.
    public init?(name: String) { self.init(rawValue: name.uppercased()) }

    public static let namesForHelp = "NONE, ERROR, WARN, INFO, DEBUG or TRACE"

    /// The swift-log level; nil = nothing is logged.
    public var loggerLevel: Logger.Level? {
        switch self {
        case .none: return nil
        case .error: return .error
        case .warn: return .warning
        case .info: return .info
        case .debug: return .debug
        case .trace: return .trace
        }
    }

    public init(_ level: Logger.Level) {
        switch level {
        case .trace: self = .trace
        case .debug: self = .debug
        case .info, .notice: self = .info
        case .warning: self = .warn
        case .error, .critical: self = .error
        }
    }
}

public final class LogLevelHandle: Sendable {
    private static let off: UInt8 = 255
    private let raw: Atomic<UInt8>

    public init(_ level: Logger.Level) { raw = Atomic(LogLevelHandle.encode(level)) }

    /// The swift-log level in effect; nil when logging is off (NONE).
    public var loggerLevel: Logger.Level? {
        let r = raw.load(ordering: .relaxed)
        return r == LogLevelHandle.off ? nil : Logger.Level.allCases[Int(r)]
    }

    public var level: QtfsLogLevel { loggerLevel.map(QtfsLogLevel.init) ?? .none }

    public func set(_ level: QtfsLogLevel) { raw.store(level.loggerLevel.map(LogLevelHandle.encode) ?? LogLevelHandle.off, ordering: .relaxed) }
    public func set(_ level: Logger.Level) { raw.store(LogLevelHandle.encode(level), ordering: .relaxed) }

    private static func encode(_ l: Logger.Level) -> UInt8 { UInt8(Logger.Level.allCases.firstIndex(of: l)!) }
}

/// A stderr log handler whose level is the shared handle's.
public struct ControlledLogHandler: LogHandler {
    private var inner: StreamLogHandler
    private let handle: LogLevelHandle

    public init(label: String, handle: LogLevelHandle) {
        inner = StreamLogHandler.standardError(label: label)
        inner.logLevel = .trace   // the handle filters
        self.handle = handle
    }

    /// Setting it sets the level for the whole component.
    public var logLevel: Logger.Level {
        get { handle.loggerLevel ?? .critical }
        set { handle.set(newValue) }
    }

    public func log(event: LogEvent) {
        guard handle.loggerLevel != nil else { return }   // NONE: even critical stays quiet
        inner.log(event: event)
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    /// Installs the handler for every logger of this process.
    public static func bootstrap(_ handle: LogLevelHandle) {
        LoggingSystem.bootstrap { ControlledLogHandler(label: $0, handle: handle) }
    }
}
