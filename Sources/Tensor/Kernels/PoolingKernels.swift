// Max, average and global average pooling over NCHW, PyTorch conventions (floor mode;
// average pooling counts padding in the divisor, count_include_pad=True).
// Legend: N batch, C channels, H W input size, OH OW output size, KH KW window,
// SH SW stride, PH PW padding. Work is split over the N * C planes; each plane is
// written by one worker, so results never depend on the chunking.

/// Shape arithmetic of a 2-D pooling window.
public struct Pool2dGeometry: Equatable, Hashable, Sendable {
    public var batch: Int, channels: Int, height: Int, width: Int   // N C H W
    public var kernelHeight: Int, kernelWidth: Int                  // KH KW
    public var strideH: Int, strideW: Int                           // SH SW
    public var padH: Int, padW: Int                                 // PH PW

    public init(inputShape: [Int], kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int) = (0, 0)) {
        precondition(inputShape.count == 4, "pooling needs NCHW, got \(inputShape)")
        precondition(kernelSize.0 >= 1 && kernelSize.1 >= 1 && stride.0 >= 1 && stride.1 >= 1)
        // PyTorch's rule; it also guarantees every window holds at least one real pixel.
        precondition(padding.0 >= 0 && padding.1 >= 0 && 2 * padding.0 <= kernelSize.0 && 2 * padding.1 <= kernelSize.1,
                     "pool padding \(padding) must be at most half the kernel \(kernelSize)")
        batch = inputShape[0]; channels = inputShape[1]; height = inputShape[2]; width = inputShape[3]
        kernelHeight = kernelSize.0; kernelWidth = kernelSize.1
        strideH = stride.0; strideW = stride.1; padH = padding.0; padW = padding.1
        precondition(outHeight >= 1 && outWidth >= 1, "pool window \(kernelSize) larger than input \(inputShape)")
    }

    public var outHeight: Int { (height + 2 * padH - kernelHeight) / strideH + 1 }
    public var outWidth: Int { (width + 2 * padW - kernelWidth) / strideW + 1 }
    public var inputShape: [Int] { [batch, channels, height, width] }
    public var outputShape: [Int] { [batch, channels, outHeight, outWidth] }
}

/// Max pooling; also returns, per output element, the index of the chosen input within
/// its (H, W) plane, which is all backward needs.
public func maxPool2dForward(_ input: Tensor, geometry g: Pool2dGeometry) -> (output: Tensor, argmax: [Int32]) {
    precondition(input.shape == g.inputShape, "input \(input.shape) vs pool geometry \(g.inputShape)")
    let planes = g.batch * g.channels, hw = g.height * g.width, ohw = g.outHeight * g.outWidth
    var argmax = [Int32](repeating: 0, count: planes * ohw)
    let output = Tensor.filled(shape: g.outputShape) { y in
        input.withUnsafeBufferPointer { x in argmax.withUnsafeMutableBufferPointer { am in
            Parallel.forEachChunk(count: planes) { _, range in
                for p in range {
                    let xb = p * hw, yb = p * ohw
                    for oh in 0..<g.outHeight {
                        let h0 = oh * g.strideH - g.padH
                        let hLo = max(h0, 0), hHi = min(h0 + g.kernelHeight, g.height)
                        for ow in 0..<g.outWidth {
                            let w0 = ow * g.strideW - g.padW
                            let wLo = max(w0, 0), wHi = min(w0 + g.kernelWidth, g.width)
                            var best = -Float.infinity, bestIndex = hLo * g.width + wLo
                            for ih in hLo..<hHi { for iw in wLo..<wHi {
                                let v = x[xb + ih * g.width + iw]
                                if v > best { best = v; bestIndex = ih * g.width + iw }
                            }}
                            y[yb + oh * g.outWidth + ow] = best
                            am[yb + oh * g.outWidth + ow] = Int32(bestIndex)
                        }
                    }
                }
            }
        }}
    }
    return (output, argmax)
}

/// dx[argmax] += dy for every output element; overlapping windows add in a fixed order.
public func maxPool2dBackward(dOutput: Tensor, argmax: [Int32], geometry g: Pool2dGeometry) -> Tensor {
    precondition(dOutput.shape == g.outputShape && argmax.count == dOutput.count)
    let planes = g.batch * g.channels, hw = g.height * g.width, ohw = g.outHeight * g.outWidth
    return Tensor.filled(shape: g.inputShape) { dx in
        dOutput.withUnsafeBufferPointer { dy in argmax.withUnsafeBufferPointer { am in
            Parallel.forEachChunk(count: planes) { _, range in
                for p in range {
                    let xb = p * hw, yb = p * ohw
                    for j in xb..<(xb + hw) { dx[j] = 0 }
                    for j in 0..<ohw { dx[xb + Int(am[yb + j])] += dy[yb + j] }
                }
            }
        }}
    }
}

/// Average pooling; the divisor is always KH * KW (padding counts as zeros).
public func avgPool2dForward(_ input: Tensor, geometry g: Pool2dGeometry) -> Tensor {
    precondition(input.shape == g.inputShape, "input \(input.shape) vs pool geometry \(g.inputShape)")
    let planes = g.batch * g.channels, hw = g.height * g.width, ohw = g.outHeight * g.outWidth
    let scale = 1 / Float(g.kernelHeight * g.kernelWidth)
    return Tensor.filled(shape: g.outputShape) { y in
        input.withUnsafeBufferPointer { x in
            Parallel.forEachChunk(count: planes) { _, range in
                for p in range {
                    let xb = p * hw, yb = p * ohw
                    for oh in 0..<g.outHeight {
                        let h0 = oh * g.strideH - g.padH
                        let hLo = max(h0, 0), hHi = min(h0 + g.kernelHeight, g.height)
                        for ow in 0..<g.outWidth {
                            let w0 = ow * g.strideW - g.padW
                            let wLo = max(w0, 0), wHi = min(w0 + g.kernelWidth, g.width)
                            var s: Float = 0
                            for ih in hLo..<hHi { for iw in wLo..<wHi { s += x[xb + ih * g.width + iw] } }
                            y[yb + oh * g.outWidth + ow] = s * scale
                        }
                    }
                }
            }
        }
    }
}

