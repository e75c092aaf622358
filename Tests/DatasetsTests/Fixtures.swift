import Foundation
import Tensor

/// Byte fixtures in the original distributions' exact formats, and temp directories.
enum Fixture {
    static func bigEndian(_ value: Int) -> [UInt8] {
        [UInt8(value >> 24 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    /// An IDX image file: magic 0x00000803, N, rows, columns, then the pixels.
    static func idxImages(count: Int, rows: Int, columns: Int, pixels: [UInt8]) -> [UInt8] {
        [0, 0, 8, 3] + bigEndian(count) + bigEndian(rows) + bigEndian(columns) + pixels
    }

    /// An IDX label file: magic 0x00000801, N, then the labels.
    static func idxLabels(_ labels: [UInt8]) -> [UInt8] {
        [0, 0, 8, 1] + bigEndian(labels.count) + labels
    }

    /// CIFAR-10 records: label byte, then 3072 pixel bytes each.
    static func cifar10(labels: [UInt8], pixels: [UInt8]) -> [UInt8] {
        labels.indices.flatMap { i in [labels[i]] + pixels[i * 3072 ..< (i + 1) * 3072] }
    }

    /// CIFAR-100 records: coarse label, fine label, then 3072 pixel bytes each.
    static func cifar100(coarse: [UInt8], fine: [UInt8], pixels: [UInt8]) -> [UInt8] {
        fine.indices.flatMap { i in [coarse[i], fine[i]] + pixels[i * 3072 ..< (i + 1) * 3072] }
    }

    /// Deterministic pseudo-random bytes.
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    /// A fresh, empty temporary directory; remove it with `FileManager.removeItem`.
    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "persephone-datasets-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ bytes: [UInt8], to path: String) {
        try! Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}

import Codecs
@testable import Datasets

/// A small Fashion-MNIST distribution on disk: gzipped IDX files as the Debian package has them.
struct FashionFixture {
    static let rows = 5, columns = 4
    let directory: String
    let train: LabelledImages
    let test: LabelledImages

    /// Train labels cycle through all 10 classes with uneven counts; test misses class 9.
    init(directory: String, trainCount: Int = 23, testCount: Int = 7, gzip: Bool = true) throws {
        self.directory = directory
        func make(_ count: Int, seed: UInt64, labels: (Int) -> Int) -> LabelledImages {
            LabelledImages(channels: 1, height: Self.rows, width: Self.columns,
                           pixels: Fixture.bytes(count * Self.rows * Self.columns, seed: seed),
                           labels: (0..<count).map(labels))
        }
        train = make(trainCount, seed: 11) { ($0 * 7 + $0 / 10) % 10 }
        test = make(testCount, seed: 12) { $0 % 9 }
        for (prefix, split) in [("train", train), ("t10k", test)] {
            let images = Fixture.idxImages(count: split.count, rows: Self.rows, columns: Self.columns, pixels: split.pixels)
            let labels = Fixture.idxLabels(split.labels.map(UInt8.init))
            try Self.put(images, "\(prefix)-images-idx3-ubyte", in: directory, gzip: gzip)
            try Self.put(labels, "\(prefix)-labels-idx1-ubyte", in: directory, gzip: gzip)
        }
    }

    static func put(_ bytes: [UInt8], _ name: String, in directory: String, gzip: Bool = true) throws {
        if gzip {
            Fixture.write(try Gzip.compress(bytes), to: directory + "/" + name + ".gz")
        } else {
            Fixture.write(bytes, to: directory + "/" + name)
        }
    }
}

/// Indices of `labels` in the tree's sample order: by class, then by source index.
func sampleOrder(_ labels: [Int]) -> [Int] {
    labels.indices.sorted { (labels[$0], $0) < (labels[$1], $1) }
}
