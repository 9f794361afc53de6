package caserver

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/caapi"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/x509bundle"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// maxBody bounds JSON request bodies.
const maxBody = 1 << 20

// handler serves the API for one CA.
type handler struct {
	ca     *ca.CA
	logger *slog.Logger
	mux    *http.ServeMux
}

// NewHandler returns the API as an http.Handler, for embedding in another
// server. That server must run TLS and verify client certificates against
// the CA's bundle (tlsconfig.ServerConfig with WithOptionalClientCert and
// the CA's revocation set): the handler trusts r.TLS.PeerCertificates as
// the caller's authenticated identity.
func NewHandler(c *ca.CA, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	h := &handler{ca: c, logger: logger, mux: http.NewServeMux()}
	h.mux.HandleFunc("POST "+caapi.PathSign, h.sign)
	h.mux.HandleFunc("POST "+caapi.PathNewCert, h.newCert)
	h.mux.HandleFunc("GET "+caapi.PathInfo, h.info)
	h.mux.HandleFunc("POST "+caapi.PathInfo, h.info)
	h.mux.HandleFunc("POST "+caapi.PathRevoke, h.revoke)
	h.mux.HandleFunc("GET "+caapi.PathCRL, h.crlJSON)
	h.mux.HandleFunc("POST "+caapi.PathOCSPSign, h.ocspSign)
	h.mux.HandleFunc("POST "+caapi.PathJoin, h.join)
	h.mux.HandleFunc("POST "+caapi.PathRenew, h.renew)
	h.mux.HandleFunc("POST "+caapi.PathJoinToken, h.joinToken)
	h.mux.HandleFunc("GET "+caapi.PathCRLDER, h.crlDER)
	h.mux.HandleFunc("GET "+caapi.PathHealth, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	return h
}

// ServeHTTP routes /ocsp before the mux: base64 OCSP requests may contain
// "//", which ServeMux would "clean" with a redirect.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == caapi.PathOCSP || strings.HasPrefix(r.URL.Path, caapi.PathOCSP+"/") {
		h.ca.OCSPResponder().ServeHTTP(w, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// caller returns the authenticated identity of the request (zero if none).
func caller(r *http.Request) spiffeid.ID {
	id, _ := spiffeid.FromConnectionState(r.TLS)
	return id
}

func (h *handler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		h.fail(w, r, fmt.Errorf("%w: body: %w", ca.ErrInvalidRequest, err))
		return false
	}
	return true
}

func (h *handler) ok(w http.ResponseWriter, result any) {
	raw, err := json.Marshal(result)
	if err != nil {
		raw = []byte("null")
	}
	writeJSON(w, http.StatusOK, caapi.Response{Success: true, Result: raw, Errors: []caapi.Message{}, Messages: []caapi.Message{}})
}

func writeJSON(w http.ResponseWriter, status int, resp caapi.Response) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

// fail maps CA errors to status codes. Internal errors are logged and
// reported without detail; join token errors are reported without saying
// whether the token was unknown, expired or used.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "internal error"
	switch {
	case errors.Is(err, ca.ErrInvalidToken):
		status, msg = http.StatusUnauthorized, "invalid join token"
	case errors.Is(err, errNoClientCert):
		status, msg = http.StatusUnauthorized, err.Error()
	case errors.Is(err, ca.ErrForbidden), errors.Is(err, ca.ErrReservedIdentity), errors.Is(err, ca.ErrNotRenewable):
		status, msg = http.StatusForbidden, err.Error()
	case errors.Is(err, ca.ErrInvalidRequest), errors.Is(err, ca.ErrInvalidCSR), errors.Is(err, ca.ErrLifetime):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, ca.ErrNotFound):
		status, msg = http.StatusNotFound, err.Error()
	case errors.Is(err, ca.ErrAlreadyRevoked):
		status, msg = http.StatusConflict, err.Error()
	case errors.Is(err, ca.ErrClosed):
		status, msg = http.StatusServiceUnavailable, "CA is shutting down"
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	h.logger.Log(r.Context(), level, "ca api: request failed", "path", r.URL.Path, "caller", caller(r).String(),
		"remote", r.RemoteAddr, "status", status, "error", err)
	writeJSON(w, status, caapi.Response{Success: false, Result: json.RawMessage("null"),
		Errors: []caapi.Message{{Code: status, Message: msg}}, Messages: []caapi.Message{}})
}

