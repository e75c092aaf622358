import Foundation
import Personalisation

/// Text and JSON renderings of `persephone personalise` results.
enum PersonaliseReport {
    static func pct(_ x: Double?) -> String { x.map { String(format: "%.1f%%", 100 * $0) } ?? "-" }
    static func mflops(_ x: Double) -> String { String(format: "%.1f", x / 1e6) }
    static func ms(_ seconds: Double?) -> String { seconds.map { String(format: "%.2f", 1000 * $0) } ?? "-" }

    /// One line per finished user, on stderr while the run goes on.
    static func progressLine(_ r: UserPipelineResult) -> String {
        "user \(r.user): global \(pct(r.globalAccuracy.last)) -> policy \(pct(r.policy.accuracy)), "
            + "\(String(format: "%.2f", r.speedUp.flopsReduction))x fewer FLOPs, exits trained in "
            + String(format: "%.1f s", r.exitCost.wallSeconds)
            + (r.baselineCost.map { String(format: ", fine-tuning %.1f s", $0.wallSeconds) } ?? "")
    }

    static func text(_ results: [UserPipelineResult], classNames: [String], command c: PersonaliseCommand) -> String {
        var lines = ["\(c.checkpoint) on \(c.dataset): \(results.count) users, split \(c.split), \(c.samples) samples, "
                     + "labelled \(c.labelled), losses \(c.losses), \(c.epochs) epochs, seed \(c.seed)"]
        for r in results {
            lines.append("")
            lines.append("user \(r.user): " + r.classes.map { "\($0) \(classNames[$0])" }.joined(separator: ", ")
                         + " - \(r.trainSamples) train (\(r.labelledSamples) labelled), \(r.validationSamples) validation, "
                         + "\(r.testSamples) test; profiled by \(r.profileBasis.description)")
            var rows = [["classifier", "MFLOPs", "global", "personal", "profiled", "latency ms", "selected", "threshold"]]
            let names = r.exitNames + ["final"]
            for i in names.indices {
                let isExit = i < r.exitNames.count
                rows.append([names[i], mflops(Double(r.classifierFLOPs[i])), pct(r.globalAccuracy[i]),
                             pct(r.personalisedAccuracy[i]), pct(r.profiledAccuracy[i]), ms(r.profiledLatency[i]),
                             isExit ? (r.selected[i] ? "yes" : "no") : "-",
                             isExit ? (r.thresholds[i].map { String(format: "%.3f", $0) } ?? (r.selected[i] ? "unused" : "-")) : "-"])
            }
            lines.append(align(rows))
            lines.append("policy: accuracy \(pct(r.policy.accuracy)) (full network \(pct(r.fullNetwork.accuracy))), "
                         + "mean \(mflops(r.policy.meanFLOPs)) MFLOPs (\(String(format: "%.2f", r.speedUp.flopsReduction))x fewer), "
                         + "latency \(ms(r.policy.meanLatency)) ms vs \(ms(r.fullNetwork.meanLatency)) ms"
                         + (r.speedUp.latencySpeedUp.map { String(format: " (%.2fx)", $0) } ?? "")
                         + ", equal accuracy: " + (r.speedUp.equalAccuracy.map { $0 ? "yes" : "no" } ?? "-"))
            var cost = "cost: exits " + costText(r.exitCost)
            if let b = r.baselineCost {
                cost += "; fine-tuning " + costText(b) + ", final accuracy \(pct(r.baselineAccuracy))"
                cost += String(format: "; exits/fine-tuning: time %.3f, FLOPs %.3f",
                               r.exitCost.wallSeconds / b.wallSeconds,
                               Double(r.exitCost.totalFLOPs) / Double(b.totalFLOPs))
            }
            lines.append(cost)
        }
        lines.append("")
        lines.append(summary(results))
        return lines.joined(separator: "\n")
    }

    static func costText(_ c: CostReport) -> String {
        String(format: "%.2f s, %.2f GFLOP", c.wallSeconds, Double(c.totalFLOPs) / 1e9)
            + (c.peakMemoryDeltaBytes.map { String(format: ", peak +%.0f MB", Double($0) / 1e6) } ?? "")
    }

