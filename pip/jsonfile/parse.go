package jsonfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/verdict-authz/verdict/pip"
)

// content is one parsed version of the file.
type content struct {
	entities map[string]pip.Values
	// keys are the entity keys, sorted, for listing.
	keys []string
	// attributes are the attribute ids found in any entity, sorted.
	attributes []string
	// skipped lists "key.attribute" for values that have no XACML type.
	skipped []string
}

// parse reads the file's JSON: one object of key → object of attributes.
func parse(r io.Reader) (*content, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid JSON: data after the top-level object")
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a JSON object of key → attributes, got %s", jsonKind(doc))
	}
	c := &content{entities: make(map[string]pip.Values, len(top)), keys: make([]string, 0, len(top))}
	seen := map[string]bool{}
	for key, v := range top {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("key %q: want an object of attributes, got %s", key, jsonKind(v))
		}
		vals := make(pip.Values, len(obj))
		for id, raw := range obj {
			bag, err := pip.FromJSON(raw)
			if err != nil {
				if errors.Is(err, pip.ErrInvalidValue) {
					c.skipped = append(c.skipped, key+"."+id)
					continue
				}
				return nil, fmt.Errorf("key %q attribute %q: %w", key, id, err)
			}
			if !seen[id] {
				seen[id] = true
				c.attributes = append(c.attributes, id)
			}
			if len(bag) > 0 {
				vals[id] = bag
			}
		}
		c.entities[key] = vals
		c.keys = append(c.keys, key)
	}
	sort.Strings(c.keys)
	sort.Strings(c.attributes)
	slices.Sort(c.skipped)
	return c, nil
}

// jsonKind names the JSON type of a decoded value, for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
