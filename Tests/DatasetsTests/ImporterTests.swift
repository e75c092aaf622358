import Codecs
import Foundation
import Testing
@testable import Datasets

@Suite struct FashionMNISTImportTests {
    @Test func importWritesTreeManifestAndExactPixels() throws {
        let root = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fixture = try FashionFixture(directory: root)
        let destination = root + "/datasets/fashion-mnist"
        var lines = [String]()
        let manifest = try DatasetImporter.write(try DatasetSources.fashionMNIST(from: root), to: destination,
                                                 log: { lines.append($0) })
        #expect(lines.last == "import test: 7/7")

        #expect(try DatasetManifest.read(directory: destination) == manifest)
        #expect(manifest.name == "fashion-mnist")
        #expect(manifest.imageShape == [1, FashionFixture.rows, FashionFixture.columns])
        #expect(manifest.classes.map(\.name) == DatasetSources.fashionMNISTClasses)
        #expect(manifest.classes.map(\.folder) == ["t-shirt_top", "trouser", "pullover", "dress", "coat",
                                                   "sandal", "shirt", "sneaker", "bag", "ankle_boot"])
        #expect(manifest.superclasses == [
            .init(name: "tops", classes: ["t-shirt_top", "pullover", "coat", "shirt"]),
            .init(name: "bottoms", classes: ["trouser"]), .init(name: "dresses", classes: ["dress"]),
            .init(name: "footwear", classes: ["sandal", "sneaker", "ankle_boot"]), .init(name: "bags", classes: ["bag"]),
        ])
        #expect(manifest.splits.map(\.name) == ["train", "test"])
        for (split, images) in [(manifest.splits[0], fixture.train), (manifest.splits[1], fixture.test)] {
            #expect(split.classCounts == (0..<10).map { k in images.labels.filter { $0 == k }.count })
        }
        #expect(manifest.splits[1].classCounts[9] == 0)

        // Every image is at <split>/<folder>/<zero-padded source index>.png with the source's bytes.
        var checksum = DatasetChecksum()
        for (split, images) in [("train", fixture.train), ("test", fixture.test)] {
            for i in 0..<images.count {
                let relative = "\(split)/\(manifest.classes[images.labels[i]].folder)/\(String(format: "%05d", i)).png"
                let bytes = [UInt8](FileManager.default.contents(atPath: destination + "/" + relative)!)
                let png = try PNG.decode(bytes, as: .gray, name: relative)
                #expect(png.width == FashionFixture.columns && png.height == FashionFixture.rows)
                #expect(png.pixels == Array(images.image(i)))
                checksum.add(relativePath: relative, bytes: bytes)
            }
        }
        #expect(manifest.checksum == checksum.value)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: root + "/datasets")
        #expect(leftovers == ["fashion-mnist"])
    }

    @Test func uncompressedIDXFilesAreAccepted() throws {
        let root = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fixture = try FashionFixture(directory: root, gzip: false)
        let plan = try DatasetSources.fashionMNIST(from: root)
        #expect(plan.splits[0].images == fixture.train)
        #expect(plan.splits[1].images == fixture.test)
    }

    @Test func existingTreeIsRefusedUnlessForced() throws {
        let root = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try FashionFixture(directory: root)
        let destination = root + "/tree"
        let plan = try DatasetSources.fashionMNIST(from: root)
        try DatasetImporter.write(plan, to: destination)
        let error = #expect(throws: DatasetError.self) { try DatasetImporter.write(plan, to: destination) }
        #expect(error?.path == destination)
        #expect(error?.hint.contains("--force") == true)
        _ = FileManager.default.createFile(atPath: destination + "/marker", contents: Data())
        try DatasetImporter.write(plan, to: destination, force: true)
        #expect(!FileManager.default.fileExists(atPath: destination + "/marker"))
        #expect(try DatasetTree(root: destination).check().passed)
        let names = try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasPrefix("tree") }
        #expect(names == ["tree"])
    }

    @Test func failedImportLeavesNoTreeAndNoPartialDirectory() throws {
        let root = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        // Two-channel images cannot be written as PNGs: the import fails after creating folders.
        let images = LabelledImages(channels: 2, height: 2, width: 2, pixels: Fixture.bytes(3 * 8, seed: 13), labels: [0, 1, 0])
        let plan = ImportPlan(name: "bad", classNames: ["a", "b"], superclasses: nil, source: "tests",
                              splits: [.init(name: "train", images: images)])
        #expect(throws: (any Error).self) { try DatasetImporter.write(plan, to: root + "/tree") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).isEmpty)
    }

    @Test func badSourceFilesNameTheFileAndHowToFixIt() throws {
        let root = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fixture = try FashionFixture(directory: root)
        func expectError(_ file: String, _ fragment: String) {
            let error = #expect(throws: DatasetError.self) { try DatasetSources.fashionMNIST(from: root) }
            #expect(error?.path == root + "/" + file)
            #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "no error")")
            #expect(error?.hint.contains("fashion-mnist") == true)
        }
        // Truncated images (inside a valid gzip stream).
        let images = Fixture.idxImages(count: fixture.train.count, rows: FashionFixture.rows,
                                       columns: FashionFixture.columns, pixels: fixture.train.pixels)
        try FashionFixture.put(Array(images.dropLast(3)), "train-images-idx3-ubyte", in: root)
        expectError("train-images-idx3-ubyte.gz", "truncated")
        // Labels where images belong: wrong magic.
        try FashionFixture.put(Fixture.idxLabels([1, 2]), "train-images-idx3-ubyte", in: root)
        expectError("train-images-idx3-ubyte.gz", "expected magic 0x00000803")
        try FashionFixture.put(images, "train-images-idx3-ubyte", in: root)
        // A label count that does not match the images.
        try FashionFixture.put(Fixture.idxLabels([1, 2]), "train-labels-idx1-ubyte", in: root)
        expectError("train-labels-idx1-ubyte.gz", "2 labels for the 23 images")
        // A label out of range.
        try FashionFixture.put(Fixture.idxLabels(Array(fixture.train.labels.map(UInt8.init).dropLast()) + [10]),
                               "train-labels-idx1-ubyte", in: root)
        expectError("train-labels-idx1-ubyte.gz", "label 10 at index 22")
        // A file that is not gzip at all, then a missing file.
        Fixture.write(Fixture.idxLabels(fixture.train.labels.map(UInt8.init)), to: root + "/train-labels-idx1-ubyte.gz")
        let notGzip = #expect(throws: DatasetError.self) { try DatasetSources.fashionMNIST(from: root) }
        #expect(notGzip?.path == root + "/train-labels-idx1-ubyte.gz")
        try FileManager.default.removeItem(atPath: root + "/train-labels-idx1-ubyte.gz")
        expectError("train-labels-idx1-ubyte.gz", "missing")
    }
}

