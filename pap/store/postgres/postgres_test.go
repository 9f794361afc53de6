package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verdict-authz/verdict/pap/store"
	"github.com/verdict-authz/verdict/pap/store/postgres"
	"github.com/verdict-authz/verdict/pap/store/storetest"
)

const dsnEnv = "VERDICT_TEST_POSTGRES_DSN"

// testDSN returns the server to test against, or skips: the tests need a
// real PostgreSQL, which CI provides.
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skipf("%s is not set; set it to a PostgreSQL URL (CI uses postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the Postgres store tests", dsnEnv)
	}
	return dsn
}

// testSchema returns a schema name no other test uses and drops that
// schema when the test ends, so that tests can share one server.
func testSchema(t testing.TB, dsn string) string {
	t.Helper()
	var b [8]byte
	rand.Read(b[:])
	schema := "pap_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

func open(t testing.TB, dsn, schema string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn, postgres.WithSchema(schema))
	if err != nil {
		t.Fatalf("Open(schema %s): %v", schema, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func newStore(t testing.TB) *postgres.Store {
	dsn := testDSN(t)
	return open(t, dsn, testSchema(t, dsn))
}

func TestStore(t *testing.T) {
	testDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t) })
}

func BenchmarkStore(b *testing.B) {
	testDSN(b)
	storetest.Benchmark(b, func(b *testing.B) store.Store { return newStore(b) })
}

func draft(service string, parent int64) store.Draft {
	return store.Draft{
		Service: service,
		Parent:  parent,
		Content: store.Content{
			Sources:      []store.Source{{Name: "root.xml", Format: "xacml-xml", Content: []byte("<Policy/>")}},
			RootPolicyID: "root",
			Rego:         map[string]string{"root.rego": "package root\n"},
		},
		Author: "alice",
	}
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestReopenKeepsRevisionsAndMigratesOnce(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	first, err := postgres.Open(t.Context(), dsn, postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	created, err := first.Create(t.Context(), draft("orders", 0))
	if err != nil {
		t.Fatal(err)
	}
	first.Close()

	second := open(t, dsn, schema)
	got, err := second.Latest(t.Context(), "orders")
	if err != nil {
		t.Fatalf("Latest after reopening: %v", err)
	}
	if got.Number != 1 || got.Digest != created.Digest || !got.CreatedAt.Equal(created.CreatedAt) {
		t.Fatalf("after reopening, head = #%d %s %s, want #1 %s %s", got.Number, got.Digest, got.CreatedAt, created.Digest, created.CreatedAt)
	}
	var rows, versions int
	err = connect(t, dsn).QueryRow(t.Context(),
		`SELECT count(*), count(DISTINCT version) FROM `+pgx.Identifier{schema, "schema_migrations"}.Sanitize()).Scan(&rows, &versions)
	if err != nil {
		t.Fatal(err)
	}
	if rows == 0 || rows != versions {
		t.Fatalf("schema_migrations has %d rows for %d versions after two opens", rows, versions)
	}
}

// TestConcurrentOpensMigrateOnce is several PAPs starting at once on an
// empty schema: the advisory lock lets exactly one create it.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	const opens = 5
	var wg sync.WaitGroup
	errs := make([]error, opens)
	for i := range opens {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), dsn, postgres.WithSchema(schema))
			if err != nil {
				errs[i] = err
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	s := open(t, dsn, schema)
	if _, err := s.Create(t.Context(), draft("orders", 0)); err != nil {
		t.Fatalf("Create after concurrent opens: %v", err)
	}
}

func TestOpenRefusesUnknownOrEditedMigrations(t *testing.T) {
	dsn := testDSN(t)
	tests := map[string]string{
		"newer schema":     `INSERT INTO %s (version, name, checksum) VALUES (999, '0999_future.sql', 'x')`,
		"edited migration": `UPDATE %s SET checksum = 'edited' WHERE version = 1`,
	}
	for name, tamper := range tests {
		t.Run(name, func(t *testing.T) {
			schema := testSchema(t, dsn)
			s, err := postgres.Open(t.Context(), dsn, postgres.WithSchema(schema))
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			table := pgx.Identifier{schema, "schema_migrations"}.Sanitize()
			if _, err := connect(t, dsn).Exec(t.Context(), fmt.Sprintf(tamper, table)); err != nil {
				t.Fatal(err)
			}
			if s, err := postgres.Open(t.Context(), dsn, postgres.WithSchema(schema)); err == nil {
				s.Close()
				t.Fatal("Open succeeded on a schema it must refuse")
			}
		})
	}
}

func TestSchemasAreIsolated(t *testing.T) {
	dsn := testDSN(t)
	a := open(t, dsn, testSchema(t, dsn))
	b := open(t, dsn, testSchema(t, dsn))
	if _, err := a.Create(t.Context(), draft("orders", 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Latest(t.Context(), "orders"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Latest in another schema: error = %v, want ErrNotFound", err)
	}
	if _, err := b.Create(t.Context(), draft("orders", 0)); err != nil {
		t.Fatalf("first Create in another schema: %v", err)
	}
}

// TestOpenRejectsBadArguments needs no server: the schema name is checked
// before connecting, and the DSNs point nowhere.
func TestOpenRejectsBadArguments(t *testing.T) {
	const dsn = "postgres://127.0.0.1:1/none?connect_timeout=2"
	for _, schema := range []string{"", "Pap", "1pap", "pap-test", `pap"; DROP TABLE x; --`, "pap.test", "é", strings.Repeat("p", 64)} {
		if s, err := postgres.Open(t.Context(), dsn, postgres.WithSchema(schema)); !errors.Is(err, store.ErrInvalid) {
			if err == nil {
				s.Close()
			}
			t.Errorf("Open with schema %q: error = %v, want ErrInvalid", schema, err)
		}
	}
	if s, err := postgres.Open(t.Context(), dsn, postgres.WithSchema("pap")); err == nil {
		s.Close()
		t.Error("Open against a closed port succeeded")
	}
	if _, err := postgres.Open(t.Context(), "postgres://[::1", postgres.WithSchema("pap")); err == nil {
		t.Error("Open with a malformed DSN succeeded")
	}
}
