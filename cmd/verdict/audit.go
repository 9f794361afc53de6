package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/verdict-authz/verdict/audit"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

// auditClient connects to the audit endpoint of the platform
// configuration (contract 6).
func auditClient(f *adminFlags) (verdictv1connect.AuditServiceClient, error) {
	cfg, err := loadPlatformConfig(platformConfigPath(*f.config))
	if err != nil {
		return nil, exitf(2, "%v", err)
	}
	url, err := cfg.endpoint("audit")
	if err != nil {
		return nil, exitf(2, "%v", err)
	}
	hc, err := cfg.httpClient()
	if err != nil {
		return nil, exitf(2, "%v", err)
	}
	return verdictv1connect.NewAuditServiceClient(hc, url), nil
}

// writeProto prints one message as protojson, the JSON form other tools
// (and the Connect API) use for the same message.
func writeProto(w io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

var decisionFlagValues = map[string]verdictv1.Decision{
	"":               verdictv1.Decision_DECISION_UNSPECIFIED,
	"permit":         verdictv1.Decision_DECISION_PERMIT,
	"deny":           verdictv1.Decision_DECISION_DENY,
	"notapplicable":  verdictv1.Decision_DECISION_NOT_APPLICABLE,
	"not-applicable": verdictv1.Decision_DECISION_NOT_APPLICABLE,
	"indeterminate":  verdictv1.Decision_DECISION_INDETERMINATE,
}

// runAuditQuery implements `verdict audit query`: one page per call, or
// every page with --all; the next page's token goes to stderr so that a
// script can continue with --page-token.
func runAuditQuery(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("audit query", env.stderr)
	f := addAdminFlags(fs)
	subject := fs.String("subject", "", "access-subject id")
	resType := fs.String("resource-type", "", "resource type")
	resID := fs.String("resource-id", "", "resource id")
	action := fs.String("action", "", "action name")
	decision := fs.String("decision", "", "permit, deny, notapplicable or indeterminate")
	revision := fs.Int64("revision", 0, "bundle revision")
	since := fs.Duration("since", 0, "only decisions of the last DURATION (e.g. 1h)")
	until := fs.Duration("until", 0, "only decisions older than DURATION ago")
	limit := fs.Int("limit", 50, "records per page")
	token := fs.String("page-token", "", "continue from a previous page")
	all := fs.Bool("all", false, "fetch every page")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if err := f.check(false); err != nil {
		return err
	}
	dec, ok := decisionFlagValues[strings.ToLower(*decision)]
	if !ok {
		return exitf(2, "--decision must be permit, deny, notapplicable or indeterminate, not %q", *decision)
	}
	client, err := auditClient(f)
	if err != nil {
		return err
	}
	req := &verdictv1.QueryRequest{
		Service: *f.service, SubjectId: *subject, ResourceType: *resType, ResourceId: *resID, ActionName: *action,
		Decision: dec, Revision: *revision, PageSize: int32(*limit),
	}
	req.StartTime, req.EndTime = timeWindow(time.Now(), *since, *until)
	out := &verdictv1.QueryResponse{}
	out.Records, out.NextPageToken, err = collectPages(*all, *token, func(token string) ([]*verdictv1.DecisionRecord, string, error) {
		req.PageToken = token
		resp, err := client.Query(ctx, connect.NewRequest(req))
		return resp.Msg.GetRecords(), resp.Msg.GetNextPageToken(), err
	})
	if err != nil {
		return rpcFailure(env, "audit query", err)
	}
	if f.json() {
		return writeProto(env.stdout, out)
	}
	tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tDECISION\tSERVICE\tREV\tSUBJECT\tACTION\tRESOURCE\tID")
	for _, r := range out.GetRecords() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.GetDecideTime().AsTime().Format(time.RFC3339),
			r.GetResult().GetXacmlDecision(), r.GetService(), r.GetBundleRevision(), attr(r, "subject", "urn:oasis:names:tc:xacml:1.0:subject:subject-id", "id", "sub"),
			attr(r, "action", "urn:oasis:names:tc:xacml:1.0:action:action-id", "name"), resourceText(r), r.GetDecisionId())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if out.NextPageToken != "" {
		fmt.Fprintf(env.stderr, "more: --page-token %s\n", out.NextPageToken)
	}
	return nil
}

// attr returns the first value of the first attribute named by ids in the
// category whose URI ends with cat.
func attr(r *verdictv1.DecisionRecord, cat string, ids ...string) string {
	for _, id := range ids {
		for _, a := range r.GetRequestAttributes() {
			if strings.HasSuffix(a.GetCategory(), cat) && a.GetAttributeId() == id && len(a.GetValues()) > 0 {
				return a.GetValues()[0]
			}
		}
	}
	return "-"
}

func resourceText(r *verdictv1.DecisionRecord) string {
	t, id := attr(r, "resource", "type"), attr(r, "resource", "urn:oasis:names:tc:xacml:1.0:resource:resource-id", "id")
	if t == "-" {
		return id
	}
	return t + "/" + id
}

