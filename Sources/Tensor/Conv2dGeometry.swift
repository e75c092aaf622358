// Legend: N batch, C input channels, H W input height and width, K output
// channels, R S kernel height and width, OH OW output height and width, G groups.

/// Shape arithmetic of a 2-D convolution (cross-correlation, as in PyTorch).
/// Weights are OIHW: (K, C / G, R, S).
public struct Conv2dGeometry: Equatable, Hashable, Sendable {
    public var batch: Int            // N
    public var inChannels: Int       // C
    public var height: Int           // H
    public var width: Int            // W
    public var outChannels: Int      // K
    public var kernelHeight: Int     // R
    public var kernelWidth: Int      // S
    public var strideH: Int
    public var strideW: Int
    public var padH: Int
    public var padW: Int
    public var groups: Int           // G

    public init(batch: Int, inChannels: Int, height: Int, width: Int,
                outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), groups: Int = 1) {
        precondition(groups >= 1 && inChannels % groups == 0 && outChannels % groups == 0,
                     "channels \(inChannels)->\(outChannels) not divisible by groups \(groups)")
        precondition(stride.0 >= 1 && stride.1 >= 1 && padding.0 >= 0 && padding.1 >= 0)
        self.batch = batch; self.inChannels = inChannels
        self.height = height; self.width = width
        self.outChannels = outChannels
        self.kernelHeight = kernelSize.0; self.kernelWidth = kernelSize.1
        self.strideH = stride.0; self.strideW = stride.1
        self.padH = padding.0; self.padW = padding.1
        self.groups = groups
        precondition(outHeight >= 1 && outWidth >= 1,
                     "kernel \(kernelSize) larger than padded input \(height)x\(width)")
    }

    public var outHeight: Int { (height + 2 * padH - kernelHeight) / strideH + 1 }   // OH
    public var outWidth: Int { (width + 2 * padW - kernelWidth) / strideW + 1 }      // OW
    public var inputShape: [Int] { [batch, inChannels, height, width] }
    public var outputShape: [Int] { [batch, outChannels, outHeight, outWidth] }
    public var weightShape: [Int] { [outChannels, inChannels / groups, kernelHeight, kernelWidth] }
    /// Forward multiply-adds times two, for the whole batch.
    public var forwardFLOPs: Int {
        2 * batch * outChannels * outHeight * outWidth * (inChannels / groups) * kernelHeight * kernelWidth
    }
}
