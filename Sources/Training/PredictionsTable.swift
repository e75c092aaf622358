import Codecs
import Foundation

/// The per-sample predictions table `persephone evaluate --predictions` writes (.csv.zst).
///
/// Columns: `index` (sample order of the split: by class, then file name), `label`, then
/// per classifier in network order `<name>_pred` (class index) and `<name>_conf` (softmax
/// probability of that class, 6 decimals), e.g. `block2_pred,block2_conf,...,final_pred,final_conf`.
public enum PredictionsTable {
    public static func header(for result: EvaluationResult) -> [String] {
        ["index", "label"] + result.classifiers.flatMap { ["\($0.name)_pred", "\($0.name)_conf"] }
    }

    /// Writes the table (temporary name, renamed into place on success).
    public static func write(_ result: EvaluationResult, to path: String) throws {
        precondition(result.predictions.allSatisfy { $0.count == result.labels.count },
                     "evaluate with keepPredictions: true before writing predictions")
        let writer = try CSVZstWriter(path: path, header: header(for: result))
        for i in result.labels.indices {
            var row = [String(i), String(result.labels[i])]
            for c in result.classifiers.indices {
                row.append(String(result.predictions[c][i]))
                row.append(String(format: "%.6f", Double(result.confidences[c][i])))
            }
            try writer.append(row)
        }
        try writer.close()
    }
}
