import Foundation

/// Every key of an experiment's schema with its default and the reason for it: the
/// leaves of the encoded defaults (lists count as leaves) plus the keys `keyReasons`
/// names (optional keys whose default is nil), sorted by dotted key.
public struct SchemaReference: Sendable, Equatable {
    public struct Key: Sendable, Equatable {
        public var key: String
        /// The default as canonical JSON (`null` for an optional key left unset).
        public var defaultValue: String
        /// Empty when the schema gives none.
        public var reason: String
    }

    public var keys: [Key]

    public init<Config: ExperimentConfig>(_ type: Config.Type) {
        var leaves: [String: CanonicalValue] = [:]
        func walk(_ value: CanonicalValue, _ path: [String]) {
            if case let .map(m) = value, !m.isEmpty {
                for (k, v) in m { walk(v, path + [k]) }
            } else if !path.isEmpty {
                leaves[path.joined(separator: ".")] = value
            }
        }
        walk(canonicalValue(of: Config()), [])
        let reasons = Config.keyReasons
        let names = Set(leaves.keys).union(reasons.keys).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        keys = names.map { Key(key: $0, defaultValue: (leaves[$0] ?? .null).compactJSON, reason: reasons[$0] ?? "") }
    }

    /// Keys without a reason: each is a documentation bug of the schema.
    public var undocumented: [String] { keys.filter { $0.reason.isEmpty }.map(\.key) }

    /// A Markdown table: key, default, why.
    public var markdown: String {
        var text = "| key | default | why |\n|---|---|---|\n"
        for key in keys {
            text += "| `\(key.key)` | `\(key.defaultValue)` | \(key.reason.replacingOccurrences(of: "|", with: "\\|")) |\n"
        }
        return text
    }
}
