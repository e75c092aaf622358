import Datasets
import Personalisation
import Tensor
import Testing
import Training

/// The whole per-user pipeline on the engine fixture: 2 users of 2 classes each.
@Suite(.serialized) struct UserPipelineTests {
    static func splits() -> (train: DatasetSplit, test: DatasetSplit) {
        let names = ["h", "v", "square", "frame"]
        let train = EngineFixture.data(classPattern: [0, 1, 2, 3], count: 160, seed: 31)
        let test = EngineFixture.data(classPattern: [0, 1, 2, 3], count: 80, seed: 32)
        return (DatasetSplit(name: "train", images: train.images, labels: train.labels.map { $0! }, classNames: names),
                DatasetSplit(name: "test", images: test.images, labels: test.labels.map { $0! }, classNames: names))
    }

    static func options(baseline: Bool) -> UserPipelineOptions {
        UserPipelineOptions(personalisation: EngineFixture.quick(epochs: 20),
                            profiler: ProfilerOptions(basis: .labelsWhenAtLeast(1), latency: LatencyOptions(warmUp: 1, repeats: 3)),
                            inference: .default, baseline: baseline)
    }

    static func users(labelled: Double) throws -> [SimulatedUser] {
        var spec = UserSplitSpec()
        try spec.apply(splitSyntax: "classes:0,1;2,3")
        spec.samplesPerUser = 60
        spec.testSamplesPerUser = 30
        spec.labelledFraction = labelled
        let (train, test) = splits()
        return try UserSplit(spec: spec, seed: 3, train: train, test: test).users
    }

    @Test func everyStageReportsConsistentFigures() throws {
        let (train, test) = Self.splits()
        let users = try Self.users(labelled: 0.5)
        let model = EngineFixture.base
        for user in users {
            let r = try UserPipeline.run(model: model, user: user, train: train, test: test, options: Self.options(baseline: true))
            #expect(r.exitNames == ["block1", "block2"])
            #expect(r.globalAccuracy.count == 3 && r.personalisedAccuracy.count == 3 && r.profiledAccuracy.count == 3)
            // The backbone is shared and frozen: the final classifier is the global one.
            #expect(r.personalisedAccuracy[2] == r.globalAccuracy[2])
            // The offline heads of the fixture are untrained; personalisation must help the best exit.
            #expect(r.personalisedAccuracy.dropLast().max()! > r.globalAccuracy.dropLast().max()!,
                    "user \(user.index): global \(r.globalAccuracy), personalised \(r.personalisedAccuracy)")
            #expect(r.classifierFLOPs.last == model.backbone.forwardFLOPs)
            #expect(r.classifierFLOPs[0] < r.classifierFLOPs[1])
            #expect(r.policy.samples == user.test.count && r.fullNetwork.samples == user.test.count)
            #expect(r.policy.meanFLOPs <= r.fullNetwork.meanFLOPs + Double(r.classifierFLOPs[1]))
            #expect(r.fullNetwork.accuracy == r.globalAccuracy[2])
            let exits = r.exitCost, baseline = try #require(r.baselineCost)
            #expect(exits.totalFLOPs > 0 && exits.totalFLOPs < baseline.totalFLOPs)
            #expect(r.baselineAccuracy != nil)
            #expect(r.labelledSamples > 0 && r.labelledSamples < r.trainSamples)
        }
    }

    @Test func sameSeedSameAccuracies() throws {
        let (train, test) = Self.splits()
        let user = try Self.users(labelled: 1)[0]
        let a = try UserPipeline.run(model: EngineFixture.base, user: user, train: train, test: test,
                                     options: Self.options(baseline: false))
        let b = try UserPipeline.run(model: EngineFixture.base, user: user, train: train, test: test,
                                     options: Self.options(baseline: false))
        #expect(a.personalisedAccuracy == b.personalisedAccuracy)
        #expect(a.selected == b.selected && a.thresholds == b.thresholds)
        #expect(a.policy.accuracy == b.policy.accuracy && a.policy.meanFLOPs == b.policy.meanFLOPs)
        #expect(a.exitCost.totalFLOPs == b.exitCost.totalFLOPs)
    }
}
