import Experiments
import Foundation

/// The Markdown report: provenance, the verdict table with each rule, then one section
/// per experiment with the numbers behind the verdicts.
extension Report {
    /// `figuresLink` is the figures folder relative to the report (for the links).
    public func markdown(figuresLink: String?) -> String {
        var out: [String] = []
        let scale = suffix.isEmpty ? "default" : String(suffix.dropFirst())
        let make = suffix.isEmpty ? "make report" : "make report SCALE=\(scale)"
        out.append("# Results\(suffix.isEmpty ? "" : " (\(scale) scale)")")
        out.append("")
        out.append("Written by `persephone report` (`\(make)`) from the tables in `\(results)/<experiment>\(suffix)/`; nothing in it is typed by hand.")
        out.append("Every ± is the half-width of the 95% confidence interval of the mean over user runs (users x seeds; Student's t with n - 1 degrees of freedom);")
        out.append("n is the number of user runs. Accuracies are on each user's own test samples, in percent; gains and differences in percentage points (pts).")
        out.append("")
        out.append("| experiment | computed at | checkpoint | users per seed | seeds |")
        out.append("|---|---|---|---|---|")
        for e in Self.experiments {
            if let p = provenance[e] {
                out.append("| \(e)\(suffix) | \(p.commit)\(p.dirty ? " (uncommitted changes)" : "") | `\(p.checkpoint)` | \(p.users) | \(p.seeds) |")
            } else if let why = missing[e] {
                out.append("| \(e)\(suffix) | \(why) | | | |")
            } else {
                out.append("| \(e)\(suffix) | no manifest.json | | | |")
            }
        }
        out.append("")
        out.append("## Verdicts")
        out.append("")
        out.append("| claim | where | paper | ours | verdict | why |")
        out.append("|---|---|---|---|---|---|")
        for v in verdicts {
            out.append("| \(v.claim) | \(v.group.label) | \(v.paper) | \(v.ours) | **\(v.verdict.rawValue)** | \(v.reason) |")
        }
        out.append("")
        out.append("Rules (docs/experiments.md, \"Report and figures\"):")
        out.append("")
        out.append("- **C1** (accuracy, global-vs-personal): \(AccuracyCell.rule).")
        out.append("- **C2** (training cost, training-cost): \(TrainingCostCell.rule).")
        out.append("- **C3** (latency at equal accuracy, latency-accuracy): \(LatencyCell.rule).")
        out.append("- **C4** (progressive bypass, data-growth): \(BypassCell.rule).")
        out.append("- Fewer than two user runs give no confidence interval: **not decided**.")
        out.append("")
        if let elsewhere = onlyElsewhere {
            if elsewhere.cells.isEmpty {
                out.append("Every claim cell the \(elsewhere.scale) scale decides is decided here too.")
            } else {
                out.append("Claim cells decided only at the \(elsewhere.scale) scale (`REPORT-\(elsewhere.scale).md`): "
                    + elsewhere.cells.map { "\($0.claim) \($0.group.label)" }.joined(separator: "; ") + ".")
            }
            out.append("")
        }
        if let cells = toCompute, !cells.isEmpty {
            let known = cells.compactMap(\.secondsLeft)
            let total = known.reduce(0, +)
            out.append("Cells not computed yet (their units are not all in the unit store), and the time each needs by the measured times of the units of its kind (one unit at a time; two cores halve it)"
                + (known.isEmpty ? ":" : ", \(durationText(total)) in all\(known.count < cells.count ? " for those with an estimate" : ""):"))
            out.append("")
            out.append("| experiment | cell | units computed | time it needs |")
            out.append("|---|---|---|---|")
            for c in cells {
                out.append("| \(c.experiment)\(suffix) | \(c.point) | \(c.stored) of \(c.units) | \(c.secondsLeft.map(durationText) ?? "no unit of its kind measured yet") |")
            }
            out.append("")
        }
        out += accuracySection(figuresLink)
        out += labelSection(figuresLink)
        out += trainingCostSection(figuresLink)
        out += latencySection(figuresLink)
        out += bypassSection(figuresLink)
        return out.joined(separator: "\n") + "\n"
    }

    /// Writes the report to `output` and the figures into `figures` (none when nil), each
    /// under a temporary name renamed into place. Returns the figures' stems.
    @discardableResult
    public func write(output: String, figures folder: String?, gnuplot: String = "gnuplot") throws -> [String] {
        var stems: [String] = []
        if let folder {
            let writer = FigureWriter(folder: folder, gnuplot: gnuplot)
            for figure in figures {
                try writer.write(figure)
                stems.append(figure.stem)
            }
        }
        let link = folder.map { relativePath(from: (output as NSString).deletingLastPathComponent, to: $0) }
        let temporary = output + ".tmp"
        do {
            try Data(markdown(figuresLink: link).utf8).write(to: URL(fileURLWithPath: temporary))
        } catch {
            throw RunError("\(output): cannot write: \(error.localizedDescription)", hint: "check the folder exists and is writable")
        }
        if rename(temporary, output) != 0 {
            try? FileManager.default.removeItem(atPath: temporary)
            throw RunError("\(output): cannot rename \(temporary) into place", hint: "check the folder is writable")
        }
        return stems
    }

