// swift-tools-version:6.1
// fitstore: learn an LLM judge's fitness score for (metric, prompt, response) triples,
// keeping every artifact of the work in one SQLite file.
import PackageDescription

let package = Package(
    name: "fitstore",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "fitstore", targets: ["fitstore"]),
        .library(name: "FitStore", targets: ["FitStore"]),
        .library(name: "FitFormats", targets: ["FitFormats"]),
        .library(name: "FitPipeline", targets: ["FitPipeline"]),
        .library(name: "FitEncoder", targets: ["FitEncoder"]),
        .library(name: "FitTrain", targets: ["FitTrain"]),
        .library(name: "FitAugment", targets: ["FitAugment"]),
        .library(name: "FitNumerics", targets: ["FitNumerics"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
    ],
    targets: [
        // The system library, installed by tools/setup (apt: liblz4-dev).
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        // C calls Swift cannot make itself: SQLite's variadic sqlite3_db_config (the `sql`
        // command's defensive settings), Linux's renameat2 (export's atomic folder swap), CPUID
        // (the start-up check of the CPU), and OpenBLAS loaded at run time for the one command
        // that measures against it (so the binary does not need it).
        .target(name: "CFitSystem", linkerSettings: [.linkedLibrary("sqlite3"), .linkedLibrary("dl")]),
        // The int8 product of the encoder's int8 mode: C for the instructions Swift cannot
        // name (AVX2's sign and byte multiply-add, AVX-512 VNNI's dot product), each path
        // compiled for its own instruction set and chosen at run time. Optimized in debug
        // builds too; no -ffast-math (every path must do the same float steps).
        .target(name: "CFitKernels", cSettings: [.unsafeFlags(["-O2", "-ffp-contract=off"])]),

        // Build-time tool + plugins that embed schema/*.sql into FitStore and FitAugment's
        // Resources/ into FitAugment, so those files stay the single source of truth and the
        // binary needs no resource bundle (it runs when copied anywhere).
        .executableTarget(name: "ResourceEmbedder", path: "Sources/ResourceEmbedder"),
        .plugin(name: "EmbedSchema", capability: .buildTool(), dependencies: ["ResourceEmbedder"]),
        .plugin(name: "EmbedResources", capability: .buildTool(), dependencies: ["ResourceEmbedder"]),

        // File formats (JSON streaming, NumPy .npy, safetensors, hashing): pure, no SQL. Optimized
        // in debug builds too: tests read 100+ MB weight files through it.
        .target(name: "FitFormats",
                swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"]), .unsafeFlags(["-O"], .when(configuration: .debug))]),

        // The matrix product both the encoder and the trainer use: every row computed the
        // same way whatever shares its batch, on every x86-64 CPU (AVX2 and FMA).
        .target(name: "FitNumerics",
                swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"]), .unsafeFlags(["-O"], .when(configuration: .debug))]),

        // The multilingual sentence encoder (multilingual-e5-small): arrays in, arrays out.
        .target(name: "FitEncoder", dependencies: ["CFitSystem", "CFitKernels", "FitFormats", "FitNumerics"],
                // Numeric kernels: optimized even in debug builds (unoptimized SIMD code is ~50x slower,
                // which would make the test suite crawl), for AVX2/FMA machines.
                swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"]), .unsafeFlags(["-O"], .when(configuration: .debug))]),

        // The seed's residual MLP (flat parameters, paired forward/backward, AdamW) and boosted
        // trees (no SQL); element-wise loops vectorize with AVX2 like the encoder's.
        .target(name: "FitTrain", dependencies: ["FitFormats", "FitNumerics"],
                swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"]), .unsafeFlags(["-O"], .when(configuration: .debug))]),

        // Synthetic data: metric relations and the seed's generators (pure, seeded, no SQL).
        .target(name: "FitAugment", dependencies: ["FitFormats"], exclude: ["Resources"], plugins: ["EmbedResources"]),

        // The one-file store: migrations, records, vector codec, SQL functions and queries.
        .target(
            name: "FitStore",
            dependencies: [
                "CLZ4", "CFitSystem", "FitFormats",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's own C API, for the `sql` sandbox's authorizer and progress handler.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            // F16C converts float16 vectors in one instruction (a libcall per value without it).
            swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"])],
            plugins: ["EmbedSchema"]),

        // Pipeline steps (ingest, demo, stats ...): each one run row, incremental.
        // Resources/: the Parquet writer export runs through pyarrow, compiled into the binary.
        .target(name: "FitPipeline", dependencies: ["CFitSystem", "FitStore", "FitFormats", "FitEncoder", "FitTrain", "FitAugment", .product(name: "GRDB", package: "GRDB.swift")],
                exclude: ["Resources"], plugins: ["EmbedResources"]),

        // The command-line tool: one small ArgumentParser command per verb.
        .executableTarget(
            name: "fitstore",
            dependencies: [
                "CFitSystem", "FitPipeline", "FitStore", "FitFormats", "FitEncoder", "FitTrain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // What several test targets share: the repository's place, running programs and the
        // python reference tools, temporary folders.
        .target(name: "FitTestSupport", path: "Tests/FitTestSupport"),
        .testTarget(name: "FitFormatsTests", dependencies: ["FitFormats"]),
        .testTarget(name: "FitEncoderTests", dependencies: ["FitEncoder", "FitFormats", "FitTestSupport"]),
        .testTarget(name: "FitTrainTests", dependencies: ["FitTrain", "FitFormats", "FitTestSupport"]),
        .testTarget(name: "FitAugmentTests", dependencies: ["FitAugment", "FitFormats"]),
        .testTarget(name: "FitStoreTests", dependencies: ["FitStore", "FitFormats", "FitTestSupport"]),
        .testTarget(name: "FitPipelineTests", dependencies: ["FitPipeline", "FitStore", "FitFormats", "FitEncoder", "FitTrain", "FitAugment", "FitTestSupport"]),
        // Runs the built `fitstore` binary as a user would.
        .testTarget(name: "FitCLITests", dependencies: ["fitstore", "FitFormats", "FitEncoder", "FitStore", "FitTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
