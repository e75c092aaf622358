import Experiments
import Foundation

/// A figure as a self-contained gnuplot script: terminal settings, the data as inline
/// datablocks (`$name << EOD`), the plot commands; no `set output`, so that
/// `gnuplot -e "set output 'x.png'" x.gp` redraws it.
public struct Figure: Sendable, Equatable {
    /// File stem: `<stem>.gp` and `<stem>.png` in the figures folder.
    public var stem: String
    public var caption: String
    public var script: String

    public init(stem: String, caption: String, script: String) {
        self.stem = stem
        self.caption = caption
        self.script = script
    }
}

/// Builds a script: one datablock per series, then commands.
struct ScriptBuilder {
    private(set) var text: String

    init(title: String, size: (Int, Int) = (960, 620)) {
        text = """
            # \(title)
            # Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
            set terminal pngcairo size \(size.0),\(size.1) font "sans,10"
            set encoding utf8

            """
    }

    /// A datablock of whitespace-separated rows (text cells quoted).
    mutating func data(_ name: String, _ rows: [[String]]) {
        text += "$\(name) << EOD\n"
        for row in rows { text += row.joined(separator: " ") + "\n" }
        text += "EOD\n"
    }

    mutating func line(_ command: String) { text += command + "\n" }
}

/// A number cell for a datablock (`NaN` for gnuplot when missing).
func cell(_ x: Double) -> String { x.isFinite ? String(x) : "NaN" }

/// A text cell for a datablock: double-quoted, inner quotes dropped.
func label(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "") + "\"" }

/// A gnuplot string literal.
func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }

/// Writes each figure's script and PNG into `folder` under temporary names, renaming
/// them into place only when gnuplot succeeded.
public struct FigureWriter {
    public var folder: String
    public var gnuplot: String

    public init(folder: String, gnuplot: String = "gnuplot") {
        self.folder = folder
        self.gnuplot = gnuplot
    }

    public func write(_ figure: Figure) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let script = "\(folder)/\(figure.stem).gp", png = "\(folder)/\(figure.stem).png"
        let scriptTemp = script + ".tmp", pngTemp = png + ".tmp"
        defer { try? fm.removeItem(atPath: scriptTemp); try? fm.removeItem(atPath: pngTemp) }
        try Data(figure.script.utf8).write(to: URL(fileURLWithPath: scriptTemp))
        let result: ProgramOutput
        do {
            result = try runProgram("/usr/bin/env", [gnuplot, "-e", "set output \(quoted(pngTemp))", scriptTemp])
        } catch {
            throw RunError("cannot start \(gnuplot): \(error)", hint: "`make deps` installs gnuplot-nox")
        }
        guard result.status == 0, fm.fileExists(atPath: pngTemp) else {
            if result.status == 127 {
                throw RunError("\(gnuplot) is not installed", hint: "`make deps` installs gnuplot-nox")
            }
            throw RunError("\(script): gnuplot failed (status \(result.status)): \(result.errors.trimmingCharacters(in: .whitespacesAndNewlines))",
                           hint: "a bug in the report's figure code; the tables are fine")
        }
        try replace(png, with: pngTemp)
        try replace(script, with: scriptTemp)
    }

    private func replace(_ path: String, with temporary: String) throws {
        if rename(temporary, path) != 0 {
            throw RunError("\(path): cannot rename \(temporary) into place", hint: "check the folder is writable")
        }
    }
}
