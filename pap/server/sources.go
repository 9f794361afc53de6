package server

import (
	"bytes"
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"github.com/verdict-authz/verdict/pap/policytest"
	"path"
	"slices"
	"strings"

	"github.com/verdict-authz/verdict/pap/build"
	"github.com/verdict-authz/verdict/pap/publish"
	"github.com/verdict-authz/verdict/pap/store"
	"github.com/verdict-authz/verdict/pdp"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/xacml"
)

// Source formats recorded in the store, by what the PAP found a file to
// be. Only policies are compiled; the others are kept so that a revision
// restores the author's whole tree.
const (
	FormatXML      = "xacml-xml"
	FormatYAML     = "xacml-yaml"
	FormatTest     = "verdict-policy-test"
	FormatExample  = "xacml-example-xml"
	maxSourcePaths = 10000
)

// prepared is a push that passed every check: what to store, and what the
// response reports about it.
type prepared struct {
	content  store.Content
	rootID   string
	rootKind verdictv1.PolicyKind
	// testsPassed counts the policy test cases that ran and passed (a
	// push with a failing case is refused).
	testsPassed int
}

// prepare runs every check of a push: paths, parsing, validation,
// compilation and a trial activation in an engine, so that nothing a PDP
// would refuse is ever stored. It returns the diagnostics of a refused
// push (errors first in file order), or the content to store.
func prepare(ctx context.Context, rootID string, sources []*verdictv1.PolicySource) (*prepared, []*verdictv1.Diagnostic) {
	var diags diagnostics
	if len(sources) == 0 {
		diags.add(verdictv1.DiagnosticPhase_DIAGNOSTIC_PHASE_PARSE, "", 0, "", "no policy files in the push")
		return nil, diags.list
	}
	if len(sources) > maxSourcePaths {
		diags.add(verdictv1.DiagnosticPhase_DIAGNOSTIC_PHASE_PARSE, "", 0, "", fmt.Sprintf("%d files in one push, more than %d", len(sources), maxSourcePaths))
		return nil, diags.list
	}
	out := &prepared{}
	seen := make(map[string]bool, len(sources))
	var policies []xacml.Evaluable
	var tests []store.Source
	for _, src := range sources {
		p := src.GetPath()
		if msg := checkSourcePath(p); msg != "" {
			diags.add(verdictv1.DiagnosticPhase_DIAGNOSTIC_PHASE_PARSE, p, 0, "", msg)
			continue
		}
		if seen[p] {
			diags.add(verdictv1.DiagnosticPhase_DIAGNOSTIC_PHASE_PARSE, p, 0, "", "file appears twice in the push")
			continue
		}
		seen[p] = true
		format, msg := classify(p, src.GetContent())
		if msg != "" {
			diags.add(verdictv1.DiagnosticPhase_DIAGNOSTIC_PHASE_PARSE, p, 0, "", msg)
			continue
		}
		out.content.Sources = append(out.content.Sources, store.Source{Name: p, Format: format, Content: src.GetContent()})
		var e xacml.Evaluable
		var err error
		switch format {
		case FormatXML:
			e, err = xacml.ParseXML(p, src.GetContent())
		case FormatYAML:
			e, err = xacml.ParseYAML(p, src.GetContent())
		case FormatTest:
			tests = append(tests, store.Source{Name: p, Content: src.GetContent()})
			continue
		default:
			continue
		}
		if err != nil {
			diags.addErr(verdictv1.DiagnosticPhase_DIAGNOSTIC_PHASE_PARSE, err)
			continue
		}
		policies = append(policies, e)
	}
	if diags.failed() {
		return nil, diags.sorted()
	}
	if len(policies) == 0 {
		diags.add(verdictv1.DiagnosticPhase_DIAGNOSTIC_PHASE_PARSE, "", 0, "", "the push holds no policy or policy set (only tests or examples)")
		return nil, diags.list
	}
	root, err := xacml.FindRoot(policies, rootID)
	if err != nil {
		diags.addErr(verdictv1.DiagnosticPhase_DIAGNOSTIC_PHASE_VALIDATE, err)
		return nil, diags.sorted()
	}
	compiled, err := build.Compile(policies, root)
	if err != nil {
		var xe *xacml.Error
		phase := verdictv1.DiagnosticPhase_DIAGNOSTIC_PHASE_COMPILE
		if errors.As(err, &xe) {
			phase = verdictv1.DiagnosticPhase_DIAGNOSTIC_PHASE_VALIDATE
		}
		diags.addErr(phase, err)
		return nil, diags.sorted()
	}
	out.rootID, _ = root.Identity()
	out.rootKind = protoKind(root.Kind())
	policy := compiled.EnginePolicy("", 0)
	// PDPs must be able to activate what is stored: try it here first.
	if err := pdp.New().Activate(ctx, policy); err != nil {
		diags.add(verdictv1.DiagnosticPhase_DIAGNOSTIC_PHASE_COMPILE, root.Position().File, int32(root.Position().Line), "", "the compiled policy does not activate: "+err.Error())
		return nil, diags.list
	}
	// The policies' own tests must pass before anything is stored.
	for _, t := range tests {
		passed, problems := runTests(ctx, t, policies, out.rootID)
		out.testsPassed += passed
		for _, msg := range problems {
			diags.add(verdictv1.DiagnosticPhase_DIAGNOSTIC_PHASE_TEST, t.Name, 0, "", msg)
		}
	}
	if diags.failed() {
		return nil, diags.sorted()
	}
	data, err := policy.BundleData()
	if err == nil {
		out.content.Data, err = publish.EncodeData(data)
	}
	if err != nil {
		diags.add(verdictv1.DiagnosticPhase_DIAGNOSTIC_PHASE_COMPILE, "", 0, "", err.Error())
		return nil, diags.list
	}
	out.content.RootPolicyID = out.rootID
	out.content.Rego = compiled.Output.Modules
	return out, nil
}

