// Package authn issues and verifies RS256 access tokens (JWT with a `kid`
// header), publishes the public keys as a JWKS, and provides the Fiber
// middleware that authenticates requests and enforces roles.
package authn

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
)

// Keys holds the signing key and its id.
type Keys struct {
	priv *rsa.PrivateKey
	kid  string
}

// LoadOrGenerate reads the PEM key at file, or, when file is empty, the key
// at <dataDir>/jwt_rs256.pem, generating it (mode 0600) on first start so a
// restart keeps sessions valid.
func LoadOrGenerate(file, dataDir string) (*Keys, error) {
	if file == "" {
		file = filepath.Join(dataDir, "jwt_rs256.pem")
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			if err := generate(file); err != nil {
				return nil, fmt.Errorf("generate JWT key: %w", err)
			}
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("JWT_PRIVATE_KEY_FILE: %w", err)
	}
	k, err := ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("JWT_PRIVATE_KEY_FILE %s: %w", file, err)
	}
	return k, nil
}

// ParsePrivateKey accepts PKCS#1 or PKCS#8 PEM RSA keys of at least 2048 bits.
func ParsePrivateKey(pemBytes []byte) (*Keys, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var priv *rsa.PrivateKey
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		priv = k
	} else if k8, err8 := x509.ParsePKCS8PrivateKey(block.Bytes); err8 == nil {
		rk, ok := k8.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("not an RSA key")
		}
		priv = rk
	} else {
		return nil, fmt.Errorf("parse key: %w", err)
	}
	if priv.N.BitLen() < 2048 {
		return nil, errors.New("RSA key must be at least 2048 bits")
	}
	return NewKeys(priv), nil
}

// NewKeys wraps an RSA key; the kid is derived from the public key, so every
// replica with the same key advertises the same id.
func NewKeys(priv *rsa.PrivateKey) *Keys {
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	sum := sha256.Sum256(der)
	return &Keys{priv: priv, kid: base64.RawURLEncoding.EncodeToString(sum[:12])}
}

func generate(file string) error {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)})
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// KID is the key id placed in token headers.
func (k *Keys) KID() string { return k.kid }

// Public returns the verification key.
func (k *Keys) Public() *rsa.PublicKey { return &k.priv.PublicKey }

// JWK is one RSA public key in JSON Web Key form.
type JWK struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// JWKS is the document served at /.well-known/jwks.json.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWKS returns the public key set.
func (k *Keys) JWKS() JWKS {
	pub := k.Public()
	return JWKS{Keys: []JWK{{
		Kty: "RSA", Use: "sig", Alg: "RS256", Kid: k.kid,
		N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}}
}

// ParseJWKS turns a JWKS document into kid → key, for verifiers in
// services that do not hold the private key (split mode).
func ParseJWKS(b []byte) (map[string]*rsa.PublicKey, error) {
	var set JWKS
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, err
	}
	out := map[string]*rsa.PublicKey{}
	for _, j := range set.Keys {
		if j.Kty != "RSA" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(j.N)
		e, err2 := base64.RawURLEncoding.DecodeString(j.E)
		if err1 != nil || err2 != nil {
			return nil, errors.New("bad JWK encoding")
		}
		out[j.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return out, nil
}
