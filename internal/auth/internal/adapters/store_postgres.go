package adapters

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/pg"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// ErrDuplicate is returned when a unique key already exists.
var ErrDuplicate = errors.New("duplicate")

// UserRow is a row of auth.users.
type UserRow struct {
	bun.BaseModel `bun:"table:auth.users"`
	ID            string     `bun:"id,pk"`
	Email         string     `bun:"email"`
	Name          string     `bun:"name"`
	PasswordHash  string     `bun:"password_hash"`
	Role          string     `bun:"role"`
	Status        string     `bun:"status"`
	VerifiedAt    *time.Time `bun:"verified_at"`
	CreatedAt     time.Time  `bun:"created_at"`
	UpdatedAt     time.Time  `bun:"updated_at"`
}

// RefreshRow is a row of auth.refresh_tokens.
type RefreshRow struct {
	bun.BaseModel `bun:"table:auth.refresh_tokens"`
	ID            string     `bun:"id,pk"`
	FamilyID      string     `bun:"family_id"`
	UserID        string     `bun:"user_id"`
	TokenHash     []byte     `bun:"token_hash"`
	ExpiresAt     time.Time  `bun:"expires_at"`
	RotatedAt     *time.Time `bun:"rotated_at"`
	RevokedAt     *time.Time `bun:"revoked_at"`
	CreatedAt     time.Time  `bun:"created_at"`
}

