// swift-tools-version:6.1
// Persephone: a CPU harness reproducing PersEPhonEE (HotMobile 2021).
// Target graph (arrows are the only allowed dependencies), see docs/architecture.md:
//   CPNG CZstd CZlib CBLAS   system libraries, found with pkg-config
//   Codecs   -> CPNG, CZstd, CZlib   PNG, zstd, gzip and .csv.zst I/O
//   Tensor   -> CBLAS                storage, shapes, kernels: the only pointer code of the engine
//   NN       -> Tensor               layers, losses, optimizers, checkpoints, FLOP counts
//   Datasets -> Tensor, Codecs       IDX/CIFAR importers, PNG class-folder trees, cache, loading
//   Experiments -> Codecs, Tensor, Yams, SourceFingerprint   specs, sweeps, runner, result tables
//   SourceFingerprint                 the code fingerprint, embedded at build time by SourceFingerprintPlugin
//   Models   -> NN, Tensor            backbones (CIFAR ResNet, MobileNetV2), exit heads, multi-exit nets
//   Training -> Models, Datasets, NN, Codecs   pretraining, offline exits, evaluation, checkpoints of models
//   Personalisation -> Training, ...   on-device exit personalisation, profiler, orchestrator, inference
//   Reproduction -> Experiments, Personalisation, ...   the paper's five experiments as registered kinds
//   Bench    -> Personalisation, Training, Models, NN, Tensor   `persephone bench` (Reference/: the PyTorch script)
//   Report   -> Reproduction, Experiments, Codecs   `persephone report`: verdict per claim, figures
//   persephone -> ...                CLI: parsing and dispatch only
import PackageDescription

// Release builds of the engine targets: -Ounchecked, and on x86-64 code generation for
// AVX2 (`-target-cpu haswell`; every x86 machine this project runs on has it, AVX2 and
// AVX-512 kinds alike): the Swift kernels' SIMD8 loops then run as one 256-bit operation
// instead of two SSE halves. The compiler still does not fuse multiplies and adds, so the
// kernels' bits are those of the SSE build (docs/determinism.md).
#if arch(x86_64)
let releaseFlags = ["-Ounchecked", "-target-cpu", "haswell"]
#else
let releaseFlags = ["-Ounchecked"]
#endif
let release: [SwiftSetting] = [.unsafeFlags(releaseFlags, .when(configuration: .release))]

let package = Package(
    name: "Persephone",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "persephone", targets: ["persephone"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),

        .target(name: "Codecs", dependencies: ["CPNG", "CZstd", "CZlib"]),
        .target(name: "Tensor", dependencies: ["CBLAS"], swiftSettings: release),
        .target(name: "NN", dependencies: ["Tensor"], swiftSettings: release),
        .target(name: "Datasets", dependencies: ["Tensor", "Codecs"]),
        .target(name: "Experiments", dependencies: ["Codecs", "Tensor", "Yams", "SourceFingerprint"],
                plugins: ["SourceFingerprintPlugin"]),
        // The code fingerprint embedded at build time (docs/determinism.md, "Code fingerprint").
        .target(name: "SourceFingerprint"),
        .executableTarget(name: "source-fingerprint", dependencies: ["SourceFingerprint"]),
        .plugin(name: "SourceFingerprintPlugin", capability: .buildTool(), dependencies: ["source-fingerprint"]),
        // Fuzzing (docs/fuzzing.md): the parsers as targets, and the driver (`make fuzz`, `make fuzz-short`).
        .target(name: "FuzzTargets", dependencies: ["Codecs", "Datasets", "Experiments", "NN"]),
        .executableTarget(name: "persephone-fuzz", dependencies: ["FuzzTargets"]),
        .target(name: "Models", dependencies: ["NN", "Tensor"], swiftSettings: release),
        .target(name: "Training", dependencies: ["Models", "Datasets", "NN", "Tensor", "Codecs"], swiftSettings: release),
        .target(name: "Personalisation", dependencies: ["Training", "Models", "Datasets", "NN", "Tensor", "Codecs"],
                swiftSettings: release),
        .target(name: "Reproduction", dependencies: ["Experiments", "Personalisation", "Training", "Models", "Datasets",
                                                     "NN", "Tensor", "Codecs"], swiftSettings: release),
        .target(name: "Bench", dependencies: ["Personalisation", "Training", "Models", "NN", "Tensor"],
                exclude: ["Reference"], swiftSettings: release),
        .target(name: "Report", dependencies: ["Reproduction", "Personalisation", "Experiments", "Codecs"]),
        .executableTarget(
            name: "persephone",
            dependencies: [
                "Datasets", "NN", "Codecs", "Bench", "Experiments", "Models", "Training", "Personalisation", "Reproduction",
                "Report",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(name: "CodecsTests", dependencies: ["Codecs", "CZlib"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensor"]),
        .testTarget(name: "ReproductionTests",
                    dependencies: ["Reproduction", "Experiments", "Personalisation", "Training", "Models", "Datasets",
                                   "NN", "Tensor", "Codecs"]),
        .testTarget(name: "PersonalisationTests",
                    dependencies: ["Personalisation", "Training", "Models", "Datasets", "NN", "Tensor", "Codecs"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Models", "Datasets", "NN", "Tensor", "Codecs"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "NN", "Tensor"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Codecs", "SourceFingerprint"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Codecs", "Tensor"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Experiments", "Codecs"]),
    ],
    // Swift 5 mode: kernels hand non-Sendable closures to concurrentPerform, and data
    // races are ruled out by construction (disjoint chunks), not by the type checker.
    swiftLanguageModes: [.v5]
)
