// Convolution entry points used by the NN layers. Legend as in Conv2dGeometry.swift.
// Each fast path is tested against ConvolutionReference.swift.

/// output = conv(input, weight) + bias, shape `geometry.outputShape`.
public func conv2dForward(input: Tensor, weight: Tensor, bias: Tensor?,
                          geometry: Conv2dGeometry) -> Tensor {
    conv2dForwardReference(input: input, weight: weight, bias: bias, geometry: geometry)
}

/// dInput for dOutput, shape `geometry.inputShape`.
public func conv2dBackwardInput(dOutput: Tensor, weight: Tensor,
                                geometry: Conv2dGeometry) -> Tensor {
    conv2dBackwardInputReference(dOutput: dOutput, weight: weight, geometry: geometry)
}

/// Adds dWeight (shape `geometry.weightShape`) into `dWeight`.
public func conv2dBackwardWeight(dOutput: Tensor, input: Tensor, geometry: Conv2dGeometry,
                                 accumulatingInto dWeight: inout Tensor) {
    let d = conv2dBackwardWeightReference(dOutput: dOutput, input: input, geometry: geometry)
    for i in 0..<d.count { dWeight.scalars[i] += d.scalars[i] }
}
