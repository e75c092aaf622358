import Testing
@testable import Tensor

/// The column matrix straight from its definition: row (c, r, s), column (b, oh, ow) holds
/// input (b, c0 + c, oh·strideH − padH + r, ow·strideW − padW + s), or 0 in the padding.
func im2colDefinition(_ x: [Float], images: Int, channelOffset c0: Int, geometry g: Conv2dGeometry) -> [Float] {
    let cg = g.inChannels / g.groups, R = g.kernelHeight, S = g.kernelWidth
    let OH = g.outHeight, OW = g.outWidth, P = OH * OW, ld = images * P
    var col = [Float](repeating: .nan, count: cg * R * S * ld)
    for c in 0..<cg { for r in 0..<R { for s in 0..<S { for b in 0..<images {
        for oh in 0..<OH { for ow in 0..<OW {
            let ih = oh * g.strideH - g.padH + r, iw = ow * g.strideW - g.padW + s
            let inside = ih >= 0 && ih < g.height && iw >= 0 && iw < g.width
            let xi = ((b * g.inChannels + c0 + c) * g.height + ih) * g.width + iw
            col[((c * R + r) * S + s) * ld + b * P + oh * OW + ow] = inside ? x[xi] : 0
        }}
    }}}}
    return col
}

/// Extra shapes for the unfolding alone: strides 3 and (1, 2), asymmetric padding, rows
/// narrower than a vector (1-3 floats), exactly 4 and 8, and wider than 16.
let im2colCases: [ConvCase] = [
    ConvCase(2, 3, 10, 11, 1, kernel: (3, 3), stride: (3, 3), pad: (1, 1)),
    ConvCase(2, 2, 9, 12, 1, kernel: (2, 3), stride: (1, 2), pad: (1, 0)),
    ConvCase(1, 2, 3, 3, 1, kernel: (3, 3)),
    ConvCase(1, 2, 4, 5, 1, kernel: (2, 2), pad: (0, 1)),
    ConvCase(2, 3, 6, 10, 1, kernel: (3, 3), pad: (1, 0)),
    ConvCase(1, 2, 19, 21, 2, kernel: (3, 3), stride: (2, 2), pad: (2, 1), groups: 2),
    ConvCase(1, 2, 28, 28, 1, kernel: (3, 3), pad: (1, 1)),
    ConvCase(2, 4, 14, 14, 4, kernel: (3, 3), stride: (2, 2), pad: (1, 1), groups: 2),
]

@Suite struct Im2colTests {
    /// Both unfoldings (phase planes for kernels of several taps, rows for 1×1) write exactly
    /// the matrix of the definition, for every chunk size and group of each shape.
    @Test(arguments: convCases + depthwiseCases + im2colCases)
    func unfoldingMatchesDefinition(_ cc: ConvCase) {
        let g = cc.geometry
        var rng = SeededGenerator(seed: 41)
        let x = randomTensor(g.inputShape, &rng)
        let cg = g.inChannels / g.groups
        let rows = cg * g.kernelHeight * g.kernelWidth, P = g.outHeight * g.outWidth
        let inImage = g.inChannels * g.height * g.width
        for images in Set([1, g.batch]) {
            for n0 in 0...(g.batch - images) {
                for grp in 0..<g.groups {
                    let expected = im2colDefinition(Array(x.scalars[(n0 * inImage)...]), images: images,
                                                    channelOffset: grp * cg, geometry: g)
                    for unfold in [im2col, im2colByPhasePlanes, im2colByRows] {
                        var col = [Float](repeating: .nan, count: rows * images * P)
                        x.withUnsafeBufferPointer { xb in
                            col.withUnsafeMutableBufferPointer { cb in
                                unfold(xb.baseAddress! + n0 * inImage, images, grp * cg, g, cb.baseAddress!)
                            }
                        }
                        #expect(col.map(\.bitPattern) == expected.map(\.bitPattern), "\(cc) images \(images) n0 \(n0) group \(grp)")
                    }
                }
            }
        }
    }
}
