/// The gnuplot figure of each experiment: mean ± 95% CI (error bars or bands) over
/// users x seeds, axes with units, legends outside the plotting area.
extension AccuracyCell {
    /// Per-user gain over the global model, per personalised exit and for the policy:
    /// every user run as a dot, the mean with its CI as a bar.
    func figure(stem: String, title: String) -> Figure {
        var s = ScriptBuilder(title: title)
        let columns: [(String, [Double], Estimate)] = exits.map { ($0.name, $0.gains, $0.gain) } + [("policy", policyGains, policyGain)]
        var dots: [[String]] = []
        for (i, column) in columns.enumerated() {
            for (k, g) in column.1.enumerated() {
                // Deterministic spread of the dots around the column (golden-ratio sequence).
                let jitter = (Double(k) * 0.618_033_988_75).truncatingRemainder(dividingBy: 1) * 0.36 - 0.18
                dots.append([cell(Double(i) + jitter), cell(g)])
            }
        }
        s.data("users", dots)
        s.data("means", columns.enumerated().map { i, c in [cell(Double(i)), cell(c.2.mean), cell(c.2.half.isNaN ? 0 : c.2.half), label(c.0)] })
        s.line("set title \(quoted(title))")
        s.line("set ylabel \"gain over the global model (percentage points)\"")
        s.line("set xlabel \"classifier (exits on the same global exit; policy on the global final classifier)\"")
        s.line("set xrange [-0.6:\(columns.count - 1).6]")
        s.line("set grid ytics")
        s.line("set key outside top center horizontal")
        s.line("set arrow from graph 0, first 0 to graph 1, first 0 nohead linecolor rgb \"#444444\"")
        s.line("plot $users using 1:2 with points pointtype 7 pointsize 0.5 linecolor rgb \"#8899bb\" title \"one user run\", \\")
        s.line("     $means using 1:2:3:xtic(4) with yerrorbars pointtype 5 pointsize 1.2 linewidth 2 linecolor rgb \"#222222\" title \"mean ± 95% CI\", \\")
        // The paper's figure as a line in the legend, not a label over the data.
        s.line("     15.9 with lines dashtype 2 linecolor rgb \"#aa3333\" title \"paper: up to +15.9 pts\"")
        return Figure(stem: stem, caption: "per-user gain over the global model, per personalised exit and for the policy (\(group.label))", script: s.text)
    }
}

extension LabelAvailabilitySection {
    /// Accuracy against labelled fraction, one line per loss mix, one panel per exit.
    func figure(stem: String, title: String) -> Figure {
        var s = ScriptBuilder(title: title, size: (max(960, 330 * classifiers.count), 560))
        for (m, mix) in mixes.enumerated() {
            for (c, _) in classifiers.enumerated() {
                let offset = (Double(m) - Double(mixes.count - 1) / 2) * 0.07
                s.data("m\(m)c\(c)", labelled.enumerated().compactMap { i, l in
                    guard let e = entry(l, mix)?.accuracy[safe: c] else { return nil }
                    return [cell(Double(i) + offset), cell(e.mean), cell(e.half.isNaN ? 0 : e.half)]
                })
            }
        }
        s.line("set multiplot layout 1,\(classifiers.count) title \(quoted(title))")
        s.line("set xtics (\(labelled.enumerated().map { "\(quoted($1)) \($0)" }.joined(separator: ", ")))")
        s.line("set xrange [-0.4:\(Double(labelled.count) - 0.6)]")
        s.line("set grid ytics")
        // Equal bottom margins keep the panels the same size; the first one's holds the legend.
        s.line("set bmargin 8")
        s.line("set yrange [*:100]")
        s.line("set xlabel \"labelled fraction of training samples\"")
        for (c, name) in classifiers.enumerated() {
            s.line("set title \(quoted("exit " + name))")
            s.line(c == 0 ? "set ylabel \"personalised test accuracy (%)\"" : "unset ylabel")
            // Only the first panel carries the legend, below its plotting area.
            s.line(c == 0 ? "set key outside bottom center horizontal" : "set key off")
            let series = mixes.enumerated().map { m, mix in
                "$m\(m)c\(c) using 1:2:3 with yerrorlines linewidth 1.5 pointtype \(m + 4) title \(quoted(mix))"
            }
            s.line("plot " + series.joined(separator: ", \\\n     "))
        }
        s.line("unset multiplot")
        return Figure(stem: stem, caption: "personalised accuracy against labelled fraction per loss mix, per exit (\(group.label))", script: s.text)
    }
}

