// The whitelist as qtinfo's control endpoint sees it (QtfsControl.WhitelistControl):
// lower-case type names as on qtinfo's command line, entries numbered within their type.
import QtfsControl

extension Whitelist: WhitelistControl {
    static func kind(named name: String) throws -> Kind {
        guard let k = Kind.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
            throw ControlError("unknown whitelist type '\(name)'; use one of \(Kind.allCases.map { $0.rawValue.lowercased() }.joined(separator: ", "))")
        }
        return k
    }

    public func list(type: String?) throws -> [WhitelistEntry] {
        let only = try type.map(Whitelist.kind(named:))
        var perKind: [Kind: Int] = [:]
        return list().compactMap { e in
            let i = perKind[e.kind, default: 0]
            perKind[e.kind] = i + 1
            guard only == nil || only == e.kind else { return nil }
            return WhitelistEntry(type: e.kind.rawValue.lowercased(), index: i, path: e.path)
        }
    }

    public func add(type: String, path: String) throws {
        do { try add(try Whitelist.kind(named: type), path) } catch let e as ConfigError { throw ControlError(e.description) }
    }

    public func remove(type: String, index: Int) throws {
        let kind = try Whitelist.kind(named: type)
        let ofKind = list().filter { $0.kind == kind }
        guard ofKind.indices.contains(index) else {
            throw ControlError("no \(type) whitelist entry \(index); list them with qtinfo -z \(type)")
        }
        try remove(index: ofKind[index].index)
    }
}
