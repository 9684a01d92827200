package gitlog

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

const testMailmap = `# comment line
Jane Doe <jane@corp.example>
<jane@corp.example> <jane.doe@old.example>
Sam Patel <sam@corp.example> <SAM@Home.Example>
Alex Kim <alex@corp.example> Alex K <shared@corp.example>
Bot Owner <bots@corp.example> ci bot <shared@corp.example>
  Spaced   Name   <spaced@corp.example>   # trailing comment
<no-name-change@corp.example> <x@y> trailing junk
broken line without brackets
Half <open@corp.example
`

func TestMailmap(t *testing.T) {
	t.Parallel()
	m := parseMailmap([]byte(testMailmap))
	cases := []struct {
		name, inName, inEmail, wantName, wantEmail string
	}{
		{"form 1 replaces name only", "J. Doe", "jane@corp.example", "Jane Doe", "jane@corp.example"},
		{"form 1 matches email case-insensitively", "J", "JANE@CORP.EXAMPLE", "Jane Doe", "JANE@CORP.EXAMPLE"},
		{"form 2 replaces email only", "Jane", "jane.doe@old.example", "Jane", "jane@corp.example"},
		{"form 3 replaces both", "sam", "sam@home.example", "Sam Patel", "sam@corp.example"},
		{"form 4 needs name and email", "Alex K", "shared@corp.example", "Alex Kim", "alex@corp.example"},
		{"form 4 name is case-insensitive", "ALEX k", "Shared@Corp.Example", "Alex Kim", "alex@corp.example"},
		{"form 4 second name on same email", "CI Bot", "shared@corp.example", "Bot Owner", "bots@corp.example"},
		{"form 4 other name unmapped", "Someone", "shared@corp.example", "Someone", "shared@corp.example"},
		{"names are trimmed", "s", "spaced@corp.example", "Spaced   Name", "spaced@corp.example"},
		{"trailing junk after emails ignored", "X", "x@y", "X", "no-name-change@corp.example"},
		{"unknown identity unchanged", "Nobody", "nobody@corp.example", "Nobody", "nobody@corp.example"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, e := m.Map(tc.inName, tc.inEmail)
			if n != tc.wantName || e != tc.wantEmail {
				t.Errorf("Map(%q, %q) = %q, %q; want %q, %q", tc.inName, tc.inEmail, n, e, tc.wantName, tc.wantEmail)
			}
		})
	}
	var nilMap *mailmap
	if n, e := nilMap.Map("a", "b"); n != "a" || e != "b" {
		t.Errorf("nil mailmap changed the identity: %q %q", n, e)
	}
}

func TestMailmapLaterLineWins(t *testing.T) {
	t.Parallel()
	m := parseMailmap([]byte("Old Name <a@x>\n<new@x> <a@x>\nNew Name <a@x>\n"))
	if n, e := m.Map("whatever", "a@x"); n != "New Name" || e != "new@x" {
		t.Errorf("Map = %q, %q; want the later name and the email from line 2", n, e)
	}
}

// TestMailmapMatchesGit checks the parser against git's own
// `git check-mailmap` for the same file.
func TestMailmapMatchesGit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := demorepo.Git(ctx, dir, "init", "-q"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".mailmap"), []byte(testMailmap), 0o644); err != nil {
		t.Fatal(err)
	}
	m := parseMailmap([]byte(testMailmap))
	for _, id := range [][2]string{
		{"J. Doe", "jane@corp.example"}, {"Jane", "jane.doe@old.example"}, {"sam", "SAM@home.example"},
		{"Alex K", "shared@corp.example"}, {"ci bot", "SHARED@corp.example"}, {"Someone", "shared@corp.example"},
		{"s", "spaced@corp.example"}, {"X", "x@y"}, {"Nobody", "nobody@corp.example"},
	} {
		out, err := demorepo.Git(ctx, dir, "check-mailmap", id[0]+" <"+id[1]+">")
		if err != nil {
			t.Fatal(err)
		}
		n, e := m.Map(id[0], id[1])
		if got, want := n+" <"+e+">", strings.TrimSpace(out); got != want {
			t.Errorf("Map(%q, %q) = %s; git check-mailmap says %s", id[0], id[1], got, want)
		}
	}
}

func FuzzMailmap(f *testing.F) {
	f.Add([]byte(testMailmap), "Alex K", "shared@corp.example")
	f.Add([]byte("<a@b> <c@d>\n"), "x", "C@D")
	f.Add([]byte("Name <>\n<> <>\n< <a>>\n"), "", "")
	f.Fuzz(func(t *testing.T, content []byte, name, email string) {
		m := parseMailmap(content)
		n, e := m.Map(name, email)
		if email != "" && e == "" {
			t.Fatalf("mapped %q to an empty email", email)
		}
		if isASCII(email) {
			// The email is matched case-insensitively.
			if n2, _ := m.Map(name, strings.ToUpper(email)); n2 != n {
				t.Fatalf("name for %q is %q but for its upper case %q", email, n, n2)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
