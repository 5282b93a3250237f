// The Data API's reads on the SQLite store (DataAPI.swift, Search.swift): keyset pages of a
// run's scores, one home, exports, and the search index (FTS5 over one document a home).
// Reads run on the pool's reader connections (`concurrentRead`), many requests at once; reads of a
// few rows by key run on the caller's thread.
import Foundation
import GRDB

extension AppDatabase {
    /// A read of a few rows by key: on the caller's thread, by a cached statement (the API reads
    /// the latest run on every page; a hop to the read queue and a fresh statement cost more
    /// than the read).
    public func scoreRuns(territory: String?, limit: Int) async throws -> [ScoreRunRecord] {
        try read { db in
            if let territory {
                let statement = try db.cachedStatement(sql: "SELECT * FROM score_runs WHERE territory = ? ORDER BY id DESC LIMIT ?")
                return try ScoreRunRecord.fetchAll(statement, arguments: [territory, limit])
            }
            return try ScoreRunRecord.fetchAll(try db.cachedStatement(sql: "SELECT * FROM score_runs ORDER BY id DESC LIMIT ?"),
                                               arguments: [limit])
        }
    }

    public func scoresPage(runID: Int64, filter: ScoreFilter, after cursor: ScoreCursor?, limit: Int) async throws -> [ScoredHome] {
        // A run never changes once written: its pieces may come from separate reads.
        try await ScorePaging.page(filter: filter, after: cursor, limit: limit, ranked: { after, filter, limit in
            try await self.concurrentRead { db in
                try Self.scorePage(db, runID: runID, ranked: true, after: String(after), filter: filter, limit: limit)
            }
        }, unranked: { after, filter, limit in
            try await self.concurrentRead { db in
                try Self.scorePage(db, runID: runID, ranked: false, after: after, filter: filter, limit: limit)
            }
        })
    }

    private static func scorePage(_ db: Database, runID: Int64, ranked: Bool, after: String?, filter: ScoreFilter,
                                  limit: Int) throws -> [ScoredHome] {
        var conditions = ["r.run_id = ?"]
        var arguments: StatementArguments = [runID]
        if ranked {
            conditions.append("r.rank > ?")
            arguments += [max(0, Int(after ?? "0") ?? 0)]
        } else {
            conditions.append("r.rank = 0")
            if let after { conditions.append("r.property_id > ?"); arguments += [after] }
        }
        if let tier = filter.tier { conditions.append("s.tier = ?"); arguments += [tier] }
        if let zip = filter.zip { conditions.append("p.zip = ?"); arguments += [zip] }
        if let minimum = filter.minProbability { conditions.append("s.probability >= ?"); arguments += [minimum] }
        arguments += [limit]
        // Driven by score_ranks (CROSS JOIN keeps that order): with a zip filter the planner
        // would start from the zip's homes and sort them. A cached statement and raw column reads: with a fresh statement and GRDB `Row`s a page of
        // 100 cost ~0.6 ms more than a page of 1 (wrk at 1M homes: 800 against 1,700 req/s).
        let statement = try db.cachedStatement(sql: """
            SELECT s.property_id, p.address, p.zip, s.probability, s.rank, s.percentile, s.tier, s.on_market,
                   s.reason1, s.reason2, s.reason3
            FROM score_ranks r
            CROSS JOIN scores s ON s.run_id = r.run_id AND s.property_id = r.property_id
            CROSS JOIN properties p ON p.property_id = s.property_id
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY r.rank, r.property_id LIMIT ?
            """)
        try statement.setArguments(arguments)
        let raw = try RawStatement(db, reading: statement)
        defer { raw.reset() }
        let (id, address, zip, probability, rank, percentile, tier, onMarket, reason1, reason2, reason3) = (
            try raw.column("property_id"), try raw.column("address"), try raw.column("zip"), try raw.column("probability"),
            try raw.column("rank"), try raw.column("percentile"), try raw.column("tier"), try raw.column("on_market"),
            try raw.column("reason1"), try raw.column("reason2"), try raw.column("reason3"))
        var homes: [ScoredHome] = []
        homes.reserveCapacity(limit)
        while try raw.step() {
            homes.append(ScoredHome(propertyID: raw.text(id) ?? "", address: raw.text(address) ?? "", zip: raw.text(zip) ?? "",
                                    probability: raw.double(probability), rank: raw.isNull(rank) ? nil : Int(raw.int64(rank)),
                                    percentile: raw.optionalDouble(percentile), tier: raw.text(tier), onMarket: raw.int64(onMarket) != 0,
                                    reason1: raw.text(reason1), reason2: raw.text(reason2), reason3: raw.text(reason3)))
        }
        return homes
    }

    public func home(id: String, historyLimit: Int) async throws -> HomeDetail? {
        try await concurrentRead { db in
            guard let property = try PropertyRecord.fetchOne(db, key: id) else { return nil }
            let prospects = try Row.fetchAll(db, sql: "SELECT * FROM prospects WHERE property_id = ? ORDER BY prospect_id", arguments: [id])
                .map(Self.homeProspect)
            // The scores' key is (run, home): a lookup a run, newest runs first, beats an index by home.
            let rows = try Row.fetchAll(db, sql: """
                SELECT r.id AS run_id, r.territory, r.as_of, s.probability, s.rank, s.percentile, s.tier, s.on_market,
                       s.reason1, s.reason2, s.reason3
                FROM (SELECT id, territory, as_of FROM score_runs ORDER BY id DESC) r
                JOIN scores s ON s.run_id = r.id AND s.property_id = ?
                ORDER BY r.id DESC LIMIT ?
                """, arguments: [id, historyLimit])
            return HomeDetail(property: property, prospects: prospects, scores: rows.map(Self.homeScore))
        }
    }

