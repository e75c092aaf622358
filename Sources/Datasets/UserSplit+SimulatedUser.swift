/// One simulated user of a `UserSplit`: sample indices into the dataset's train and test
/// splits (positions in `DatasetSplit` sample order), with label-scarcity flags.
///
/// - `train` is the user's training pool in *pool order*, the order in which the user's
///   data arrive: scheduling round r sees the prefix `train[0 ..< r m]` (see `pool(count:)`).
///   `trainLabelled[i]` says whether `train[i]` keeps its label (parallel arrays).
/// - `validation` / `validationLabelled`: the held-out share for the profiler, same layout.
/// - `train` and `validation` never overlap, within a user or across users.
/// - `test`: indices into the test split, ascending, distinct within the user; different
///   users may share test samples.
public struct SimulatedUser: Codable, Equatable, Sendable {
    /// Position of the user in `UserSplit.users`.
    public var index: Int
    /// The classes the user has (at least one train or validation sample), ascending.
    public var classes: [Int]
    /// The superclass group of a `superclass` split, nil otherwise.
    public var superclass: Int?
    public var train: [Int]
    public var trainLabelled: [Bool]
    public var validation: [Int]
    public var validationLabelled: [Bool]
    public var test: [Int]

    public init(index: Int, classes: [Int], superclass: Int?, train: [Int], trainLabelled: [Bool],
                validation: [Int], validationLabelled: [Bool], test: [Int]) {
        precondition(train.count == trainLabelled.count && validation.count == validationLabelled.count)
        self.index = index
        self.classes = classes
        self.superclass = superclass
        self.train = train
        self.trainLabelled = trainLabelled
        self.validation = validation
        self.validationLabelled = validationLabelled
        self.test = test
    }

    private enum CodingKeys: String, CodingKey {
        case index, classes, superclass, train, trainLabelled, validation, validationLabelled, test
    }

    /// Decodes a saved user, refusing flag arrays that do not match their samples (which
    /// would otherwise surface as an out-of-range crash far from the file).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let train = try c.decode([Int].self, forKey: .train)
        let trainLabelled = try c.decode([Bool].self, forKey: .trainLabelled)
        let validation = try c.decode([Int].self, forKey: .validation)
        let validationLabelled = try c.decode([Bool].self, forKey: .validationLabelled)
        guard train.count == trainLabelled.count else {
            throw DecodingError.dataCorruptedError(forKey: .trainLabelled, in: c,
                debugDescription: "\(trainLabelled.count) flags for \(train.count) train samples; they must be parallel")
        }
        guard validation.count == validationLabelled.count else {
            throw DecodingError.dataCorruptedError(forKey: .validationLabelled, in: c,
                debugDescription: "\(validationLabelled.count) flags for \(validation.count) validation samples; they must be parallel")
        }
        self.init(index: try c.decode(Int.self, forKey: .index), classes: try c.decode([Int].self, forKey: .classes),
                  superclass: try c.decodeIfPresent(Int.self, forKey: .superclass), train: train,
                  trainLabelled: trainLabelled, validation: validation, validationLabelled: validationLabelled,
                  test: try c.decode([Int].self, forKey: .test))
    }

    /// Training samples that keep their label, in pool order.
    public var labelledTrain: [Int] { pool(count: train.count).labelledIndices }
    /// Training samples without a label, in pool order.
    public var unlabelledTrain: [Int] { pool(count: train.count).unlabelledIndices }
    /// Validation samples that keep their label, in order.
    public var labelledValidation: [Int] { zip(validation, validationLabelled).filter(\.1).map(\.0) }

    /// The first `count` samples of the training pool (all of it when `count` is larger),
    /// with their labelled flags, which are the same in every prefix.
    public func pool(count: Int) -> UserPool {
        let n = min(max(count, 0), train.count)
        return UserPool(indices: Array(train[0..<n]), isLabelled: Array(trainLabelled[0..<n]))
    }

    /// The data-growth view for scheduling: round r (from 1) holds the first r m training
    /// samples, the last round the whole pool, so each round's pool is a prefix of the
    /// next. An empty pool has no rounds.
    public func growth(step m: Int) -> [UserPool] {
        precondition(m > 0, "growth step must be positive")
        return stride(from: m, to: train.count + m, by: m).map { pool(count: $0) }
    }
}

/// A prefix of a user's training pool. `indices` are train-split positions in pool order,
/// `isLabelled` is parallel to them.
public struct UserPool: Equatable, Sendable {
    public var indices: [Int]
    public var isLabelled: [Bool]

    public var count: Int { indices.count }
    /// The samples that keep their labels, in pool order.
    public var labelledIndices: [Int] { zip(indices, isLabelled).filter(\.1).map(\.0) }
    /// The samples without labels, in pool order.
    public var unlabelledIndices: [Int] { zip(indices, isLabelled).filter { !$0.1 }.map(\.0) }
}
