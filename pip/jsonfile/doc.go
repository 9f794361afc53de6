// Package jsonfile is a policy information point over a JSON file: the
// json-file PIP of Verdict's pdp configuration (DESIGN.md, contract 2).
//
// The file is one JSON object mapping a key value to an object of
// attributes:
//
//	{
//	  "alice": {"email": "alice@example.com", "roles": ["admin"], "level": 3, "budget": 27.50},
//	  "bob":   {"email": "bob@example.com", "roles": ["viewer"]}
//	}
//
// Configured with a key attribute (for example the access-subject's "id"),
// the provider looks up the request's value of that attribute among the
// file's keys and returns each property of the matching object as an
// attribute of the key's category, typed as everywhere in Verdict
// (pip.FromJSON): JSON string → string, boolean → bool, integer → int64,
// other number → json.Number (an xs:double that prints back as written,
// "27.50" stays "27.50"), array → bag of its elements, null → no value.
// Properties whose value is an object (no XACML type) are skipped and
// logged. An unknown key is an empty answer, not an error.
//
// The provider implements pip.Lister (the entities in key order, for the
// AuthZEN search APIs) and pip.Describer (the key attribute and the
// attribute ids the file holds). It notices when the file changes (checked
// at most once per reload interval, during a fetch) and reloads it; a file
// that no longer parses is logged and the last good content kept, so a
// half-written file never empties the PIP.
package jsonfile
