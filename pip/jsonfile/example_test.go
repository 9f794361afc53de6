package jsonfile_test

import (
	"context"
	"fmt"

	"github.com/verdict-authz/verdict/pip"
	"github.com/verdict-authz/verdict/pip/jsonfile"
)

// The json-file PIP of a pdp configuration: users keyed by subject id.
func ExampleNew() {
	users, err := jsonfile.New("testdata/typed.json", pip.AttributeRef{Category: pip.CategoryAccessSubject, ID: "id"})
	if err != nil {
		panic(err)
	}
	vals, err := users.Fetch(context.Background(), pip.Query{
		Category:   pip.CategoryAccessSubject,
		Key:        "alice",
		Attributes: []string{"roles", "budget", "level"},
	})
	if err != nil {
		panic(err) // a failure: what needs these attributes is Indeterminate
	}
	fmt.Println(vals["roles"], vals["budget"], vals["level"])
	// Output: [admin editor] [27.50] [3]
}
