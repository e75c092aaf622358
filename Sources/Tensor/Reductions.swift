// Reductions. Sums accumulate in Double in index order: accurate for the long sums of
// batch statistics and losses, and the same bits on every run.

extension Tensor {
    /// Sum of all elements.
    public func sum() -> Float {
        withUnsafeBufferPointer { p in
            var s: Double = 0
            for v in p { s += Double(v) }
            return Float(s)
        }
    }

    /// Mean of all elements (0 for an empty tensor).
    public func mean() -> Float {
        count == 0 ? 0 : Float(Double(sum()) / Double(count))
    }

    /// Sums over `axes`; the reduced axes are removed, or kept with extent 1 when
    /// `keepingDimensions`. Reducing every axis of a rank-r tensor gives shape [] (one element).
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        precondition(axes.allSatisfy { $0 >= 0 && $0 < rank } && Set(axes).count == axes.count,
                     "sum: axes \(axes) invalid for shape \(shape)")
        let reduced = Set(axes)
        let keptShape = shape.enumerated().map { reduced.contains($0.offset) ? 1 : $0.element }
        // Output strides in the kept shape; a reduced axis contributes stride 0.
        var outStrides = [Int](repeating: 0, count: rank)
        var step = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) where !reduced.contains(axis) {
            outStrides[axis] = step
            step *= shape[axis]
        }
        var acc = [Double](repeating: 0, count: Tensor.count(of: keptShape))
        var index = [Int](repeating: 0, count: rank)
        withUnsafeBufferPointer { p in
            var out = 0
            for i in 0..<p.count {
                acc[out] += Double(p[i])
                // Odometer increment of the multi-index, updating the output offset.
                var axis = rank - 1
                while axis >= 0 {
                    index[axis] += 1
                    out += outStrides[axis]
                    if index[axis] < shape[axis] { break }
                    out -= outStrides[axis] * index[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
        let result = Tensor(shape: keptShape, scalars: acc.map { Float($0) })
        return keepingDimensions ? result : result.reshaped(shape.enumerated().filter { !reduced.contains($0.offset) }.map(\.element))
    }

    /// Per-channel sums of an NCHW (or NC) tensor over batch and space: shape [C].
    /// The bias gradient of a convolution and the batch sums of batch norm.
    public func channelSums() -> Tensor {
        precondition(rank >= 2, "channelSums needs rank >= 2, got \(shape)")
        let n = shape[0], c = shape[1], plane = shape.dropFirst(2).reduce(1, *)
        var acc = [Double](repeating: 0, count: c)
        withUnsafeBufferPointer { p in
            for i in 0..<n {
                for j in 0..<c {
                    let base = (i * c + j) * plane
                    var s: Double = 0
                    for q in 0..<plane { s += Double(p[base + q]) }
                    acc[j] += s
                }
            }
        }
        return Tensor(shape: [c], scalars: acc.map { Float($0) })
    }

    /// Index of the largest element of each row of an (N, classes) tensor; ties pick the first.
    public func argmaxAlongLastAxis() -> [Int] {
        precondition(rank == 2 && shape[1] >= 1, "argmaxAlongLastAxis needs shape (N, classes>=1), got \(shape)")
        let cols = shape[1]
        return withUnsafeBufferPointer { p in
            (0..<shape[0]).map { row in
                var best = 0
                for j in 1..<cols where p[row * cols + j] > p[row * cols + best] { best = j }
                return best
            }
        }
    }
}
