// Little-endian byte images of numeric arrays, for checkpoint files.

/// The IEEE-754 little-endian bytes of `values`.
public func littleEndianBytes(of values: [Float]) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: values.count * 4)
    bytes.withUnsafeMutableBytes { out in
        let words = out.bindMemory(to: UInt32.self)
        for i in 0..<values.count { words[i] = values[i].bitPattern.littleEndian }
    }
    return bytes
}

/// Floats decoded from little-endian bytes; `bytes.count` must be a multiple of 4.
public func floatsFromLittleEndian(_ bytes: ArraySlice<UInt8>) -> [Float] {
    precondition(bytes.count % 4 == 0, "\(bytes.count) bytes is not a whole number of Float32s")
    let count = bytes.count / 4
    return [Float](unsafeUninitializedCapacity: count) { out, initialized in
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        }
        initialized = count
    }
}

/// The little-endian bytes of 64-bit integers (safetensors "I64").
public func littleEndianBytes(of values: [Int64]) -> [UInt8] {
    var bytes = [UInt8]()
    bytes.reserveCapacity(values.count * 8)
    for v in values { var x = UInt64(bitPattern: v); for _ in 0..<8 { bytes.append(UInt8(x & 0xFF)); x >>= 8 } }
    return bytes
}
