/// The dataset a model was trained on: its name and the checksum from its dataset.json
/// (`fnv1a64:...` over the tree's PNG files, docs/datasets.md).
public struct DatasetIdentity: Codable, Equatable, Sendable {
    public var name: String
    public var checksum: String
    /// Class names in label order.
    public var classNames: [String]

    public init(name: String, checksum: String, classNames: [String]) {
        self.name = name; self.checksum = checksum; self.classNames = classNames
    }
}