// runAuditGet implements `verdict audit get --id ID`.
func runAuditGet(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("audit get", env.stderr)
	f := addAdminFlags(fs)
	id := fs.String("id", "", "decision id")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if err := f.check(false); err != nil {
		return err
	}
	if *id == "" {
		return exitf(2, "--id is required")
	}
	client, err := auditClient(f)
	if err != nil {
		return err
	}
	resp, err := client.Get(ctx, connect.NewRequest(&verdictv1.AuditServiceGetRequest{DecisionId: *id}))
	if err != nil {
		return rpcFailure(env, "audit get", err)
	}
	return writeProto(env.stdout, resp.Msg.GetRecord())
}

// runAuditReplay implements `verdict audit replay --id ID [--revision N]`.
func runAuditReplay(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("audit replay", env.stderr)
	f := addAdminFlags(fs)
	id := fs.String("id", "", "decision id")
	revision := fs.Int64("revision", 0, "revision to evaluate against (default: the recorded one)")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if err := f.check(false); err != nil {
		return err
	}
	if *id == "" {
		return exitf(2, "--id is required")
	}
	client, err := auditClient(f)
	if err != nil {
		return err
	}
	resp, err := client.Replay(ctx, connect.NewRequest(&verdictv1.ReplayRequest{DecisionId: *id, Revision: *revision}))
	if err != nil {
		return rpcFailure(env, "audit replay", err)
	}
	m := resp.Msg
	if f.json() {
		return writeProto(env.stdout, m)
	}
	fmt.Fprintf(env.stdout, "decision %s: recorded %s under revision %d, replayed %s under revision %d\n", *id,
		m.GetRecorded().GetResult().GetXacmlDecision(), m.GetRecorded().GetBundleRevision(), m.GetReplayed().GetXacmlDecision(), m.GetReplayedRevision())
	if m.GetDecisionChanged() {
		fmt.Fprintln(env.stdout, "DECISION CHANGED")
	}
	for _, d := range m.GetDifferences() {
		fmt.Fprintf(env.stdout, "  %s: %q -> %q\n", d.GetField(), d.GetRecorded(), d.GetReplayed())
	}
	for _, p := range m.GetRecorded().GetPipFetches() {
		if p.GetError() != "" {
			fmt.Fprintf(env.stdout, "note: PIP %s failed when the decision was made (%s); the replay fails the same way\n", p.GetProvider(), p.GetError())
		}
	}
	if m.GetInputsMasked() {
		var masked []string
		for _, mf := range m.GetRecorded().GetMaskedFields() {
			masked = append(masked, mf.GetPath()+" ("+strings.ToLower(strings.TrimPrefix(mf.GetAction().String(), "MASK_ACTION_"))+")")
		}
		fmt.Fprintf(env.stdout, "MASKED INPUTS: %s; the replay saw the masked values, so differences may come from masking\n", strings.Join(masked, ", "))
	}
	return nil
}

// runAuditVerify implements `verdict audit verify`: exit 0 when every
// chain is intact, 1 (with every problem listed) otherwise.
func runAuditVerify(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("audit verify", env.stderr)
	f := addAdminFlags(fs)
	cpPath := fs.String("checkpoints", "", "a checkpoint file obtained independently, checked as well as the server's")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if err := f.check(false); err != nil {
		return err
	}
	client, err := auditClient(f)
	if err != nil {
		return err
	}
	req := &verdictv1.VerifyRequest{Service: *f.service}
	if *cpPath != "" {
		latest, err := audit.NewCheckpointFile(*cpPath).Latest()
		if err != nil {
			return exitf(2, "%v", err)
		}
		for _, c := range latest {
			req.TrustedCheckpoints = append(req.TrustedCheckpoints, &verdictv1.Checkpoint{
				Service: c.Service, Sequence: c.Seq, ChainHash: c.Hash, SignTime: timestamppb.New(c.Time), KeyId: c.KeyID, Signature: c.Signature,
			})
		}
	}
	resp, err := client.Verify(ctx, connect.NewRequest(req))
	if err != nil {
		return rpcFailure(env, "audit verify", err)
	}
	m := resp.Msg
	if f.json() {
		if err := writeProto(env.stdout, m); err != nil {
			return err
		}
	} else {
		for _, c := range m.GetChains() {
			state := "intact"
			if !c.GetIntact() {
				state = "TAMPERED"
			}
			fmt.Fprintf(env.stdout, "%s: %s, %d records (%d..%d)", c.GetService(), state, c.GetRecordsChecked(), c.GetFirstSequence(), c.GetLastSequence())
			if cp := c.GetLatestCheckpoint(); cp != nil {
				fmt.Fprintf(env.stdout, ", checkpoint at %d", cp.GetSequence())
			}
			fmt.Fprintln(env.stdout)
			for _, p := range c.GetProblems() {
				kind := strings.ToLower(strings.TrimPrefix(p.GetKind().String(), "CHAIN_PROBLEM_KIND_"))
				fmt.Fprintf(env.stdout, "  %s at %d %s: %s\n", kind, p.GetSequence(), p.GetDecisionId(), p.GetDetail())
			}
		}
	}
	if !m.GetIntact() {
		return exitf(1, "audit verify: the decision log has been tampered with")
	}
	return nil
}

