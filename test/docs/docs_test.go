// Package docs checks that README.md and docs/*.md match the repository
// they describe: links resolve to files of the repository, the README
// offers exactly its two commands, every configuration variable is
// documented (and every documented one exists), and every `commerce`
// subcommand the documentation mentions exists. It reads files only: no
// network, no build, no database.
package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// root is the repository root: the directory of the go.mod above the test.
func root(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/opencommerce/commerce\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root (go.mod of github.com/opencommerce/commerce) not found above the test")
		}
		dir = parent
	}
}

// requiredPages are the pages the README promises.
var requiredPages = []string{"api.md", "architecture.md", "configuration.md", "operations.md"}

// docFiles returns README.md and every docs/*.md, relative to the root.
func docFiles(t *testing.T, root string) []string {
	t.Helper()
	files := []string{"README.md"}
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		files = append(files, filepath.Join("docs", filepath.Base(p)))
	}
	for _, want := range requiredPages {
		if _, err := os.Stat(filepath.Join(root, "docs", want)); err != nil {
			t.Errorf("docs/%s is missing", want)
		}
	}
	return files
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// block is a fenced code block.
type block struct {
	info  string // the word after the opening fence ("sh", "json", "")
	line  int    // line number of the opening fence
	lines []string
}

// parse splits markdown into its prose (fenced blocks blanked, so line
// numbers stay) and its fenced code blocks.
func parse(text string) (prose []string, blocks []block) {
	var cur *block
	var fence string
	for i, l := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(l)
		if cur == nil && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")) {
			fence = trimmed[:3]
			cur = &block{info: strings.Fields(strings.TrimLeft(trimmed, "`~") + " x")[0], line: i + 1}
			if cur.info == "x" {
				cur.info = ""
			}
			prose = append(prose, "")
			continue
		}
		if cur != nil && strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]) == "" {
			blocks = append(blocks, *cur)
			cur = nil
			prose = append(prose, "")
			continue
		}
		if cur != nil {
			cur.lines = append(cur.lines, l)
			prose = append(prose, "")
			continue
		}
		prose = append(prose, l)
	}
	return prose, blocks
}

var (
	inlineLink = regexp.MustCompile(`\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	refLink    = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$`)
	autoLink   = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]+)>`)
	scheme     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	dotdotPath = regexp.MustCompile("(?:^|[\\s(\"'`=])((?:\\.\\./)+[^\\s)\"'`]*)")
	heading    = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	codeSpan   = regexp.MustCompile("`+([^`]*)`+")
)

