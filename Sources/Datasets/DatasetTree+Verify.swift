/// The outcome of `DatasetTree.verify(against:)`.
public struct VerifyReport: Sendable {
    /// Images compared, over all splits.
    public var imagesCompared: Int
    /// What differed, one line each (at most `limit` per split are itemised).
    public var mismatches: [String]
    public var passed: Bool { mismatches.isEmpty }
}

extension DatasetTree {
    /// Compares the tree with the source it was imported from: every split of `plan` must
    /// hold exactly the source's images, each under `<split>/<its class folder>/<source index>.png`,
    /// decoding to the source's bytes. PNGs are decoded afresh (the cache is not used), so
    /// this checks the files themselves.
    public func verify(against plan: ImportPlan, limit: Int = 10,
                       log: @escaping (String) -> Void = { _ in }) throws -> VerifyReport {
        var mismatches = [String]()
        var compared = 0
        for source in plan.splits {
            let images = source.images
            guard manifest.splits.contains(where: { $0.name == source.name }) else {
                mismatches.append("\(source.name): split missing from the tree")
                continue
            }
            let (decoded, _) = try decode(split: source.name, useCache: false, checkingCounts: false, log: log)
            let entries = try list(split: source.name).entries
            var seen = [Bool](repeating: false, count: images.count)
            var itemised = 0
            func report(_ line: String) {
                if itemised < limit { mismatches.append(line) }
                itemised += 1
            }
            for (position, entry) in entries.enumerated() {
                let file = entry.relativePath.split(separator: "/").last!
                guard let id = Int(file.dropLast(4)), id >= 0, id < images.count, !seen[id] else {
                    report("\(entry.relativePath): not named after a distinct source index 0..<\(images.count)")
                    continue
                }
                seen[id] = true
                compared += 1
                if manifest.classes[entry.label].name != plan.classNames[images.labels[id]] {
                    report("\(entry.relativePath): in class \(manifest.classes[entry.label].name), the source says \(plan.classNames[images.labels[id]])")
                }
                let size = images.imageSize
                if decoded.images.imageSize != size
                    || decoded.images.pixels[position * size ..< (position + 1) * size] != images.image(id) {
                    report("\(entry.relativePath): pixels differ from source image \(id)")
                }
            }
            let missing = seen.indices.filter { !seen[$0] }
            if !missing.isEmpty {
                report("\(source.name): \(missing.count) source images have no file (first: index \(missing[0]))")
            }
            if itemised > limit { mismatches.append("\(source.name): \(itemised - limit) more mismatches") }
        }
        return VerifyReport(imagesCompared: compared, mismatches: mismatches)
    }
}