// checkSourcePath refuses paths that could not name a file inside the
// pushed tree (and so could not go into a bundle), returning why.
func checkSourcePath(p string) string {
	switch {
	case p == "":
		return "file with an empty path"
	case len(p) > 1024:
		return "path longer than 1024 bytes"
	case strings.HasPrefix(p, "/"), strings.Contains(p, "\\"):
		return "path must be relative, with forward slashes"
	case path.Clean(p) != p || p == "." || strings.HasPrefix(p, "../"):
		return "path must be clean and inside the pushed tree (no ., .. or empty elements)"
	}
	return ""
}

// classify tells what a pushed file is from its name (the rule of
// xacml.IsPolicyFileName, which the CLI applies to directories) and, for
// XML, its root element: a policy (XML or YAML), a policy test, or an
// XACML request/response example. Anything else is refused.
func classify(p string, content []byte) (format, problem string) {
	base := strings.ToLower(path.Base(p))
	switch {
	case strings.HasSuffix(base, "_test.yaml"), strings.HasSuffix(base, "_test.yml"),
		strings.HasSuffix(base, ".test.yaml"), strings.HasSuffix(base, ".test.yml"):
		return FormatTest, ""
	case !xacml.IsPolicyFileName(base):
		return "", "not a policy file (want .xml, .yaml or .yml policies and *_test.yaml tests; PDP configurations stay out of pushes)"
	case strings.HasSuffix(base, ".xml"):
		if isExample(content) {
			return FormatExample, ""
		}
		return FormatXML, ""
	}
	return FormatYAML, ""
}

// isExample reports whether an XML document is an XACML Request or
// Response, which sit next to policies as examples.
func isExample(content []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(content))
	d.Strict = false
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok {
			return strings.HasPrefix(se.Name.Space, "urn:oasis:names:tc:xacml:") && (se.Name.Local == "Request" || se.Name.Local == "Response")
		}
	}
}

func protoKind(k xacml.PolicyKind) verdictv1.PolicyKind {
	if k == xacml.KindPolicySet {
		return verdictv1.PolicyKind_POLICY_KIND_POLICY_SET
	}
	return verdictv1.PolicyKind_POLICY_KIND_POLICY
}

// rootKindOf finds the kind of a stored revision's root by parsing its
// sources, for listings of revisions whose summary does not record it.
func rootKindOf(c store.Content) verdictv1.PolicyKind {
	var policies []xacml.Evaluable
	for _, s := range c.Sources {
		var e xacml.Evaluable
		var err error
		switch s.Format {
		case FormatXML:
			e, err = xacml.ParseXML(s.Name, s.Content)
		case FormatYAML:
			e, err = xacml.ParseYAML(s.Name, s.Content)
		default:
			continue
		}
		if err == nil {
			policies = append(policies, e)
		}
	}
	if root, err := xacml.FindRoot(policies, c.RootPolicyID); err == nil {
		return protoKind(root.Kind())
	}
	return verdictv1.PolicyKind_POLICY_KIND_UNSPECIFIED
}

