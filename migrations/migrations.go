// Package migrations embeds the SQL migrations of every bounded context
// (one directory, one Postgres schema each) into the binary.
package migrations

import "embed"

// FS holds <context>/<version>_<name>.up.sql and .down.sql files.
//
//go:embed */*.sql
var FS embed.FS
