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
                    property_type  TEXT CHECK (property_type IN ('SFR','CONDO','TOWNHOUSE','MULTI','MOBILE','OTHER')),
                    bedrooms       REAL CHECK (bedrooms >= 0),
                    bathrooms      REAL CHECK (bathrooms >= 0),
                    living_sqft    INTEGER CHECK (living_sqft >= 0),
                    lot_sqft       INTEGER CHECK (lot_sqft >= 0),
                    year_built     INTEGER,
                    assessed_value INTEGER CHECK (assessed_value >= 0),
                    owner_occupied INTEGER CHECK (owner_occupied IN (0, 1))
                ) WITHOUT ROWID;
                CREATE INDEX properties_by_zip ON properties(zip);
                CREATE INDEX properties_by_city ON properties(city);

                CREATE TABLE owners (
                    property_id      TEXT NOT NULL REFERENCES properties(property_id),
                    owner_since      TEXT NOT NULL CHECK (date(owner_since, '+0 days') IS owner_since),
                    owner_birth_year INTEGER,
                    absentee         INTEGER CHECK (absentee IN (0, 1)),
                    corporate        INTEGER CHECK (corporate IN (0, 1)),
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
                    do_not_mail      INTEGER NOT NULL DEFAULT 0 CHECK (do_not_mail IN (0, 1)),
                    do_not_email     INTEGER NOT NULL DEFAULT 0 CHECK (do_not_email IN (0, 1)),
                    do_not_call      INTEGER NOT NULL DEFAULT 0 CHECK (do_not_call IN (0, 1))
                ) WITHOUT ROWID;
                CREATE INDEX prospects_by_property ON prospects(property_id);

                -- An event is identified by all its fields (SPEC §1). Key columns cannot be NULL,
                -- so a missing amount is stored as -1 and a missing rate as -1.0 (amounts and
                -- rates are validated non-negative); EventRecord maps them back to nil.
                -- The key order makes this table the "events by property and date" index.
                CREATE TABLE events (
                    property_id TEXT NOT NULL REFERENCES properties(property_id),
                    event_date  TEXT NOT NULL CHECK (date(event_date, '+0 days') IS event_date),
                    event_type  TEXT NOT NULL CHECK (event_type IN ('LISTING','SALE','DELISTING','MORTGAGE','DEFAULT','VALUATION')),
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
        return migrator
    }
}
