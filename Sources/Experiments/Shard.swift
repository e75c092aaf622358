/// A deterministic share of a run's units: shard `index` of `count` (0-based) computes
/// the units whose place in the run order modulo `count` equals `index` (round robin, so
/// the users of one point, or slow points sitting together along one axis, are still
/// spread evenly over the shards).
/// Written `i/n` on the command line.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    /// Every point (`0/1`).
    public static let all = Shard(uncheckedIndex: 0, count: 1)

    private init(uncheckedIndex index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    public init(index: Int, count: Int) throws {
        guard count >= 1, (0..<count).contains(index) else {
            throw RunError("shard \(index)/\(count) does not exist",
                           hint: "write --shard i/n with 0 <= i < n, such as --shard 0/4")
        }
        self.init(uncheckedIndex: index, count: count)
    }

    /// Parses `i/n`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw RunError("`\(text)` is not a shard", hint: "write --shard i/n with 0 <= i < n, such as --shard 0/4")
        }
        try self.init(index: i, count: n)
    }

    /// The shard of a Slurm job-array task, or nil outside one. `SLURM_ARRAY_TASK_ID`
    /// minus `SLURM_ARRAY_TASK_MIN` (0 when unset) is the index and
    /// `SLURM_ARRAY_TASK_COUNT` the count, so `--array=0-3` and `--array=1-4` both work.
    public static func fromSlurm(environment: [String: String]) throws -> Shard? {
        guard let idText = environment["SLURM_ARRAY_TASK_ID"], let countText = environment["SLURM_ARRAY_TASK_COUNT"] else {
            return nil
        }
        guard let id = Int(idText), let count = Int(countText), let min = Int(environment["SLURM_ARRAY_TASK_MIN"] ?? "0") else {
            throw RunError("SLURM_ARRAY_TASK_ID=\(idText), SLURM_ARRAY_TASK_COUNT=\(countText) are not numbers",
                           hint: "submit with `sbatch --array=0-<n-1>`, or pass --shard i/n yourself")
        }
        do {
            return try Shard(index: id - min, count: count)
        } catch {
            throw RunError("Slurm task \(id) (array minimum \(min)) is not among \(count) shards",
                           hint: "use a contiguous --array range such as 0-\(count - 1)")
        }
    }

    /// Whether the item at `position` (a unit's place in the run order) is this shard's.
    public func contains(_ position: Int) -> Bool { position % count == index }

    public var description: String { "\(index)/\(count)" }
}

/// A run that cannot go on: what is wrong and how to fix it. `description` reads
/// "<message> (<hint>)".
public struct RunError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var hint: String

    public init(_ message: String, hint: String) {
        self.message = message
        self.hint = hint
    }

    public var description: String { "\(message) (\(hint))" }
}
