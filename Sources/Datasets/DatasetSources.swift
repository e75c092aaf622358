import Codecs
import Foundation

/// Readers that turn the original distributions of Fashion-MNIST, CIFAR-10 and CIFAR-100
/// into `ImportPlan`s.
public enum DatasetSources {
    /// Where the Debian package `dataset-fashion-mnist` installs the gzipped IDX files.
    public static let fashionMNISTDefault = "/usr/share/datasets/fashion-mnist"

    public static let fashionMNISTClasses = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// Superclass groups of Fashion-MNIST by kind of garment, as class indices.
    public static let fashionMNISTSuperclasses: [(name: String, classes: [Int])] = [
        ("tops", [0, 2, 4, 6]), ("bottoms", [1]), ("dresses", [3]),
        ("footwear", [5, 7, 9]), ("bags", [8]),
    ]

    /// Reads `{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]` from `directory`.
    public static func fashionMNIST(from directory: String = fashionMNISTDefault) throws -> ImportPlan {
        let hint = directory == fashionMNISTDefault
            ? "reinstall the package: sudo apt-get install --reinstall dataset-fashion-mnist"
            : "re-download the file from https://github.com/zalandoresearch/fashion-mnist (data/fashion), or reinstall dataset-fashion-mnist and omit --from"
        func split(_ name: String, prefix: String) throws -> ImportPlan.Split {
            let (imagesPath, imageBytes) = try readMaybeGzipped(directory, "\(prefix)-images-idx3-ubyte", hint: hint)
            let (labelsPath, labelBytes) = try readMaybeGzipped(directory, "\(prefix)-labels-idx1-ubyte", hint: hint)
            let images = try IDX.parseImages(imageBytes, name: imagesPath, hint: hint)
            let labels = try IDX.parseLabels(labelBytes, name: labelsPath, hint: hint)
            guard labels.count == images.count else {
                throw DatasetError(path: labelsPath, message: "\(labels.count) labels for the \(images.count) images of \(imagesPath)",
                                   hint: hint)
            }
            if let bad = labels.firstIndex(where: { $0 >= fashionMNISTClasses.count }) {
                throw DatasetError(path: labelsPath, message: "label \(labels[bad]) at index \(bad), expected 0..<\(fashionMNISTClasses.count)",
                                   hint: hint)
            }
            return ImportPlan.Split(name: name, images: LabelledImages(
                channels: 1, height: images.rows, width: images.columns, pixels: images.pixels, labels: labels))
        }
        let train = try split("train", prefix: "train")
        let test = try split("test", prefix: "t10k")
        guard (train.images.height, train.images.width) == (test.images.height, test.images.width) else {
            throw DatasetError(path: directory, message: "train images are \(train.images.height)x\(train.images.width), test images \(test.images.height)x\(test.images.width)",
                               hint: hint)
        }
        return ImportPlan(name: "fashion-mnist", classNames: fashionMNISTClasses,
                          superclasses: fashionMNISTSuperclasses,
                          source: "Fashion-MNIST (Xiao, Rasul, Vollgraf 2017), IDX files {train,t10k}-{images-idx3,labels-idx1}-ubyte from \(directory)",
                          splits: [train, test])
    }

    /// Reads the CIFAR-10 binary release: `data_batch_1..5.bin` (train, in that order),
    /// `test_batch.bin`, `batches.meta.txt`. `directory` is `cifar-10-batches-bin` or its parent.
    public static func cifar10(from directory: String) throws -> ImportPlan {
        let dir = resolve(directory, child: "cifar-10-batches-bin")
        let hint = "re-download cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, extract it, and pass the cifar-10-batches-bin directory with --from"
        let names = try CIFAR.parseNames(readText(dir, "batches.meta.txt", hint: hint),
                                         name: dir + "/batches.meta.txt", hint: hint)
        func batch(_ file: String) throws -> LabelledImages {
            let (path, bytes) = try read(dir, file, hint: hint)
            return try CIFAR.parseCIFAR10(bytes, classCount: names.count, name: path, hint: hint)
        }
        var train = try batch("data_batch_1.bin")
        for k in 2...5 { train.append(try batch("data_batch_\(k).bin")) }
        let test = try batch("test_batch.bin")
        return ImportPlan(name: "cifar10", classNames: names, superclasses: nil,
                          source: "CIFAR-10 binary version (Krizhevsky 2009), data_batch_1..5.bin and test_batch.bin from \(dir)",
                          splits: [.init(name: "train", images: train), .init(name: "test", images: test)])
    }

