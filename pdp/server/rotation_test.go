package server_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/verdict-authz/verdict/integration/mtlstest"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// rotationPlan is how many rotations the test makes and how far apart:
// a few seconds in go test, minutes with VERDICT_LONG=1.
func rotationPlan() (int, time.Duration) {
	if os.Getenv("VERDICT_LONG") == "1" {
		return 200, 500 * time.Millisecond
	}
	return 10, 150 * time.Millisecond
}

// load counts requests made by the load generator; failures keep their
// first errors.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	errs       []string
}

func (l *load) record(ctx context.Context, what string, err error) {
	switch {
	case err == nil:
		l.ok.Add(1)
	case ctx.Err() != nil:
		// The test is ending: requests cut by it do not count.
	default:
		l.failed.Add(1)
		l.mu.Lock()
		if len(l.errs) < 10 {
			l.errs = append(l.errs, what+": "+err.Error())
		}
		l.mu.Unlock()
	}
}

// TestRotationUnderLoad rotates the PDP's server certificate and its
// client's certificate 10 times (short-lived certificates from the CA)
// while goroutines make AuthZEN and gRPC requests over kept-alive and new
// connections: no request may fail.
func TestRotationUnderLoad(t *testing.T) {
	rotations, every := rotationPlan()
	authority := mtlstest.NewCA(t)
	p := startMTLS(t, authority)
	clientSrc := authority.SourceOf(t, authority.SVID(t, "orders", time.Minute))
	clientCfg := clientTLS(clientSrc, &mtlstest.Logs{})

	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var l load
	var wg sync.WaitGroup
	worker := func(what string, call func(context.Context) error) {
		wg.Go(func() {
			for ctx.Err() == nil {
				l.record(ctx, what, call(ctx))
			}
		})
	}
	keptHTTP := tlsconfig.HTTPClient(clientSrc, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(pdpID)), tlsconfig.WithLogger(p.logs.Logger()))
	defer keptHTTP.CloseIdleConnections()
	// net/http and gRPC adjust the configurations they are given: each
	// client gets its own.
	newHTTP := &http.Client{Transport: &http.Transport{TLSClientConfig: clientCfg.Clone(), DisableKeepAlives: true, ForceAttemptHTTP2: true}}
	httpCall := func(c *http.Client) func(context.Context) error {
		return func(ctx context.Context) error {
			resp, err := c.Do(newPost(t, p.base+"/access/v1/evaluation", evaluationBody).WithContext(ctx))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %s", resp.Status)
			}
			return nil
		}
	}
	keptGRPC := verdictv1.NewDecisionServiceClient(dialMTLS(t, p.grpcAddr, clientCfg.Clone()))
	grpcCreds := credentials.NewTLS(clientCfg.Clone())
	newGRPC := func(ctx context.Context) error {
		cc, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(grpcCreds))
		if err != nil {
			return err
		}
		defer cc.Close()
		return grpcEvaluate(ctx, verdictv1.NewDecisionServiceClient(cc))
	}
	for range 2 {
		worker("http kept-alive", httpCall(keptHTTP))
		worker("http new connection", httpCall(newHTTP))
		worker("grpc kept-alive", func(ctx context.Context) error { return grpcEvaluate(ctx, keptGRPC) })
		worker("grpc new connection", newGRPC)
	}

	var lastServer string
	for range rotations {
		time.Sleep(every)
		server, client := authority.SVID(t, "pdp", time.Minute), authority.SVID(t, "orders", time.Minute)
		p.src.Set(server, nil)
		clientSrc.Set(client, nil)
		lastServer = mtlstest.Serial(server)
	}
	time.Sleep(every)
	stop()
	wg.Wait()

	t.Logf("%d rotations, %d requests, %d failed", rotations, l.ok.Load(), l.failed.Load())
	if n := l.failed.Load(); n > 0 {
		t.Fatalf("%d requests failed during rotations; first errors:\n%v", n, l.errs)
	}
	if l.ok.Load() < int64(rotations) {
		t.Fatalf("only %d requests made: the load generator did not run", l.ok.Load())
	}

	// The rotations took effect: a new connection sees the last server
	// certificate.
	conn, err := tls.Dial("tcp", p.grpcAddr, clientCfg.Clone())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := fmt.Sprintf("%x", conn.ConnectionState().PeerCertificates[0].SerialNumber); got != lastServer {
		t.Fatalf("a new connection sees server serial %s, want the last rotated %s", got, lastServer)
	}
}
