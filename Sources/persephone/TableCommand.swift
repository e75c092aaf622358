import ArgumentParser
import Experiments

/// `persephone table FILE`: prints a .csv.zst result table aligned for people.
struct TableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table",
        abstract: "Print a .csv.zst result table aligned for reading.")

    @Argument(help: "The table (results/<name>/<table>.csv.zst).")
    var file: String

    @Option(help: "Columns to show, in this order, comma-separated (default: all).")
    var columns: String?

    @Option(name: .customLong("where"), help: "Keep rows whose column equals the value, `column=value` (repeatable; all must hold).")
    var filters: [String] = []

    func run() throws {
        try reportingErrors {
            let table: TableView
            do {
                table = try TableView(path: file)
            } catch {
                throw RunError("\(error)", hint: "name a .csv.zst table written by `persephone run`")
            }
            let selected = try table.selecting(columns: columns.map { $0.split(separator: ",").map(String.init) },
                                               filters: filters, name: file)
            print(selected.aligned, terminator: "")
        }
    }
}