    /// Means over users.
    static func summary(_ results: [UserPipelineResult]) -> String {
        func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }
        let global = mean(results.compactMap { $0.globalAccuracy.last })
        let policy = mean(results.compactMap { $0.policy.accuracy })
        let bestExit = mean(results.map { r in r.personalisedAccuracy.dropLast().max() ?? 0 })
        let flops = mean(results.map(\.speedUp.flopsReduction))
        let latency = mean(results.compactMap(\.speedUp.latencySpeedUp))
        var s = "mean over \(results.count) users: global \(pct(global)), best personalised exit \(pct(bestExit)), "
            + "policy \(pct(policy)) (\(String(format: "%+.1f", 100 * (policy - global))) points), "
            + String(format: "%.2fx fewer FLOPs, %.2fx lower latency", flops, latency)
        let pairs = results.compactMap { r in r.baselineCost.map { (r.exitCost, $0, r.baselineAccuracy ?? .nan) } }
        if !pairs.isEmpty {
            s += String(format: "; exits/fine-tuning time %.3f, FLOPs %.3f; fine-tuned accuracy %@",
                        mean(pairs.map { $0.0.wallSeconds / $0.1.wallSeconds }),
                        mean(pairs.map { Double($0.0.totalFLOPs) / Double($0.1.totalFLOPs) }),
                        pct(mean(pairs.map(\.2))))
        }
        return s
    }

    static func align(_ rows: [[String]]) -> String {
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
        return rows.map { row in
            row.enumerated().map { c, cell in
                c == 0 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                       : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// JSON null for a missing or non-finite value (JSONSerialization rejects NaN).
    static func orNull<T>(_ x: T?) -> Any {
        guard let x else { return NSNull() }
        if let d = x as? Double, !d.isFinite { return NSNull() }
        return x
    }

    static func json(_ results: [UserPipelineResult], checkpoint: String, dataset: String,
                     command c: PersonaliseCommand) throws -> String {
        func cost(_ r: CostReport) -> [String: Any] {
            ["wall_seconds": r.wallSeconds, "total_flops": r.totalFLOPs, "extraction_flops": r.extractionFLOPs,
             "training_step_flops": r.trainingStepFLOPs, "peak_memory_delta_bytes": orNull(r.peakMemoryDeltaBytes),
             "feature_cache_bytes": r.featureCacheBytes, "notes": r.notes]
        }
        let users: [[String: Any]] = results.map { r in
            var u: [String: Any] = [
                "user": r.user, "classes": r.classes, "train_samples": r.trainSamples,
                "labelled_samples": r.labelledSamples, "validation_samples": r.validationSamples,
                "test_samples": r.testSamples, "classifiers": r.exitNames + ["final"],
                "classifier_flops": r.classifierFLOPs, "global_accuracy": r.globalAccuracy,
                "personalised_accuracy": r.personalisedAccuracy, "profile_basis": r.profileBasis.description,
                "profiled_accuracy": r.profiledAccuracy,
                "profiled_latency_seconds": r.profiledLatency.map { orNull($0) },
                "selected": r.selected, "thresholds": r.thresholds.map { orNull($0.map { Double($0) }) },
                "policy_accuracy": orNull(r.policy.accuracy), "policy_mean_flops": r.policy.meanFLOPs,
                "policy_mean_latency_seconds": orNull(r.policy.meanLatency),
                "full_accuracy": orNull(r.fullNetwork.accuracy), "full_mean_flops": r.fullNetwork.meanFLOPs,
                "full_mean_latency_seconds": orNull(r.fullNetwork.meanLatency),
                "flops_reduction": r.speedUp.flopsReduction, "latency_speedup": orNull(r.speedUp.latencySpeedUp),
                "equal_accuracy": orNull(r.speedUp.equalAccuracy), "exit_histogram": r.policy.exitHistogram,
                "exit_cost": cost(r.exitCost),
            ]
            if let b = r.baselineCost {
                u["baseline_cost"] = cost(b)
                u["baseline_accuracy"] = orNull(r.baselineAccuracy)
            }
            return u
        }
        let object: [String: Any] = [
            "checkpoint": checkpoint, "dataset": dataset, "split": c.split, "users": users,
            "samples": c.samples, "labelled": c.labelled, "losses": c.losses, "epochs": c.epochs, "seed": c.seed,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
