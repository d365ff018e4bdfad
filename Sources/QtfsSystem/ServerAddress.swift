// A server's address as people write it: "HOST", "HOST:PORT", "[V6]" or "[V6]:PORT".
import QtfsProtocol

public struct ServerAddress: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    public init(host: String, port: UInt16) { self.host = host; self.port = port }

    /// "HOST", "HOST:PORT", "[V6]" or "[V6]:PORT".
    public static func parse(_ s: String, defaultPort: UInt16 = Wire.defaultPort) -> ServerAddress? {
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return nil }
            let host = String(s[s.index(after: s.startIndex)..<close])
            let rest = s[s.index(after: close)...]
            if rest.isEmpty { return ServerAddress(host: host, port: defaultPort) }
            guard rest.hasPrefix(":"), let p = UInt16(rest.dropFirst()) else { return nil }
            return ServerAddress(host: host, port: p)
        }
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 1, !s.isEmpty { return ServerAddress(host: s, port: defaultPort) }
        guard parts.count == 2, !parts[0].isEmpty, let p = UInt16(parts[1]), p != 0 else { return nil }
        return ServerAddress(host: String(parts[0]), port: p)
    }
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
