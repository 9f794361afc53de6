// Command verdict is the single binary of the Verdict authorization platform.
// It stays thin: it parses flags and wires the library packages together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one leaf of the command tree ("xacml eval", "token verify", ...).
type command struct {
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv carries the process streams so that commands can be tested in-process.
type cliEnv struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// exitError asks main to exit with a specific code; its message goes to stderr.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitf builds an exitError with a formatted message.
func exitf(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

func commands() map[string]command {
	return map[string]command{
		"policy compile": {"compile policies to Rego and show or write the modules", runPolicyCompile},
		"policy convert": {"convert policies between XACML XML and YAML", runPolicyConvert},
		"policy fmt":     {"rewrite policy files in canonical form (--check to only list)", runPolicyFmt},
		"policy test":    {"run the test files next to policies", runPolicyTest},
		"xacml eval":     {"evaluate an XACML request against policies through the compiled Rego path", runXACMLEval},
		"token verify":   {"verify a JWT against a JWKS", runTokenVerify},
		"pdp serve":      {"serve the decision engine over AuthZEN, Connect, gRPC and Envoy ext_authz", runPDPServe},

		// The platform: PAP admin commands (contract 6) and verdict up (contract 5).
		"policy push":     {"push policies to the PAP as a service's next revision and wait for the PDPs", runPolicyPush},
		"policy validate": {"check policies with the PAP without storing them", runPolicyValidate},
		"policy list":     {"list a service's revisions", runPolicyList},
		"policy get":      {"show or restore one revision's policies", runPolicyGet},
		"policy diff":     {"diff two revisions, or a revision and local files", runPolicyDiff},
		"policy rollback": {"republish an earlier revision as a new one and wait for the PDPs", runPolicyRollback},
		"policy status":   {"show how far a revision has spread among the live PDPs", runPolicyStatus},
		"policy keys":     {"list or rotate the bundle-signing keys (policy keys list|rotate)", runPolicyKeys},
		"up":              {"run NATS, the PAP, a PDP and the example policies on this machine", runUp},
		"ca serve":        {"run the certificate authority's HTTPS API (REST, OCSP, CRL)", runCAServe},
		"ca init":         {"create the certificate authority and its admin client certificate", runCAInit},
		"ca token":        {"create a one-time join token for a new service instance (ca token create)", runCAToken},
		"ca bootstrap":    {"redeem a join token for a first certificate, pinning the CA root", runCABootstrap},
		"ca revoke":       {"revoke a certificate by serial", runCARevoke},
		"ca info":         {"describe the running certificate authority", runCAInfo},
		"audit query":     {"find decision records by service, subject, resource, action, decision and time", runAuditQuery},
		"audit get":       {"show one decision record", runAuditGet},
		"audit replay":    {"re-evaluate a recorded decision against its or another revision", runAuditReplay},
		"audit verify":    {"check the decision log's hash chains and signed checkpoints", runAuditVerify},
		"audit changes":   {"show the PAP's policy change log", runAuditChanges},
		"audit serve":     {"run the decision-log collector and the audit API", runAuditServe},
	}
}

func main() {
	env := &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches args to a command and maps its error to an exit code.
func run(ctx context.Context, env *cliEnv, args []string) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stdout, cmds)
		return 0
	}
	var name string
	var rest []string
	if len(args) >= 2 {
		if _, ok := cmds[args[0]+" "+args[1]]; ok {
			name, rest = args[0]+" "+args[1], args[2:]
		}
	}
	if name == "" {
		if _, ok := cmds[args[0]]; ok {
			name, rest = args[0], args[1:]
		}
	}
	if name == "" {
		fmt.Fprintf(env.stderr, "verdict: unknown command %q\n", strings.Join(args[:min(2, len(args))], " "))
		usage(env.stderr, cmds)
		return 2
	}
	err := cmds[name].run(ctx, env, rest)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintf(env.stderr, "verdict %s: %v\n", name, ee.err)
		}
		return ee.code
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	fmt.Fprintf(env.stderr, "verdict %s: %v\n", name, err)
	return 1
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: verdict <command> [flags]")
	fmt.Fprintln(w, "commands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-18s %s\n", n, cmds[n].summary)
	}
}
