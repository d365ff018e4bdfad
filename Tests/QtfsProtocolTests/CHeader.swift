import Foundation

/// The `#define`s and enum constants of a C header, as far as a protocol header uses them:
/// integer expressions (decimal or hex literals with u/l suffixes, earlier names, + - * << >> |
/// and parentheses) and string literals. Used by HeaderDriftTests to read
/// include/qtfs/qtfs_wire.h the way the compiler does, so the test needs no generated file.
struct CHeader {
    var integers: [String: UInt64] = [:]
    var strings: [String: String] = [:]
    /// Definitions whose value is neither: the test reports them instead of ignoring them.
    var unreadable: [String: String] = [:]
    /// Names in the order they appear (enum constants included).
    var order: [String] = []

    static var repositoryRoot: String {
        // Tests/QtfsProtocolTests/CHeader.swift -> the repository
        "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
    }

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try self.init(text: text)
    }

    init(text: String) throws {
        let code = CHeader.strippingComments(text)
        for line in code.split(separator: "\n") where line.hasPrefix("#define ") {
            define(String(line.dropFirst("#define ".count)))
        }
        for body in CHeader.enumBodies(code) { try enumerate(body) }
    }

    private mutating func define(_ rest: String) {
        let parts = rest.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" })
        guard let name = parts.first.map(String.init), !name.contains("("), parts.count == 2 else { return }
        let value = parts[1].trimmingCharacters(in: .whitespaces)
        order.append(name)
        if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
            strings[name] = String(value.dropFirst().dropLast())
        } else if let n = try? evaluate(value) {
            integers[name] = n
        } else {
            unreadable[name] = value
        }
    }

    /// `A = 1, B, C = A + 4`: a constant without a value is the previous one plus one.
    private mutating func enumerate(_ body: String) throws {
        var next: UInt64 = 0
        for item in body.split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            guard let name = pair.first, !name.isEmpty else { continue }
            let value = pair.count == 2 ? try evaluate(pair[1]) : next
            integers[name] = value
            order.append(name)
            next = value &+ 1
        }
    }

    func evaluate(_ expression: String) throws -> UInt64 {
        var parser = ExpressionParser(tokens: try ExpressionParser.tokenize(expression), names: integers)
        let value = try parser.expression()
        guard parser.atEnd else { throw HeaderError.unreadable(expression) }
        return value
    }

    static func strippingComments(_ text: String) -> String {
        var out = "", rest = Substring(text)
        while let start = rest.range(of: "/*") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].range(of: "*/") else { return out }
            rest = rest[end.upperBound...]
        }
        out += rest
        return out.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.range(of: "//").map { String(line[..<$0.lowerBound]) } ?? String(line) }
            .joined(separator: "\n")
    }

    /// The text between the braces of every `enum name { ... }`.
    static func enumBodies(_ code: String) -> [String] {
        var bodies: [String] = [], rest = Substring(code)
        while let e = rest.range(of: "enum "), let open = rest[e.upperBound...].firstIndex(of: "{"),
              let close = rest[open...].firstIndex(of: "}") {
            bodies.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return bodies
    }
}

enum HeaderError: Error, CustomStringConvertible {
    case unreadable(String)
    var description: String {
        switch self { case .unreadable(let s): return "cannot evaluate C expression '\(s)'" }
    }
}

/// Recursive descent over | , << >> , + - , * and primaries (literals, names, parentheses).
private struct ExpressionParser {
    var tokens: [String]
    let names: [String: UInt64]
    var at = 0
    var atEnd: Bool { at == tokens.count }

    static func tokenize(_ s: String) throws -> [String] {
        var tokens: [String] = [], chars = Array(s), i = 0
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" { i += 1; continue }
            if c.isLetter || c.isNumber || c == "_" {
                var j = i
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
                tokens.append(String(chars[i..<j])); i = j
            } else if (c == "<" || c == ">"), i + 1 < chars.count, chars[i + 1] == c {
                tokens.append(String([c, c])); i += 2
            } else if "+-*|()".contains(c) {
                tokens.append(String(c)); i += 1
            } else {
                throw HeaderError.unreadable(s)
            }
        }
        return tokens
    }

    mutating func expression() throws -> UInt64 {
        var v = try shift()
        while take("|") { v |= try shift() }
        return v
    }
    mutating func shift() throws -> UInt64 {
        var v = try sum()
        while true {
            if take("<<") { v <<= try sum() } else if take(">>") { v >>= try sum() } else { return v }
        }
    }
    mutating func sum() throws -> UInt64 {
        var v = try product()
        while true {
            if take("+") { v &+= try product() } else if take("-") { v &-= try product() } else { return v }
        }
    }
    mutating func product() throws -> UInt64 {
        var v = try primary()
        while take("*") { v &*= try primary() }
        return v
    }
    mutating func primary() throws -> UInt64 {
        guard at < tokens.count else { throw HeaderError.unreadable(tokens.joined(separator: " ")) }
        let t = tokens[at]
        at += 1
        if t == "(" {
            let v = try expression()
            guard take(")") else { throw HeaderError.unreadable(tokens.joined(separator: " ")) }
            return v
        }
        if let v = names[t] { return v }
        return try ExpressionParser.literal(t)
    }
    mutating func take(_ t: String) -> Bool {
        guard at < tokens.count, tokens[at] == t else { return false }
        at += 1
        return true
    }

    static func literal(_ t: String) throws -> UInt64 {
        var digits = Substring(t)
        while let last = digits.last, "uUlL".contains(last) { digits = digits.dropLast() }
        let hex = digits.hasPrefix("0x") || digits.hasPrefix("0X")
        guard let v = hex ? UInt64(digits.dropFirst(2), radix: 16) : UInt64(digits, radix: 10) else {
            throw HeaderError.unreadable(t)
        }
        return v
    }
}
