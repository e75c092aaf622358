/// The schema of an experiment's configuration: a `Codable` struct whose `init()` holds
/// the defaults and whose `keyReasons` say, per key, why that default. A spec file's
/// keys are laid over the encoded defaults, then decoded back; a key the type never
/// asks for is an unknown key. Enum keys should conform to `SpecChoice`.
/// `SchemaReference` lists every key with its default and reason (docs/specs.md is
/// generated from it with `persephone run --keys <kind>`).
public protocol ExperimentConfig: Codable, Sendable {
    /// Every key at its default.
    init()
    /// Dotted key -> one line: what it sets and why its default. Every leaf key of the
    /// defaults needs one (`SchemaReference.undocumented` lists the missing ones);
    /// optional keys whose default is nil are listed here too.
    static var keyReasons: [String: String] { get }
    /// Checks values the types admit but the meaning rules out; throw a
    /// `SpecConstraintViolation` naming the dotted key.
    func validate() throws
    /// The files this configuration reads whose content shapes the results (checkpoint,
    /// dataset), path -> fingerprint (`missing` when absent: the point then fails and says
    /// why). Recorded in the manifest, so `persephone run --if-changed` can tell whether
    /// finished tables are still current.
    func inputFingerprints() -> [String: String]
    /// Checks that the files this configuration reads exist and fit it (a checkpoint with
    /// exits, a dataset of its classes and image shape, enough images for the users), before
    /// any work starts; throws a `RunError` naming the user-facing key and how to fix it.
    func checkInputs() throws
}

extension ExperimentConfig {
    public func validate() throws {}
    public func inputFingerprints() -> [String: String] { [:] }
    public func checkInputs() throws {}
}

/// A string-valued enum key: a value outside `allCases` is an error listing them, with
/// a "did you mean" for a near miss.
public protocol SpecChoice: Codable, CaseIterable, RawRepresentable, Sendable where RawValue == String {}

extension SpecChoice {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: text) else {
            let names = Self.allCases.map(\.rawValue)
            var hint = "choose one of: \(names.joined(separator: ", "))"
            if let guess = nearMiss(text, among: names) { hint = "did you mean `\(guess)`? " + hint }
            let origin = (decoder as? SpecTreeDecoder)?.node.origin ?? .schemaDefault
            throw SpecError(origin: origin, key: decoder.codingPath.map(\.stringValue).joined(separator: "."),
                            message: "`\(text)` is not a valid value", hint: hint)
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// A table an experiment writes: `results/<experiment>/<name>.csv.zst` with these columns
/// (the runner puts the sweep's axis columns the table lacks in front of them).
public struct TableSchema: Sendable, Equatable {
    public var name: String
    public var columns: [String]

    public init(_ name: String, columns: [String]) {
        precondition(isFolderName(name) && !["timings", "manifest"].contains(name) && !name.contains("."),
                     "table name `\(name)`: use [A-Za-z0-9_-], not `timings` or `manifest`")
        precondition(!columns.isEmpty && Set(columns).count == columns.count, "table `\(name)`: columns must be distinct")
        self.name = name
        self.columns = columns
    }
}

/// One cell of a result table. `text` is its deterministic CSV form: integers in
/// decimal; doubles in Swift's shortest round-trip form (`0.1`, `1.0`, `1e-07`, which
/// reads back to the identical Double), `nan`, `inf`, `-inf`; booleans `true`/`false`.
public enum Cell: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
                  ExpressibleByStringLiteral, ExpressibleByBooleanLiteral {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)

    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    public var text: String {
        switch self {
        case let .int(i): return String(i)
        case let .double(d):
            if d.isNaN { return "nan" }
            if d.isInfinite { return d < 0 ? "-inf" : "inf" }
            return CanonicalValue.format(d)
        case let .string(s): return s
        case let .bool(b): return b ? "true" : "false"
        }
    }
}

