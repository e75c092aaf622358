import Testing
import Codecs
@testable import Datasets

@Suite struct IDXTests {
    let hint = "get a good copy"

    @Test func parsesImagesAndLabels() throws {
        let pixels = Fixture.bytes(3 * 4 * 5, seed: 1)
        let images = try IDX.parseImages(Fixture.idxImages(count: 3, rows: 4, columns: 5, pixels: pixels),
                                         name: "img", hint: hint)
        #expect(images.count == 3 && images.rows == 4 && images.columns == 5)
        #expect(images.pixels == pixels)
        let labels = try IDX.parseLabels(Fixture.idxLabels([9, 0, 3]), name: "lab", hint: hint)
        #expect(labels == [9, 0, 3])
    }

    /// Found by `persephone-fuzz idx` (Tests/fuzz/regressions/idx/overflowing-dimensions.bin):
    /// 32-bit dimensions whose product overflows Int trapped instead of being refused.
    @Test func dimensionsWhoseProductOverflowsAreRefused() throws {
        let header: [UInt8] = [0, 0, 8, 3, 0, 0, 0xac, 0xf3, 0x6b, 0, 2, 0, 0, 0x22, 0, 3]
        let error = try #require(throws: DatasetError.self) {
            try IDX.parseImages(header + [0, 0, 0, 3], name: "img", hint: hint)
        }
        #expect(error.message.contains("more bytes than any file holds"))
        for count: UInt32 in [0xffff_ffff, 1] {
            let huge = Fixture.idxImages(count: Int(count), rows: 0xffff_ffff, columns: 0xffff_ffff, pixels: [])
            #expect(throws: DatasetError.self) { try IDX.parseImages(huge, name: "img", hint: hint) }
        }
    }

    @Test func dimensionsAreBigEndian() throws {
        let pixels = [UInt8](repeating: 7, count: 258 * 1 * 1)
        let images = try IDX.parseImages(Fixture.idxImages(count: 258, rows: 1, columns: 1, pixels: pixels),
                                         name: "img", hint: hint)
        #expect(images.count == 258)
    }

    @Test func wrongMagicNamesFileExpectationAndHint() {
        let labels = Fixture.idxLabels([1, 2])
        let error = #expect(throws: DatasetError.self) {
            try IDX.parseImages(labels, name: "train-images-idx3-ubyte.gz", hint: hint)
        }
        #expect(error?.path == "train-images-idx3-ubyte.gz")
        #expect(error?.message.contains("magic 0x00000801, expected magic 0x00000803") == true)
        #expect(error?.hint == hint)
        #expect(throws: DatasetError.self) {
            try IDX.parseLabels(Fixture.idxImages(count: 1, rows: 1, columns: 1, pixels: [0]), name: "l", hint: hint)
        }
    }

    @Test func truncatedAndOverlongFilesAreRejected() {
        let good = Fixture.idxImages(count: 2, rows: 3, columns: 3, pixels: Fixture.bytes(18, seed: 2))
        for cut in [0, 3, 10, good.count - 1] {
            let error = #expect(throws: DatasetError.self) {
                try IDX.parseImages(Array(good.prefix(cut)), name: "f", hint: hint)
            }
            #expect(error?.message.hasPrefix("truncated") == true, "cut at \(cut): \(error?.message ?? "")")
        }
        let error = #expect(throws: DatasetError.self) {
            try IDX.parseImages(good + [0], name: "f", hint: hint)
        }
        #expect(error?.message.contains("1 unexpected bytes") == true)
        let labels = Fixture.idxLabels([1, 2, 3])
        #expect(throws: DatasetError.self) { try IDX.parseLabels(Array(labels.dropLast()), name: "l", hint: hint) }
    }
}

@Suite struct CIFARTests {
    let hint = "re-download"

    @Test func parsesCIFAR10Records() throws {
        let pixels = Fixture.bytes(3 * 3072, seed: 3)
        let images = try CIFAR.parseCIFAR10(Fixture.cifar10(labels: [4, 0, 9], pixels: pixels), name: "b", hint: hint)
        #expect(images.labels == [4, 0, 9])
        #expect(images.coarseLabels == nil)
        #expect((images.channels, images.height, images.width) == (3, 32, 32))
        #expect(images.pixels == pixels)
    }

