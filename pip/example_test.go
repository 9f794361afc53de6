package pip_test

import (
	"context"
	"fmt"
	"time"

	"github.com/verdict-authz/verdict/pip"
)

// A service exposes its user store as a PIP; the engine routes "subject
// roles" to it and fetches once per decision.
func Example() {
	store := map[string][]string{"alice": {"admin", "editor"}}
	users := pip.ProviderFunc(func(_ context.Context, q pip.Query) (pip.Values, error) {
		roles, ok := store[q.Key]
		if !ok {
			return nil, nil // unknown user: an empty bag, not an error
		}
		return pip.Values{"roles": {roles}}, nil // []string is flattened into the bag
	})

	set, err := pip.NewSet(pip.Source{
		Name:     "users",
		Provider: pip.Wrap(users, pip.WithName("users"), pip.WithTimeout(200*time.Millisecond), pip.WithCache(time.Minute, 1000)),
		Description: pip.Description{
			Key:        pip.AttributeRef{Category: pip.CategoryAccessSubject, ID: "id"},
			Attributes: []string{"roles"},
		},
	})
	if err != nil {
		panic(err)
	}

	// Per decision: a memo, and the request's key attribute values.
	memo := pip.NewMemo()
	keys := func(ref pip.AttributeRef) []string {
		if ref.ID == "id" {
			return []string{"alice"}
		}
		return nil
	}
	roles, err := set.Resolve(context.Background(), memo, pip.CategoryAccessSubject, "roles", keys)
	fmt.Println(roles, err)
	for _, r := range memo.Records() {
		fmt.Println(r.Source, r.Key, r.Values)
	}
	// Output:
	// [admin editor] <nil>
	// users alice map[roles:[admin editor]]
}