/// What one point of a sweep computed: rows for the experiment's tables (deterministic:
/// same spec, code and seed give the same rows) and wall-clock timings, kept apart.
public struct PointResult: Sendable {
    public var rows: [String: [[Cell]]] = [:]
    /// (phase, seconds) in the order measured; the runner adds a `point` phase for the whole.
    public var timings: [Timing] = []

    public struct Timing: Sendable, Codable, Equatable {
        public var phase: String
        public var seconds: Double
        public init(phase: String, seconds: Double) {
            self.phase = phase
            self.seconds = seconds
        }
    }

    public init() {}

    public mutating func append(_ row: [Cell], to table: String) { rows[table, default: []].append(row) }

    public mutating func time(_ phase: String, seconds: Double) { timings.append(Timing(phase: phase, seconds: seconds)) }
}

/// One point of a sweep, typed: its index (row-major over the axes, last axis fastest),
/// its id (`lr=0.1,seed=2`), the axis values it sets and the configuration it runs.
public struct ResolvedPoint<Config: ExperimentConfig>: Sendable {
    public var index: Int
    public var id: String
    public var assignments: [Assignment]
    public var config: Config
}

/// A sweep axis set to one value at one point.
public struct Assignment: Sendable, Equatable, Codable {
    public var key: String
    public var value: CanonicalValue

    public init(key: String, value: CanonicalValue) {
        self.key = key
        self.value = value
    }
}

/// Lets a point report where it is (shown on the progress line of a terminal).
public final class PointProgress: @unchecked Sendable {
    let sink: (String) -> Void
    init(sink: @escaping (String) -> Void) { self.sink = sink }
    /// A short status such as "user 3/10, epoch 2".
    public func report(_ status: String) { sink(status) }
}

/// An experiment kind: its name (the spec's `experiment:`), its configuration schema,
/// the tables it writes, the units of work a point needs and the pure function from
/// their records to the point's rows (docs/architecture.md, "Units").
///
/// The runner schedules units, not points: it computes each unit once (or reads it from
/// the unit store), then hands every point its units' records in the order `units`
/// listed them. `rows` must depend on nothing but the point and those records, so tables
/// are the same bytes however the units were scheduled, sharded or reused.
public struct Experiment<Config: ExperimentConfig>: Sendable {
    public var kind: String
    public var summary: String
    public var tables: [TableSchema]
    public var units: @Sendable (ResolvedPoint<Config>) throws -> [WorkUnit]
    public var rows: @Sendable (ResolvedPoint<Config>, [UnitResult]) throws -> PointResult

    public init(kind: String, summary: String, tables: [TableSchema],
                units: @escaping @Sendable (ResolvedPoint<Config>) throws -> [WorkUnit],
                rows: @escaping @Sendable (ResolvedPoint<Config>, [UnitResult]) throws -> PointResult) {
        precondition(Set(tables.map(\.name)).count == tables.count, "\(kind): table names must be distinct")
        self.kind = kind
        self.summary = summary
        self.tables = tables
        self.units = units
        self.rows = rows
    }

    /// An experiment whose point is one unit: `compute` returns the point's rows, and the
    /// unit's identity is the kind, the point's configuration and its input fingerprints.
    public init(kind: String, summary: String, tables: [TableSchema],
                compute: @escaping @Sendable (ResolvedPoint<Config>, PointProgress) throws -> PointResult) {
        self.init(kind: kind, summary: summary, tables: tables, units: { point in
            let identity = CanonicalValue.map([
                "kind": .string(kind), "config": canonicalValue(of: point.config),
                "inputs": canonicalValue(of: point.config.inputFingerprints()),
            ])
            return [WorkUnit(identity: identity, label: point.id) { progress in
                let result = try compute(point, progress)
                let rows = result.rows.mapValues { $0.map { $0.map(\.text) } }
                return try UnitOutput(record: rows, timings: result.timings)
            }]
        }, rows: { _, units in
            var result = PointResult()
            for unit in units {
                for (table, rows) in try unit.decode([String: [[String]]].self) {
                    for row in rows { result.append(row.map(Cell.string), to: table) }
                }
                result.timings += unit.timings
            }
            return result
        })
    }
}