extension TrainingCostCell {
    /// Accuracy against training cost in FLOPs and in wall seconds, per method.
    func figure(stem: String, title: String) -> Figure {
        var s = ScriptBuilder(title: title, size: (1100, 520))
        let methods = [exits, wholeNetwork]
        for (i, m) in methods.enumerated() {
            s.data("flops\(i)", [[cell(m.gigaflops.mean), cell(m.accuracy.mean), cell(m.gigaflops.half.isNaN ? 0 : m.gigaflops.half),
                                  cell(m.accuracy.half.isNaN ? 0 : m.accuracy.half)]])
            if let sec = m.seconds {
                s.data("wall\(i)", [[cell(sec.mean), cell(m.accuracy.mean), cell(sec.half.isNaN ? 0 : sec.half),
                                     cell(m.accuracy.half.isNaN ? 0 : m.accuracy.half)]])
            }
        }
        let panels = methods.allSatisfy { $0.seconds != nil } ? 2 : 1
        s.line("set multiplot layout 1,\(panels) title \(quoted(title))")
        s.line("set grid")
        s.line("set ylabel \"test accuracy (%)\"")
        s.line("set yrange [*:100]")
        s.line("set key outside bottom center horizontal")
        s.line("set bmargin 7")
        s.line("set logscale x")
        s.line("set offsets graph 0.15, graph 0.15, graph 0.15, graph 0.15")
        let names = ["exit personalisation", "whole-network fine-tuning"]
        s.line("set title \"training FLOPs per user\"")
        s.line("set xlabel \"training cost (GFLOPs per user, log scale)\"")
        s.line("plot " + names.indices.map { "$flops\($0) using 1:2:3:4 with xyerrorbars pointtype \($0 == 0 ? 7 : 5) pointsize 1.5 linewidth 2 title \(quoted(names[$0]))" }
            .joined(separator: ", \\\n     "))
        if panels == 2 {
            s.line("set title \"measured wall time per user\"")
            s.line("set xlabel \"training wall time (s per user, log scale)\"")
            s.line("plot " + names.indices.map { "$wall\($0) using 1:2:3:4 with xyerrorbars pointtype \($0 == 0 ? 7 : 5) pointsize 1.5 linewidth 2 title \(quoted(names[$0]))" }
                .joined(separator: ", \\\n     "))
        }
        s.line("unset multiplot")
        return Figure(stem: stem, caption: "accuracy against training cost (FLOPs and wall seconds) for exit personalisation and whole-network fine-tuning (\(group.label))", script: s.text)
    }
}

extension BypassCell {
    /// The policy's FLOPs fraction and test accuracy per round, with CI bands.
    func figure(stem: String, title: String) -> Figure {
        var s = ScriptBuilder(title: title)
        s.data("rounds", rounds.map { r in
            [String(r.round), cell(r.flopsPercent.mean), cell(r.flopsPercent.half.isNaN ? 0 : r.flopsPercent.half),
             cell(r.accuracy.mean), cell(r.accuracy.half.isNaN ? 0 : r.accuracy.half)]
        })
        s.line("set title \(quoted(title))")
        s.line("set xlabel \"data-growth round (personal data arrive each round)\"")
        s.line("set ylabel \"percent\"")
        s.line("set xtics 1")
        s.line("set yrange [0:105]")
        s.line("set grid")
        s.line("set key outside top center horizontal")
        s.line("set style fill transparent solid 0.2 noborder")
        s.line("plot $rounds using 1:($2-$3):($2+$3) with filledcurves linecolor rgb \"#3366aa\" title \"FLOPs 95% CI\", \\")
        s.line("     $rounds using 1:2 with linespoints pointtype 7 linewidth 2 linecolor rgb \"#3366aa\" title \"policy FLOPs (% of the full network)\", \\")
        s.line("     $rounds using 1:($4-$5):($4+$5) with filledcurves linecolor rgb \"#aa6633\" title \"accuracy 95% CI\", \\")
        s.line("     $rounds using 1:4 with linespoints pointtype 5 linewidth 2 linecolor rgb \"#aa6633\" title \"policy test accuracy (%)\"")
        return Figure(stem: stem, caption: "the policy's FLOPs fraction and accuracy per data-growth round (\(group.label))", script: s.text)
    }
}

extension LatencyCell {
    /// The personalised early-exit policy's measured batch-1 latency at each threshold with
    /// its accuracy there (timings `latency.policy.personalised-exits.t=<t>`), and the full
    /// network's (`latency.policy.global-full`) with the global model's accuracy.
    var measuredCurve: (policy: [(threshold: String, accuracy: Estimate, ms: Estimate)], full: (accuracy: Estimate, ms: Estimate)?) {
        let timed = Dictionary(classifierMilliseconds.map { ($0.name, $0.ms) }, uniquingKeysWith: { a, _ in a })
        let policy = (curves.first { $0.method == "personalised-exits" }?.points ?? []).compactMap { p in
            timed["policy.personalised-exits.t=\(p.threshold)"].map { (p.threshold, p.accuracy, $0) }
        }
        let full = timed["policy.global-full"].flatMap { ms in fullNetworks.first { $0.method == "global-full" }.map { ($0.point.accuracy, ms) } }
        return (policy, full)
    }

