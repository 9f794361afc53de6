package pip

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestTimeoutPassesAnswersThrough(t *testing.T) {
	p := NewTimeout(newRecorder(users()), time.Second)
	got, err := p.Fetch(t.Context(), Query{Category: CategoryAccessSubject, Key: "bob", Attributes: []string{"roles"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Values{"roles": {"viewer"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	boom := errors.New("backend down")
	failing := NewTimeout(ProviderFunc(func(context.Context, Query) (Values, error) { return nil, boom }), time.Second)
	if _, err := failing.Fetch(t.Context(), Query{}); !errors.Is(err, boom) || errors.Is(err, ErrTimeout) {
		t.Fatalf("error = %v, want the provider's error and not a timeout", err)
	}
}

func TestTimeoutFiresEvenWhenProviderIgnoresContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	stuck := ProviderFunc(func(context.Context, Query) (Values, error) {
		<-release // ignores ctx on purpose
		return Values{}, nil
	})
	p := NewTimeout(stuck, 20*time.Millisecond, WithName("users"))
	start := time.Now()
	_, err := p.Fetch(t.Context(), Query{Key: "alice"})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want ErrTimeout matching context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("timeout took %s", took)
	}
	if want := "pip users: pip fetch timed out after 20ms"; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Fatalf("error text %q does not start with %q", err, want)
	}
}

func TestTimeoutOfContextAwareProvider(t *testing.T) {
	aware := ProviderFunc(func(ctx context.Context, _ Query) (Values, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	_, err := NewTimeout(aware, 10*time.Millisecond).Fetch(t.Context(), Query{})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("error = %v, want ErrTimeout", err)
	}
}

func TestTimeoutCallerCancelIsNotATimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	started := make(chan struct{})
	p := NewTimeout(ProviderFunc(func(ctx context.Context, _ Query) (Values, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}), time.Minute)
	go func() { <-started; cancel() }()
	_, err := p.Fetch(ctx, Query{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("error = %v, want context.Canceled and not ErrTimeout", err)
	}
}

func TestTimeoutTurnsPanicIntoFailure(t *testing.T) {
	p := NewTimeout(ProviderFunc(func(context.Context, Query) (Values, error) { panic("bad provider") }), time.Second)
	_, err := p.Fetch(t.Context(), Query{})
	if !errors.Is(err, ErrProviderPanic) {
		t.Fatalf("error = %v, want ErrProviderPanic", err)
	}
}

func TestTimeoutDefaultAndUnwrap(t *testing.T) {
	inner := newRecorder(nil)
	p := NewTimeout(inner, 0)
	if p.(*timeout).d != DefaultTimeout {
		t.Fatalf("timeout = %s, want default %s", p.(*timeout).d, DefaultTimeout)
	}
	if got, ok := As[*recorder](p); !ok || got != inner {
		t.Fatal("As did not reach the wrapped provider")
	}
}
