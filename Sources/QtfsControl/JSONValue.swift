// JSON for the control protocol without Foundation: a value tree, its compact text (keys
// sorted, "/" not escaped: what JSONEncoder wrote with .sortedKeys, .withoutEscapingSlashes)
// and a parser for what a control client sends. Linked statically, FoundationEssentials
// made qtfs-fuse 10 MB larger (26 MB instead of 16; Package.swift) for these few bytes.

public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number as written, decoded on demand into the type asked for.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Compact JSON text.
    public var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): JSONValue.quote(s, into: &out)
        case .array(let items):
            out += "["
            for (i, v) in items.enumerated() {
                if i > 0 { out += "," }
                v.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, key) in members.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                JSONValue.quote(key, into: &out)
                out += ":"
                members[key]!.write(to: &out)
            }
            out += "}"
        }
    }

    private static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}

public struct JSONError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

extension JSONValue {
    /// Parses one JSON document (RFC 8259), nested at most `maxDepth` deep.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 32) throws -> JSONValue {
        var p = JSONParser(bytes: bytes, maxDepth: maxDepth)
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.at == bytes.count else { throw JSONError("trailing bytes after the JSON document at offset \(p.at)") }
        return v
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    let maxDepth: Int
    var at = 0

    mutating func skipSpace() {
        while at < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[at]) { at += 1 }
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard depth <= maxDepth else { throw JSONError("JSON nested deeper than \(maxDepth)") }
        skipSpace()
        guard at < bytes.count else { throw JSONError("JSON document ends early") }
        switch bytes[at] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try number())
        }
    }

    mutating func literal(_ word: String) throws {
        let w = Array(word.utf8)
        guard bytes[at...].starts(with: w) else { throw JSONError("unexpected bytes at offset \(at)") }
        at += w.count
    }

    mutating func expect(_ c: Character) throws {
        skipSpace()
        guard at < bytes.count, bytes[at] == c.asciiValue! else { throw JSONError("expected '\(c)' at offset \(at)") }
        at += 1
    }

    /// True (and consumed) when the next byte closes the container.
    mutating func closes(_ c: Character) -> Bool {
        skipSpace()
        guard at < bytes.count, bytes[at] == c.asciiValue! else { return false }
        at += 1
        return true
    }

    mutating func object(depth: Int) throws -> JSONValue {
        at += 1
        var members: [String: JSONValue] = [:]
        if closes("}") { return .object(members) }
        while true {
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw JSONError("expected a member name at offset \(at)") }
            let key = try string()
            try expect(":")
            members[key] = try value(depth: depth + 1)
            if closes("}") { return .object(members) }
            try expect(",")
        }
    }

    mutating func array(depth: Int) throws -> JSONValue {
        at += 1
        var items: [JSONValue] = []
        if closes("]") { return .array(items) }
        while true {
            items.append(try value(depth: depth + 1))
            if closes("]") { return .array(items) }
            try expect(",")
        }
    }

    mutating func number() throws -> String {
        let start = at
        while at < bytes.count, "+-0123456789.eE".utf8.contains(bytes[at]) { at += 1 }
        let text = String(decoding: bytes[start..<at], as: UTF8.self)
        guard Double(text) != nil, text.first != "+" else { throw JSONError("not a JSON value at offset \(start)") }
        return text
    }

    mutating func string() throws -> String {
        at += 1
        var scalars = String.UnicodeScalarView()
        var run: [UInt8] = []   // unescaped UTF-8 bytes since the last escape
        func flush() { scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars); run.removeAll() }
        while at < bytes.count {
            let b = bytes[at]
            at += 1
            switch b {
            case UInt8(ascii: "\""): flush(); return String(scalars)
            case UInt8(ascii: "\\"): flush(); scalars.append(try escape())
            case 0..<0x20: throw JSONError("control byte in a JSON string at offset \(at - 1)")
            default: run.append(b)
            }
        }
        throw JSONError("unterminated JSON string")
    }

    mutating func escape() throws -> Unicode.Scalar {
        guard at < bytes.count else { throw JSONError("unterminated JSON string") }
        let c = bytes[at]
        at += 1
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return Unicode.Scalar(c)
        case UInt8(ascii: "b"): return "\u{8}"
        case UInt8(ascii: "f"): return "\u{c}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"): return try unicodeEscape()
        default: throw JSONError("bad escape in a JSON string at offset \(at - 1)")
        }
    }

    /// \uXXXX, with a following \uXXXX when the first is a high surrogate.
    mutating func unicodeEscape() throws -> Unicode.Scalar {
        let first = try hex4()
        if (0xD800..<0xDC00).contains(first), bytes[at...].starts(with: Array("\\u".utf8)) {
            at += 2
            let second = try hex4()
            if (0xDC00..<0xE000).contains(second),
               let s = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)) { return s }
        }
        guard let s = Unicode.Scalar(first) else { throw JSONError("lone surrogate in a JSON string at offset \(at)") }
        return s
    }

    mutating func hex4() throws -> UInt32 {
        guard at + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16)
        else { throw JSONError("bad \\u escape at offset \(at)") }
        at += 4
        return v
    }
}
