package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pdp/server"
)

// TestOverloadMemoryBounded floods the server with far more concurrent
// clients than cores, mixing single evaluations, 1,000-item batches,
// oversized and malformed bodies, and samples the process's heap and RSS.
// The server must keep answering (200, 4xx, or 503 with Retry-After and a
// JSON error) and its heap must stay bounded. The short run takes a few
// seconds; VERDICT_LONG=1 runs the 60-second overload of issue 6 with
// 2,048 clients. Peaks are logged (go test -v) for bench/RESULTS.md; the
// clients run in the same process, so RSS includes them.
func TestOverloadMemoryBounded(t *testing.T) {
	// The short run uses small limits so that the refusal path is taken;
	// the long one measures the defaults.
	dur, clients := 3*time.Second, 256
	opts := []server.Option{server.WithMaxInFlight(16), server.WithMaxQueued(64), server.WithRequestTimeout(time.Second)}
	if os.Getenv("VERDICT_LONG") == "1" {
		dur, clients, opts = 60*time.Second, 2048, nil
	}
	// The GC settings of `verdict pdp serve`.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(1 << 30))

	r := start(t, opts...)
	item := `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1","properties":{"status":"archived","tags":["a","b"]}}}`
	var batch strings.Builder
	batch.WriteString(`{"evaluations":[`)
	for i := range server.DefaultMaxBatch {
		if i > 0 {
			batch.WriteByte(',')
		}
		batch.WriteString(item)
	}
	batch.WriteString(`]}`)
	type body struct{ path, body string }
	var bodies []body
	for range 16 {
		bodies = append(bodies, body{server.PathEvaluation, item})
	}
	bodies = append(bodies,
		body{server.PathEvaluations, batch.String()},
		body{server.PathEvaluation, `{"context":{"pad":"` + strings.Repeat("x", server.DefaultMaxRequestBytes) + `"}}`},
		body{server.PathEvaluation, `{"subject": `},
	)

	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()

	var statuses sync.Map // status -> *atomic.Int64
	count := func(code int) {
		c, _ := statuses.LoadOrStore(code, new(atomic.Int64))
		c.(*atomic.Int64).Add(1)
	}
	var bad atomic.Value // first unexpected answer
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; ctx.Err() == nil; i++ {
				b := bodies[i%len(bodies)]
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.base+b.path, strings.NewReader(b.body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					// A client starved past its timeout on the shared
					// cores is counted, not a failure: the server's answer
					// is what is checked.
					if ctx.Err() == nil {
						count(-1)
					}
					continue
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				count(resp.StatusCode)
				switch resp.StatusCode {
				case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
				case http.StatusServiceUnavailable:
					var e struct{ Error string }
					if json.Unmarshal(raw, &e) != nil || !(strings.Contains(e.Error, "overloaded") || strings.Contains(e.Error, "deadline exceeded")) || resp.Header.Get("Retry-After") == "" {
						bad.CompareAndSwap(nil, "503 without Retry-After or reason: "+string(raw))
					}
				default:
					bad.CompareAndSwap(nil, strconv.Itoa(resp.StatusCode)+": "+string(raw))
				}
			}
		}()
	}

	var peakHeap, peakRSS uint64
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
sampling:
	for {
		select {
		case <-ctx.Done():
			break sampling
		case <-tick.C:
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
			peakRSS = max(peakRSS, rss(t))
		}
	}
	wg.Wait()
	var summary []string
	statuses.Range(func(k, v any) bool {
		summary = append(summary, strconv.Itoa(k.(int))+"="+strconv.FormatInt(v.(*atomic.Int64).Load(), 10))
		return true
	})
	t.Logf("%d clients for %v: answers %s (-1: client timeouts); peak heap in use %d MiB, peak RSS %d MiB",
		clients, dur, strings.Join(summary, " "), peakHeap>>20, peakRSS>>20)
	if v := bad.Load(); v != nil {
		t.Fatalf("unexpected answer under overload: %.300s", v)
	}
	if ok, _ := statuses.Load(http.StatusOK); ok == nil {
		t.Fatal("no request succeeded under overload")
	}
	const limit = 1 << 30
	if peakHeap > limit {
		t.Fatalf("heap in use reached %d MiB under overload (limit %d MiB)", peakHeap>>20, limit>>20)
	}
	// The server is still serving once the flood ends.
	got := post(t, r.base+server.PathEvaluation, item, "Content-Type", "application/json")
	if got.status != http.StatusOK {
		t.Fatalf("after the overload: %d %s", got.status, got.raw)
	}
}

// rss is the process's resident set size (Linux /proc; 0 elsewhere).
func rss(t *testing.T) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmRSS:")); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(string(v)), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	return 0
}
