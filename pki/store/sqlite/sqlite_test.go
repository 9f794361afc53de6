package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/verdict-authz/verdict/pki/store"
	"github.com/verdict-authz/verdict/pki/store/sqlite"
	"github.com/verdict-authz/verdict/pki/store/storetest"
)

func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "ca.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ca.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.InsertJoinToken(t.Context(), store.JoinToken{Hash: [32]byte{7}, Service: "x", Profile: "peer"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.InsertJoinToken(t.Context(), store.JoinToken{Hash: [32]byte{7}, Service: "x", Profile: "peer"}); err == nil {
		t.Fatal("token lost across reopen")
	}
}
