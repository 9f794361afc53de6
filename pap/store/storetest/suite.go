// Package storetest is the store.Store contract as a test suite. Every
// backend runs it from its own tests, so that the PAP can switch backends
// without noticing. It is test support: production code must not import
// it.
package storetest

import (
	"testing"

	"github.com/verdict-authz/verdict/pap/store"
)

// Run runs the whole suite. newStore must return a new, empty store for each
// call and close it when the test ends (t.Cleanup); the suite calls Close
// itself too, which stores must allow.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"CreateFirstRevision", testCreateFirstRevision},
		{"RevisionsAreNumberedInOrder", testRevisionsAreNumberedInOrder},
		{"CreateRefusesStaleParent", testCreateRefusesStaleParent},
		{"CreateRejectsInvalidDrafts", testCreateRejectsInvalidDrafts},
		{"CreateAcceptsEdgeServiceNames", testCreateAcceptsEdgeServiceNames},
		{"CreateWithCancelledContextStoresNothing", testCreateWithCancelledContextStoresNothing},
		{"Rollback", testRollback},
		{"ContentRoundTrip", testContentRoundTrip},
		{"StoredRevisionsAreImmutable", testStoredRevisionsAreImmutable},
		{"NotFoundAndInvalidLookups", testNotFoundAndInvalidLookups},
		{"Services", testServices},
		{"ListPages", testListPages},
		{"ChangeLogFilters", testChangeLogFilters},
		{"ChangeLogTimeRange", testChangeLogTimeRange},
		{"ChangeLogPages", testChangeLogPages},
		{"ChangeLogRejectsInvalidQueries", testChangeLogRejectsInvalidQueries},
		{"ConcurrentPushesGetGaplessNumbers", testConcurrentPushesGetGaplessNumbers},
		{"ConcurrentCreatesFromOneParentConflict", testConcurrentCreatesFromOneParentConflict},
		{"ConcurrentServicesDoNotInterfere", testConcurrentServicesDoNotInterfere},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newStore(t))
		})
	}
}
