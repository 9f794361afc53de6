package token

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"strings"
)

// jwsPolicy is what a verifier enforces at the JWS layer (RFC 7515 compact
// serialization), before and including the signature.
type jwsPolicy struct {
	algs     algorithmSet
	typ      string
	critical map[string]bool
	// jwt marks a JWT verifier, which also refuses nested tokens (cty JWT).
	jwt bool
}

// verifiedJWS is a compact JWS whose signature has been verified.
type verifiedJWS struct {
	header  header
	key     *Key
	payload []byte
}

// verify checks the structure, header and signature of a compact JWS and
// returns its payload, still unparsed: nothing the payload says is looked at
// before the signature has been verified.
//
// The order of checks keeps the cheap and key-independent ones first, so
// that malformed or disallowed tokens never cause a key set refresh.
func (p *jwsPolicy) verify(ctx context.Context, raw string, keys KeySource) (verifiedJWS, error) {
	var out verifiedJWS
	if strings.HasPrefix(raw, "{") {
		return out, fmt.Errorf("%w: JWS JSON serialization is not accepted, only compact", ErrMalformed)
	}
	first := strings.IndexByte(raw, '.')
	last := strings.LastIndexByte(raw, '.')
	if first < 0 || first == last || strings.IndexByte(raw[first+1:last], '.') >= 0 {
		return out, fmt.Errorf("%w: compact JWS needs 3 dot-separated segments, got %d", ErrMalformed, strings.Count(raw, ".")+1)
	}
	hSeg, pSeg, sSeg := raw[:first], raw[first+1:last], raw[last+1:]
	if hSeg == "" {
		return out, fmt.Errorf("%w: empty header segment", ErrMalformed)
	}
	hb, err := decodeBase64URL(hSeg)
	if err != nil {
		return out, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	hm, err := decodeObject(hb)
	if err != nil {
		return out, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	h, alg, err := p.parseHeader(hm)
	if err != nil {
		return out, err
	}
	if sSeg == "" {
		return out, fmt.Errorf("%w: empty signature", ErrSignature)
	}
	payload, err := decodeBase64URL(pSeg)
	if err != nil {
		return out, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	sig, err := decodeBase64URL(sSeg)
	if err != nil {
		return out, fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}

	key, err := resolveKey(ctx, keys, h)
	if err != nil {
		return out, err
	}
	if err := key.accepts(alg); err != nil {
		return out, err
	}
	if alg.kty == ktyEC {
		if err := checkECDSASignature(alg, key.public.(*ecdsa.PublicKey), sig); err != nil {
			return out, err
		}
	}
	if err := alg.method.Verify(raw[:last], sig, key.public); err != nil {
		return out, fmt.Errorf("%w: %s signature does not verify with key %s", ErrSignature, alg.name, quote(key.id))
	}
	return verifiedJWS{header: h, key: key, payload: payload}, nil
}

// resolveKey finds the key a header names, asking the source for a refresh
// (which the source rate-limits) when the current set does not have it.
func resolveKey(ctx context.Context, src KeySource, h header) (*Key, error) {
	set, err := src.Current(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: no key set: %w", ErrUnknownKey, err)
	}
	key, err := set.lookup(h.kid, h.hasKid)
	if err == nil {
		return key, nil
	}
	fresh, rerr := src.Refresh(ctx)
	if fresh != nil {
		if key, err = fresh.lookup(h.kid, h.hasKid); err == nil {
			return key, nil
		}
	}
	if rerr != nil {
		return nil, fmt.Errorf("%w (refresh: %w)", err, rerr)
	}
	return nil, err
}

// checkECDSASignature enforces the JWS ECDSA signature shape (RFC 7518
// section 3.4): exactly r||s, each the field size, and each in [1, n-1].
// crypto/ecdsa refuses out-of-range values too; checking here makes the
// rule explicit and independent of the library.
func checkECDSASignature(alg algorithm, pub *ecdsa.PublicKey, sig []byte) error {
	if len(sig) != 2*alg.size {
		return fmt.Errorf("%w: %s signature is %d bytes, want %d", ErrSignature, alg.name, len(sig), 2*alg.size)
	}
	n := pub.Curve.Params().N
	for i, name := range [...]string{"r", "s"} {
		v := new(big.Int).SetBytes(sig[i*alg.size : (i+1)*alg.size])
		if v.Sign() == 0 || v.Cmp(n) >= 0 {
			return fmt.Errorf("%w: ECDSA %s outside [1, n-1]", ErrSignature, name)
		}
	}
	return nil
}
