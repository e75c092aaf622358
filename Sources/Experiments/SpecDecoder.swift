// A Decoder reading a `SpecNode` tree into a `Decodable` type. It is strict where spec
// files need strictness (a type mismatch names the dotted key and the place the value
// was written; a non-finite number is refused) and records every key the type asked
// for, so that keys nobody asked for can be reported afterwards as unknown.

/// The keys a decoding asked for, by the dotted path of their parent, in asking order.
final class KeyLedger {
    private(set) var asked: [String: [String]] = [:]
    private var seen: Set<String> = []

    func ask(_ key: String, under parent: [String]) {
        let path = (parent + [key]).joined(separator: ".")
        guard seen.insert(path).inserted else { return }
        asked[parent.joined(separator: "."), default: []].append(key)
    }

    func wasAsked(_ path: [String]) -> Bool { seen.contains(path.joined(separator: ".")) }

    /// The first key of `node` (document order, depth first) that the decoding never
    /// asked for, as an error with a near-miss suggestion among its siblings.
    func firstUnknownKey(in node: SpecNode, path: [String] = []) -> SpecError? {
        switch node.content {
        case .scalar:
            return nil
        case let .list(items):
            for (i, item) in items.enumerated() {
                if let error = firstUnknownKey(in: item, path: path + [String(i)]) { return error }
            }
            return nil
        case let .map(entries):
            for entry in entries {
                let childPath = path + [entry.key]
                guard wasAsked(childPath) else {
                    let known = asked[path.joined(separator: ".")] ?? []
                    let dotted = childPath.joined(separator: ".")
                    var hint = known.isEmpty ? "this place takes no keys" : "known keys here: \(known.joined(separator: ", "))"
                    if let guess = nearMiss(entry.key, among: known) {
                        hint = "did you mean `\((path + [guess]).joined(separator: "."))`? " + hint
                    }
                    return SpecError(origin: entry.keyOrigin, key: dotted, message: "unknown key", hint: hint)
                }
                if let error = firstUnknownKey(in: entry.value, path: childPath) { return error }
            }
            return nil
        }
    }
}

struct SpecKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) { stringValue = String(intValue); self.intValue = intValue }
}

struct SpecTreeDecoder: Decoder {
    let node: SpecNode
    let path: [String]
    let ledger: KeyLedger

    var codingPath: [CodingKey] { path.map { SpecKey(stringValue: $0) } }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: String, hint: String) -> SpecError {
        SpecError(origin: node.origin, key: path.joined(separator: "."),
                  message: "expected \(expected), found \(node.shortDescription)", hint: hint)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let entries = node.entries else {
            throw mismatch("a mapping", hint: "write the keys of this section indented below it, as `key: value` lines")
        }
        return KeyedDecodingContainer(KeyedSpecContainer<Key>(decoder: self, entries: entries))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case let .list(items) = node.content else {
            throw mismatch("a list", hint: "write a list as `[a, b]` or as `- a` lines")
        }
        return UnkeyedSpecContainer(decoder: self, items: items)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { self }

    func child(_ node: SpecNode, _ key: String) -> SpecTreeDecoder {
        SpecTreeDecoder(node: node, path: path + [key], ledger: ledger)
    }
}

extension SpecTreeDecoder: SingleValueDecodingContainer {
    /// The text of a scalar that may read as a number or boolean (plain, not null).
    private func plainText(_ expected: String, hint: String) throws -> String {
        guard case let .scalar(text, quoted) = node.content, !quoted, !node.isNull else {
            throw mismatch(expected, hint: hint)
        }
        return text
    }

    func decodeNil() -> Bool { node.isNull }

    func decode(_ type: Bool.Type) throws -> Bool {
        let hint = "write true or false"
        switch try plainText("true or false", hint: hint) {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: throw mismatch("true or false", hint: hint)
        }
    }

    func decode(_ type: String.Type) throws -> String {
        guard case let .scalar(text, _) = node.content, !node.isNull else {
            throw mismatch("text", hint: "write the text; quote it (\"null\") if it reads as null")
        }
        return text
    }

