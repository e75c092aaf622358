/// Throws when a keyed container holds a key outside `Keys`, naming the first unknown key
/// (in sorted order) and listing the known ones. Call it first in a strict
/// `init(from:)`: `Decodable`'s synthesised conformance silently ignores unknown keys,
/// which would let a misspelt option fall back to its default.
public func rejectUnknownKeys<Keys: CodingKey & CaseIterable & RawRepresentable>(
    in decoder: Decoder, _ keys: Keys.Type, what: String
) throws where Keys.RawValue == String {
    let known = Keys.allCases.map(\.rawValue)
    let any = try decoder.container(keyedBy: AnyCodingKey.self)
    if let unknown = any.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
        throw DecodingError.dataCorrupted(.init(
            codingPath: decoder.codingPath + [AnyCodingKey(stringValue: unknown)],
            debugDescription: "unknown \(what) key \"\(unknown)\"; the keys are " + known.joined(separator: ", ")))
    }
}

/// A coding key for any string, to list a container's keys.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
