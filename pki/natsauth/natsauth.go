// Package natsauth maps the SPIFFE identity of a NATS client's verified TLS
// certificate to a NATS user with subject permissions, so that an embedded
// NATS server (verdict up) enforces at the JetStream API level what each
// workload may read and publish.
//
// It does what nats-server's verify_and_map (TLSMap) does, with one
// difference: TLSMap needs every user listed in advance, while Verdict
// services come and go through join tokens. The Authenticator derives the
// user from the certificate instead: the service name in
// spiffe://<trust-domain>/service/<name> selects the role and, for
// workloads, the subjects of that one service.
//
// A workload (a service's embedded or remote PDP) may:
//   - create ordered consumers on the bundle stream filtered on its own
//     bundle subject and on the key-set subject, read them and delete them;
//   - read the key set by direct get, and its own Object Store bucket of
//     large bundles, "<bucket>-<service>" (the PAP publishes with
//     publish.WithServiceBuckets);
//   - publish its own heartbeats (<prefix>.status.<service>.*) and decision
//     records (<prefix>.decisions.<service>);
//   - subscribe to revocation events and to its own inbox prefix
//     (InboxPrefix), never to other clients' replies.
//
// Clients must therefore connect with nats.CustomInboxPrefix(InboxPrefix(service)).
package natsauth

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/verdict-authz/verdict/pki/natsauth/inbox"
	"github.com/verdict-authz/verdict/pki/spiffeid"
)

// Roles of the platform's own components. Any other service name is a
// workload whose PDP follows that service's bundles.
const (
	// ServicePAP is the policy administration point: it owns the bundle
	// stream and bucket and watches every heartbeat.
	ServicePAP = "pap"
	// ServiceAdmin is the operator's client identity; it gets the PAP's
	// rights, so that tools can inspect and repair what the PAP publishes.
	ServiceAdmin = "admin"
	// ServiceAudit is the decision-log collector.
	ServiceAudit = "audit"
	// ServiceCA is the certificate authority, which announces revocations.
	ServiceCA = "ca"
)

// ErrRefused is returned (and logged) when a client cannot be mapped to a
// user.
var ErrRefused = errors.New("natsauth: client refused")

// Layout names the streams, buckets and subjects of one deployment. The
// zero value of a field takes the Verdict default.
type Layout struct {
	// Prefix is the first subject token(s) (default "verdict").
	Prefix string
	// BundleStream holds bundles and key sets (default VERDICT_BUNDLES).
	BundleStream string
	// BundleBucket is the name prefix of the per-service Object Store
	// buckets of large bundles, "<BundleBucket>-<service>" (default
	// verdict-bundles).
	BundleBucket string
	// DecisionStream holds decision records (default VERDICT_DECISIONS).
	DecisionStream string
	// RevocationSubject carries the CA's revocation events (default
	// verdict.revocation).
	RevocationSubject string
}

func (l Layout) withDefaults() Layout {
	if l.Prefix == "" {
		l.Prefix = "verdict"
	}
	if l.BundleStream == "" {
		l.BundleStream = "VERDICT_BUNDLES"
	}
	if l.BundleBucket == "" {
		l.BundleBucket = "verdict-bundles"
	}
	if l.DecisionStream == "" {
		l.DecisionStream = "VERDICT_DECISIONS"
	}
	if l.RevocationSubject == "" {
		l.RevocationSubject = "verdict.revocation"
	}
	return l
}

// InboxPrefix is the inbox prefix a client of service must use
// (nats.CustomInboxPrefix): its subscriptions are limited to it, so no
// workload can read the replies addressed to another. It is inbox.Prefix,
// which clients use without linking the NATS server.
func InboxPrefix(service string) string { return inbox.Prefix(service) }

