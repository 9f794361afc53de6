package main

import (
	"context"
	"fmt"

	"github.com/verdict-authz/verdict/pap/policytest"
)

// runPolicyTest runs the test files next to policies (format: package
// pap/policytest) and exits 1 when any case fails.
func runPolicyTest(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("policy test", env.stderr)
	verbose := fs.Bool("v", false, "list passing cases too")
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return exitf(2, "usage: verdict policy test [-v] DIR...")
	}
	passed, failed := 0, 0
	for _, dir := range dirs {
		results, err := policytest.RunDir(ctx, dir)
		if err != nil {
			return exitf(2, "%s", firstError(err))
		}
		for _, r := range results {
			if r.Failure == "" {
				passed++
				if *verbose {
					fmt.Fprintf(env.stdout, "ok   %s: %s\n", r.File, r.Name)
				}
				continue
			}
			failed++
			fmt.Fprintf(env.stdout, "FAIL %s: %s: %s\n", r.File, r.Name, r.Failure)
		}
	}
	fmt.Fprintf(env.stdout, "policy tests: %d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return exitf(1, "%d policy test(s) failed", failed)
	}
	return nil
}
