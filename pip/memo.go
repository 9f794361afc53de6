package pip

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Memo is the memory of one decision: the engine creates one per decision
// (NewMemo) and sends every PIP fetch through it, so that
//
//   - the same fetch (source, category, key, attribute) happens once per
//     decision, even when several expressions, or several goroutines,
//     need it at the same time, and every expression sees the same answer
//     (a failure included: it is not retried within the decision);
//   - values are normalized (Normalize) before the engine sees them;
//   - the decision log can record what was fetched (Records).
//
// A Memo is safe for concurrent use. A nil *Memo fetches directly, with
// neither memoisation nor records.
type Memo struct {
	mu sync.Mutex
	// entries is searched linearly: a decision makes a handful of
	// fetches, for which a slice is cheaper than a map.
	entries []memoSlot
	records []Record
}

type memoSlot struct {
	k memoKey
	e *memoEntry
}

type memoKey struct {
	source, category, key, attribute string
	all                              bool
}

type memoEntry struct {
	// finished is set, under Memo.mu, when the fetch is over; done is
	// created (under Memo.mu) only when someone has to wait for it, which
	// a decision evaluated by one goroutine never does.
	finished bool
	done     chan struct{}
	bag      []any
	// single is {attribute: bag} (nil when bag is empty), the answer to a
	// one-attribute query, shared by every later ask.
	single Values
	all    Values
	err    error
}

// Record is one fetch made during a decision, for the decision log.
type Record struct {
	// Source is the Source.Name asked.
	Source string `json:"source"`
	// Category and Key identify the entity.
	Category string `json:"category"`
	Key      string `json:"key"`
	// Attributes are the attribute ids asked; nil means all.
	Attributes []string `json:"attributes,omitempty"`
	// Values are the values obtained (normalized; json.Number doubles
	// marshal back to their lexical form).
	Values Values `json:"values,omitempty"`
	// Err is the failure, if the fetch failed; Error is its text, for
	// serialisation.
	Err   error  `json:"-"`
	Error string `json:"error,omitempty"`
	// Duration is how long the fetch took.
	Duration time.Duration `json:"duration_ns"`
}

// NewMemo returns an empty memo for one decision. It allocates nothing
// more until the first fetch, so decisions that need no PIP pay almost
// nothing for it.
func NewMemo() *Memo {
	return &Memo{}
}

// entry returns the entry for k, creating it (and reporting created) when
// there is none and create is set. m.mu is held.
func (m *Memo) entry(k memoKey, create bool) (e *memoEntry, created bool) {
	for i := range m.entries {
		if m.entries[i].k == k {
			return m.entries[i].e, false
		}
	}
	if !create {
		return nil, false
	}
	e = &memoEntry{}
	m.entries = append(m.entries, memoSlot{k: k, e: e})
	return e, true
}

// finish marks e as fetched and wakes its waiters.
func (m *Memo) finish(e *memoEntry) {
	m.mu.Lock()
	e.finished = true
	if e.done != nil {
		close(e.done)
	}
	m.mu.Unlock()
}

// wait blocks until e is fetched or ctx ends.
func (m *Memo) wait(ctx context.Context, src Source, e *memoEntry) error {
	m.mu.Lock()
	if e.finished {
		m.mu.Unlock()
		return nil
	}
	if e.done == nil {
		e.done = make(chan struct{})
	}
	done := e.done
	m.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("pip source %s: waiting for a fetch: %w", src.Name, context.Cause(ctx))
	}
}

type memoContextKey struct{}

// ContextWithMemo returns a context carrying m, so that code reached only
// through a context (such as a Rego builtin) can find the decision's memo.
func ContextWithMemo(ctx context.Context, m *Memo) context.Context {
	return context.WithValue(ctx, memoContextKey{}, m)
}

// MemoFromContext returns the memo ContextWithMemo stored, or nil (which
// Memo's methods accept: direct fetches, no records).
func MemoFromContext(ctx context.Context) *Memo {
	m, _ := ctx.Value(memoContextKey{}).(*Memo)
	return m
}

// Records returns the fetches made so far, in the order they completed.
func (m *Memo) Records() []Record {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Record(nil), m.records...)
}