    func decode(_ type: Double.Type) throws -> Double {
        let hint = "write a finite number such as 0.01 or 1e-3"
        let text = try plainText("a number", hint: hint)
        guard let value = Double(text), value.isFinite else { throw mismatch("a finite number", hint: hint) }
        return value
    }

    func decode(_ type: Float.Type) throws -> Float {
        let value = try decode(Double.self)
        let float = Float(value)
        guard float.isFinite else {
            throw mismatch("a number within Float's range", hint: "write a smaller number")
        }
        return float
    }

    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let name = T.isSigned ? "a whole number" : "a whole number ≥ 0"
        let hint = "write digits only, such as 3, within \(T.min)...\(T.max)"
        let text = try plainText(name, hint: hint)
        guard let value = T(text) else { throw mismatch(name, hint: hint) }
        return value
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: self) }
}

struct KeyedSpecContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: SpecTreeDecoder
    let entries: [SpecEntry]

    var codingPath: [CodingKey] { decoder.codingPath }
    var allKeys: [Key] { entries.compactMap { Key(stringValue: $0.key) } }

    private func entry(_ key: Key) -> SpecEntry? {
        decoder.ledger.ask(key.stringValue, under: decoder.path)
        return entries.first { $0.key == key.stringValue }
    }

    private func required(_ key: Key) throws -> SpecTreeDecoder {
        guard let entry = entry(key) else {
            throw SpecError(origin: decoder.node.origin, key: (decoder.path + [key.stringValue]).joined(separator: "."),
                            message: "missing key", hint: "add `\(key.stringValue): <value>` to this section")
        }
        return decoder.child(entry.value, key.stringValue)
    }

    func contains(_ key: Key) -> Bool { entry(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { entry(key)?.value.isNull ?? true }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try T(from: required(key))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey> {
        try required(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try required(key).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> Decoder { try required(key) }
}

struct UnkeyedSpecContainer: UnkeyedDecodingContainer {
    let decoder: SpecTreeDecoder
    let items: [SpecNode]
    var currentIndex = 0

    init(decoder: SpecTreeDecoder, items: [SpecNode]) {
        self.decoder = decoder
        self.items = items
    }

    var codingPath: [CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private mutating func next() throws -> SpecTreeDecoder {
        guard !isAtEnd else {
            throw SpecError(origin: decoder.node.origin, key: decoder.path.joined(separator: "."),
                            message: "list has too few elements (\(items.count))",
                            hint: "add the missing elements")
        }
        defer { currentIndex += 1 }
        return decoder.child(items[currentIndex], String(currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: next()) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> Decoder { try next() }
}

/// Decodes `T` from a tree; errors are `SpecError`s naming the dotted key and place.
/// With `rejectUnknownKeys`, a key of the tree that `T` never asked for is an error too.
func decodeTree<T: Decodable>(_ type: T.Type, from node: SpecNode, rejectUnknownKeys: Bool) throws -> T {
    let ledger = KeyLedger()
    let value: T
    do {
        value = try T(from: SpecTreeDecoder(node: node, path: [], ledger: ledger))
    } catch let error as SpecError {
        throw error
    } catch let error as DecodingError {
        throw SpecError(decodingError: error, root: node)
    }
    if rejectUnknownKeys, let unknown = ledger.firstUnknownKey(in: node) { throw unknown }
    return value
}

extension SpecError {
    /// Errors a type's own `init(from:)` throws (an enum's raw value it does not know).
    init(decodingError: DecodingError, root: SpecNode) {
        let context: DecodingError.Context
        switch decodingError {
        case let .dataCorrupted(c), let .keyNotFound(_, c), let .typeMismatch(_, c), let .valueNotFound(_, c):
            context = c
        @unknown default:
            self = SpecError(origin: root.origin, key: "", message: "\(decodingError)", hint: "check the value")
            return
        }
        let path = context.codingPath.map(\.stringValue)
        let origin = root.node(at: path)?.origin ?? root.origin
        self = SpecError(origin: origin, key: path.joined(separator: "."),
                         message: context.debugDescription, hint: "check the value against docs/specs.md")
    }
}
