package server_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/verdict-authz/verdict/pdp/server"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// BenchmarkLoad is the Go load client of bench/run.sh: concurrent callers
// (b.SetParallelism(32) per CPU) over real loopback connections, for the
// transports wrk cannot drive — gRPC DecisionService.Evaluate in plaintext
// and with mutual TLS — and AuthZEN over HTTPS with client certificates,
// with AuthZEN over plaintext HTTP as the reference. It reports decisions/s
// and the p50/p99 latency of a call:
//
//	go test -run '^$' -bench BenchmarkLoad -benchtime 10s ./pdp/server/
func BenchmarkLoad(b *testing.B) {
	pki := newTestPKI(b)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientCAs: pki.pool}
	clientTLS := &tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{pki.client}}
	grpcReq := &verdictv1.EvaluateRequest{
		Subject:  &verdictv1.Subject{Type: "user", Id: "alice"},
		Action:   &verdictv1.Action{Name: "read"},
		Resource: &verdictv1.Resource{Type: "record", Id: "record-1"},
	}
	grpcCall := func(b *testing.B, r *running, creds credentials.TransportCredentials) func(context.Context) error {
		cc, err := grpc.NewClient(r.grpcAddr, grpc.WithTransportCredentials(creds))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cc.Close() })
		c := verdictv1.NewDecisionServiceClient(cc)
		return func(ctx context.Context) error {
			res, err := c.Evaluate(ctx, grpcReq)
			if err == nil && !res.GetResult().GetAllowed() {
				b.Error("alice may read record-1")
			}
			return err
		}
	}
	const body = `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`
	httpCall := func(b *testing.B, url string, tc *tls.Config) func(context.Context) error {
		tr := &http.Transport{TLSClientConfig: tc, MaxIdleConnsPerHost: 256}
		b.Cleanup(tr.CloseIdleConnections)
		client := &http.Client{Transport: tr}
		return func(ctx context.Context) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+server.PathEvaluation, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			var buf [256]byte
			n, _ := resp.Body.Read(buf[:])
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(buf[:n]), `"decision":true`) {
				b.Errorf("status %d: %s", resp.StatusCode, buf[:n])
			}
			return nil
		}
	}
	for _, tc := range []struct {
		name string
		call func(b *testing.B) func(context.Context) error
	}{
		{"grpc-plaintext", func(b *testing.B) func(context.Context) error {
			return grpcCall(b, start(b), insecure.NewCredentials())
		}},
		{"grpc-mtls", func(b *testing.B) func(context.Context) error {
			r := startEngine(b, testEngine(b, testPIPs(b)), server.WithTLS(serverTLS))
			return grpcCall(b, r, credentials.NewTLS(clientTLS))
		}},
		{"authzen-http-plaintext", func(b *testing.B) func(context.Context) error {
			return httpCall(b, start(b).base, nil)
		}},
		{"authzen-https-mtls", func(b *testing.B) func(context.Context) error {
			r := startEngine(b, testEngine(b, testPIPs(b)), server.WithTLS(serverTLS))
			return httpCall(b, strings.Replace(r.base, "http://", "https://", 1), clientTLS)
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			call := tc.call(b)
			if err := call(context.Background()); err != nil { // connect, handshake
				b.Fatal(err)
			}
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(32)
			b.ResetTimer()
			startAt := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					t0 := time.Now()
					if err := call(context.Background()); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			elapsed := time.Since(startAt)
			b.StopTimer()
			if len(lat) == 0 {
				return
			}
			slices.Sort(lat)
			b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "decisions/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
