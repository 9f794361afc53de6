package http

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pip"
)

var (
	_ pip.Provider  = (*Provider)(nil)
	_ pip.Describer = (*Provider)(nil)
)

var subjectID = pip.AttributeRef{Category: pip.CategoryAccessSubject, ID: "id"}

// users is what the test endpoint serves, as raw JSON per key.
var users = map[string]string{
	"alice": `{"roles": ["admin", "editor"], "budget": 27.50, "level": 3, "active": true, "manager": null}`,
	"empty": `{}`,
}

// endpoint is a service-owned PIP endpoint as the protocol describes it;
// it checks every request and counts them.
type endpoint struct {
	t     *testing.T
	calls atomic.Int64
	// last is the last request body decoded.
	last atomic.Pointer[request]
}

func (e *endpoint) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	e.calls.Add(1)
	if r.Method != nethttp.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		nethttp.Error(w, "want a JSON POST", nethttp.StatusMethodNotAllowed)
		return
	}
	if r.Header.Get("Authorization") != "Bearer s3cret" {
		nethttp.Error(w, "unauthorized", nethttp.StatusUnauthorized)
		return
	}
	var req request
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		nethttp.Error(w, err.Error(), nethttp.StatusBadRequest)
		return
	}
	e.last.Store(&req)
	switch req.Key {
	case "slow":
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	case "broken":
		nethttp.Error(w, "database unavailable", nethttp.StatusServiceUnavailable)
		return
	case "redirect":
		nethttp.Redirect(w, r, "http://example.com/", nethttp.StatusTemporaryRedirect)
		return
	case "huge":
		body := fmt.Sprintf(`{"blob": %q}`, strings.Repeat("x", 2048))
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		io.WriteString(w, body)
		return
	case "huge-chunked":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"blob": "`)
		w.(nethttp.Flusher).Flush() // no Content-Length: the limit must hold while reading
		io.WriteString(w, strings.Repeat("x", 2048)+`"}`)
		return
	case "not-json":
		io.WriteString(w, `<html>oops</html>`)
		return
	case "array":
		io.WriteString(w, `[1, 2]`)
		return
	case "trailing":
		io.WriteString(w, `{"a": 1} {"b": 2}`)
		return
	case "object-value":
		io.WriteString(w, `{"address": {"city": "Paris"}}`)
		return
	case "no-content":
		w.WriteHeader(nethttp.StatusNoContent)
		return
	}
	body, ok := users[req.Key]
	if !ok {
		nethttp.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, body)
}

// tlsServer starts a real TLS endpoint and returns a provider configured
// to trust it.
func tlsServer(t *testing.T, opts ...Option) (*Provider, *endpoint) {
	t.Helper()
	e := &endpoint{t: t}
	srv := httptest.NewUnstartedServer(e)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // clients that time out are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	opts = append([]Option{
		WithTLSConfig(&tls.Config{RootCAs: roots}),
		WithHeader("Authorization", "Bearer s3cret"),
		WithMaxResponseBytes(1024),
	}, opts...)
	p, err := New(srv.URL+"/pip/users", subjectID, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p, e
}

func TestFetchOverTLS(t *testing.T) {
	p, e := tlsServer(t)
	ctx := t.Context()
	got, err := p.Fetch(ctx, pip.Query{Category: pip.CategoryAccessSubject, Key: "alice", Attributes: []string{"roles", "budget", "missing", "manager"}})
	if err != nil {
		t.Fatal(err)
	}
	want := pip.Values{"roles": {"admin", "editor"}, "budget": {json.Number("27.50")}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
	last := e.last.Load()
	if last.Category != pip.CategoryAccessSubject || last.Key != "alice" || !reflect.DeepEqual(last.Attributes, []string{"roles", "budget", "missing", "manager"}) {
		t.Fatalf("the endpoint received %+v", last)
	}

	all, err := p.Fetch(ctx, pip.Query{Category: pip.CategoryAccessSubject, Key: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	wantAll := pip.Values{"roles": {"admin", "editor"}, "budget": {json.Number("27.50")}, "level": {int64(3)}, "active": {true}}
	if !reflect.DeepEqual(all, wantAll) {
		t.Fatalf("all = %#v, want %#v", all, wantAll)
	}
	if e.last.Load().Attributes != nil {
		t.Fatalf("a query for all attributes sent %v", e.last.Load().Attributes)
	}
}

func TestUnknownEntityIsEmptyNotAnError(t *testing.T) {
	p, _ := tlsServer(t)
	for _, key := range []string{"nobody", "empty", "no-content"} {
		got, err := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: key, Attributes: []string{"roles"}})
		if err != nil || len(got) != 0 {
			t.Errorf("%s: got %v, %v; want an empty answer", key, got, err)
		}
	}
}

func TestFailures(t *testing.T) {
	p, _ := tlsServer(t)
	tests := []struct {
		key  string
		want error
		text string
	}{
		{"broken", ErrStatus, "503 Service Unavailable"},
		{"redirect", ErrStatus, "307"},
		{"huge", ErrResponseTooLarge, "announced"},
		{"huge-chunked", ErrResponseTooLarge, "more than 1024 bytes"},
		{"not-json", ErrBadResponse, ""},
		{"array", ErrBadResponse, "want a JSON object"},
		{"trailing", ErrBadResponse, "data after"},
		{"object-value", pip.ErrInvalidValue, `"address"`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, err := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: tt.key})
			if !errors.Is(err, tt.want) || got != nil {
				t.Fatalf("got %v, %v; want a %v failure", got, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) || !strings.Contains(err.Error(), "https://127.0.0.1") {
				t.Fatalf("error %q lacks %q or the endpoint", err, tt.text)
			}
		})
	}
	if _, err := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryResource, Key: "alice"}); !errors.Is(err, pip.ErrWrongCategory) {
		t.Fatalf("wrong category: error = %v", err)
	}
}