// Fetch asks src for q, unless this memo already has (or is getting) the
// answer. The result may hold attributes that were not asked for (when the
// whole entity was fetched earlier in the decision); look up the ones you
// asked. It is shared and must not be modified.
func (m *Memo) Fetch(ctx context.Context, src Source, q Query) (Values, error) {
	if src.Provider == nil {
		return nil, fmt.Errorf("%w: source %q has no provider", ErrInvalidSource, src.Name)
	}
	if m == nil {
		vals, _, err := fetchOnce(ctx, src, q)
		if err != nil {
			return nil, err
		}
		return asked(vals, q.Attributes), nil
	}
	if len(q.Attributes) == 0 {
		return m.fetchAll(ctx, src, q)
	}
	if len(q.Attributes) == 1 {
		return m.fetchOne(ctx, src, q)
	}

	type wait struct {
		attribute string
		e         *memoEntry
	}
	var (
		lead  []string
		mine  []*memoEntry
		waits []wait
	)
	allKey := memoKey{source: src.Name, category: q.Category, key: q.Key, all: true}
	m.mu.Lock()
	allEntry, _ := m.entry(allKey, false)
	for _, a := range q.Attributes {
		k := memoKey{source: src.Name, category: q.Category, key: q.Key, attribute: a}
		e, _ := m.entry(k, false)
		switch {
		case e != nil:
			waits = append(waits, wait{a, e})
		case allEntry != nil:
			waits = append(waits, wait{a, allEntry})
		default:
			e, _ = m.entry(k, true)
			lead = append(lead, a)
			mine = append(mine, e)
		}
	}
	m.mu.Unlock()

	out := make(Values, len(q.Attributes))
	var leadErr error
	if len(lead) > 0 {
		// Fetch what this call leads before waiting on others, so that two
		// calls leading each other's attributes cannot deadlock.
		sub := Query{Category: q.Category, Key: q.Key, Attributes: lead}
		vals, err := m.lead(ctx, src, sub, func(vals Values, err error) Values {
			for i, e := range mine {
				e.err = err
				if err == nil {
					e.bag = vals[lead[i]]
					if len(e.bag) > 0 {
						e.single = Values{lead[i]: e.bag}
					}
				}
				m.finish(e)
			}
			return asked(vals, lead)
		})
		leadErr = err
		for _, a := range lead {
			if bag := vals[a]; len(bag) > 0 {
				out[a] = bag
			}
		}
	}
	for _, w := range waits {
		if err := m.wait(ctx, src, w.e); err != nil {
			return nil, err
		}
		if w.e.err != nil {
			return nil, w.e.err
		}
		bag := w.e.bag
		if w.e.all != nil {
			bag = w.e.all[w.attribute]
		}
		if len(bag) > 0 {
			out[w.attribute] = bag
		}
	}
	if leadErr != nil {
		return nil, leadErr
	}
	return out, nil
}

// fetchOne handles a query for one attribute, the engine's usual
// question, without allocating once the answer is known.
func (m *Memo) fetchOne(ctx context.Context, src Source, q Query) (Values, error) {
	e, err := m.fetchEntry(ctx, src, q.Category, q.Key, q.Attributes[0], q.Attributes)
	if err != nil {
		return nil, err
	}
	if e.all != nil {
		return e.all, nil
	}
	return e.single, nil
}

// FetchAttribute returns the bag of one attribute of the entity key of
// category from src, through the memo like Fetch; the engine's question,
// answered without allocating once the answer is known. The bag is shared
// and must not be modified. A nil *Memo fetches directly.
func (m *Memo) FetchAttribute(ctx context.Context, src Source, category, key, attribute string) ([]any, error) {
	if m == nil {
		vals, err := m.Fetch(ctx, src, Query{Category: category, Key: key, Attributes: []string{attribute}})
		return vals[attribute], err
	}
	if src.Provider == nil {
		return nil, fmt.Errorf("%w: source %q has no provider", ErrInvalidSource, src.Name)
	}
	e, err := m.fetchEntry(ctx, src, category, key, attribute, nil)
	if err != nil {
		return nil, err
	}
	if e.all != nil {
		return e.all[attribute], nil
	}
	return e.bag, nil
}

