// Package migrate applies the embedded per-context SQL migrations under a
// PostgreSQL advisory lock, so two processes starting together never race
// and every context's schema is versioned independently.
package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// lockKey is the advisory lock all migrating processes serialise on.
const lockKey = 7_364_201_991

// Migration is one versioned step of one context.
type Migration struct {
	Context string
	Version int
	Name    string
	Up      string
	Down    string
}

// Status is a migration and whether/when it was applied.
type Status struct {
	Migration
	AppliedAt *time.Time
}

// Migrator applies migrations from files laid out as <context>/<NNNN>_<name>.up.sql.
type Migrator struct {
	db    *sql.DB
	steps []Migration
}

// New parses the migrations of the given contexts (in that order; the
// platform context first) from fsys.
func New(db *sql.DB, fsys fs.FS, contexts []string) (*Migrator, error) {
	m := &Migrator{db: db}
	for _, c := range contexts {
		entries, err := fs.ReadDir(fsys, c)
		if err != nil {
			continue // a context without migrations
		}
		byVersion := map[int]*Migration{}
		for _, e := range entries {
			name := e.Name()
			var dir string
			switch {
			case strings.HasSuffix(name, ".up.sql"):
				dir = "up"
			case strings.HasSuffix(name, ".down.sql"):
				dir = "down"
			default:
				continue
			}
			base := strings.TrimSuffix(strings.TrimSuffix(name, ".sql"), "."+dir)
			num, label, ok := strings.Cut(base, "_")
			v, err := strconv.Atoi(num)
			if !ok || err != nil {
				return nil, fmt.Errorf("migration %s/%s: name must be NNNN_name.%s.sql", c, name, dir)
			}
			body, err := fs.ReadFile(fsys, path.Join(c, name))
			if err != nil {
				return nil, err
			}
			mg := byVersion[v]
			if mg == nil {
				mg = &Migration{Context: c, Version: v, Name: label}
				byVersion[v] = mg
			}
			if dir == "up" {
				mg.Up = string(body)
			} else {
				mg.Down = string(body)
			}
		}
		var vs []int
		for v := range byVersion {
			vs = append(vs, v)
		}
		sort.Ints(vs)
		for _, v := range vs {
			if byVersion[v].Up == "" {
				return nil, fmt.Errorf("migration %s/%04d has no .up.sql", c, v)
			}
			m.steps = append(m.steps, *byVersion[v])
		}
	}
	return m, nil
}

// withLock runs fn on one connection holding the advisory lock.
func (m *Migrator) withLock(ctx context.Context, fn func(conn *sql.Conn) error) error {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(lockKey)); err != nil {
		return fmt.Errorf("acquire migration lock: %w", err)
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(lockKey))
	}()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS public.schema_migrations (
		context text NOT NULL, version int NOT NULL, name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (context, version))`); err != nil {
		return err
	}
	return fn(conn)
}

func applied(ctx context.Context, conn *sql.Conn) (map[string]time.Time, error) {
	rows, err := conn.QueryContext(ctx, "SELECT context, version, applied_at FROM public.schema_migrations")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var c string
		var v int
		var at time.Time
		if err := rows.Scan(&c, &v, &at); err != nil {
			return nil, err
		}
		out[key(c, v)] = at
	}
	return out, rows.Err()
}

func key(c string, v int) string { return c + "/" + strconv.Itoa(v) }

// Up applies every pending migration, each in its own transaction, and
// returns how many it applied.
func (m *Migrator) Up(ctx context.Context) (int, error) {
	n := 0
	err := m.withLock(ctx, func(conn *sql.Conn) error {
		done, err := applied(ctx, conn)
		if err != nil {
			return err
		}
		for _, s := range m.steps {
			if _, ok := done[key(s.Context, s.Version)]; ok {
				continue
			}
			if err := inTx(ctx, conn, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, s.Up); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, "INSERT INTO public.schema_migrations (context, version, name) VALUES ($1, $2, $3)", s.Context, s.Version, s.Name)
				return err
			}); err != nil {
				return fmt.Errorf("migration %s/%04d_%s: %w", s.Context, s.Version, s.Name, err)
			}
			n++
		}
		return nil
	})
	return n, err
}

// Pending lists the migrations not applied yet, in the order Up would
// apply them: a process that does not migrate (MIGRATE_ON_START=false)
// refuses to run code against a schema behind it.
func (m *Migrator) Pending(ctx context.Context) ([]Migration, error) {
	st, err := m.Status(ctx)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, s := range st {
		if s.AppliedAt == nil {
			out = append(out, s.Migration)
		}
	}
	return out, nil
}

// Down rolls back the most recently applied `steps` migrations.
func (m *Migrator) Down(ctx context.Context, steps int) (int, error) {
	n := 0
	err := m.withLock(ctx, func(conn *sql.Conn) error {
		done, err := applied(ctx, conn)
		if err != nil {
			return err
		}
		for i := len(m.steps) - 1; i >= 0 && n < steps; i-- {
			s := m.steps[i]
			if _, ok := done[key(s.Context, s.Version)]; !ok {
				continue
			}
			if s.Down == "" {
				return fmt.Errorf("migration %s/%04d has no .down.sql", s.Context, s.Version)
			}
			if err := inTx(ctx, conn, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, s.Down); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, "DELETE FROM public.schema_migrations WHERE context = $1 AND version = $2", s.Context, s.Version)
				return err
			}); err != nil {
				return fmt.Errorf("rollback %s/%04d_%s: %w", s.Context, s.Version, s.Name, err)
			}
			n++
		}
		return nil
	})
	return n, err
}

// Status lists every known migration with its applied time.
func (m *Migrator) Status(ctx context.Context) ([]Status, error) {
	var out []Status
	err := m.withLock(ctx, func(conn *sql.Conn) error {
		done, err := applied(ctx, conn)
		if err != nil {
			return err
		}
		for _, s := range m.steps {
			st := Status{Migration: s}
			if at, ok := done[key(s.Context, s.Version)]; ok {
				at := at
				st.AppliedAt = &at
			}
			out = append(out, st)
		}
		return nil
	})
	return out, err
}

func inTx(ctx context.Context, conn *sql.Conn, fn func(*sql.Tx) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
