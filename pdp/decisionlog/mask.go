package decisionlog

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pip"
)

// MaskAction says what masking does to a field.
type MaskAction string

// The mask actions.
const (
	// MaskDrop removes the field from the record: for secrets (tokens)
	// that must never be stored.
	MaskDrop MaskAction = "drop"
	// MaskHash replaces each value by a keyed SHA-256 (HMAC) of it, so that
	// records can still be correlated (same email, same hash) without
	// revealing the value, and without a dictionary attack for whoever
	// lacks the key.
	MaskHash MaskAction = "hash"
)

// HashPrefix starts every hashed value, so that readers (and replay) can
// tell a hash from an original value.
const HashPrefix = "hmac-sha256:"

// ErrInvalidMask is returned for a masking rule that cannot be applied.
var ErrInvalidMask = errors.New("decisionlog: invalid masking rule")

// MaskedField names one field a Masker changed in a record.
type MaskedField struct {
	// Path is the rule's path, as configured.
	Path string `json:"path"`
	// Action is what was done to it.
	Action MaskAction `json:"action"`
}

// Rule masks one attribute. Path is "CATEGORY/ATTRIBUTE-ID", where
// CATEGORY is a full XACML category URI or one of the short names
// subject, resource, action and environment (e.g. "subject/email",
// "subject/token").
type Rule struct {
	Path   string
	Action MaskAction
}

// Masker applies one service's masking rules to records. It is safe for
// concurrent use.
type Masker struct {
	key   []byte
	rules map[attrKey]Rule
}

type attrKey struct{ category, id string }

var categoryAliases = map[string]string{
	"subject":     pdp.CategorySubject,
	"resource":    pdp.CategoryResource,
	"action":      pdp.CategoryAction,
	"environment": pdp.CategoryEnvironment,
}

// NewMasker validates rules and returns a Masker. key keys the hashes; it
// must be non-empty when any rule hashes, since unkeyed hashes of emails
// are reversible by guessing.
func NewMasker(key []byte, rules ...Rule) (*Masker, error) {
	m := &Masker{key: append([]byte(nil), key...), rules: make(map[attrKey]Rule, len(rules))}
	for _, r := range rules {
		cat, id, ok := strings.Cut(r.Path, "/")
		if !ok || cat == "" || id == "" {
			return nil, fmt.Errorf("%w: path %q is not CATEGORY/ATTRIBUTE-ID", ErrInvalidMask, r.Path)
		}
		if full, ok := categoryAliases[cat]; ok {
			cat = full
		}
		switch r.Action {
		case MaskDrop:
		case MaskHash:
			if len(key) == 0 {
				return nil, fmt.Errorf("%w: %q hashes but no key is configured", ErrInvalidMask, r.Path)
			}
		default:
			return nil, fmt.Errorf("%w: %q has unknown action %q", ErrInvalidMask, r.Path, r.Action)
		}
		m.rules[attrKey{cat, id}] = r
	}
	return m, nil
}

// Hash returns the keyed hash masking puts in place of value, so that an
// auditor holding the key can look up records about a known value.
func (m *Masker) Hash(value string) string {
	h := hmac.New(sha256.New, m.key)
	h.Write([]byte(value))
	return HashPrefix + hex.EncodeToString(h.Sum(nil))
}

// Apply masks r in place and records in r.Masked what it changed. It
// never mutates the slices and maps r shared with the engine: changed
// attributes and PIP values are copied first.
func (m *Masker) Apply(r *Record) {
	if m == nil || len(m.rules) == 0 {
		return
	}
	seen := map[string]bool{}
	note := func(rule Rule) {
		if !seen[rule.Path] {
			seen[rule.Path] = true
			r.Masked = append(r.Masked, MaskedField(rule))
		}
	}
	var attrs []pdp.Attribute
	changed := false
	for i, a := range r.Request {
		rule, ok := m.rules[attrKey{a.Category, a.ID}]
		if !ok {
			if changed {
				attrs = append(attrs, a)
			}
			continue
		}
		if !changed {
			changed = true
			attrs = append(make([]pdp.Attribute, 0, len(r.Request)), r.Request[:i]...)
		}
		note(rule)
		if rule.Action == MaskHash {
			a.Values = m.hashValues(a.Values)
			attrs = append(attrs, a)
		}
	}
	if changed {
		r.Request = attrs
	}
	var pips []pip.Record
	for i, p := range r.PIPValues {
		if vals, changed := m.maskPIPValues(p.Category, p.Values, note); changed {
			if pips == nil {
				pips = append([]pip.Record(nil), r.PIPValues...)
			}
			pips[i].Values = vals
		}
	}
	if pips != nil {
		r.PIPValues = pips
	}
}

func (m *Masker) maskPIPValues(category string, vals pip.Values, note func(Rule)) (pip.Values, bool) {
	var out pip.Values
	for id, bag := range vals {
		rule, ok := m.rules[attrKey{category, id}]
		if !ok {
			continue
		}
		if out == nil {
			out = maps.Clone(vals)
		}
		note(rule)
		if rule.Action == MaskDrop {
			delete(out, id)
			continue
		}
		hashed := make([]any, len(bag))
		for i, v := range bag {
			hashed[i] = m.Hash(fmt.Sprint(v))
		}
		out[id] = hashed
	}
	return out, out != nil
}

func (m *Masker) hashValues(vals []pdp.Value) []pdp.Value {
	out := make([]pdp.Value, len(vals))
	for i, v := range vals {
		out[i] = pdp.Value{Type: "string", Lexical: m.Hash(v.Lexical)}
	}
	return out
}
