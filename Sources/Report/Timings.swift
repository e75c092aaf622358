import Experiments
/// An experiment's `timings` table (wall-clock seconds, the only table a clock writes):
/// columns `point`, `id` (the sweep point: `k=v,k=v` or `default`), `phase`, `seconds`,
/// one row per user run and phase in the order the runs were recorded. When the table
/// also has `seed` and `user` columns, rows are ordered by them instead.
struct Timings {
    let table: ResultTable

    /// The seconds of `phase` in the group's sweep point, one per user run.
    func seconds(_ phase: String, in group: Group) throws -> [Double] {
        let phaseColumn = try table.index("phase"), seconds = try table.index("seconds")
        let id = table.header.firstIndex(of: "id")
        var rows = table.rows.indices.filter { r in
            guard table.rows[r][phaseColumn] == phase else { return false }
            if let id { return group.matches(pointID: table.rows[r][id]) }
            return zip(group.axes, group.values).allSatisfy { axis, value in
                table.header.firstIndex(of: axis).map { table.rows[r][$0] == value } ?? true
            }
        }
        if let seed = table.header.firstIndex(of: "seed"), let user = table.header.firstIndex(of: "user") {
            rows.sort { (Int(table.rows[$0][seed]) ?? 0, Int(table.rows[$0][user]) ?? 0)
                < (Int(table.rows[$1][seed]) ?? 0, Int(table.rows[$1][user]) ?? 0) }
        }
        return try rows.map { try table.number($0, seconds) }
    }

    /// The phases recorded, in first-seen order.
    var phases: [String] {
        guard let phase = table.header.firstIndex(of: "phase") else { return [] }
        var seen: Set<String> = [], order: [String] = []
        for row in table.rows where seen.insert(row[phase]).inserted { order.append(row[phase]) }
        return order
    }

    /// Per-run ratios numerator / denominator of two phases recorded once per user run.
    func ratios(_ numerator: String, over denominator: String, in group: Group) throws -> [Double] {
        let top = try seconds(numerator, in: group), bottom = try seconds(denominator, in: group)
        guard top.count == bottom.count else {
            throw RunError("\(table.name): \(top.count) `\(numerator)` rows but \(bottom.count) `\(denominator)` rows for \(group.label)",
                           hint: "every user run records both phases; rerun the experiment")
        }
        return zip(top, bottom).map { $0 / $1 }
    }
}
