import ArgumentParser
import Datasets
import Foundation

/// `persephone datasets ...`: import, describe, check and time-load dataset trees.
struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "Import, inspect, check and load PNG class-folder datasets (docs/datasets.md).",
        subcommands: [Import.self, Init.self, Info.self, Check.self, Verify.self, LoadBench.self])

    enum Source: String, ExpressibleByArgument, CaseIterable {
        case fashionMNIST = "fashion-mnist", cifar10, cifar100

        /// Only Fashion-MNIST has a default source directory.
        func validate(from directory: String?) throws {
            if self != .fashionMNIST && directory == nil {
                throw ValidationError("\(rawValue) needs --from DIR, the extracted binary release")
            }
        }

        /// Reads the original files.
        func read(from directory: String?) throws -> ImportPlan {
            switch self {
            case .fashionMNIST:
                return try DatasetSources.fashionMNIST(from: directory ?? DatasetSources.fashionMNISTDefault)
            case .cifar10, .cifar100:
                guard let directory else {
                    throw ValidationError("\(rawValue) needs --from DIR, the extracted binary release")
                }
                return self == .cifar10 ? try DatasetSources.cifar10(from: directory)
                    : try DatasetSources.cifar100(from: directory)
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert an original distribution into a PNG class-folder tree.",
            discussion: """
                fashion-mnist reads the Debian package dataset-fashion-mnist's gzipped IDX files \
                (default --from \(DatasetSources.fashionMNISTDefault)); cifar10 and cifar100 read \
                the binary releases (cifar-10-batches-bin/, cifar-100-binary/) and need --from. \
                The tree is built beside --to and renamed into place when complete.
                """)

        @Argument(help: "Which dataset: \(Source.allCases.map(\.rawValue).joined(separator: ", ")).")
        var source: Source

        @Option(name: .customLong("from"), help: "Directory holding the original files.")
        var sourceDirectory: String?

        @Option(name: .customLong("to"), help: "Tree to create (default datasets/<name>).")
        var destination: String?

        @Flag(help: "Replace an existing tree at --to.")
        var force = false

        func validate() throws { try source.validate(from: sourceDirectory) }

        func run() throws {
            try DatasetsCLI.reportingErrors {
                let start = Date()
                let plan = try source.read(from: sourceDirectory)
                let to = destination ?? "datasets/\(plan.name)"
                DatasetsCLI.note("import \(plan.name): read \(plan.splits.map { "\($0.images.count) \($0.name)" }.joined(separator: " + ")) images; writing \(to)")
                let manifest = try DatasetImporter.write(plan, to: to, force: force, log: DatasetsCLI.note)
                let seconds = Date().timeIntervalSince(start)
                print("imported \(manifest.name) to \(to): "
                      + manifest.splits.map { "\($0.count) \($0.name)" }.joined(separator: " + ")
                      + " images, \(manifest.classes.count) classes, checksum \(manifest.checksum), "
                      + String(format: "%.1f s", seconds))
            }
        }
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Adopt a class-folder tree of PNGs as a dataset: write its dataset.json from the files.",
            discussion: """
                DIR holds train/<class>/*.png and test/<class>/*.png, or <class>/*.png split with \
                --test-fraction (per class, images ordered by a hash of their file name; the first \
                round(F x count) move to test/<class>/, the rest to train/<class>/). Classes, image \
                shape and channels (gray or RGB, no alpha), counts and checksum are read from the \
                files; every image is decoded. --refresh rewrites an existing dataset.json after the \
                files changed (docs/datasets.md).
                """)

        @Argument(help: "Directory holding the class folders (or train/ and test/).")
        var directory: String

        @Option(help: "Split a tree of class folders: the share of each class that becomes test images.")
        var testFraction: Double?

        @Flag(help: "Rewrite an existing dataset.json from the files (keeps class names, superclasses, source).")
        var refresh = false

        @Option(help: "Dataset name recorded in dataset.json (default: the directory's name).")
        var name: String?

        func run() throws {
            try DatasetsCLI.reportingErrors {
                let start = Date()
                let report = try DatasetAdoption.adopt(directory: directory, testFraction: testFraction, refresh: refresh,
                                                       name: name, log: DatasetsCLI.note)
                let m = report.manifest
                print("\(report.refreshed ? "refreshed" : "wrote") \(directory)/\(DatasetManifest.fileName): \(m.name), "
                      + m.splits.map { "\($0.count) \($0.name)" }.joined(separator: " + ")
                      + " images, \(m.classes.count) classes, \(m.imageShape.map(String.init).joined(separator: "x")) (CxHxW), "
                      + "checksum \(m.checksum)" + (report.moved > 0 ? ", \(report.moved) images moved into train/ and test/" : "")
                      + ", " + String(format: "%.1f s", Date().timeIntervalSince(start)))
            }
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a tree's classes, superclasses, image shape, and the per-class counts and checksum of the files on disk beside dataset.json's.")

        @Argument(help: "Dataset directory (the one holding dataset.json).")
        var directory: String

        func run() throws {
            try DatasetsCLI.reportingErrors {
                let tree = try DatasetTree(root: directory)
                print(try DatasetsCLI.describe(tree))
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode every image and report each bad one; exit status 1 if any.")

        @Argument(help: "Dataset directory (the one holding dataset.json).")
        var directory: String

        func run() throws {
            try DatasetsCLI.reportingErrors {
                let report = try DatasetTree(root: directory).check(log: DatasetsCLI.note)
                for problem in report.problems { print("\(directory)/\(problem)") }
                print("\(directory): \(report.imagesChecked) images checked, "
                      + (report.passed ? "no problems" : "\(report.problems.count) problem(s)")
                      + ", checksum \(report.checksum)")
                if !report.passed { throw ExitCode.failure }
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare a tree with the original files it was imported from, image by image; exit status 1 on any difference.")

        @Argument(help: "Dataset directory (the one holding dataset.json).")
        var directory: String

        @Option(help: "The original distribution: \(Source.allCases.map(\.rawValue).joined(separator: ", ")).")
        var source: Source

        @Option(name: .customLong("from"), help: "Directory holding the original files (as for import).")
        var sourceDirectory: String?

        func validate() throws { try source.validate(from: sourceDirectory) }

        func run() throws {
            try DatasetsCLI.reportingErrors {
                let plan = try source.read(from: sourceDirectory)
                let report = try DatasetTree(root: directory).verify(against: plan, log: DatasetsCLI.note)
                for line in report.mismatches { print("\(directory)/\(line)") }
                print("\(directory): \(report.imagesCompared) images compared with the \(source.rawValue) source, "
                      + (report.passed ? "all equal" : "\(report.mismatches.count) mismatch line(s)"))
                if !report.passed { throw ExitCode.failure }
            }
        }
    }

    struct LoadBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "load-bench",
            abstract: "Time loading a split twice (the second load should hit the decoded cache).")

        @Argument(help: "Dataset directory (the one holding dataset.json).")
        var directory: String

        @Option(help: "Split to load.")
        var split = "train"

        @Flag(help: "Delete the split's cache first, so the first load decodes the PNGs.")
        var cold = false

        func run() throws {
            try DatasetsCLI.reportingErrors {
                let tree = try DatasetTree(root: directory)
                if cold { try? FileManager.default.removeItem(atPath: tree.cachePath(split: split)) }
                for attempt in 1...2 {
                    let start = Date()
                    let (loaded, cache) = try tree.load(split: split, log: DatasetsCLI.note)
                    let seconds = Date().timeIntervalSince(start)
                    let shape = loaded.images.shape.map(String.init).joined(separator: "x")
                    print("load \(attempt) of \(split): \(shape), \(DatasetsCLI.describe(cache)), "
                          + String(format: "%.3f s", seconds))
                    if attempt == 2 {
                        print("mean " + loaded.mean.map { String(format: "%.6f", $0) }.joined(separator: " ")
                              + ", std " + loaded.std.map { String(format: "%.6f", $0) }.joined(separator: " "))
                    }
                }
            }
        }
    }
}

/// Output helpers shared by the dataset and image commands.
enum DatasetsCLI {
    /// Progress and notes go to stderr, so stdout holds only results.
    static func note(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Runs `body`, printing a thrown error to stderr and exiting with status 1.
    static func reportingErrors(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let exit as ExitCode {
            throw exit
        } catch let validation as ValidationError {
            throw validation
        } catch {
            note("error: \(error)")
            throw ExitCode.failure
        }
    }

    static func describe(_ cache: CacheOutcome) -> String {
        switch cache {
        case .hit: return "from cache"
        case .rebuilt(let reason): return "decoded PNGs (\(reason)), cache written"
        case .unwritable(let reason): return "decoded PNGs, cache not written (\(reason))"
        case .disabled: return "decoded PNGs, cache off"
        }
    }

    /// dataset.json's description with the files on disk: per-class counts as found (a
    /// differing count shows dataset.json's after it) and the checksum of the files now.
    static func describe(_ tree: DatasetTree) throws -> String {
        let m = tree.manifest
        let content = try tree.contentChecksum()
        let checksumLine = content.value == m.checksum ? "\(content.value) (files match dataset.json)"
            : "\(content.value) on disk; dataset.json says \(m.checksum): files changed (`persephone datasets init \(tree.root) --refresh` rewrites it)"
        var lines = [
            "dataset      \(m.name)",
            "directory    \(tree.root)",
            "source       \(m.source)",
            "image shape  \(m.imageShape.map(String.init).joined(separator: "x")) (CxHxW)",
            "checksum     \(checksumLine)",
            "classes      \(m.classes.count)",
        ]
        let splitNames = m.splits.map(\.name)
        var found: [[Int]] = []
        for split in m.splits {
            var counts = [Int](repeating: 0, count: m.classes.count)
            if FileManager.default.fileExists(atPath: tree.path(split.name)) {
                for entry in try tree.list(split: split.name).entries { counts[entry.label] += 1 }
            }
            found.append(counts)
        }
        func cell(_ s: Int, _ k: Int?) -> String {
            let onDisk = k.map { found[s][$0] } ?? found[s].reduce(0, +)
            let recorded = k.map { m.splits[s].classCounts[$0] } ?? m.splits[s].count
            return onDisk == recorded ? String(onDisk) : "\(onDisk) (dataset.json: \(recorded))"
        }
        let rows = m.classes.enumerated().map { k, entry in
            [String(k), entry.folder, entry.name] + m.splits.indices.map { cell($0, k) }
        }
        let total = ["", "", "total"] + m.splits.indices.map { cell($0, nil) }
        lines += table([["label", "folder", "name"] + splitNames] + rows + [total])
        if let groups = m.superclasses {
            lines.append("superclasses \(groups.count)")
            let names = Dictionary(uniqueKeysWithValues: m.classes.map { ($0.folder, $0.name) })
            for (g, group) in groups.enumerated() {
                lines.append("  \(g) \(group.name): " + group.classes.map { names[$0] ?? $0 }.joined(separator: ", "))
            }
        } else {
            lines.append("superclasses none")
        }
        return lines.joined(separator: "\n")
    }

    /// Left-aligned text columns separated by two spaces, indented by two.
    static func table(_ rows: [[String]]) -> [String] {
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
        return rows.map { row in
            var line = "  " + zip(row, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }
                .joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            return line
        }
    }
}
