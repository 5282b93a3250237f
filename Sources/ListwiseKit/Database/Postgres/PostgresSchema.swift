// The PostgreSQL schema (SPEC §7): the SQLite tables with proper types, and its own versioned,
// append-only migrations. Every table that grows with homes is hash-partitioned by property_id,
// and every unique or foreign key of those tables includes property_id, so that Citus
// `create_distributed_table(..., 'property_id')` works on it unchanged. The small tables
// (imports, territories, runs, campaigns, suppressions) are plain: Citus reference tables.
enum PostgresSchema {
    /// Partitions of each home table: enough to keep a state's tables in pieces a vacuum handles.
    static let partitions = 8

    /// (identifier, statements), in order. A shipped migration is never edited; add a new one.
    static var migrations: [(String, [String])] {
        [("v1-schema", v1), ("v2-drop-home-foreign-keys", v2), ("v3-api-keys", v3), ("v4-data-api", v4), ("v5-webhooks", v5),
         ("v6-campaign-holdouts", v6)]
    }

    /// `CREATE TABLE name (...) PARTITION BY HASH (property_id)` and its partitions.
    private static func homeTable(_ name: String, _ columns: String) -> [String] {
        ["CREATE TABLE \(name) (\(columns)) PARTITION BY HASH (property_id)"]
            + (0..<partitions).map { part in
                "CREATE TABLE \(name)_p\(part) PARTITION OF \(name) FOR VALUES WITH (MODULUS \(partitions), REMAINDER \(part))"
            }
    }

    /// The references from the home tables to properties, checked by their writers instead (as
    /// SQLite's import and scoring switch foreign keys off): a foreign-key check against the
    /// partitioned properties table cost about 100 µs a row (the sample's 161k events: 19.6 s
    /// with them, 3.1 s without; `psql \copy` of the file alone 0.17 s). The import rejects rows of
    /// unknown homes with one anti-join; score rows come from the properties table itself.
    private static var v2: [String] {
        ["owners", "prospects", "events", "scores"].map { "ALTER TABLE \($0) DROP CONSTRAINT \($0)_property_id_fkey" }
    }

    /// Keys of the Data API (only their SHA-256); a small table (a Citus reference table).
    private static var v3: [String] {
        ["""
        CREATE TABLE api_keys (
            name            text PRIMARY KEY CHECK (name <> ''),
            key_hash        text NOT NULL UNIQUE,
            scope           text NOT NULL CHECK (scope IN ('read', 'export')),
            territories     jsonb NOT NULL DEFAULT '[]',
            allowed_origins jsonb NOT NULL DEFAULT '[]',
            created_at      timestamptz NOT NULL,
            revoked_at      timestamptz
        )
        """]
    }

    /// Measured campaigns (SPEC §11): whether a prospect of the history was held out as the
    /// campaign's control group, and the holdout an export drew (percent, seed, prospects held out).
    private static var v6: [String] {
        ["ALTER TABLE contact_history ADD COLUMN held_out boolean NOT NULL DEFAULT false",
         "ALTER TABLE exports ADD COLUMN holdout_percent integer CHECK (holdout_percent > 0 AND holdout_percent < 100)",
         "ALTER TABLE exports ADD COLUMN holdout_seed bigint",
         "ALTER TABLE exports ADD COLUMN held_out bigint NOT NULL DEFAULT 0",
         "CREATE INDEX exports_by_campaign ON exports (campaign, id)"]
    }

    /// Webhooks (SPEC §9): endpoints, the outbox of events, one delivery per (endpoint, event);
    /// small tables (Citus reference tables).
    private static var v5: [String] {
        ["""
        CREATE TABLE webhook_endpoints (
            id          bigserial PRIMARY KEY,
            url         text NOT NULL CHECK (url LIKE 'http://%' OR url LIKE 'https://%'),
            secret      text NOT NULL CHECK (secret <> ''),
            events      text[] NOT NULL,
            territories text[] NOT NULL DEFAULT '{}',
            created_at  timestamptz NOT NULL,
            removed_at  timestamptz
        )
        """, """
        CREATE TABLE webhook_events (
            seq        bigserial PRIMARY KEY,
            id         text NOT NULL UNIQUE,
            type       text NOT NULL,
            territory  text,
            created_at timestamptz NOT NULL,
            body       text NOT NULL
        )
        """, """
        CREATE TABLE webhook_deliveries (
            endpoint_id      bigint NOT NULL REFERENCES webhook_endpoints(id),
            event_seq        bigint NOT NULL REFERENCES webhook_events(seq),
            status           text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
            attempts         integer NOT NULL DEFAULT 0,
            next_attempt_at  timestamptz NOT NULL,
            first_attempt_at timestamptz,
            last_attempt_at  timestamptz,
            last_status      integer,
            last_error       text,
            PRIMARY KEY (endpoint_id, event_seq)
        )
        """, "CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (status, endpoint_id, event_seq)"]
    }