var errNoClientCert = errors.New("a client certificate is required")

func decodeCSR(s string) ([]byte, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil || (block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST") {
		return nil, fmt.Errorf("%w: certificate_request must be a PEM CERTIFICATE REQUEST", ca.ErrInvalidCSR)
	}
	return block.Bytes, nil
}

func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%w: duration %q: %w", ca.ErrInvalidRequest, s, err)
	}
	return d, nil
}

// ParseSerial reads a serial number as CFSSL sends it (decimal), or as
// hexadecimal with a "0x" prefix or colon separators (openssl's form).
func ParseSerial(s string) (*big.Int, error) {
	s = strings.TrimSpace(s)
	base := 10
	switch {
	case strings.HasPrefix(s, "0x"), strings.HasPrefix(s, "0X"):
		s, base = s[2:], 16
	case strings.Contains(s, ":"):
		s, base = strings.ReplaceAll(s, ":", ""), 16
	}
	n, ok := new(big.Int).SetString(s, base)
	if !ok || n.Sign() <= 0 {
		return nil, fmt.Errorf("%w: serial %q", ca.ErrInvalidRequest, s)
	}
	return n, nil
}

func (h *handler) certificateResult(i *ca.Issued) caapi.Certificate {
	return caapi.Certificate{
		Certificate: string(x509svid.EncodeCertificates([]*x509.Certificate{i.Leaf})),
		Chain:       string(i.ChainPEM()),
		TrustBundle: string(h.ca.Bundle().MarshalPEM()),
		Identity:    i.ID.String(),
		Profile:     string(i.Profile),
		Serial:      i.Leaf.SerialNumber.String(),
		NotAfter:    i.Leaf.NotAfter,
	}
}

