import Codecs
import Foundation

/// One unit of work: for the paper's experiments, one simulated user under one method
/// (docs/runner.md, "Units"). Its `identity` names everything its result depends on
/// besides the code (input fingerprints, the user split, seed and user index, the
/// method's canonical configuration); the runner hashes it with the code fingerprint
/// into the unit's key, which addresses its record in the unit store. Two points, or two
/// experiments, that need a unit with the same identity compute it once.
///
/// The identity must be canonical: settings that cannot change the result (a loss term
/// with nothing to act on, a batch size of an accuracy pass) are left out or normalised
/// by whoever builds it, so equal work gets equal keys.
public struct WorkUnit: Sendable {
    public var identity: CanonicalValue
    /// A short name for progress lines and errors, such as `seed 1, user 3: exits`.
    public var label: String
    /// Computes the unit's record. Must be deterministic: same identity and code, same bytes.
    public var compute: @Sendable (PointProgress) throws -> UnitOutput

    public init(identity: CanonicalValue, label: String, compute: @escaping @Sendable (PointProgress) throws -> UnitOutput) {
        self.identity = identity
        self.label = label
        self.compute = compute
    }

    /// A unit whose record is `R`, encoded by `UnitOutput(record:timings:)`.
    public static func typed<Identity: Encodable, R: Encodable>(
        identity: Identity, label: String,
        compute: @escaping @Sendable (PointProgress) throws -> (record: R, timings: [PointResult.Timing])
    ) -> WorkUnit {
        WorkUnit(identity: canonicalValue(of: identity), label: label) { progress in
            let (record, timings) = try compute(progress)
            return try UnitOutput(record: record, timings: timings)
        }
    }
}

/// What a unit computed: its record (JSON bytes, deterministic) and the wall-clock
/// timings measured while computing it (kept apart: they never enter a result table).
public struct UnitOutput: Sendable, Equatable {
    public var record: Data
    public var timings: [PointResult.Timing]

    public init(recordBytes: Data, timings: [PointResult.Timing]) {
        self.record = recordBytes
        self.timings = timings
    }

    /// Encodes `record` as JSON with sorted keys; NaN and infinities as the strings
    /// `nan`, `inf`, `-inf` (what `UnitResult.decode` reads back).
    public init<R: Encodable>(record: R, timings: [PointResult.Timing]) throws {
        self.record = try UnitCoding.encoder.encode(record)
        self.timings = timings
    }
}

/// A unit's record handed to an experiment's rows: the same bytes whether the unit was
/// computed now or read from the store, so the rows cannot tell the difference.
public struct UnitResult: Sendable, Equatable {
    public var key: String
    public var label: String
    public var output: UnitOutput

    public var timings: [PointResult.Timing] { output.timings }

    /// The record as `R` (the type the unit's `compute` encoded).
    public func decode<R: Decodable>(_ type: R.Type) throws -> R {
        do {
            return try UnitCoding.decoder.decode(R.self, from: output.record)
        } catch {
            throw RunError("the record of unit \(key) (\(label)) does not decode as \(R.self): \(error)",
                           hint: "the store holds a record of other code; delete the unit store folder to recompute")
        }
    }
}

enum UnitCoding {
    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    /// The unit's key: FNV-1a 64 of the canonical JSON of `{"code": code, "identity": identity}`.
    static func key(identity: CanonicalValue, code: String) -> String {
        SpecHash.hex(of: .map(["code": .string(code), "identity": identity]))
    }
}
