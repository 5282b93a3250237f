// The Data API's reads on a PostgreSQL store (DataAPI.swift, Search.swift): the same pages,
// homes and search as on SQLite (SQLiteDataAPI.swift), with full-text search (a weighted
// tsvector under GIN) in place of FTS5.
import Foundation
import PostgresNIO

extension PostgresStore {
    public func scoreRuns(territory: String?, limit: Int) async throws -> [ScoreRunRecord] {
        var runs: [ScoreRunRecord] = []
        for try await row in try await query("""
            SELECT \(unescaped: ScoreRunColumns.list) FROM score_runs
            WHERE \(territory)::text IS NULL OR territory = \(territory) ORDER BY id DESC LIMIT \(limit)
            """) {
            runs.append(try ScoreRunColumns.record(row))
        }
        return runs
    }

    public func scoresPage(runID: Int64, filter: ScoreFilter, after cursor: ScoreCursor?, limit: Int) async throws -> [ScoredHome] {
        try await ScorePaging.page(filter: filter, after: cursor, limit: limit, ranked: { after, filter, limit in
            try await self.scorePage(runID: runID, ranked: true, afterRank: after, afterProperty: nil, filter: filter, limit: limit)
        }, unranked: { after, filter, limit in
            try await self.scorePage(runID: runID, ranked: false, afterRank: 0, afterProperty: after, filter: filter, limit: limit)
        })
    }

    /// Ranked homes after `afterRank` by rank, or on-market homes (no rank) after `afterProperty`
    /// by property id in byte order (as SQLite orders them).
    private func scorePage(runID: Int64, ranked: Bool, afterRank: Int, afterProperty: String?, filter: ScoreFilter,
                           limit: Int) async throws -> [ScoredHome] {
        var bindings = PostgresBindings()
        var conditions: [String] = []
        func bind(_ condition: String, _ value: some PostgresNonThrowingEncodable & Sendable) {
            bindings.append(value)
            conditions.append(condition.replacingOccurrences(of: "?", with: "$\(bindings.count)"))
        }
        bind("s.run_id = ?", runID)
        if ranked {
            bind("s.rank > ?", afterRank)
        } else {
            conditions.append("s.rank IS NULL")
            if let afterProperty { bind("s.property_id COLLATE \"C\" > ?", afterProperty) }
        }
        if let tier = filter.tier { bind("s.tier = ?", tier) }
        if let zip = filter.zip { bind("p.zip = ?", zip) }
        if let minimum = filter.minProbability { bind("s.probability >= ?", minimum) }
        bindings.append(limit)
        let sql = """
            SELECT s.property_id, p.address, p.zip, s.probability, s.rank, s.percentile, s.tier, s.on_market,
                   s.reason1, s.reason2, s.reason3
            FROM scores s JOIN properties p ON p.property_id = s.property_id
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY \(ranked ? "s.rank" : "s.property_id COLLATE \"C\"") LIMIT $\(bindings.count)
            """
        var homes: [ScoredHome] = []
        for try await row in try await query(PostgresQuery(unsafeSQL: sql, binds: bindings)) {
            homes.append(try ScoredHomesStatement.home(row))
        }
        return homes
    }

