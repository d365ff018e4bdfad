// Encodable values as JSONValue trees (JSONValue.swift says why not JSONEncoder). Nil
// optionals are left out, as JSONEncoder does. One generic method per container stands
// for all the per-type requirements of the Codable protocols.

extension JSONValue {
    public init<T: Encodable>(encoding value: T) throws {
        let root = EncodingNode()
        try root.set(value, codingPath: [])
        self = root.json
    }

    /// Strings, booleans and numbers; nil for values that encode themselves.
    static func primitive(_ v: Any, codingPath: [CodingKey]) throws -> JSONValue? {
        switch v {
        case let s as String: return .string(s)
        case let b as Bool: return .bool(b)
        case let i as any BinaryInteger: return .number("\(i)")
        case let d as Double: return try number(d, codingPath)
        case let f as Float: return try number(Double(f), codingPath)
        default: return nil
        }
    }

    private static func number(_ d: Double, _ codingPath: [CodingKey]) throws -> JSONValue {
        guard d.isFinite else {
            throw EncodingError.invalidValue(d, .init(codingPath: codingPath, debugDescription: "JSON has no \(d)"))
        }
        return .number(d == d.rounded() && abs(d) < 1e15 ? "\(Int64(d))" : "\(d)")
    }
}

/// A value being encoded; containers fill it in place, so nested ones can come later.
final class EncodingNode {
    enum Content { case leaf(JSONValue), object([String: EncodingNode]), array([EncodingNode]) }
    var content = Content.object([:])   // a value that encodes nothing is {}

    var json: JSONValue {
        switch content {
        case .leaf(let v): return v
        case .object(let members): return .object(members.mapValues(\.json))
        case .array(let items): return .array(items.map(\.json))
        }
    }

    func set<T: Encodable>(_ value: T, codingPath: [CodingKey]) throws {
        if let leaf = try JSONValue.primitive(value, codingPath: codingPath) {
            content = .leaf(leaf)
        } else {
            try value.encode(to: NodeEncoder(node: self, codingPath: codingPath))
        }
    }

    func member(_ key: String) -> EncodingNode {
        var members: [String: EncodingNode] = [:]
        if case .object(let m) = content { members = m }
        let node = members[key] ?? EncodingNode()
        members[key] = node
        content = .object(members)
        return node
    }

    func appended() -> EncodingNode {
        var items: [EncodingNode] = []
        if case .array(let a) = content { items = a }
        let node = EncodingNode()
        content = .array(items + [node])
        return node
    }

    var count: Int {
        if case .array(let a) = content { return a.count }
        return 0
    }
}

struct NodeEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.content {} else { node.content = .object([:]) }
        return KeyedEncodingContainer(KeyedNodeContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return UnkeyedNodeContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { SingleNodeContainer(node: node, codingPath: codingPath) }
}

struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [CodingKey]

    func encoder(_ key: Key) -> NodeEncoder { NodeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]) }
    mutating func encodeNil(forKey key: Key) throws { node.member(key.stringValue).content = .leaf(.null) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try node.member(key.stringValue).set(value, codingPath: codingPath + [key])
    }
    mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> {
        encoder(key).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer { encoder(key).unkeyedContainer() }
    mutating func superEncoder() -> Encoder { NodeEncoder(node: node.member("super"), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> Encoder { encoder(key) }
}

struct UnkeyedNodeContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [CodingKey]
    var count: Int { node.count }

    func encoder() -> NodeEncoder { NodeEncoder(node: node.appended(), codingPath: codingPath) }
    mutating func encodeNil() throws { node.appended().content = .leaf(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws { try node.appended().set(value, codingPath: codingPath) }
    mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) -> KeyedEncodingContainer<N> {
        encoder().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer { encoder().unkeyedContainer() }
    mutating func superEncoder() -> Encoder { encoder() }
}

struct SingleNodeContainer: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [CodingKey]

    mutating func encodeNil() throws { node.content = .leaf(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws { try node.set(value, codingPath: codingPath) }
}
