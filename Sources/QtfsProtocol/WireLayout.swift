// Each message states its fields once, in wire order, in a `layout` function; the same
// function encodes (run with a WireWriter) and decodes (run with a WireReader), so the
// two directions cannot drift apart (the kernel module's C codec does the same with one
// layout string per message, kmod/qtfs_wire.c).
//
//   public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
//       try c.u64(&handle, "handle"); try c.u32(&size, "bytes wanted")
//       try c.require(size <= UInt32(Wire.maxIOSize), .invalid(field: "size"))
//   }
//
// Encoding runs `layout` on a copy of the value and cannot fail (a WireWriter's Failure
// is Never); decoding runs it on `unfilled`, and each field overwrites its part.

/// One direction of the codec. Labels annotate the test vectors (the writer records them
/// when tracing); they are autoclosures, never built on the hot path. `require` states a
/// rule a decoded value must follow: the reader throws its error, the writer ignores it.
public protocol WireCoder {
    associatedtype Failure: Error
    /// A reader (values come from the bytes) or a writer (values go to them).
    static var decodes: Bool { get }
    /// Bytes left to decode (encoding: Int.max), to bound a count before trusting it.
    var remaining: Int { get }
    mutating func u8(_ v: inout UInt8, _ label: @autoclosure () -> String) throws(Failure)
    mutating func u16(_ v: inout UInt16, _ label: @autoclosure () -> String) throws(Failure)
    mutating func u32(_ v: inout UInt32, _ label: @autoclosure () -> String) throws(Failure)
    mutating func u64(_ v: inout UInt64, _ label: @autoclosure () -> String) throws(Failure)
    /// A u16-length byte string without NUL (names, paths). `quoted`: the trace shows it.
    mutating func bytes16(_ v: inout [UInt8], _ label: @autoclosure () -> String, _ limit: TextLimit,
                          quoted: Bool) throws(Failure)
    /// A u16-length UTF-8 string without NUL.
    mutating func string(_ v: inout String, _ label: @autoclosure () -> String, _ limit: TextLimit,
                         quoted: Bool) throws(Failure)
    /// A u32-length byte string of at most `limit` bytes.
    mutating func blob(_ v: inout [UInt8], _ label: @autoclosure () -> String, limit: Int) throws(Failure)
    /// Exactly `count` bytes, no length (nonces, proofs).
    mutating func fixed(_ v: inout [UInt8], count: Int, _ label: @autoclosure () -> String) throws(Failure)
    /// The rest of the payload, no length (READ answers' and WRITE requests' data).
    mutating func rest(_ v: inout [UInt8], _ label: @autoclosure () -> String) throws(Failure)
    func require(_ rule: @autoclosure () -> Bool, _ error: @autoclosure () -> WireError) throws(Failure)
}

/// The longest a byte string may be, and the field its WireError.tooLong names (a "path"
/// or "name" too long is answered with ENAMETOOLONG, others with EPROTO).
public struct TextLimit: Sendable {
    public var bytes: Int
    public var field: String
    public init(_ bytes: Int, field: String) { self.bytes = bytes; self.field = field }

    public static let path = TextLimit(Wire.maxPath, field: "path")
    public static let name = TextLimit(Wire.maxName, field: "name")
    public static let xattrName = TextLimit(Wire.maxXattrName, field: "name")
}

extension WireCoder {
    public mutating func i64(_ v: inout Int64, _ label: @autoclosure () -> String) throws(Failure) {
        var bits = UInt64(bitPattern: v)
        try u64(&bits, label())
        v = Int64(bitPattern: bits)
    }
    public mutating func bytes16(_ v: inout [UInt8], _ label: @autoclosure () -> String, _ limit: TextLimit) throws(Failure) {
        try bytes16(&v, label(), limit, quoted: false)
    }

    /// `count` elements (their count went on the wire before), each described by `element`;
    /// decoding starts each one from `unfilled`. (Not a requirement: the compiler fails on
    /// a typed-throws closure in a witness whose Failure is Never.)
    public mutating func list<E>(_ v: inout [E], count: Int, unfilled: E,
                                 _ element: (inout Self, inout E) throws(Failure) -> Void) throws(Failure) {
        if Self.decodes {
            var decoded: [E] = []
            decoded.reserveCapacity(min(count, remaining))   // a count is a claim: reserve what could follow
            for _ in 0..<count {
                var e = unfilled
                try element(&self, &e)
                decoded.append(e)
            }
            v = decoded
        } else {
            for i in 0..<min(count, v.count) {
                var e = v[i]
                try element(&self, &e)
            }
        }
    }

    /// A boolean as a u32 that must be 0 or 1.
    public mutating func bool32(_ v: inout Bool, _ label: @autoclosure () -> String, field: String) throws(Failure) {
        var n: UInt32 = v ? 1 : 0
        try u32(&n, label())
        try require(n <= 1, .invalid(field: field))
        v = n == 1
    }
    /// A boolean as a u8 that must be 0 or 1.
    public mutating func bool8(_ v: inout Bool, _ label: @autoclosure () -> String, field: String) throws(Failure) {
        var n: UInt8 = v ? 1 : 0
        try u8(&n, label())
        try require(n <= 1, .invalid(field: field))
        v = n == 1
    }
}

