package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/verdict-authz/verdict/xacml"
)

// formatOf names a policy file's format from its extension.
func formatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return "yaml"
	}
	return "xml"
}

// render writes a policy in a format.
func render(e xacml.Evaluable, format string) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	if format == "yaml" {
		err = xacml.WriteYAML(&buf, e)
	} else {
		err = xacml.WriteXML(&buf, e)
	}
	return buf.Bytes(), err
}

// runPolicyConvert converts policies between XACML XML and YAML. A round
// trip gives the same model, lexical forms included.
func runPolicyConvert(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("policy convert", env.stderr)
	to := fs.String("to", "", "target format: yaml or xml (default: the other one)")
	out := fs.String("out", "", "output file (one input) or directory (default: stdout)")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 || (*to != "" && *to != "yaml" && *to != "xml") {
		return exitf(2, "usage: verdict policy convert [--to yaml|xml] [--out FILE|DIR] FILE...")
	}
	if len(paths) > 1 && *out == "" {
		return exitf(2, "converting several files needs --out DIR")
	}
	for _, p := range paths {
		e, err := xacml.ParseFile(p)
		if err != nil {
			return exitf(2, "%s", firstError(err))
		}
		target := *to
		if target == "" {
			target = "yaml"
			if formatOf(p) == "yaml" {
				target = "xml"
			}
		}
		data, err := render(e, target)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		switch {
		case *out == "":
			_, err = env.stdout.Write(data)
		case len(paths) == 1 && !isDir(*out):
			err = os.WriteFile(*out, data, 0o644)
		default:
			base := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)) + "." + target
			err = os.WriteFile(filepath.Join(*out, base), data, 0o644)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// runPolicyFmt rewrites policy files in the canonical form of their own
// format. Files with comments are left alone unless --force, because the
// canonical writer cannot keep comments and fmt must not lose an author's
// words silently.
func runPolicyFmt(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("policy fmt", env.stderr)
	check := fs.Bool("check", false, "list files that are not formatted and exit 1, changing nothing")
	force := fs.Bool("force", false, "rewrite files even when that drops their comments")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return exitf(2, "usage: verdict policy fmt [--check] [--force] PATH...")
	}
	files, err := policyFiles(paths)
	if err != nil {
		return err
	}
	unformatted := 0
	for _, p := range files {
		orig, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		e, err := xacml.ParseFile(p)
		if err != nil {
			return exitf(2, "%s", firstError(err))
		}
		data, err := render(e, formatOf(p))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if bytes.Equal(orig, data) {
			continue
		}
		unformatted++
		if *check {
			fmt.Fprintln(env.stdout, p)
			continue
		}
		if hasComments(orig, formatOf(p)) && !*force {
			fmt.Fprintf(env.stderr, "%s: not rewritten: it has comments the formatter would drop (use --force)\n", p)
			continue
		}
		if err := writeFileAtomic(p, data); err != nil {
			return err
		}
		fmt.Fprintln(env.stdout, p)
	}
	if *check && unformatted > 0 {
		return exitf(1, "%d file(s) not formatted", unformatted)
	}
	return nil
}

// policyFiles expands directories into the policy files LoadPaths would read.
func policyFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if !isDir(p) {
			out = append(out, p)
			continue
		}
		err := filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if xacml.IsPolicyFileName(d.Name()) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func hasComments(data []byte, format string) bool {
	if format == "xml" {
		return bytes.Contains(data, []byte("<!--"))
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			return true
		}
	}
	return false
}

// writeFileAtomic replaces a file so that a crash leaves the old or the new
// content, never a torn one.
func writeFileAtomic(path string, data []byte) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), st.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