// runAuditChanges implements `verdict audit changes`: the PAP's change
// log through the audit API, with the same filters, paging and output
// forms as query. Each change shows who made which revision and what it
// changed relative to its parent: the policies, the files and (unless
// --diff=false) their unified diffs.
func runAuditChanges(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("audit changes", env.stderr)
	f := addAdminFlags(fs)
	author := fs.String("author", "", "only changes by this author")
	since := fs.Duration("since", 0, "only changes of the last DURATION (e.g. 24h)")
	until := fs.Duration("until", 0, "only changes older than DURATION ago")
	limit := fs.Int("limit", 50, "entries per page")
	token := fs.String("page-token", "", "continue from a previous page")
	all := fs.Bool("all", false, "fetch every page")
	diffs := fs.Bool("diff", true, "show each changed file's unified diff")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if err := f.check(false); err != nil {
		return err
	}
	client, err := auditClient(f)
	if err != nil {
		return err
	}
	req := &verdictv1.ChangesRequest{Service: *f.service, Author: *author, PageSize: int32(*limit), IncludeDiffs: *diffs}
	req.StartTime, req.EndTime = timeWindow(time.Now(), *since, *until)
	out := &verdictv1.ChangesResponse{}
	out.Changes, out.NextPageToken, err = collectPages(*all, *token, func(token string) ([]*verdictv1.PolicyChangeEntry, string, error) {
		req.PageToken = token
		resp, err := client.Changes(ctx, connect.NewRequest(req))
		return resp.Msg.GetChanges(), resp.Msg.GetNextPageToken(), err
	})
	if err != nil {
		return rpcFailure(env, "audit changes", err)
	}
	if f.json() {
		return writeProto(env.stdout, out)
	}
	if err := writeChanges(env.stdout, out.GetChanges()); err != nil {
		return err
	}
	if out.NextPageToken != "" {
		fmt.Fprintf(env.stderr, "more: --page-token %s\n", out.NextPageToken)
	}
	return nil
}

// writeChanges prints each change as one table row (as query prints a
// decision) followed by what it changed, indented.
func writeChanges(w io.Writer, changes []*verdictv1.PolicyChangeEntry) error {
	for i, c := range changes {
		if i > 0 {
			fmt.Fprintln(w)
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tSERVICE\tREV\tPARENT\tKIND\tAUTHOR\tMESSAGE")
		r := c.GetRevision()
		kind := strings.ToLower(strings.TrimPrefix(c.GetKind().String(), "POLICY_CHANGE_KIND_"))
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", r.GetCreateTime().AsTime().Format(time.RFC3339), r.GetService(), r.GetNumber(),
			r.GetParentRevision(), kind, r.GetAuthor(), r.GetMessage())
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, p := range c.GetPolicies() {
			id := p.GetPolicy()
			fmt.Fprintf(w, "  policy %s %s %s", changeText(p.GetChange()), strings.ToLower(strings.TrimPrefix(id.GetKind().String(), "POLICY_KIND_")), id.GetId())
			if id.GetVersion() != "" {
				fmt.Fprintf(w, " v%s", id.GetVersion())
			}
			fmt.Fprintln(w)
		}
		for _, file := range c.GetFiles() {
			fmt.Fprintf(w, "  file %s %s\n", changeText(file.GetChange()), file.GetPath())
		}
		for _, file := range c.GetFiles() {
			if d := file.GetUnifiedDiff(); d != "" {
				for _, line := range strings.SplitAfter(strings.TrimSuffix(d, "\n"), "\n") {
					fmt.Fprintf(w, "    %s", line)
				}
				fmt.Fprintln(w)
			}
		}
	}
	return nil
}

func changeText(c verdictv1.ChangeType) string {
	return strings.ToLower(strings.TrimPrefix(c.String(), "CHANGE_TYPE_"))
}

// timeWindow turns --since and --until (durations back from now; zero
// leaves that end open) into the bounds of a query.
func timeWindow(now time.Time, since, until time.Duration) (start, end *timestamppb.Timestamp) {
	if since > 0 {
		start = timestamppb.New(now.Add(-since))
	}
	if until > 0 {
		end = timestamppb.New(now.Add(-until))
	}
	return start, end
}

// collectPages fetches the page at token and, with all, every page after
// it; it returns the items and the token of the page that follows them.
func collectPages[T any](all bool, token string, fetch func(token string) ([]T, string, error)) ([]T, string, error) {
	var items []T
	for {
		page, next, err := fetch(token)
		if err != nil {
			return nil, "", err
		}
		items = append(items, page...)
		if !all || next == "" {
			return items, next, nil
		}
		token = next
	}
}
