// The optional allow-list of client addresses (`--allow-client`, `allow_clients`):
// exact addresses or CIDR prefixes, IPv4 and IPv6. IPv4-mapped IPv6 peers (a server
// listening on ::) are matched as IPv4.
import Glibc

struct AddressAllowList: Sendable {
    struct Prefix: Sendable, Equatable {
        let bytes: [UInt8]   // 4 or 16
        let length: Int
        func contains(_ addr: [UInt8]) -> Bool {
            guard addr.count == bytes.count else { return false }
            for bit in 0..<length where (addr[bit / 8] ^ bytes[bit / 8]) & (0x80 >> UInt8(bit % 8)) != 0 { return false }
            return true
        }
    }
    let prefixes: [Prefix]
    var isEmpty: Bool { prefixes.isEmpty }

    init(_ specs: [String]) throws {
        prefixes = try specs.map(AddressAllowList.parse)
    }

    static func parse(_ spec: String) throws -> Prefix {
        let parts = spec.split(separator: "/", maxSplits: 1)
        let host = parts.first.map(String.init) ?? ""
        var v4 = in_addr(), v6 = in6_addr()
        let bytes: [UInt8]
        if inet_pton(AF_INET, host, &v4) == 1 {
            bytes = withUnsafeBytes(of: v4) { Array($0) }
        } else if inet_pton(AF_INET6, host, &v6) == 1 {
            bytes = withUnsafeBytes(of: v6) { Array($0) }
        } else {
            throw ConfigError("allowed client '\(spec)' is not an address or prefix; write 192.0.2.7, 10.0.0.0/8 or fd00::/8")
        }
        var length = bytes.count * 8
        if parts.count == 2 {
            guard let n = Int(parts[1]), (0...bytes.count * 8).contains(n) else {
                throw ConfigError("allowed client '\(spec)': prefix length must be 0-\(bytes.count * 8)")
            }
            length = n
        }
        return Prefix(bytes: bytes, length: length)
    }

    /// The peer address as 4 or 16 bytes (IPv4-mapped IPv6 unwrapped).
    static func address(_ ss: sockaddr_storage) -> [UInt8] {
        withUnsafeBytes(of: ss) { raw in
            if Int32(ss.ss_family) == AF_INET { return Array(raw[4..<8]) }
            let a = Array(raw[8..<24])
            if a[0..<10].allSatisfy({ $0 == 0 }) && a[10] == 0xff && a[11] == 0xff { return Array(a[12..<16]) }
            return a
        }
    }

    func allows(_ ss: sockaddr_storage) -> Bool {
        if prefixes.isEmpty { return true }
        let a = AddressAllowList.address(ss)
        return prefixes.contains { $0.contains(a) }
    }
}
