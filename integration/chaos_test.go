package integration

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// TestChaos kills a real nats-server process with SIGKILL and starts it
// again, several times, while revisions are pushed continuously; halfway
// through, the PAP dies between storing a revision and publishing it and
// is started again. Every PDP must end on the latest revision, and none
// may ever apply a revision twice or out of order.
//
// The short version (3 restarts) runs in `make test`; VERDICT_LONG=1
// (`make test-long`) runs 10.
func TestChaos(t *testing.T) {
	restarts := 3
	if os.Getenv("VERDICT_LONG") == "1" {
		restarts = 10
	}
	ns := startNATSProcess(t)
	p := startPAP(t, ns.url(), testStore(t, filepath.Join(t.TempDir(), "pap.db")))
	push(t, p, "chaos", "start")
	var pdps []*testPDP
	for i := range 3 {
		pdps = append(pdps, startPDP(t, ns.url(), p, "chaos", fmt.Sprintf("chaos-%d", i), t.TempDir()))
	}

	// A stream of pushes; some fail while NATS or the PAP is down, some
	// are stored but published only later by the reconciler.
	var stored, unpublished, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := p.client.Push(ctx, connect.NewRequest(&verdictv1.PushRequest{Service: "chaos", Sources: todoSources(t, fmt.Sprint("push ", i))}))
			cancel()
			switch {
			case err == nil:
				stored.Add(1)
			case connect.CodeOf(err) == connect.CodeUnavailable:
				unpublished.Add(1)
			default:
				failed.Add(1)
				time.Sleep(100 * time.Millisecond)
			}
			time.Sleep(30 * time.Millisecond)
		}
	}()

	for k := 1; k <= restarts; k++ {
		time.Sleep(time.Duration(300+mrand.IntN(400)) * time.Millisecond)
		ns.kill()
		time.Sleep(time.Duration(100+mrand.IntN(400)) * time.Millisecond)
		ns.start()
		t.Logf("nats-server restart %d/%d done", k, restarts)
		if k == (restarts+1)/2 {
			// The PAP stores a revision and dies before publishing it.
			p.crash.Store(true)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := p.client.Push(ctx, connect.NewRequest(&verdictv1.PushRequest{Service: "chaos", Sources: todoSources(t, "lost in the crash")}))
			cancel()
			if connect.CodeOf(err) != connect.CodeUnavailable {
				t.Fatalf("push during the crash = %v, want Unavailable (stored, not published)", err)
			}
			p.kill()
			p.crash.Store(false)
			p.start()
			t.Log("PAP killed and restarted")
		}
	}
	close(stop)
	wg.Wait()

	final := push(t, p, "chaos", "final")
	for _, d := range pdps {
		waitRevision(t, d, final.GetNumber(), 60*time.Second)
		if d.src.Revision() != uint64(final.GetNumber()) || d.src.Digest() != final.GetDigest() {
			t.Fatalf("PDP %s on %d %s, want %d %s", d.src.Instance(), d.src.Revision(), d.src.Digest(), final.GetNumber(), final.GetDigest())
		}
		applied := d.checkOrder(t, d.src.Instance())
		t.Logf("PDP %s applied %d revisions, last %d", d.src.Instance(), len(applied), applied[len(applied)-1])
	}
	t.Logf("%d restarts: %d pushes published at once, %d stored and published later, %d refused while the PAP or NATS was down; final revision %d",
		restarts, stored.Load(), unpublished.Load(), failed.Load(), final.GetNumber())
}