/// dx[window] += dy / (KH * KW) for every output element.
public func avgPool2dBackward(dOutput: Tensor, geometry g: Pool2dGeometry) -> Tensor {
    precondition(dOutput.shape == g.outputShape, "dOutput \(dOutput.shape) vs pool output \(g.outputShape)")
    let planes = g.batch * g.channels, hw = g.height * g.width, ohw = g.outHeight * g.outWidth
    let scale = 1 / Float(g.kernelHeight * g.kernelWidth)
    return Tensor.filled(shape: g.inputShape) { dx in
        dOutput.withUnsafeBufferPointer { dy in
            Parallel.forEachChunk(count: planes) { _, range in
                for p in range {
                    let xb = p * hw, yb = p * ohw
                    for j in xb..<(xb + hw) { dx[j] = 0 }
                    for oh in 0..<g.outHeight {
                        let h0 = oh * g.strideH - g.padH
                        let hLo = max(h0, 0), hHi = min(h0 + g.kernelHeight, g.height)
                        for ow in 0..<g.outWidth {
                            let w0 = ow * g.strideW - g.padW
                            let wLo = max(w0, 0), wHi = min(w0 + g.kernelWidth, g.width)
                            let d = dy[yb + oh * g.outWidth + ow] * scale
                            for ih in hLo..<hHi { for iw in wLo..<wHi { dx[xb + ih * g.width + iw] += d } }
                        }
                    }
                }
            }
        }
    }
}

/// Mean over H and W: (N, C, H, W) -> (N, C).
public func globalAvgPoolForward(_ input: Tensor) -> Tensor {
    precondition(input.rank == 4, "global pooling needs NCHW, got \(input.shape)")
    let planes = input.shape[0] * input.shape[1], hw = input.shape[2] * input.shape[3]
    let scale = 1 / Float(hw)
    return Tensor.filled(shape: [input.shape[0], input.shape[1]]) { y in
        input.withUnsafeBufferPointer { x in
            Parallel.forEachChunk(count: planes) { _, range in
                for p in range { y[p] = runSum(x.baseAddress! + p * hw, hw) * scale }
            }
        }
    }
}

/// dx[n, c, :, :] = dy[n, c] / (H * W).
public func globalAvgPoolBackward(dOutput: Tensor, inputShape: [Int]) -> Tensor {
    precondition(inputShape.count == 4 && dOutput.shape == [inputShape[0], inputShape[1]])
    let planes = inputShape[0] * inputShape[1], hw = inputShape[2] * inputShape[3]
    let scale = 1 / Float(hw)
    return Tensor.filled(shape: inputShape) { dx in
        dOutput.withUnsafeBufferPointer { dy in
            Parallel.forEachChunk(count: planes) { _, range in
                for p in range {
                    let d = dy[p] * scale
                    for j in (p * hw)..<((p + 1) * hw) { dx[j] = d }
                }
            }
        }
    }
}

/// Naive reference for max and average pooling (forward), straight from the definition.
public func pool2dForwardReference(_ input: Tensor, geometry g: Pool2dGeometry, max isMax: Bool) -> Tensor {
    var out = Tensor(zeros: g.outputShape)
    for n in 0..<g.batch { for c in 0..<g.channels { for oh in 0..<g.outHeight { for ow in 0..<g.outWidth {
        var best = -Float.infinity, sum = 0.0
        for r in 0..<g.kernelHeight { for s in 0..<g.kernelWidth {
            let ih = oh * g.strideH - g.padH + r, iw = ow * g.strideW - g.padW + s
            guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { continue }
            best = max(best, input[n, c, ih, iw]); sum += Double(input[n, c, ih, iw])
        }}
        out[n, c, oh, ow] = isMax ? best : Float(sum / Double(g.kernelHeight * g.kernelWidth))
    }}}}
    return out
}

/// Naive reference for the pooling backward passes (max routes to the first maximum).
public func pool2dBackwardReference(dOutput: Tensor, input: Tensor, geometry g: Pool2dGeometry, max isMax: Bool) -> Tensor {
    var dx = [Double](repeating: 0, count: input.count)
    for n in 0..<g.batch { for c in 0..<g.channels { for oh in 0..<g.outHeight { for ow in 0..<g.outWidth {
        let dy = Double(dOutput[n, c, oh, ow])
        var best = -Float.infinity, bestIndex = -1
        for r in 0..<g.kernelHeight { for s in 0..<g.kernelWidth {
            let ih = oh * g.strideH - g.padH + r, iw = ow * g.strideW - g.padW + s
            guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { continue }
            let index = ((n * g.channels + c) * g.height + ih) * g.width + iw
            if isMax {
                if input.scalars[index] > best { best = input.scalars[index]; bestIndex = index }
            } else {
                dx[index] += dy / Double(g.kernelHeight * g.kernelWidth)
            }
        }}
        if isMax { dx[bestIndex] += dy }
    }}}}
    return Tensor(shape: input.shape, scalars: dx.map { Float($0) })
}
