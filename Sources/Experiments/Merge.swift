import Foundation

/// Joins the shards of one spec (folders written by `persephone run --shard i/n`) into
/// one folder and writes its tables, exactly as an unsharded run would have.
///
/// Every input must hold a `spec.resolved.json` with the same hash (and the same points
/// and tables); anything else is refused, naming each folder's hash. The shards' unit
/// records (`units/`) are checked and copied into the unit store beside `output`; then
/// the runner assembles every point from the store without computing anything (`replan`
/// resolves the frozen spec with this build, which must give the same hash). The merged
/// manifest takes the shards' code and input fingerprints when they all agree. Points
/// whose units no shard holds are listed as `missing`; the tables then hold the others,
/// and the manifest says `partial` or `failed`.
public func mergeRunFolders(_ inputs: [String], into output: String,
                            replan: (FrozenSpec, String) throws -> RunPlan,
                            provenance: Provenance = .collect(), store: UnitStore? = nil,
                            events: @escaping @Sendable (RunEvent) -> Void = StderrProgress.events()) throws -> RunSummary {
    guard !inputs.isEmpty else {
        throw RunError("nothing to merge", hint: "name the shard folders: persephone merge DIR... --out DIR")
    }
    var frozen: FrozenSpec?
    var hashes: [(String, String)] = []
    var folders: [RunFolder] = []
    for path in inputs {
        let folder = RunFolder(path: path)
        guard let spec = try folder.readFrozenSpec() else {
            throw RunError("\(path) holds no spec.resolved.json", hint: "name folders written by `persephone run`")
        }
        hashes.append((path, spec.hash))
        if let first = frozen {
            guard spec.hash == first.hash else {
                throw RunError("the folders hold different specs: " + hashes.map { "\($0.0) has \($0.1)" }.joined(separator: ", "),
                               hint: "merge only shards of one spec; rerun the odd shard with the same spec and overrides")
            }
            guard spec == first else {
                throw RunError("\(path) froze spec \(spec.hash) with other tables or points than \(inputs[0]): the code changed between shards",
                               hint: "rerun the shards with one build")
            }
        } else {
            frozen = spec
        }
        try RunLock.refuseIfHeld(folder)
        folders.append(folder)
    }
    let spec = frozen!
    let plan = try replan(spec, inputs[0])
    let out = RunFolder(path: output)
    if let existing = try out.readFrozenSpec() {
        guard existing == spec else {
            throw RunError("\(output) holds the results of spec \(existing.hash), but the shards hold \(spec.hash)",
                           hint: "choose another --out folder, or remove \(output)")
        }
    } else if !out.isEmpty {
        throw RunError("\(output) exists but holds no spec.resolved.json", hint: "choose another --out folder, or remove it")
    }

    // The shards' unit records into the store (a record already there is the same unit).
    let store = store ?? UnitStore.beside(folder: output)
    var copied = 0
    for folder in folders {
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder.unitsPath)) ?? []).sorted()
        where name.hasSuffix(".unit") {
            let key = String(name.dropLast(5))
            guard !FileManager.default.fileExists(atPath: store.path(of: key)) else { continue }
            guard let unit = UnitStore.readFile(folder.unitPath(key), key: key, identity: nil, warn: { events(.warning($0)) }) else {
                continue
            }
            try store.write(unit)
            copied += 1
        }
    }
    events(.notice("merge: \(copied) unit records copied from \(folders.count) shard folders into \(store.root)"))

    // The shards' code and inputs carry over when they all agree; otherwise the merged
    // results have no single provenance and never count as current.
    var provenance = provenance
    let shardProvenances = folders.compactMap { try? readJSON(Manifest.self, path: $0.manifestPath).provenance }
    if let first = shardProvenances.first, shardProvenances.count == folders.count,
       shardProvenances.allSatisfy({ $0.code == first.code && $0.inputs == first.inputs }) {
        provenance.code = first.code
        provenance.inputs = first.inputs
        provenance.datasetChecksum = first.datasetChecksum
        provenance.libraries = first.libraries
    } else {
        events(.warning("the shards' manifests disagree on code or inputs (or some are missing): the merged manifest records none"))
        provenance.code = nil
        provenance.inputs = [:]
    }
    guard provenance.code != nil else {
        throw RunError("the shards' code fingerprint is unknown, so their unit records cannot be matched to this spec's units",
                       hint: "run the shards from a build whose code fingerprint is known (a clean checkout)")
    }

    var summary = try Runner(plan: plan, options: RunOptions(folder: output, jobs: 1, shard: .all, existing: .resume,
                                                            provenance: provenance, store: store, computeUnits: false,
                                                            events: events)).run()
    var manifest = try readJSON(Manifest.self, path: out.manifestPath)
    manifest.shard = "merged"
    manifest.mergedFrom = inputs
    try writeJSON(manifest, path: out.manifestPath)
    summary.folder = output
    return summary
}

/// The `name` frozen in a run folder's spec.resolved.json.
public func frozenSpecName(of folder: String) throws -> String {
    guard let spec = try RunFolder(path: folder).readFrozenSpec() else {
        throw RunError("\(folder) holds no spec.resolved.json", hint: "name folders written by `persephone run`")
    }
    return spec.name
}