// fetchEntry finds, or fetches as the leader, the memo entry answering
// attribute (or the whole entity's entry, when fetched earlier). attrs is
// the query's attribute list when the caller has one.
func (m *Memo) fetchEntry(ctx context.Context, src Source, category, key, attribute string, attrs []string) (*memoEntry, error) {
	k := memoKey{source: src.Name, category: category, key: key, attribute: attribute}
	m.mu.Lock()
	e, _ := m.entry(k, false)
	if e == nil {
		e, _ = m.entry(memoKey{source: src.Name, category: category, key: key, all: true}, false)
	}
	led := false
	if e == nil {
		e, led = m.entry(k, true)
	}
	m.mu.Unlock()
	if led {
		if attrs == nil {
			attrs = []string{attribute}
		}
		q := Query{Category: category, Key: key, Attributes: attrs}
		_, err := m.lead(ctx, src, q, func(vals Values, err error) Values {
			e.err = err
			if err == nil {
				e.bag = vals[attribute]
				switch {
				case len(e.bag) == 0:
				case len(vals) == 1:
					e.single = vals // already exactly {a: bag}, as a cache hit returns
				default:
					e.single = Values{attribute: e.bag}
				}
			}
			m.finish(e)
			return e.single
		})
		if err != nil {
			return nil, err
		}
		return e, nil
	}
	if err := m.wait(ctx, src, e); err != nil {
		return nil, err
	}
	if e.err != nil {
		return nil, e.err
	}
	return e, nil
}

// fetchAll handles a query for every attribute of the entity.
func (m *Memo) fetchAll(ctx context.Context, src Source, q Query) (Values, error) {
	k := memoKey{source: src.Name, category: q.Category, key: q.Key, all: true}
	m.mu.Lock()
	e, led := m.entry(k, true)
	m.mu.Unlock()
	if led {
		_, err := m.lead(ctx, src, Query{Category: q.Category, Key: q.Key}, func(vals Values, err error) Values {
			e.err = err
			if err == nil {
				if vals == nil {
					vals = Values{}
				}
				e.all = vals
			}
			m.finish(e)
			return e.all
		})
		if err != nil {
			return nil, err
		}
		return e.all, nil
	}
	if err := m.wait(ctx, src, e); err != nil {
		return nil, err
	}
	return e.all, e.err
}

// lead performs a fetch this call is responsible for, publishes the
// outcome to waiters through settle and records it, with the values settle
// returns (those asked for).
func (m *Memo) lead(ctx context.Context, src Source, q Query, settle func(Values, error) Values) (Values, error) {
	vals, took, err := fetchOnce(ctx, src, q)
	recorded := settle(vals, err)
	r := Record{Source: src.Name, Category: q.Category, Key: q.Key, Attributes: q.Attributes, Values: recorded, Err: err, Duration: took}
	if err != nil {
		r.Error = err.Error()
	}
	m.mu.Lock()
	m.records = append(m.records, r)
	m.mu.Unlock()
	return vals, err
}

// fetchOnce calls the provider, turning a panic into a failure and
// normalizing the answer.
func fetchOnce(ctx context.Context, src Source, q Query) (vals Values, took time.Duration, err error) {
	start := time.Now()
	defer func() {
		took = time.Since(start)
		if v := recover(); v != nil {
			vals, err = nil, fmt.Errorf("pip source %s: %w: %v", src.Name, ErrProviderPanic, v)
		}
	}()
	vals, err = src.Provider.Fetch(ctx, q)
	if err != nil {
		return nil, 0, fmt.Errorf("pip source %s: %w", src.Name, err)
	}
	vals, err = NormalizeValues(vals)
	if err != nil {
		return nil, 0, fmt.Errorf("pip source %s: %w", src.Name, err)
	}
	return vals, 0, nil
}

// asked returns the attributes of vals named in ids (all of vals when ids
// is empty), so that a record shows what the decision asked for and not
// everything a provider returned with it.
func asked(vals Values, ids []string) Values {
	if len(ids) == 0 || vals == nil {
		return vals
	}
	out := make(Values, len(ids))
	for _, id := range ids {
		if bag := vals[id]; len(bag) > 0 {
			out[id] = bag
		}
	}
	return out
}
