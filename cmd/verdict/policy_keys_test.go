package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicyKeysRotateAgainstVerdictUp rotates the signing key of a
// running platform: the PDP of `verdict up` learns the new key before the
// PAP signs with it, and the next push still reaches it.
func TestPolicyKeysRotateAgainstVerdictUp(t *testing.T) {
	p := startUp(t)
	code, out, errOut := p.cli(t, "policy", "keys", "list", "--output", "json")
	var before struct {
		Signing string `json:"signing_key_id"`
		Keys    []struct {
			KeyID   string `json:"key_id"`
			Signing bool   `json:"signing"`
		} `json:"keys"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &before) != nil || before.Signing == "" || len(before.Keys) != 1 || !before.Keys[0].Signing {
		t.Fatalf("keys list: exit %d, %q, %q", code, out, errOut)
	}

	code, out, errOut = p.cli(t, "policy", "keys", "rotate", "--overlap", "1h", "--propagation-timeout", "20s", "--output", "json")
	var rot struct {
		Old        string   `json:"old_key_id"`
		New        string   `json:"new_key_id"`
		Version    uint64   `json:"key_set_version"`
		Confirmed  int      `json:"confirmed_count"`
		Live       int      `json:"live_count"`
		Stragglers []string `json:"stragglers"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &rot) != nil {
		t.Fatalf("keys rotate: exit %d, %q, %q", code, out, errOut)
	}
	if rot.Old != before.Signing || rot.New == "" || rot.New == rot.Old || rot.Version != 1 || rot.Live != 1 || rot.Confirmed != 1 || len(rot.Stragglers) != 0 {
		t.Fatalf("rotation = %+v, want the PDP of verdict up confirmed before the switch", rot)
	}
	code, out, _ = p.cli(t, "policy", "keys", "list")
	if code != 0 || !strings.Contains(out, rot.New+"  signing") || !strings.Contains(out, rot.Old+"  trusted") || !strings.Contains(out, "until ") {
		t.Fatalf("keys list after rotation: exit %d\n%s", code, out)
	}

	// The next push is signed with the new key and activated.
	work := t.TempDir()
	todo, err := os.ReadFile(filepath.Join("..", "..", "policies", "authzen-todo", "todo.xml"))
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(todo, []byte("<Description>AuthZEN Todo interop scenario"), []byte("<Description>AuthZEN Todo interop scenario, new key"), 1)
	if err := os.WriteFile(filepath.Join(work, "todo.xml"), edited, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = p.cli(t, "policy", "push", "--service", "authzen-todo", "--timeout", "20s", work)
	if code != 0 || !strings.Contains(errOut, "active on 1 of 1 PDPs") {
		t.Fatalf("push after rotation: exit %d, %q, %q", code, out, errOut)
	}

	if code, _, _ := p.cli(t, "policy", "keys", "spin"); code != 2 {
		t.Fatalf("unknown keys subcommand exited %d, want 2", code)
	}
}