    /// The Data API (SPEC §8): pages of a run's scores by keyset in rank order (the run's index
    /// now leads with rank too), and the search index: one document a home (address, names of its
    /// people) with a weighted tsvector (address A, names B) under GIN, its vocabulary's one-deletion
    /// variants for typos, and the newest import it has seen.
    private static var v4: [String] {
        ["DROP INDEX scores_by_run", "CREATE INDEX scores_by_run_rank ON scores (run_id, rank, property_id)"]
            + homeTable("search_docs", """
            property_id text NOT NULL,
            address     text NOT NULL,
            names       text NOT NULL DEFAULT '',
            document    tsvector GENERATED ALWAYS AS (setweight(to_tsvector('simple', \(folded("address"))), 'A')
                                                      || setweight(to_tsvector('simple', \(folded("names"))), 'B')) STORED,
            PRIMARY KEY (property_id)
            """)
            + ["CREATE INDEX search_docs_document ON search_docs USING gin (document)", """
            CREATE TABLE search_variants (
                variant text NOT NULL,
                term    text NOT NULL,
                PRIMARY KEY (variant, term)
            )
            """, """
            CREATE TABLE search_index (
                id           integer PRIMARY KEY CHECK (id = 1),
                imports_seen bigint NOT NULL,
                built_at     timestamptz NOT NULL
            )
            """]
    }

    /// `column` in lower case without the diacritics of Latin-1 and Latin Extended-A's common
    /// letters (upper case too: lower() changes only ASCII under the C locale), as SQLite's FTS5 (remove_diacritics 2) and the query (SearchText.words) fold them.
    /// translate() is immutable, so a generated column may use it (unaccent() is not).
    private static func folded(_ column: String) -> String {
        "translate(lower(\(column)), 'àáâãäåāăąçćčďèéêëēėęěìíîïīįłñńňòóôõöøōőŕřśšşťùúûüūůűųýÿźżžÀÁÂÃÄÅĀĂĄÇĆČĎÈÉÊËĒĖĘĚÌÍÎÏĪĮŁÑŃŇÒÓÔÕÖØŌŐŔŘŚŠŞŤÙÚÛÜŪŮŰŲÝŸŹŻŽ', "
            + "'aaaaaaaaacccdeeeeeeeeiiiiiilnnnoooooooorrssstuuuuuuuuyyzzzaaaaaaaaacccdeeeeeeeeiiiiiilnnnoooooooorrssstuuuuuuuuyyzzz')"
    }