    /// Left: accuracy against FLOPs over the thresholds per method, with the full networks.
    /// Right: accuracy against the measured batch-1 latency (ms) of the personalised policy
    /// over the thresholds, with the full network; where the policy was not timed, the
    /// measured latency per classifier instead.
    func figure(stem: String, title: String) -> Figure {
        var s = ScriptBuilder(title: title, size: (1200, 560))
        func half(_ e: Estimate) -> String { cell(e.half.isNaN ? 0 : e.half) }
        for (i, c) in curves.enumerated() {
            s.data("curve\(i)", c.points.map { p in [cell(p.flopsPercent.mean), cell(p.accuracy.mean), half(p.flopsPercent), half(p.accuracy)] })
        }
        for (i, f) in fullNetworks.enumerated() {
            s.data("full\(i)", [[cell(f.point.flopsPercent.mean), cell(f.point.accuracy.mean), "0", half(f.point.accuracy)]])
        }
        let measured = measuredCurve
        let timed = classifierMilliseconds.filter { !$0.name.hasPrefix("policy.") }
        let kinds = ["global", "personalised"]
        var names: [String] = []
        for t in timed {
            let name = t.name.split(separator: ".", maxSplits: 1).last.map(String.init) ?? t.name
            if !names.contains(name) { names.append(name) }
        }
        if measured.policy.isEmpty {
            for (k, kind) in kinds.enumerated() {
                s.data("ms\(k)", names.enumerated().compactMap { i, name in
                    guard let e = timed.first(where: { $0.name == "\(kind).\(name)" })?.ms else { return nil }
                    return [cell(Double(i) + (k == 0 ? -0.12 : 0.12)), cell(e.mean), half(e)]
                })
            }
        } else {
            s.data("policyms", measured.policy.map { [cell($0.ms.mean), cell($0.accuracy.mean), half($0.ms), half($0.accuracy)] })
            if let full = measured.full { s.data("fullms", [[cell(full.ms.mean), cell(full.accuracy.mean), half(full.ms), half(full.accuracy)]]) }
        }
        let panels = measured.policy.isEmpty && timed.isEmpty ? 1 : 2
        s.line("set multiplot layout 1,\(panels) title \(quoted(title))")
        s.line("set grid")
        s.line("set key outside bottom center horizontal")
        s.line("set bmargin 7")
        s.line("set title \"accuracy against FLOPs over confidence thresholds\"")
        s.line("set xlabel \"mean FLOPs per sample (% of the full network)\"")
        s.line("set ylabel \"test accuracy (%)\"")
        s.line("set xrange [0:105]")
        s.line("set yrange [*:100]")
        var series = curves.enumerated().map { i, c in
            "$curve\(i) using 1:2:3:4 with xyerrorlines linewidth 1.5 pointtype \(i + 6) title \(quoted(c.method))"
        }
        series += fullNetworks.enumerated().map { i, f in
            "$full\(i) using 1:2:3:4 with xyerrorbars pointtype \(i == 0 ? 5 : 9) pointsize 1.8 linewidth 2 title \(quoted(f.method))"
        }
        s.line("plot " + series.joined(separator: ", \\\n     "))
        if !measured.policy.isEmpty {
            s.line("set title \"accuracy against measured batch-1 latency over confidence thresholds\"")
            s.line("set xlabel \"mean batch-1 latency per test sample (ms, this CPU)\"")
            s.line("set xrange [0:*]")
            var timedSeries = ["$policyms using 1:2:3:4 with xyerrorlines linewidth 1.5 pointtype 7 title \"personalised-exits policy\""]
            if measured.full != nil { timedSeries.append("$fullms using 1:2:3:4 with xyerrorbars pointtype 5 pointsize 1.8 linewidth 2 title \"global-full\"") }
            s.line("plot " + timedSeries.joined(separator: ", \\\n     "))
        } else if !timed.isEmpty {
            s.line("set title \"measured batch-1 latency per classifier (median of timed runs)\"")
            s.line("set xlabel \"classifier\"")
            s.line("set ylabel \"latency (ms)\"")
            s.line("set xtics (\(names.enumerated().map { "\(quoted($1)) \($0)" }.joined(separator: ", ")))")
            s.line("set xrange [-0.5:\(Double(names.count) - 0.5)]")
            s.line("set yrange [0:*]")
            s.line("plot $ms0 using 1:2:3 with yerrorbars pointtype 5 pointsize 1.2 linewidth 2 title \"global\", \\")
            s.line("     $ms1 using 1:2:3 with yerrorbars pointtype 7 pointsize 1.2 linewidth 2 title \"personalised\"")
        }
        s.line("unset multiplot")
        let right = measured.policy.isEmpty ? "measured batch-1 latency per classifier" : "accuracy against the policy's measured batch-1 latency"
        return Figure(stem: stem, caption: "accuracy against FLOPs per method over thresholds, and \(right) (\(group.label))", script: s.text)
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
