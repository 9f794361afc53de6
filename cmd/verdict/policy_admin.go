package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"connectrpc.com/connect"

	papserver "github.com/verdict-authz/verdict/pap/server"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
	"github.com/verdict-authz/verdict/xacml"
)

// defaultRolloutTimeout is how long push and rollback wait for the live
// PDPs (contract 6).
const defaultRolloutTimeout = 30 * time.Second

// adminFlags are the flags every `verdict policy` command talking to the
// PAP shares.
type adminFlags struct {
	config  *string
	output  *string
	service *string
}

func addAdminFlags(fs *flag.FlagSet) *adminFlags {
	return &adminFlags{
		config:  fs.String("config", "", "platform configuration (default $VERDICT_CONFIG, then ./verdict-data/verdict.yaml)"),
		output:  fs.String("output", "text", "output format: text or json"),
		service: fs.String("service", "", "service name"),
	}
}

// check validates the shared flags.
func (f *adminFlags) check(needService bool) error {
	if *f.output != "text" && *f.output != "json" {
		return exitf(2, "--output must be text or json, not %q", *f.output)
	}
	if needService && *f.service == "" {
		return exitf(2, "--service is required")
	}
	return nil
}

func (f *adminFlags) json() bool { return *f.output == "json" }

// client connects to the PAP of the platform configuration.
func (f *adminFlags) client() (verdictv1connect.PolicyAdminServiceClient, error) {
	cfg, err := loadPlatformConfig(platformConfigPath(*f.config))
	if err != nil {
		return nil, exitf(2, "%v", err)
	}
	url, err := cfg.endpoint("pap")
	if err != nil {
		return nil, exitf(2, "%v", err)
	}
	hc, err := cfg.httpClient()
	if err != nil {
		return nil, exitf(2, "%v", err)
	}
	return verdictv1connect.NewPolicyAdminServiceClient(hc, url), nil
}

// rpcFailure turns a PAP error into the command's exit: refused policies
// print every diagnostic and exit 2, bad arguments exit 2, anything else
// exits 1.
func rpcFailure(env *cliEnv, what string, err error) error {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var diags []*verdictv1.Diagnostic
	for _, d := range ce.Details() {
		if v, derr := d.Value(); derr == nil {
			if f, ok := v.(*verdictv1.PolicyValidationFailure); ok {
				diags = append(diags, f.GetDiagnostics()...)
			}
		}
	}
	if len(diags) > 0 {
		printDiagnostics(env.stderr, diags)
		return exitf(2, "%s refused: %d problem(s), nothing stored", what, len(diags))
	}
	switch ce.Code() {
	case connect.CodeInvalidArgument, connect.CodeNotFound, connect.CodeFailedPrecondition:
		return exitf(2, "%s: %s", what, ce.Message())
	}
	return exitf(1, "%s: %s: %s", what, ce.Code(), ce.Message())
}

func printDiagnostics(w io.Writer, diags []*verdictv1.Diagnostic) {
	for _, d := range diags {
		fmt.Fprintln(w, papserver.DiagnosticText(d))
	}
}

// isPolicyTestName reports a policy test file (*_test.yaml, *.test.yaml).
func isPolicyTestName(name string) bool {
	base := strings.ToLower(filepath.Base(name))
	for _, suffix := range []string{"_test.yaml", "_test.yml", ".test.yaml", ".test.yml"} {
		if strings.HasSuffix(base, suffix) {
			return true
		}
	}
	return false
}

// sourcesAndClient is what push and validate share: the service flag
// checked, the policy files of paths read (usage when there are none) and
// the admin client connected.
func (f *adminFlags) sourcesAndClient(paths []string, usage string) ([]*verdictv1.PolicySource, verdictv1connect.PolicyAdminServiceClient, error) {
	if len(paths) == 0 {
		return nil, nil, exitf(2, "%s", usage)
	}
	if err := f.check(true); err != nil {
		return nil, nil, err
	}
	srcs, err := collectSources(paths)
	if err != nil {
		return nil, nil, exitf(2, "%v", err)
	}
	c, err := f.client()
	if err != nil {
		return nil, nil, err
	}
	return srcs, c, nil
}