    private static var v1: [String] {
        homeTable("properties", """
            property_id    text NOT NULL CHECK (property_id <> ''),
            address        text NOT NULL CHECK (address <> ''),
            city           text NOT NULL CHECK (city <> ''),
            state          text NOT NULL CHECK (state <> ''),
            zip            text NOT NULL CHECK (zip ~ '^[0-9]{5}$'),
            zip4           text CHECK (zip4 ~ '^[0-9]{4}$'),
            latitude       double precision CHECK (latitude BETWEEN -90 AND 90),
            longitude      double precision CHECK (longitude BETWEEN -180 AND 180),
            property_type  text CHECK (property_type IN ('SFR', 'CONDO', 'TOWNHOUSE', 'MULTI', 'MOBILE', 'OTHER')),
            bedrooms       double precision CHECK (bedrooms >= 0),
            bathrooms      double precision CHECK (bathrooms >= 0),
            living_sqft    bigint CHECK (living_sqft >= 0),
            lot_sqft       bigint CHECK (lot_sqft >= 0),
            year_built     integer,
            assessed_value bigint CHECK (assessed_value >= 0),
            owner_occupied boolean,
            PRIMARY KEY (property_id)
            """)
            + ["CREATE INDEX properties_by_zip ON properties (zip)", "CREATE INDEX properties_by_city ON properties (city)"]
            + homeTable("owners", """
            property_id      text NOT NULL REFERENCES properties (property_id),
            owner_since      date NOT NULL,
            owner_birth_year integer,
            absentee         boolean,
            corporate        boolean,
            PRIMARY KEY (property_id, owner_since)
            """)
            // prospect_id is unique per property here (a key must hold the distribution column);
            // the importer keeps it unique across properties, as SQLite's key does.
            + homeTable("prospects", """
            property_id      text NOT NULL REFERENCES properties (property_id),
            prospect_id      text NOT NULL CHECK (prospect_id <> ''),
            first_name       text,
            last_name        text,
            owner_birth_year integer,
            mailing_address  text,
            mailing_city     text,
            mailing_state    text,
            mailing_zip      text CHECK (mailing_zip ~ '^[0-9]{5}$'),
            mailing_zip4     text CHECK (mailing_zip4 ~ '^[0-9]{4}$'),
            email            text,
            phone            text,
            do_not_mail      boolean NOT NULL DEFAULT false,
            do_not_email     boolean NOT NULL DEFAULT false,
            do_not_call      boolean NOT NULL DEFAULT false,
            PRIMARY KEY (property_id, prospect_id)
            """)
            + ["CREATE INDEX prospects_by_id ON prospects (prospect_id)"]
            // An event is identified by all its fields: amount and rate are -1 when not given, as
            // in SQLite, because a key column cannot be NULL.
            + homeTable("events", """
            property_id text NOT NULL REFERENCES properties (property_id),
            event_date  date NOT NULL,
            event_type  text NOT NULL CHECK (event_type IN ('VALUATION', 'MORTGAGE', 'SALE', 'LISTING', 'DELISTING', 'DEFAULT')),
            amount      bigint NOT NULL CHECK (amount >= -1),
            rate        double precision NOT NULL CHECK (rate >= -1),
            PRIMARY KEY (property_id, event_date, event_type, amount, rate)
            """)
            + ["""
            CREATE TABLE imports (
                id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                kind              text NOT NULL CHECK (kind IN ('properties', 'owners', 'prospects', 'events')),
                file              text NOT NULL,
                sha256            text NOT NULL,
                started_at        timestamptz NOT NULL,
                finished_at       timestamptz NOT NULL,
                rows              bigint NOT NULL,
                inserted          bigint NOT NULL,
                updated           bigint NOT NULL,
                unchanged         bigint NOT NULL,
                rejected          bigint NOT NULL,
                newest_event_date date
            )
            """, """
            CREATE TABLE territories (
                name        text PRIMARY KEY CHECK (name <> ''),
                kind        text NOT NULL CHECK (kind IN ('zips', 'cities', 'geojson', 'radius')),
                definition  jsonb NOT NULL,
                created_at  timestamptz NOT NULL
            )
            """, """
            CREATE TABLE score_runs (
                id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                model_file        text NOT NULL,
                model_fingerprint text NOT NULL,
                territory         text,
                as_of             date NOT NULL,
                horizon_days      integer NOT NULL,
                started_at        timestamptz NOT NULL,
                finished_at       timestamptz NOT NULL,
                rows              bigint NOT NULL,
                on_market         bigint NOT NULL,
                feature_counts    jsonb
            )
            """]
            + homeTable("scores", """
            run_id      bigint NOT NULL REFERENCES score_runs (id) ON DELETE CASCADE,
            property_id text NOT NULL REFERENCES properties (property_id),
            probability double precision NOT NULL CHECK (probability >= 0 AND probability <= 1),
            rank        bigint,
            percentile  double precision,
            tier        text CHECK (tier IN ('High', 'Medium', 'Low')),
            on_market   boolean NOT NULL,
            reason1     text,
            reason2     text,
            reason3     text,
            PRIMARY KEY (property_id, run_id)
            """)
            + ["CREATE INDEX scores_by_run ON scores (run_id)", """
            CREATE TABLE campaigns (
                name        text PRIMARY KEY CHECK (name <> ''),
                created_at  timestamptz NOT NULL
            )
            """, """
            CREATE TABLE exports (
                id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                campaign     text NOT NULL REFERENCES campaigns (name),
                channel      text NOT NULL CHECK (channel IN ('mail', 'email', 'ads')),
                run_id       bigint NOT NULL REFERENCES score_runs (id),
                territory    text,
                selection    text NOT NULL,
                destination  text NOT NULL,
                exported_at  timestamptz NOT NULL,
                rows         bigint NOT NULL,
                prospects    bigint NOT NULL
            )
            """, "CREATE INDEX exports_by_time ON exports (exported_at)"]
            // The history carries the home of each prospect: its distribution key.
            + homeTable("contact_history", """
            property_id  text NOT NULL,
            export_id    bigint NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
            prospect_id  text NOT NULL,
            PRIMARY KEY (property_id, export_id, prospect_id)
            """)
            + ["CREATE INDEX contact_history_by_prospect ON contact_history (prospect_id)", """
            CREATE TABLE suppressions (
                kind      text NOT NULL CHECK (kind IN ('email', 'phone', 'address')),
                value     text NOT NULL CHECK (value <> ''),
                source    text NOT NULL,
                added_at  timestamptz NOT NULL,
                PRIMARY KEY (kind, value)
            )
            """, """
            CREATE TABLE refresh_runs (
                id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                started_at   timestamptz NOT NULL,
                finished_at  timestamptz,
                status       text NOT NULL CHECK (status IN ('running', 'ok', 'partial', 'failed')),
                report       jsonb,
                error        text
            )
            """]
    }
}
