import Foundation
import Testing
@testable import Datasets

@Suite struct ManifestTests {
    static func sample() -> DatasetManifest {
        DatasetManifest(
            name: "toy",
            classes: [.init(folder: "a", name: "A"), .init(folder: "b_c", name: "B/C"), .init(folder: "d", name: "D")],
            superclasses: [.init(name: "first", classes: ["a", "d"]), .init(name: "second", classes: ["b_c"])],
            imageShape: [1, 2, 3], source: "tests",
            splits: [.init(name: "train", classCounts: [2, 0, 1])], checksum: FNV1a.format(7))
    }

    @Test func roundTripsThroughJSONFile() throws {
        let dir = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let manifest = Self.sample()
        try manifest.write(directory: dir)
        #expect(try DatasetManifest.read(directory: dir) == manifest)
        #expect(manifest.superclassOfClass == [0, 1, 0])
        #expect(manifest.splits[0].count == 3)
        // Same manifest, same bytes.
        #expect(manifest.encoded() == Self.sample().encoded())
    }

    @Test func invalidManifestsAreRejected() {
        var duplicate = Self.sample()
        duplicate.classes[2].folder = "a"
        var overlapping = Self.sample()
        overlapping.superclasses![1].classes.append("a")
        var uncovered = Self.sample()
        uncovered.superclasses![1].classes = []
        var unknown = Self.sample()
        unknown.superclasses![0].classes.append("zz")
        var shape = Self.sample()
        shape.imageShape = [2, 28, 28]
        var counts = Self.sample()
        counts.splits[0].classCounts = [1]
        var unsafe = Self.sample()
        unsafe.classes[0].folder = "T-shirt/top"
        for (bad, fragment) in [(duplicate, "appears twice"), (overlapping, "exactly one"), (uncovered, "no superclass"),
                                (unknown, "not a class folder"), (shape, "imageShape"), (counts, "class counts"),
                                (unsafe, "safe folder name")] {
            let error = #expect(throws: DatasetError.self) { try bad.validate(path: "x/dataset.json") }
            #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "no error")")
            #expect(error?.path == "x/dataset.json")
        }
    }

    @Test func malformedJSONNamesKey() throws {
        let dir = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var text = String(decoding: Self.sample().encoded(), as: UTF8.self)
        text = text.replacingOccurrences(of: "\"source\" : \"tests\",", with: "")
        try text.write(toFile: dir + "/dataset.json", atomically: true, encoding: .utf8)
        let error = #expect(throws: DatasetError.self) { try DatasetManifest.read(directory: dir) }
        #expect(error?.message == "missing key \"source\"")
        let missing = #expect(throws: DatasetError.self) { try DatasetManifest.read(directory: dir + "/nope") }
        #expect(missing?.hint.contains("persephone datasets import") == true)
    }
}

@Suite struct DecodedCacheTests {
    static func split() -> DecodedSplit {
        let images = LabelledImages(channels: 3, height: 2, width: 2, pixels: Fixture.bytes(5 * 12, seed: 9),
                                    labels: [0, 0, 1, 4, 300])
        return DecodedSplit(fingerprint: 0xdead_beef_0123_4567, images: images)
    }

    @Test func roundTrips() throws {
        let original = Self.split()
        let bytes = DecodedCache.encode(original)
        #expect(bytes.count == 40 + 16 * 3 + 4 * 5 + 60 + 8)
        #expect(try DecodedCache.decode(bytes).get() == original)
    }

    @Test func corruptionIsDetected() {
        let bytes = DecodedCache.encode(Self.split())
        for position in [0, 9, 50, bytes.count / 2, bytes.count - 20, bytes.count - 1] {
            var damaged = bytes
            damaged[position] ^= 0x10
            #expect(throws: DecodedCache.CacheCorruption.self) { try DecodedCache.decode(damaged).get() }
        }
        #expect(throws: DecodedCache.CacheCorruption.self) { try DecodedCache.decode(Array(bytes.dropLast())).get() }
        #expect(throws: DecodedCache.CacheCorruption.self) { try DecodedCache.decode(bytes + [0]).get() }
        #expect(throws: DecodedCache.CacheCorruption.self) { try DecodedCache.decode([]).get() }
    }

    @Test func statisticsMatchHandComputation() {
        // Channel 0 values 0 and 255 -> mean 0.5, std 0.5; channel 1 all 51 -> 0.2, 0.
        let images = LabelledImages(channels: 2, height: 1, width: 2, pixels: [0, 255, 51, 51, 255, 0, 51, 51],
                                    labels: [0, 1])
        let split = DecodedSplit(fingerprint: 0, images: images)
        #expect(abs(split.mean[0] - 0.5) < 1e-12 && abs(split.std[0] - 0.5) < 1e-12)
        #expect(abs(split.mean[1] - 0.2) < 1e-12 && split.std[1] < 1e-7)
    }

    @Test func blockHashDependsOnEveryByteAndIsStable() {
        let data = Fixture.bytes(3 << 20 | 17, seed: 10)
        let h = FNV1a.blocks(data)
        #expect(FNV1a.blocks(data) == h)
        var changed = data
        changed[(2 << 20) + 5] ^= 1
        #expect(FNV1a.blocks(changed) != h)
    }
}
