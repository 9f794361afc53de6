package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/verdict-authz/verdict/pap/build"
	"github.com/verdict-authz/verdict/xacml"
)

// runPolicyCompile compiles policies and writes (or prints) the Rego
// modules, so authors can see exactly what the engine will run.
func runPolicyCompile(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("policy compile", env.stderr)
	out := fs.String("out", "", "directory to write the Rego modules to (default: print to stdout)")
	root := fs.String("root", "", "PolicyId or PolicySetId of the root (default: the one no other policy references)")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return exitf(2, "usage: verdict policy compile [--out DIR] [--root ID] PATH...")
	}
	policies, err := xacml.LoadPaths(paths...)
	if err != nil {
		return exitf(2, "%s", firstError(err))
	}
	compiled, err := build.CompileRoot(policies, *root)
	if err != nil {
		return exitf(2, "%s", firstError(err))
	}
	names := make([]string, 0, len(compiled.Output.Modules))
	for n := range compiled.Output.Modules {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		src := compiled.Output.Modules[n]
		if *out == "" {
			fmt.Fprintf(env.stdout, "# ---- %s ----\n%s\n", n, src)
			continue
		}
		p := filepath.Join(*out, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			return err
		}
	}
	if *out != "" {
		fmt.Fprintf(env.stderr, "wrote %d modules to %s\n", len(names), *out)
	}
	return nil
}