    /// Reads the CIFAR-100 binary release: `train.bin`, `test.bin`, `fine_label_names.txt`,
    /// `coarse_label_names.txt`. `directory` is `cifar-100-binary` or its parent. The coarse
    /// labels become superclass groups (each fine class's coarse label, which must be the
    /// same in every record).
    public static func cifar100(from directory: String) throws -> ImportPlan {
        let dir = resolve(directory, child: "cifar-100-binary")
        let hint = "re-download cifar-100-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, extract it, and pass the cifar-100-binary directory with --from"
        let fine = try CIFAR.parseNames(readText(dir, "fine_label_names.txt", hint: hint),
                                        name: dir + "/fine_label_names.txt", hint: hint)
        let coarse = try CIFAR.parseNames(readText(dir, "coarse_label_names.txt", hint: hint),
                                          name: dir + "/coarse_label_names.txt", hint: hint)
        var coarseOfFine = [Int?](repeating: nil, count: fine.count)
        func records(_ file: String) throws -> LabelledImages {
            let (path, bytes) = try read(dir, file, hint: hint)
            let images = try CIFAR.parseCIFAR100(bytes, fineCount: fine.count, coarseCount: coarse.count,
                                                 name: path, hint: hint)
            for (i, (f, c)) in zip(images.labels, images.coarseLabels!).enumerated() {
                if let known = coarseOfFine[f], known != c {
                    throw DatasetError(path: path, message: "record \(i): fine class \(fine[f]) has coarse label \(coarse[c]), elsewhere \(coarse[known])",
                                       hint: hint)
                }
                coarseOfFine[f] = c
            }
            return images
        }
        let train = try records("train.bin")
        let test = try records("test.bin")
        if let orphan = coarseOfFine.firstIndex(where: { $0 == nil }) {
            throw DatasetError(path: dir, message: "fine class \(fine[orphan]) has no images, so its coarse group is unknown",
                               hint: hint)
        }
        let groups = coarse.indices.map { c in
            (name: coarse[c], classes: fine.indices.filter { coarseOfFine[$0] == c })
        }
        return ImportPlan(name: "cifar100", classNames: fine, superclasses: groups,
                          source: "CIFAR-100 binary version (Krizhevsky 2009), train.bin and test.bin from \(dir); superclasses are its coarse labels",
                          splits: [.init(name: "train", images: train), .init(name: "test", images: test)])
    }

    /// `directory/child` if that exists, else `directory`.
    static func resolve(_ directory: String, child: String) -> String {
        var isDirectory: ObjCBool = false
        let nested = directory + "/" + child
        return FileManager.default.fileExists(atPath: nested, isDirectory: &isDirectory) && isDirectory.boolValue
            ? nested : directory
    }

    static func read(_ directory: String, _ file: String, hint: String) throws -> (String, [UInt8]) {
        let path = directory + "/" + file
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError(path: path, message: "missing or unreadable", hint: hint)
        }
        return (path, [UInt8](data))
    }

    static func readText(_ directory: String, _ file: String, hint: String) throws -> String {
        let (path, bytes) = try read(directory, file, hint: hint)
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw DatasetError(path: path, message: "not UTF-8 text", hint: hint)
        }
        return text
    }

    /// Reads `<name>.gz` gunzipped if present, else `<name>` as is.
    static func readMaybeGzipped(_ directory: String, _ name: String, hint: String) throws -> (String, [UInt8]) {
        let gz = directory + "/" + name + ".gz"
        if FileManager.default.fileExists(atPath: gz) {
            do {
                return (gz, try Gzip.decompress(path: gz))
            } catch let error as CodecError {
                throw DatasetError(path: gz, message: error.message, hint: hint)
            }
        }
        let plain = directory + "/" + name
        guard FileManager.default.fileExists(atPath: plain) else {
            throw DatasetError(path: gz, message: "missing (nor is there an uncompressed \(name))", hint: hint)
        }
        return try read(directory, name, hint: hint)
    }
}
