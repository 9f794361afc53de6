package compile

import (
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/verdict-authz/verdict/xacml"
)

//go:embed prelude.rego
var prelude string

// Entry points of a compiled bundle.
const (
	// ResultQuery evaluates to the root policy's result object.
	ResultQuery = "data.verdict.main.result"
	// PolicyIDsQuery evaluates to the list of applicable policy identifiers.
	PolicyIDsQuery = "data.verdict.main.policy_ids"
)

// Status code URIs used by the emitted code.
const (
	statusProcessing = xacml.StatusProcessingError
	statusMissing    = xacml.StatusMissingAttribute
)

// Output is a compiled policy tree: Rego modules plus what the engine needs
// to know about them.
type Output struct {
	// Modules maps a file path ("verdict/p/p0.rego") to Rego source.
	Modules map[string]string
	// RootKind, RootID and RootVersion identify the root policy.
	RootKind    string
	RootID      string
	RootVersion string
	// Attributes lists every attribute the policies designate, so that the
	// engine can type request values and know what PIPs may be asked for.
	Attributes []Attribute
}

// Attribute is one designated attribute.
type Attribute struct {
	Category string `json:"category"`
	ID       string `json:"id"`
	// Type is the short data type name ("string").
	Type   string `json:"type"`
	Issuer string `json:"issuer,omitempty"`
	// MustBePresent is true when any designator requires it.
	MustBePresent bool `json:"must_be_present,omitempty"`
}

// Option configures Compile.
type Option interface{ apply(*config) }

type config struct {
	indexThreshold int
}

type indexThresholdOption int

func (o indexThresholdOption) apply(c *config) { c.indexThreshold = int(o) }

// WithIndexThreshold sets how many rules (or policies) a combination must
// have before its children are reached through the target index (default
// 16). Small combinations evaluate every child, which is cheaper.
func WithIndexThreshold(n int) Option { return indexThresholdOption(n) }

// Compile translates a checked policy tree into Rego modules. The result is
// a pure function of the input: the same model always yields the same text.
func Compile(c *xacml.Checked, opts ...Option) (*Output, error) {
	var cfg config
	for _, o := range opts {
		o.apply(&cfg)
	}
	cc := &compiler{
		cfg:     cfg,
		checked: c,
		pkgs:    map[xacml.Evaluable]string{},
		attrs:   map[attrKey]int{},
	}
	out := &Output{Modules: map[string]string{}}
	root := c.Root
	if _, err := cc.pkgFor(root); err != nil {
		return nil, err
	}
	// pkgFor appends to cc.queue while compiling children; drain it.
	for i := 0; i < len(cc.queue); i++ {
		e := cc.queue[i]
		if err := cc.compileEvaluable(e, out); err != nil {
			return nil, err
		}
	}
	out.Modules["verdict/a.rego"] = cc.attributesModule()
	if lib := preludeFor(out.Modules); lib != "" {
		out.Modules["verdict/lib.rego"] = lib
	}
	out.RootKind = root.Kind().String()
	out.RootID, out.RootVersion = root.Identity()
	for _, k := range cc.attrList {
		out.Attributes = append(out.Attributes, Attribute{Category: k.cat, ID: k.id, Type: k.typ, Issuer: k.issuer, MustBePresent: cc.mustBePresent[k]})
	}
	return out, nil
}

// libRef finds the prelude definitions the generated modules call.
var libRef = regexp.MustCompile(`\blib\.([A-Za-z_][A-Za-z0-9_]*)`)

// preludeDef starts a definition of the prelude (continuations start with
// a tab, a brace or else).
var preludeDef = regexp.MustCompile(`^([a-z_][a-z0-9_]*)[ (]`)

// preludeFor returns the prelude restricted to the definitions the modules
// use, directly or through other definitions, or "" when they use none:
// every definition OPA does not have to parse and compile makes
// activation faster.
func preludeFor(modules map[string]string) string {
	var header strings.Builder
	defs := map[string]string{}
	var order []string
	cur := ""
	for _, line := range strings.SplitAfter(prelude, "\n") {
		if m := preludeDef.FindStringSubmatch(line); m != nil && m[1] != "else" && m[1] != "package" && m[1] != "import" {
			cur = m[1]
			if _, ok := defs[cur]; !ok {
				order = append(order, cur)
			}
		} else if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			if cur == "" {
				header.WriteString(line)
			}
			continue
		}
		if cur == "" {
			header.WriteString(line)
			continue
		}
		defs[cur] += line
	}
	used := map[string]bool{}
	var queue []string
	names := make([]string, 0, len(modules))
	for n := range modules {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, m := range libRef.FindAllStringSubmatch(modules[n], -1) {
			if _, ok := defs[m[1]]; ok && !used[m[1]] {
				used[m[1]] = true
				queue = append(queue, m[1])
			}
		}
	}
	for i := 0; i < len(queue); i++ {
		body := defs[queue[i]]
		for _, d := range order {
			if !used[d] && regexp.MustCompile(`\b`+d+`\b`).MatchString(body) {
				used[d] = true
				queue = append(queue, d)
			}
		}
	}
	if len(used) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(header.String())
	for _, d := range order {
		if used[d] {
			b.WriteString("\n" + defs[d])
		}
	}
	return b.String()
}

