// Naive direct convolution: the oracle every fast convolution kernel is tested
// against. Accumulates in Double. Legend as in Conv2dGeometry.swift.

/// y[n,k,oh,ow] = bias[k] + sum_{c,r,s} x[n, g*Cg + c, oh*sh - ph + r, ow*sw - pw + s] * w[k,c,r,s]
public func conv2dForwardReference(input: Tensor, weight: Tensor, bias: Tensor?,
                                   geometry g: Conv2dGeometry) -> Tensor {
    precondition(input.shape == g.inputShape && weight.shape == g.weightShape)
    let cg = g.inChannels / g.groups, kg = g.outChannels / g.groups
    var out = Tensor(zeros: g.outputShape)
    for n in 0..<g.batch { for k in 0..<g.outChannels {
        let grp = k / kg
        for oh in 0..<g.outHeight { for ow in 0..<g.outWidth {
            var sum = Double(bias?.scalars[k] ?? 0)
            for c in 0..<cg { for r in 0..<g.kernelHeight { for s in 0..<g.kernelWidth {
                let ih = oh * g.strideH - g.padH + r, iw = ow * g.strideW - g.padW + s
                guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { continue }
                sum += Double(input[n, grp * cg + c, ih, iw]) * Double(weight[k, c, r, s])
            }}}
            out[n, k, oh, ow] = Float(sum)
        }}
    }}
    return out
}

/// dx = conv_transpose(dy, w): the gradient of the loss with respect to the input.
public func conv2dBackwardInputReference(dOutput: Tensor, weight: Tensor,
                                         geometry g: Conv2dGeometry) -> Tensor {
    precondition(dOutput.shape == g.outputShape && weight.shape == g.weightShape)
    let cg = g.inChannels / g.groups, kg = g.outChannels / g.groups
    var dx = [Double](repeating: 0, count: Tensor.count(of: g.inputShape))
    for n in 0..<g.batch { for k in 0..<g.outChannels {
        let grp = k / kg
        for oh in 0..<g.outHeight { for ow in 0..<g.outWidth {
            let dy = Double(dOutput[n, k, oh, ow])
            for c in 0..<cg { for r in 0..<g.kernelHeight { for s in 0..<g.kernelWidth {
                let ih = oh * g.strideH - g.padH + r, iw = ow * g.strideW - g.padW + s
                guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { continue }
                let idx = ((n * g.inChannels + grp * cg + c) * g.height + ih) * g.width + iw
                dx[idx] += dy * Double(weight[k, c, r, s])
            }}}
        }}
    }}
    return Tensor(shape: g.inputShape, scalars: dx.map { Float($0) })
}

/// dw[k,c,r,s] = sum_{n,oh,ow} dy[n,k,oh,ow] * x[n, g*Cg + c, ih, iw]
public func conv2dBackwardWeightReference(dOutput: Tensor, input: Tensor,
                                          geometry g: Conv2dGeometry) -> Tensor {
    precondition(dOutput.shape == g.outputShape && input.shape == g.inputShape)
    let cg = g.inChannels / g.groups, kg = g.outChannels / g.groups
    var dw = Tensor(zeros: g.weightShape)
    for k in 0..<g.outChannels {
        let grp = k / kg
        for c in 0..<cg { for r in 0..<g.kernelHeight { for s in 0..<g.kernelWidth {
            var sum: Double = 0
            for n in 0..<g.batch { for oh in 0..<g.outHeight { for ow in 0..<g.outWidth {
                let ih = oh * g.strideH - g.padH + r, iw = ow * g.strideW - g.padW + s
                guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { continue }
                sum += Double(dOutput[n, k, oh, ow]) * Double(input[n, grp * cg + c, ih, iw])
            }}}
            dw[k, c, r, s] = Float(sum)
        }}}
    }
    return dw
}
