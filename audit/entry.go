package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
)

// Entry is one stored decision record: the record's canonical JSON (what
// the hash chain covers) plus the columns queries filter on, which are
// derived from the JSON and re-derived by Verify, so editing a column is
// detected as well as editing the record.
type Entry struct {
	// Seq is the record's position in its service's chain (from 1).
	Seq int64
	// PrevHash is the chain hash of the previous record ("" for the first).
	PrevHash string
	// Hash is the chain hash up to and including this record.
	Hash string
	// Data is the record's canonical JSON.
	Data []byte
	Index
}

// Index holds the queryable columns of an entry.
type Index struct {
	DecisionID   string
	Service      string
	Time         time.Time
	SubjectID    string
	ResourceType string
	ResourceID   string
	Action       string
	Decision     string
	Revision     int64
}

// Attribute ids the index recognises, from the XACML profiles and the
// AuthZEN mapping (DESIGN.md contract 3).
var (
	subjectIDs    = []string{"urn:oasis:names:tc:xacml:1.0:subject:subject-id", "id", "sub"}
	resourceIDs   = []string{"urn:oasis:names:tc:xacml:1.0:resource:resource-id", "id"}
	resourceTypes = []string{"type"}
	actionIDs     = []string{"urn:oasis:names:tc:xacml:1.0:action:action-id", "name", "id"}
)

// NewEntry parses a record as published and returns its entry with the
// canonical JSON (encoding/json's: struct field order, sorted map keys)
// that the chain hashes, so that equal records hash equally whoever
// serialised them.
func NewEntry(data []byte) (Entry, error) {
	r, err := decodeRecord(data)
	if err != nil {
		return Entry{}, err
	}
	if r.DecisionID == "" || r.Service == "" {
		return Entry{}, fmt.Errorf("%w: decision id and service are required", ErrBadRecord)
	}
	canon, err := json.Marshal(r)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	return Entry{Data: canon, Index: indexOf(r)}, nil
}

// Record decodes the entry's record.
func (e Entry) Record() (decisionlog.Record, error) {
	return decodeRecord(e.Data)
}

// decodeRecord parses a record keeping JSON numbers (PIP values) as
// json.Number: decoding them as float64 would lose large integers and
// turn integers into doubles, and replay must see the values the PDP saw.
func decodeRecord(data []byte) (decisionlog.Record, error) {
	var r decisionlog.Record
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	if dec.More() {
		return r, fmt.Errorf("%w: data after the record", ErrBadRecord)
	}
	return r, nil
}

func indexOf(r decisionlog.Record) Index {
	return Index{
		DecisionID:   r.DecisionID,
		Service:      r.Service,
		Time:         r.Time.UTC(),
		SubjectID:    first(r.Request, pdp.CategorySubject, subjectIDs),
		ResourceType: first(r.Request, pdp.CategoryResource, resourceTypes),
		ResourceID:   first(r.Request, pdp.CategoryResource, resourceIDs),
		Action:       first(r.Request, pdp.CategoryAction, actionIDs),
		Decision:     string(r.Effect),
		Revision:     int64(r.Revision),
	}
}

// first returns the first value of the first attribute of cat named by one
// of ids, in the order of ids.
func first(attrs []pdp.Attribute, cat string, ids []string) string {
	for _, id := range ids {
		for _, a := range attrs {
			if a.Category == cat && a.ID == id && len(a.Values) > 0 {
				return a.Values[0].Lexical
			}
		}
	}
	return ""
}