// AddressRow is a row of auth.addresses.
type AddressRow struct {
	bun.BaseModel `bun:"table:auth.addresses"`
	ID            string    `bun:"id,pk"`
	UserID        string    `bun:"user_id"`
	Label         string    `bun:"label"`
	Line1         string    `bun:"line1"`
	Line2         string    `bun:"line2"`
	City          string    `bun:"city"`
	Region        string    `bun:"region"`
	PostalCode    string    `bun:"postal_code"`
	Country       string    `bun:"country"`
	Phone         string    `bun:"phone"`
	IsDefault     bool      `bun:"is_default"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// Store is auth's PostgreSQL repository. Every method takes the executor
// (db or tx), so use cases compose them in one transaction with the outbox.
type Store struct{}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// CreateUser inserts a user; a taken email is ErrDuplicate.
func (Store) CreateUser(ctx context.Context, db bun.IDB, u *UserRow) error {
	_, err := db.NewInsert().Model(u).ExcludeColumn("created_at", "updated_at").Returning("created_at, updated_at").Exec(ctx)
	if pg.IsUniqueViolation(err) {
		return ErrDuplicate
	}
	return err
}

// UserByEmail loads a user by normalised email.
func (Store) UserByEmail(ctx context.Context, db bun.IDB, email string) (*UserRow, error) {
	u := new(UserRow)
	err := db.NewSelect().Model(u).Where("email = ?", email).Scan(ctx)
	return u, notFound(err)
}

// UserByID loads a user.
func (Store) UserByID(ctx context.Context, db bun.IDB, id string) (*UserRow, error) {
	u := new(UserRow)
	err := db.NewSelect().Model(u).Where("id = ?", id).Scan(ctx)
	return u, notFound(err)
}

// ListUsers pages users by id (UUIDv7, so creation order).
func (Store) ListUsers(ctx context.Context, db bun.IDB, f UserFilter, after string, limit int) ([]UserRow, error) {
	var out []UserRow
	q := db.NewSelect().Model(&out).OrderExpr("id ASC").Limit(int64(limit))
	if after != "" {
		q = q.Where("id > ?", after)
	}
	if f.Q != "" {
		pat := "%" + likeEscape(f.Q) + "%"
		q = q.Where("(email ILIKE ? ESCAPE '\\' OR name ILIKE ? ESCAPE '\\')", pat, pat)
	}
	if f.Role != "" {
		q = q.Where("role = ?", f.Role)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	return out, q.Scan(ctx)
}

// UserFilter narrows ListUsers; empty fields match every user. Q is a
// case-insensitive substring of the email or the name, taken literally
// (LIKE wildcards in it are escaped).
type UserFilter struct {
	Q, Role, Status string
}

// likeEscape makes s match literally inside a LIKE pattern whose escape
// character is the backslash.
func likeEscape(s string) string {
	return strings.NewReplacer("\\", "\\\\", "%", "\\%", "_", "\\_").Replace(s)
}

// SetName updates the display name.
func (Store) SetName(ctx context.Context, db bun.IDB, id, name string) error {
	_, err := db.NewUpdate().Model((*UserRow)(nil)).Set("name = ?", name).Set("updated_at = now()").Where("id = ?", id).Exec(ctx)
	return err
}

// Activate marks an unverified user verified; reports whether it changed.
func (Store) Activate(ctx context.Context, db bun.IDB, id string) (bool, error) {
	res, err := db.NewUpdate().Model((*UserRow)(nil)).Set("status = 'active'").Set("verified_at = now()").Set("updated_at = now()").
		Where("id = ? AND status = 'unverified'", id).Exec(ctx)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// SetPassword replaces the password hash.
func (Store) SetPassword(ctx context.Context, db bun.IDB, id, hash string) error {
	_, err := db.NewUpdate().Model((*UserRow)(nil)).Set("password_hash = ?", hash).Set("updated_at = now()").Where("id = ?", id).Exec(ctx)
	return err
}

// SetRole changes the role (admin bootstrap).
func (Store) SetRole(ctx context.Context, db bun.IDB, id, role string) error {
	_, err := db.NewUpdate().Model((*UserRow)(nil)).Set("role = ?", role).Set("updated_at = now()").Where("id = ?", id).Exec(ctx)
	return err
}

// CreateToken stores a single-use token hash, invalidating older unused
// tokens of the same purpose (only the newest link works).
func (Store) CreateToken(ctx context.Context, db bun.IDB, hash []byte, userID, purpose string, expires time.Time) error {
	if _, err := db.ExecContext(ctx, "UPDATE auth.tokens SET used_at = now() WHERE user_id = ? AND purpose = ? AND used_at IS NULL", userID, purpose); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, "INSERT INTO auth.tokens (hash, user_id, purpose, expires_at) VALUES (?, ?, ?, ?)", hash, userID, purpose, expires)
	return err
}

// ConsumeToken marks a valid, unused, unexpired token used and returns its
// user; anything else is ErrNotFound. The UPDATE makes it single-use even
// under concurrent requests.
func (Store) ConsumeToken(ctx context.Context, db bun.IDB, hash []byte, purpose string) (string, error) {
	var userID string
	err := db.NewRaw("UPDATE auth.tokens SET used_at = now() WHERE hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > now() RETURNING user_id::text",
		hash, purpose).Scan(ctx, &userID)
	return userID, notFound(err)
}

// CreateRefresh stores a refresh token.
func (Store) CreateRefresh(ctx context.Context, db bun.IDB, r *RefreshRow) error {
	_, err := db.NewInsert().Model(r).ExcludeColumn("created_at").Exec(ctx)
	return err
}

// RefreshForUpdate locks the refresh token row with this hash.
func (Store) RefreshForUpdate(ctx context.Context, db bun.IDB, hash []byte) (*RefreshRow, error) {
	r := new(RefreshRow)
	err := db.NewSelect().Model(r).Where("token_hash = ?", hash).For("UPDATE").Scan(ctx)
	return r, notFound(err)
}

// MarkRotated records that the token was exchanged.
func (Store) MarkRotated(ctx context.Context, db bun.IDB, id string) error {
	_, err := db.ExecContext(ctx, "UPDATE auth.refresh_tokens SET rotated_at = now() WHERE id = ?", id)
	return err
}

// RevokeFamily revokes every live token of a family.
func (Store) RevokeFamily(ctx context.Context, db bun.IDB, familyID string) error {
	_, err := db.ExecContext(ctx, "UPDATE auth.refresh_tokens SET revoked_at = now() WHERE family_id = ? AND revoked_at IS NULL", familyID)
	return err
}

// RevokeUser revokes every live token of a user (password reset).
func (Store) RevokeUser(ctx context.Context, db bun.IDB, userID string) error {
	_, err := db.ExecContext(ctx, "UPDATE auth.refresh_tokens SET revoked_at = now() WHERE user_id = ? AND revoked_at IS NULL", userID)
	return err
}

// Addresses lists a user's addresses, default first.
func (Store) Addresses(ctx context.Context, db bun.IDB, userID string) ([]AddressRow, error) {
	var out []AddressRow
	err := db.NewSelect().Model(&out).Where("user_id = ?", userID).OrderExpr("is_default DESC, id ASC").Scan(ctx)
	return out, err
}

// AddressForUpdate locks one of the user's addresses.
func (Store) AddressForUpdate(ctx context.Context, db bun.IDB, userID, id string) (*AddressRow, error) {
	a := new(AddressRow)
	err := db.NewSelect().Model(a).Where("id = ? AND user_id = ?", id, userID).For("UPDATE").Scan(ctx)
	return a, notFound(err)
}

// Address loads one of the user's addresses.
func (Store) Address(ctx context.Context, db bun.IDB, userID, id string) (*AddressRow, error) {
	a := new(AddressRow)
	err := db.NewSelect().Model(a).Where("id = ? AND user_id = ?", id, userID).Scan(ctx)
	return a, notFound(err)
}

// LockUser serialises address changes of one user.
func (Store) LockUser(ctx context.Context, db bun.IDB, userID string) error {
	_, err := db.ExecContext(ctx, "SELECT 1 FROM auth.users WHERE id = ? FOR UPDATE", userID)
	return err
}

// ClearDefault unsets the user's default address.
func (Store) ClearDefault(ctx context.Context, db bun.IDB, userID string) error {
	_, err := db.ExecContext(ctx, "UPDATE auth.addresses SET is_default = false, updated_at = now() WHERE user_id = ? AND is_default", userID)
	return err
}

// SaveAddress inserts or fully updates an address.
func (Store) SaveAddress(ctx context.Context, db bun.IDB, a *AddressRow, insert bool) error {
	if insert {
		_, err := db.NewInsert().Model(a).ExcludeColumn("created_at", "updated_at").Returning("created_at, updated_at").Exec(ctx)
		return err
	}
	_, err := db.ExecContext(ctx, `UPDATE auth.addresses SET label = ?, line1 = ?, line2 = ?, city = ?, region = ?, postal_code = ?,
		country = ?, phone = ?, is_default = ?, updated_at = now() WHERE id = ? AND user_id = ?`,
		a.Label, a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country, a.Phone, a.IsDefault, a.ID, a.UserID)
	return err
}

// DeleteAddress removes an address and promotes the newest remaining one
// to default when the default was removed.
func (Store) DeleteAddress(ctx context.Context, db bun.IDB, userID, id string, wasDefault bool) error {
	if _, err := db.ExecContext(ctx, "DELETE FROM auth.addresses WHERE id = ? AND user_id = ?", id, userID); err != nil {
		return err
	}
	if !wasDefault {
		return nil
	}
	_, err := db.ExecContext(ctx, `UPDATE auth.addresses SET is_default = true, updated_at = now()
		WHERE id = (SELECT id FROM auth.addresses WHERE user_id = ? ORDER BY id DESC LIMIT 1)`, userID)
	return err
}