// collectSources reads the files of a push: files named explicitly go in
// under their base name; directories are walked (hidden entries skipped)
// for policy and policy test files, named relative to the directory.
func collectSources(paths []string) ([]*verdictv1.PolicySource, error) {
	var out []*verdictv1.PolicySource
	seen := make(map[string]string)
	add := func(name, file string) error {
		name = filepath.ToSlash(name)
		if prev, dup := seen[name]; dup {
			return fmt.Errorf("%s and %s would both be pushed as %s", prev, file, name)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		seen[name] = file
		out = append(out, &verdictv1.PolicySource{Path: name, Content: data})
		return nil
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			if err := add(filepath.Base(p), p); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(p, func(file string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && file != p {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !(xacml.IsPolicyFileName(d.Name()) || isPolicyTestName(d.Name())) {
				return nil
			}
			rel, err := filepath.Rel(p, file)
			if err != nil {
				return err
			}
			return add(rel, file)
		})
		if err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no policy files in %s", strings.Join(paths, ", "))
	}
	return out, nil
}

func runPolicyPush(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("policy push", env.stderr)
	af := addAdminFlags(fs)
	root := fs.String("root", "", "PolicyId or PolicySetId of the root (default: the one no other policy references)")
	message := fs.String("message", "", "description of the change, for the change log")
	parent := fs.Int64("expect-parent", 0, "refuse unless the service's latest revision is this one")
	timeout := fs.Duration("timeout", defaultRolloutTimeout, "how long to wait for every live PDP to activate the revision")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	srcs, c, err := af.sourcesAndClient(paths, "usage: verdict policy push --service NAME [--root ID] [--message MSG] [--timeout D] PATH...")
	if err != nil {
		return err
	}
	resp, err := c.Push(ctx, connect.NewRequest(&verdictv1.PushRequest{
		Service: *af.service, RootPolicyId: *root, Sources: srcs, Message: *message, ExpectedParentRevision: *parent,
	}))
	if err != nil {
		return rpcFailure(env, "push", err)
	}
	printDiagnostics(env.stderr, resp.Msg.GetWarnings())
	return finishChange(ctx, env, c, af, resp.Msg.GetRevision(), *timeout)
}

// finishChange prints a new revision (its number, or JSON) and waits until
// every live PDP has it: exit 0 when they do or none is live, exit 3
// naming the stragglers after timeout.
func finishChange(ctx context.Context, env *cliEnv, c verdictv1connect.PolicyAdminServiceClient, af *adminFlags, rev *verdictv1.Revision, timeout time.Duration) error {
	if !af.json() {
		fmt.Fprintln(env.stdout, rev.GetNumber())
	}
	r, err := waitRollout(ctx, env, c, rev.GetService(), rev.GetNumber(), timeout)
	if af.json() {
		if jerr := writeJSON(env.stdout, map[string]any{"revision": revisionOut(rev), "rollout": rolloutOut(r)}); jerr != nil {
			return jerr
		}
	}
	return err
}

// waitRollout follows the rollout of a revision, printing progress on
// stderr, until it is complete, no PDP is live, or timeout passes.
func waitRollout(ctx context.Context, env *cliEnv, c verdictv1connect.PolicyAdminServiceClient, service string, rev int64, timeout time.Duration) (*verdictv1.Rollout, error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stream, err := c.WatchRollout(wctx, connect.NewRequest(&verdictv1.WatchRolloutRequest{Service: service, Revision: rev}))
	if err != nil {
		return nil, rpcFailure(env, "watching the rollout", err)
	}
	defer stream.Close()
	var last *verdictv1.Rollout
	for stream.Receive() {
		last = stream.Msg().GetRollout()
		if last.GetLiveCount() == 0 {
			fmt.Fprintln(env.stderr, "0 PDPs live")
			return last, nil
		}
		fmt.Fprintln(env.stderr, rolloutText(last))
		if last.GetComplete() {
			return last, nil
		}
	}
	err = stream.Err()
	if last != nil && last.GetComplete() {
		return last, nil
	}
	// The deadline travels with the request, so the server may end the
	// stream with deadline_exceeded a moment before wctx itself expires.
	timedOut := wctx.Err() != nil || (err != nil && connect.CodeOf(err) == connect.CodeDeadlineExceeded)
	if timedOut && ctx.Err() == nil {
		if last == nil {
			return nil, exitf(3, "timed out after %s waiting for the rollout of revision %d", timeout, rev)
		}
		return last, exitf(3, "timed out after %s: %s", timeout, rolloutText(last))
	}
	if err != nil {
		return last, rpcFailure(env, "watching the rollout", err)
	}
	return last, exitf(1, "the rollout stream ended before the rollout completed")
}

// rolloutText is the one-line rollout view: "service S revision N active
// on M of K PDPs, stragglers: ...".
func rolloutText(r *verdictv1.Rollout) string {
	s := fmt.Sprintf("service %s revision %d active on %d of %d PDPs", r.GetService(), r.GetRevision(), r.GetActiveCount(), r.GetLiveCount())
	if len(r.GetStragglers()) == 0 {
		return s
	}
	var names []string
	for _, p := range r.GetStragglers() {
		n := fmt.Sprintf("%s (revision %d", p.GetInstanceId(), p.GetActiveRevision())
		if p.GetLastError() != "" {
			n += ": " + p.GetLastError()
		}
		names = append(names, n+")")
	}
	return s + ", stragglers: " + strings.Join(names, ", ")
}

func runPolicyValidate(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("policy validate", env.stderr)
	af := addAdminFlags(fs)
	root := fs.String("root", "", "PolicyId or PolicySetId of the root")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	srcs, c, err := af.sourcesAndClient(paths, "usage: verdict policy validate --service NAME [--root ID] PATH...")
	if err != nil {
		return err
	}
	resp, err := c.Validate(ctx, connect.NewRequest(&verdictv1.ValidateRequest{Service: *af.service, RootPolicyId: *root, Sources: srcs}))
	if err != nil {
		return rpcFailure(env, "validate", err)
	}
	v := resp.Msg
	if af.json() {
		var diags []string
		for _, d := range v.GetDiagnostics() {
			diags = append(diags, papserver.DiagnosticText(d))
		}
		if err := writeJSON(env.stdout, map[string]any{"valid": v.GetValid(), "root_policy_id": v.GetRootPolicyId(),
			"root_policy_kind": kindName(v.GetRootPolicyKind()), "diagnostics": diags}); err != nil {
			return err
		}
	} else {
		printDiagnostics(env.stderr, v.GetDiagnostics())
	}
	if !v.GetValid() {
		return exitf(2, "%d problem(s)", len(v.GetDiagnostics()))
	}
	if !af.json() {
		fmt.Fprintf(env.stdout, "valid: root %s %s (%d files)\n", kindName(v.GetRootPolicyKind()), v.GetRootPolicyId(), len(srcs))
	}
	return nil
}

func runPolicyList(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("policy list", env.stderr)
	af := addAdminFlags(fs)
	limit := fs.Int("limit", 100, "most revisions to show, newest first (0: all)")
	if pos, err := parseInterleaved(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return exitf(2, "usage: verdict policy list --service NAME [--limit N] [--output json]")
	}
	if err := af.check(true); err != nil {
		return err
	}
	c, err := af.client()
	if err != nil {
		return err
	}
	var revs []*verdictv1.Revision
	token := ""
	for {
		size := int32(100)
		if *limit > 0 {
			size = int32(min(*limit-len(revs), 1000))
		}
		resp, err := c.List(ctx, connect.NewRequest(&verdictv1.ListRequest{Service: *af.service, PageSize: size, PageToken: token}))
		if err != nil {
			return rpcFailure(env, "list", err)
		}
		revs = append(revs, resp.Msg.GetRevisions()...)
		token = resp.Msg.GetNextPageToken()
		if token == "" || (*limit > 0 && len(revs) >= *limit) {
			break
		}
	}
	if af.json() {
		out := make([]revisionJSON, 0, len(revs))
		for _, r := range revs {
			out = append(out, revisionOut(r))
		}
		return writeJSON(env.stdout, out)
	}
	fmt.Fprintf(env.stdout, "%-5s %-20s %-24s %-19s %s\n", "REV", "CREATED", "AUTHOR", "DIGEST", "MESSAGE")
	for _, r := range revs {
		msg := r.GetMessage()
		if r.GetRestoredFromRevision() != 0 && msg == "" {
			msg = fmt.Sprintf("rollback to %d", r.GetRestoredFromRevision())
		}
		fmt.Fprintf(env.stdout, "%-5d %-20s %-24s %-19s %s\n", r.GetNumber(), r.GetCreateTime().AsTime().Format(time.DateTime),
			r.GetAuthor(), shortDigest(r.GetDigest()), msg)
	}
	return nil
}

func runPolicyGet(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("policy get", env.stderr)
	af := addAdminFlags(fs)
	rev := fs.Int64("revision", 0, "revision number (default: the latest)")
	out := fs.String("out", "", "write the sources into this directory instead of printing them")
	compiled := fs.Bool("compiled", false, "also show the compiled Rego")
	if pos, err := parseInterleaved(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return exitf(2, "usage: verdict policy get --service NAME [--revision N] [--out DIR] [--compiled]")
	}
	if err := af.check(true); err != nil {
		return err
	}
	c, err := af.client()
	if err != nil {
		return err
	}
	resp, err := c.Get(ctx, connect.NewRequest(&verdictv1.PolicyAdminServiceGetRequest{Service: *af.service, Revision: *rev, IncludeCompiled: *compiled}))
	if err != nil {
		return rpcFailure(env, "get", err)
	}
	m := resp.Msg
	if *out != "" {
		for _, s := range m.GetSources() {
			p := filepath.Join(*out, filepath.FromSlash(s.GetPath()))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, s.GetContent(), 0o644); err != nil {
				return err
			}
		}
		fmt.Fprintf(env.stderr, "wrote %d files of revision %d to %s\n", len(m.GetSources()), m.GetRevision().GetNumber(), *out)
	}
	if af.json() {
		type file struct {
			Path    string `json:"path"`
			Content string `json:"content"`
		}
		var srcs, mods []file
		for _, s := range m.GetSources() {
			srcs = append(srcs, file{s.GetPath(), string(s.GetContent())})
		}
		for _, r := range m.GetCompiledModules() {
			mods = append(mods, file{r.GetPath(), r.GetContent()})
		}
		return writeJSON(env.stdout, map[string]any{"revision": revisionOut(m.GetRevision()), "sources": srcs, "compiled_modules": mods})
	}
	if *out != "" {
		return nil
	}
	r := m.GetRevision()
	fmt.Fprintf(env.stdout, "# service %s revision %d by %s at %s, root %s, digest %s\n", r.GetService(), r.GetNumber(), r.GetAuthor(),
		r.GetCreateTime().AsTime().Format(time.RFC3339), r.GetRootPolicyId(), r.GetDigest())
	for _, s := range m.GetSources() {
		fmt.Fprintf(env.stdout, "# ---- %s ----\n%s\n", s.GetPath(), s.GetContent())
	}
	for _, mod := range m.GetCompiledModules() {
		fmt.Fprintf(env.stdout, "# ---- compiled: %s ----\n%s\n", mod.GetPath(), mod.GetContent())
	}
	return nil
}

func runPolicyDiff(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("policy diff", env.stderr)
	af := addAdminFlags(fs)
	from := fs.Int64("from", 0, "old side revision (default: the latest)")
	to := fs.Int64("to", 0, "new side revision (default: the latest), unless PATHs are given")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if err := af.check(true); err != nil {
		return err
	}
	req := &verdictv1.DiffRequest{Service: *af.service, FromRevision: *from, ToRevision: *to}
	if len(paths) > 0 {
		if req.ToSources, err = collectSources(paths); err != nil {
			return exitf(2, "%v", err)
		}
	}
	c, err := af.client()
	if err != nil {
		return err
	}
	resp, err := c.Diff(ctx, connect.NewRequest(req))
	if err != nil {
		return rpcFailure(env, "diff", err)
	}
	d := resp.Msg
	if af.json() {
		type fileOut struct {
			Path   string `json:"path"`
			Change string `json:"change"`
			Diff   string `json:"unified_diff"`
		}
		type policyOut struct {
			Kind    string `json:"kind"`
			ID      string `json:"id"`
			Version string `json:"version"`
			Change  string `json:"change"`
		}
		files := []fileOut{}
		for _, f := range d.GetFiles() {
			files = append(files, fileOut{f.GetPath(), changeName(f.GetChange()), f.GetUnifiedDiff()})
		}
		pols := []policyOut{}
		for _, p := range d.GetPolicies() {
			pols = append(pols, policyOut{kindName(p.GetPolicy().GetKind()), p.GetPolicy().GetId(), p.GetPolicy().GetVersion(), changeName(p.GetChange())})
		}
		out := map[string]any{"from": revisionOut(d.GetFrom()), "files": files, "policies": pols, "root_changed": d.GetRootChanged()}
		if d.GetTo() != nil {
			out["to"] = revisionOut(d.GetTo())
		}
		return writeJSON(env.stdout, out)
	}
	for _, f := range d.GetFiles() {
		fmt.Fprint(env.stdout, f.GetUnifiedDiff())
	}
	for _, p := range d.GetPolicies() {
		fmt.Fprintf(env.stderr, "%s %s %s\n", changeName(p.GetChange()), kindName(p.GetPolicy().GetKind()), p.GetPolicy().GetId())
	}
	if d.GetRootChanged() {
		fmt.Fprintln(env.stderr, "the root policy changes")
	}
	return nil
}

func runPolicyRollback(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("policy rollback", env.stderr)
	af := addAdminFlags(fs)
	to := fs.Int64("to", 0, "revision whose content to restore (required)")
	message := fs.String("message", "", "why, for the change log")
	parent := fs.Int64("expect-parent", 0, "refuse unless the service's latest revision is this one")
	timeout := fs.Duration("timeout", defaultRolloutTimeout, "how long to wait for every live PDP to activate the new revision")
	if pos, err := parseInterleaved(fs, args); err != nil {
		return err
	} else if len(pos) > 0 || *to <= 0 {
		return exitf(2, "usage: verdict policy rollback --service NAME --to REVISION [--message MSG] [--timeout D]")
	}
	if err := af.check(true); err != nil {
		return err
	}
	c, err := af.client()
	if err != nil {
		return err
	}
	resp, err := c.Rollback(ctx, connect.NewRequest(&verdictv1.RollbackRequest{Service: *af.service, ToRevision: *to, Message: *message, ExpectedParentRevision: *parent}))
	if err != nil {
		return rpcFailure(env, "rollback", err)
	}
	return finishChange(ctx, env, c, af, resp.Msg.GetRevision(), *timeout)
}

func runPolicyStatus(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("policy status", env.stderr)
	af := addAdminFlags(fs)
	rev := fs.Int64("revision", 0, "target revision (default: the latest)")
	all := fs.Bool("instances", false, "list every live PDP, not only stragglers")
	if pos, err := parseInterleaved(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return exitf(2, "usage: verdict policy status --service NAME [--revision N] [--instances] [--output json]")
	}
	if err := af.check(true); err != nil {
		return err
	}
	c, err := af.client()
	if err != nil {
		return err
	}
	resp, err := c.RolloutStatus(ctx, connect.NewRequest(&verdictv1.RolloutStatusRequest{Service: *af.service, Revision: *rev, IncludeInstances: *all}))
	if err != nil {
		return rpcFailure(env, "status", err)
	}
	r := resp.Msg.GetRollout()
	if af.json() {
		return writeJSON(env.stdout, rolloutOut(r))
	}
	fmt.Fprintln(env.stdout, rolloutText(r))
	for _, p := range r.GetInstances() {
		fmt.Fprintf(env.stdout, "  %s revision %d %s %s\n", p.GetInstanceId(), p.GetActiveRevision(), shortDigest(p.GetActiveDigest()), p.GetLastError())
	}
	return nil
}

// revisionJSON is a revision in `--output json`, with numbers as JSON
// numbers (protojson would quote int64s).
type revisionJSON struct {
	Service        string    `json:"service"`
	Number         int64     `json:"number"`
	Digest         string    `json:"digest"`
	RootPolicyID   string    `json:"root_policy_id"`
	RootPolicyKind string    `json:"root_policy_kind"`
	Author         string    `json:"author"`
	Message        string    `json:"message"`
	Parent         int64     `json:"parent_revision"`
	RestoredFrom   int64     `json:"restored_from_revision"`
	SourceCount    int32     `json:"source_count"`
	CreateTime     time.Time `json:"create_time"`
}

func revisionOut(r *verdictv1.Revision) revisionJSON {
	return revisionJSON{
		Service: r.GetService(), Number: r.GetNumber(), Digest: r.GetDigest(), RootPolicyID: r.GetRootPolicyId(),
		RootPolicyKind: kindName(r.GetRootPolicyKind()), Author: r.GetAuthor(), Message: r.GetMessage(),
		Parent: r.GetParentRevision(), RestoredFrom: r.GetRestoredFromRevision(), SourceCount: r.GetSourceCount(),
		CreateTime: r.GetCreateTime().AsTime(),
	}
}

// pdpJSON is one PDP in a rollout.
type pdpJSON struct {
	Instance      string    `json:"instance_id"`
	Revision      int64     `json:"active_revision"`
	Digest        string    `json:"active_digest"`
	LastError     string    `json:"last_error"`
	LastHeartbeat time.Time `json:"last_heartbeat_time"`
}

// rolloutJSON is a rollout in `--output json`.
type rolloutJSON struct {
	Service    string    `json:"service"`
	Revision   int64     `json:"revision"`
	Digest     string    `json:"digest"`
	Active     int32     `json:"active_count"`
	Live       int32     `json:"live_count"`
	Complete   bool      `json:"complete"`
	Stragglers []pdpJSON `json:"stragglers"`
	Instances  []pdpJSON `json:"instances,omitempty"`
}

func rolloutOut(r *verdictv1.Rollout) *rolloutJSON {
	if r == nil {
		return nil
	}
	conv := func(ps []*verdictv1.PdpInstance) []pdpJSON {
		out := []pdpJSON{}
		for _, p := range ps {
			out = append(out, pdpJSON{p.GetInstanceId(), p.GetActiveRevision(), p.GetActiveDigest(), p.GetLastError(), p.GetLastHeartbeatTime().AsTime()})
		}
		return out
	}
	out := &rolloutJSON{Service: r.GetService(), Revision: r.GetRevision(), Digest: r.GetDigest(), Active: r.GetActiveCount(),
		Live: r.GetLiveCount(), Complete: r.GetComplete(), Stragglers: conv(r.GetStragglers())}
	if len(r.GetInstances()) > 0 {
		out.Instances = conv(r.GetInstances())
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func kindName(k verdictv1.PolicyKind) string {
	switch k {
	case verdictv1.PolicyKind_POLICY_KIND_POLICY:
		return "Policy"
	case verdictv1.PolicyKind_POLICY_KIND_POLICY_SET:
		return "PolicySet"
	}
	return ""
}

func changeName(c verdictv1.ChangeType) string {
	switch c {
	case verdictv1.ChangeType_CHANGE_TYPE_ADDED:
		return "added"
	case verdictv1.ChangeType_CHANGE_TYPE_REMOVED:
		return "removed"
	case verdictv1.ChangeType_CHANGE_TYPE_MODIFIED:
		return "modified"
	}
	return ""
}

// shortDigest abbreviates "sha256:<hex>" for tables.
func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}