// attrKey identifies a designated attribute.
type attrKey struct{ cat, id, typ, issuer string }

type compiler struct {
	cfg           config
	checked       *xacml.Checked
	pkgs          map[xacml.Evaluable]string
	queue         []xacml.Evaluable
	attrs         map[attrKey]int
	attrList      []attrKey
	mustBePresent map[attrKey]bool
}

// pkgFor returns the package name of a policy element, scheduling it for
// compilation the first time it is seen (a policy referenced twice is
// compiled once, and OPA evaluates it once per query).
func (c *compiler) pkgFor(e xacml.Evaluable) (string, error) {
	if name, ok := c.pkgs[e]; ok {
		return name, nil
	}
	name := "p" + strconv.Itoa(len(c.pkgs))
	c.pkgs[e] = name
	c.queue = append(c.queue, e)
	return name, nil
}

// attr returns the index of a designated attribute.
func (c *compiler) attr(d *xacml.AttributeDesignator) int {
	dt, _ := xacml.CanonicalDataType(d.DataType)
	k := attrKey{cat: d.Category, id: d.AttributeID, typ: xacml.ShortTypeName(dt), issuer: d.Issuer}
	if c.mustBePresent == nil {
		c.mustBePresent = map[attrKey]bool{}
	}
	if d.MustBePresent {
		c.mustBePresent[k] = true
	}
	if i, ok := c.attrs[k]; ok {
		return i
	}
	i := len(c.attrList)
	c.attrs[k] = i
	c.attrList = append(c.attrList, k)
	return i
}

// inputRef is the input reference of the bag of designated attribute i:
// input["<i>"], i being its position in Output.Attributes.
func inputRef(i int) string { return "input[\"" + strconv.Itoa(i) + "\"]" }

// attributesModule emits one rule per designated attribute: bN is the bag
// (from the input, else from the PIPs: empty when no PIP has it, undefined
// when a PIP failed) and mN the same bag when it is not empty
// (MustBePresent). mN is emitted only when some designator requires it.
func (c *compiler) attributesModule() string {
	var b strings.Builder
	b.WriteString("package verdict.a\n\nimport rego.v1\n")
	for i, k := range c.attrList {
		fmt.Fprintf(&b, "\nb%d := x if {\n\tx := %s\n} else := x if {\n\tx := verdict.pip(%s, %s, %s, %s)\n}\n", i, inputRef(i), quote(k.cat), quote(k.id), quote(k.typ), quote(k.issuer))
		if c.mustBePresent[k] {
			fmt.Fprintf(&b, "\nm%d := x if {\n\tx := b%d\n\tcount(x) > 0\n}\n", i, i)
		}
	}
	return b.String()
}

// compileEvaluable emits the package of one Policy or PolicySet.
func (c *compiler) compileEvaluable(e xacml.Evaluable, out *Output) error {
	g := &pkgGen{c: c, name: c.pkgs[e], vars: map[string]string{}}
	header := "\n\nimport data.verdict.lib\nimport rego.v1\n"
	g.root = e == c.checked.Root
	if g.root {
		// The root's package is the entry point itself: no alias rules
		// between the query and the decision.
		g.pb.WriteString("package verdict.main" + header)
	} else {
		g.pb.WriteString("package verdict.p." + g.name + header)
	}
	g.rb.WriteString("package verdict.r." + g.name + header)
	g.cb.WriteString("package verdict.c." + g.name + header)
	var err error
	switch p := e.(type) {
	case *xacml.Policy:
		err = g.policy(p)
	case *xacml.PolicySet:
		err = g.policySet(p)
	default:
		err = fmt.Errorf("unexpected policy element %T", e)
	}
	if err != nil {
		return err
	}
	if g.root {
		out.Modules["verdict/main.rego"] = g.pb.String()
	} else {
		out.Modules["verdict/p/"+g.name+".rego"] = g.pb.String()
	}
	if _, ok := e.(*xacml.Policy); ok {
		out.Modules["verdict/r/"+g.name+".rego"] = g.rb.String()
	}
	if strings.Contains(g.cb.String(), "\ncands := ") {
		out.Modules["verdict/c/"+g.name+".rego"] = g.cb.String()
	}
	return nil
}

// resolveChild returns the policy element a PolicySet child stands for.
func (c *compiler) resolveChild(child any) (xacml.Evaluable, error) {
	switch ch := child.(type) {
	case *xacml.Policy:
		return ch, nil
	case *xacml.PolicySet:
		return ch, nil
	case *xacml.Reference:
		return c.checked.Set.Resolve(ch)
	}
	return nil, fmt.Errorf("unexpected PolicySet child %T", child)
}

// quote renders a Go string as a Rego string literal.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