    private func heading(_ experiment: String, _ title: String) -> [String] {
        ["## \(title)", ""] + (missing[experiment].map { ["\($0).", ""] } ?? [])
    }

    private func subheading(_ group: Group, many: Bool) -> [String] {
        many || !group.axes.isEmpty ? ["### \(group.label)", ""] : []
    }

    private func figureLine(_ link: String?, _ experiment: String, _ group: Group) -> [String] {
        guard let link else { return [] }
        let stem = figureStem(experiment, group)
        return ["![\(stem)](\(link)/\(stem).png)", ""]
    }

    private func accuracySection(_ link: String?) -> [String] {
        var out = heading("global-vs-personal", "C1: global against personalised (global-vs-personal)")
        for cell in accuracy ?? [] {
            out += subheading(cell.group, many: (accuracy?.count ?? 0) > 1)
            out.append("| classifier | global accuracy | personalised accuracy | gain | largest gain over users |")
            out.append("|---|---|---|---|---|")
            for e in cell.exits {
                out.append("| \(e.name) | \(e.global.text()) | \(e.personalised.text()) | \(e.gain.text(2, unit: " pts", signed: true)) | \(format(e.gain.maximum, 1, signed: true)) pts |")
            }
            out.append("| policy (vs global final) | \(cell.globalFinal.text()) | \(cell.policyAccuracy.text()) | \(cell.policyGain.text(2, unit: " pts", signed: true)) | \(format(cell.policyGain.maximum, 1, signed: true)) pts |")
            out.append("")
            out.append("Best exit per user: gain \(cell.bestExitGain.text(2, unit: " pts", signed: true)), largest \(format(cell.bestExitGain.maximum, 1, signed: true)) pts. The policy's mean FLOPs: \(cell.policyFlopsFraction.text(1, unit: "%")) of the full network.")
            out.append("")
            out += figureLine(link, "global-vs-personal", cell.group)
        }
        return out
    }

    private func labelSection(_ link: String?) -> [String] {
        var out = heading("label-availability", "Label availability (label-availability)")
        for section in labels ?? [] {
            out += subheading(section.group, many: (labels?.count ?? 0) > 1)
            out.append("Personalised accuracy (%) per exit, by labelled fraction and loss mix:")
            out.append("")
            out.append("| labelled | losses | " + section.classifiers.joined(separator: " | ") + " | note |")
            out.append("|---|---|" + String(repeating: "---|", count: section.classifiers.count) + "---|")
            for cell in section.cells {
                let values = cell.accuracy.map { $0.text(1) }.joined(separator: " | ")
                let note = cell.unchanged ? "the global model's exits: personalisation changed nothing"
                    : cell.repeats.map { "same per-user results as `\($0)`" } ?? ""
                out.append("| \(cell.labelled) | \(cell.losses) | \(values) | \(note) |")
            }
            out.append("")
            if let deepest = section.classifiers.last {
                let best = section.bestAtDeepestExit.map { "\($0.labelled): `\($0.losses)` (\($0.accuracy.text(1)))" }
                out.append("Best loss mix at the deepest exit (\(deepest)) per labelled fraction: \(best.joined(separator: "; ")).")
                out.append("")
                let stated = section.statedChoice.map { c in
                    "\(c.labelled): `\(c.chosen)` (\(c.chosenAccuracy?.text(1) ?? "not run")) "
                        + (c.agrees ? "= the best" : "vs best `\(c.best)` (\(c.bestAccuracy.text(1)))")
                }
                if !stated.isEmpty {
                    let disagree = section.statedChoice.filter { !$0.agrees }.map(\.labelled)
                    out.append("The loss mix the other experiments train with (`train.losses: auto`, a stated choice per labelled fraction, docs/personalisation.md) at the deepest exit: \(stated.joined(separator: "; ")). "
                        + (disagree.isEmpty ? "These results support the choice at every fraction." : "These results do not support it at \(disagree.joined(separator: ", ")): revisit PersonalisationConfig.chosenLossMix."))
                    out.append("")
                }
            }
            let repeats = section.cells.filter { $0.repeats != nil || $0.unchanged }
            if !repeats.isEmpty {
                out.append("Cells that only repeat another (identical per-user accuracies at every exit) add nothing and need not be run: "
                    + repeats.map { "`\($0.losses)` at \($0.labelled) = \($0.unchanged ? "the global model" : "`\($0.repeats!)`")" }.joined(separator: ", ") + ".")
                out.append("")
            }
            out += figureLine(link, "label-availability", section.group)
        }
        return out
    }

