// A scalar or a vector of floats, so a transform written once runs 8 lanes at a time
// in its main loop and one lane in its tail (the two give identical per-element results:
// only adds and subtracts, no reassociation across lanes).

protocol FloatLanes {
    static var width: Int { get }
    static var zero: Self { get }
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static prefix func - (a: Self) -> Self
    static func * (a: Self, b: Float) -> Self
    /// Lane l from p[l·stride].
    static func gather(_ p: UnsafePointer<Float>, stride: Int) -> Self
    /// p[l·stride] += lane l.
    func addScattered(into p: UnsafeMutablePointer<Float>, stride: Int)
    static func load(_ p: UnsafePointer<Float>) -> Self
    func store(_ p: UnsafeMutablePointer<Float>)
}

extension Float: FloatLanes {
    @inline(__always) static var width: Int { 1 }
    @inline(__always) static var zero: Float { 0 }
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Float { p.pointee }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) { p.pointee = self }
    @inline(__always) static func gather(_ p: UnsafePointer<Float>, stride: Int) -> Float { p.pointee }
    @inline(__always) func addScattered(into p: UnsafeMutablePointer<Float>, stride: Int) { p.pointee += self }
}

extension SIMD8: FloatLanes where Scalar == Float {
    @inline(__always) static var width: Int { 8 }
    @inline(__always) static var zero: SIMD8<Float> { SIMD8(repeating: 0) }
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD8<Float>.self)
    }
    @inline(__always) static func gather(_ p: UnsafePointer<Float>, stride: Int) -> SIMD8<Float> {
        var v = SIMD8<Float>()
        for l in 0..<8 { v[l] = p[l * stride] }
        return v
    }
    @inline(__always) func addScattered(into p: UnsafeMutablePointer<Float>, stride: Int) {
        for l in 0..<8 { p[l * stride] += self[l] }
    }
}

extension SIMD16: FloatLanes where Scalar == Float {
    @inline(__always) static var width: Int { 16 }
    @inline(__always) static var zero: SIMD16<Float> { SIMD16(repeating: 0) }
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD16<Float>.self)
    }
    @inline(__always) static func gather(_ p: UnsafePointer<Float>, stride: Int) -> SIMD16<Float> {
        var v = SIMD16<Float>()
        for l in 0..<16 { v[l] = p[l * stride] }
        return v
    }
    @inline(__always) func addScattered(into p: UnsafeMutablePointer<Float>, stride: Int) {
        for l in 0..<16 { p[l * stride] += self[l] }
    }
}

extension SIMD4: FloatLanes where Scalar == Float {
    @inline(__always) static var width: Int { 4 }
    @inline(__always) static var zero: SIMD4<Float> { SIMD4(repeating: 0) }
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
    }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD4<Float>.self)
    }
    @inline(__always) static func gather(_ p: UnsafePointer<Float>, stride: Int) -> SIMD4<Float> {
        var v = SIMD4<Float>()
        for l in 0..<4 { v[l] = p[l * stride] }
        return v
    }
    @inline(__always) func addScattered(into p: UnsafeMutablePointer<Float>, stride: Int) {
        for l in 0..<4 { p[l * stride] += self[l] }
    }
}

/// Runs `body` over 0..<count: 8 lanes at a time, then 4, then one at a time (short rows,
/// such as the 7 tiles of a 14-pixel row, still run mostly vectorised).
@inline(__always)
func forEachLane(_ count: Int, _ body8: (Int) -> Void, _ body4: (Int) -> Void, _ body1: (Int) -> Void) {
    var i = 0
    while i + 8 <= count { body8(i); i += 8 }
    if i + 4 <= count { body4(i); i += 4 }
    while i < count { body1(i); i += 1 }
}