// policiesOf parses a revision's (or a push's) policies for a diff, keyed
// by kind, id and version, with a canonical rendering to compare them.
func policiesOf(sources []store.Source) map[policyKey]string {
	out := make(map[policyKey]string)
	for _, s := range sources {
		var e xacml.Evaluable
		var err error
		switch s.Format {
		case FormatXML:
			e, err = xacml.ParseXML(s.Name, s.Content)
		case FormatYAML:
			e, err = xacml.ParseYAML(s.Name, s.Content)
		default:
			continue
		}
		if err != nil {
			continue
		}
		id, version := e.Identity()
		var buf bytes.Buffer
		if err := xacml.WriteXML(&buf, e); err != nil {
			continue
		}
		out[policyKey{kind: protoKind(e.Kind()), id: id, version: version}] = buf.String()
	}
	return out
}

// policyKey identifies a policy across files.
type policyKey struct {
	kind        verdictv1.PolicyKind
	id, version string
}

// diagnostics accumulates the problems of one push.
type diagnostics struct {
	list []*verdictv1.Diagnostic
}

func (d *diagnostics) add(phase verdictv1.DiagnosticPhase, file string, line int32, element, msg string) {
	d.list = append(d.list, &verdictv1.Diagnostic{
		Severity: verdictv1.DiagnosticSeverity_DIAGNOSTIC_SEVERITY_ERROR,
		Phase:    phase,
		Path:     file,
		Line:     line,
		Element:  element,
		Message:  msg,
	})
}

// addErr adds one diagnostic per error inside err, located by the xacml
// package's positions.
func (d *diagnostics) addErr(phase verdictv1.DiagnosticPhase, err error) {
	for _, e := range xacml.SplitErrors(err) {
		var xe *xacml.Error
		if errors.As(e, &xe) {
			msg := xe.Msg
			if xe.Class != nil {
				msg = xe.Class.Error() + ": " + msg
			}
			d.add(phase, xe.Pos.File, int32(xe.Pos.Line), xe.Pos.Element, msg)
			continue
		}
		d.add(phase, "", 0, "", e.Error())
	}
}

func (d *diagnostics) failed() bool { return len(d.list) > 0 }

// sorted returns the diagnostics in file and line order.
func (d *diagnostics) sorted() []*verdictv1.Diagnostic {
	slices.SortStableFunc(d.list, func(a, b *verdictv1.Diagnostic) int {
		return cmp.Or(strings.Compare(a.GetPath(), b.GetPath()), cmp.Compare(a.GetLine(), b.GetLine()))
	})
	return d.list
}

// DiagnosticText renders a diagnostic as the CLI's one-line form,
// "FILE:LINE: <Element>: message", matching the xacml package's errors.
func DiagnosticText(d *verdictv1.Diagnostic) string {
	var b strings.Builder
	if d.GetPath() != "" {
		b.WriteString(d.GetPath())
		b.WriteByte(':')
		if d.GetLine() > 0 {
			fmt.Fprintf(&b, "%d:", d.GetLine())
		}
		b.WriteByte(' ')
	}
	if d.GetElement() != "" {
		b.WriteString("<" + d.GetElement() + ">: ")
	}
	b.WriteString(d.GetMessage())
	return b.String()
}

// runTests runs one pushed policy test file against the pushed policies,
// returning the passing cases and one message per problem.
func runTests(ctx context.Context, t store.Source, policies []xacml.Evaluable, rootID string) (int, []string) {
	f, err := policytest.Parse(t.Name, t.Content)
	if err != nil {
		return 0, []string{err.Error()}
	}
	if f.UsesFiles() {
		return 0, []string{"a test PIP reads a file, which the PAP does not have: give its entities inline"}
	}
	if f.Root == "" {
		f.Root = rootID
	}
	results, err := f.Run(ctx, policies)
	if err != nil {
		return 0, []string{err.Error()}
	}
	passed := 0
	var problems []string
	for _, r := range results {
		if r.Failure == "" {
			passed++
			continue
		}
		problems = append(problems, fmt.Sprintf("test %q failed: %s", r.Name, r.Failure))
	}
	return passed, problems
}
