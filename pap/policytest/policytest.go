// Package policytest runs the test files that live next to policies, so
// that an author (`verdict policy test`) and the PAP (at push) check the
// same expectations through the same engine path production uses.
//
// A test file is YAML named *_test.yaml (or *.test.yaml, .yml). Requests
// are in the AuthZEN shape and mapped exactly as the remote PDP maps them;
// PIPs are stood in for by JSON files or inline entities:
//
//	root: urn:example:root            # optional, default: the unreferenced policy
//	pips:
//	  - category: subject             # subject, resource, action, environment or a URN
//	    key: id                       # the request attribute that selects the entity
//	    file: users.json              # a json-file PIP (relative to the test file) ...
//	    entities:                     # ... or entities inline: key -> attributes
//	      alice: {roles: [admin], email: alice@example.com}
//	tests:
//	  - name: admins delete any todo
//	    request:
//	      subject: {type: user, id: alice}
//	      action: {name: can_delete_todo}
//	      resource: {type: todo, id: "7", properties: {ownerID: bob@example.com}}
//	    decision: Permit              # Permit, Deny, NotApplicable or Indeterminate
//	    status: ok                    # optional: ok, missing-attribute, processing-error, syntax-error or a URN
//	    obligations: [urn:example:log] # optional: the exact set of obligation ids
//	    advice: []                    # optional: the exact set of advice ids
package policytest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/verdict-authz/verdict/pap/build"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/server"
	"github.com/verdict-authz/verdict/pip"
	"github.com/verdict-authz/verdict/pip/jsonfile"
	"github.com/verdict-authz/verdict/xacml"
)

// File is a parsed test file.
type File struct {
	Root  string `yaml:"root"`
	PIPs  []PIP  `yaml:"pips"`
	Tests []Case `yaml:"tests"`
	path  string
}

// PIP stands in for a policy information point during tests.
type PIP struct {
	Category string                    `yaml:"category"`
	Key      string                    `yaml:"key"`
	File     string                    `yaml:"file"`
	Entities map[string]map[string]any `yaml:"entities"`
}

// Case is one request and what the policies must answer.
type Case struct {
	Name        string         `yaml:"name"`
	Request     map[string]any `yaml:"request"`
	Decision    string         `yaml:"decision"`
	Status      string         `yaml:"status"`
	Obligations *[]string      `yaml:"obligations"`
	Advice      *[]string      `yaml:"advice"`
}

// Result is the outcome of one case.
type Result struct {
	File string
	Name string
	// Failure is empty when the case passed.
	Failure string
}

// ErrNoTests reports a directory without test files.
var ErrNoTests = errors.New("no policy test files")

