import NN
import Tensor

/// The on-device loss mix of one exit head on one batch (paper section
/// "Training engine"). Per sample i of a batch of B, with head logits z_i and the final
/// classifier's logits t_i (the teacher, a constant):
///
///   hard target y*_i and weight a_i:
///     labelled (and `supervised`):                 y*_i = y_i,            a_i = supervisedWeight
///     unlabelled (and `selfSupervision`), with
///       max softmax(t_i) >= confidenceThreshold:   y*_i = argmax t_i,     a_i = selfSupervisionWeight
///     otherwise:                                   masked,                a_i = 0
///   H = sum_i a_i CE(z_i, y*_i) / sum_i a_i        (0 when every a_i is 0, never NaN)
///   D = T^2 / B * sum_i CE(softmax(t_i / T), softmax(z_i / T))   over every sample
///
///   L = (1 - C) H + C D   with `distillation`,   L = H   without.
///
/// This is Phuong & Lampert 2019 (ICCV, "Distillation-based training for multi-exit
/// architectures"), eq. for an early exit: (1 - kappa) CE(y, p_m) + kappa T^2 KL(p_M^T || p_m^T),
/// with the final exit as teacher; the soft cross-entropy differs from the KL by the
/// teacher's entropy, a constant, so the gradients are equal. Their semi-supervised
/// variant likewise averages the hard term over labelled samples only and distils on all;
/// here self-supervision adds pseudo-labelled samples to the hard term. Unlike their
/// training, T is fixed (they anneal T upward from 1 while the teacher's mean top-1
/// probability at T exceeds 0.5): a personalisation run is short, and a fixed T keeps a
/// run's objective one function.
enum PersonalisationLoss {
    /// Every sample's hard target and weight (a_i above), from the teacher's logits (N, K)
    /// when self-supervision needs them; `labels[i]` nil where sample i is unlabelled.
    /// Masked samples get label 0 and weight 0.
    static func hardTargets(labels: [Int?], teacherLogits: Tensor?,
                            configuration c: PersonalisationConfig) -> (labels: [Int], weights: [Float]) {
        let n = labels.count
        var targets = [Int](repeating: 0, count: n)
        var weights = [Float](repeating: 0, count: n)
        var pseudo: [Int] = [], confidence: [Float] = []
        if c.selfSupervision, let t = teacherLogits {
            let k = t.shape[1]
            pseudo = rowArgmax(t.scalars, rows: n, columns: k)
            let p = Loss.softmax(t).scalars
            confidence = (0..<n).map { p[$0 * k + pseudo[$0]] }
        }
        for i in 0..<n {
            if let label = labels[i] {
                if c.supervised { targets[i] = label; weights[i] = c.supervisedWeight }
            } else if c.selfSupervision && !pseudo.isEmpty && confidence[i] >= c.confidenceThreshold {
                targets[i] = pseudo[i]; weights[i] = c.selfSupervisionWeight
            }
        }
        return (targets, weights)
    }

    /// Whether a batch with these hard weights gives any gradient.
    static func hasSignal(hardWeights: ArraySlice<Float>, configuration c: PersonalisationConfig) -> Bool {
        (c.hardLabelScale > 0 && hardWeights.contains { $0 > 0 }) || (c.distillation && c.distillationWeight > 0)
    }

    /// L and dL/dz for one head's (B, K) logits.
    static func loss(logits: Tensor, hardLabels: [Int], hardWeights: [Float], teacherLogits: Tensor?,
                     configuration c: PersonalisationConfig) -> (loss: Float, dLogits: Tensor) {
        let h = c.hardLabelScale
        var total: Float = 0
        var dLogits = Tensor(zeros: logits.shape)
        if h > 0 {
            let hard = Loss.softmaxCrossEntropy(logits: logits, labels: hardLabels, weights: hardWeights)
            total += h * hard.loss
            for j in dLogits.scalars.indices { dLogits.scalars[j] += h * hard.dLogits.scalars[j] }
        }
        if c.distillation && c.distillationWeight > 0 {
            guard let teacherLogits else { preconditionFailure("distillation needs the teacher's logits") }
            let soft = Loss.distillation(logits: logits, teacherLogits: teacherLogits, temperature: c.temperature)
            total += c.distillationWeight * soft.loss
            for j in dLogits.scalars.indices { dLogits.scalars[j] += c.distillationWeight * soft.dLogits.scalars[j] }
        }
        return (total, dLogits)
    }
}

/// Index of the largest entry in each row of a (rows, columns) buffer (first on ties).
func rowArgmax(_ scores: [Float], rows: Int, columns: Int) -> [Int] {
    (0..<rows).map { r in
        var best = 0
        for c in 1..<columns where scores[r * columns + c] > scores[r * columns + best] { best = c }
        return best
    }
}
