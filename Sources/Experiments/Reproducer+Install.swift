import Foundation

// Comparing a staging folder's tables with the committed folder's, and replacing the
// committed folder by renames only: the committed folder is renamed to
// `<staging root>/<its name>.replaced`, the staging folder renamed into its place, and the
// old one removed. A reproduction cut short between the renames is completed (the new
// folder is in place: the old one is removed) or undone (it is not: the old one is renamed
// back) when the next reproduction starts, so no half-replaced or moved-aside folder
// outlives it.

extension Reproducer {
    static let replacedSuffix = ".replaced"

    /// The deterministic tables of a run folder: every `*.csv.zst` but `timings.csv.zst`
    /// (wall clock), sorted.
    static func tableNames(_ folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".csv.zst") && $0 != "timings.csv.zst" }.sorted()
    }

    /// The deterministic tables present in only one of the folders or whose bytes differ.
    static func differingTables(_ a: String, _ b: String) -> [String] {
        Set(tableNames(a)).union(tableNames(b)).sorted().filter { name in
            let x = FileManager.default.contents(atPath: a + "/" + name)
            return x == nil || x != FileManager.default.contents(atPath: b + "/" + name)
        }
    }

    /// Replaces the committed folder by the staging one (renames; see above).
    func install(_ step: ReproduceStep) throws {
        try RunLock.refuseIfHeld(RunFolder(path: step.folder))
        let aside = stagingRoot + "/" + (step.folder as NSString).lastPathComponent + Reproducer.replacedSuffix
        try Reproducer.remove(aside)
        let committed = FileManager.default.fileExists(atPath: step.folder)
        if committed { try Reproducer.move(step.folder, to: aside) }
        try Reproducer.move(step.staging, to: step.folder)
        if committed { try Reproducer.remove(aside) }
    }

    /// Completes or undoes the installs an earlier reproduction was cut short in.
    func recoverInterruptedInstalls() throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: stagingRoot)) ?? []
        for name in names.sorted() where name.hasSuffix(Reproducer.replacedSuffix) {
            let aside = stagingRoot + "/" + name
            let folder = results + "/" + name.dropLast(Reproducer.replacedSuffix.count)
            if FileManager.default.fileExists(atPath: folder) {
                try Reproducer.remove(aside)
                notice("reproduce: completed the interrupted replacement of \(folder) (removed the old one)")
            } else {
                try Reproducer.move(aside, to: folder)
                notice("reproduce: undid the interrupted replacement of \(folder) (renamed the committed one back)")
            }
        }
    }

    static func move(_ from: String, to: String) throws {
        guard rename(from, to) == 0 else {
            throw RunError("cannot rename \(from) to \(to): \(String(cString: strerror(errno)))",
                           hint: "check that \((to as NSString).deletingLastPathComponent) is writable and on the same file system")
        }
    }

    /// Removes a folder if it exists.
    static func remove(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw RunError("cannot remove \(path): \(error.localizedDescription)", hint: "remove it yourself, then rerun")
        }
    }
}
