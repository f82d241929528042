package authn

import (
	"crypto/rsa"
	"crypto/sha256"
	"sync"
	"time"
)

// verifiedMax bounds the tokens remembered; past it the memory starts
// over (each token is then verified once more).
const verifiedMax = 16384

// verified remembers the tokens a Verifier has accepted, by their SHA-256,
// until they expire: a client sends the same access token with every
// request, and checking its RS256 signature again each time was about an
// eighth of an add-to-cart's CPU. A remembered token is accepted only
// while it has not expired (with Verify's leeway) and its key is still
// the verifier's for its kid (a key taken out of the set ends its tokens
// at once, as it does for tokens not yet seen).
type verified struct {
	mu sync.RWMutex
	m  map[[sha256.Size]byte]verifiedToken
}

type verifiedToken struct {
	p   Principal
	kid string
	key *rsa.PublicKey
}

func (v *verified) get(sum [sha256.Size]byte, keys func(string) *rsa.PublicKey, now time.Time) (Principal, bool) {
	v.mu.RLock()
	t, ok := v.m[sum]
	v.mu.RUnlock()
	if !ok || !now.Before(t.p.Expires.Add(leeway)) || keys(t.kid) != t.key {
		return Principal{}, false
	}
	return t.p, true
}

func (v *verified) put(sum [sha256.Size]byte, t verifiedToken) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil || len(v.m) >= verifiedMax {
		v.m = make(map[[sha256.Size]byte]verifiedToken, 256)
	}
	v.m[sum] = t
}
