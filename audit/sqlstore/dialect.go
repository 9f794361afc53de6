package sqlstore

import (
	"strconv"
	"strings"
)

// dialect is what differs between SQLite and PostgreSQL.
type dialect struct {
	name string
	// numbered placeholders ($1) instead of ?.
	numbered bool
	// lockService serialises appends to one service's chain across
	// processes; empty when the database serialises writers anyway.
	lockService string
}

var (
	sqliteDialect   = dialect{name: "sqlite"}
	postgresDialect = dialect{name: "postgres", numbered: true, lockService: `SELECT pg_advisory_xact_lock(hashtext(?))`}
)

// rebind turns ? placeholders into the dialect's.
func (d dialect) rebind(q string) string {
	if !d.numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// schema creates the table and the indexes queries use: time, subject,
// resource, action, decision, service and revision, each with time for
// newest-first paging.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS decisions (
		decision_id   TEXT PRIMARY KEY,
		service       TEXT NOT NULL,
		seq           BIGINT NOT NULL,
		prev_hash     TEXT NOT NULL,
		hash          TEXT NOT NULL,
		time_ns       BIGINT NOT NULL,
		subject_id    TEXT NOT NULL,
		resource_type TEXT NOT NULL,
		resource_id   TEXT NOT NULL,
		action        TEXT NOT NULL,
		decision      TEXT NOT NULL,
		revision      BIGINT NOT NULL,
		data          TEXT NOT NULL,
		UNIQUE (service, seq)
	)`,
	`CREATE INDEX IF NOT EXISTS decisions_time ON decisions (time_ns, decision_id)`,
	`CREATE INDEX IF NOT EXISTS decisions_service ON decisions (service, time_ns)`,
	`CREATE INDEX IF NOT EXISTS decisions_subject ON decisions (subject_id, time_ns)`,
	`CREATE INDEX IF NOT EXISTS decisions_resource ON decisions (resource_type, resource_id, time_ns)`,
	`CREATE INDEX IF NOT EXISTS decisions_action ON decisions (action, time_ns)`,
	`CREATE INDEX IF NOT EXISTS decisions_decision ON decisions (decision, time_ns)`,
	`CREATE INDEX IF NOT EXISTS decisions_revision ON decisions (service, revision, time_ns)`,
	`CREATE TABLE IF NOT EXISTS tombstones (
		service    TEXT NOT NULL,
		first_seq  BIGINT NOT NULL,
		last_seq   BIGINT NOT NULL,
		last_hash  TEXT NOT NULL,
		time_ns    BIGINT NOT NULL,
		key_id     TEXT NOT NULL,
		signature  TEXT NOT NULL,
		PRIMARY KEY (service, first_seq)
	)`,
}

// Rebind rewrites a query written with ? placeholders for s's database,
// for tools and tests that issue raw SQL.
func Rebind(s *Store, q string) string { return s.d.rebind(q) }
