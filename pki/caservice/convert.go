package caservice

import (
	"crypto/x509"
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/x509svid"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// profileFromProto maps a profile; unspecified gives def, or is refused when
// def is empty (the API makes Sign and NewCert choose).
func profileFromProto(p verdictv1.CertificateProfile, def ca.Profile) (ca.Profile, error) {
	switch p {
	case verdictv1.CertificateProfile_CERTIFICATE_PROFILE_SERVER:
		return ca.ProfileServer, nil
	case verdictv1.CertificateProfile_CERTIFICATE_PROFILE_CLIENT:
		return ca.ProfileClient, nil
	case verdictv1.CertificateProfile_CERTIFICATE_PROFILE_PEER:
		return ca.ProfilePeer, nil
	case verdictv1.CertificateProfile_CERTIFICATE_PROFILE_UNSPECIFIED:
		if def != "" {
			return def, nil
		}
		return "", fmt.Errorf("%w: profile is required", ca.ErrInvalidRequest)
	}
	return "", fmt.Errorf("%w: unknown profile %d", ca.ErrInvalidRequest, p)
}

func profileToProto(p ca.Profile) verdictv1.CertificateProfile {
	switch p {
	case ca.ProfileServer:
		return verdictv1.CertificateProfile_CERTIFICATE_PROFILE_SERVER
	case ca.ProfileClient:
		return verdictv1.CertificateProfile_CERTIFICATE_PROFILE_CLIENT
	case ca.ProfilePeer:
		return verdictv1.CertificateProfile_CERTIFICATE_PROFILE_PEER
	}
	return verdictv1.CertificateProfile_CERTIFICATE_PROFILE_UNSPECIFIED
}

func algorithmFromProto(a verdictv1.KeyAlgorithm) (keyfile.Algorithm, error) {
	switch a {
	case verdictv1.KeyAlgorithm_KEY_ALGORITHM_UNSPECIFIED, verdictv1.KeyAlgorithm_KEY_ALGORITHM_ECDSA_P256:
		return keyfile.ECDSAP256, nil
	case verdictv1.KeyAlgorithm_KEY_ALGORITHM_ED25519:
		return keyfile.Ed25519, nil
	case verdictv1.KeyAlgorithm_KEY_ALGORITHM_RSA_2048:
		return keyfile.RSA2048, nil
	}
	return "", fmt.Errorf("%w: unknown key algorithm %d", ca.ErrInvalidRequest, a)
}

func certificateToProto(i *ca.Issued) *verdictv1.Certificate {
	c := &verdictv1.Certificate{
		CertificatePem: string(x509svid.EncodeCertificates([]*x509.Certificate{i.Leaf})),
		SerialNumber:   i.Leaf.SerialNumber.String(),
		SpiffeId:       i.ID.String(),
		Profile:        profileToProto(i.Profile),
		NotBefore:      timestamppb.New(i.Leaf.NotBefore),
		NotAfter:       timestamppb.New(i.Leaf.NotAfter),
	}
	for _, x := range i.Intermediates {
		c.ChainPem = append(c.ChainPem, string(x509svid.EncodeCertificates([]*x509.Certificate{x})))
	}
	return c
}
