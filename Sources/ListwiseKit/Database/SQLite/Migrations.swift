// Schema migrations. Append-only: a shipped migration is never edited; add a new one.
import GRDB

extension AppDatabase {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-data-tables") { db in
            // Properties are keyed by their text id; WITHOUT ROWID keeps one b-tree ordered by key.
            try db.execute(sql: """
                CREATE TABLE properties (
                    property_id    TEXT PRIMARY KEY NOT NULL CHECK (property_id <> ''),
                    address        TEXT NOT NULL CHECK (address <> ''),
                    city           TEXT NOT NULL CHECK (city <> ''),
                    state          TEXT NOT NULL CHECK (state <> ''),
                    zip            TEXT NOT NULL CHECK (length(zip) = 5 AND zip NOT GLOB '*[^0-9]*'),
                    zip4           TEXT CHECK (zip4 IS NULL OR (length(zip4) = 4 AND zip4 NOT GLOB '*[^0-9]*')),
                    latitude       REAL CHECK (latitude BETWEEN -90 AND 90),
                    longitude      REAL CHECK (longitude BETWEEN -180 AND 180),
                    property_type  TEXT CHECK (property_type = 'SFR' OR property_type = 'CONDO' OR property_type = 'TOWNHOUSE'
                                              OR property_type = 'MULTI' OR property_type = 'MOBILE' OR property_type = 'OTHER'),
                    bedrooms       REAL CHECK (bedrooms >= 0),
                    bathrooms      REAL CHECK (bathrooms >= 0),
                    living_sqft    INTEGER CHECK (living_sqft >= 0),
                    lot_sqft       INTEGER CHECK (lot_sqft >= 0),
                    year_built     INTEGER,
                    assessed_value INTEGER CHECK (assessed_value >= 0),
                    owner_occupied INTEGER CHECK (owner_occupied = 0 OR owner_occupied = 1)
                ) WITHOUT ROWID;
                CREATE INDEX properties_by_zip ON properties(zip);
                CREATE INDEX properties_by_city ON properties(city);

                CREATE TABLE owners (
                    property_id      TEXT NOT NULL REFERENCES properties(property_id),
                    owner_since      TEXT NOT NULL CHECK (length(owner_since) = 10 AND owner_since BETWEEN '1000-01-01' AND '9999-12-31'),
                    owner_birth_year INTEGER,
                    absentee         INTEGER CHECK (absentee = 0 OR absentee = 1),
                    corporate        INTEGER CHECK (corporate = 0 OR corporate = 1),
                    PRIMARY KEY (property_id, owner_since)
                ) WITHOUT ROWID;

                CREATE TABLE prospects (
                    prospect_id      TEXT PRIMARY KEY NOT NULL CHECK (prospect_id <> ''),
                    property_id      TEXT NOT NULL REFERENCES properties(property_id),
                    first_name       TEXT,
                    last_name        TEXT,
                    owner_birth_year INTEGER,
                    mailing_address  TEXT,
                    mailing_city     TEXT,
                    mailing_state    TEXT,
                    mailing_zip      TEXT CHECK (mailing_zip IS NULL OR (length(mailing_zip) = 5 AND mailing_zip NOT GLOB '*[^0-9]*')),
                    mailing_zip4     TEXT CHECK (mailing_zip4 IS NULL OR (length(mailing_zip4) = 4 AND mailing_zip4 NOT GLOB '*[^0-9]*')),
                    email            TEXT,
                    phone            TEXT,
                    do_not_mail      INTEGER NOT NULL DEFAULT 0 CHECK (do_not_mail = 0 OR do_not_mail = 1),
                    do_not_email     INTEGER NOT NULL DEFAULT 0 CHECK (do_not_email = 0 OR do_not_email = 1),
                    do_not_call      INTEGER NOT NULL DEFAULT 0 CHECK (do_not_call = 0 OR do_not_call = 1)
                ) WITHOUT ROWID;
                CREATE INDEX prospects_by_property ON prospects(property_id);

                -- CHECKs are a backstop behind the importer's validation, written to be cheap on
                -- 16M-row imports: an IN (...) list builds an ephemeral table per row (measured
                -- 2.5x slower than .import), an OR chain does not; the calendar check of dates
                -- (date(x, '+0 days') IS x, +40 %) stays in the importer.
                -- An event is identified by all its fields (SPEC §1). Key columns cannot be NULL,
                -- so a missing amount is stored as -1 and a missing rate as -1.0 (amounts and
                -- rates are validated non-negative); EventRecord maps them back to nil.
                -- The key order makes this table the "events by property and date" index.
                CREATE TABLE events (
                    property_id TEXT NOT NULL REFERENCES properties(property_id),
                    event_date  TEXT NOT NULL CHECK (length(event_date) = 10 AND event_date BETWEEN '1000-01-01' AND '9999-12-31'),
                    event_type  TEXT NOT NULL CHECK (event_type = 'VALUATION' OR event_type = 'MORTGAGE' OR event_type = 'SALE'
                                              OR event_type = 'LISTING' OR event_type = 'DELISTING' OR event_type = 'DEFAULT'),
                    amount      INTEGER NOT NULL CHECK (amount >= -1),
                    rate        REAL NOT NULL CHECK (rate >= -1),
                    PRIMARY KEY (property_id, event_date, event_type, amount, rate)
                ) WITHOUT ROWID;

                CREATE TABLE imports (
                    id            INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind          TEXT NOT NULL CHECK (kind IN ('properties','owners','prospects','events')),
                    file          TEXT NOT NULL,
                    sha256        TEXT NOT NULL,
                    started_at    TEXT NOT NULL,
                    finished_at   TEXT NOT NULL,
                    rows          INTEGER NOT NULL,
                    inserted      INTEGER NOT NULL,
                    updated       INTEGER NOT NULL,
                    unchanged     INTEGER NOT NULL,
                    rejected      INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2-territories-and-scores") { db in
            try db.execute(sql: """
                CREATE TABLE territories (
                    name        TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),
                    kind        TEXT NOT NULL CHECK (kind = 'zips' OR kind = 'cities' OR kind = 'geojson' OR kind = 'radius'),
                    definition  TEXT NOT NULL,   -- JSON of TerritoryDefinition
                    created_at  TEXT NOT NULL
                ) WITHOUT ROWID;