    public func home(id: String, historyLimit: Int) async throws -> HomeDetail? {
        var found: PropertyRecord?
        for try await row in try await query("""
            SELECT property_id, address, city, state, zip, zip4, latitude, longitude, property_type, bedrooms, bathrooms,
                   living_sqft, lot_sqft, year_built, assessed_value, owner_occupied
            FROM properties WHERE property_id = \(id)
            """) {
            let cells = row.makeRandomAccess()
            found = PropertyRecord(
                propertyID: try cells["property_id"].decode(String.self), address: try cells["address"].decode(String.self),
                city: try cells["city"].decode(String.self), state: try cells["state"].decode(String.self),
                zip: try cells["zip"].decode(String.self), zip4: try cells["zip4"].decode(String?.self),
                latitude: try cells["latitude"].decode(Double?.self), longitude: try cells["longitude"].decode(Double?.self),
                propertyType: try cells["property_type"].decode(String?.self), bedrooms: try cells["bedrooms"].decode(Double?.self),
                bathrooms: try cells["bathrooms"].decode(Double?.self), livingSqft: try cells["living_sqft"].decode(Int?.self),
                lotSqft: try cells["lot_sqft"].decode(Int?.self), yearBuilt: try cells["year_built"].decode(Int?.self),
                assessedValue: try cells["assessed_value"].decode(Int?.self), ownerOccupied: try cells["owner_occupied"].decode(Bool?.self))
        }
        guard let property = found else { return nil }
        var prospects: [HomeProspect] = []
        for try await (prospectID, first, last, email, phone, address, city, state, zip) in try await query("""
            SELECT prospect_id, first_name, last_name, email, phone, mailing_address, mailing_city, mailing_state, mailing_zip
            FROM prospects WHERE property_id = \(id) ORDER BY prospect_id COLLATE "C"
            """).decode((String, String?, String?, String?, String?, String?, String?, String?, String?).self) {
            prospects.append(HomeProspect(prospectID: prospectID, firstName: first, lastName: last, email: email, phone: phone,
                                          mailingAddress: address, mailingCity: city, mailingState: state, mailingZip: zip))
        }
        // The scores' key is (home, run): one home's history is one index range.
        var scores: [HomeRunScore] = []
        for try await (runID, territory, asOf, probability, rank, percentile, tier, onMarket, reason1, reason2, reason3) in try await query("""
            SELECT r.id, r.territory, r.as_of::text, s.probability, s.rank, s.percentile, s.tier, s.on_market,
                   s.reason1, s.reason2, s.reason3
            FROM scores s JOIN score_runs r ON r.id = s.run_id
            WHERE s.property_id = \(id) ORDER BY r.id DESC LIMIT \(historyLimit)
            """).decode((Int64, String?, String, Double, Int?, Double?, String?, Bool, String?, String?, String?).self) {
            scores.append(HomeRunScore(runID: runID, territory: territory, asOf: asOf, probability: probability, rank: rank,
                                       percentile: percentile, tier: tier, onMarket: onMarket,
                                       reasons: [reason1, reason2, reason3].compactMap { $0 }))
        }
        return HomeDetail(property: property, prospects: prospects, scores: scores)
    }

    public func exports(limit: Int) async throws -> [ExportInfo] {
        var exports: [ExportInfo] = []
        for try await (id, campaign, channel, runID, territory, selection, exportedAt, rows, prospects) in try await query("""
            SELECT id, campaign, channel, run_id, territory, selection, \(unescaped: Self.timestampText("exported_at")), rows, prospects
            FROM exports ORDER BY id DESC LIMIT \(limit)
            """).decode((Int64, String, String, Int64, String?, String, String, Int, Int).self) {
            exports.append(ExportInfo(id: id, campaign: campaign, channel: channel, runID: runID, territory: territory,
                                      selection: selection, exportedAt: exportedAt, rows: rows, prospects: prospects))
        }
        return exports
    }
}

// The search index.
extension PostgresStore {
    public func searchIndexState() async throws -> SearchIndexState {
        for try await (seen, newest) in try await query("""
            SELECT (SELECT imports_seen FROM search_index WHERE id = 1),
                   (SELECT coalesce(max(id), 0) FROM imports WHERE kind IN ('properties', 'prospects'))
            """).decode((Int64?, Int64).self) {
            return SearchIndexState(importsSeen: seen, newestImport: newest)
        }
        return SearchIndexState(importsSeen: nil, newestImport: 0)
    }

