package pdp

import (
	"encoding/json"
	"fmt"

	"github.com/verdict-authz/verdict/pdp/bundle"
)

// AttributesDataPath is where a bundle carries the policy's designated
// attributes (a JSON array of AttributeSpec), next to its Rego modules.
const AttributesDataPath = "verdict/attributes.json"

// PolicyFromBundle turns a verified bundle into the policy the engine
// activates. The caller is responsible for having verified it (bundle.Open,
// bundle.ReadFile or Verify): the engine runs what it is given.
func PolicyFromBundle(b *bundle.Bundle) (*Policy, error) {
	m := b.Manifest()
	p := &Policy{
		Service:  m.Service,
		Revision: m.Revision,
		Digest:   b.Digest(),
		Modules:  b.Modules(),
		RootID:   m.RootPolicyID,
	}
	if raw, ok := b.Data()[AttributesDataPath]; ok {
		if err := json.Unmarshal(raw, &p.Attributes); err != nil {
			return nil, fmt.Errorf("pdp: bundle %s revision %d: %s: %w", m.Service, m.Revision, AttributesDataPath, err)
		}
		// Bundles are compiled by the PAP, whose attribute list is complete.
		p.AttributesComplete = true
	}
	return p, nil
}

// BundleData returns the data files a bundle must carry for this policy,
// so that producers (the PAP) and PolicyFromBundle agree on the layout.
func (p *Policy) BundleData() (map[string][]byte, error) {
	raw, err := json.Marshal(p.Attributes)
	if err != nil {
		return nil, fmt.Errorf("pdp: encode attributes: %w", err)
	}
	return map[string][]byte{AttributesDataPath: raw}, nil
}