    private func trainingCostSection(_ link: String?) -> [String] {
        var out = heading("training-cost", "C2: training cost (training-cost)")
        for cell in trainingCost ?? [] {
            out += subheading(cell.group, many: (trainingCost?.count ?? 0) > 1)
            let memory = cell.exits.memory.map(\.column)
            out.append("| method | accuracy | training GFLOPs per user | wall s per user | " + memory.map { "\($0) (MB)" }.joined(separator: " | ") + " |")
            out.append("|---|---|---|---|" + String(repeating: "---|", count: memory.count))
            for m in [cell.exits, cell.wholeNetwork] {
                let mem = m.memory.map { format($0.megabytes.mean, 2) }.joined(separator: " | ")
                out.append("| \(m.name) | \(m.accuracy.text()) | \(m.gigaflops.text(1)) | \(m.seconds?.text(2) ?? "no timings") | \(mem) |")
            }
            out.append("")
            out.append("Whole network / exits: FLOPs \(cell.flopsRatio.text(2, unit: "x"))"
                + (cell.wallRatio.map { ", measured wall time \($0.text(2, unit: "x"))" } ?? "")
                + "; accuracy exits - whole network \(cell.accuracyDifference.text(2, unit: " pts", signed: true))."
                + (cell.diverged > 0 ? " Fine-tuning stopped on a non-finite loss for \(cell.diverged) user runs." : ""))
            if let e = cell.exits.memory.first(where: { $0.column == "state_bytes" })?.megabytes.mean,
               let w = cell.wholeNetwork.memory.first(where: { $0.column == "state_bytes" })?.megabytes.mean, w > 0 {
                out.append("The memory columns are accounted, not measured (docs/experiments.md, training-cost): the exits' state is \(format(e / w, 1))x the whole network's here, mostly their feature cache; the whole network's activations for backward are not counted.")
            }
            if let bound = provenance["training-cost"]?.featureCacheMB {
                out.append("The feature cache is bounded at \(bound) MiB (`train.feature_cache_mb`, a key a user sets to a device's memory): over the bound the backbone runs again for every batch instead, with the same results and more training FLOPs.")
            }
            out.append("")
            out += figureLine(link, "training-cost", cell.group)
        }
        return out
    }

    private func latencySection(_ link: String?) -> [String] {
        var out = heading("latency-accuracy", "C3: latency at equal accuracy (latency-accuracy)")
        for cell in latency ?? [] {
            out += subheading(cell.group, many: (latency?.count ?? 0) > 1)
            out.append("Operating point per user: the cheapest threshold whose accuracy is within the tolerance of the global full network's.")
            out.append("Its accuracy \(cell.operatingAccuracy.text(2, unit: "%")) against the global model's \(cell.globalFullAccuracy.text(2, unit: "%"))"
                + (cell.fineTunedAccuracy.map { " (fine-tuned full network \($0.text(2, unit: "%")))" } ?? "") + ".")
            out.append("Speed-up of the personalised exits: FLOPs \(cell.flopsSpeedup.text(2, unit: "x"))"
                + (cell.measuredSpeedup.map { ", measured batch-1 latency \($0.text(2, unit: "x"))" } ?? ", measured latency of the policy: not in the timings table")
                + "; the global model's offline exits: FLOPs \(cell.globalExitsFlopsSpeedup.text(2, unit: "x")).")
            out.append("")
            if !cell.classifierMilliseconds.isEmpty {
                out.append("| timed classifier | batch-1 latency (ms) |")
                out.append("|---|---|")
                for t in cell.classifierMilliseconds { out.append("| \(t.name) | \(t.ms.text(3)) |") }
                out.append("")
            }
            out += figureLine(link, "latency-accuracy", cell.group)
        }
        return out
    }

    private func bypassSection(_ link: String?) -> [String] {
        var out = heading("data-growth", "C4: bypass as personal data grow (data-growth)")
        for cell in bypass ?? [] {
            out += subheading(cell.group, many: (bypass?.count ?? 0) > 1)
            let timed = cell.rounds.contains { $0.milliseconds != nil }
            out.append("| round | policy FLOPs (% of full) | policy accuracy | exits enabled |" + (timed ? " policy batch-1 latency (ms) |" : ""))
            out.append("|---|---|---|---|" + (timed ? "---|" : ""))
            for r in cell.rounds {
                out.append("| \(r.round) | \(r.flopsPercent.text(1)) | \(r.accuracy.text(1)) | \(r.enabledCount.text(2)) |"
                    + (timed ? " \(r.milliseconds?.text(3) ?? "") |" : ""))
            }
            out.append("")
            out.append("Slope per user run: FLOPs fraction \(cell.slope.text(2, unit: " pts/round", signed: true)); accuracy \(cell.accuracySlope.text(2, unit: " pts/round", signed: true)).")
            out.append("")
            out += figureLine(link, "data-growth", cell.group)
        }
        return out
    }
}

/// `to` relative to the folder `from` when it lies inside it, else `to` unchanged.
func relativePath(from: String, to: String) -> String {
    let base = from.isEmpty ? "." : from
    if base == "." { return to }
    let prefix = base.hasSuffix("/") ? base : base + "/"
    return to.hasPrefix(prefix) ? String(to.dropFirst(prefix.count)) : to
}
