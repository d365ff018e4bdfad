// Upstream's `-z [TYPE]` (getopt "z::": the type attached, -zopen, or none at all) in a
// form ArgumentParser parses: -z alone becomes `-z all`, -zTYPE becomes `-z TYPE`.
enum Arguments {
    static let allTypes = "all"

    static func normalize(_ args: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--" { out += args[i...]; break }
            if a == "-z" || a == "--whitelist-list" {
                out.append(a)
                let next = i + 1 < args.count ? args[i + 1] : nil
                if next == nil || next!.hasPrefix("-") { out.append(allTypes) }
            } else if a.hasPrefix("-z") && !a.hasPrefix("-z=") {
                out += ["-z", String(a.dropFirst(2))]
            } else {
                out.append(a)
            }
            i += 1
        }
        return out
    }
}