/// A message, or a part of one, described once (see the top of this file).
public protocol WireLayout {
    /// Where decoding starts; `layout` overwrites every field of it.
    static var unfilled: Self { get }
    mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure)
    /// `layout` run by a writer and by a reader. They have the defaults below and are
    /// requirements so that each conforming type gets code specialised for it, which
    /// encode(into:) and init(from:) reach through the conformance even when called
    /// from another module on a concrete type.
    static func writeFields(of v: consuming Self, into w: inout WireWriter)
    static func readFields(from r: inout WireReader) throws(WireError) -> Self
}

extension WireLayout {
    public static func writeFields(of v: consuming Self, into w: inout WireWriter) {
        var v = v   // a move: the value was given, so encoding copies nothing
        v.layout(&w)
    }
    public static func readFields(from r: inout WireReader) throws(WireError) -> Self {
        var v = unfilled
        try v.layout(&r)
        return v
    }
    public consuming func encode(into w: inout WireWriter) { writeThroughConformance(self, &w) }
    public init(from r: inout WireReader) throws(WireError) { self = try readThroughConformance(&r) }
}

// Internal, so that the two methods above stay in this module (cross-module optimisation
// would otherwise copy them into the caller, which can only reach the unspecialised
// `layout`); the conformance's witness then runs this module's specialised code.
func writeThroughConformance<T: WireLayout>(_ v: consuming T, _ w: inout WireWriter) { T.writeFields(of: v, into: &w) }
func readThroughConformance<T: WireLayout>(_ r: inout WireReader) throws(WireError) -> T { try T.readFields(from: &r) }

extension WireWriter: WireCoder {
    public typealias Failure = Never
    public static var decodes: Bool { false }
    public var remaining: Int { Int.max }
    public mutating func u8(_ v: inout UInt8, _ label: @autoclosure () -> String) { u8(v, label()) }
    public mutating func u16(_ v: inout UInt16, _ label: @autoclosure () -> String) { u16(v, label()) }
    public mutating func u32(_ v: inout UInt32, _ label: @autoclosure () -> String) { u32(v, label()) }
    public mutating func u64(_ v: inout UInt64, _ label: @autoclosure () -> String) { u64(v, label()) }
    public mutating func bytes16(_ v: inout [UInt8], _ label: @autoclosure () -> String, _ limit: TextLimit, quoted: Bool) {
        bytes16(v, quoted ? "\(label()) \"\(String(decoding: v, as: UTF8.self))\"" : label())
    }
    public mutating func string(_ v: inout String, _ label: @autoclosure () -> String, _ limit: TextLimit, quoted: Bool) {
        string(v, quoted ? "\(label()) \"\(v)\"" : label())
    }
    public mutating func blob(_ v: inout [UInt8], _ label: @autoclosure () -> String, limit: Int) { blob(v, label()) }
    public mutating func fixed(_ v: inout [UInt8], count: Int, _ label: @autoclosure () -> String) { raw(v, label()) }
    public mutating func rest(_ v: inout [UInt8], _ label: @autoclosure () -> String) { raw(v, label()) }
    public func require(_ rule: @autoclosure () -> Bool, _ error: @autoclosure () -> WireError) {}
}

extension WireReader: WireCoder {
    public typealias Failure = WireError
    public static var decodes: Bool { true }
    public mutating func u8(_ v: inout UInt8, _ label: @autoclosure () -> String) throws(WireError) { v = try u8(label()) }
    public mutating func u16(_ v: inout UInt16, _ label: @autoclosure () -> String) throws(WireError) { v = try u16(label()) }
    public mutating func u32(_ v: inout UInt32, _ label: @autoclosure () -> String) throws(WireError) { v = try u32(label()) }
    public mutating func u64(_ v: inout UInt64, _ label: @autoclosure () -> String) throws(WireError) { v = try u64(label()) }
    public mutating func bytes16(_ v: inout [UInt8], _ label: @autoclosure () -> String, _ limit: TextLimit,
                                 quoted: Bool) throws(WireError) {
        v = try bytes16(limit.field, limit: limit.bytes)
    }
    public mutating func string(_ v: inout String, _ label: @autoclosure () -> String, _ limit: TextLimit,
                                quoted: Bool) throws(WireError) {
        v = try string(limit.field, limit: limit.bytes)
    }
    public mutating func blob(_ v: inout [UInt8], _ label: @autoclosure () -> String, limit: Int) throws(WireError) {
        v = try blob(label(), limit: limit)
    }
    public mutating func fixed(_ v: inout [UInt8], count: Int, _ label: @autoclosure () -> String) throws(WireError) {
        v = try fixed(count, label())
    }
    public mutating func rest(_ v: inout [UInt8], _ label: @autoclosure () -> String) { v = Array(rest()) }
    public func require(_ rule: @autoclosure () -> Bool, _ error: @autoclosure () -> WireError) throws(WireError) {
        if !rule() { throw error() }
    }
}