// anchors returns the GitHub heading anchors of a markdown file.
func anchors(text string) map[string]bool {
	prose, _ := parse(text)
	out := map[string]bool{}
	seen := map[string]int{}
	for _, l := range prose {
		m := heading.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		h := codeSpan.ReplaceAllString(m[1], "$1")
		h = inlineLink.ReplaceAllStringFunc(h, func(s string) string { return s[1:strings.Index(s, "]")] })
		var b strings.Builder
		for _, r := range strings.ToLower(h) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') || r > 127:
				b.WriteRune(r)
			}
		}
		slug := b.String()
		if n := seen[slug]; n > 0 {
			out[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

// within reports whether path (absolute, cleaned) lies inside root.
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// TestLinksStayInRepository: every link of README.md and docs/*.md resolves
// to a file of the repository (and to a heading, when it names one); no
// link is an absolute filesystem path or a web address other than the
// local shop; no relative path anywhere in the text climbs out of the
// repository (a clone has nothing there).
func TestLinksStayInRepository(t *testing.T) {
	root := root(t)
	for _, file := range docFiles(t, root) {
		text := read(t, filepath.Join(root, file))
		prose, _ := parse(text)
		dir := filepath.Dir(filepath.Join(root, file))
		check := func(line int, target string) {
			where := fmt.Sprintf("%s:%d: link %q", file, line, target)
			if scheme.MatchString(target) {
				if !regexp.MustCompile(`^https?://(localhost|127\.0\.0\.1)(:\d+)?(/|$)`).MatchString(target) {
					t.Errorf("%s leaves the repository: link to a file of the repository instead", where)
				}
				return
			}
			path, anchor, _ := strings.Cut(target, "#")
			if strings.HasPrefix(path, "/") || strings.HasPrefix(path, "~") || filepath.IsAbs(path) {
				t.Errorf("%s is an absolute path: use a path relative to %s", where, file)
				return
			}
			abs := filepath.Join(root, file)
			if path != "" {
				abs = filepath.Join(dir, filepath.FromSlash(path))
			}
			if !within(root, abs) {
				t.Errorf("%s points outside the repository", where)
				return
			}
			st, err := os.Stat(abs)
			if err != nil {
				t.Errorf("%s does not resolve: %v", where, err)
				return
			}
			if anchor != "" && !st.IsDir() && strings.HasSuffix(abs, ".md") {
				if !anchors(read(t, abs))[anchor] {
					t.Errorf("%s: %s has no heading with anchor #%s", where, filepath.Base(abs), anchor)
				}
			}
		}
		for i, l := range prose {
			for _, m := range inlineLink.FindAllStringSubmatch(l, -1) {
				check(i+1, m[1])
			}
			if m := refLink.FindStringSubmatch(l); m != nil {
				check(i+1, m[1])
			}
			for _, m := range autoLink.FindAllStringSubmatch(l, -1) {
				check(i+1, m[1])
			}
		}
		// Paths in running text and code, not only links.
		for i, l := range strings.Split(text, "\n") {
			for _, m := range dotdotPath.FindAllStringSubmatch(l, -1) {
				if !within(root, filepath.Join(dir, filepath.FromSlash(m[1]))) {
					t.Errorf("%s:%d: %q points outside the repository", file, i+1, m[1])
				}
			}
		}
	}
}

// shellInfo are the info strings of fenced blocks a reader runs in a shell.
var shellInfo = map[string]bool{"": true, "sh": true, "shell": true, "bash": true, "console": true, "zsh": true}

// commandLines returns the command lines of a shell block: not blank, not
// comments, not the continuation of a previous line ending in a backslash,
// with a leading "$ " prompt removed.
func commandLines(b block) []string {
	var out []string
	cont := false
	for _, l := range b.lines {
		s := strings.TrimSpace(l)
		wasCont := cont
		cont = strings.HasSuffix(s, `\`)
		if wasCont || s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		out = append(out, strings.TrimPrefix(s, "$ "))
	}
	return out
}

// program is the command a shell line runs: its first word after any
// VAR=value assignments, and the word after it.
func program(line string) (string, string) {
	f := strings.Fields(line)
	for len(f) > 0 && regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`).MatchString(f[0]) && !strings.Contains(f[0], "$(") {
		f = f[1:]
	}
	switch len(f) {
	case 0:
		return "", ""
	case 1:
		return f[0], ""
	}
	return f[0], f[1]
}

// TestReadmeHasExactlyTwoCommands: a new user needs two commands, and the
// README offers exactly those: `make run` and `make test`, each alone in a
// shell block of its own (copied as is), and no other way to build, run
// or test the project (go build/run/test, docker, `commerce serve`, other
// make targets). Commands that talk to the running shop (curl, seed) are
// a tour, not a third way in.
func TestReadmeHasExactlyTwoCommands(t *testing.T) {
	root := root(t)
	_, blocks := parse(read(t, filepath.Join(root, "README.md")))
	var makes []string
	for _, b := range blocks {
		if !shellInfo[b.info] {
			continue
		}
		lines := commandLines(b)
		for _, l := range lines {
			prog, arg := program(l)
			base := filepath.Base(prog)
			switch {
			case prog == "make":
				makes = append(makes, l)
				if len(lines) != 1 {
					t.Errorf("README.md:%d: %q shares its block with other commands; give it a block of its own", b.line, l)
				}
			case prog == "go" || prog == "docker" || prog == "docker-compose" || prog == "podman" || base == "run" && strings.Contains(prog, ".ci"):
				t.Errorf("README.md:%d: %q is another way to build, run or test; the README has only `make run` and `make test` (put it in docs/)", b.line, l)
			case base == "commerce" && arg == "serve":
				t.Errorf("README.md:%d: %q runs the shop another way than `make run` (put it in docs/)", b.line, l)
			}
		}
	}
	if want := []string{"make run", "make test"}; strings.Join(makes, "\n") != strings.Join(want, "\n") {
		t.Errorf("README.md: the make commands are %q; want exactly %q", makes, want)
	}
}

// configVar is a variable declared in config.go.
type configVar struct{ name, def string }

// configVars parses the spec table of internal/platform/config/config.go:
// every `env: "NAME"` with the `def: "..."` on the same line, if any.
func configVars(t *testing.T, root string) []configVar {
	t.Helper()
	src := read(t, filepath.Join(root, "internal", "platform", "config", "config.go"))
	envRe := regexp.MustCompile(`\benv:\s*"([A-Z][A-Z0-9_]*)"`)
	defRe := regexp.MustCompile(`\bdef:\s*"((?:[^"\\]|\\.)*)"`)
	var out []configVar
	for _, l := range strings.Split(src, "\n") {
		for _, m := range envRe.FindAllStringSubmatch(l, -1) {
			v := configVar{name: m[1]}
			if d := defRe.FindStringSubmatch(l); d != nil {
				v.def = d[1]
			}
			out = append(out, v)
		}
	}
	if len(out) < 20 {
		t.Fatalf("found only %d env: entries in config.go; has its spec table changed shape?", len(out))
	}
	return out
}

// TestConfigurationDocumented: docs/configuration.md has one table row per
// variable of config.go (first cell: the name in backticks), every row
// names a variable that exists, and a variable with a default shows that
// default in its row, so the page cannot go stale in either direction.
func TestConfigurationDocumented(t *testing.T) {
	root := root(t)
	vars := configVars(t, root)
	prose, _ := parse(read(t, filepath.Join(root, "docs", "configuration.md")))
	row := regexp.MustCompile("^\\|\\s*`([A-Z][A-Z0-9_]*)`\\s*\\|([^|]*)\\|")
	anyName := regexp.MustCompile("^\\|[^|]*`[A-Z][A-Z0-9_]*_[A-Z0-9_]*`")
	documented := map[string]string{} // name → default cell
	for i, l := range prose {
		m := row.FindStringSubmatch(l)
		if m == nil {
			if anyName.MatchString(l) {
				t.Errorf("docs/configuration.md:%d: a row's first cell must be exactly one variable in backticks: %s", i+1, l)
			}
			continue
		}
		if _, dup := documented[m[1]]; dup {
			t.Errorf("docs/configuration.md:%d: %s is documented twice", i+1, m[1])
		}
		documented[m[1]] = m[2]
	}
	declared := map[string]bool{}
	for _, v := range vars {
		declared[v.name] = true
		cell, ok := documented[v.name]
		if !ok {
			t.Errorf("%s (internal/platform/config/config.go) is not documented in docs/configuration.md", v.name)
			continue
		}
		if v.def != "" && !strings.Contains(cell, "`"+v.def+"`") {
			t.Errorf("docs/configuration.md: the default of %s is `%s` in config.go; its row says %q", v.name, v.def, strings.TrimSpace(cell))
		}
	}
	var extra []string
	for name := range documented {
		if !declared[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		t.Errorf("docs/configuration.md documents %s, which internal/platform/config/config.go does not declare", name)
	}
}

// subcommands parses the usage text of cmd/commerce/main.go: each
// "  commerce <command> <actions...>" line gives a command and the action
// words it takes (migrate: up, down, status). It also checks that the
// dispatcher handles each command, so the usage text cannot lie either.
func subcommands(t *testing.T, root string) map[string]map[string]bool {
	t.Helper()
	src := read(t, filepath.Join(root, "cmd", "commerce", "main.go"))
	start := strings.Index(src, "const usage = `")
	if start < 0 {
		t.Fatal("cmd/commerce/main.go: const usage not found")
	}
	body := src[start+len("const usage = `"):]
	body = body[:strings.Index(body, "`")]
	line := regexp.MustCompile(`(?m)^\s+commerce ([a-z][a-z-]*)(.*)$`)
	brackets := regexp.MustCompile(`\[[^\]]*\]`)
	out := map[string]map[string]bool{}
	for _, m := range line.FindAllStringSubmatch(body, -1) {
		actions := map[string]bool{}
		// The synopsis ends at the description, two or more spaces later.
		synopsis := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(m[2]), 2)[0]
		for _, tok := range strings.Fields(brackets.ReplaceAllString(synopsis, " ")) {
			if strings.HasPrefix(tok, "-") {
				break
			}
			for _, w := range strings.Split(tok, "|") {
				if w != "" {
					actions[w] = true
				}
			}
		}
		out[m[1]] = actions
		if !strings.Contains(src, `case "`+m[1]+`"`) {
			t.Errorf("cmd/commerce/main.go: the usage lists %q but run() has no case for it", m[1])
		}
	}
	if len(out) < 5 {
		t.Fatalf("found only %d commands in the usage of cmd/commerce/main.go; has it changed shape?", len(out))
	}
	return out
}

// TestSubcommandsExist: every `commerce <command>` in the code of README.md
// and docs/*.md (code spans and code blocks, including bin/commerce ...)
// is a command of the binary, with an action it takes, and every command
// of the binary is documented in docs/operations.md.
func TestSubcommandsExist(t *testing.T) {
	root := root(t)
	cmds := subcommands(t, root)
	mention := regexp.MustCompile("(?:^|[\\s/\"'(=$])commerce[ \\t]+([a-z][a-z-]*)(?:[ \\t]+([a-z][a-z|]*))?")
	seenInOps := map[string]bool{}
	for _, file := range docFiles(t, root) {
		text := read(t, filepath.Join(root, file))
		prose, blocks := parse(text)
		var code []string
		for _, l := range prose {
			for _, m := range codeSpan.FindAllStringSubmatch(l, -1) {
				code = append(code, m[1])
			}
		}
		for _, b := range blocks {
			code = append(code, b.lines...)
		}
		for _, c := range code {
			for _, m := range mention.FindAllStringSubmatch(c, -1) {
				actions, ok := cmds[m[1]]
				if !ok {
					t.Errorf("%s: %q: commerce has no command %q (cmd/commerce/main.go)", file, trimMention(m[0]), m[1])
					continue
				}
				if file == filepath.Join("docs", "operations.md") {
					seenInOps[m[1]] = true
				}
				if len(actions) == 0 || m[2] == "" {
					continue
				}
				for _, a := range strings.Split(m[2], "|") {
					if a != "" && !actions[a] {
						t.Errorf("%s: %q: commerce %s takes no action %q", file, trimMention(m[0]), m[1], a)
					}
				}
			}
		}
	}
	for name := range cmds {
		if !seenInOps[name] {
			t.Errorf("docs/operations.md does not mention `commerce %s`", name)
		}
	}
}

// trimMention drops the character the mention pattern matched before
// "commerce", for messages.
func trimMention(s string) string { return strings.TrimLeft(s, " \t/\"'(=$") }
