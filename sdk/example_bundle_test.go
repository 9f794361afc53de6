package sdk_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pdp/bundle"
)

var update = flag.Bool("update", false, "regenerate testdata/example (the signed bundle of Example)")

// exampleDir holds what a PAP would have delivered to the service of
// Example: its last-known-good bundle and the key that signed it.
var exampleDir = filepath.Join("testdata", "example")

// TestExampleBundle keeps Example's signed bundle in step with its policy:
// with -update it compiles files.yaml, signs it with a fresh key (whose
// private half is thrown away) and writes the bundle and the public key;
// otherwise it checks that the bundle carries the current files.yaml.
func TestExampleBundle(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(exampleDir, "files.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		p := compileFile(t, filepath.Join(exampleDir, "files.yaml"), "files", 1)
		data, err := p.BundleData()
		if err != nil {
			t.Fatal(err)
		}
		key, err := bundle.GenerateSigningKey()
		if err != nil {
			t.Fatal(err)
		}
		b, err := bundle.New(bundle.Contents{
			Service: "files", Revision: 1, RootPolicyID: p.RootID, CreatedAt: time.Now().UTC().Truncate(time.Second),
			Modules: p.Modules, Data: data, Sources: map[string][]byte{"files.yaml": src},
		})
		if err != nil {
			t.Fatal(err)
		}
		signed, err := b.Sign(key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := signed.WriteFile(exampleDir); err != nil {
			t.Fatal(err)
		}
		if err := bundle.WriteKeyFile(filepath.Join(exampleDir, "trusted-keys.json"), key.PublicKey()); err != nil {
			t.Fatal(err)
		}
	}
	trust, err := bundle.LoadTrustStore(filepath.Join(exampleDir, "trusted-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.ReadFile(exampleDir, "files", trust)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Sources()["files.yaml"]; !bytes.Equal(got, src) {
		t.Fatal("testdata/example/files.yaml changed since the bundle was signed: go test ./sdk -run TestExampleBundle -update")
	}
}
