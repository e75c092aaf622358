import Codecs
import Experiments
import Foundation

/// One experiment's table as the report reads it: the cells as text, columns by name.
/// `name` is the path it was read from, used in every error.
public struct ResultTable: Sendable, Equatable {
    public var name: String
    public var header: [String]
    public var rows: [[String]]

    public init(name: String, header: [String], rows: [[String]]) {
        self.name = name
        self.header = header
        self.rows = rows
    }

    /// The column's index; an unknown column is an error listing the table's columns.
    func index(_ column: String) throws -> Int {
        guard let i = header.firstIndex(of: column) else {
            throw RunError("\(name): no column `\(column)`",
                           hint: "the columns are \(header.joined(separator: ", ")); rerun the experiment with the current code")
        }
        return i
    }

    /// The cell as a number; a cell that is not one is an error naming the table line
    /// (line 1 is the header).
    func number(_ row: Int, _ column: Int) throws -> Double {
        guard let value = Double(rows[row][column]) else {
            throw RunError("\(name):\(row + 2): `\(header[column])` is `\(rows[row][column])`, not a number",
                           hint: "rerun the experiment to rewrite the table")
        }
        return value
    }

    /// The sweep's axis columns: the runner puts them in front of the first data column
    /// (`seed` in per-user tables, `metric` in summaries), e.g. `data.labelled`.
    func axes(before first: String) -> [String] {
        Array(header.prefix(while: { $0 != first }))
    }
}

/// A sweep point's axis values (or none: a spec without a sweep), the unit every claim
/// is decided per. Groups keep the order their first row had in the table.
public struct Group: Hashable, Sendable {
    public var axes: [String]
    public var values: [String]

    public init(axes: [String], values: [String]) {
        self.axes = axes
        self.values = values
    }

    /// `data.labelled = 0.1, data.split = classes:3`, or `all users` without axes; a path
    /// value by its file name without extension (`data.checkpoint = mobilenetv2`).
    public var label: String {
        axes.isEmpty ? "all users" : zip(axes, values).map { "\($0) = \(Self.shortValue($1))" }.joined(separator: ", ")
    }

    /// A path's file name without extension; any other value as it is.
    static func shortValue(_ value: String) -> String {
        value.contains("/") ? ((value as NSString).lastPathComponent as NSString).deletingPathExtension : value
    }

    /// The value of one axis, nil when the group has no such axis.
    public func value(of axis: String) -> String? {
        axes.firstIndex(of: axis).map { values[$0] }
    }

    /// The group without the named axes (for tables that lay those out themselves).
    func dropping(_ names: Set<String>) -> Group {
        let kept = axes.indices.filter { !names.contains(axes[$0]) }
        return Group(axes: kept.map { axes[$0] }, values: kept.map { values[$0] })
    }

    /// Whether the timings row of a point with this id (`k=v,k=v` or `default`) belongs here.
    func matches(pointID: String) -> Bool {
        let pairs = pointID == "default" ? [:] : Dictionary(
            pointID.split(separator: ",").compactMap { pair -> (String, String)? in
                guard let eq = pair.firstIndex(of: "=") else { return nil }
                return (String(pair[..<eq]), String(pair[pair.index(after: eq)...]))
            }, uniquingKeysWith: { a, _ in a })
        return zip(axes, values).allSatisfy { pairs[$0] == $1 }
    }
}

extension ResultTable {
    /// Row indices per group of the axis columns before `first`, groups in table order.
    func grouped(before first: String) -> [(group: Group, rows: [Int])] {
        let axes = self.axes(before: first)
        var order: [Group] = []
        var members: [Group: [Int]] = [:]
        for (r, row) in rows.enumerated() {
            let group = Group(axes: axes, values: Array(row.prefix(axes.count)))
            if members[group] == nil { order.append(group) }
            members[group, default: []].append(r)
        }
        return order.map { ($0, members[$0]!) }
    }
}

/// The tables of one experiment's run folder, `<results>/<experiment><suffix>/`.
public struct ExperimentFolder: Sendable {
    public var results: String
    public var experiment: String
    public var suffix: String

    public init(results: String, experiment: String, suffix: String) {
        self.results = results
        self.experiment = experiment
        self.suffix = suffix
    }

    public var path: String { "\(results)/\(experiment)\(suffix)" }

    /// The make command that writes this folder: `make <experiment>`, plus `SCALE=<name>`
    /// for a `-<name>` suffix.
    public var makeCommand: String {
        suffix.hasPrefix("-") ? "make \(experiment) SCALE=\(suffix.dropFirst())" : "make \(experiment)"
    }

    public func tablePath(_ table: String) -> String { "\(path)/\(table).csv.zst" }

    /// What a missing table says: the file and the make target that writes it.
    public func missingMessage(_ table: String) -> RunError {
        RunError("\(tablePath(table)): missing", hint: "`\(makeCommand)` writes it")
    }

    /// Reads `<table>.csv.zst`; a missing file says which make target writes it.
    public func read(_ table: String) throws -> ResultTable {
        let file = tablePath(table)
        guard FileManager.default.fileExists(atPath: file) else { throw missingMessage(table) }
        do {
            let (header, rows) = try readCSVZst(path: file)
            return ResultTable(name: file, header: header, rows: rows)
        } catch {
            throw RunError("\(file): unreadable: \(error)", hint: "rerun `\(makeCommand)` to rewrite it")
        }
    }
}
