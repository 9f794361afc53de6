package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"
)

// apiError is a request refused before any decision: the HTTP status and a
// message naming what was wrong, sent as {"error": msg}.
type apiError struct {
	status int
	msg    string
	// retryAfter asks the client to come back later (overload).
	retryAfter bool
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// readJSONObject reads a JSON object request body: Content-Type
// application/json, at most maxBytes, exactly one object.
func (s *Server) readJSONObject(w http.ResponseWriter, r *http.Request) (map[string]any, *apiError) {
	maxBytes := s.cfg.maxBytes
	if aerr := checkJSONContentType(r.Header.Get("Content-Type")); aerr != nil {
		return nil, aerr
	}
	buf := s.buffers.get()
	defer s.buffers.put(buf)
	if r.ContentLength > 0 && r.ContentLength <= maxBytes {
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxBytes)); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("request body exceeds the limit of %d bytes", maxBytes)}
		}
		return nil, badRequest("reading request body: %v", err)
	}
	body := buf.Bytes()
	// The fast parser returns only for valid JSON; everything else is
	// decoded again below for encoding/json's error message.
	if v, ok := parseJSONFast(body); ok {
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
	}
	return decodeJSONObject(body)
}

// checkJSONContentType accepts application/json and application/*+json.
func checkJSONContentType(ct string) *apiError {
	if ct == "" {
		return badRequest("Content-Type must be application/json (none given)")
	}
	if ct == "application/json" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))) {
		return badRequest("Content-Type must be application/json, not %q", ct)
	}
	return nil
}

// decodeJSONObject decodes body with encoding/json, for the messages of
// its errors.
func decodeJSONObject(body []byte) (map[string]any, *apiError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("request body is empty (want a JSON object)")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badRequest("malformed JSON: %s", jsonErrorText(err, dec.InputOffset()))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badRequest("malformed JSON: unexpected data after the top-level value at offset %d", dec.InputOffset())
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("request body must be a JSON object, got %s", jsonKind(v))
	}
	return m, nil
}

func jsonErrorText(err error, offset int64) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at offset %d", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Sprintf("unexpected end of input at offset %d", offset)
	}
	return err.Error()
}

// jsonKind names the JSON type of a decoded value for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// checkKnown refuses top-level members outside allowed (WithRejectUnknownFields).
func checkKnown(m map[string]any, allowed ...string) *apiError {
	var unknown []string
	for k := range m {
		found := false
		for _, a := range allowed {
			if k == a {
				found = true
				break
			}
		}
		if !found {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return badRequest("unknown field %q (this endpoint accepts %s)", unknown[0], strings.Join(allowed, ", "))
}

// stringMembers lists, per entity kind, the members that must be strings.
var stringMembers = map[string][]string{
	"subject":  {"type", "id"},
	"resource": {"type", "id"},
	"action":   {"name"},
}

// parseEntity checks and converts one entity; absent or null is nil.
func parseEntity(v any, kind, path string) (*entity, *apiError) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("%s must be an object, got %s", path, jsonKind(v))
	}
	// An entity without properties or null members is used as decoded,
	// without a copy (nothing downstream modifies it).
	plain := true
	for k, x := range m {
		if x == nil || k == "properties" {
			plain = false
			break
		}
	}
	e := &entity{fields: m}
	if !plain {
		e.fields = make(map[string]any, len(m))
	}
	for k, x := range m {
		if k == "properties" {
			if x == nil {
				continue
			}
			p, ok := x.(map[string]any)
			if !ok {
				return nil, badRequest("%s.properties must be an object, got %s", path, jsonKind(x))
			}
			e.props = p
			continue
		}
		if x == nil {
			continue
		}
		for _, sk := range stringMembers[kind] {
			if k == sk {
				if _, ok := x.(string); !ok {
					return nil, badRequest("%s.%s must be a string, got %s", path, k, jsonKind(x))
				}
			}
		}
		if !plain {
			e.fields[k] = x
		}
	}
	return e, nil
}

// parseContext checks a context member; absent or null is nil.
func parseContext(v any, path string) (map[string]any, *apiError) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("%s must be an object, got %s", path, jsonKind(v))
	}
	return m, nil
}

// parseEvaluation reads the 4-tuple members of m (a request body or a
// batch item); path prefixes field names in errors.
func parseEvaluation(m map[string]any, path string) (evaluation, *apiError) {
	var ev evaluation
	var err *apiError
	if ev.subject, err = parseEntity(m["subject"], "subject", path+"subject"); err != nil {
		return ev, err
	}
	if ev.action, err = parseEntity(m["action"], "action", path+"action"); err != nil {
		return ev, err
	}
	if ev.resource, err = parseEntity(m["resource"], "resource", path+"resource"); err != nil {
		return ev, err
	}
	if ev.context, err = parseContext(m["context"], path+"context"); err != nil {
		return ev, err
	}
	return ev, nil
}
