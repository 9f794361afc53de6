package sdk_test

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/sdk"
)

func str(s string) pdp.Value { return pdp.Value{Type: "string", Lexical: s, Untyped: true} }

// pathRequest asks for a route of testdata/routes.yaml by path.
func pathRequest(path string) *pdp.Request {
	req := &pdp.Request{}
	req.Add(pdp.CategoryResource, "path", str(path))
	return req
}

func mustNew(t *testing.T, opts ...sdk.Option) *sdk.PDP {
	t.Helper()
	p, err := sdk.New(t.Context(), append([]sdk.Option{sdk.WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestNewNeedsAPolicySource(t *testing.T) {
	_, err := sdk.New(t.Context())
	if !errors.Is(err, sdk.ErrNoPolicySource) {
		t.Fatalf("New() error = %v, want ErrNoPolicySource", err)
	}
	for name, opts := range map[string][]sdk.Option{
		"no service": {sdk.WithLastKnownGood(t.TempDir())},
		"no keys":    {sdk.WithLastKnownGood(t.TempDir()), sdk.WithService("routes")},
		"log buffer": {sdk.WithPolicy(routesPolicy(t)), sdk.WithDecisionLogBuffer(0)},
	} {
		if _, err := sdk.New(t.Context(), opts...); !errors.Is(err, sdk.ErrConfig) {
			t.Errorf("%s: New() error = %v, want ErrConfig", name, err)
		}
	}
}

func TestStaticPolicyDecides(t *testing.T) {
	p := mustNew(t, sdk.WithPolicy(routesPolicy(t)))
	for path, want := range map[string]pdp.Effect{
		"/files/public/a.txt": pdp.EffectPermit,
		"/files/secret/a.txt": pdp.EffectDeny,
	} {
		d, err := p.Decide(t.Context(), pathRequest(path))
		if err != nil || d.Effect != want {
			t.Errorf("Decide(%s) = %v, %v; want %s", path, d.Effect, err, want)
		}
	}
	if got := p.Policy(); got == nil || got.Service != "routes" {
		t.Errorf("Policy() = %v, want the routes policy", got)
	}
}

func TestNewBlocksUntilTheSourceActivates(t *testing.T) {
	release := make(chan struct{})
	src := newTestSource(release, routesPolicy(t))
	type result struct {
		p   *sdk.PDP
		err error
	}
	done := make(chan result, 1)
	go func() {
		p, err := sdk.New(t.Context(), sdk.WithBundleSource(src))
		done <- result{p, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("New returned before the first policy: %v, %v", r.p, r.err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.p.Close()
	if d, err := r.p.Decide(t.Context(), pathRequest("/files/public/x")); err != nil || d.Effect != pdp.EffectPermit {
		t.Fatalf("Decide = %v, %v", d.Effect, err)
	}
	if err := r.p.Close(); err != nil {
		t.Fatal(err)
	}
	if n := src.closes.Load(); n != 1 {
		t.Errorf("source closed %d times, want 1", n)
	}
}

func TestNewGivesUpWhenContextEnds(t *testing.T) {
	src := newTestSource(make(chan struct{}), routesPolicy(t))
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	p, err := sdk.New(ctx, sdk.WithBundleSource(src))
	if p != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("New() = %v, %v; want a deadline error", p, err)
	}
	if n := src.closes.Load(); n != 1 {
		t.Errorf("source closed %d times, want 1", n)
	}
	select {
	case <-src.returned:
	default:
		t.Error("New returned while the source's Start was still running")
	}
}

func TestNewRefusesASourceThatActivatesNothing(t *testing.T) {
	src := newTestSource(nil)
	_, err := sdk.New(t.Context(), sdk.WithBundleSource(src))
	if err == nil || !strings.Contains(err.Error(), "without activating a policy") {
		t.Fatalf("New() error = %v", err)
	}
	if src.closes.Load() != 1 {
		t.Error("source not closed")
	}
}

func TestNewBundleSourceAdapter(t *testing.T) {
	closed := make(chan struct{})
	src := sdk.NewBundleSource(func(ctx context.Context, e *pdp.Engine) (closerFunc, error) {
		if err := e.Activate(ctx, routesPolicy(t)); err != nil {
			return nil, err
		}
		return func() error { close(closed); return nil }, nil
	})
	p := mustNew(t, sdk.WithBundleSource(src))
	if p.Policy() == nil {
		t.Fatal("no active policy")
	}
	if err := src.Start(t.Context(), nil); err == nil {
		t.Error("second Start succeeded")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	default:
		t.Fatal("the adapted source was not closed")
	}
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// writeBundle signs p as revision rev of service and stores it as the
// last-known-good bundle in dir.
func writeBundle(t *testing.T, dir string, key *bundle.SigningKey, p *pdp.Policy, rev uint64) {
	t.Helper()
	data, err := p.BundleData()
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.New(bundle.Contents{
		Service: p.Service, Revision: rev, RootPolicyID: p.RootID, CreatedAt: time.Now(),
		Modules: p.Modules, Data: data,
	})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := b.Sign(key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signed.WriteFile(dir); err != nil {
		t.Fatal(err)
	}
}

func TestLastKnownGood(t *testing.T) {
	key, err := bundle.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	trust, err := bundle.NewTrustStore([]bundle.PublicKey{key.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeBundle(t, dir, key, routesPolicy(t), 7)

	t.Run("decides before the source answers", func(t *testing.T) {
		src := newTestSource(make(chan struct{}), routesPolicy(t)) // never releases
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		p, err := sdk.New(ctx, sdk.WithService("routes"), sdk.WithLastKnownGood(dir), sdk.WithTrustedKeys(trust), sdk.WithBundleSource(src))
		if err != nil {
			t.Fatal(err)
		}
		d, err := p.Decide(t.Context(), pathRequest("/files/public/x"))
		if err != nil || d.Effect != pdp.EffectPermit || d.Revision != 7 {
			t.Fatalf("Decide = %s rev %d, %v; want Permit from revision 7", d.Effect, d.Revision, err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-src.returned; !errors.Is(err, context.Canceled) && !errors.Is(err, errSourceClosed) {
			t.Errorf("background Start returned %v, want it stopped by Close", err)
		}
	})

	t.Run("refused when signed by an untrusted key", func(t *testing.T) {
		other, _ := bundle.GenerateSigningKey()
		otherTrust, _ := bundle.NewTrustStore([]bundle.PublicKey{other.PublicKey()})
		_, err := sdk.New(t.Context(), sdk.WithService("routes"), sdk.WithLastKnownGood(dir), sdk.WithTrustedKeys(otherTrust))
		if !errors.Is(err, bundle.ErrUnknownKey) {
			t.Fatalf("New() error = %v, want ErrUnknownKey", err)
		}
	})

	t.Run("missing file falls through to the source", func(t *testing.T) {
		src := newTestSource(nil, routesPolicy(t))
		p := mustNew(t, sdk.WithService("routes"), sdk.WithLastKnownGood(t.TempDir()), sdk.WithTrustedKeys(trust), sdk.WithBundleSource(src))
		if got := p.Policy().Revision; got != 1 {
			t.Errorf("active revision %d, want the source's 1", got)
		}
		_, err := sdk.New(t.Context(), sdk.WithService("routes"), sdk.WithLastKnownGood(t.TempDir()), sdk.WithTrustedKeys(trust))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("New() without a source = %v, want fs.ErrNotExist", err)
		}
	})
}

func TestFailClosed(t *testing.T) {
	p, err := sdk.New(t.Context(), sdk.WithPolicy(routesPolicy(t)))
	if err != nil {
		t.Fatal(err)
	}
	bad := &pdp.Request{}
	bad.Add(pdp.CategoryResource, "path", pdp.Value{Type: "integer", Lexical: "not a number"})
	cases := []struct {
		name   string
		req    *pdp.Request
		close  bool
		target error
		status string
	}{
		{"nil request", nil, false, pdp.ErrBadRequest, pdp.StatusSyntaxError},
		{"invalid value", bad, false, pdp.ErrBadRequest, pdp.StatusSyntaxError},
		{"after close", pathRequest("/files/public/x"), true, sdk.ErrClosed, pdp.StatusProcessingError},
	}
	for _, c := range cases {
		if c.close {
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		}
		d, err := p.Decide(t.Context(), c.req)
		if !errors.Is(err, c.target) {
			t.Errorf("%s: error = %v, want %v", c.name, err, c.target)
		}
		if d == nil || d.Effect != pdp.EffectDeny || d.Status.Code != c.status || !strings.Contains(d.Status.Message, "fail closed") || d.ID == "" {
			t.Errorf("%s: decision = %+v, want a Deny with status %s", c.name, d, c.status)
		}
	}
}

func TestCloseIsIdempotentAndRacesWithDecide(t *testing.T) {
	p, err := sdk.New(t.Context(), sdk.WithPolicy(routesPolicy(t)), sdk.WithDecisionLogger(discardLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				d, err := p.Decide(context.Background(), pathRequest("/files/public/x"))
				if d.Effect == pdp.EffectPermit && err != nil {
					t.Error("permit with an error")
				}
			}
		})
	}
	for range 3 {
		wg.Go(func() {
			if err := p.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if d, err := p.Decide(t.Context(), pathRequest("/files/public/x")); !errors.Is(err, sdk.ErrClosed) || d.Effect != pdp.EffectDeny {
		t.Fatalf("Decide after Close = %s, %v", d.Effect, err)
	}
}

type discardLogger struct{}

func (discardLogger) Log(context.Context, sdk.Record) {}

// recorder collects decision-log records.
type recorder struct {
	mu      sync.Mutex
	records []sdk.Record
	ctxs    []context.Context
	block   chan struct{}
}

func (r *recorder) Log(ctx context.Context, rec sdk.Record) {
	if r.block != nil {
		<-r.block
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
	r.ctxs = append(r.ctxs, ctx)
}

type traceKey struct{}

func TestDecisionLog(t *testing.T) {
	rec := &recorder{}
	p, err := sdk.New(t.Context(), sdk.WithPolicy(routesPolicy(t)), sdk.WithService("routes-svc"), sdk.WithDecisionLogger(rec))
	if err != nil {
		t.Fatal(err)
	}
	req := pathRequest("/audited")
	reqCtx, cancel := context.WithCancel(context.WithValue(t.Context(), traceKey{}, "trace-1"))
	d1, err := p.Decide(reqCtx, req)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	req.Attributes[0].Values[0].Lexical = "/changed-after-decide"
	d2, _ := p.Decide(t.Context(), nil)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if len(rec.records) != 2 {
		t.Fatalf("%d records, want 2", len(rec.records))
	}
	r1, r2 := rec.records[0], rec.records[1]
	if r1.DecisionID != d1.ID || r1.Effect != pdp.EffectPermit || r1.Service != "routes-svc" || r1.Revision != 1 {
		t.Errorf("record 1 = %+v", r1)
	}
	if len(r1.Obligations) != 1 || r1.Obligations[0].ID != "urn:example:obligation:audit" {
		t.Errorf("record 1 obligations = %+v", r1.Obligations)
	}
	if got := r1.Request[0].Values[0].Lexical; got != "/audited" {
		t.Errorf("record holds the caller's request, not a copy: path %q", got)
	}
	if r1.Latency <= 0 || r1.Time.IsZero() || r1.Error != "" {
		t.Errorf("record 1 latency %v time %v error %q", r1.Latency, r1.Time, r1.Error)
	}
	if rec.ctxs[0].Value(traceKey{}) != "trace-1" || rec.ctxs[0].Err() != nil {
		t.Errorf("logger context lost the request's values or kept its cancellation")
	}
	if r2.DecisionID != d2.ID || r2.Effect != pdp.EffectDeny || r2.Error == "" {
		t.Errorf("fail-closed record = %+v", r2)
	}
}

func TestDecisionLogNeverBlocksDecisions(t *testing.T) {
	reg := prometheus.NewRegistry()
	rec := &recorder{block: make(chan struct{})}
	p, err := sdk.New(t.Context(), sdk.WithPolicy(routesPolicy(t)), sdk.WithDecisionLogger(rec), sdk.WithDecisionLogBuffer(2), sdk.WithMetrics(reg))
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range n {
			_, _ = p.Decide(t.Context(), pathRequest("/files/public/x"))
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("decisions blocked behind a stuck decision logger")
	}
	dropped := counterValue(t, reg, "verdict_sdk_decision_log_dropped_total", nil)
	close(rec.block)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// One record may be with the logger, two queued: the rest dropped.
	if logged := len(rec.records); logged+int(dropped) != n || logged > 3 {
		t.Errorf("%d logged + %v dropped, want %d in all with at most 3 logged", logged, dropped, n)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	p, err := sdk.New(t.Context(), sdk.WithPolicy(routesPolicy(t)), sdk.WithMetrics(reg))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.New(t.Context(), sdk.WithPolicy(routesPolicy(t)), sdk.WithMetrics(reg)); !errors.Is(err, sdk.ErrConfig) {
		t.Errorf("second PDP on one registry: %v, want ErrConfig", err)
	}
	_, _ = p.Decide(t.Context(), pathRequest("/files/public/x"))
	_, _ = p.Decide(t.Context(), pathRequest("/nope"))
	_, _ = p.Decide(t.Context(), nil)
	if v := counterValue(t, reg, "verdict_sdk_decisions_total", map[string]string{"effect": "Permit"}); v != 1 {
		t.Errorf("permits = %v, want 1", v)
	}
	if v := counterValue(t, reg, "verdict_sdk_decisions_total", map[string]string{"effect": "Deny"}); v != 2 {
		t.Errorf("denies = %v, want 2", v)
	}
	if v := counterValue(t, reg, "verdict_sdk_fail_closed_total", map[string]string{"reason": "bad_request"}); v != 1 {
		t.Errorf("fail closed = %v, want 1", v)
	}
	if v := gaugeValue(t, reg, "verdict_sdk_policy_revision"); v != 1 {
		t.Errorf("revision gauge = %v, want 1", v)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p2, err := sdk.New(t.Context(), sdk.WithPolicy(routesPolicy(t)), sdk.WithMetrics(reg))
	if err != nil {
		t.Fatalf("New after Close on the same registry: %v", err)
	}
	_ = p2.Close()
}

func findMetric(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			return m
		}
	}
	return nil
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	if m := findMetric(t, reg, name, labels); m != nil {
		return m.GetCounter().GetValue()
	}
	return 0
}

func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	if m := findMetric(t, reg, name, nil); m != nil {
		return m.GetGauge().GetValue()
	}
	return -1
}
