import Codecs

/// A result table selected for people to read: `persephone table FILE [--columns a,b]
/// [--where key=value]...`. Filters compare a column's cell text exactly (several
/// filters must all hold); columns come out in the order asked for.
public struct TableView: Sendable, Equatable {
    public var header: [String]
    public var rows: [[String]]

    public init(header: [String], rows: [[String]]) {
        self.header = header
        self.rows = rows
    }

    /// Reads a `.csv.zst` table.
    public init(path: String) throws {
        let table = try readCSVZst(path: path)
        self.init(header: table.header, rows: table.rows)
    }

    /// The rows where every `filters` entry (`column=value`) holds, with only `columns`
    /// (all when nil). An unknown column is an error listing the table's columns.
    public func selecting(columns: [String]?, filters: [String], name: String) throws -> TableView {
        func column(_ key: String, _ usage: String) throws -> Int {
            guard let i = header.firstIndex(of: key) else {
                var hint = "the columns are: \(header.joined(separator: ", "))"
                if let guess = nearMiss(key, among: header) { hint = "did you mean `\(guess)`? " + hint }
                throw RunError("\(name): \(usage) names the unknown column `\(key)`", hint: hint)
            }
            return i
        }
        var kept = rows
        for filter in filters {
            guard let eq = filter.firstIndex(of: "=") else {
                throw RunError("\(name): `--where \(filter)` needs `=`", hint: "write --where column=value")
            }
            let i = try column(String(filter[..<eq]), "--where")
            let value = String(filter[filter.index(after: eq)...])
            kept = kept.filter { $0[i] == value }
        }
        let picked = try (columns ?? header).map { try column($0, "--columns") }
        return TableView(header: picked.map { header[$0] }, rows: kept.map { row in picked.map { row[$0] } })
    }

    /// Columns padded to their widest cell, numbers right-aligned, text left-aligned; a
    /// rule under the header. Widths count Unicode characters.
    public var aligned: String {
        let numeric = header.indices.map { i in rows.allSatisfy { Double($0[i]) != nil || $0[i].isEmpty } }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return numeric[i] ? pad + cell : cell + pad
            }.joined(separator: "  ").replacingTrailingSpaces()
        }
        var lines = [render(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        lines += rows.map(render)
        return lines.joined(separator: "\n") + "\n"
    }
}

private extension String {
    func replacingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
