// Decodable values from JSONValue trees (JSONValue.swift says why not JSONDecoder). As in
// JSONEncoding.swift, one generic method per container stands for the per-type ones.

extension JSONValue {
    public func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONValue.decode(type, from: self, codingPath: []) }

    static func decode<T: Decodable>(_ type: T.Type, from v: JSONValue, codingPath: [CodingKey]) throws -> T {
        func mismatch(_ expected: String) -> DecodingError {
            .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "expected \(expected), found \(v.text.prefix(40))"))
        }
        if type == String.self {
            guard case .string(let s) = v else { throw mismatch("a string") }
            return s as! T
        }
        if type == Bool.self {
            guard case .bool(let b) = v else { throw mismatch("true or false") }
            return b as! T
        }
        if let integer = type as? any FixedWidthInteger.Type {
            guard case .number(let n) = v, let i = parseInteger(integer, n) else { throw mismatch("an integer in range") }
            return i as! T
        }
        if type == Double.self || type == Float.self {
            guard case .number(let n) = v, let d = Double(n) else { throw mismatch("a number") }
            return (type == Float.self ? Float(d) as Any : d) as! T
        }
        return try T(from: ValueDecoder(value: v, codingPath: codingPath))
    }

    private static func parseInteger<I: FixedWidthInteger>(_ type: I.Type, _ text: String) -> I? { I(text) }
}

struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch([String: JSONValue].self, "an object") }
        return KeyedDecodingContainer(KeyedValueContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch([JSONValue].self, "an array") }
        return UnkeyedValueContainer(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { SingleValueContainer(value: value, codingPath: codingPath) }

    private func mismatch(_ type: Any.Type, _ expected: String) -> DecodingError {
        .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "expected \(expected), found \(value.text.prefix(40))"))
    }
}

struct KeyedValueContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let codingPath: [CodingKey]
    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }
    func decodeNil(forKey key: Key) throws -> Bool { try member(key) == .null }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try JSONValue.decode(type, from: member(key), codingPath: codingPath + [key])
    }
    func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
        try decoder(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer { try decoder(key).unkeyedContainer() }
    func superDecoder() throws -> Decoder { ValueDecoder(value: members["super"] ?? .null, codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> Decoder { try decoder(key) }

    private func decoder(_ key: Key) throws -> ValueDecoder { ValueDecoder(value: try member(key), codingPath: codingPath + [key]) }

    private func member(_ key: Key) throws -> JSONValue {
        guard let v = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no member \"\(key.stringValue)\""))
        }
        return v
    }
}

struct UnkeyedValueContainer: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONValue.decode(type, from: next(type), codingPath: codingPath) }
    mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) throws -> KeyedDecodingContainer<N> {
        try ValueDecoder(value: next(type), codingPath: codingPath).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        try ValueDecoder(value: next([JSONValue].self), codingPath: codingPath).unkeyedContainer()
    }
    mutating func superDecoder() throws -> Decoder { ValueDecoder(value: try next(JSONValue.self), codingPath: codingPath) }

    private mutating func next(_ type: Any.Type) throws -> JSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath, debugDescription: "array ends at \(items.count)"))
        }
        defer { currentIndex += 1 }
        return items[currentIndex]
    }
}

struct SingleValueContainer: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [CodingKey]

    func decodeNil() -> Bool { value == .null }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONValue.decode(type, from: value, codingPath: codingPath) }
}
