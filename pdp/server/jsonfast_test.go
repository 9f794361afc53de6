package server

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// decodeStd is what the fast parser must agree with: encoding/json with
// UseNumber, one value, nothing after it.
func decodeStd(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err == nil || err.Error() != "EOF" {
		return nil, false
	}
	return v, true
}

var jsonCases = []string{
	`{}`, `[]`, `{"a":1}`, ` { "a" : [ 1 , 2.5 , -3e+2 , 0 , -0.0 , 1E5 ] } `,
	`{"subject":{"type":"user","id":"alice","properties":{"age":42,"ok":true,"no":false,"n":null}},"action":{"name":"read"}}`,
	`{"a":"caf\u00e9","b":"tab\there","c":"\ud83d\ude00","d":"quote\"back\\slash\/"}`,
	`{"a":"héllo","b":"\xff\xfe"}`, `{"dup":1,"dup":2}`, `{"a":{"b":{"c":[[],{},[{}]]}}}`,
	`"just a string"`, `123`, `true`, `null`, `[1,"x",{"y":[true]}]`,
	// Invalid: the fast parser must refuse every one of these.
	``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a":1 "b":2}`,
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":+1}`, `{"a":tru}`, `{"a":nul}`,
	`{"a":"x` + "\n" + `"}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"unterminated}`, `{"a":1}{}`, `{"a":1} x`,
	`{a:1}`, `{'a':1}`, `[` + strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10002), `{"a":"\`, `truex`, `{"a":true1}`,
	`{"a":NaN}`, `{"a":Infinity}`, `{"a":1e400}`, `{"a":"` + "\x01" + `"}`,
}

func TestParseJSONFastAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range jsonCases {
		want, wantOK := decodeStd([]byte(c))
		got, gotOK := parseJSONFast([]byte(c))
		if gotOK != wantOK {
			t.Errorf("%.60q: fast ok=%v, encoding/json ok=%v", c, gotOK, wantOK)
			continue
		}
		if gotOK && !reflect.DeepEqual(got, want) {
			t.Errorf("%.60q: fast %#v, encoding/json %#v", c, got, want)
		}
	}
}

func FuzzParseJSONFast(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gotOK := parseJSONFast(b)
		want, wantOK := decodeStd(b)
		if gotOK && (!wantOK || !reflect.DeepEqual(got, want)) {
			t.Fatalf("%q: fast %#v (ok), encoding/json %#v ok=%v", b, got, want, wantOK)
		}
	})
}

func TestEncodersAgreeWithEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", `q"uote`, `back\slash`, "<tag>&", "tab\tnl\n", "\x01ctl", "héllo", "\xff bad utf8", "\u2028sep", "\ufeff"}
	var resps []evaluationResponse
	resps = append(resps, evaluationResponse{Decision: true}, evaluationResponse{})
	for i, s := range strs {
		c := &decisionContext{
			DecisionID:  s,
			XACML:       "Deny",
			ReasonAdmin: map[string]string{"en": s, "de": "nein", s: "k"},
			Revision:    uint64(i),
		}
		if i%2 == 0 {
			c.Status = &statusJSON{Code: s}
			c.Obligations = []obligationJSON{{ID: s}, {ID: "o", Assignments: []assignmentJSON{{AttributeID: s, DataType: "t", Value: s}, {AttributeID: "a", Category: s, Issuer: s, DataType: s, Value: ""}}}}
		} else {
			c.Status = &statusJSON{Code: "c", Message: s}
			c.Advice = []obligationJSON{{ID: s, Assignments: []assignmentJSON{{AttributeID: "x", DataType: "y", Value: s}}}}
			c.Error = &itemError{Status: 400 + i, Message: s}
		}
		resps = append(resps, evaluationResponse{Decision: i%3 == 0, Context: c})
	}
	for _, r := range resps {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendEvaluationResponse(nil, &r); string(got) != string(want) {
			t.Errorf("evaluation:\n got %s\nwant %s", got, want)
		}
	}
	for _, batch := range []evaluationsResponse{{}, {Evaluations: []evaluationResponse{}}, {Evaluations: resps}} {
		want, _ := json.Marshal(batch)
		if got := appendEvaluationsResponse(nil, &batch); string(got) != string(want) {
			t.Errorf("evaluations:\n got %s\nwant %s", got, want)
		}
	}
	for _, s := range strs {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("string %q: got %s want %s", s, got, want)
		}
	}
}
