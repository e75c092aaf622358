import Tensor

/// A trainable tensor: its value, the gradient backward accumulates into it (same shape),
/// and a local name ("weight", "bias"); containers prefix the path, giving PyTorch
/// state_dict names such as `layer1.0.conv1.weight`.
///
/// Gradients only ever accumulate (`+=`); `zeroGradient()` is the one place they are
/// cleared. A frozen parameter gets no gradient and is skipped by the optimizers.
public final class Parameter {
    public let name: String
    public var value: Tensor
    public var gradient: Tensor
    public var isFrozen: Bool

    public init(name: String, value: Tensor, isFrozen: Bool = false) {
        self.name = name
        self.value = value
        self.gradient = Tensor(zeros: value.shape)
        self.isFrozen = isFrozen
    }

    public var isTrainable: Bool { !isFrozen }

    public func zeroGradient() {
        for i in gradient.scalars.indices { gradient.scalars[i] = 0 }
    }
}

/// Non-trainable named state saved in checkpoints (batch-norm running statistics).
public final class Buffer {
    /// How the buffer is stored in a checkpoint.
    public enum StorageType: Sendable { case float32, int64 }

    public let name: String
    public var value: Tensor
    public let storage: StorageType

    public init(name: String, value: Tensor, storage: StorageType = .float32) {
        self.name = name
        self.value = value
        self.storage = storage
    }
}