func TestStatusErrorCarriesTheBody(t *testing.T) {
	p, _ := tlsServer(t, WithHeader("X-Unused", "1"))
	_, err := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: "broken"})
	if err == nil || !strings.Contains(err.Error(), "database unavailable") {
		t.Fatalf("error = %v, want the endpoint's message", err)
	}
}

func TestMissingCredentialsAreAFailure(t *testing.T) {
	e := &endpoint{t: t}
	srv := httptest.NewTLSServer(e)
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	p, err := New(srv.URL, subjectID, WithTLSConfig(&tls.Config{RootCAs: roots}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: "alice"}); !errors.Is(err, ErrStatus) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("error = %v, want a 401 status failure", err)
	}
}

func TestUntrustedServerIsAFailure(t *testing.T) {
	srv := httptest.NewUnstartedServer(&endpoint{t: t})
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	// A TLS configuration that trusts a different CA.
	p, err := New(srv.URL, subjectID, WithTLSConfig(&tls.Config{RootCAs: x509.NewCertPool()}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, err = p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: "alice"})
	var unknownAuthority x509.UnknownAuthorityError
	if !errors.As(err, &unknownAuthority) {
		t.Fatalf("error = %v, want a certificate verification failure", err)
	}
}

func TestTimeoutThroughPipWrapper(t *testing.T) {
	p, _ := tlsServer(t)
	wrapped := pip.Wrap(p, pip.WithTimeout(50*time.Millisecond), pip.WithBreaker(0, 0))
	// Warm the connection up, so that the timeout is the slow answer's and
	// not the handshake's.
	if _, err := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: "alice"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := wrapped.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: "slow"})
	if !errors.Is(err, pip.ErrTimeout) {
		t.Fatalf("error = %v, want pip.ErrTimeout", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("timed out after %s", took)
	}
	if d, ok := pip.As[pip.Describer](wrapped); !ok || d.Describe().Key != subjectID {
		t.Fatal("the description is not reachable through the wrappers")
	}
}

