package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/server"
)

const benchBody = `{"subject":{"type":"user","id":"alice"},"action":{"name":"write"},"resource":{"type":"record","id":"record-2","properties":{"status":"archived"}}}`

// BenchmarkEvaluationHandler measures the AuthZEN handler without the
// network: JSON decoding, mapping, the engine and encoding.
func BenchmarkEvaluationHandler(b *testing.B) {
	set := testPIPs(b)
	srv, err := server.New(testEngine(b, set), server.WithInsecurePlaintext())
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, server.PathEvaluation, strings.NewReader(benchBody))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}

// BenchmarkEngineOnly is the same decision asked of the engine directly,
// the floor the handler is compared with.
func BenchmarkEngineOnly(b *testing.B) {
	e := testEngine(b, testPIPs(b))
	str := func(s string) pdp.Value { return pdp.Value{Type: "string", Lexical: s, Untyped: true} }
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := &pdp.Request{}
			req.Add(pdp.CategorySubject, "type", str("user"))
			req.Add(pdp.CategorySubject, "id", str("alice"))
			req.Add(pdp.CategoryAction, "name", str("write"))
			req.Add(pdp.CategoryResource, "type", str("record"))
			req.Add(pdp.CategoryResource, "id", str("record-2"))
			req.Add(pdp.CategoryResource, "status", str("archived"))
			if _, err := e.Decide(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
