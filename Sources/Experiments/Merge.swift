import Foundation

/// Joins the point records of several run folders (the shards of one sweep) into one
/// folder and writes its tables, exactly as an unsharded run would have.
///
/// Every input must hold a `spec.resolved.json` with the same hash (and the same
/// points and tables); anything else is refused, naming each folder's hash. A point
/// recorded ok in two inputs must have identical rows in both (the tables are
/// deterministic; a difference means a nondeterministic experiment). The merged manifest
/// takes the shards' code and input fingerprints when they all agree. The output folder
/// may be new, hold the same frozen spec, or be one of the inputs. Points with no ok
/// record anywhere are listed as `missing`; the tables then hold the others, and the
/// manifest says `partial` or `failed`.
public func mergeRunFolders(_ inputs: [String], into output: String, provenance: Provenance = .collect(),
                            events: @Sendable (RunEvent) -> Void = StderrProgress.events()) throws -> RunSummary {
    let started = Date()
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
        folders.append(folder)
    }
    let spec = frozen!

    var records: [Int: PointRecord] = [:]
    var sources: [Int: String] = [:]
    for folder in folders {
        for (index, record) in folder.readRecords(frozen: spec, warn: { events(.warning($0)) }) {
            guard let earlier = records[index], earlier.status == .ok else {
                records[index] = record
                sources[index] = folder.path
                continue
            }
            if record.status == .ok && record.tables != earlier.tables {
                throw RunError("point \(index) (\(record.id)) has different rows in \(sources[index]!) and \(folder.path)",
                               hint: "the experiment is not deterministic for this point; fix it, then rerun one of the shards")
            }
        }
    }

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

    let out = RunFolder(path: output)
    if let existing = try out.readFrozenSpec() {
        guard existing == spec else {
            throw RunError("\(output) holds the results of spec \(existing.hash), but the shards hold \(spec.hash)",
                           hint: "choose another --out folder, or remove \(output)")
        }
    } else if !((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []).isEmpty {
        throw RunError("\(output) exists but holds no spec.resolved.json", hint: "choose another --out folder, or remove it")
    }
    try out.create()
    try writeJSON(spec, path: out.frozenSpecPath)
    for (index, record) in records where sources[index] != output {
        try writeJSON(record, path: out.recordPath(index))
    }
    try writeTables(folder: out, frozen: spec, records: records)
    try writeJSON(Manifest(frozen: spec, records: records, shard: "merged", provenance: provenance,
                           started: started, ended: Date(), mergedFrom: inputs),
                  path: out.manifestPath)
    let summary = RunSummary(
        folder: output, total: spec.points.count, resumed: 0, ran: 0,
        failed: records.values.filter { $0.status == .failed }.map(\.index).sorted(),
        missing: spec.points.map(\.index).filter { records[$0]?.status != .ok }, tablesWritten: true)
    events(.finished(summary))
    return summary
}

/// The `name` frozen in a run folder's spec.resolved.json.
public func frozenSpecName(of folder: String) throws -> String {
    guard let spec = try RunFolder(path: folder).readFrozenSpec() else {
        throw RunError("\(folder) holds no spec.resolved.json", hint: "name folders written by `persephone run`")
    }
    return spec.name
}
