// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "listwise",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "listwise", targets: ["listwise"]),
        .library(name: "ListwiseKit", targets: ["ListwiseKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // No traits: the default ConfigurationSupport trait pulls in swift-configuration, unused here.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // OpenBLAS + LAPACK from Debian's libopenblas-dev; only LinearAlgebra/ imports it.
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // Software prefetch (one inline C function each way) for the booster's scattered rows,
        // and the spin-wait hint of its ThreadPair.
        .target(name: "CPrefetch"),
        .target(
            name: "ListwiseKit",
            dependencies: [
                "COpenBLAS",
                "CPrefetch",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // The pool's errors (a server unreachable for a while), to say so in one line.
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
            ]
        ),
        // Webhook delivery (SPEC §9): the outbox's deliveries posted, signed and retried.
        .target(
            name: "ListwiseWebhooks",
            dependencies: [
                "ListwiseKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The Data API (SPEC §8): routes over the Store boundary; no SQL here.
        .target(
            name: "ListwiseServer",
            dependencies: [
                "ListwiseKit",
                "ListwiseWebhooks",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "listwise",
            dependencies: [
                "ListwiseKit",
                "ListwiseServer",
                "ListwiseWebhooks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ListwiseKitTests",
            dependencies: [
                "ListwiseKit",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            exclude: ["Modeling/Fixtures", "Features/Fixtures", "Export/Fixtures", "Campaigns/Fixtures"]  // read by path (#filePath), not bundled
        ),
        .testTarget(
            name: "ListwiseServerTests",
            dependencies: [
                "ListwiseServer", "ListwiseKit", "ListwiseWebhooks", .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "listwiseTests",
            dependencies: ["listwise", "ListwiseKit", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ]
)
