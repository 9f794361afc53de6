package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/integration/conformance"
	"github.com/verdict-authz/verdict/xacml"
)

// TestXACMLConformance runs every shared XACML 3.0 conformance case through
// `verdict xacml eval` (in process), comparing what outside tests compare:
// decision, status code, obligations, advice, echoed attributes and the
// policy identifier list. Cases with only *.ignore request files hold a
// policy that must be rejected at load time with exit code 2.
func TestXACMLConformance(t *testing.T) {
	dir := filepath.Join(conformance.Dir(t), "xacml3")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n++
		c := filepath.Join(dir, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			args := []string{"xacml", "eval", "--policy", filepath.Join(c, "Policy.xml")}
			refs, _ := filepath.Glob(filepath.Join(c, "Policies", "*.xml"))
			for _, r := range refs {
				args = append(args, "--policy", r)
			}
			reqFile := filepath.Join(c, "Request.xml")
			_, statErr := os.Stat(reqFile)
			invalid := os.IsNotExist(statErr)
			if invalid {
				reqFile = filepath.Join(c, "Request.xml.ignore")
			}
			args = append(args, "--request", reqFile)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}, args)
			if invalid {
				if code != 2 {
					t.Fatalf("policy must be rejected with exit 2, got %d; stdout:\n%s", code, stdout.String())
				}
				msg := strings.TrimSpace(stderr.String())
				if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, ".xml:") || !strings.Contains(msg, "<") {
					t.Fatalf("rejection must be one line naming file and element, got %q", msg)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			want, err := os.ReadFile(filepath.Join(c, "Response.xml"))
			if err != nil {
				t.Fatal(err)
			}
			exp, err := xacml.ParseResponseXML("Response.xml", want)
			if err != nil {
				t.Fatalf("expected response: %v", err)
			}
			got, err := xacml.ParseResponseXML("stdout", stdout.Bytes())
			if err != nil {
				t.Fatalf("output is not a Response: %v\n%s", err, stdout.String())
			}
			if diff := compareResponses(exp, got); diff != "" {
				t.Fatalf("%s\noutput:\n%s", diff, stdout.String())
			}
		})
	}
	if n == 0 {
		t.Fatalf("no conformance cases in %s", dir)
	}
}

// summary is the comparable content of a Result.
type summary struct {
	Decision    string
	Status      string
	Obligations []string
	Advice      []string
	Attributes  []string
	Policies    []string
}

func summarize(r *xacml.Result) summary {
	s := summary{Decision: string(r.Decision), Status: r.Status.Code}
	if s.Status == "" {
		s.Status = xacml.StatusOK
	}
	asg := func(as []*xacml.AttributeAssignment) string {
		var parts []string
		for _, a := range as {
			parts = append(parts, fmt.Sprintf("%s|%s|%s|%s", a.AttributeID, a.Category, a.DataType, a.Value))
		}
		sort.Strings(parts)
		return strings.Join(parts, ";")
	}
	for _, o := range r.Obligations {
		s.Obligations = append(s.Obligations, o.ID+"{"+asg(o.Assignments)+"}")
	}
	for _, o := range r.Advice {
		s.Advice = append(s.Advice, o.ID+"{"+asg(o.Assignments)+"}")
	}
	for _, g := range r.Attributes {
		for _, a := range g.Attributes {
			var vals []string
			for _, v := range a.Values {
				vals = append(vals, v.Value)
			}
			sort.Strings(vals)
			s.Attributes = append(s.Attributes, g.Category+"|"+a.AttributeID+"|"+strings.Join(vals, ","))
		}
	}
	for _, p := range r.PolicyIdentifiers {
		s.Policies = append(s.Policies, p.Kind.String()+"|"+p.ID+"|"+p.Version)
	}
	sort.Strings(s.Obligations)
	sort.Strings(s.Advice)
	sort.Strings(s.Attributes)
	sort.Strings(s.Policies)
	return s
}

func compareResponses(exp, got *xacml.Response) string {
	if len(exp.Results) != len(got.Results) {
		return fmt.Sprintf("results: expected %d, got %d", len(exp.Results), len(got.Results))
	}
	for i := range exp.Results {
		e, g := summarize(exp.Results[i]), summarize(got.Results[i])
		if !reflect.DeepEqual(e, g) {
			return fmt.Sprintf("result %d:\nexpected %+v\n     got %+v", i, e, g)
		}
	}
	return ""
}