// Permissions returns the NATS permissions of identity id under layout l.
func Permissions(id spiffeid.ID, l Layout) *natsserver.Permissions {
	l = l.withDefaults()
	svc := id.Service()
	inbox := InboxPrefix(svc) + ".>"
	api := "$JS.API."
	bucket := l.BundleBucket + "-" + svc
	objStream := "OBJ_" + bucket
	// owner is what the owner of a stream may do with it through the
	// JetStream API (the API's verbs are one or two tokens long).
	owner := func(stream string) []string {
		return []string{
			api + "STREAM.*." + stream, api + "STREAM.MSG.*." + stream, api + "DIRECT.GET." + stream + ".>",
			api + "CONSUMER.*." + stream, api + "CONSUMER.*." + stream + ".>",
			api + "CONSUMER.MSG.NEXT." + stream + ".*", api + "CONSUMER.DURABLE.CREATE." + stream + ".*",
			"$JS.ACK." + stream + ".>", "$JS.FC." + stream + ".>",
		}
	}
	switch svc {
	case ServicePAP, ServiceAdmin:
		// The PAP creates a bucket per service: stream names are single
		// subject tokens, so its JetStream rights cannot be limited to a
		// name prefix. It gets the API minus the decision stream, which
		// belongs to the audit collector.
		d := l.DecisionStream
		return &natsserver.Permissions{
			Publish: &natsserver.SubjectPermission{
				Allow: []string{l.Prefix + ".bundle.*", l.Prefix + ".keys", "$O.*.>", api + ">", "$JS.FC.>", "$JS.ACK.>"},
				Deny: []string{
					api + "*.*." + d, api + "*.*." + d + ".>", api + "*.*.*." + d, api + "*.*.*." + d + ".>",
					"$JS.ACK." + d + ".>", "$JS.FC." + d + ".>",
				},
			},
			Subscribe: &natsserver.SubjectPermission{Allow: []string{
				inbox, l.Prefix + ".status.*.*", l.RevocationSubject,
			}},
		}
	case ServiceAudit:
		return &natsserver.Permissions{
			Publish: &natsserver.SubjectPermission{Allow: append([]string{
				api + "INFO", l.Prefix + ".audit.checkpoint.>",
			}, owner(l.DecisionStream)...)},
			Subscribe: &natsserver.SubjectPermission{Allow: []string{inbox, l.RevocationSubject}},
		}
	case ServiceCA:
		return &natsserver.Permissions{
			Publish:   &natsserver.SubjectPermission{Allow: []string{l.RevocationSubject}},
			Subscribe: &natsserver.SubjectPermission{Allow: []string{inbox}},
		}
	}
	bundles := api + "CONSUMER.CREATE." + l.BundleStream + ".*."
	return &natsserver.Permissions{
		Publish: &natsserver.SubjectPermission{Allow: []string{
			// Ordered consumers on its own bundle subject and the key set.
			api + "STREAM.INFO." + l.BundleStream,
			bundles + l.Prefix + ".bundle." + svc,
			bundles + l.Prefix + ".keys",
			api + "CONSUMER.MSG.NEXT." + l.BundleStream + ".*",
			api + "CONSUMER.INFO." + l.BundleStream + ".*",
			api + "CONSUMER.DELETE." + l.BundleStream + ".*",
			api + "DIRECT.GET." + l.BundleStream + "." + l.Prefix + ".keys",
			api + "DIRECT.GET." + l.BundleStream + "." + l.Prefix + ".bundle." + svc,
			// Large bundles: object metadata by direct get, chunks through
			// an ordered consumer on the chunk subjects.
			api + "STREAM.INFO." + objStream,
			api + "DIRECT.GET." + objStream + ".$O." + bucket + ".M.>",
			api + "CONSUMER.CREATE." + objStream + ".>",
			api + "CONSUMER.MSG.NEXT." + objStream + ".*",
			api + "CONSUMER.DELETE." + objStream + ".*",
			"$JS.FC." + objStream + ".>",
			// What it reports: heartbeats and decision records.
			l.Prefix + ".status." + svc + ".*",
			l.Prefix + ".decisions." + svc,
		}},
		Subscribe: &natsserver.SubjectPermission{Allow: []string{inbox, l.RevocationSubject}},
	}
}

// Authenticator implements nats-server's Authentication: it accepts a
// client whose verified certificate carries an identity of the trust
// domain, and registers it as a user named by that identity with
// Permissions. The TLS configuration has already verified the chain,
// expiry and revocation; the Authenticator only maps.
type Authenticator struct {
	trustDomain string
	layout      Layout
	log         *slog.Logger
}

// NewAuthenticator returns an Authenticator for the identities of
// trustDomain.
func NewAuthenticator(trustDomain string, layout Layout, logger *slog.Logger) *Authenticator {
	if logger == nil {
		logger = slog.Default()
	}
	return &Authenticator{trustDomain: trustDomain, layout: layout, log: logger}
}

// Check implements natsserver.Authentication.
func (a *Authenticator) Check(c natsserver.ClientAuthentication) bool {
	id, notAfter, err := a.identify(c.GetTLSConnectionState())
	if err != nil {
		a.log.Warn("nats: client refused", "remote", addrString(c), "err", err)
		return false
	}
	c.RegisterUser(&natsserver.User{
		Username:    id.String(),
		Permissions: Permissions(id, a.layout),
		// The connection ends with its certificate; the client reconnects
		// with the renewed one.
		ConnectionDeadline: notAfter,
	})
	a.log.Debug("nats: client mapped", "remote", addrString(c), "identity", id.String())
	return true
}

func (a *Authenticator) identify(cs *tls.ConnectionState) (spiffeid.ID, time.Time, error) {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return spiffeid.ID{}, time.Time{}, fmt.Errorf("%w: no client certificate", ErrRefused)
	}
	leaf := cs.PeerCertificates[0]
	id, err := spiffeid.FromCertificate(leaf)
	if err != nil {
		return spiffeid.ID{}, time.Time{}, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if !id.MemberOf(a.trustDomain) {
		return spiffeid.ID{}, time.Time{}, fmt.Errorf("%w: %s is not in trust domain %s", ErrRefused, id, a.trustDomain)
	}
	return id, leaf.NotAfter, nil
}

func addrString(c natsserver.ClientAuthentication) string {
	if a := c.RemoteAddress(); a != nil {
		return a.String()
	}
	return ""
}