    @Test func parsesCIFAR100Records() throws {
        let pixels = Fixture.bytes(2 * 3072, seed: 4)
        let images = try CIFAR.parseCIFAR100(Fixture.cifar100(coarse: [19, 2], fine: [99, 5], pixels: pixels),
                                             name: "train.bin", hint: hint)
        #expect(images.labels == [99, 5])
        #expect(images.coarseLabels == [19, 2])
        #expect(images.pixels == pixels)
    }

    @Test func truncatedEmptyAndOutOfRangeAreRejected() {
        let good = Fixture.cifar10(labels: [1, 2], pixels: Fixture.bytes(2 * 3072, seed: 5))
        let error = #expect(throws: DatasetError.self) {
            try CIFAR.parseCIFAR10(Array(good.dropLast(100)), name: "data_batch_1.bin", hint: hint)
        }
        #expect(error?.path == "data_batch_1.bin")
        #expect(error?.message == "truncated: 6046 bytes is 1 whole 3073-byte records and 2973 bytes over")
        #expect(throws: DatasetError.self) { try CIFAR.parseCIFAR10([], name: "e", hint: hint) }
        // CIFAR-100 records read as CIFAR-10 have the wrong record size or bad labels.
        let hundred = Fixture.cifar100(coarse: [1], fine: [50], pixels: Fixture.bytes(3072, seed: 6))
        #expect(throws: DatasetError.self) { try CIFAR.parseCIFAR10(hundred, name: "h", hint: hint) }
        let outOfRange = Fixture.cifar10(labels: [10], pixels: Fixture.bytes(3072, seed: 7))
        let rangeError = #expect(throws: DatasetError.self) {
            try CIFAR.parseCIFAR10(outOfRange, name: "r", hint: hint)
        }
        #expect(rangeError?.message.contains("label 10, expected 0..<10") == true)
        let badCoarse = Fixture.cifar100(coarse: [20], fine: [0], pixels: Fixture.bytes(3072, seed: 8))
        #expect(throws: DatasetError.self) { try CIFAR.parseCIFAR100(badCoarse, name: "c", hint: hint) }
    }

    @Test func classNamesSkipBlankLines() throws {
        #expect(try CIFAR.parseNames("airplane\nautomobile\n\n\n", name: "m", hint: hint) == ["airplane", "automobile"])
        #expect(throws: DatasetError.self) { try CIFAR.parseNames("\n\n", name: "m", hint: hint) }
    }
}

@Suite struct HashAndNameTests {
    @Test func fnv1aMatchesPublishedVectors() {
        #expect(FNV1a.hash([UInt8]()) == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a.hash(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a.hash(Array("foobar".utf8)) == 0x8594_4171_f739_67e8)
        #expect(FNV1a.format(0xaf63_dc4c_8601_ec8c) == "fnv1a64:af63dc4c8601ec8c")
        #expect(FNV1a.format(1) == "fnv1a64:0000000000000001")
    }

    @Test func wordFeedIsLittleEndianBytes() {
        var a = FNV1a(), b = FNV1a()
        a.feed(word: 0x0102_0304_0506_0708)
        b.feed([8, 7, 6, 5, 4, 3, 2, 1] as [UInt8])
        #expect(a.value == b.value)
    }

    @Test func checksumIgnoresInsertionOrderButNotContent() {
        var a = DatasetChecksum(), b = DatasetChecksum(), c = DatasetChecksum()
        a.add(relativePath: "train/x/1.png", bytes: [1, 2])
        a.add(relativePath: "test/x/1.png", bytes: [3])
        b.add(relativePath: "test/x/1.png", bytes: [3])
        b.add(relativePath: "train/x/1.png", bytes: [1, 2])
        c.add(relativePath: "test/x/1.png", bytes: [3])
        c.add(relativePath: "train/x/1.png", bytes: [1, 3])
        #expect(a.value == b.value)
        #expect(a.value != c.value)
    }

    @Test func folderNamesAreSafe() {
        #expect(FolderName.folder(forClassName: "T-shirt/top") == "t-shirt_top")
        #expect(FolderName.folder(forClassName: "Ankle boot") == "ankle_boot")
        #expect(FolderName.folder(forClassName: "aquarium_fish") == "aquarium_fish")
        #expect(FolderName.folder(forClassName: "..") == "__")
        #expect(FolderName.folder(forClassName: "") == "_")
        for name in DatasetSources.fashionMNISTClasses {
            #expect(FolderName.isValid(FolderName.folder(forClassName: name)))
        }
        #expect(!FolderName.isValid(".cache"))
        #expect(!FolderName.isValid("a/b"))
        #expect(FolderName.isValid("Coat.v2"))
    }
}
