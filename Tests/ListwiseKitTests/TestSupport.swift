// Shared helpers: a temporary folder per test, files written in it, a fresh database.
import Foundation
import XCTest
@testable import ListwiseKit

class TemporaryFolderTestCase: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("listwise-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Writes `text` (or raw bytes) to `name` in the test's folder and returns the path.
    @discardableResult
    func file(_ name: String, _ text: String) throws -> String {
        try file(name, bytes: Data(text.utf8))
    }

    @discardableResult
    func file(_ name: String, bytes: Data) throws -> String {
        let url = folder.appendingPathComponent(name)
        try bytes.write(to: url)
        return url.path
    }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    func makeDatabase(_ name: String = "test.db") throws -> AppDatabase {
        try AppDatabase(path: path(name))
    }

    /// Two properties most tests can hang owners, prospects and events on.
    func importBaseProperties(_ db: AppDatabase) throws {
        let csv = """
            property_id,address,city,state,zip
            P1,1 Main St,Oakland,CA,94610
            P2,2 Oak Ave,Oakland,CA,94611

            """
        _ = try db.importFile(try file("base-properties.csv", csv), kind: .properties)
    }

    /// A generated county of `properties` homes, imported into a fresh database.
    func importedCounty(properties: Int, seed: UInt64) throws -> AppDatabase {
        let out = path("county-\(seed)")
        _ = try SampleGenerator(settings: SampleSettings(properties: properties, seed: seed)).write(to: out)
        let db = try makeDatabase("county-\(seed).db")
        for kind in ImportKind.importOrder { _ = try db.importFile(out + "/\(kind.rawValue).csv", kind: kind) }
        return db
    }

    func rejectsRows(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init).filter { !$0.isEmpty }
    }
}

extension TrainingSettings {
    /// `train`'s defaults with the logistic family: for tests of the logistic model's own
    /// figures (coefficients, IRLS steps, ties-free ranks).
    static var logistic: TrainingSettings {
        var settings = TrainingSettings()
        settings.family = .logistic
        return settings
    }
}
