import ArgumentParser
import QtfsProtocol

enum ServerAddress {
    /// "HOST" or "HOST:PORT" (IPv4 or a name resolvable by getaddrinfo).
    static func parse(_ text: String) throws -> (String, UInt16) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return (text, Wire.defaultPort)
        case 2:
            guard let port = UInt16(parts[1]), port > 0 else {
                throw ValidationError("'\(parts[1])' is not a port number (1-65535) in --server \(text)")
            }
            return (String(parts[0]), port)
        default:
            throw ValidationError("--server takes HOST or HOST:PORT, not '\(text)'")
        }
    }
}
