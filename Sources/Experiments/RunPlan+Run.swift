import Codecs
import Foundation
import Tensor

// What `persephone run` and `persephone reproduce` share once a plan is resolved and its
// inputs checked (`checkInputs`): the refusal of a missing input, the provenance, the
// Runner call.

extension RunPlan {
    /// Runs the plan into `folder`. With `replaceChanged`, `skipCurrent` or
    /// `discardChanged`, a missing input is refused before the folder is touched (results
    /// are never moved aside for a run that cannot compute their replacement).
    /// `provenance` nil: collected now (`collectProvenance`); tests pass a fixed one.
    public func run(folder: String, jobs: Int, shard: Shard = .all, existing: ExistingResults,
                    store: UnitStore? = nil, provenance: Provenance? = nil,
                    events: @escaping @Sendable (RunEvent) -> Void = StderrProgress.events()) throws -> RunSummary {
        let provenance = provenance ?? collectProvenance()
        let missing = provenance.inputs.filter { $0.value == "missing" }.keys.sorted()
        if existing != .resume && existing != .startAfresh, !missing.isEmpty {
            throw RunError("missing input: \(missing.joined(separator: ", ")); \(folder) is left as it is",
                           hint: "make the checkpoint (`make pretrain`, or restore the committed checkpoints with `git checkout checkpoints`) or import the dataset (`make import-fashion-mnist`), then rerun")
        }
        let options = RunOptions(folder: folder, jobs: jobs, shard: shard, existing: existing, provenance: provenance,
                                 store: store, events: events)
        return try Runner(plan: self, options: options).run()
    }

    /// The provenance of a run of this plan now: git, toolchain and machine
    /// (`Provenance.collect`), the input fingerprints, the dataset checksum and the C
    /// libraries as loaded.
    public func collectProvenance() -> Provenance {
        let inputs = inputFingerprints()
        return Provenance.collect(datasetChecksum: datasetChecksum(inputs), libraries: libraryVersions(), inputs: inputs)
    }
}

/// The manifest's dataset checksum: the fingerprints of the inputs that are dataset trees
/// (directories holding dataset.json), joined when a sweep reads several; nil for none.
private func datasetChecksum(_ inputs: [String: String]) -> String? {
    let trees = inputs.keys.filter { FileManager.default.fileExists(atPath: $0 + "/dataset.json") }
    let checksums = Set(trees.map { inputs[$0]! }).sorted()
    return checksums.isEmpty ? nil : checksums.joined(separator: ",")
}

/// The C libraries behind codecs and GEMM, as loaded at run time.
private func libraryVersions() -> [String: String] {
    var versions = CodecLibraries.versions
    versions["openblas"] = BLASLibrary.configuration + " (kernels: " + BLASLibrary.coreName + ")"
    return versions
}
