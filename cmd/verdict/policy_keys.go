package main

import (
	"context"
	"fmt"
	"time"

	"connectrpc.com/connect"

	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// runPolicyKeys dispatches `verdict policy keys list|rotate`: the PAP's
// bundle-signing keys, managed through the admin API.
func runPolicyKeys(ctx context.Context, env *cliEnv, args []string) error {
	const usage = "usage: verdict policy keys list|rotate [--overlap 24h] [--propagation-timeout 30s] [--output json]"
	if len(args) == 0 {
		return exitf(2, usage)
	}
	switch args[0] {
	case "list":
		return runPolicyKeysList(ctx, env, args[1:])
	case "rotate":
		return runPolicyKeysRotate(ctx, env, args[1:])
	}
	return exitf(2, "unknown subcommand %q; %s", args[0], usage)
}

// signingKeyJSON is one key in `--output json`.
type signingKeyJSON struct {
	KeyID     string     `json:"key_id"`
	Signing   bool       `json:"signing"`
	Retired   bool       `json:"retired"`
	NotBefore *time.Time `json:"not_before,omitempty"`
	NotAfter  *time.Time `json:"not_after,omitempty"`
}

func runPolicyKeysList(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("policy keys list", env.stderr)
	af := addAdminFlags(fs)
	if pos, err := parseInterleaved(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return exitf(2, "usage: verdict policy keys list [--output json]")
	}
	if err := af.check(false); err != nil {
		return err
	}
	c, err := af.client()
	if err != nil {
		return err
	}
	resp, err := c.ListSigningKeys(ctx, connect.NewRequest(&verdictv1.ListSigningKeysRequest{}))
	if err != nil {
		return rpcFailure(env, "keys list", err)
	}
	m := resp.Msg
	if af.json() {
		out := struct {
			Signing string           `json:"signing_key_id"`
			Version uint64           `json:"key_set_version"`
			Keys    []signingKeyJSON `json:"keys"`
		}{Signing: m.GetSigningKeyId(), Version: m.GetKeySetVersion(), Keys: []signingKeyJSON{}}
		for _, k := range m.GetKeys() {
			j := signingKeyJSON{KeyID: k.GetKeyId(), Signing: k.GetSigning(), Retired: k.GetRetired()}
			if k.GetNotBefore() != nil {
				t := k.GetNotBefore().AsTime()
				j.NotBefore = &t
			}
			if k.GetNotAfter() != nil {
				t := k.GetNotAfter().AsTime()
				j.NotAfter = &t
			}
			out.Keys = append(out.Keys, j)
		}
		return writeJSON(env.stdout, out)
	}
	fmt.Fprintf(env.stdout, "key set version %d\n", m.GetKeySetVersion())
	for _, k := range m.GetKeys() {
		state := "trusted"
		switch {
		case k.GetSigning():
			state = "signing"
		case k.GetRetired():
			state = "retired"
		}
		line := fmt.Sprintf("%s  %-8s", k.GetKeyId(), state)
		if k.GetNotBefore() != nil {
			line += "  from " + k.GetNotBefore().AsTime().UTC().Format(time.RFC3339)
		}
		if k.GetNotAfter() != nil {
			line += "  until " + k.GetNotAfter().AsTime().UTC().Format(time.RFC3339)
		}
		fmt.Fprintln(env.stdout, line)
	}
	return nil
}

func runPolicyKeysRotate(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("policy keys rotate", env.stderr)
	af := addAdminFlags(fs)
	overlap := fs.Duration("overlap", 24*time.Hour, "how long PDPs keep trusting the old key")
	propagation := fs.Duration("propagation-timeout", 30*time.Second, "how long to wait for live PDPs to learn the new key before signing with it")
	if pos, err := parseInterleaved(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return exitf(2, "usage: verdict policy keys rotate [--overlap 24h] [--propagation-timeout 30s] [--output json]")
	}
	if err := af.check(false); err != nil {
		return err
	}
	if *overlap < time.Second || *propagation < time.Second {
		return exitf(2, "--overlap and --propagation-timeout must be at least 1s")
	}
	c, err := af.client()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "announcing a new signing key; waiting up to %s for the live PDPs to learn it\n", *propagation)
	resp, err := c.RotateSigningKey(ctx, connect.NewRequest(&verdictv1.RotateSigningKeyRequest{
		OverlapSeconds:            int64(overlap.Seconds()),
		PropagationTimeoutSeconds: int64(propagation.Seconds()),
	}))
	if err != nil {
		return rpcFailure(env, "keys rotate", err)
	}
	m := resp.Msg
	if af.json() {
		return writeJSON(env.stdout, struct {
			Old        string    `json:"old_key_id"`
			New        string    `json:"new_key_id"`
			Version    uint64    `json:"key_set_version"`
			OldUntil   time.Time `json:"old_key_not_after"`
			Confirmed  int32     `json:"confirmed_count"`
			Live       int32     `json:"live_count"`
			Stragglers []string  `json:"stragglers"`
		}{m.GetOldKeyId(), m.GetNewKeyId(), m.GetKeySetVersion(), m.GetOldKeyNotAfter().AsTime(), m.GetConfirmedCount(), m.GetLiveCount(), append([]string{}, m.GetStragglers()...)})
	}
	fmt.Fprintf(env.stdout, "signing with %s (was %s, trusted until %s); key set version %d known to %d of %d live PDPs\n",
		m.GetNewKeyId(), m.GetOldKeyId(), m.GetOldKeyNotAfter().AsTime().UTC().Format(time.RFC3339), m.GetKeySetVersion(), m.GetConfirmedCount(), m.GetLiveCount())
	for _, s := range m.GetStragglers() {
		fmt.Fprintf(env.stdout, "  not confirmed: %s (it fetches the key set when it meets the new key)\n", s)
	}
	return nil
}