                CREATE TABLE score_runs (
                    id                INTEGER PRIMARY KEY AUTOINCREMENT,
                    model_file        TEXT NOT NULL,
                    model_fingerprint TEXT NOT NULL,
                    territory         TEXT,          -- NULL: every property
                    as_of             TEXT NOT NULL,
                    horizon_days      INTEGER NOT NULL,
                    started_at        TEXT NOT NULL,
                    finished_at       TEXT NOT NULL,
                    rows              INTEGER NOT NULL,
                    on_market         INTEGER NOT NULL
                );

                -- On-market homes are scored but not ranked or tiered (SPEC §3: flagged, not targeted).
                CREATE TABLE scores (
                    run_id      INTEGER NOT NULL REFERENCES score_runs(id) ON DELETE CASCADE,
                    property_id TEXT NOT NULL REFERENCES properties(property_id),
                    probability REAL NOT NULL CHECK (probability >= 0 AND probability <= 1),
                    rank        INTEGER,
                    percentile  REAL,
                    tier        TEXT CHECK (tier = 'High' OR tier = 'Medium' OR tier = 'Low'),
                    on_market   INTEGER NOT NULL CHECK (on_market = 0 OR on_market = 1),
                    reason1     TEXT,
                    reason2     TEXT,
                    reason3     TEXT,
                    PRIMARY KEY (run_id, property_id)
                ) WITHOUT ROWID;
                CREATE INDEX scores_by_rank ON scores(run_id, rank);
                """)
        }
        // The rank index cost 2–3 s of a 1M-home score run (a random insert a home) and served no
        // query well: listing by rank scans the run's rows (PRIMARY KEY prefix) in about 0.5 s.
        migrator.registerMigration("v3-drop-scores-rank-index") { db in
            try db.execute(sql: "DROP INDEX IF EXISTS scores_by_rank")
        }
        migrator.registerMigration("v4-campaigns-and-suppression") { db in
            try db.execute(sql: """
                CREATE TABLE campaigns (
                    name        TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),
                    created_at  TEXT NOT NULL
                ) WITHOUT ROWID;

                -- One row per export (a list written for a campaign), the people on it in contact_history.
                CREATE TABLE exports (
                    id           INTEGER PRIMARY KEY AUTOINCREMENT,
                    campaign     TEXT NOT NULL REFERENCES campaigns(name),
                    channel      TEXT NOT NULL CHECK (channel = 'mail' OR channel = 'email' OR channel = 'ads'),
                    run_id       INTEGER NOT NULL REFERENCES score_runs(id),
                    territory    TEXT,
                    selection    TEXT NOT NULL,
                    destination  TEXT NOT NULL,   -- the file written, or '-' for standard output
                    exported_at  TEXT NOT NULL,   -- ISO 8601 UTC, comparable as text
                    rows         INTEGER NOT NULL,
                    prospects    INTEGER NOT NULL
                );
                CREATE INDEX exports_by_time ON exports(exported_at);

                CREATE TABLE contact_history (
                    export_id    INTEGER NOT NULL REFERENCES exports(id) ON DELETE CASCADE,
                    prospect_id  TEXT NOT NULL,
                    PRIMARY KEY (export_id, prospect_id)
                ) WITHOUT ROWID;

                -- The global opt-out list. value is normalised: a lower-case email, a phone as
                -- E.164 digits, an address as 'LINE1|LINE2|ZIP5' (Publication 28; ZIP5 empty: any zip).
                CREATE TABLE suppressions (
                    kind      TEXT NOT NULL CHECK (kind = 'email' OR kind = 'phone' OR kind = 'address'),
                    value     TEXT NOT NULL CHECK (value <> ''),
                    source    TEXT NOT NULL,
                    added_at  TEXT NOT NULL,
                    PRIMARY KEY (kind, value)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v5-refresh-runs") { db in
            try db.execute(sql: """
                CREATE TABLE refresh_runs (
                    id           INTEGER PRIMARY KEY AUTOINCREMENT,
                    started_at   TEXT NOT NULL,
                    finished_at  TEXT,
                    status       TEXT NOT NULL CHECK (status = 'running' OR status = 'ok' OR status = 'partial' OR status = 'failed'),
                    report       TEXT,   -- JSON of RefreshReport
                    error        TEXT
                );
                -- Per model feature, how many scored homes fell in each bin of the model's training
                -- profile (JSON {feature: [counts]}), for drift.
                ALTER TABLE score_runs ADD COLUMN feature_counts TEXT;
                """)
        }
        migrator.registerMigration("v6-newest-event-date") { db in
            // Kept per events import so that `score` knows where the data end without a scan of
            // the events; filled once here for databases imported before.
            try db.execute(sql: """
                ALTER TABLE imports ADD COLUMN newest_event_date TEXT;
                UPDATE imports SET newest_event_date = (SELECT max(event_date) FROM events) WHERE kind = 'events';
                """)
        }
        migrator.registerMigration("v7-api-keys") { db in
            // Keys of the Data API: only the SHA-256 of a key is kept. territories and
            // allowed_origins are JSON arrays (territories empty: every territory).
            try db.execute(sql: """
                CREATE TABLE api_keys (
                    name            TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),
                    key_hash        TEXT NOT NULL UNIQUE,
                    scope           TEXT NOT NULL CHECK (scope IN ('read', 'export')),
                    territories     TEXT NOT NULL DEFAULT '[]',
                    allowed_origins TEXT NOT NULL DEFAULT '[]',
                    created_at      TEXT NOT NULL,
                    revoked_at      TEXT
                );
                """)
        }
        migrator.registerMigration("v8-data-api") { db in
            // Pages of a run's scores by keyset (SPEC §8): rank order, on-market homes (no rank)
            // after by property id. Costs a score run ~2 s at 1M homes (v3 dropped the rank index
            // for that), which a page read at 2,000 requests a second pays back.
            // The search index is derived from properties and prospects and rebuilt when an
            // import changed them (search_index.imports_seen); one document per home: its
            // address and the names of its people, which only export keys search.
            try db.execute(sql: """
                CREATE INDEX scores_by_rank ON scores(run_id, rank, property_id);
                CREATE TABLE search_docs (
                    id          INTEGER PRIMARY KEY,
                    property_id TEXT NOT NULL UNIQUE,
                    address     TEXT NOT NULL,
                    names       TEXT NOT NULL DEFAULT ''
                );
                CREATE VIRTUAL TABLE search_fts USING fts5(address, names, content='search_docs', content_rowid='id',
                                                           tokenize='unicode61 remove_diacritics 2', prefix='2 3');
                CREATE VIRTUAL TABLE search_vocab USING fts5vocab(search_fts, 'row');
                CREATE TABLE search_variants (
                    variant TEXT NOT NULL,
                    term    TEXT NOT NULL,
                    PRIMARY KEY (variant, term)
                ) WITHOUT ROWID;
                CREATE TABLE search_index (
                    id           INTEGER PRIMARY KEY CHECK (id = 1),
                    imports_seen INTEGER NOT NULL,
                    built_at     TEXT NOT NULL
                );
                """)
        }
        // Webhooks (SPEC §9): endpoints (the secret kept: it signs), the outbox of events (body made
        // once, so every retry posts the same bytes and id), one delivery per (endpoint, event),
        // delivered in event order per endpoint. Times to compare are unix seconds.
        migrator.registerMigration("v9-webhooks") { db in
            try db.execute(sql: """
                CREATE TABLE webhook_endpoints (
                    id          INTEGER PRIMARY KEY,
                    url         TEXT NOT NULL CHECK (url LIKE 'http://%' OR url LIKE 'https://%'),
                    secret      TEXT NOT NULL CHECK (secret <> ''),
                    events      TEXT NOT NULL,
                    territories TEXT NOT NULL DEFAULT '[]',
                    created_at  TEXT NOT NULL,
                    removed_at  TEXT
                );
                CREATE TABLE webhook_events (
                    seq        INTEGER PRIMARY KEY,
                    id         TEXT NOT NULL UNIQUE,
                    type       TEXT NOT NULL,
                    territory  TEXT,
                    created_at TEXT NOT NULL,
                    body       TEXT NOT NULL
                );
                CREATE TABLE webhook_deliveries (
                    endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints(id),
                    event_seq        INTEGER NOT NULL REFERENCES webhook_events(seq),
                    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
                    attempts         INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at  REAL NOT NULL,
                    first_attempt_at REAL,
                    last_attempt_at  TEXT,
                    last_status      INTEGER,
                    last_error       TEXT,
                    PRIMARY KEY (endpoint_id, event_seq)
                ) WITHOUT ROWID;
                CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries(status, endpoint_id, event_seq);
                """)
        }
        migrator.registerMigration("v10-score-ranks") { db in
            // The Data API's rank order as a table of its own, filled in rank order once a run's
            // scores are written (appends), instead of the index scores_by_rank, whose inserts in
            // key order land on random pages: 1.5-2.5 s of a 1M-home score run, the part of the
            // index written after the page cache filled taking twice as long as the first.
            // rank 0: a home on the market (no rank). Filled from the index before it goes.
            try db.execute(sql: """
                CREATE TABLE score_ranks (
                    run_id      INTEGER NOT NULL REFERENCES score_runs(id),
                    rank        INTEGER NOT NULL,
                    property_id TEXT NOT NULL,
                    PRIMARY KEY (run_id, rank, property_id)
                ) WITHOUT ROWID;
                INSERT INTO score_ranks (run_id, rank, property_id)
                    SELECT run_id, coalesce(rank, 0), property_id FROM scores ORDER BY run_id, coalesce(rank, 0), property_id;
                DROP INDEX scores_by_rank;
                """)
        }
        migrator.registerMigration("v11-campaign-holdouts") { db in
            // Measured campaigns (SPEC §11): the history keeps each prospect's home as it was at the
            // export (results count homes, and a prospect may later move) and whether the prospect
            // was held out as the campaign's control group instead of contacted. An export records
            // the holdout it drew (percent, seed). Older rows take their home from the prospects.
            try db.execute(sql: """
                ALTER TABLE contact_history ADD COLUMN property_id TEXT;
                ALTER TABLE contact_history ADD COLUMN held_out INTEGER NOT NULL DEFAULT 0 CHECK (held_out IN (0, 1));
                UPDATE contact_history SET property_id = (SELECT p.property_id FROM prospects p WHERE p.prospect_id = contact_history.prospect_id);
                ALTER TABLE exports ADD COLUMN holdout_percent INTEGER CHECK (holdout_percent > 0 AND holdout_percent < 100);
                ALTER TABLE exports ADD COLUMN holdout_seed INTEGER;
                ALTER TABLE exports ADD COLUMN held_out INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX exports_by_campaign ON exports(campaign, id);
                """)
        }
        return migrator
    }
}
