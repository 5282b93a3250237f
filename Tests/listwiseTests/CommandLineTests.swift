// Runs the built `listwise` binary: exit codes, one-line errors, JSON summaries, and a kill
// in the middle of an import.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRDB
import XCTest

final class CommandLineTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("listwise-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private var binary: URL {
        // XCTest bundles live in the build products folder, beside the executable.
        var url = Bundle(for: CommandLineTests.self).bundleURL
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("listwise").path), url.path != "/" {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("listwise")
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    @discardableResult
    private func write(_ name: String, _ text: String) throws -> String {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }

    private func launch(_ arguments: [String]) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["LISTWISE_DB"] = path("env.db")
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    private func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let (process, out, err) = try launch(arguments)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    private let properties = """
        property_id,address,city,state,zip
        P1,1 Main St,Oakland,CA,94610
        P2,2 Main St,Oakland,CA,94610

        """

    func testImportPrintsJSONSummaryPerFileOnStdout() throws {
        try FileManager.default.createDirectory(atPath: path("inbox"), withIntermediateDirectories: true)
        try write("inbox/properties.csv", properties)
        try write("inbox/events.csv", "property_id,event_type,event_date,amount,rate\nP1,SALE,2020-01-02,1,\nP3,SALE,2020-01-02,1,\n")
        let result = try run(["import", path("inbox"), "--db", path("a.db"), "--format", "json", "--rejects", path("bad.csv")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let objects = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(objects.map { $0["kind"] as? String }, ["properties", "events"], "properties first, whatever the names")
        for key in ["file", "kind", "rows", "inserted", "updated", "rejected", "rejected_by_reason"] {
            XCTAssertNotNil(objects[1][key], key)
        }
        XCTAssertEqual(objects[1]["rejected"] as? Int, 1)
        XCTAssertEqual(objects[1]["rejected_by_reason"] as? [String: Int], ["unknown_property_id": 1])
        let rejects = try String(contentsOfFile: path("bad.csv"), encoding: .utf8)
        XCTAssertEqual(rejects, "file,line,column,value,reason\n\(path("inbox/events.csv")),3,property_id,P3,unknown_property_id\n")
    }

    func testAPIKeysAreShownOnceAndRevoked() throws {
        let db = path("keys.db")
        try write("properties.csv", properties)
        XCTAssertEqual(try run(["import", path("properties.csv"), "--db", db]).status, 0)
        XCTAssertEqual(try run(["territory", "add", "east", "--zips", "94610", "--db", db]).status, 0)
        let created = try run(["apikey", "create", "crm", "--territory", "east", "--allow-origin", "https://crm.example.com/", "--db", db])
        XCTAssertEqual(created.status, 0, created.stderr)
        let secret = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(secret.hasPrefix("lw_") && secret.count == 67, "the key alone on stdout: \(created.stdout)")
        XCTAssertTrue(created.stderr.contains("keeps only its hash"), created.stderr)
        let listed = try run(["apikey", "list", "--db", db])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertTrue(listed.stdout.contains("crm") && listed.stdout.contains("active") && listed.stdout.contains("east / https://crm.example.com"),
                      listed.stdout)
        XCTAssertFalse(listed.stdout.contains(secret) || listed.stderr.contains(secret), "never shown again")
        let database = try Data(contentsOf: URL(fileURLWithPath: db)) + ((try? Data(contentsOf: URL(fileURLWithPath: db + "-wal"))) ?? Data())
        XCTAssertNil(database.range(of: Data(secret.utf8)), "the key is not in the database file")
        for (arguments, message) in [(["apikey", "create", "crm"], "exists"), (["apikey", "create", "x", "--territory", "west"], "no territory 'west'"),
                                     (["apikey", "create", "x", "--scope", "admin"], "scope"), (["apikey", "revoke", "nobody"], "no active API key")] {
            let refused = try run(arguments + ["--db", db])
            XCTAssertEqual(refused.status, 2, "\(arguments): \(refused.stderr)")
            XCTAssertTrue(refused.stderr.contains(message), "\(arguments): \(refused.stderr)")
        }
        XCTAssertEqual(try run(["apikey", "revoke", "crm", "--db", db]).status, 0)
        XCTAssertTrue(try run(["apikey", "list", "--db", db]).stdout.contains("revoked"))
    }

    func testTableSummaryGoesToStderrAndDatabaseDefaultsToEnvironment() throws {
        let input = try write("properties.csv", properties)
        let result = try run(["import", "properties", input])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "")
        XCTAssertTrue(result.stderr.contains("2 rows, 2 inserted, 0 updated, 0 unchanged, 0 rejected"), result.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("env.db")))
    }

    func testUserMistakesExitTwoWithOneLine() throws {
        try write("nozip.csv", "property_id,address,city,state\nP1,1 Main St,Oakland,CA\n")
        try write("notes.txt", "hello\n")
        let cases: [([String], String)] = [
            (["import", "properties", path("nozip.csv"), "--db", path("a.db")], "missing required column 'zip'"),
            (["import", "properties", path("missing.csv"), "--db", path("a.db")], "no such file"),
            (["import", "parcels", path("nozip.csv")], "'parcels' is not a kind"),
            (["import", path("notes.txt"), "--db", path("a.db")], "cannot tell which kind"),
            (["import", "properties", path("nozip.csv"), "--db", path("no/such/dir/a.db")], "database folder does not exist"),
            (["import", "properties", path("nozip.csv"), "--mapping", path("missing.yaml"), "--db", path("a.db")], "mapping"),
            (["frobnicate"], "Unexpected argument"),
        ]
        for (arguments, message) in cases {
            let result = try run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Fatal error"), result.stderr)
            if arguments.first == "import", arguments.count > 2, !message.contains("kind") {
                XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "one line: \(result.stderr)")
            }
        }
    }

    func testHelpSaysWhatItReadsWritesAndExitCodes() throws {
        let result = try run(["import", "--help"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.contains("rejects file"), result.stdout)
        XCTAssertTrue(result.stdout.contains("Exit codes"), result.stdout)
        XCTAssertTrue(result.stdout.contains("--mapping"), result.stdout)
    }

    func testKilledImportLeavesTheDatabaseAsItWas() throws {
        let db = path("kill.db")
        XCTAssertEqual(try run(["import", "properties", try write("properties.csv", properties), "--db", db]).status, 0)
        // 1.5 million events of one home: far more than a debug build imports in the second we wait.
        var text = "property_id,event_type,event_date,amount,rate\n"
        text.reserveCapacity(60_000_000)
        for i in 0..<1_500_000 { text += "P1,VALUATION,2020-01-01,\(i),\n" }
        let events = try write("events.csv", text)
        let (process, _, _) = try launch(["import", "events", events, "--db", db])
        Thread.sleep(forTimeInterval: 1.0)
        XCTAssertTrue(process.isRunning, "the import finished before it could be killed; make the file bigger")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)

        let queue = try DatabaseQueue(path: db)
        try queue.read { db in
            XCTAssertEqual(try String.fetchOne(db, sql: "PRAGMA integrity_check"), "ok")
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM events"), 0)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM properties"), 2)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM imports"), 1)
        }
        try queue.close()
        // The next run completes.
        let small = try write("few-events.csv", "property_id,event_type,event_date,amount,rate\nP2,SALE,2021-05-05,100,\n")
        let rerun = try run(["import", "events", small, "--db", db])
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
    }

    func testTrainEvaluateAndFeaturesOnAGeneratedCounty() throws {
        let db = path("model.db")
        XCTAssertEqual(try run(["sample", "--properties", "1500", "--seed", "3", "--out", path("county")]).status, 0)
        XCTAssertEqual(try run(["import", path("county"), "--db", db]).status, 0)
        let train = try run(["train", "--db", db, "--out", path("m.json"), "--l2", "auto"])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(train.stderr.contains("out-of-time validation at 2024-12-"), train.stderr)
        XCTAssertTrue(train.stderr.contains("<- chosen"), train.stderr)

        let evaluate = try run(["evaluate", "--db", db, "--model", path("m.json"), "--format", "json"])
        XCTAssertEqual(evaluate.status, 0, evaluate.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(evaluate.stdout.utf8)) as? [String: Any])
        for key in ["roc_auc", "pr_auc", "log_loss", "brier", "rows", "positives", "lift_by_decile", "calibration"] {
            XCTAssertNotNil(object[key], key)
        }
        XCTAssertEqual((object["lift_by_decile"] as? [Any])?.count, 10)
        let file = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("m.json")))) as? [String: Any])
        XCTAssertEqual(object["family"] as? String, (file["family"] as? String) ?? "logistic", "auto's choice, as the file says")
        let table = try run(["evaluate", "--db", db, "--model", path("m.json")])
        XCTAssertTrue(table.stdout.contains("(\(object["family"] as? String ?? "")"), table.stdout)

        let features = try run(["features", "--db", db, "--as-of", "2023-06-30"])
        XCTAssertEqual(features.status, 0, features.stderr)
        let lines = features.stdout.split(separator: "\n")
        XCTAssertTrue(lines[0].hasPrefix("property_id,as_of,label,on_market,tenure_years,owner_age"), String(lines[0]))
        XCTAssertGreaterThan(lines.count, 1000)

        let tooLate = try run(["train", "--db", db, "--as-of", "2025-06-30", "--out", path("late.json")])
        XCTAssertEqual(tooLate.status, 2, tooLate.stderr)
        XCTAssertTrue(tooLate.stderr.contains("labels are not known yet"), tooLate.stderr)
        try write("v2.json", #"{"format_version": 2}"#)
        let badModel = try run(["evaluate", "--db", db, "--model", path("v2.json")])
        XCTAssertEqual(badModel.status, 2, badModel.stderr)
        XCTAssertEqual(badModel.stderr.split(separator: "\n").count, 1, badModel.stderr)
    }

    /// Runs the binary with stderr on a pseudo-terminal (stdout on a pipe) and returns its exit
    /// status and everything it wrote to the terminal.
    private func runOnTerminal(_ arguments: [String]) throws -> (status: Int32, terminal: String) {
        var terminal: (master: Int32, slave: Int32) = (0, 0)
        XCTAssertEqual(openpty(&terminal.master, &terminal.slave, nil, nil, nil), 0, "openpty: \(errno)")
        let (master, slave) = terminal
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardOutput = Pipe()
        process.standardError = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        let output = TerminalOutput()
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(master, &buffer, buffer.count)
                if count <= 0 { break }
                output.append(buffer[0..<count])
            }
        }
        reader.start()
        try process.run()
        close(slave)
        process.waitUntilExit()
        while !output.isFinished(reader) { usleep(10_000) }
        close(master)
        return (process.terminationStatus, output.text)
    }

    func testProgressAppearsOnlyWhenStderrIsATerminal() throws {
        let db = path("progress.db")
        XCTAssertEqual(try run(["sample", "--properties", "1500", "--seed", "4", "--out", path("county")]).status, 0)
        let importing = try runOnTerminal(["import", path("county"), "--db", db])
        XCTAssertEqual(importing.status, 0, importing.terminal)
        XCTAssertTrue(importing.terminal.contains("\r\u{1B}[2Kimporting "), importing.terminal)
        XCTAssertTrue(importing.terminal.contains("rows (100%"), importing.terminal)
        let training = try runOnTerminal(["train", "--db", db, "--family", "logistic", "--out", path("m.json")])
        XCTAssertEqual(training.status, 0, training.terminal)
        for step in ["features (3 snapshots): ", "IRLS step 1: deviance ", "IRLS step 2: deviance "] {
            XCTAssertTrue(training.terminal.contains("\r\u{1B}[2K" + step), "\(step) in \(training.terminal)")
        }
        let trees = try runOnTerminal(["train", "--db", db, "--family", "gbm", "--out", path("trees.json")])
        XCTAssertEqual(trees.status, 0, trees.terminal)
        for step in ["gbm inner split: tree 1, inner log loss ", "gbm: tree 1 of "] {
            XCTAssertTrue(trees.terminal.contains("\r\u{1B}[2K" + step), "\(step) in \(trees.terminal)")
        }
        let scoring = try runOnTerminal(["score", "--db", db, "--model", path("m.json"), "--as-of", "2024-12-28"])
        XCTAssertEqual(scoring.status, 0, scoring.terminal)
        XCTAssertTrue(scoring.terminal.contains("\r\u{1B}[2Kscoring: "), scoring.terminal)
        XCTAssertTrue(scoring.terminal.contains("\r\u{1B}[2Kranking "), scoring.terminal)

        // The same commands with stderr on a pipe: the summaries, and no progress line.
        let quiet = path("quiet.db")
        let commands = [["import", path("county"), "--db", quiet], ["train", "--db", quiet, "--out", path("q.json")],
                        ["score", "--db", quiet, "--model", path("q.json"), "--as-of", "2024-12-28"]]
        for command in commands {
            let result = try run(command)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertFalse(result.stderr.isEmpty, "the summary still goes to stderr")
            for mark in ["\u{1B}[2K", "\r", "IRLS step", "gbm inner split", "scoring: ", "importing "] {
                XCTAssertFalse(result.stderr.contains(mark), "\(command[0]): \(mark.debugDescription) in \(result.stderr)")
            }
        }
    }

    func testTerritoryScoreScoresAndReportRenderInChromium() throws {
        let db = path("score.db")
        XCTAssertEqual(try run(["sample", "--properties", "1200", "--seed", "5", "--out", path("county")]).status, 0)
        XCTAssertEqual(try run(["import", path("county"), "--db", db]).status, 0)
        // Logistic: its probabilities have no ties, so the territory's top home is alone at 100.00.
        XCTAssertEqual(try run(["train", "--db", db, "--family", "logistic", "--out", path("m.json")]).status, 0)
        let add = try run(["territory", "add", "busy", "--zips", "94500,99999", "--db", db])
        XCTAssertEqual(add.status, 0, add.stderr)
        XCTAssertTrue(add.stderr.contains("warning: no properties in zip 99999"), add.stderr)
        let badGeo = try write("bad.geojson", "{\"type\": \"Polygon\"}")
        let refused = try run(["territory", "add", "x", "--geojson", badGeo, "--db", db])
        XCTAssertEqual(refused.status, 2, refused.stderr)

        let score = try run(["score", "--db", db, "--territory", "busy", "--model", path("m.json"), "--as-of", "2025-12-31"])
        XCTAssertEqual(score.status, 0, score.stderr)
        XCTAssertTrue(score.stderr.contains("score run 1:"), score.stderr)
        let unknown = try run(["score", "--db", db, "--territory", "nowhere", "--model", path("m.json")])
        XCTAssertEqual(unknown.status, 2, unknown.stderr)

        let csv = try run(["scores", "--db", db, "--territory", "busy", "--top", "5", "--format", "csv"])
        XCTAssertEqual(csv.status, 0, csv.stderr)
        let lines = csv.stdout.split(separator: "\n")
        XCTAssertEqual(lines.first, "property_id,address,zip,probability,rank,percentile,tier,on_market,reason1,reason2,reason3")
        XCTAssertEqual(lines.count, 6)
        XCTAssertTrue(lines[1].contains(",1,100.00,High,0,"), String(lines[1]))

        let report = try run(["report", "--db", db, "--territory", "busy", "--html", path("report.html")])
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertTrue(report.stdout.contains("expected listings within 365 days"), report.stdout)
        XCTAssertTrue(report.stdout.contains("tiers:\n  tier     homes   expected listings   share\n  High "), report.stdout)
        XCTAssertTrue(report.stdout.contains("zips (most expected listings first):\n  zip         homes  on market   expected   High\n  945"),
                      report.stdout)
        let page = try String(contentsOfFile: path("report.html"), encoding: .utf8)
        XCTAssertEqual(page.components(separatedBy: "<svg").count - 1, 4, "histogram, map, gains, calibration")
        for group in ["<g class=\"axis x\">", "<g class=\"axis y\">", "<g class=\"legend\">"] {
            XCTAssertEqual(page.components(separatedBy: group).count - 1, 4, "every chart has \(group)")
        }
        for table in ["tiers", "reasons", "zips"] { XCTAssertTrue(page.contains("<table id=\"\(table)\">"), table) }

        // Headless Chromium renders the page: its screenshot is far larger than a blank page's.
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("chromium is not installed (.ci/run installs it)")
        }
        try write("blank.html", "<!DOCTYPE html><html><body></body></html>")
        func screenshot(_ page: String, _ png: String) throws -> Int {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: chromium)
            process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,1600",
                                 "--screenshot=\(png)", "file://\(page)"]
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return (try FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
        }
        let blank = try screenshot(path("blank.html"), path("blank.png"))
        let rendered = try screenshot(path("report.html"), path("report.png"))
        XCTAssertGreaterThan(blank, 0)
        XCTAssertGreaterThan(rendered, 10 * blank, "report \(rendered) bytes, blank page \(blank) bytes")
    }

    /// `listwise serve` in the foreground: it says where it listens, logs one line per request,
    /// and on SIGTERM stops and exits 0.
    func testServeAnswersLogsEachRequestAndStopsOnSIGTERM() async throws {
        let db = path("serve.db")
        XCTAssertEqual(try run(["sample", "--properties", "300", "--seed", "3", "--out", path("county")]).status, 0)
        XCTAssertEqual(try run(["import", path("county"), "--db", db]).status, 0)
        let key = try run(["apikey", "create", "crm", "--db", db]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let (process, _, err) = try launch(["serve", "--port", "0", "--db", db, "--models", path("no-models")])
        var log = ""
        while !log.contains("msg=serving") {
            let data = err.fileHandleForReading.availableData
            if data.isEmpty { break }
            log += String(decoding: data, as: UTF8.self)
        }
        let port = try XCTUnwrap(log.components(separatedBy: " port=").dropFirst().first?.prefix { $0.isNumber }, log)
        XCTAssertTrue(log.contains("msg=\"search index built\" homes=300"), log)
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/territories")!)
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        let (body, response) = try await URLSession.shared.data(for: request)
        XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200)
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "{\"territories\":[]}")
        let stopping = Date()
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertLessThan(Date().timeIntervalSince(stopping), 5, "nothing keeps it from stopping (the index keeper's wait ends too)")
        log += String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let access = try XCTUnwrap(log.split(separator: "\n").first { $0.contains("msg=request") }, log)
        for field in ["key=crm", "method=GET", "path=/v1/territories", "status=200", "request_id=", "duration_ms="] {
            XCTAssertTrue(access.contains(field), String(access))
        }
        XCTAssertTrue(log.contains("msg=stopped"), log)
    }

    func testExportSuppressAndCampaigns() throws {
        let db = path("export.db")
        let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Models/sample.json").path
        XCTAssertEqual(try run(["sample", "--properties", "800", "--seed", "8", "--out", path("county")]).status, 0)
        XCTAssertEqual(try run(["import", path("county"), "--db", db]).status, 0)
        XCTAssertEqual(try run(["territory", "add", "all", "--zips", "94500,94501,94502,94503,94504,94505,94506,94507,94508,94509,94510,94511,94512,94513,94514,94515", "--db", db]).status, 0)
        let score = try run(["score", "--db", db, "--territory", "all", "--model", model, "--as-of", "2025-12-31"])
        XCTAssertEqual(score.status, 0, score.stderr)

        let optOut = try write("optout.txt", "nobody@example.com\n")
        XCTAssertEqual(try run(["suppress", optOut, "--db", db]).status, 0)
        let badOptOut = try write("bad.txt", "nobody@example.com\nnot a thing\n")
        let refused = try run(["suppress", badOptOut, "--db", db])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("bad.txt: line 2, column 1"), refused.stderr)

        let mail = try run(["export", "--db", db, "--territory", "all", "--channel", "mail", "--campaign", "spring", "--top", "50",
                            "--out", path("mail.csv")])
        XCTAssertEqual(mail.status, 0, mail.stderr)
        XCTAssertTrue(mail.stderr.contains("mail list for campaign spring"), mail.stderr)
        XCTAssertEqual(mail.stdout, "", "the list goes to the file")
        let written = try String(contentsOfFile: path("mail.csv"), encoding: .utf8)
        XCTAssertTrue(written.hasPrefix("name,address1,address2,city,state,zip,property_address,probability,reason1,reason2,reason3,prospect_ids\n"))
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: path("mail.csv"))[.posixPermissions] as? Int, 0o600)

        let email = try run(["export", "--db", db, "--territory", "all", "--channel", "email", "--campaign", "news", "--top-percent", "10",
                             "--exclude-contacted-within", "30", "--format", "jsonl"])
        XCTAssertEqual(email.status, 0, email.stderr)
        XCTAssertTrue(email.stderr.contains("skipped, recently contacted:"), email.stderr)
        let first = try JSONSerialization.jsonObject(with: Data(email.stdout.split(separator: "\n")[0].utf8)) as? [String: String]
        XCTAssertNotNil(first?["Email Address"])

        let ads = try run(["export", "--db", db, "--territory", "all", "--channel", "ads", "--ads-format", "google", "--campaign", "fb",
                           "--min-probability", "0.2"])
        XCTAssertEqual(ads.status, 0, ads.stderr)
        XCTAssertTrue(ads.stdout.hasPrefix("Email,Phone,First Name,Last Name,Country,Zip\n"))
        XCTAssertEqual(ads.stderr.components(separatedBy: "special ad category").count, 2, "said once")

        for arguments in [["--top", "5", "--top-percent", "5"], ["--top", "0"], ["--min-probability", "2"]] {
            let bad = try run(["export", "--db", db, "--territory", "all", "--channel", "mail", "--campaign", "x"] + arguments)
            XCTAssertEqual(bad.status, 2, "\(arguments): \(bad.stderr)")
        }
        let unknown = try run(["export", "--db", db, "--territory", "nowhere", "--channel", "mail", "--campaign", "x", "--top", "5"])
        XCTAssertEqual(unknown.status, 2, unknown.stderr)

        let campaigns = try run(["campaigns", "--db", db, "--format", "jsonl"])
        XCTAssertEqual(campaigns.status, 0, campaigns.stderr)
        XCTAssertEqual(campaigns.stdout.split(separator: "\n").count, 3, campaigns.stdout)
        XCTAssertFalse(campaigns.stdout.contains("\"x\""), "failed exports record nothing")
    }

    func testRefreshLockExitCodesAndAKilledRun() throws {
        let db = path("refresh.db")
        let inbox = path("inbox"), models = path("models")
        XCTAssertEqual(try run(["sample", "--properties", "4000", "--seed", "9", "--out", inbox]).status, 0)
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        let sampleModel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Models/sample.json").path
        try FileManager.default.copyItem(atPath: sampleModel, toPath: models + "/sample.json")
        let arguments = ["refresh", "--db", db, "--inbox", inbox, "--models", models, "--as-of", "2025-12-31", "--log-format", "json"]

        let (first, _, _) = try launch(arguments)
        let lock = db + ".refresh.lock"
        let deadline = Date().addingTimeInterval(20)
        while ((try? String(contentsOfFile: lock, encoding: .utf8)) ?? "").isEmpty, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let second = try run(arguments)
        XCTAssertEqual(second.status, 3, second.stderr)
        XCTAssertTrue(second.stderr.contains("another refresh is running on this database (pid \(first.processIdentifier)"), second.stderr)
        // Analysts read while the refresh writes (WAL).
        let reading = try run(["status", "--db", db, "--models", models])
        XCTAssertEqual(reading.status, 0, reading.stderr)
        XCTAssertTrue(first.isRunning, "the first refresh ended before it could be killed; give it more homes")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()

        let queue = try DatabaseQueue(path: db)
        try queue.read { XCTAssertEqual(try String.fetchOne($0, sql: "PRAGMA integrity_check"), "ok") }
        try queue.close()
        // The next run takes the stale lock over and completes: every file processed.
        let third = try run(arguments)
        XCTAssertEqual(third.status, 0, third.stderr)
        let lines = third.stderr.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
        XCTAssertTrue(lines.allSatisfy { $0?["step"] != nil }, third.stderr)
        XCTAssertTrue(lines.contains { $0?["msg"] == "stale lock taken over" }, third.stderr)
        XCTAssertTrue(lines.contains { $0?["step"] == "score" }, third.stderr)
        let processed = try FileManager.default.contentsOfDirectory(atPath: inbox + "/processed").filter { !$0.contains("rejects") }.sorted()
        XCTAssertEqual(processed, ["events.csv", "owners.csv", "properties.csv", "prospects.csv"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: inbox).filter { $0.hasSuffix(".csv") }, [])

        // --quiet: nothing on stderr when all is well; a refused file: exit 1 naming it.
        let quiet = try run(arguments.filter { $0 != "--log-format" && $0 != "json" } + ["--quiet"])
        XCTAssertEqual([quiet.status], [0])
        XCTAssertEqual(quiet.stderr, "")
        try write("inbox/junk.csv", "a,b\n1,2\n")
        let refused = try run(arguments)
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("junk.csv"), refused.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: inbox + "/failed/junk.csv.error"))

        let status = try run(["status", "--db", db, "--models", models, "--format", "json"])
        XCTAssertEqual(status.status, 0, status.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        XCTAssertEqual((json?["counts"] as? [String: Any])?["properties"] as? Int, 4000)
        XCTAssertEqual((json?["last_refresh"] as? [String: Any])?["status"] as? String, "partial")
    }

    func testStaleRunsWarnAndRefreshRescoresEveryTerritory() throws {
        let db = path("fresh.db")
        XCTAssertEqual(try run(["sample", "--properties", "1500", "--seed", "12", "--out", path("county")]).status, 0)
        XCTAssertEqual(try run(["import", path("county"), "--db", db]).status, 0)
        // Models/ of the working folder is where score, export, scores and report look.
        let train = try run(["train", "--db", db, "--l2", "1", "--out", "Models/first.json"])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertEqual(try run(["territory", "add", "busy", "--zips", "94500", "--db", db]).status, 0)
        XCTAssertEqual(try run(["territory", "add", "quiet", "--zips", "94501", "--db", db]).status, 0)

        let unscored = try run(["export", "--db", db, "--territory", "busy", "--channel", "mail", "--campaign", "c", "--top", "5"])
        XCTAssertEqual(unscored.status, 2, unscored.stderr)
        XCTAssertTrue(unscored.stderr.contains("run 'listwise score --territory busy' first"), unscored.stderr)
        XCTAssertEqual(unscored.stderr.split(separator: "\n").count, 1, unscored.stderr)
        let unknown = try run(["scores", "--db", db, "--territory", "nowhere"])
        XCTAssertEqual(unknown.status, 2, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("no territory named 'nowhere'"), unknown.stderr)

        // An as-of date far past the data: scored, with a warning.
        let late = try run(["score", "--db", db, "--territory", "busy", "--as-of", "2026-06-30"])
        XCTAssertEqual(late.status, 0, late.stderr)
        XCTAssertTrue(late.stderr.contains("scores describe data that ends on 2025-12-"), late.stderr)
        let busy = try run(["score", "--db", db, "--territory", "busy", "--as-of", "2025-12-31"])
        XCTAssertEqual(busy.status, 0, busy.stderr)
        XCTAssertFalse(busy.stderr.contains("warning"), busy.stderr)
        XCTAssertEqual(try run(["score", "--db", db, "--territory", "quiet", "--as-of", "2025-12-31"]).status, 0)

        let fresh = try run(["scores", "--db", db, "--territory", "busy", "--top", "3"])
        XCTAssertEqual(fresh.status, 0, fresh.stderr)
        XCTAssertFalse(fresh.stderr.contains("warning"), fresh.stderr)

        // New data arrive: every reader of busy's run says so and names the command that renews it.
        try write("more-events.csv", "property_id,event_type,event_date,amount,rate\n" + "06001000001,VALUATION,2025-12-31,500000,\n")
        let more = try run(["import", "events", path("more-events.csv"), "--db", db])
        XCTAssertEqual(more.status, 0, more.stderr)
        let readers: [[String]] = [
            ["scores", "--db", db, "--territory", "busy", "--top", "3"],
            ["report", "--db", db, "--territory", "busy"],
            ["export", "--db", db, "--territory", "busy", "--channel", "mail", "--campaign", "c", "--top", "5", "--out", path("l.csv")],
        ]
        for arguments in readers {
            let result = try run(arguments)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.stderr)")
            let warnings = result.stderr.split(separator: "\n").filter { $0.contains("warning") }
            XCTAssertEqual(warnings.count, 1, "\(arguments): \(result.stderr)")
            XCTAssertTrue(warnings.first?.contains("older than the newest import (more-events.csv") == true, result.stderr)
            XCTAssertTrue(warnings.first?.contains("run 'listwise score --territory busy'") == true, result.stderr)
        }

        // A newer model: the same warning names it.
        XCTAssertEqual(try run(["train", "--db", db, "--l2", "1", "--out", "Models/second.json"]).status, 0)
        let newModel = try run(["scores", "--db", db, "--territory", "quiet", "--top", "1"])
        XCTAssertTrue(newModel.stderr.contains("the newest model (Models/second.json"), newModel.stderr)

        // A refresh without --territory renews the county and every territory: no warnings after it.
        try FileManager.default.createDirectory(atPath: path("inbox"), withIntermediateDirectories: true)
        let refresh = try run(["refresh", "--db", db, "--inbox", path("inbox"), "--as-of", "2025-12-31", "--log-format", "json"])
        XCTAssertEqual(refresh.status, 0, refresh.stderr)
        let scored = refresh.stderr.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String])?["territory"]
        }
        XCTAssertEqual(scored, ["all", "busy", "quiet"])
        for name in ["busy", "quiet"] {
            let after = try run(["scores", "--db", db, "--territory", name, "--top", "1"])
            XCTAssertEqual(after.status, 0, after.stderr)
            XCTAssertFalse(after.stderr.contains("warning"), after.stderr)
        }
        let status = try run(["status", "--db", db])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.hasSuffix("\n"), status.stdout)
    }

    func testPrivateDatabaseAndUnwritableOrEmptyDatabases() throws {
        // A database readable by others: one warning saying the chmod to run.
        let shared = path("shared.db")
        XCTAssertEqual(try run(["status", "--db", shared]).status, 0)
        let mode = (try FileManager.default.attributesOfItem(atPath: shared)[.posixPermissions] as! NSNumber).intValue & 0o777
        XCTAssertEqual(mode, 0o600, "created owner-only")
        XCTAssertEqual(chmod(shared, 0o644), 0)
        let warned = try run(["status", "--db", shared])
        XCTAssertEqual(warned.status, 0, warned.stderr)
        XCTAssertEqual(warned.stderr.split(separator: "\n").count, 1, warned.stderr)
        XCTAssertTrue(warned.stderr.contains("chmod 600 \(shared)"), warned.stderr)
        // No score run, no model: every line of status ends with a newline.
        XCTAssertTrue(warned.stdout.hasSuffix("\n"), warned.stdout)
        XCTAssertTrue(warned.stdout.contains("last score run: none\n"), warned.stdout)

        // A database this user cannot write: one line naming the file, exit 2. (root writes any
        // file, so as root the command runs as nobody.)
        XCTAssertEqual(chmod(shared, 0o444), 0)
        let arguments = ["status", "--db", shared]
        let result: (status: Int32, stdout: String, stderr: String)
        if getuid() == 0 {
            guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser") else { throw XCTSkip("runuser is missing") }
            XCTAssertEqual(chmod(folder.path, 0o755), 0)
            let ran = try runProgram("/usr/sbin/runuser", ["-u", "nobody", "--", binary.path] + arguments, in: "/")
            result = (ran.status, "", ran.stderr)
        } else {
            result = try run(arguments)
        }
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains(shared), result.stderr)
        XCTAssertTrue(result.stderr.contains("not writable by this user"), result.stderr)
        XCTAssertFalse(result.stderr.contains("SQLite error"), result.stderr)
    }

    func testAMeasuredCampaignFromTheExportToItsResults() throws {
        let db = path("measured.db")
        let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Models/sample.json").path
        XCTAssertEqual(try run(["sample", "--properties", "1500", "--seed", "8", "--out", path("county")]).status, 0)
        XCTAssertEqual(try run(["import", path("county"), "--db", db]).status, 0)
        // The list of the end of 2024; the county's 2025 events are its aftermath.
        let score = try run(["score", "--db", db, "--model", model, "--as-of", "2024-12-31"])
        XCTAssertEqual(score.status, 0, score.stderr)
        let export = try run(["export", "--db", db, "--run", "1", "--channel", "mail", "--campaign", "spring", "--top-percent", "100",
                              "--holdout", "20", "--holdout-seed", "3", "--out", path("spring.csv")])
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertTrue(export.stderr.contains("held out (control group, 20 % by tier, seed 3): "), export.stderr)
        let rows = try String(contentsOfFile: path("spring.csv"), encoding: .utf8).split(separator: "\n").count - 1

        let table = try run(["campaign", "results", "spring", "--db", db])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.hasPrefix("campaign spring: list as of 2024-12-31"), table.stdout)
        for words in ["contacted", "held out", "ratio (95 % CI)", "Wilson", "the model in the field: held-out homes listed or sold"] {
            XCTAssertTrue(table.stdout.contains(words), words)
        }
        let json = try run(["campaign", "results", "spring", "--db", db, "--format", "json", "--as-of", "2025-06-30"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["elapsed_days"] as? Int, 181)
        XCTAssertEqual(object["holdout_percent"] as? Int, 20)
        let all = try XCTUnwrap((object["tiers"] as? [[String: Any]])?.last)
        XCTAssertEqual(all["tier"] as? String, "all")
        let contacted = try XCTUnwrap(all["contacted"] as? [String: Any]), heldOut = try XCTUnwrap(all["held_out"] as? [String: Any])
        XCTAssertGreaterThan(heldOut["homes"] as? Int ?? 0, 0)
        // 20 % held out: about four contacted homes to one held out (households and homes differ a little).
        let ratio = Double(contacted["homes"] as? Int ?? 0) / Double(heldOut["homes"] as? Int ?? 1)
        XCTAssertTrue((3.5...4.5).contains(ratio), "\(ratio)")
        XCTAssertGreaterThan(rows, 1000)
        XCTAssertNotNil(object["verdict"] as? String)

        let campaigns = try run(["campaigns", "--db", db, "--format", "jsonl"])
        XCTAssertTrue(campaigns.stdout.contains("\"holdout_percent\":20"), campaigns.stdout)
        let campaignTable = try run(["campaigns", "--db", db])
        XCTAssertTrue(campaignTable.stdout.hasPrefix("campaign"), campaignTable.stdout)
        XCTAssertTrue(campaignTable.stdout.contains("held out"), campaignTable.stdout)
        XCTAssertTrue(campaignTable.stdout.contains(" (20 %)"), campaignTable.stdout)

        for (arguments, words) in [(["--holdout", "0"], "--holdout"), (["--holdout", "95"], "--holdout"), (["--holdout", "10"], "holds out 20 %")] {
            let bad = try run(["export", "--db", db, "--run", "1", "--channel", "email", "--campaign", "spring", "--top", "10"] + arguments)
            XCTAssertEqual(bad.status, 2, "\(arguments): \(bad.stderr)")
            XCTAssertTrue(bad.stderr.contains(words), bad.stderr)
        }
        let unknown = try run(["campaign", "results", "nope", "--db", db])
        XCTAssertEqual(unknown.status, 2, unknown.stderr)
        XCTAssertEqual(unknown.stderr.split(separator: "\n").count, 1, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("no campaign named nope"), unknown.stderr)
        let badDate = try run(["campaign", "results", "spring", "--as-of", "2025-13-01", "--db", db])
        XCTAssertEqual(badDate.status, 2, badDate.stderr)
        XCTAssertTrue(badDate.stderr.contains("--as-of must be a date"), badDate.stderr)
    }

    func testReadmeDemoGoesFromTheSampleToAReportAndAMailList() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let (status, stderr) = try runProgram("/bin/bash", [root.appendingPathComponent("Data/demo.sh").path, path("demo")],
                                              in: folder.path, environment: ["LISTWISE": binary.path])
        XCTAssertEqual(status, 0, stderr)
        let demo = URL(fileURLWithPath: path("demo")).resolvingSymlinksInPath().path
        for file in ["demo.db", "Models/demo.json", "report.html", "mail.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: demo + "/" + file), file)
            XCTAssertTrue(stderr.contains(demo + "/" + file), "the demo says where \(file) is: \(stderr)")
        }
        let mail = try String(contentsOfFile: demo + "/mail.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(mail.first, "name,address1,address2,city,state,zip,property_address,probability,reason1,reason2,reason3,prospect_ids")
        XCTAssertEqual(mail.count, 501, "500 households")
        let html = try String(contentsOfFile: demo + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("east-county"), "the territory's report")
        XCTAssertFalse(stderr.contains("warning"), stderr)
    }

    func testStatusOnAPostgreSQLStoreAndItsErrors() throws {
        guard let url = ProcessInfo.processInfo.environment["LISTWISE_TEST_POSTGRES_URL"], !url.isEmpty else {
            return XCTFail("LISTWISE_TEST_POSTGRES_URL is not set: run the tests with 'bash .ci/run', which starts a PostgreSQL server")
        }
        let status = try run(["status", "--db", url, "--format", "json"])
        XCTAssertEqual(status.status, 0, status.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["migrations"] as? [String], ["v1-schema", "v2-drop-home-foreign-keys", "v3-api-keys", "v4-data-api", "v5-webhooks", "v6-campaign-holdouts"])
        XCTAssertEqual((json["counts"] as? [String: Int])?["properties"], 0)
        XCTAssertEqual(json["webhooks"] as? [String: Int], ["endpoints": 0, "pending_deliveries": 0, "failed_deliveries": 0])
        XCTAssertFalse(status.stdout.contains("password"))
        let table = try run(["status", "--db", url])
        XCTAssertTrue(table.stdout.hasPrefix("store: postgresql://"), table.stdout)

        let training = try run(["train", "--db", url])
        XCTAssertEqual(training.status, 2, training.stderr)
        XCTAssertEqual(training.stderr, "listwise: error: the database has no events: import events before training\n")
        let missing = try run(["status", "--db", url.replacingOccurrences(of: "/listwise_test", with: "/not_there")])
        XCTAssertEqual(missing.status, 2, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("create it with 'createdb"), missing.stderr)
    }

    /// The whole flow (import, train, territory, score, scores, export, refresh) through the
    /// commands on an SQLite file and on a PostgreSQL server: the same model, scores and list.
    func testTheSameFlowGivesTheSameResultsOnSQLiteAndPostgreSQL() throws {
        guard let url = ProcessInfo.processInfo.environment["LISTWISE_TEST_POSTGRES_URL"], !url.isEmpty,
              let server = URLComponents(string: url), let host = server.host, let port = server.port else {
            return XCTFail("LISTWISE_TEST_POSTGRES_URL is not set: run the tests with 'bash .ci/run', which starts a PostgreSQL server")
        }
        let name = "lw_cli_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let created = try runProgram("/usr/bin/createdb", ["-h", host, "-p", String(port), "-U", server.user ?? "listwise", name], in: folder.path)
        XCTAssertEqual(created.status, 0, created.stderr)
        defer { _ = try? runProgram("/usr/bin/dropdb", ["-h", host, "-p", String(port), "-U", server.user ?? "listwise", "--force", name], in: folder.path) }
        let postgres = url.replacingOccurrences(of: server.path, with: "/" + name)
        XCTAssertEqual(try run(["sample", "--properties", "700", "--seed", "5", "--out", path("county")]).status, 0)
        let firstZip = String(try String(contentsOfFile: path("county/properties.csv"), encoding: .utf8)
            .split(separator: "\n")[1].split(separator: ",")[4].prefix(5))
        var outputs: [[String]] = []
        for (index, db) in [path("county.db"), postgres].enumerated() {
            let models = path("models"), inbox = path("inbox\(index)")
            try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
            try write("inbox\(index)/events.csv", "property_id,event_type,event_date,amount,rate\n06001000003,LISTING,2025-11-02,500000,\n")
            var output: [String] = []
            for arguments in [["import", path("county")], ["train", "--out", models + "/m.json"],
                              ["territory", "add", "north", "--zips", firstZip], ["territory", "list"],
                              ["score", "--territory", "north", "--as-of", "2025-06-30", "--model", models + "/m.json"],
                              ["scores", "--territory", "north", "--format", "csv"],
                              ["export", "--territory", "north", "--campaign", "spring", "--channel", "mail", "--top", "60",
                               "--out", path("list\(index).csv")],
                              ["export", "--territory", "north", "--campaign", "summer", "--channel", "email", "--top-percent", "50",
                               "--exclude-contacted-within", "30"],
                              ["refresh", "--inbox", inbox, "--models", models, "--as-of", "2025-12-31"],
                              ["scores", "--territory", "north", "--format", "csv"],
                              ["report", "--territory", "north"],
                              ["suppress", try write("optout.csv", "email\nnobody@example.com\n")]] {
                let result = try run(arguments + ["--db", db])
                XCTAssertEqual(result.status, 0, "\(arguments[0]) on \(index == 0 ? "SQLite" : "PostgreSQL"): \(result.stderr)")
                output.append(result.stdout)
            }
            output.append(try String(contentsOfFile: path("list\(index).csv"), encoding: .utf8))
            let campaigns = try run(["campaigns", "--format", "jsonl", "--db", db])
            XCTAssertEqual(campaigns.status, 0, campaigns.stderr)
            output.append(try campaigns.stdout.split(separator: "\n").map { line in
                var campaign = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                campaign["created_at"] = nil
                campaign["last_export_at"] = nil
                return String(decoding: try JSONSerialization.data(withJSONObject: campaign, options: [.sortedKeys]), as: UTF8.self)
            }.sorted().joined(separator: "\n"))
            let status = try run(["status", "--format", "json", "--models", models, "--db", db])
            XCTAssertEqual(status.status, 0, status.stderr)
            let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
            output.append(String(decoding: try JSONSerialization.data(withJSONObject: [report["counts"]!, report["drift_note"]!, report["drift"]!],
                                                                      options: [.sortedKeys]), as: UTF8.self))
            var model = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: models + "/m.json"))) as? [String: Any])
            model["created_at"] = nil
            output.append(String(decoding: try JSONSerialization.data(withJSONObject: model, options: [.sortedKeys]), as: UTF8.self))
            outputs.append(output)
        }
        XCTAssertEqual(outputs[0].count, outputs[1].count)
        for (step, (a, b)) in zip(outputs[0], outputs[1]).enumerated() { XCTAssertEqual(b, a, "step \(step)") }
        XCTAssertGreaterThan(outputs[0][5].split(separator: "\n").count, 50, "the scores are listed")
        XCTAssertGreaterThan(outputs[0][12].split(separator: "\n").count, 40, "the list has rows")
        XCTAssertTrue(outputs[0][13].contains("\"name\":\"summer\""), outputs[0][13])
    }

    /// Runs another program (not the listwise binary) and returns its exit status and stderr.
    private func runProgram(_ executable: String, _ arguments: [String], in directory: String,
                            environment extra: [String: String] = [:]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stderr)
    }
}

/// What a pseudo-terminal's reader thread has read so far.
private final class TerminalOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []

    func append(_ chunk: ArraySlice<UInt8>) {
        lock.lock(); bytes += chunk; lock.unlock()
    }

    func isFinished(_ thread: Thread) -> Bool { thread.isFinished }

    var text: String {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
