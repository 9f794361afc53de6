package store

import "fmt"

// Page sizes bound how much one call reads, so that a listing can never load
// a whole history into memory.
const (
	// DefaultPageSize is used when PageOptions.Limit is 0.
	DefaultPageSize = 100
	// MaxPageSize is the largest accepted PageOptions.Limit.
	MaxPageSize = 1000
)

// PageOptions asks for one page of a newest-first listing.
type PageOptions struct {
	// Limit is the most items to return: 0 means DefaultPageSize; more
	// than MaxPageSize or negative is ErrInvalid.
	Limit int
	// Before is the cursor: only items whose cursor value (revision number
	// or change ID) is lower are returned; 0 starts from the newest. Pass
	// the previous page's Next.
	Before int64
}

// Size returns the effective page size, or ErrInvalid for an unusable
// request.
func (o PageOptions) Size() (int, error) {
	switch {
	case o.Limit < 0 || o.Limit > MaxPageSize:
		return 0, fmt.Errorf("%w: page limit %d is outside 0..%d", ErrInvalid, o.Limit, MaxPageSize)
	case o.Before < 0:
		return 0, fmt.Errorf("%w: page cursor %d is negative", ErrInvalid, o.Before)
	case o.Limit == 0:
		return DefaultPageSize, nil
	default:
		return o.Limit, nil
	}
}

// Page is one page of a newest-first listing.
type Page[T any] struct {
	// Items are the page's entries, newest first.
	Items []T
	// Next is the cursor for the following page (PageOptions.Before), 0
	// when this is the last page.
	Next int64
}
