// Package docs holds the project's reference documentation (Markdown);
// its test checks that every relative link in the repository's Markdown
// files (README.md, docs/*.md, the packages' READMEs) resolves inside the
// repository, as it must in a fresh clone.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// link matches an inline Markdown link or image: [text](target) or
// [text](target "title").
var link = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

var heading = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*#*\s*$`)

// slug is the anchor GitHub gives a heading: lower case, punctuation other
// than "-" and "_" dropped, spaces turned into "-".
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors lists the heading anchors of a Markdown file, outside code blocks.
func anchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(stripCode(string(b)), -1) {
		out[slug(m[1])] = true
	}
	return out
}

// stripCode blanks fenced code blocks, whose lines are not headings or
// links.
func stripCode(s string) string {
	lines := strings.Split(s, "\n")
	in := false
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			in = !in
			lines[i] = ""
			continue
		}
		if in {
			lines[i] = ""
		}
	}
	return strings.Join(lines, "\n")
}

func TestRelativeLinksResolve(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".md") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md")); len(docs) < 4 {
		t.Fatalf("docs/*.md: %v", docs)
	}
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(stripCode(string(b)), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			path, anchor, _ := strings.Cut(target, "#")
			dst := f
			if path != "" {
				dst = filepath.Clean(filepath.Join(filepath.Dir(f), filepath.FromSlash(path)))
			}
			rel, err := filepath.Rel(root, dst)
			if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				t.Errorf("%s: link %q leaves the repository (a clone does not have it)", relTo(root, f), target)
				continue
			}
			if _, err := os.Stat(dst); err != nil {
				t.Errorf("%s: link %q: %v", relTo(root, f), target, err)
				continue
			}
			if anchor != "" && strings.HasSuffix(dst, ".md") && !anchors(t, dst)[anchor] {
				t.Errorf("%s: link %q: no heading with anchor #%s in %s", relTo(root, f), target, anchor, rel)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d relative links found: the link pattern is broken", checked)
	}
}

func relTo(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil {
		return r
	}
	return p
}

// The README tells a new user how to put ksbfolio on PATH, and documents
// version and completion.
func TestReadmeCoversInstall(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"go install ./cmd/ksbfolio", "$(go env GOPATH)/bin", "ksbfolio completion", "ksbfolio version", "(docs/README.md)"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("README.md lacks %q", want)
		}
	}
	if strings.Contains(string(b), "DESIGN.md") {
		t.Errorf("README.md still refers to DESIGN.md, which a clone does not have")
	}
}

func TestSlug(t *testing.T) {
	for h, want := range map[string]string{
		"The lease":                                "the-lease",
		"`coverage --json`":                        "coverage---json",
		"`run --json` and `collect --json`":        "run---json-and-collect---json",
		"`apprentice` (required) or `apprentices`": "apprentice-required-or-apprentices",
	} {
		if got := slug(h); got != want {
			t.Errorf("slug(%q) = %q, want %q", h, got, want)
		}
	}
}
