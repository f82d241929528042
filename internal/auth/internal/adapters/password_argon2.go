// Package adapters implements auth's ports on real technology: argon2id
// password hashing and PostgreSQL storage.
package adapters

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2 hashes passwords with argon2id and self-describing PHC strings, so
// parameters can be raised later without breaking stored hashes.
type Argon2 struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// NewArgon2 uses OWASP's minimum profile at the given memory (t=2, p=1).
func NewArgon2(memoryKiB int) *Argon2 {
	return &Argon2{MemoryKiB: uint32(memoryKiB), Time: 2, Threads: 1}
}

// Hash returns $argon2id$v=19$m=..,t=..,p=..$salt$hash.
func (a *Argon2) Hash(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	sum := argon2.IDKey([]byte(pw), salt, a.Time, a.MemoryKiB, a.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, a.MemoryKiB, a.Time, a.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum)), nil
}

// Verify compares in constant time using the parameters stored in encoded.
func (a *Argon2) Verify(pw, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("unsupported password hash")
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, err
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, err
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
