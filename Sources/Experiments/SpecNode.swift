import Yams

/// Where a value of a spec came from, so that an error can point at it.
public enum SpecOrigin: Sendable, Hashable, CustomStringConvertible {
    /// A spec file, 1-based line and column (libyaml counts columns in Unicode scalars).
    case file(path: String, line: Int, column: Int)
    /// A command-line override or `--sweep` option, quoted as the user typed it.
    case commandLine(String)
    /// The schema's default (`init()` of the experiment's configuration).
    case schemaDefault

    public var description: String {
        switch self {
        case let .file(path, line, column): return "\(path):\(line):\(column)"
        case let .commandLine(text): return "command line `\(text)`"
        case .schemaDefault: return "the schema default"
        }
    }
}

/// A YAML value with the place it came from: the generic tree that spec files,
/// overrides and sweep points are merged on before being decoded into a typed
/// configuration. Scalars keep their text; their type is decided only when the schema
/// asks for one (a quoted scalar is always a string, `null`/`~`/empty plain is null).
public struct SpecNode: Sendable {
    public enum Content: Sendable {
        /// A scalar's text; `quoted` scalars never read as numbers, booleans or null.
        case scalar(String, quoted: Bool)
        case list([SpecNode])
        /// Entries in document order; keys are unique (Yams rejects duplicates).
        case map([SpecEntry])
    }

    public var content: Content
    public var origin: SpecOrigin

    public init(_ content: Content, origin: SpecOrigin) {
        self.content = content
        self.origin = origin
    }

    /// True for a plain `null`, `Null`, `NULL`, `~` or empty scalar.
    public var isNull: Bool {
        guard case let .scalar(text, quoted) = content, !quoted else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(text)
    }

    /// A short rendering for error messages: the scalar text, or "a list", "a mapping".
    var shortDescription: String {
        switch content {
        case let .scalar(text, quoted): return isNull ? "null" : (quoted ? "\"\(text)\"" : "`\(text)`")
        case .list: return "a list"
        case .map: return "a mapping"
        }
    }

    /// The entries of a map node, nil for scalars and lists.
    var entries: [SpecEntry]? {
        if case let .map(entries) = content { return entries }
        return nil
    }
}

/// One key of a map node, with the place the key itself was written.
public struct SpecEntry: Sendable {
    public var key: String
    public var keyOrigin: SpecOrigin
    public var value: SpecNode
}

/// Bounds on what one spec text may expand to, so that a small file cannot exhaust memory
/// or time: YAML aliases repeat their anchor's value, and nested anchors multiply (eight
/// levels of nine aliases are 9^8 = 43 million values from under a kilobyte of text).
/// Stated in docs/specs.md.
public enum SpecLimits {
    /// Values (scalars, lists, maps, counting every alias expansion) in one parsed text.
    /// The largest committed spec has under 100.
    public static let maxValues = 100_000
    /// Lists and maps inside one another. The schema's deepest key is 3 levels down.
    public static let maxDepth = 64
}

