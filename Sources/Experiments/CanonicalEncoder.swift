// An Encoder producing a `CanonicalValue`: how a typed configuration (or a record of
// the runner) becomes canonical JSON. Floats are stored as the double their shortest
// text denotes (Float 0.1 -> 0.1), so a Float key prints as written.

/// Encodes a value into its canonical form.
public func canonicalValue<T: Encodable>(of value: T) -> CanonicalValue {
    let box = EncodingBox()
    do {
        try value.encode(to: CanonicalEncoder(box: box, path: []))
    } catch {
        // The encoder itself never throws; only a type's custom encode(to:) could.
        preconditionFailure("encoding \(T.self) to a canonical value failed: \(error)")
    }
    return box.resolved
}

final class EncodingBox {
    enum Content {
        case unset
        case value(CanonicalValue)
        case map([String: EncodingBox])
        case list([EncodingBox])
    }

    var content: Content = .unset

    var resolved: CanonicalValue {
        switch content {
        case .unset: return .map([:])  // a type that encoded nothing: an empty struct
        case let .value(v): return v
        case let .map(m): return .map(m.mapValues(\.resolved))
        case let .list(l): return .list(l.map(\.resolved))
        }
    }
}

struct CanonicalEncoder: Encoder {
    let box: EncodingBox
    let path: [String]

    var codingPath: [CodingKey] { path.map { SpecKey(stringValue: $0) } }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .map = box.content {} else { box.content = .map([:]) }
        return KeyedEncodingContainer(KeyedCanonicalContainer<Key>(encoder: self))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        if case .list = box.content {} else { box.content = .list([]) }
        return UnkeyedCanonicalContainer(encoder: self)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { self }
}

extension CanonicalEncoder: SingleValueEncodingContainer {
    func encodeNil() { box.content = .value(.null) }
    func encode(_ value: Bool) { box.content = .value(.bool(value)) }
    func encode(_ value: String) { box.content = .value(.string(value)) }
    func encode(_ value: Double) {
        precondition(value.isFinite, "\(path.joined(separator: ".")): canonical values must be finite, got \(value)")
        box.content = .value(.double(value == 0 ? 0 : value))
    }
    func encode(_ value: Float) { encode(Double(value.description)!) }
    private func integer<T: BinaryInteger>(_ value: T) {
        guard let v = Int64(exactly: value) else {
            preconditionFailure("\(path.joined(separator: ".")): \(value) does not fit a canonical Int64")
        }
        box.content = .value(.int(v))
    }
    func encode(_ value: Int) { integer(value) }
    func encode(_ value: Int8) { integer(value) }
    func encode(_ value: Int16) { integer(value) }
    func encode(_ value: Int32) { integer(value) }
    func encode(_ value: Int64) { integer(value) }
    func encode(_ value: UInt) { integer(value) }
    func encode(_ value: UInt8) { integer(value) }
    func encode(_ value: UInt16) { integer(value) }
    func encode(_ value: UInt32) { integer(value) }
    func encode(_ value: UInt64) { integer(value) }
    func encode<T: Encodable>(_ value: T) throws { try value.encode(to: self) }
}

struct KeyedCanonicalContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: CanonicalEncoder
    var codingPath: [CodingKey] { encoder.codingPath }

    private func child(_ key: Key) -> CanonicalEncoder {
        guard case var .map(m) = encoder.box.content else { preconditionFailure("keyed container lost its map") }
        let box = m[key.stringValue] ?? EncodingBox()
        m[key.stringValue] = box
        encoder.box.content = .map(m)
        return CanonicalEncoder(box: box, path: encoder.path + [key.stringValue])
    }

    func encodeNil(forKey key: Key) { child(key).encodeNil() }
    func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try value.encode(to: child(key)) }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey> {
        child(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer { child(key).unkeyedContainer() }
    func superEncoder() -> Encoder { encoder }
    func superEncoder(forKey key: Key) -> Encoder { child(key) }
}

struct UnkeyedCanonicalContainer: UnkeyedEncodingContainer {
    let encoder: CanonicalEncoder
    var codingPath: [CodingKey] { encoder.codingPath }
    var count: Int {
        if case let .list(l) = encoder.box.content { return l.count }
        return 0
    }

    private func next() -> CanonicalEncoder {
        guard case var .list(l) = encoder.box.content else { preconditionFailure("unkeyed container lost its list") }
        let box = EncodingBox()
        l.append(box)
        encoder.box.content = .list(l)
        return CanonicalEncoder(box: box, path: encoder.path + [String(l.count - 1)])
    }

    mutating func encodeNil() { next().encodeNil() }
    mutating func encode<T: Encodable>(_ value: T) throws { try value.encode(to: next()) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey> {
        next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer { next().unkeyedContainer() }
    mutating func superEncoder() -> Encoder { next() }
}
