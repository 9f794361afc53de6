package xacml

// Pos locates an element in its source file so that every error can name
// the file, the line and the element that is wrong.
type Pos struct {
	File    string
	Line    int
	Element string
}

// PolicyKind distinguishes the two kinds of top-level policy elements.
type PolicyKind int

const (
	// KindPolicy is a <Policy>.
	KindPolicy PolicyKind = iota + 1
	// KindPolicySet is a <PolicySet>.
	KindPolicySet
)

func (k PolicyKind) String() string {
	if k == KindPolicySet {
		return "PolicySet"
	}
	return "Policy"
}

// Evaluable is a Policy or a PolicySet: the things a PolicySet combines and
// a PDP can use as its root.
type Evaluable interface {
	// Kind tells Policy from PolicySet.
	Kind() PolicyKind
	// Identity returns the PolicyId/PolicySetId and Version.
	Identity() (id, version string)
	// Position returns where the element was defined.
	Position() Pos
}

// PolicySet combines policies, policy sets and references to them with a
// policy-combining algorithm.
type PolicySet struct {
	ID          string
	Version     string
	Description string
	// CombiningAlg is the PolicyCombiningAlgId URI.
	CombiningAlg string
	Target       *Target
	// Children are *Policy, *PolicySet or *Reference, in document order
	// (the ordered combining algorithms depend on it).
	Children    []any
	Obligations []*EffectExpression
	Advice      []*EffectExpression
	// MaxDelegationDepth is kept for round trips; delegation is not supported.
	MaxDelegationDepth string
	Pos                Pos
}

// Kind implements Evaluable.
func (*PolicySet) Kind() PolicyKind { return KindPolicySet }

// Identity implements Evaluable.
func (p *PolicySet) Identity() (string, string) { return p.ID, p.Version }

// Position implements Evaluable.
func (p *PolicySet) Position() Pos { return p.Pos }

// Policy combines rules with a rule-combining algorithm.
type Policy struct {
	ID           string
	Version      string
	Description  string
	CombiningAlg string
	Target       *Target
	Variables    []*VariableDefinition
	Rules        []*Rule
	Obligations  []*EffectExpression
	Advice       []*EffectExpression
	// MaxDelegationDepth is kept for round trips; delegation is not supported.
	MaxDelegationDepth string
	Pos                Pos
}

// Kind implements Evaluable.
func (*Policy) Kind() PolicyKind { return KindPolicy }

// Identity implements Evaluable.
func (p *Policy) Identity() (string, string) { return p.ID, p.Version }

// Position implements Evaluable.
func (p *Policy) Position() Pos { return p.Pos }

// Effect is the decision a rule yields when it applies.
type Effect string

const (
	// Permit grants access.
	Permit Effect = "Permit"
	// Deny refuses access.
	Deny Effect = "Deny"
)

// Rule is the leaf of a policy: target, condition, effect.
type Rule struct {
	ID          string
	Effect      Effect
	Description string
	Target      *Target
	// Condition is nil when the rule has none; otherwise a boolean Expr.
	Condition   Expr
	Obligations []*EffectExpression
	Advice      []*EffectExpression
	Pos         Pos
}

// Target is a conjunction of AnyOf; an empty (or nil) target matches everything.
type Target struct {
	AnyOf []*AnyOf
	Pos   Pos
}

// AnyOf is a disjunction of AllOf.
type AnyOf struct {
	AllOf []*AllOf
	Pos   Pos
}

// AllOf is a conjunction of Match.
type AllOf struct {
	Matches []*Match
	Pos     Pos
}

// Match compares a literal with every value of an attribute bag.
type Match struct {
	// FunctionID is the MatchId: a boolean function of two arguments.
	FunctionID string
	Value      *AttributeValue
	// Attribute is an *AttributeDesignator or an *AttributeSelector.
	Attribute Expr
	Pos       Pos
}

// Reference is a PolicyIdReference or PolicySetIdReference.
type Reference struct {
	Kind            PolicyKind
	ID              string
	Version         string
	EarliestVersion string
	LatestVersion   string
	Pos             Pos
}

// VariableDefinition names an expression shared by the rules of a policy.
type VariableDefinition struct {
	ID   string
	Expr Expr
	Pos  Pos
}

// EffectExpression is an ObligationExpression (FulfillOn) or an
// AdviceExpression (AppliesTo): it is returned when the decision equals Effect.
type EffectExpression struct {
	ID          string
	Effect      Effect
	Assignments []*AttributeAssignmentExpression
	Pos         Pos
}

// AttributeAssignmentExpression computes one attribute of an obligation or advice.
type AttributeAssignmentExpression struct {
	AttributeID string
	Category    string
	Issuer      string
	Expr        Expr
	Pos         Pos
}

// Expr is one of *Apply, *AttributeValue, *AttributeDesignator,
// *AttributeSelector, *VariableReference or *FunctionRef.
type Expr interface {
	// Position returns where the expression was written.
	Position() Pos
}

// Apply calls a function on arguments.
type Apply struct {
	FunctionID  string
	Description string
	Args        []Expr
	Pos         Pos
}

// Position implements Expr.
func (a *Apply) Position() Pos { return a.Pos }

// AttributeValue is a literal. Value keeps the lexical form exactly as
// written so that "27.50" prints back as "27.50".
type AttributeValue struct {
	DataType string
	Value    string
	// XMLAttrs are extra XML attributes on the element (such as
	// XPathCategory), kept for round trips.
	XMLAttrs map[string]string
	Pos      Pos
}

// Position implements Expr.
func (v *AttributeValue) Position() Pos { return v.Pos }

// AttributeDesignator fetches the bag of values of one attribute from the request.
type AttributeDesignator struct {
	Category      string
	AttributeID   string
	DataType      string
	Issuer        string
	MustBePresent bool
	Pos           Pos
}

// Position implements Expr.
func (d *AttributeDesignator) Position() Pos { return d.Pos }

// AttributeSelector selects values from the <Content> of a category with
// XPath. Verdict parses it for completeness; policies using it are rejected
// by validation because requests carry no XML content.
type AttributeSelector struct {
	Category          string
	Path              string
	ContextSelectorID string
	DataType          string
	MustBePresent     bool
	Pos               Pos
}

// Position implements Expr.
func (s *AttributeSelector) Position() Pos { return s.Pos }

// VariableReference refers to a VariableDefinition of the enclosing policy.
type VariableReference struct {
	VariableID string
	Pos        Pos
}

// Position implements Expr.
func (r *VariableReference) Position() Pos { return r.Pos }

// FunctionRef names a function passed to a higher-order function.
type FunctionRef struct {
	FunctionID string
	Pos        Pos
}

// Position implements Expr.
func (f *FunctionRef) Position() Pos { return f.Pos }
