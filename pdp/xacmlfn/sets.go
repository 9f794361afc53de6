package xacmlfn

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
)

// bag is a read-only view of a Rego array (or set) holding an XACML bag. It
// is a struct rather than an interface so that the element loop on the hot
// path makes direct, inlinable calls.
type bag struct {
	arr   *ast.Array
	terms []*ast.Term
}

func (b bag) Len() int {
	if b.arr != nil {
		return b.arr.Len()
	}
	return len(b.terms)
}

func (b bag) Elem(i int) *ast.Term {
	if b.arr != nil {
		return b.arr.Elem(i)
	}
	return b.terms[i]
}

// bagOf accepts an array, the contract's representation of a bag, and, for
// robustness, a set.
func bagOf(v ast.Value) (bag, error) {
	switch x := v.(type) {
	case *ast.Array:
		return bag{arr: x}, nil
	case ast.Set:
		return bag{terms: x.Slice()}, nil
	}
	return bag{}, fmt.Errorf("%w: bag (array) expected, got %s", ErrType, ast.ValueName(v))
}

// indexThreshold is the number of pairwise comparisons above which set
// functions index a bag by canonical key instead: keys cost a parse and an
// allocation per element, pairwise equality costs a parse per comparison.
const indexThreshold = 64

// membership answers "is v in this bag?" under XACML equality for one type,
// by scanning small bags and by canonical key for large ones.
type membership struct {
	lib  *library
	dt   dtype
	bag  bag
	keys map[string]struct{}
}

func (l *library) newMembership(dt dtype, b bag, probes int) (*membership, error) {
	m := &membership{lib: l, dt: dt, bag: b}
	if b.Len()*probes <= indexThreshold {
		return m, nil
	}
	m.keys = make(map[string]struct{}, b.Len())
	for i := 0; i < b.Len(); i++ {
		k, err := l.key(dt, b.Elem(i).Value)
		if err != nil {
			return nil, err
		}
		m.keys[k] = struct{}{}
	}
	return m, nil
}

func (m *membership) contains(v ast.Value) (bool, error) {
	if m.keys != nil {
		k, err := m.lib.key(m.dt, v)
		if err != nil {
			return false, err
		}
		_, ok := m.keys[k]
		return ok, nil
	}
	return m.lib.isIn(m.dt, v, m.bag)
}

// isIn is XACML <type>-is-in: v equals some value of the bag.
func (l *library) isIn(dt dtype, v ast.Value, b bag) (bool, error) {
	switch dt {
	case tString:
		// The common case on the hot path: plain string equality.
		s, ok := v.(ast.String)
		if !ok {
			return false, typeError(dt, v)
		}
		for i := 0; i < b.Len(); i++ {
			e, ok := b.Elem(i).Value.(ast.String)
			if !ok {
				return false, typeError(dt, b.Elem(i).Value)
			}
			if e == s {
				return true, nil
			}
		}
		return false, nil
	case tTime, tDate, tDateTime:
		return l.calendarIn(dt, v, b)
	}
	for i := 0; i < b.Len(); i++ {
		eq, err := l.equal(dt, v, b.Elem(i).Value)
		if err != nil {
			return false, err
		}
		if eq {
			return true, nil
		}
	}
	return false, nil
}

// calendarIn is isIn for date and time types, parsing v once.
func (l *library) calendarIn(dt dtype, v ast.Value, b bag) (bool, error) {
	s, ok := v.(ast.String)
	if !ok {
		return false, typeError(dt, v)
	}
	c, err := parseCalendar(dt, string(s))
	if err != nil {
		return false, err
	}
	want := c.instant(dt, l.implicitTZ)
	for i := 0; i < b.Len(); i++ {
		e, ok := b.Elem(i).Value.(ast.String)
		if !ok {
			return false, typeError(dt, b.Elem(i).Value)
		}
		ce, err := parseCalendar(dt, string(e))
		if err != nil {
			return false, err
		}
		if ce.instant(dt, l.implicitTZ).compare(want) == 0 {
			return true, nil
		}
	}
	return false, nil
}

// accumulator collects distinct values (under XACML equality) in first-seen
// order, for intersection and union results.
type accumulator struct {
	seen  *membership
	terms []*ast.Term
}

func (l *library) newAccumulator(dt dtype, capacity int) *accumulator {
	a := &accumulator{terms: make([]*ast.Term, 0, capacity)}
	a.seen = &membership{lib: l, dt: dt, bag: bag{}}
	if capacity*capacity > indexThreshold {
		a.seen.keys = make(map[string]struct{}, capacity)
	}
	return a
}

func (a *accumulator) add(t *ast.Term) error {
	if a.seen.keys != nil {
		k, err := a.seen.lib.key(a.seen.dt, t.Value)
		if err != nil {
			return err
		}
		if _, dup := a.seen.keys[k]; dup {
			return nil
		}
		a.seen.keys[k] = struct{}{}
		a.terms = append(a.terms, t)
		return nil
	}
	if len(a.terms) == 0 {
		// Later values are validated by comparing them with this one.
		if _, err := a.seen.lib.key(a.seen.dt, t.Value); err != nil {
			return err
		}
	}
	dup, err := a.seen.lib.isIn(a.seen.dt, t.Value, bag{terms: a.terms})
	if err != nil || dup {
		return err
	}
	a.terms = append(a.terms, t)
	return nil
}

func (a *accumulator) result() *ast.Term {
	return ast.ArrayTerm(a.terms...)
}

// intersection is XACML <type>-intersection: the distinct values of a that
// are also in b, in a's order.
func (l *library) intersection(dt dtype, a, b bag) (*ast.Term, error) {
	in, err := l.newMembership(dt, b, a.Len())
	if err != nil {
		return nil, err
	}
	acc := l.newAccumulator(dt, min(a.Len(), b.Len()))
	for i := 0; i < a.Len(); i++ {
		t := a.Elem(i)
		ok, err := in.contains(t.Value)
		if err != nil {
			return nil, err
		}
		if ok {
			if err := acc.add(t); err != nil {
				return nil, err
			}
		}
	}
	return acc.result(), nil
}

// union is XACML 3.0 <type>-union, which takes two or more bags: the
// distinct values of all of them, in first-seen order.
func (l *library) union(dt dtype, bags []bag) (*ast.Term, error) {
	total := 0
	for _, b := range bags {
		total += b.Len()
	}
	acc := l.newAccumulator(dt, total)
	for _, b := range bags {
		for i := 0; i < b.Len(); i++ {
			if err := acc.add(b.Elem(i)); err != nil {
				return nil, err
			}
		}
	}
	return acc.result(), nil
}

// subset is XACML <type>-subset: every value of a is in b (duplicates do
// not matter).
func (l *library) subset(dt dtype, a, b bag) (bool, error) {
	in, err := l.newMembership(dt, b, a.Len())
	if err != nil {
		return false, err
	}
	for i := 0; i < a.Len(); i++ {
		ok, err := in.contains(a.Elem(i).Value)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// atLeastOne is XACML <type>-at-least-one-member-of: some value of a is in b.
func (l *library) atLeastOne(dt dtype, a, b bag) (bool, error) {
	in, err := l.newMembership(dt, b, a.Len())
	if err != nil {
		return false, err
	}
	for i := 0; i < a.Len(); i++ {
		ok, err := in.contains(a.Elem(i).Value)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// setEquals is XACML <type>-set-equals: each bag is a subset of the other.
func (l *library) setEquals(dt dtype, a, b bag) (bool, error) {
	ok, err := l.subset(dt, a, b)
	if err != nil || !ok {
		return false, err
	}
	return l.subset(dt, b, a)
}
