-- Services and their head revision. The head row is what Create locks and
-- advances, so that revision numbers are assigned without gaps.
CREATE TABLE services (
    name       TEXT    NOT NULL PRIMARY KEY,
    head       INTEGER NOT NULL CHECK (head > 0),
    updated_at INTEGER NOT NULL -- Unix microseconds, UTC
) STRICT;

-- Immutable revisions. seq orders changes across services and is the change
-- log's cursor; AUTOINCREMENT keeps it from ever being reused.
CREATE TABLE revisions (
    seq            INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    service        TEXT    NOT NULL REFERENCES services (name),
    revision       INTEGER NOT NULL CHECK (revision > 0),
    parent         INTEGER NOT NULL CHECK (parent = revision - 1),
    rollback_of    INTEGER CHECK (rollback_of > 0 AND rollback_of < revision),
    root_policy_id TEXT    NOT NULL,
    digest         TEXT    NOT NULL,
    author         TEXT    NOT NULL,
    message        TEXT    NOT NULL,
    data           BLOB,
    created_at     INTEGER NOT NULL, -- Unix microseconds, UTC
    UNIQUE (service, revision)
) STRICT;

CREATE INDEX revisions_created_at ON revisions (created_at);
CREATE INDEX revisions_author ON revisions (author, seq);
CREATE INDEX revisions_service_seq ON revisions (service, seq);

-- The pushed policy files of each revision.
CREATE TABLE revision_sources (
    service  TEXT    NOT NULL,
    revision INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    format   TEXT    NOT NULL,
    content  BLOB    NOT NULL,
    PRIMARY KEY (service, revision, name),
    FOREIGN KEY (service, revision) REFERENCES revisions (service, revision)
) STRICT;

-- The compiled Rego modules of each revision.
CREATE TABLE revision_rego (
    service  TEXT    NOT NULL,
    revision INTEGER NOT NULL,
    path     TEXT    NOT NULL,
    source   TEXT    NOT NULL,
    PRIMARY KEY (service, revision, path),
    FOREIGN KEY (service, revision) REFERENCES revisions (service, revision)
) STRICT;