func TestConfigurationRefusals(t *testing.T) {
	tc := &tls.Config{}
	tests := []struct {
		name     string
		endpoint string
		opts     []Option
		insecure bool
	}{
		{"https without TLS config", "https://pip.example.com/users", nil, true},
		{"skip verify", "https://pip.example.com/users", []Option{WithTLSConfig(&tls.Config{InsecureSkipVerify: true})}, true},
		{"plain http without opt-out", "http://127.0.0.1:8080/users", nil, true},
		{"plain http to a remote IP", "http://10.0.0.1:8080/users", []Option{WithInsecureLoopbackPlaintext()}, true},
		{"plain http to a remote name", "http://pip.example.com/users", []Option{WithInsecureLoopbackPlaintext()}, true},
		{"plain http to a name ending in localhost", "http://localhost.example.com/users", []Option{WithInsecureLoopbackPlaintext()}, true},
		{"other scheme", "ftp://127.0.0.1/users", []Option{WithTLSConfig(tc)}, false},
		{"no host", "https:///users", []Option{WithTLSConfig(tc)}, false},
		{"credentials in URL", "https://user:pw@pip.example.com/", []Option{WithTLSConfig(tc)}, false},
		{"unparsable", "https://[::1", []Option{WithTLSConfig(tc)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.endpoint, subjectID, tt.opts...)
			if err == nil {
				p.Close()
				t.Fatal("accepted")
			}
			if errors.Is(err, ErrInsecure) != tt.insecure {
				t.Fatalf("error = %v; ErrInsecure expected: %v", err, tt.insecure)
			}
			if strings.Contains(err.Error(), "pw") {
				t.Fatalf("error leaks the URL password: %v", err)
			}
		})
	}
	if _, err := New("https://pip.example.com", pip.AttributeRef{ID: "id"}, WithTLSConfig(tc)); err == nil {
		t.Fatal("a key without category was accepted")
	}
	// Accepted: verified TLS, and loopback plaintext with the opt-out.
	for _, ok := range []struct {
		endpoint string
		opts     []Option
	}{
		{"https://pip.example.com/users", []Option{WithTLSConfig(tc)}},
		{"http://127.0.0.1:8080/users", []Option{WithInsecureLoopbackPlaintext()}},
		{"http://[::1]:8080/users", []Option{WithInsecureLoopbackPlaintext()}},
		{"http://localhost:8080/users", []Option{WithInsecureLoopbackPlaintext()}},
	} {
		p, err := New(ok.endpoint, subjectID, ok.opts...)
		if err != nil {
			t.Errorf("%s refused: %v", ok.endpoint, err)
			continue
		}
		p.Close()
	}
}

func TestTLSMinimumVersion(t *testing.T) {
	p, err := New("https://pip.example.com", subjectID, WithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS10}))
	if err != nil {
		t.Fatal(err)
	}
	if v := p.transport.TLSClientConfig.MinVersion; v != tls.VersionTLS12 {
		t.Fatalf("MinVersion = %x, want TLS 1.2", v)
	}
	if p.transport.Proxy != nil {
		t.Fatal("the transport uses a proxy")
	}
}

func TestLoopbackPlaintext(t *testing.T) {
	e := &endpoint{t: t}
	srv := httptest.NewServer(e) // plain http on 127.0.0.1
	defer srv.Close()
	p, err := New(srv.URL, subjectID, WithInsecureLoopbackPlaintext(), WithHeader("Authorization", "Bearer s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: "alice", Attributes: []string{"level"}})
	if err != nil || !reflect.DeepEqual(got, pip.Values{"level": {int64(3)}}) {
		t.Fatalf("got %v, %v", got, err)
	}
	// Close is idempotent, and the provider still works afterwards.
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: "alice"}); err != nil {
		t.Fatal(err)
	}
}

func TestLoopbackOnlyDialCheck(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:80", "[::1]:80", "127.9.9.9:1"} {
		if err := loopbackOnly("tcp", addr, syscall.RawConn(nil)); err != nil {
			t.Errorf("%s refused: %v", addr, err)
		}
	}
	for _, addr := range []string{"10.0.0.1:80", "[2001:db8::1]:80", "example.com:80", "nonsense"} {
		if err := loopbackOnly("tcp", addr, nil); !errors.Is(err, ErrInsecure) {
			t.Errorf("%s: error = %v, want ErrInsecure", addr, err)
		}
	}
	// Through a real dial: a listener on a non-loopback address of this
	// machine, if it has one, is refused before any byte is sent.
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.To4() == nil {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(ipn.IP.String(), "0"))
		if err != nil {
			continue
		}
		defer ln.Close()
		d := &net.Dialer{Control: loopbackOnly}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := d.DialContext(ctx, "tcp", ln.Addr().String()); !errors.Is(err, ErrInsecure) {
			t.Fatalf("dial to %s: error = %v, want ErrInsecure", ln.Addr(), err)
		}
		return
	}
	t.Log("no non-loopback IPv4 address to dial; checked the control function only")
}

func TestDescribe(t *testing.T) {
	p, err := New("https://pip.example.com", subjectID, WithTLSConfig(&tls.Config{}), WithAttributes("roles", "department"), WithCategory(pip.CategoryResource))
	if err != nil {
		t.Fatal(err)
	}
	d := p.Describe()
	if d.Key != subjectID || d.SuppliedCategory() != pip.CategoryResource || !reflect.DeepEqual(d.Attributes, []string{"roles", "department"}) {
		t.Fatalf("Describe = %+v", d)
	}
}

func TestConnectionRefusedIsAFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p, err := New("http://"+addr, subjectID, WithInsecureLoopbackPlaintext())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	got, err := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: "alice"})
	if err == nil || got != nil || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v, %v; want a connection-refused failure", got, err)
	}
}
