import Foundation

/// A spec file read but not yet checked against an experiment's schema.
///
/// Layout of a spec file: three reserved top-level keys and the experiment's own keys.
/// ```yaml
/// experiment: data-growth      # which registered experiment kind runs it (required)
/// name: data-growth-quick      # results folder name: results/<name>/ (default: the kind)
/// sweep:                       # dotted key -> list of values; cartesian product
///   seed: [1, 2, 3]
/// users: 10                    # everything else: the experiment's configuration
/// ```
public struct SpecDocument: Sendable {
    /// The file path as given (used in every error).
    public var path: String
    public var experiment: String
    public var experimentOrigin: SpecOrigin
    /// The `name:` key, if given.
    public var name: String?
    /// The `sweep:` block's axes, in file order.
    public var sweep: [SweepAxis]
    /// The experiment's own keys (the file without `experiment`, `name` and `sweep`).
    public var body: SpecNode

    /// Reads and parses a spec file.
    public static func load(path: String) throws -> SpecDocument {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SpecError(origin: .commandLine(path), key: "", message: "cannot read the spec file",
                            hint: "check the path (specs live in experiments/) and that it is UTF-8 text")
        }
        return try parse(yaml: text, path: path)
    }

    /// Parses spec text; `path` names it in errors.
    public static func parse(yaml: String, path: String) throws -> SpecDocument {
        let root = try SpecNode.parse(yaml: yaml, name: path) { mark in
            .file(path: path, line: mark?.line ?? 1, column: mark?.column ?? 1)
        }
        guard let entries = root.entries else {
            throw SpecError(origin: root.origin, key: "", message: "a spec file must be a mapping of keys",
                            hint: "start with `experiment: <kind>` and write one `key: value` per line")
        }
        var experiment: (String, SpecOrigin)?
        var name: String?
        var sweep: [SweepAxis] = []
        var body: [SpecEntry] = []
        for entry in entries {
            switch entry.key {
            case "experiment":
                guard case let .scalar(text, _) = entry.value.content, !entry.value.isNull, !text.isEmpty else {
                    throw SpecError(origin: entry.value.origin, key: "experiment", message: "expected the experiment kind's name",
                                    hint: "write `experiment: <kind>`; `persephone run --list` shows the kinds")
                }
                experiment = (text, entry.value.origin)
            case "name":
                guard case let .scalar(text, _) = entry.value.content, isFolderName(text), text.utf8.count <= maximumNameLength,
                      text != "unit-store" else {
                    throw SpecError(origin: entry.value.origin, key: "name", message: "expected a folder name",
                                    hint: "use at most \(maximumNameLength) letters, digits, '-', '_' and '.', not starting with '.', and not `unit-store` (the unit store's folder)")
                }
                name = text
            case "sweep":
                sweep = try SweepAxis.parseBlock(entry.value)
            default:
                body.append(entry)
            }
        }
        guard let experiment else {
            throw SpecError(origin: .file(path: path, line: 1, column: 1), key: "experiment",
                            message: "missing key", hint: "add `experiment: <kind>` naming what the spec runs")
        }
        return SpecDocument(path: path, experiment: experiment.0, experimentOrigin: experiment.1, name: name,
                            sweep: sweep, body: SpecNode(.map(body), origin: root.origin))
    }
}

/// The longest `name:`: its folder gets `.shard-<i>-of-<n>` or `.<spec hash>.<k>` appended,
/// and a path component may hold 255 bytes.
let maximumNameLength = 100

/// True for names usable as one path component: [A-Za-z0-9._-]+, not starting with '.'.
func isFolderName(_ text: String) -> Bool {
    !text.isEmpty && !text.hasPrefix(".") && text.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)
    }
}

/// A command-line override in Hydra's style, `key.sub=value`. The value is read as a
/// YAML flow value (`3`, `0.1`, `adam`, `"007"`, `[1, 2]`, `{a: 1}`), so its type is
/// checked against the schema exactly as a spec file's value is.
public struct Override: Sendable {
    public var key: String
    public var path: [String]
    public var value: SpecNode
    public var text: String
    /// Where the key was written: the command line, or an overlay file's line.
    public var keyOrigin: SpecOrigin

    public init(parsing text: String) throws {
        let origin = SpecOrigin.commandLine(text)
        guard let eq = text.firstIndex(of: "=") else {
            throw SpecError(origin: origin, key: "", message: "an override needs `=`",
                            hint: "write `key.sub=value`, for example `train.lr=0.01`")
        }
        key = String(text[..<eq])
        path = try splitDottedKey(key, origin: origin)
        value = try parseFlowValue(String(text[text.index(after: eq)...]), origin: origin)
        self.text = text
        keyOrigin = origin
        if ["experiment", "name", "sweep"].contains(path[0]) {
            throw SpecError(origin: origin, key: key, message: "`\(path[0])` cannot be overridden",
                            hint: path[0] == "sweep" ? "use `--sweep key=a,b,c`" : "edit the spec file, or use --out for another folder")
        }
    }
}