/// A CIFAR-10 binary release in `<root>/cifar-10-batches-bin`: 2 records per train batch,
/// 3 test records, 3 classes.
struct CIFAR10Fixture {
    let train: LabelledImages
    let test: LabelledImages
    let names = ["airplane", "automobile", "bird"]

    init(root: String) throws {
        let dir = root + "/cifar-10-batches-bin"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try (names.joined(separator: "\n") + "\n\n").write(toFile: dir + "/batches.meta.txt", atomically: true, encoding: .utf8)
        var train = LabelledImages(channels: 3, height: 32, width: 32, pixels: [], labels: [])
        for k in 1...5 {
            let batch = LabelledImages(channels: 3, height: 32, width: 32, pixels: Fixture.bytes(2 * 3072, seed: UInt64(20 + k)),
                                       labels: [k % 3, (k + 1) % 3])
            Fixture.write(Fixture.cifar10(labels: batch.labels.map(UInt8.init), pixels: batch.pixels),
                          to: dir + "/data_batch_\(k).bin")
            train.append(batch)
        }
        test = LabelledImages(channels: 3, height: 32, width: 32, pixels: Fixture.bytes(3 * 3072, seed: 30), labels: [2, 0, 2])
        Fixture.write(Fixture.cifar10(labels: test.labels.map(UInt8.init), pixels: test.pixels), to: dir + "/test_batch.bin")
        self.train = train
    }
}

