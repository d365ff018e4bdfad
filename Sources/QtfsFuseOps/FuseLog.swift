// Log lines about requests. Where they go is decided once, by the program's
// LoggingSystem.bootstrap (qtfs-fuse: Logging.swift); the level is shared with qtinfo -l.
import Logging
import QtfsControl

public enum FuseLog {
    /// Shared with qtinfo -l. Failed requests are logged at DEBUG.
    public static let level = LogLevelHandle(.warning)
    /// Made on first use, after the program bootstrapped the logging system.
    public static let logger = Logger(label: "qtfs-fuse")

    static func requestFailed(_ op: FuseOp, _ errno: Int32) {
        guard level.loggerLevel.map({ $0 <= .debug }) == true else { return }
        logger.debug("request failed", metadata: ["fuse.op": "\(op)", "req.errno": "\(ErrnoNames.name(errno))"])
    }
}