/// An overlay file (`experiments/scales/<scale>.yaml`): a mapping of keys, nested or
/// dotted (`data: {users: 20}` or `data.users: 20`), laid over a spec after its file and
/// before the command line's overrides, and optionally a `sweep:` block of axes that
/// replace the spec's axis of the same key or are appended (as `--sweep` does). A scale is
/// an overlay. The reserved key `for:` maps experiment kinds to keys (and a `sweep:`) only
/// that kind has (`for: {data-growth: {step: 100}}`); the others skip them.
public struct Overlay: Sendable {
    public var path: String
    /// The keys, general ones first, then the kind's own (which win).
    public var overrides: [Override]
    /// The axes, general ones first, then the kind's own.
    public var sweeps: [SweepAxis]

    public init(path: String, experiment: String) throws {
        self.path = path
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SpecError(origin: .commandLine(path), key: "", message: "cannot read the overlay file",
                            hint: "check the path (scales live in experiments/scales/)")
        }
        let root = try SpecNode.parse(yaml: text, name: path) { .file(path: path, line: $0?.line ?? 1, column: $0?.column ?? 1) }
        guard let entries = root.entries else {
            throw SpecError(origin: root.origin, key: "", message: "an overlay must be a mapping of keys",
                            hint: "write one `key: value` per line, such as `data.users: 20`")
        }
        var overrides: [Override] = []
        var sweeps: [SweepAxis] = []
        func walk(_ entries: [SpecEntry], prefix: [String]) throws {
            for entry in entries {
                let path = prefix + (try splitDottedKey(entry.key, origin: entry.keyOrigin))
                if path == ["sweep"] {
                    sweeps += try SweepAxis.parseBlock(entry.value)
                    continue
                }
                if ["experiment", "name", "sweep"].contains(path[0]) {
                    throw SpecError(origin: entry.keyOrigin, key: entry.key, message: "an overlay cannot set `\(path[0])`",
                                    hint: path[0] == "sweep" ? "write the axes in a `sweep:` block of their own" :
                                        "overlays set configuration keys and sweep axes; edit the spec file for the rest")
                }
                if let nested = entry.value.entries, !nested.isEmpty {
                    try walk(nested, prefix: path)
                } else {
                    let key = path.joined(separator: ".")
                    overrides.append(Override(key: key, path: path, value: entry.value, text: "\(key) (\(entry.keyOrigin))",
                                              keyOrigin: entry.keyOrigin))
                }
            }
        }
        try walk(entries.filter { $0.key != "for" }, prefix: [])
        for entry in entries where entry.key == "for" {
            guard let kinds = entry.value.entries else {
                throw SpecError(origin: entry.value.origin, key: "for", message: "expected a mapping of experiment kinds to keys",
                                hint: "write `for: {data-growth: {step: 100}}`")
            }
            for kind in kinds where kind.key == experiment {
                guard let keys = kind.value.entries else {
                    throw SpecError(origin: kind.value.origin, key: "for.\(kind.key)", message: "expected a mapping of keys",
                                    hint: "write `for: {\(kind.key): {key: value}}`")
                }
                try walk(keys, prefix: [])
            }
        }
        if let clash = sweeps.first(where: { axis in overrides.contains { $0.key == axis.key } }) {
            throw SpecError(origin: clash.origin, key: clash.key, message: "the overlay both sets and sweeps this key",
                            hint: "keep the key or its axis, not both")
        }
        self.overrides = overrides
        self.sweeps = sweeps
    }

    /// Lays `overlays` in order over `document`: each overlay's axes replace the document's
    /// axis of the same key in place (or are appended) and drop earlier overlays' overrides
    /// of that key; the overrides of all of them, in order, are returned to be applied
    /// before the command line's (an override of a swept key fixes it: the axis goes).
    public static func layer(_ overlays: [Overlay], over document: inout SpecDocument) -> [Override] {
        var layered: [Override] = []
        for overlay in overlays {
            for axis in overlay.sweeps {
                layered.removeAll { $0.key == axis.key }
                if let i = document.sweep.firstIndex(where: { $0.key == axis.key }) { document.sweep[i] = axis } else { document.sweep.append(axis) }
            }
            layered += overlay.overrides
        }
        return layered
    }
}

extension Override {
    init(key: String, path: [String], value: SpecNode, text: String, keyOrigin: SpecOrigin) {
        self.key = key; self.path = path; self.value = value; self.text = text; self.keyOrigin = keyOrigin
    }
}