func (h *handler) sign(w http.ResponseWriter, r *http.Request) {
	var req caapi.SignRequest
	if !h.decode(w, r, &req) {
		return
	}
	csr, err := decodeCSR(req.CertificateRequest)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	profile, err := ca.ParseProfile(req.Profile, ca.ProfilePeer)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	lifetime, err := parseDuration(req.Lifetime)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	issued, err := h.ca.Sign(r.Context(), ca.SignRequest{
		Caller: caller(r), CSR: csr, Service: req.Service, Profile: profile, Hosts: req.Hosts, Lifetime: lifetime,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.ok(w, h.certificateResult(issued))
}

func (h *handler) newCert(w http.ResponseWriter, r *http.Request) {
	var req caapi.NewCertRequest
	if !h.decode(w, r, &req) {
		return
	}
	profile, err := ca.ParseProfile(req.Profile, ca.ProfilePeer)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	lifetime, err := parseDuration(req.Lifetime)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var alg keyfile.Algorithm
	if k := req.Request.Key; k != nil {
		if alg, err = keyfile.ParseAlgorithm(k.Algo, k.Size); err != nil {
			h.fail(w, r, fmt.Errorf("%w: %w", ca.ErrInvalidRequest, err))
			return
		}
	}
	service := req.Service
	if service == "" {
		service = req.Request.CN
	}
	issued, key, err := h.ca.NewCert(r.Context(), ca.NewCertRequest{
		Caller: caller(r), Service: service, Profile: profile, Hosts: req.Request.Hosts, Lifetime: lifetime, KeyAlgorithm: alg,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	keyPEM, err := keyfile.Marshal(key)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.ok(w, caapi.NewCertResult{Certificate: h.certificateResult(issued), PrivateKey: string(keyPEM)})
}

func (h *handler) info(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		var req caapi.InfoRequest
		if r.ContentLength != 0 && !h.decode(w, r, &req) {
			return
		}
	}
	def, _ := h.ca.Lifetimes()
	res := caapi.InfoResult{
		Certificate: string(x509svid.EncodeCertificates([]*x509.Certificate{h.ca.Issuer()})),
		Usages:      []string{"signing", "digital signature", "server auth", "client auth"},
		Expiry:      def.String(),
		TrustBundle: string(h.ca.Bundle().MarshalPEM()),
		TrustDomain: h.ca.TrustDomain(),
		Fingerprint: x509bundle.FingerprintOf(h.ca.Root()).String(),
		Profiles:    map[string]caapi.ProfileInfo{},
	}
	for _, p := range ca.Profiles {
		res.Profiles[string(p)] = caapi.ProfileInfo{Usages: p.UsageNames(), Expiry: def.String()}
	}
	h.ok(w, res)
}

func (h *handler) revoke(w http.ResponseWriter, r *http.Request) {
	var req caapi.RevokeRequest
	if !h.decode(w, r, &req) {
		return
	}
	serial, err := ParseSerial(req.Serial)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if req.AuthorityKeyID != "" && !matchesAKI(req.AuthorityKeyID, h.ca.Issuer().SubjectKeyId) {
		h.fail(w, r, fmt.Errorf("%w: authority_key_id is not this CA's", ca.ErrNotFound))
		return
	}
	reason, err := ca.ParseReason(req.Reason)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.ca.Revoke(r.Context(), ca.RevokeRequest{Caller: caller(r), Serial: serial, Reason: reason}); err != nil {
		h.fail(w, r, err)
		return
	}
	h.ok(w, map[string]any{})
}

// matchesAKI compares a hex AKI (with or without colons, any case).
func matchesAKI(s string, ski []byte) bool {
	return strings.EqualFold(strings.ReplaceAll(s, ":", ""), fmt.Sprintf("%x", ski))
}

func (h *handler) crlJSON(w http.ResponseWriter, r *http.Request) {
	h.ok(w, base64.StdEncoding.EncodeToString(h.ca.CRL().DER))
}

func (h *handler) crlDER(w http.ResponseWriter, r *http.Request) {
	crl := h.ca.CRL()
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Header().Set("Last-Modified", crl.ThisUpdate.UTC().Format(http.TimeFormat))
	w.Header().Set("Expires", crl.NextUpdate.UTC().Format(http.TimeFormat))
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(crl.DER)
}

func (h *handler) ocspSign(w http.ResponseWriter, r *http.Request) {
	var req caapi.OCSPSignRequest
	if !h.decode(w, r, &req) {
		return
	}
	certs, err := x509svid.ParseCertificates([]byte(req.Certificate))
	if err != nil {
		h.fail(w, r, fmt.Errorf("%w: certificate: %w", ca.ErrInvalidRequest, err))
		return
	}
	serial := certs[0].SerialNumber
	if req.Status != "" {
		st, err := h.ca.OCSPStatus(r.Context(), serial)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if want := statusName(st.State); !strings.EqualFold(req.Status, want) {
			h.fail(w, r, fmt.Errorf("%w: status %q requested but the certificate is %s", ca.ErrInvalidRequest, req.Status, want))
			return
		}
	}
	der, err := h.ca.OCSPSign(r.Context(), ca.OCSPSignRequest{Caller: caller(r), Serial: serial})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.ok(w, caapi.OCSPSignResult{OCSPResponse: base64.StdEncoding.EncodeToString(der)})
}

func statusName(state int) string {
	switch state {
	case ocsp.Good:
		return "good"
	case ocsp.Revoked:
		return "revoked"
	}
	return "unknown"
}

func (h *handler) join(w http.ResponseWriter, r *http.Request) {
	var req caapi.JoinRequest
	if !h.decode(w, r, &req) {
		return
	}
	csr, err := decodeCSR(req.CertificateRequest)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	issued, err := h.ca.Redeem(r.Context(), req.Token, csr)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.ok(w, h.certificateResult(issued))
}

func (h *handler) renew(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		h.fail(w, r, errNoClientCert)
		return
	}
	var req caapi.RenewRequest
	if !h.decode(w, r, &req) {
		return
	}
	csr, err := decodeCSR(req.CertificateRequest)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	issued, err := h.ca.Renew(r.Context(), r.TLS.PeerCertificates, csr)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.ok(w, h.certificateResult(issued))
}

func (h *handler) joinToken(w http.ResponseWriter, r *http.Request) {
	var req caapi.JoinTokenRequest
	if !h.decode(w, r, &req) {
		return
	}
	profile, err := ca.ParseProfile(req.Profile, ca.ProfilePeer)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ttl, err := parseDuration(req.TTL)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	lifetime, err := parseDuration(req.Lifetime)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	tok, err := h.ca.CreateJoinToken(r.Context(), ca.JoinTokenRequest{
		Caller: caller(r), Service: req.Service, Profile: profile, Hosts: req.Hosts, TTL: ttl, Lifetime: lifetime,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.ok(w, caapi.JoinTokenResult{Token: tok.Secret, Identity: tok.ID.String(), Profile: string(tok.Profile), ExpiresAt: tok.ExpiresAt})
}
