package sqlstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verdict-authz/verdict/audit/sqlstore"
	"github.com/verdict-authz/verdict/audit/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		s, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "audit.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return storetest.Harness{Store: s, Exec: func(ctx context.Context, q string, args ...any) error {
			_, err := s.DB().ExecContext(ctx, q, args...)
			return err
		}}
	})
}

func TestPostgres(t *testing.T) {
	dsn := os.Getenv("VERDICT_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("VERDICT_TEST_POSTGRES_DSN is not set: no PostgreSQL server to test against")
	}
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		var b [6]byte
		_, _ = rand.Read(b[:])
		schema := "audit_test_" + hex.EncodeToString(b[:])
		s, err := sqlstore.OpenPostgres(t.Context(), dsn, schema)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = s.Close()
			ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 10*time.Second)
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
		return storetest.Harness{Store: s, Exec: func(ctx context.Context, q string, args ...any) error {
			_, err := s.DB().ExecContext(ctx, sqlstore.Rebind(s, q), args...)
			return err
		}}
	})
}