/// Parses a command-line value as a YAML flow value; every node gets `origin`.
func parseFlowValue(_ text: String, origin: SpecOrigin) throws -> SpecNode {
    do {
        // "k: <text>" so that a bare scalar, a flow list and a flow map all parse alike.
        let node = try SpecNode.parse(yaml: "v: " + text, name: "\(origin)") { _ in origin }
        guard let value = node.entries?.first?.value else { return SpecNode(.scalar("", quoted: false), origin: origin) }
        return value
    } catch let error as SpecError {
        throw SpecError(origin: origin, key: "", message: "the value is not valid YAML: \(error.message)",
                        hint: "quote text holding ':' or '#', write lists as [a, b]")
    }
}

/// One axis of a sweep: a dotted key and the values it takes, in order.
public struct SweepAxis: Sendable {
    public var key: String
    public var path: [String]
    public var values: [SpecNode]
    /// Where the axis was declared (the key in the `sweep:` block, or the `--sweep` text).
    public var origin: SpecOrigin

    /// Parses `--sweep key=a,b,c`: values split at commas outside brackets and quotes,
    /// each read as a YAML flow value.
    public init(parsing text: String) throws {
        let origin = SpecOrigin.commandLine("--sweep \(text)")
        guard let eq = text.firstIndex(of: "=") else {
            throw SpecError(origin: origin, key: "", message: "a sweep needs `=`",
                            hint: "write `--sweep key=a,b,c`, for example `--sweep seed=1,2,3`")
        }
        key = String(text[..<eq])
        path = try splitDottedKey(key, origin: origin)
        values = try splitTopLevelCommas(String(text[text.index(after: eq)...])).map { try parseFlowValue($0, origin: origin) }
        self.origin = origin
        try checkValues()
    }

    init(key: String, values: [SpecNode], origin: SpecOrigin) throws {
        self.key = key
        path = try splitDottedKey(key, origin: origin)
        self.values = values
        self.origin = origin
        try checkValues()
    }

    private func checkValues() throws {
        guard !values.isEmpty else {
            throw SpecError(origin: origin, key: "sweep.\(key)", message: "a sweep axis needs at least one value",
                            hint: "list the values: `\(key): [a, b]`, or remove the axis")
        }
    }

    /// The `sweep:` block: a mapping from dotted keys to lists (a scalar is a one-value axis).
    static func parseBlock(_ node: SpecNode) throws -> [SweepAxis] {
        if node.isNull { return [] }
        guard let entries = node.entries else {
            throw SpecError(origin: node.origin, key: "sweep", message: "expected a mapping of dotted keys to lists",
                            hint: "write `sweep:` then lines such as `  seed: [1, 2, 3]`")
        }
        return try entries.map { entry in
            let values: [SpecNode]
            if case let .list(items) = entry.value.content { values = items } else { values = [entry.value] }
            return try SweepAxis(key: entry.key, values: values, origin: entry.keyOrigin)
        }
    }
}

/// Splits at commas that are not inside [], {} or quotes.
func splitTopLevelCommas(_ text: String) -> [String] {
    var parts: [String] = [], current = "", depth = 0
    var quote: Character?
    for c in text {
        if let q = quote {
            if c == q { quote = nil }
        } else if c == "\"" || c == "'" {
            quote = c
        } else if c == "[" || c == "{" {
            depth += 1
        } else if c == "]" || c == "}" {
            depth -= 1
        } else if c == "," && depth == 0 {
            parts.append(current)
            current = ""
            continue
        }
        current.append(c)
    }
    parts.append(current)
    return parts
}

extension SpecDocument {
    /// The document a frozen spec (`spec.resolved.json`) stands for: its kind, name, base
    /// configuration and sweep axes; resolving it gives the frozen hash again.
    init(frozen: FrozenSpec, path: String) throws {
        let origin = SpecOrigin.file(path: path, line: 1, column: 1)
        self.path = path
        experiment = frozen.experiment
        experimentOrigin = origin
        name = frozen.name
        body = (frozen.spec.value(at: ["config"]) ?? .map([:])).specNode(origin: origin)
        var axes: [SweepAxis] = []
        if case let .list(frozenAxes)? = frozen.spec.value(at: ["sweep"]) {
            for axis in frozenAxes {
                guard case let .string(key)? = axis.value(at: ["key"]), case let .list(values)? = axis.value(at: ["values"]) else {
                    throw RunError("\(path): a sweep axis without key or values", hint: "the folder was not written by `persephone run`")
                }
                axes.append(try SweepAxis(key: key, values: values.map { $0.specNode(origin: origin) }, origin: origin))
            }
        }
        sweep = axes
    }
}
