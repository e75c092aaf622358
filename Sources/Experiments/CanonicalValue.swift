import Codecs
/// A value in the canonical form every file of the runner is written in (resolved specs,
/// point records, manifests). Canonical JSON: maps with keys sorted by their UTF-8 bytes,
/// no insignificant whitespace (`compactJSON`); integers in decimal; doubles in Swift's
/// shortest round-trip form (`0.1`, `1.0`, `1e-07`), always with a `.` or an exponent so
/// that they read back as doubles; strings with `"`, `\` and control characters escaped
/// and everything else as raw UTF-8. Doubles must be finite.
public indirect enum CanonicalValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case list([CanonicalValue])
    case map([String: CanonicalValue])

    /// The one-line canonical JSON text: what `SpecHash` hashes.
    public var compactJSON: String {
        var out = ""
        render(into: &out, indent: nil)
        return out
    }

    /// The same content with two-space indentation and a final newline, for files people read.
    public var prettyJSON: String {
        var out = ""
        render(into: &out, indent: "")
        return out + "\n"
    }

    /// A scalar as a table cell or point id shows it: strings bare, numbers canonical,
    /// lists and maps as compact JSON.
    public var cellText: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .double(d): return CanonicalValue.format(d)
        case let .string(s): return s
        case .list, .map: return compactJSON
        }
    }

    /// The value at a dotted path, or nil.
    public func value(at path: [String]) -> CanonicalValue? {
        guard let first = path.first else { return self }
        switch self {
        case let .map(m): return m[first]?.value(at: Array(path.dropFirst()))
        case let .list(l):
            guard let i = Int(first), l.indices.contains(i) else { return nil }
            return l[i].value(at: Array(path.dropFirst()))
        default: return nil
        }
    }

    /// Shortest round-trip text of a finite double, with ".0" kept for integral values.
    static func format(_ d: Double) -> String {
        precondition(d.isFinite, "canonical values are finite; got \(d)")
        return d == 0 ? "0.0" : d.description  // -0.0 and 0.0 are one value in a spec
    }

    private func render(into out: inout String, indent: String?) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .double(d): out += CanonicalValue.format(d)
        case let .string(s): CanonicalValue.renderString(s, into: &out)
        case let .list(items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            let inner = indent.map { $0 + "  " }
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                if let inner { out += "\n" + inner }
                item.render(into: &out, indent: inner)
            }
            if let indent { out += "\n" + indent }
            out += "]"
        case let .map(entries):
            if entries.isEmpty { out += "{}"; return }
            out += "{"
            let inner = indent.map { $0 + "  " }
            for (i, key) in entries.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if i > 0 { out += "," }
                if let inner { out += "\n" + inner }
                CanonicalValue.renderString(key, into: &out)
                out += indent == nil ? ":" : ": "
                entries[key]!.render(into: &out, indent: inner)
            }
            if let indent { out += "\n" + indent }
            out += "}"
        }
    }

    private static func renderString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

/// The 64-bit FNV-1a hash (offset basis 0xcbf29ce484222325, prime 0x100000001b3) of a
/// value's `compactJSON` UTF-8 bytes, as 16 lowercase hex digits. It identifies a
/// resolved spec: the runner refuses to mix points of two different hashes.
public enum SpecHash {
    public static func fnv1a64(_ bytes: some Sequence<UInt8>) -> UInt64 { FNV1a.hash(bytes) }

    public static func hex(of value: CanonicalValue) -> String {
        FNV1a.hex(fnv1a64(value.compactJSON.utf8))
    }
}

extension CanonicalValue {
    /// The value as a spec tree (to decode records and frozen specs with the same decoder
    /// as spec files): doubles keep their canonical text, strings are quoted scalars.
    func specNode(origin: SpecOrigin) -> SpecNode {
        switch self {
        case .null: return SpecNode(.scalar("null", quoted: false), origin: origin)
        case let .bool(b): return SpecNode(.scalar(b ? "true" : "false", quoted: false), origin: origin)
        case let .int(i): return SpecNode(.scalar(String(i), quoted: false), origin: origin)
        case let .double(d): return SpecNode(.scalar(CanonicalValue.format(d), quoted: false), origin: origin)
        case let .string(s): return SpecNode(.scalar(s, quoted: true), origin: origin)
        case let .list(items): return SpecNode(.list(items.map { $0.specNode(origin: origin) }), origin: origin)
        case let .map(entries):
            let sorted = entries.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            return SpecNode(.map(sorted.map {
                SpecEntry(key: $0, keyOrigin: origin, value: entries[$0]!.specNode(origin: origin))
            }), origin: origin)
        }
    }
}

extension CanonicalValue: Codable {
    public func encode(to encoder: Encoder) throws {
        switch self {
        case .null:
            var c = encoder.singleValueContainer(); try c.encodeNil()
        case let .bool(b):
            var c = encoder.singleValueContainer(); try c.encode(b)
        case let .int(i):
            var c = encoder.singleValueContainer(); try c.encode(i)
        case let .double(d):
            var c = encoder.singleValueContainer(); try c.encode(d)
        case let .string(s):
            var c = encoder.singleValueContainer(); try c.encode(s)
        case let .list(items):
            var c = encoder.unkeyedContainer()
            for item in items { try c.encode(item) }
        case let .map(entries):
            var c = encoder.container(keyedBy: SpecKey.self)
            for (k, v) in entries { try c.encode(v, forKey: SpecKey(stringValue: k)) }
        }
    }

    /// Reads back what `prettyJSON`/`compactJSON` wrote (through the spec decoder):
    /// quoted scalars are strings; plain ones are, in this order, an integer, a double,
    /// a boolean or null. Canonical doubles always carry '.' or an exponent, so the
    /// round trip is exact.
    public init(from decoder: Decoder) throws {
        guard let tree = decoder as? SpecTreeDecoder else {
            preconditionFailure("CanonicalValue decodes only from spec trees (files the runner wrote)")
        }
        switch tree.node.content {
        case let .scalar(text, quoted):
            if quoted { self = .string(text) }
            else if tree.node.isNull { self = .null }
            else if let i = Int64(text) { self = .int(i) }
            else if let d = Double(text), d.isFinite { self = .double(d) }
            else if text == "true" || text == "false" { self = .bool(text == "true") }
            else { self = .string(text) }
        case let .list(items):
            self = .list(try items.enumerated().map { try CanonicalValue(from: tree.child($1, String($0))) })
        case let .map(entries):
            var m: [String: CanonicalValue] = [:]
            for e in entries {
                tree.ledger.ask(e.key, under: tree.path)
                m[e.key] = try CanonicalValue(from: tree.child(e.value, e.key))
            }
            self = .map(m)
        }
    }
}