// IsTestFileName reports whether a file name is a policy test file.
func IsTestFileName(name string) bool {
	for _, suffix := range []string{"_test.yaml", "_test.yml", ".test.yaml", ".test.yml"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}

// Find lists the test files of a directory tree, sorted.
func Find(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && IsTestFileName(d.Name()) {
			out = append(out, path)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// Parse reads a test file.
func Parse(path string, data []byte) (*File, error) {
	var f File
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		// io.EOF: an empty document (only comments) holds no tests.
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.path = path
	for i, c := range f.Tests {
		if c.Name == "" {
			return nil, fmt.Errorf("%s: test %d has no name", path, i+1)
		}
		if c.Request == nil {
			return nil, fmt.Errorf("%s: test %q has no request", path, c.Name)
		}
		switch c.Decision {
		case "Permit", "Deny", "NotApplicable", "Indeterminate":
		default:
			return nil, fmt.Errorf("%s: test %q: decision must be Permit, Deny, NotApplicable or Indeterminate, not %q", path, c.Name, c.Decision)
		}
	}
	return &f, nil
}

// UsesFiles reports whether a stand-in PIP reads a file, which only works
// where the file is (the author's machine, not the PAP).
func (f *File) UsesFiles() bool {
	for _, p := range f.PIPs {
		if p.File != "" {
			return true
		}
	}
	return false
}

// RunDir runs every test file under dir against the policies loaded from
// policyPaths (dir itself when none are given).
func RunDir(ctx context.Context, dir string, policyPaths ...string) ([]Result, error) {
	files, err := Find(dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrNoTests, dir)
	}
	if len(policyPaths) == 0 {
		policyPaths = []string{dir}
	}
	policies, err := xacml.LoadPaths(policyPaths...)
	if err != nil {
		return nil, err
	}
	var results []Result
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		f, err := Parse(path, data)
		if err != nil {
			return nil, err
		}
		rs, err := f.Run(ctx, policies)
		if err != nil {
			return nil, err
		}
		results = append(results, rs...)
	}
	return results, nil
}

// Run evaluates the file's cases against the policies.
func (f *File) Run(ctx context.Context, policies []xacml.Evaluable) ([]Result, error) {
	compiled, err := build.CompileRoot(policies, f.Root)
	if err != nil {
		return nil, err
	}
	set, err := f.pipSet()
	if err != nil {
		return nil, err
	}
	var opts []pdp.Option
	if set != nil {
		opts = append(opts, pdp.WithPIPs(set))
	}
	engine := pdp.New(opts...)
	if err := engine.Activate(ctx, compiled.EnginePolicy("test", 0)); err != nil {
		return nil, err
	}
	var out []Result
	for _, c := range f.Tests {
		out = append(out, Result{File: f.path, Name: c.Name, Failure: c.run(ctx, engine)})
	}
	return out, nil
}

func (c Case) run(ctx context.Context, engine *pdp.Engine) string {
	req, err := server.AuthZENRequest(normalize(c.Request).(map[string]any))
	if err != nil {
		return "bad request: " + err.Error()
	}
	d, err := engine.Decide(ctx, req)
	if err != nil {
		return "evaluation failed: " + err.Error()
	}
	var problems []string
	if string(d.Effect) != c.Decision {
		problems = append(problems, fmt.Sprintf("decision %s, want %s", d.Effect, c.Decision))
	}
	if c.Status != "" && d.Status.Code != statusURN(c.Status) {
		problems = append(problems, fmt.Sprintf("status %s, want %s", d.Status.Code, statusURN(c.Status)))
	}
	if c.Obligations != nil {
		if got := ids(d.Obligations); !sameSet(got, *c.Obligations) {
			problems = append(problems, fmt.Sprintf("obligations %v, want %v", got, *c.Obligations))
		}
	}
	if c.Advice != nil {
		if got := ids(d.Advice); !sameSet(got, *c.Advice) {
			problems = append(problems, fmt.Sprintf("advice %v, want %v", got, *c.Advice))
		}
	}
	return strings.Join(problems, "; ")
}

func statusURN(s string) string {
	if strings.HasPrefix(s, "urn:") {
		return s
	}
	return "urn:oasis:names:tc:xacml:1.0:status:" + s
}

func ids(obs []pdp.Obligation) []string {
	out := make([]string, 0, len(obs))
	for _, o := range obs {
		out = append(out, o.ID)
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// normalize turns YAML's decoded values into the JSON shapes the AuthZEN
// mapping expects (map[string]any all the way down).
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

// pipSet builds the stand-in PIPs.
func (f *File) pipSet() (*pip.Set, error) {
	if len(f.PIPs) == 0 {
		return nil, nil
	}
	var sources []pip.Source
	for i, p := range f.PIPs {
		cat, err := pip.ParseCategory(p.Category)
		if err != nil {
			return nil, fmt.Errorf("%s: pips[%d]: %w", f.path, i, err)
		}
		if p.Key == "" {
			return nil, fmt.Errorf("%s: pips[%d]: key is required", f.path, i)
		}
		ref := pip.AttributeRef{Category: cat, ID: p.Key}
		name := fmt.Sprintf("pips[%d]", i)
		switch {
		case p.File != "" && p.Entities != nil:
			return nil, fmt.Errorf("%s: pips[%d]: give file or entities, not both", f.path, i)
		case p.File != "":
			file := p.File
			if !filepath.IsAbs(file) {
				file = filepath.Join(filepath.Dir(f.path), file)
			}
			prov, err := jsonfile.New(file, ref, jsonfile.WithReloadInterval(0))
			if err != nil {
				return nil, fmt.Errorf("%s: pips[%d]: %w", f.path, i, err)
			}
			sources = append(sources, pip.Source{Name: name, Provider: prov})
		default:
			entities := p.Entities
			prov := pip.ProviderFunc(func(_ context.Context, q pip.Query) (pip.Values, error) {
				attrs, ok := entities[q.Key]
				if !ok {
					return nil, nil
				}
				out := pip.Values{}
				for k, v := range attrs {
					bag, err := pip.Normalize(normalize(v))
					if err != nil {
						return nil, fmt.Errorf("entity %s attribute %s: %w", q.Key, k, err)
					}
					out[k] = bag
				}
				return out, nil
			})
			sources = append(sources, pip.Source{Name: name, Provider: prov, Description: pip.Description{Key: ref}})
		}
	}
	return pip.NewSet(sources...)
}
