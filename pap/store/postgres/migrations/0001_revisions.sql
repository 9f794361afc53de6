-- Services and their head revision. Create advances head with a conditional
-- UPDATE, whose row lock serialises concurrent pushes to one service, so
-- that revision numbers are assigned without gaps.
CREATE TABLE services (
    name       text        NOT NULL PRIMARY KEY,
    head       bigint      NOT NULL CHECK (head > 0),
    updated_at timestamptz NOT NULL
);

-- Immutable revisions. seq orders changes across services and is the change
-- log's cursor.
CREATE TABLE revisions (
    seq            bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    service        text        NOT NULL REFERENCES services (name),
    revision       bigint      NOT NULL CHECK (revision > 0),
    parent         bigint      NOT NULL CHECK (parent = revision - 1),
    rollback_of    bigint      CHECK (rollback_of > 0 AND rollback_of < revision),
    root_policy_id text        NOT NULL,
    digest         text        NOT NULL,
    author         text        NOT NULL,
    message        text        NOT NULL,
    data           bytea,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (service, revision)
);

CREATE INDEX revisions_created_at ON revisions (created_at);
CREATE INDEX revisions_author ON revisions (author, seq);
CREATE INDEX revisions_service_seq ON revisions (service, seq);

-- The pushed policy files of each revision.
CREATE TABLE revision_sources (
    service  text   NOT NULL,
    revision bigint NOT NULL,
    name     text   NOT NULL,
    format   text   NOT NULL,
    content  bytea  NOT NULL,
    PRIMARY KEY (service, revision, name),
    FOREIGN KEY (service, revision) REFERENCES revisions (service, revision)
);

-- The compiled Rego modules of each revision.
CREATE TABLE revision_rego (
    service  text   NOT NULL,
    revision bigint NOT NULL,
    path     text   NOT NULL,
    source   text   NOT NULL,
    PRIMARY KEY (service, revision, path),
    FOREIGN KEY (service, revision) REFERENCES revisions (service, revision)
);
