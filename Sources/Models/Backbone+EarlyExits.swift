import NN
import Tensor

/// Which exit points are early: an exit is only worth having when classifying a sample
/// there costs less than running the whole network. Two rules, both by construction:
///
/// - no exit at the last block (or after it): its features feed the final classifier
///   directly, so a head there repeats the final classifier at a higher price;
/// - no exit whose cumulative forward FLOPs (backbone through the point plus the head)
///   reach the full network's.
extension Backbone {
    /// The last block's point: exits must come strictly before it.
    public var lastBlock: ExitPoint { exitPoints[exitPoints.count - 1] }

    /// Forward FLOPs for one sample of the backbone through `point` plus a head of `kind` there.
    public func cumulativeFLOPs(at point: ExitPoint, head kind: ExitHeadKind) -> Int {
        // A throwaway head: its cost depends only on its shapes, not on its weights.
        var generator = SeededGenerator(seed: 0)
        let head = ExitHead.make(kind, featureShape: point.featureShape, classes: classes, generator: &generator)
        return forwardFLOPs(through: point) + head.cost(for: [1] + point.featureShape).forward
    }

    /// Why an exit of `kind` at `point` is not early, or nil when it is.
    public func earlyExitProblem(at point: ExitPoint, head kind: ExitHeadKind) -> String? {
        if point.childIndex >= lastBlock.childIndex {
            return "\(point.name) is the last block of \(architecture), whose features feed the final classifier: an exit there is not early"
        }
        let exitFLOPs = cumulativeFLOPs(at: point, head: kind)
        let full = forwardFLOPs
        if exitFLOPs >= full {
            let permille = exitFLOPs * 1000 / full
            let percent = "\(permille / 10).\(permille % 10)"
            return "an exit at \(point.name) with a \(kind.description) head costs \(exitFLOPs) FLOPs, \(percent)% of the full network's \(full): it is not early"
        }
        return nil
    }

    /// The points where an exit of `kind` is early, in network order.
    public func earlyExitPoints(head kind: (ExitPoint) -> ExitHeadKind) -> [ExitPoint] {
        exitPoints.filter { earlyExitProblem(at: $0, head: kind($0)) == nil }
    }
}
