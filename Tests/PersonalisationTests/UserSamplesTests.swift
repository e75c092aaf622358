import Datasets
import Models
@testable import Personalisation
import Training
import Tensor
import Testing

@Suite("User samples")
struct UserSamplesTests {
    /// A 6-image 2x2 gray split whose pixel bytes are 10 x the image index, labels i % 3.
    private func split() -> DatasetSplit {
        let images = LabelledImages(channels: 1, height: 2, width: 2, pixels: (0..<24).map { UInt8(10 * ($0 / 4)) },
                                    labels: (0..<6).map { $0 % 3 })
        let manifest = DatasetManifest(name: "t", classes: ["a", "b", "c"].map { .init(folder: $0, name: $0) },
                                       superclasses: nil, imageShape: [1, 2, 2], source: "test", splits: [], checksum: "x")
        return DatasetSplit(name: "train", decoded: DecodedSplit(fingerprint: 0, images: images), manifest: manifest)
    }

    @Test("a user's validation share keeps labels only where flagged; the test set is all labelled")
    func fromUser() throws {
        let user = SimulatedUser(index: 0, classes: [0, 1, 2], superclass: nil, train: [0], trainLabelled: [true],
                                 validation: [4, 2, 5], validationLabelled: [true, false, true], test: [1, 3])
        let train = split()
        let validation = try UserSamples(validationOf: user, in: train)
        #expect(validation.labels == [1, nil, 2] && validation.labelledCount == 2)
        let test = try UserSamples(testOf: user, in: train)
        #expect(test.labels == [1, 0])
        // Samples are normalised with the network's statistics when batched.
        let batch = validation.batch(0..<2, normalization: InputNormalization(mean: [0.1], std: [0.5]))
        #expect(batch.shape == [2, 1, 2, 2])
        #expect(abs(batch.scalars[0] - (40.0 / 255 - 0.1) / 0.5) < 1e-6 && abs(batch.scalars[4] - (20.0 / 255 - 0.1) / 0.5) < 1e-6)
        let outside = SimulatedUser(index: 0, classes: [0], superclass: nil, train: [], trainLabelled: [],
                                    validation: [9], validationLabelled: [true], test: [])
        #expect(throws: OrchestratorError.self) { try UserSamples(validationOf: outside, in: train) }
    }
}
