package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/verdict-authz/verdict/pki/bootstrap"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
)

// runCABootstrap gives a new instance its first certificate from a join
// token, trusting the CA only through the pinned root fingerprint, and
// writes DIR/<service>.pem, DIR/<service>-key.pem (0600) and DIR/root.pem.
func runCABootstrap(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("ca bootstrap", env.stderr)
	url := fs.String("url", "", "CA URL, https://host:port")
	token := fs.String("token", "", "one-time join token from `verdict ca token create`")
	fingerprint := fs.String("fingerprint", "", "SHA-256 fingerprint of the CA root to pin")
	service := fs.String("service", "", "service the token was created for")
	out := fs.String("out", "", "directory to write the key, certificate and trust bundle to")
	output := fs.String("output", "text", "output format: text or json")
	var hosts stringList
	fs.Var(&hosts, "host", "DNS name or IP to request, among those the token grants (repeatable)")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	switch {
	case *url == "", *token == "", *fingerprint == "", *service == "", *out == "":
		return exitf(2, "--url, --token, --fingerprint, --service and --out are required")
	case *output != "text" && *output != "json":
		return exitf(2, "--output must be text or json, not %q", *output)
	}
	if err := spiffeid.ValidateServiceName(*service); err != nil {
		return exitf(2, "--service: %v", err)
	}
	files := tlsconfig.Files{
		Cert:   filepath.Join(*out, *service+".pem"),
		Key:    filepath.Join(*out, *service+"-key.pem"),
		Bundle: filepath.Join(*out, "root.pem"),
	}
	svid, _, err := bootstrap.Run(ctx, bootstrap.Config{CAURL: *url, Token: *token, Fingerprint: *fingerprint, Files: files, Hosts: hosts})
	if err != nil {
		return exitf(1, "bootstrap: %v", err)
	}
	if got := svid.ID.Service(); got != *service {
		return exitf(1, "bootstrap: the token was for service %q, not %q (files written for %s)", got, *service, svid.ID)
	}
	leaf := svid.Leaf()
	res := struct {
		Identity string    `json:"identity"`
		Serial   string    `json:"serial"`
		NotAfter time.Time `json:"not_after"`
		Cert     string    `json:"cert_file"`
		Key      string    `json:"key_file"`
		Bundle   string    `json:"bundle_file"`
	}{svid.ID.String(), leaf.SerialNumber.String(), leaf.NotAfter.UTC(), files.Cert, files.Key, files.Bundle}
	if *output == "json" {
		return writeJSON(env.stdout, res)
	}
	fmt.Fprintf(env.stdout, "identity: %s\nserial: %s\nexpires: %s\ncertificate: %s\nkey: %s\ntrust bundle: %s\n",
		res.Identity, res.Serial, res.NotAfter.Format(time.RFC3339), res.Cert, res.Key, res.Bundle)
	return nil
}
