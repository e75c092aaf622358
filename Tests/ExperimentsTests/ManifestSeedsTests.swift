import Testing
@testable import Experiments

@Suite struct ManifestSeedsTests {
    @Test func seedListsInTheConfigurationAreRecorded() {
        let spec = CanonicalValue.map([
            "config": .map(["seeds": .list([.int(1), .int(2), .int(3)]), "train": .map(["epochs": .int(5)])]),
            "sweep": .list([]),
        ])
        #expect(Manifest.seeds(in: spec) == [.int(1), .int(2), .int(3)])
    }

    @Test func sweptSeedsWinOverConfiguredOnes() {
        let spec = CanonicalValue.map([
            "config": .map(["seeds": .list([.int(1)])]),
            "sweep": .list([.map(["key": .string("seeds"), "values": .list([.int(4), .int(5)])])]),
        ])
        #expect(Manifest.seeds(in: spec) == [.int(4), .int(5)])
        #expect(Manifest.isSeedKey("train.seed") && !Manifest.isSeedKey("seedling"))
    }
}
