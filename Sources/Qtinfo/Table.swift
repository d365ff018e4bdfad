// Aligned text tables and the units people read in them.
#if canImport(Glibc)
import Glibc
#endif

struct Table {
    let headers: [String]
    private(set) var rows: [[String]] = []
    /// Columns aligned to the right (numbers).
    var rightAligned: Set<Int> = []

    init(_ headers: [String], rightAligned: Set<Int> = []) { self.headers = headers; self.rightAligned = rightAligned }

    mutating func add(_ row: [String]) { rows.append(row) }

    /// Two spaces between columns, no trailing blanks; every line indented by `indent`.
    func render(indent: String = "") -> String {
        let all = [headers] + rows
        let widths = headers.indices.map { i in all.map { i < $0.count ? $0[i].count : 0 }.max() ?? 0 }
        return all.map { row in
            let cells = headers.indices.map { i -> String in
                let s = i < row.count ? row[i] : ""
                let pad = String(repeating: " ", count: widths[i] - s.count)
                return rightAligned.contains(i) ? pad + s : (i == headers.count - 1 ? s : s + pad)
            }
            return indent + cells.joined(separator: "  ").trailingSpacesRemoved + "\n"
        }.joined()
    }
}

enum Units {
    /// 850ns, 42us, 1.5ms, 2.0s.
    static func duration(nanos: UInt64) -> String {
        switch nanos {
        case ..<1_000: return "\(nanos)ns"
        case ..<1_000_000: return "\(nanos / 1_000)us"
        case ..<1_000_000_000: return oneDecimal(Double(nanos) / 1e6) + "ms"
        default: return oneDecimal(Double(nanos) / 1e9) + "s"
        }
    }

    /// 45s, 12m03s, 5h02m, 3d04h.
    static func uptime(seconds: Double) -> String {
        let s = Int(seconds)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + two(s % 60) + "s" }
        if s < 86400 { return "\(s / 3600)h" + two(s / 60 % 60) + "m" }
        return "\(s / 86400)d" + two(s / 3600 % 24) + "h"
    }

    /// A Unix time as the local time of day, 14:03:07.
    static func clock(unixTime: Double) -> String {
        var t = time_t(unixTime), parts = tm()
        localtime_r(&t, &parts)
        return "\(two(Int(parts.tm_hour))):\(two(Int(parts.tm_min))):\(two(Int(parts.tm_sec)))"
    }

    /// 512B, 1.5KiB, 20.0MiB, 3.2GiB.
    static func bytes(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(n)B" : oneDecimal(v) + units[i]
    }

    private static func oneDecimal(_ v: Double) -> String {
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}

extension String {
    var trailingSpacesRemoved: String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

func printError(_ line: String) {
    fputs(line + "\n", stderr)
}