extension SpecNode {
    /// Parses YAML text (the first document) into a tree; `name` is used in errors.
    /// An empty document gives an empty map.
    static func parse(yaml: String, name: String, origin: (Mark?) -> SpecOrigin) throws -> SpecNode {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw SpecError(yamlError: error, file: name)
        }
        guard let root else { return SpecNode(.map([]), origin: origin(nil)) }
        var budget = SpecLimits.maxValues
        return try SpecNode(yams: root, name: name, origin: origin, depth: 0, budget: &budget)
    }

    /// Converts a composed Yams tree, counting values against `budget` and nesting
    /// against `SpecLimits.maxDepth` before descending, so a bomb stops within the limit.
    private init(yams node: Node, name: String, origin: (Mark?) -> SpecOrigin, depth: Int, budget: inout Int) throws {
        let here = origin(node.mark)
        budget -= 1
        if budget < 0 {
            throw SpecError(origin: here, key: "",
                            message: "the spec expands to more than \(SpecLimits.maxValues) values (YAML aliases repeat their anchor's value, and nested anchors multiply)",
                            hint: "write the values out or use a sweep; do not nest anchors and aliases")
        }
        if depth > SpecLimits.maxDepth {
            throw SpecError(origin: here, key: "",
                            message: "lists and mappings nested more than \(SpecLimits.maxDepth) deep",
                            hint: "a spec needs a few levels (`section: {key: value}`); flatten the value")
        }
        switch node {
        case let .scalar(scalar):
            self.init(.scalar(scalar.string, quoted: scalar.style != .plain && scalar.style != .any),
                      origin: here)
        case let .sequence(sequence):
            var items: [SpecNode] = []
            for item in sequence {
                items.append(try SpecNode(yams: item, name: name, origin: origin, depth: depth + 1, budget: &budget))
            }
            self.init(.list(items), origin: here)
        case let .mapping(mapping):
            var entries: [SpecEntry] = []
            for (key, value) in mapping {
                guard case let .scalar(keyScalar) = key else {
                    throw SpecError(origin: origin(key.mark), key: "", message: "a mapping key must be a plain name",
                                    hint: "write `name: value`; complex keys are not part of the spec format")
                }
                if keyScalar.string == "<<" {
                    throw SpecError(origin: origin(key.mark), key: "<<", message: "YAML merge keys are not supported",
                                    hint: "write the keys out; use overrides or a sweep for variants")
                }
                entries.append(SpecEntry(key: keyScalar.string, keyOrigin: origin(key.mark),
                                         value: try SpecNode(yams: value, name: name, origin: origin, depth: depth + 1,
                                                             budget: &budget)))
            }
            self.init(.map(entries), origin: here)
        case .alias:
            throw SpecError(origin: here, key: "", message: "unresolved YAML alias",
                            hint: "define the anchor before using it, or write the value out")
        }
    }

    /// The node at a dotted path (`train.lr`; list elements by index), or nil.
    func node(at path: [String]) -> SpecNode? {
        guard let first = path.first else { return self }
        switch content {
        case let .map(entries):
            return entries.first { $0.key == first }?.value.node(at: Array(path.dropFirst()))
        case let .list(items):
            guard let i = Int(first), items.indices.contains(i) else { return nil }
            return items[i].node(at: Array(path.dropFirst()))
        case .scalar:
            return nil
        }
    }

    /// Sets the value at a dotted path, creating maps on the way (as Hydra's `key.sub=value`
    /// does for an existing config; unknown keys are caught later, by the decoder).
    /// A scalar or list standing where a map is needed is an error naming `origin`.
    mutating func set(_ value: SpecNode, at path: [String], keyOrigin: SpecOrigin, walked: [String] = []) throws {
        guard let first = path.first else { self = value; return }
        let rest = Array(path.dropFirst())
        switch content {
        case var .map(entries):
            if let i = entries.firstIndex(where: { $0.key == first }) {
                try entries[i].value.set(value, at: rest, keyOrigin: keyOrigin, walked: walked + [first])
            } else {
                var child = SpecNode(.map([]), origin: keyOrigin)
                try child.set(value, at: rest, keyOrigin: keyOrigin, walked: walked + [first])
                entries.append(SpecEntry(key: first, keyOrigin: keyOrigin, value: child))
            }
            content = .map(entries)
        case var .list(items):
            guard let i = Int(first), items.indices.contains(i) else {
                throw SpecError(origin: keyOrigin, key: (walked + [first]).joined(separator: "."),
                                message: "`\(walked.joined(separator: "."))` is a list of \(items.count) and has no element `\(first)`",
                                hint: "index list elements from 0, or replace the whole list: `key=[a,b]`")
            }
            try items[i].set(value, at: rest, keyOrigin: keyOrigin, walked: walked + [first])
            content = .list(items)
        case .scalar:
            if isNull {  // an absent optional section: start it afresh
                content = .map([])
                try set(value, at: path, keyOrigin: keyOrigin, walked: walked)
                return
            }
            throw SpecError(origin: keyOrigin, key: (walked + [first]).joined(separator: "."),
                            message: "`\(walked.joined(separator: "."))` is the scalar \(shortDescription) (set at \(origin)), not a mapping",
                            hint: "override the scalar itself, or check the key's spelling")
        }
    }

    /// This tree with `overlay` laid over it: maps merge key by key (recursively); a
    /// scalar or list in `overlay` replaces whatever was here.
    func merged(with overlay: SpecNode) -> SpecNode {
        guard case var .map(base) = content, case let .map(top) = overlay.content else { return overlay }
        for entry in top {
            if let i = base.firstIndex(where: { $0.key == entry.key }) {
                base[i] = SpecEntry(key: entry.key, keyOrigin: entry.keyOrigin,
                                    value: base[i].value.merged(with: entry.value))
            } else {
                base.append(entry)
            }
        }
        return SpecNode(.map(base), origin: overlay.origin)
    }
}

/// Splits a dotted key (`train.lr`) into its parts; empty parts are an error.
func splitDottedKey(_ key: String, origin: SpecOrigin) throws -> [String] {
    let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    guard !key.isEmpty, !parts.contains(where: { $0.isEmpty || $0.contains(where: \.isWhitespace) }) else {
        throw SpecError(origin: origin, key: key, message: "`\(key)` is not a dotted key",
                        hint: "write names joined by dots, such as `train.lr`, without spaces")
    }
    return parts
}
