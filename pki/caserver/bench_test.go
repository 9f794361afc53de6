package caserver_test

import (
	"bytes"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/caclient"
)

func ocspBench(b *testing.B) (*http.Client, string, []byte) {
	f := newFixture(b)
	leaf := f.issue(b, "bench", ca.ProfilePeer, 0).Leaf()
	req, err := ocsp.CreateRequest(leaf, f.ca.Issuer(), nil)
	if err != nil {
		b.Fatal(err)
	}
	anon, err := caclient.New(f.srv.URL(), caclient.WithBundle(f.ca.Bundle()))
	if err != nil {
		b.Fatal(err)
	}
	return anon.HTTPClient(), f.srv.URL() + "/ocsp", req
}

func postOCSP(b *testing.B, c *http.Client, url string, req []byte) time.Duration {
	start := time.Now()
	resp, err := c.Post(url, "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		b.Error(err)
		return 0
	}
	body := readAll(b, resp)
	if len(body) < 100 {
		b.Errorf("short OCSP response (%d bytes)", len(body))
	}
	return time.Since(start)
}

// BenchmarkOCSP sends OCSP POSTs over HTTPS on loopback as fast as 8
// concurrent clients can, and reports latency percentiles.
func BenchmarkOCSP(b *testing.B) {
	c, url, req := ocspBench(b)
	var (
		mu  sync.Mutex
		lat []time.Duration
	)
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var local []time.Duration
		for pb.Next() {
			local = append(local, postOCSP(b, c, url, req))
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	b.ReportMetric(float64(percentile(lat, 50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 99).Microseconds())/1000, "p99-ms")
}

// BenchmarkOCSPAt1000rps paces requests at 1,000 per second (the issue's
// load point) and reports the latency percentiles; each op is one request
// slot of 1 ms.
func BenchmarkOCSPAt1000rps(b *testing.B) {
	c, url, req := ocspBench(b)
	var (
		mu  sync.Mutex
		lat = make([]time.Duration, 0, b.N)
		wg  sync.WaitGroup
	)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for range b.N {
		<-tick.C
		wg.Go(func() {
			d := postOCSP(b, c, url, req)
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
		})
	}
	wg.Wait()
	b.ReportMetric(float64(percentile(lat, 50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 99).Microseconds())/1000, "p99-ms")
}
