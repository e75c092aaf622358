import Codecs
import Foundation

/// How a load used the decoded cache.
public enum CacheOutcome: Equatable, Sendable {
    /// The cache matched the tree and was used; no PNG was decoded.
    case hit
    /// The PNGs were decoded and the cache (re)written; `reason` says why it was not used.
    case rebuilt(reason: String)
    /// The PNGs were decoded; the cache could not be written (`reason`), the load succeeded.
    case unwritable(reason: String)
    /// Caching was turned off for this load.
    case disabled
}

extension DatasetTree {
    /// Path of a split's decoded cache.
    public func cachePath(split: String) -> String {
        path(DatasetTree.cacheDirectory + "/" + split + ".bin")
    }

    /// Loads a split into memory (see `DatasetSplit`), through the decoded cache when it
    /// matches the tree. `log` receives progress and cache notes.
    public func load(split name: String, useCache: Bool = true,
                     log: @escaping (String) -> Void = { _ in }) throws -> (split: DatasetSplit, cache: CacheOutcome) {
        let (decoded, outcome) = try decode(split: name, useCache: useCache, log: log)
        return (DatasetSplit(name: name, decoded: decoded, manifest: manifest), outcome)
    }

    /// The split as bytes, from the cache if its fingerprint matches, else decoded from the
    /// PNGs on all cores (and the cache rewritten atomically).
    /// `checkingCounts: false` decodes whatever the split holds (`verify` compares it with
    /// the source itself).
    public func decode(split name: String, useCache: Bool = true, checkingCounts: Bool = true,
                       log: @escaping (String) -> Void = { _ in }) throws -> (DecodedSplit, CacheOutcome) {
        let listing = try list(split: name)
        if checkingCounts { try checkCounts(split: name, entries: listing.entries) }
        let fingerprint = try self.fingerprint(split: name, entries: listing.entries)
        let cacheFile = cachePath(split: name)
        var reason = "no cache yet"
        if useCache, let data = FileManager.default.contents(atPath: cacheFile) {
            switch DecodedCache.decode([UInt8](data)) {
            case .success(let cached) where cached.fingerprint == fingerprint:
                return (cached, .hit)
            case .success:
                reason = "the tree changed since the cache was written"
            case .failure(let corruption):
                reason = "the cache was corrupt (\(corruption.reason))"
            }
            log("cache \(cacheFile): \(reason); decoding the PNGs")
        }
        let decoded = DecodedSplit(fingerprint: fingerprint,
                                   images: try decodePNGs(split: name, entries: listing.entries, log: log))
        guard useCache else { return (decoded, .disabled) }
        do {
            try makeCacheDirectory()
            try Data(DecodedCache.encode(decoded)).write(to: URL(fileURLWithPath: cacheFile), options: .atomic)
            return (decoded, .rebuilt(reason: reason))
        } catch {
            log("cache \(cacheFile): cannot write (\(error.localizedDescription)); continuing without it")
            return (decoded, .unwritable(reason: error.localizedDescription))
        }
    }

    /// Identifies the state a split was decoded from: FNV-1a-64 over dataset.json's canonical
    /// encoding, the split name, and for each image in sample order its relative path, size,
    /// and modification time (seconds, nanoseconds). Any added, removed, renamed, resized or
    /// rewritten file changes it.
    public func fingerprint(split name: String, entries: [Entry]) throws -> UInt64 {
        let stamps = try parallelMap(count: entries.count, chunkSize: 1024) { i -> FileStamp in
            let file = path(entries[i].relativePath)
            guard let stamp = FileStamp(path: file) else {
                throw DatasetError(path: file, message: "cannot stat", hint: "check permissions, or re-import the dataset")
            }
            return stamp
        }
        var h = FNV1a()
        // Version of what a decode checks (stored channels since v2): caches written by a
        // build that checked less are decoded again.
        h.feed(string: "decode-checks-v2")
        h.feed(manifest.encoded())
        h.feed(string: name)
        for (entry, stamp) in zip(entries, stamps) {
            h.feed(string: entry.relativePath)
            h.feed(word: UInt64(bitPattern: stamp.size))
            h.feed(word: UInt64(bitPattern: stamp.seconds))
            h.feed(word: UInt64(bitPattern: stamp.nanoseconds))
        }
        return h.value
    }

    func decodePNGs(split name: String, entries: [Entry], log: @escaping (String) -> Void) throws -> LabelledImages {
        let (c, h, w) = (manifest.channels, manifest.height, manifest.width)
        let color: PNGColor = c == 1 ? .gray : .rgb
        let reporter = ProgressReporter(label: "decode \(name)", total: entries.count, sink: log)
        let images = try parallelMap(count: entries.count, progress: reporter.update) { i -> [UInt8] in
            let file = path(entries[i].relativePath)
            let bytes = try PNG.readFile(path: file)
            let stored = try PNG.info(bytes, name: file)
            let image = try PNG.decode(bytes, as: color, name: file)
            guard image.width == w, image.height == h else {
                throw DatasetError(path: file, message: "is \(image.width)x\(image.height), the dataset's images are \(w)x\(h) (dataset.json imageShape)",
                                   hint: "run `persephone datasets check \(root)` to list every bad image; replace them or re-import the dataset")
            }
            guard stored.channels == c else {
                throw DatasetError(path: file, message: "stores \(PNGInfo.describe(channels: stored.channels)), the dataset's images are \(PNGInfo.describe(channels: c)) (dataset.json imageShape)",
                                   hint: "convert it to \(PNGInfo.describe(channels: c)) without alpha; `persephone datasets check \(root)` lists every such image")
            }
            return LabelledImages.planar(image.pixels, channels: c, plane: h * w)
        }
        var pixels = [UInt8]()
        pixels.reserveCapacity(entries.count * c * h * w)
        for image in images { pixels += image }
        return LabelledImages(channels: c, height: h, width: w, pixels: pixels, labels: entries.map(\.label))
    }

    /// Refuses a split whose files per class differ from dataset.json's counts: the tree
    /// changed (or was copied incompletely) since dataset.json was written.
    func checkCounts(split name: String, entries: [Entry]) throws {
        let expected = try split(named: name).classCounts
        var counts = [Int](repeating: 0, count: manifest.classes.count)
        for entry in entries { counts[entry.label] += 1 }
        guard counts != expected else { return }
        let differing = manifest.classes.indices.filter { counts[$0] != expected[$0] }
        let listed = differing.prefix(3).map { "\(manifest.classes[$0].folder) \(counts[$0]) (dataset.json: \(expected[$0]))" }
        throw DatasetError(path: path(name),
                           message: "holds \(counts.reduce(0, +)) images, dataset.json says \(expected.reduce(0, +)); per class: "
                               + listed.joined(separator: ", ") + (differing.count > 3 ? ", ..." : ""),
                           hint: "restore the missing files, or if the change is intended run `persephone datasets init \(root) --refresh` to rewrite dataset.json from the files")
    }

    func makeCacheDirectory() throws {
        try FileManager.default.createDirectory(atPath: path(DatasetTree.cacheDirectory),
                                                withIntermediateDirectories: true)
    }
}

extension LabelledImages {
    /// H×W×C interleaved bytes (PNG rows) to C×H×W planes.
    static func planar(_ hwc: [UInt8], channels: Int, plane: Int) -> [UInt8] {
        if channels == 1 { return hwc }
        var chw = [UInt8](repeating: 0, count: hwc.count)
        for p in 0..<plane {
            for c in 0..<channels { chw[c * plane + p] = hwc[p * channels + c] }
        }
        return chw
    }
}
