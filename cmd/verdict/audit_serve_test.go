package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAuditServeConfigErrors(t *testing.T) {
	base := "listen: 127.0.0.1:0\ninsecure_plaintext: true\nnats: {url: nats://127.0.0.1:1}\nstore: {sqlite: a.db}\nsigning_key: k.pem\ncheckpoints: cp.jsonl\n"
	cases := map[string]struct{ yaml, want string }{
		"ok":                {base, ""},
		"no listen":         {strings.Replace(base, "listen: 127.0.0.1:0\n", "", 1), "listen"},
		"no nats":           {strings.Replace(base, "nats: {url: nats://127.0.0.1:1}\n", "", 1), "nats.url"},
		"two stores":        {strings.Replace(base, "store: {sqlite: a.db}", "store: {sqlite: a.db, postgres: x}", 1), "exactly one"},
		"no checkpoints":    {strings.Replace(base, "checkpoints: cp.jsonl\n", "", 1), "checkpoints"},
		"plaintext remote":  {strings.Replace(base, "127.0.0.1:0", "0.0.0.0:0", 1), "insecure_plaintext"},
		"no tls":            {strings.Replace(base, "insecure_plaintext: true\n", "", 1), "tls"},
		"unknown yaml type": {base + "retention: forever\n", "forever"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "audit.yaml")
			if err := os.WriteFile(path, []byte(c.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := loadAuditConfig(path)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Store.SQLite != filepath.Join(dir, "a.db") || cfg.NATS.Stream == "" || cfg.NATS.Durable == "" {
					t.Fatalf("defaults and relative paths not applied: %+v", cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one naming %q", err, c.want)
			}
		})
	}
	if code, _, errOut := auditCLI(t, "audit", "serve"); code != 2 || !strings.Contains(errOut, "usage") {
		t.Fatalf("no --config: exit %d %s", code, errOut)
	}
}

func TestAuditServeRetentionParses(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.yaml")
	yaml := "listen: 127.0.0.1:0\ninsecure_plaintext: true\nnats: {url: nats://127.0.0.1:1}\nstore: {sqlite: a.db}\nsigning_key: k.pem\ncheckpoints: cp.jsonl\nretention: 720h\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadAuditConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Retention.Hours() != 720 {
		t.Fatalf("retention = %v", cfg.Retention)
	}
}
