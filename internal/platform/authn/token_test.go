package authn

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

func TestIssueVerifyRoundTrip(t *testing.T) {
	k := NewKeys(testKey)
	tok, exp, err := k.Issue(Principal{UserID: "u1", Role: RoleAdmin, Email: "a@b.co"}, time.Minute)
	if err != nil || time.Until(exp) <= 0 {
		t.Fatal(err)
	}
	p, err := k.Verifier().Verify(tok)
	if err != nil || p.UserID != "u1" || !p.IsAdmin() {
		t.Fatalf("%+v %v", p, err)
	}
	// The JWKS verifies the same token (split-mode services).
	set := k.JWKS()
	raw, _ := jsonMarshal(set)
	keys, err := ParseJWKS(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewVerifier(keys).Verify(tok); err != nil {
		t.Fatal(err)
	}
}

// The attacks of the issue: every one must be rejected.
func TestVerifyRejectsForgedTokens(t *testing.T) {
	k := NewKeys(testKey)
	v := k.Verifier()
	good, _, _ := k.Issue(Principal{UserID: "u1", Role: RoleCustomer}, time.Minute)
	parts := strings.Split(good, ".")

	claims := jwt.MapClaims{"iss": issuer, "aud": audience, "sub": "u1", "role": "admin", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}

	none := jwt.NewWithClaims(jwt.SigningMethodNone, claims)
	none.Header["kid"] = k.KID()
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)

	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(k.Public()))})
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	hs.Header["kid"] = k.KID()
	hsTok, _ := hs.SignedString(pubPEM)

	expired, _, _ := k.Issue(Principal{UserID: "u1", Role: RoleCustomer}, -time.Hour)

	other := NewKeys(must(rsa.GenerateKey(rand.Reader, 2048)))
	unknownKid, _, _ := other.Issue(Principal{UserID: "u1", Role: RoleCustomer}, time.Minute)

	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := strings.Replace(string(payload), `"role":"customer"`, `"role":"admin"`, 1)
	tamperedTok := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(tampered)) + "." + parts[2]

	wrongKidSameAlg := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	wrongKidSameAlg.Header["kid"] = "nope"
	wrongKidTok, _ := wrongKidSameAlg.SignedString(testKey)

	for name, tok := range map[string]string{
		"alg none": noneTok, "HS256 with public key": hsTok, "expired": expired,
		"unknown kid (other key)": unknownKid, "unknown kid": wrongKidTok, "tampered payload": tamperedTok,
		"garbage": "not.a.jwt", "empty": "",
	} {
		if _, err := v.Verify(tok); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLoadOrGenerateKeepsKeyAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrGenerate("", dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "jwt_rs256.pem"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	b, err := LoadOrGenerate("", dir)
	if err != nil || a.KID() != b.KID() {
		t.Fatalf("kid changed: %s %s %v", a.KID(), b.KID(), err)
	}
	if _, err := LoadOrGenerate(filepath.Join(dir, "missing.pem"), dir); err == nil || !strings.Contains(err.Error(), "JWT_PRIVATE_KEY_FILE") {
		t.Fatalf("want error naming the variable, got %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// A token accepted once is accepted again from memory, but only while it
// is valid: not past its expiry (with the leeway), not once its key left
// the verifier's set, and a token differing by one byte is checked anew.
func TestVerifyRemembersOnlyValidTokens(t *testing.T) {
	k := NewKeys(testKey)
	set := map[string]*rsa.PublicKey{k.KID(): k.Public()}
	v := &Verifier{keys: func(kid string) *rsa.PublicKey { return set[kid] }}
	tok, _, _ := k.Issue(Principal{UserID: "u1", Role: RoleCustomer}, time.Minute)
	for range 2 {
		if p, err := v.Verify(tok); err != nil || p.UserID != "u1" {
			t.Fatalf("%+v %v", p, err)
		}
	}
	if len(v.seen.m) != 1 {
		t.Fatalf("%d tokens remembered, want 1", len(v.seen.m))
	}
	flipped := tok[:len(tok)-2] + string(tok[len(tok)-2]^1) + tok[len(tok)-1:]
	if _, err := v.Verify(flipped); err == nil {
		t.Fatal("a token differing from a remembered one was accepted")
	}
	sum := sha256.Sum256([]byte(tok))
	if _, ok := v.seen.get(sum, v.keys, time.Now().Add(time.Minute+leeway)); ok {
		t.Fatal("a remembered token was accepted past its expiry")
	}
	delete(set, k.KID())
	if _, err := v.Verify(tok); err == nil {
		t.Fatal("a remembered token was accepted after its key left the set")
	}
}