    public func rebuildSearchIndex(now: Date) async throws -> Int {
        try await inTransaction { connection in
            var newest: Int64 = 0
            for try await value in try await connection.query("""
                SELECT coalesce(max(id), 0) FROM imports WHERE kind IN ('properties', 'prospects')
                """, logger: logger).decode(Int64.self) {
                newest = value
            }
            // Two rebuilds at once would both delete and insert: the second waits for the first.
            try await connection.query("LOCK TABLE search_index IN EXCLUSIVE MODE", logger: logger)
            try await connection.query("DELETE FROM search_docs", logger: logger)
            try await connection.query("""
                INSERT INTO search_docs (property_id, address, names)
                SELECT p.property_id, p.address || ' ' || p.city || ' ' || p.zip,
                       coalesce((SELECT string_agg(trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')), '; '
                                                   ORDER BY prospect_id COLLATE "C")
                                 FROM prospects x WHERE x.property_id = p.property_id), '')
                FROM properties p
                """, logger: logger)
            try await connection.query("DELETE FROM search_variants", logger: logger)
            var words: [String] = []
            for try await word in try await connection.query("SELECT word FROM ts_stat('SELECT document FROM search_docs')",
                                                             logger: logger).decode(String.self) {
                words.append(word)
            }
            var variants: [String] = [], terms: [String] = []
            for word in words where SearchText.takesTypos(word) {
                for variant in [word] + SearchText.deletions(word) {
                    variants.append(variant)
                    terms.append(word)
                }
            }
            let chunk = 50_000
            for start in stride(from: 0, to: variants.count, by: chunk) {
                let end = min(start + chunk, variants.count)
                try await connection.query("""
                    INSERT INTO search_variants (variant, term)
                    SELECT * FROM unnest(\(Array(variants[start..<end]))::text[], \(Array(terms[start..<end]))::text[])
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            try await connection.query("""
                INSERT INTO search_index (id, imports_seen, built_at) VALUES (1, \(newest), \(now))
                ON CONFLICT (id) DO UPDATE SET imports_seen = excluded.imports_seen, built_at = excluded.built_at
                """, logger: logger)
            var count = 0
            for try await value in try await connection.query("SELECT count(*) FROM search_docs", logger: logger).decode(Int.self) {
                count = value
            }
            return count
        }
    }

    public func searchVariants(_ words: [String]) async throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for word in words {
            var terms: [String] = []
            for try await term in try await query("""
                SELECT DISTINCT term FROM search_variants WHERE variant = ANY(\(SearchText.lookups(word))::text[])
                """).decode(String.self) {
                terms.append(term)
            }
            result[word] = terms
        }
        return result
    }

    public func searchIndex(_ terms: [SearchTerm], includeNames: Bool, typos: Bool) async throws -> [SearchHit] {
        // Terms are letters and digits only (SearchText.words): safe inside a tsquery. Keys without
        // the export scope match the address (weight A) only.
        let weight = includeNames ? "" : "A"
        let expression = terms.map { term in
            var alternatives = ["\(term.text):\(term.prefix ? "*" : "")\(weight)"] + term.synonyms.map { "\($0):\(weight)" }
            if typos { alternatives += term.typos.map { "\($0):\(weight)" } }
            return "(" + alternatives.map { $0.hasSuffix(":") ? String($0.dropLast()) : $0 }.joined(separator: " | ") + ")"
        }.joined(separator: " & ")
        var hits: [SearchHit] = []
        for try await (propertyID, address, city, zip, latitude, longitude, names) in try await query("""
            SELECT d.property_id, p.address, p.city, p.zip, p.latitude, p.longitude, d.names
            FROM (SELECT property_id, names, ts_rank('{0.1, 0.2, 0.5, 1.0}', document, q) AS score
                  FROM (SELECT property_id, names, document FROM search_docs, to_tsquery('simple', \(expression)) q
                        WHERE document @@ q LIMIT \(SearchText.rankedMatches)) m, to_tsquery('simple', \(expression)) q
                  ORDER BY score DESC, property_id COLLATE "C" LIMIT \(SearchText.candidates)) d
            JOIN properties p ON p.property_id = d.property_id
            ORDER BY d.score DESC, d.property_id COLLATE "C"
            """).decode((String, String, String, String, Double?, Double?, String).self) {
            hits.append(SearchHit(propertyID: propertyID, address: address, city: city, zip: zip, latitude: latitude, longitude: longitude,
                                  names: names.isEmpty ? [] : names.components(separatedBy: "; "), match: "exact"))
        }
        return hits
    }
}