    static func homeProspect(_ row: Row) -> HomeProspect {
        HomeProspect(prospectID: row["prospect_id"], firstName: row["first_name"], lastName: row["last_name"], email: row["email"],
                     phone: row["phone"], mailingAddress: row["mailing_address"], mailingCity: row["mailing_city"],
                     mailingState: row["mailing_state"], mailingZip: row["mailing_zip"])
    }

    static func homeScore(_ row: Row) -> HomeRunScore {
        HomeRunScore(runID: row["run_id"], territory: row["territory"], asOf: row["as_of"], probability: row["probability"],
                  rank: row["rank"], percentile: row["percentile"], tier: row["tier"], onMarket: row["on_market"],
                  reasons: [row["reason1"], row["reason2"], row["reason3"]].compactMap { $0 as String? })
    }

    public func exports(limit: Int) async throws -> [ExportInfo] {
        try await concurrentRead { db in
            try Row.fetchAll(db, sql: """
                SELECT id, campaign, channel, run_id, territory, selection, exported_at, rows, prospects
                FROM exports ORDER BY id DESC LIMIT ?
                """, arguments: [limit]).map { row in
                ExportInfo(id: row["id"], campaign: row["campaign"], channel: row["channel"], runID: row["run_id"],
                           territory: row["territory"], selection: row["selection"], exportedAt: row["exported_at"],
                           rows: row["rows"], prospects: row["prospects"])
            }
        }
    }
}

// The search index.
extension AppDatabase {
    public func searchIndexState() async throws -> SearchIndexState {
        try await concurrentRead { db in
            let seen = try Int64.fetchOne(db, sql: "SELECT imports_seen FROM search_index WHERE id = 1")
            let newest = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM imports WHERE kind IN ('properties', 'prospects')") ?? 0
            return SearchIndexState(importsSeen: seen, newestImport: newest)
        }
    }

    public func rebuildSearchIndex(now: Date) async throws -> Int {
        try write { db in
            let newest = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM imports WHERE kind IN ('properties', 'prospects')") ?? 0
            try db.execute(sql: """
                DELETE FROM search_docs;
                INSERT INTO search_docs (property_id, address, names)
                SELECT p.property_id, p.address || ' ' || p.city || ' ' || p.zip,
                       coalesce((SELECT group_concat(trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')), '; ')
                                 FROM prospects x WHERE x.property_id = p.property_id), '')
                FROM properties p;
                INSERT INTO search_fts (search_fts) VALUES ('rebuild');
                DELETE FROM search_variants;
                """)
            let insert = try db.makeStatement(sql: "INSERT OR IGNORE INTO search_variants (variant, term) VALUES (?, ?)")
            let words = try String.fetchAll(db, sql: "SELECT term FROM search_vocab")
            for word in words where SearchText.takesTypos(word) {
                try insert.execute(arguments: [word, word])
                for variant in SearchText.deletions(word) { try insert.execute(arguments: [variant, word]) }
            }
            try db.execute(sql: "INSERT OR REPLACE INTO search_index (id, imports_seen, built_at) VALUES (1, ?, ?)",
                           arguments: [newest, Self.timestamp(now)])
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM search_docs") ?? 0
        }
    }

    public func searchVariants(_ words: [String]) async throws -> [String: [String]] {
        try await concurrentRead { db in
            var result: [String: [String]] = [:]
            for word in words {
                let lookups = SearchText.lookups(word)
                let placeholders = Array(repeating: "?", count: lookups.count).joined(separator: ", ")
                result[word] = try String.fetchAll(db, sql: "SELECT DISTINCT term FROM search_variants WHERE variant IN (\(placeholders))",
                                                   arguments: StatementArguments(lookups))
            }
            return result
        }
    }

    public func searchIndex(_ terms: [SearchTerm], includeNames: Bool, typos: Bool) async throws -> [SearchHit] {
        // Terms are letters and digits only (SearchText.words), safe inside FTS5 strings.
        let expression = terms.map { term in
            var alternatives = ["\"\(term.text)\"" + (term.prefix ? "*" : "")] + term.synonyms.map { "\"\($0)\"" }
            if typos { alternatives += term.typos.map { "\"\($0)\"" } }
            return "(" + alternatives.joined(separator: " OR ") + ")"
        }.joined(separator: " AND ")
        let match = includeNames ? expression : "{address} : (\(expression))"
        return try await concurrentRead { db in
            try Row.fetchAll(db, sql: """
                SELECT d.property_id, p.address, p.city, p.zip, p.latitude, p.longitude, d.names
                FROM (SELECT rowid, score FROM (SELECT rowid, bm25(search_fts, 2.0, 1.0) AS score FROM search_fts
                                                WHERE search_fts MATCH ? LIMIT ?)
                      ORDER BY score LIMIT ?) f
                JOIN search_docs d ON d.id = f.rowid JOIN properties p ON p.property_id = d.property_id
                ORDER BY f.score, d.property_id
                """, arguments: [match, SearchText.rankedMatches, SearchText.candidates]).map { row in
                let names: String = row["names"]
                return SearchHit(propertyID: row["property_id"], address: row["address"], city: row["city"], zip: row["zip"],
                                 latitude: row["latitude"], longitude: row["longitude"], names: names.isEmpty ? [] : names.components(separatedBy: "; "), match: "exact")
            }
        }
    }
}
