// The command line as ArgumentParser can parse it. Upstream's `-z [TYPE]` (getopt "z::":
// the type attached, -zopen, or none at all): -z alone becomes `-z all`, -zTYPE `-z TYPE`.
enum Arguments {
    static let allTypes = "all"

    static func normalize(_ args: [String]) -> [String] {
        // The root's -c (clear) would take ping's -c (count): spell the latter out.
        if args.first == "ping" { return args.map { $0 == "-c" ? "--count" : $0 } }
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
