// Little-endian primitive encoding shared by every message of wire protocol v1.
// Strings are a u16 byte count then the bytes (no NUL); blobs are a u32 count then
// the bytes. Every read is bounds-checked before it touches memory.

/// Why a payload could not be decoded. Each case maps to the errno the server
/// answers with (see docs/protocol.md, "Errors").
public enum WireError: Error, Equatable, Sendable {
    case truncated(field: String)
    case tooLong(field: String, length: Int, limit: Int)
    case invalid(field: String)
    case trailingBytes(Int)

    public var errno: Int32 {
        switch self {
        case .tooLong(let field, _, _) where field == "path" || field == "name": return LinuxErrno.ENAMETOOLONG
        case .invalid: return LinuxErrno.EINVAL
        default: return LinuxErrno.EPROTO
        }
    }
}

/// Appends fields to a byte buffer. When `trace` is on, each field is also recorded with
/// its label so the test-vector generator can annotate bytes. Labels are autoclosures:
/// built only when tracing, never on the hot path (interpolating an enum uses reflection).
public struct WireWriter {
    public private(set) var bytes: [UInt8]
    public var trace: [(label: String, range: Range<Int>)]? = nil

    public init(capacity: Int = 256, tracing: Bool = false) {
        bytes = []
        bytes.reserveCapacity(capacity)
        if tracing { trace = [] }
    }

    @inline(__always)
    private mutating func note(_ label: () -> String, from start: Int) {
        if trace != nil { trace!.append((label(), start..<bytes.count)) }
    }

    public mutating func u8(_ v: UInt8, _ label: @autoclosure () -> String = "") {
        let s = bytes.count; bytes.append(v); note(label, from: s)
    }
    public mutating func u16(_ v: UInt16, _ label: @autoclosure () -> String = "") {
        let s = bytes.count
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
        note(label, from: s)
    }
    public mutating func u32(_ v: UInt32, _ label: @autoclosure () -> String = "") {
        let s = bytes.count
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
        note(label, from: s)
    }
    public mutating func u64(_ v: UInt64, _ label: @autoclosure () -> String = "") {
        let s = bytes.count
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
        note(label, from: s)
    }
    public mutating func i32(_ v: Int32, _ label: @autoclosure () -> String = "") { u32(UInt32(bitPattern: v), label()) }
    public mutating func i64(_ v: Int64, _ label: @autoclosure () -> String = "") { u64(UInt64(bitPattern: v), label()) }

    public mutating func string(_ v: String, _ label: @autoclosure () -> String = "") {
        var utf8 = Array(v.utf8)
        if utf8.count > Int(UInt16.max) { utf8 = Array(utf8.prefix(Int(UInt16.max))) }
        let s = bytes.count
        withUnsafeBytes(of: UInt16(utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: utf8)
        note(label, from: s)
    }
    /// A u16-length byte string: file names and paths travel as bytes, since Linux names
    /// need not be valid UTF-8.
    public mutating func bytes16(_ v: [UInt8], _ label: @autoclosure () -> String = "") {
        let s = bytes.count
        let n = min(v.count, Int(UInt16.max))
        withUnsafeBytes(of: UInt16(n).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: v.prefix(n))
        note(label, from: s)
    }
    public mutating func blob(_ v: [UInt8], _ label: @autoclosure () -> String = "") {
        let s = bytes.count
        withUnsafeBytes(of: UInt32(v.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: v)
        note(label, from: s)
    }
    /// Raw bytes with no length prefix (the tail of READ responses and WRITE requests).
    public mutating func raw<C: Collection>(_ v: C, _ label: @autoclosure () -> String = "") where C.Element == UInt8 {
        let s = bytes.count; bytes.append(contentsOf: v); note(label, from: s)
    }
    public mutating func patchU32(at offset: Int, _ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { src in
            for i in 0..<4 { bytes[offset + i] = src[i] }
        }
    }
}

/// Reads fields from a payload; throws `WireError` instead of ever reading past the end.
public struct WireReader {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset: Int = 0

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public var remaining: Int { bytes.count - offset }

    @inline(__always)
    private mutating func take(_ n: Int, _ field: @autoclosure () -> String) throws(WireError) -> Int {
        guard n <= remaining else { throw WireError.truncated(field: field()) }
        let at = offset
        offset += n
        return at
    }

    public mutating func u8(_ field: @autoclosure () -> String) throws(WireError) -> UInt8 {
        let at = try take(1, field()); return bytes[at]
    }
    public mutating func u16(_ field: @autoclosure () -> String) throws(WireError) -> UInt16 {
        let at = try take(2, field())
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }
    public mutating func u32(_ field: @autoclosure () -> String) throws(WireError) -> UInt32 {
        let at = try take(4, field())
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }
    public mutating func u64(_ field: @autoclosure () -> String) throws(WireError) -> UInt64 {
        let at = try take(8, field())
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }
    public mutating func i32(_ field: @autoclosure () -> String) throws(WireError) -> Int32 { Int32(bitPattern: try u32(field())) }
    public mutating func i64(_ field: @autoclosure () -> String) throws(WireError) -> Int64 { Int64(bitPattern: try u64(field())) }

    /// A length-prefixed string of at most `limit` bytes with no NUL inside.
    public mutating func string(_ field: @autoclosure () -> String, limit: Int) throws(WireError) -> String {
        let n = Int(try u16(field()))
        guard n <= limit else { throw WireError.tooLong(field: field(), length: n, limit: limit) }
        let at = try take(n, field())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[at..<(at + n)])
        if slice.contains(0) { throw WireError.invalid(field: field()) }
        return String(decoding: slice, as: UTF8.self)
    }
    /// A u16-length byte string of at most `limit` bytes with no NUL inside (names, paths).
    public mutating func bytes16(_ field: @autoclosure () -> String, limit: Int) throws(WireError) -> [UInt8] {
        let n = Int(try u16(field()))
        guard n <= limit else { throw WireError.tooLong(field: field(), length: n, limit: limit) }
        let at = try take(n, field())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[at..<(at + n)])
        if slice.contains(0) { throw WireError.invalid(field: field()) }
        return Array(slice)
    }
    /// Exactly `n` bytes with no length prefix (nonces, proofs).
    public mutating func fixed(_ n: Int, _ field: @autoclosure () -> String) throws(WireError) -> [UInt8] {
        let at = try take(n, field())
        return Array(bytes[at..<(at + n)])
    }
    public mutating func blob(_ field: @autoclosure () -> String, limit: Int) throws(WireError) -> [UInt8] {
        let n = Int(try u32(field()))
        guard n <= limit else { throw WireError.tooLong(field: field(), length: n, limit: limit) }
        let at = try take(n, field())
        return Array(bytes[at..<(at + n)])
    }
    /// Everything left in the payload (READ response data, WRITE request data).
    public mutating func rest() -> UnsafeRawBufferPointer {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset...])
        offset = bytes.count
        return slice
    }
    public func expectEnd() throws(WireError) {
        if remaining != 0 { throw WireError.trailingBytes(remaining) }
    }
}
