package authn

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

const (
	issuer   = "commerce"
	audience = "commerce-api"
)

// Role values of the `role` claim.
const (
	RoleCustomer = "customer"
	RoleAdmin    = "admin"
)

// Principal is the authenticated caller.
type Principal struct {
	UserID string
	Role   string
	Email  string
	// Expires is when the access token stops being valid (zero when the
	// principal did not come from a token): long-lived connections
	// (GraphQL subscriptions) end then.
	Expires time.Time
}

// IsAdmin reports whether the caller may use admin routes.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

type claims struct {
	jwt.RegisteredClaims
	Role  string `json:"role"`
	Email string `json:"email,omitempty"`
}

// Issue signs an access token for p valid for ttl.
func (k *Keys) Issue(p Principal, ttl time.Duration) (string, time.Time, error) {
	now := time.Now()
	exp := now.Add(ttl)
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: p.UserID, Audience: jwt.ClaimStrings{audience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Second)),
			ExpiresAt: jwt.NewNumericDate(exp), ID: uuid.Must(uuid.NewV7()).String(),
		},
		Role: p.Role, Email: p.Email,
	})
	t.Header["kid"] = k.kid
	s, err := t.SignedString(k.priv)
	return s, exp, err
}

// ErrInvalidToken is returned for any token that must not be trusted; the
// reason is deliberately not told to the client.
var ErrInvalidToken = errors.New("invalid access token")

// Verifier checks access tokens against a set of public keys by kid.
type Verifier struct {
	keys func(kid string) *rsa.PublicKey
	// seen are the tokens already accepted (verified.go).
	seen verified
}

// NewVerifier verifies with the given key set.
func NewVerifier(keys map[string]*rsa.PublicKey) *Verifier {
	return &Verifier{keys: func(kid string) *rsa.PublicKey { return keys[kid] }}
}

// Verifier returns a verifier for this key.
func (k *Keys) Verifier() *Verifier {
	return NewVerifier(map[string]*rsa.PublicKey{k.kid: k.Public()})
}

// leeway is the clock skew allowed on a token's times.
const leeway = 5 * time.Second

// Verify parses and checks a token: RS256 only (no `none`, no HMAC with a
// public key), a known kid, issuer, audience, expiry and role. A token
// accepted before is accepted again without its signature being checked
// (verified.go) until it expires or its key leaves the set.
func (v *Verifier) Verify(token string) (Principal, error) {
	sum := sha256.Sum256([]byte(token))
	if p, ok := v.seen.get(sum, v.keys, time.Now()); ok {
		return p, nil
	}
	var c claims
	var kid string
	var key *rsa.PublicKey
	_, err := jwt.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		key = v.keys(kid)
		if key == nil {
			return nil, errors.New("unknown kid")
		}
		return key, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(issuer), jwt.WithAudience(audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(leeway))
	if err != nil || c.Subject == "" || (c.Role != RoleCustomer && c.Role != RoleAdmin) {
		return Principal{}, ErrInvalidToken
	}
	p := Principal{UserID: c.Subject, Role: c.Role, Email: c.Email}
	if c.ExpiresAt != nil {
		p.Expires = c.ExpiresAt.Time
		v.seen.put(sum, verifiedToken{p: p, kid: kid, key: key})
	}
	return p, nil
}

type ctxKey struct{}

// WithPrincipal stores the caller in ctx for the app layer.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the caller stored by the middleware.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
