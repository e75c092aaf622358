import Foundation
import Testing
@testable import Datasets

/// Runs on the real Fashion-MNIST when the Debian package dataset-fashion-mnist is
/// installed, and is skipped otherwise.
@Suite struct RealFashionMNISTTests {
    static let installed = FileManager.default.fileExists(
        atPath: DatasetSources.fashionMNISTDefault + "/t10k-images-idx3-ubyte.gz")

    @Test(.enabled(if: installed, "needs the Debian package dataset-fashion-mnist"))
    func decodedPixelsEqualTheIDXBytes() throws {
        let plan = try DatasetSources.fashionMNIST()
        #expect(plan.splits.map(\.images.count) == [60000, 10000])
        for (split, perClass) in zip(plan.splits, [6000, 1000]) {
            #expect((0..<10).map { k in split.images.labels.filter { $0 == k }.count } == [Int](repeating: perClass, count: 10))
        }
        // The test split alone keeps this fast in a debug build; the importer and loader
        // treat both splits alike.
        var testOnly = plan
        testOnly.splits = [plan.splits[1]]
        let root = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let manifest = try DatasetImporter.write(testOnly, to: root + "/fashion-mnist")
        #expect(manifest.splits[0].classCounts == [Int](repeating: 1000, count: 10))
        let tree = try DatasetTree(root: root + "/fashion-mnist")
        #expect(try tree.check().passed)
        let (decoded, _) = try tree.decode(split: "test")
        let source = plan.splits[1].images
        let order = sampleOrder(source.labels)
        #expect(decoded.images.labels == order.map { source.labels[$0] })
        #expect(decoded.images.pixels == order.flatMap { source.image($0) })
        #expect(try tree.verify(against: testOnly).passed)
    }
}
