// The INI-like format of the project's configuration files (docs/server.md, "Config
// file"; docs/client.md, "Client configuration"): `#` comments, blank lines, `[section]`
// lines and `key = value` settings. One reader for the server's and the client's files.
#if canImport(Glibc)
import Glibc
#endif

public enum IniLine: Equatable, Sendable {
    case section(String, at: String)
    case setting(key: String, value: String, at: String)
}

/// A line that is neither a section nor a setting; `description` names file and line.
public struct IniError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

public enum IniText {
    /// The sections and settings of `text`, in order; `at` is "SOURCE:LINE".
    public static func lines(_ text: String, source: String) throws -> [IniLine] {
        var out: [IniLine] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = (raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "").trimmed
            if line.isEmpty { continue }
            let at = "\(source):\(n + 1)"
            if line.hasPrefix("[") && line.hasSuffix("]") {
                out.append(.section(String(line.dropFirst().dropLast()).trimmed, at: at))
            } else if let eq = line.firstIndex(of: "=") {
                out.append(.setting(key: String(line[..<eq]).trimmed, value: String(line[line.index(after: eq)...]).trimmed, at: at))
            } else {
                throw IniError(description: "\(at): expected 'key = value', got '\(line)'")
            }
        }
        return out
    }

    /// `yes`/`no` and their usual spellings.
    public static func bool(_ v: String) -> Bool? {
        switch v.lowercased() {
        case "yes", "true", "1", "on": return true
        case "no", "false", "0", "off": return false
        default: return nil
        }
    }
}

extension String {
    /// Without leading and trailing blanks (space, tab, carriage return).
    public var trimmed: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
