package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

// The AuthZEN responses are encoded by hand into pooled buffers: they are
// written for every request, and encoding/json's reflection and fresh
// buffers were a visible part of the cost of a decision served over HTTP.
// The output is byte for byte what json.Marshal gives for the same
// structs (encode_test.go checks it).

// appendJSONString appends s quoted as json.Marshal quotes it (with its
// HTML-safe escaping); strings that need any escaping are left to
// json.Marshal itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendEvaluationResponse appends r as json.Marshal(r) would.
func appendEvaluationResponse(b []byte, r *evaluationResponse) []byte {
	if r.Decision {
		b = append(b, `{"decision":true`...)
	} else {
		b = append(b, `{"decision":false`...)
	}
	if c := r.Context; c != nil {
		b = append(b, `,"context":`...)
		b = appendDecisionContext(b, c)
	}
	return append(b, '}')
}

// appendEvaluationsResponse appends r as json.Marshal(r) would.
func appendEvaluationsResponse(b []byte, r *evaluationsResponse) []byte {
	if r.Evaluations == nil {
		return append(b, `{"evaluations":null}`...)
	}
	b = append(b, `{"evaluations":[`...)
	for i := range r.Evaluations {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendEvaluationResponse(b, &r.Evaluations[i])
	}
	return append(b, "]}"...)
}

func appendDecisionContext(b []byte, c *decisionContext) []byte {
	b = append(b, '{')
	first := true
	field := func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
	}
	if c.DecisionID != "" {
		field("decision_id")
		b = appendJSONString(b, c.DecisionID)
	}
	if c.XACML != "" {
		field("xacml_decision")
		b = appendJSONString(b, c.XACML)
	}
	if c.Status != nil {
		field("status")
		b = append(b, `{"code":`...)
		b = appendJSONString(b, c.Status.Code)
		if c.Status.Message != "" {
			b = append(b, `,"message":`...)
			b = appendJSONString(b, c.Status.Message)
		}
		b = append(b, '}')
	}
	if len(c.ReasonAdmin) > 0 {
		field("reason_admin")
		b = appendStringMap(b, c.ReasonAdmin)
	}
	if len(c.Obligations) > 0 {
		field("obligations")
		b = appendObligations(b, c.Obligations)
	}
	if len(c.Advice) > 0 {
		field("advice")
		b = appendObligations(b, c.Advice)
	}
	if c.Revision != 0 {
		field("revision")
		b = strconv.AppendUint(b, c.Revision, 10)
	}
	if c.Error != nil {
		field("error")
		b = append(b, `{"status":`...)
		b = strconv.AppendInt(b, int64(c.Error.Status), 10)
		b = append(b, `,"message":`...)
		b = appendJSONString(b, c.Error.Message)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendStringMap appends m with its keys sorted, as json.Marshal does.
func appendStringMap(b []byte, m map[string]string) []byte {
	var small [4]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}')
}

func appendObligations(b []byte, obs []obligationJSON) []byte {
	b = append(b, '[')
	for i := range obs {
		o := &obs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendJSONString(b, o.ID)
		if len(o.Assignments) > 0 {
			b = append(b, `,"assignments":[`...)
			for j := range o.Assignments {
				a := &o.Assignments[j]
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"attribute_id":`...)
				b = appendJSONString(b, a.AttributeID)
				if a.Category != "" {
					b = append(b, `,"category":`...)
					b = appendJSONString(b, a.Category)
				}
				if a.Issuer != "" {
					b = append(b, `,"issuer":`...)
					b = appendJSONString(b, a.Issuer)
				}
				b = append(b, `,"data_type":`...)
				b = appendJSONString(b, a.DataType)
				b = append(b, `,"value":`...)
				b = appendJSONString(b, a.Value)
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// writeEvaluation writes an AuthZEN evaluation response.
func (s *Server) writeEvaluation(w http.ResponseWriter, r *evaluationResponse) {
	buf := s.buffers.get()
	defer s.buffers.put(buf)
	buf.Grow(512)
	b := appendEvaluationResponse(buf.AvailableBuffer(), r)
	writeBody(w, http.StatusOK, append(b, '\n'))
}

// writeEvaluations writes an AuthZEN evaluations (batch) response.
func (s *Server) writeEvaluations(w http.ResponseWriter, r *evaluationsResponse) {
	buf := s.buffers.get()
	defer s.buffers.put(buf)
	buf.Grow(len(r.Evaluations)*32 + 64)
	b := appendEvaluationsResponse(buf.AvailableBuffer(), r)
	writeBody(w, http.StatusOK, append(b, '\n'))
}

// writeBody writes an encoded JSON body (ending in a newline) with status.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