@Suite struct CIFARImportTests {
    @Test func cifar10ImportKeepsBatchOrderAndRGBPixels() throws {
        let root = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fixture = try CIFAR10Fixture(root: root)
        let plan = try DatasetSources.cifar10(from: root)
        #expect(plan.classNames == fixture.names)
        #expect(plan.splits[0].images == fixture.train)
        #expect(plan.splits[1].images == fixture.test)
        let manifest = try DatasetImporter.write(plan, to: root + "/tree")
        #expect(manifest.imageShape == [3, 32, 32])
        #expect(manifest.superclasses == nil)
        #expect(manifest.splits.map(\.classCounts) == [[3, 3, 4], [1, 0, 2]])
        // Source index 3 is batch 2's second record, label 0; the PNG holds it interleaved.
        let png = try PNG.read(path: root + "/tree/train/airplane/00003.png", as: .rgb)
        #expect(png.pixels == fixture.train.interleavedImage(3))
        #expect(png.pixels[0..<3] == [fixture.train.image(3)[3 * 3072], fixture.train.image(3)[3 * 3072 + 1024],
                                      fixture.train.image(3)[3 * 3072 + 2048]])
        let loaded = try DatasetTree(root: root + "/tree").load(split: "train").split
        let order = sampleOrder(fixture.train.labels)
        #expect(loaded.images.scalars == order.flatMap { fixture.train.image($0) }.map { Float($0) / 255 })
    }

    @Test func cifar10TruncatedBatchIsNamed() throws {
        let root = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try CIFAR10Fixture(root: root)
        let batch = root + "/cifar-10-batches-bin/data_batch_3.bin"
        let bytes = [UInt8](FileManager.default.contents(atPath: batch)!)
        Fixture.write(Array(bytes.prefix(5000)), to: batch)
        let error = #expect(throws: DatasetError.self) { try DatasetSources.cifar10(from: root) }
        #expect(error?.path == batch)
        #expect(error?.message.hasPrefix("truncated") == true)
        #expect(error?.hint.contains("cifar-10-binary.tar.gz") == true)
        try FileManager.default.removeItem(atPath: root + "/cifar-10-batches-bin/batches.meta.txt")
        let missing = #expect(throws: DatasetError.self) { try DatasetSources.cifar10(from: root + "/cifar-10-batches-bin") }
        #expect(missing?.path == root + "/cifar-10-batches-bin/batches.meta.txt")
    }

    func writeCIFAR100(_ dir: String, coarse: [UInt8], fine: [UInt8], testCoarse: [UInt8], testFine: [UInt8]) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "apple\naquarium_fish\nbear\nbeaver\n".write(toFile: dir + "/fine_label_names.txt", atomically: true, encoding: .utf8)
        try "fruit_and_vegetables\nfish\nlarge_carnivores\n".write(toFile: dir + "/coarse_label_names.txt", atomically: true, encoding: .utf8)
        Fixture.write(Fixture.cifar100(coarse: coarse, fine: fine, pixels: Fixture.bytes(fine.count * 3072, seed: 40)),
                      to: dir + "/train.bin")
        Fixture.write(Fixture.cifar100(coarse: testCoarse, fine: testFine, pixels: Fixture.bytes(testFine.count * 3072, seed: 41)),
                      to: dir + "/test.bin")
    }

    @Test func cifar100CoarseLabelsBecomeSuperclasses() throws {
        let root = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = root + "/cifar-100-binary"
        // fine 0 -> coarse 0, fine 1 -> coarse 1, fines 2 and 3 -> coarse 2.
        try writeCIFAR100(dir, coarse: [2, 0, 1, 2, 2], fine: [3, 0, 1, 2, 3], testCoarse: [1], testFine: [1])
        let manifest = try DatasetImporter.write(try DatasetSources.cifar100(from: root), to: root + "/tree")
        #expect(manifest.classes.map(\.folder) == ["apple", "aquarium_fish", "bear", "beaver"])
        #expect(manifest.superclasses == [
            .init(name: "fruit_and_vegetables", classes: ["apple"]), .init(name: "fish", classes: ["aquarium_fish"]),
            .init(name: "large_carnivores", classes: ["bear", "beaver"]),
        ])
        #expect(manifest.splits.map(\.classCounts) == [[1, 1, 1, 2], [0, 1, 0, 0]])
        let train = try DatasetTree(root: root + "/tree").load(split: "train").split
        #expect(train.labels == [0, 1, 2, 3, 3])
        #expect(train.superclassLabels == [0, 1, 2, 2, 2])
        #expect(train.superclassNames == ["fruit_and_vegetables", "fish", "large_carnivores"])
    }

    @Test func cifar100InconsistentCoarseLabelIsAnError() throws {
        let root = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try writeCIFAR100(root, coarse: [0, 1, 2, 2], fine: [0, 1, 2, 3], testCoarse: [1], testFine: [0])
        let error = #expect(throws: DatasetError.self) { try DatasetSources.cifar100(from: root) }
        #expect(error?.path == root + "/test.bin")
        #expect(error?.message.contains("fine class apple has coarse label fish, elsewhere fruit_and_vegetables") == true)
    }
}
