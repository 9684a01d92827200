package ksb_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func builtinST1398(t *testing.T) *ksb.Catalogue {
	t.Helper()
	for _, c := range ksb.Builtin() {
		if c.ID == "st1398-v1.0" {
			return c
		}
	}
	t.Fatal("no built-in catalogue st1398-v1.0")
	return nil
}

func TestBuiltinIDsMatchBuiltin(t *testing.T) {
	var got []string
	for _, c := range ksb.Builtin() {
		got = append(got, c.ID)
	}
	if want := ksb.BuiltinIDs(); !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("Builtin() IDs = %q, BuiltinIDs() = %q; want equal and non-empty", got, want)
	}
}

func TestBuiltinST1398(t *testing.T) {
	c := builtinST1398(t)
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	if c.Reference != "ST1398" || c.Version != "1.0" || c.Level != 6 || c.Title != "Machine learning engineer" {
		t.Errorf("metadata = %q %q level %d %q", c.Reference, c.Version, c.Level, c.Title)
	}
	if !c.Complete || c.TotalKSBs != 70 || len(c.KSBs) != 70 {
		t.Errorf("Complete = %v, TotalKSBs = %d, %d KSBs; want the complete list of 70", c.Complete, c.TotalKSBs, len(c.KSBs))
	}
	if k, s, b := c.Counts(); k != 31 || s != 34 || b != 5 {
		t.Errorf("Counts() = %d, %d, %d; want 31, 34, 5", k, s, b)
	}
	if got := len(c.AssessedBy("professional_discussion")); got != 39 {
		t.Errorf("%d KSBs assessed by the professional discussion, want 39", got)
	}
	if got := len(c.AssessedBy("project")); got != 31 {
		t.Errorf("%d KSBs assessed by the project, want 31", got)
	}
	pd, ok := c.Method("professional_discussion")
	if want := []string{"Engineering principles", "Model testing and improvement", "Model management",
		"Compliance and assurance", "Collaborative working", "Continuous professional development"}; !ok || !slices.Equal(pd.Themes, want) {
		t.Errorf("professional discussion themes = %q, want %q", pd.Themes, want)
	}
	if pd.Name != "professional discussion" || len(pd.Distinction) != 4 {
		t.Errorf("professional discussion = %+v", pd)
	}
	if len(c.Duties) != 9 || c.Duties[3].ID != "D4" || !slices.Contains(c.Duties[3].KSBs, "S34") {
		t.Errorf("duties = %+v", c.Duties)
	}
	if c.Licence != "OGL-UK-3.0" || !strings.Contains(c.Provenance, "Open Government Licence v3.0") ||
		!strings.Contains(c.Provenance, "skillsengland.education.gov.uk") {
		t.Errorf("licence %q, provenance %q; want the OGL attribution and the source", c.Licence, c.Provenance)
	}
	if len(c.VersionLog) != 2 || c.VersionLog[1].EarliestStart != "2026-12-11" {
		t.Errorf("version log = %+v", c.VersionLog)
	}
	facts := map[string]string{}
	for _, f := range c.Facts {
		facts[f.Name] = f.Value
	}
	if facts["approved_for_delivery"] != "2024-12-18" || facts["lars_code"] != "795" || facts["latest_start"] != "2026-12-10" {
		t.Errorf("facts = %+v", c.Facts)
	}
}

// TestBuiltinStatementsAreOfficial reads the embedded reference list with a
// plain YAML decoder and checks every KSB and duty of the catalogue against
// it: statement byte for byte, kind, methods, grade theme, duty KSBs.
func TestBuiltinStatementsAreOfficial(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("builtin", "st1398-v1.0.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		KSBs []struct {
			ID, Kind, Text string
			Methods        []string
			GradeTheme     string `yaml:"grade_theme"`
		} `yaml:"ksbs"`
		Duties []struct {
			ID, Text string
			KSBs     []string `yaml:"ksbs"`
		} `yaml:"duties"`
	}
	if err := yaml.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.KSBs) != 70 || len(ref.Duties) != 9 {
		t.Fatalf("reference has %d KSBs and %d duties", len(ref.KSBs), len(ref.Duties))
	}
	c := builtinST1398(t)
	for _, want := range ref.KSBs {
		got, ok := c.Lookup(want.ID)
		switch {
		case !ok:
			t.Errorf("%s missing", want.ID)
		case got.Statement != want.Text:
			t.Errorf("%s statement\n got %q\nwant %q", want.ID, got.Statement, want.Text)
		case got.Kind != want.Kind || !slices.Equal(got.Methods, want.Methods) || got.GradeTheme != want.GradeTheme:
			t.Errorf("%s = %s %q %q, want %s %q %q", want.ID, got.Kind, got.Methods, got.GradeTheme, want.Kind, want.Methods, want.GradeTheme)
		}
	}
	for i, want := range ref.Duties {
		if got := c.Duties[i]; got.ID != want.ID || got.Text != want.Text || !slices.Equal(got.KSBs, want.KSBs) {
			t.Errorf("duty %s = %+v, want %+v", want.ID, got, want)
		}
	}
}

func TestBuiltinFreshCopies(t *testing.T) {
	a := builtinST1398(t)
	a.KSBs[0].Statement = "changed"
	a.Methods[0].Themes[0] = "changed"
	a.Notes = nil
	b := builtinST1398(t)
	if b.KSBs[0].Statement == "changed" || b.Methods[0].Themes[0] == "changed" || len(b.Notes) == 0 {
		t.Error("changing one Builtin() result changed the next")
	}
}

// TestBuiltinVerbatim checks that the embedded list is a byte-for-byte copy
// of the project's reference file. The reference sits in shared/reference/
// in a folder above the module (../shared beside a checkout, or higher up
// for a worktree). Without it the test skips, unless CI is set: then it
// fails.
func TestBuiltinVerbatim(t *testing.T) {
	got, err := os.ReadFile(filepath.Join("builtin", "st1398-v1.0.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := findReference(filepath.Join("shared", "reference", "st1398-v1.0.yaml"))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %v", err)
		}
		t.Skip(err)
	}
	want, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("builtin/st1398-v1.0.yaml is not a verbatim copy of %s; copy it again (cp %s evidence/ksb/builtin/)", ref, ref)
	}
}

// findReference looks for rel in the module root's parent and each folder
// above it.
func findReference(rel string) (string, error) {
	dir, err := filepath.Abs(".")
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's folder")
		}
		dir = parent
	}
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		p := filepath.Join(d, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s not found in any folder above the module root %s", rel, dir)
		}
	}
}

func TestRevision(t *testing.T) {
	a, b := builtinST1398(t), builtinST1398(t)
	if a.Revision() != b.Revision() || len(a.Revision()) != 16 {
		t.Fatalf("Revision() = %q and %q; want the same 16 hex digits", a.Revision(), b.Revision())
	}
	b.Provenance, b.Notes, b.Facts = "reworded", nil, nil
	if a.Revision() != b.Revision() {
		t.Error("rewording the provenance changed the revision")
	}
	for name, change := range map[string]func(c *ksb.Catalogue){
		"statement":   func(c *ksb.Catalogue) { c.KSBs[3].Statement += " More." },
		"method":      func(c *ksb.Catalogue) { c.KSBs[0].Methods = []string{"project"} },
		"grade theme": func(c *ksb.Catalogue) { c.KSBs[0].GradeTheme = "Model scoping" },
		"duty ksbs":   func(c *ksb.Catalogue) { c.Duties[0].KSBs = c.Duties[0].KSBs[1:] },
		"ksb removed": func(c *ksb.Catalogue) { c.KSBs = c.KSBs[1:] },
		"complete":    func(c *ksb.Catalogue) { c.Complete = false },
	} {
		c := builtinST1398(t)
		change(c)
		if c.Revision() == a.Revision() {
			t.Errorf("changing the %s left the revision %s", name, a.Revision())
		}
	}
}

func TestVersionFor(t *testing.T) {
	c := builtinST1398(t)
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		start, want string
		current     bool
	}{
		{"2024-12-18", "1.0", true},
		{"2025-08-30", "1.0", true},
		{"2026-12-10", "1.0", true},
		{"2026-12-11", "revised (number not shown)", false},
		{"2031-01-01", "revised (number not shown)", false},
	}
	for _, tc := range tests {
		e, ok := c.VersionFor(day(tc.start))
		if !ok || e.Version != tc.want || c.IsCurrent(e) != tc.current {
			t.Errorf("VersionFor(%s) = %+v, %v; want version %q (current %v)", tc.start, e, ok, tc.want, tc.current)
		}
	}
	if e, ok := c.VersionFor(day("2024-12-17")); ok {
		t.Errorf("VersionFor(before approval) = %+v, want none", e)
	}
}

// TestBuiltinGolden pins the built-in catalogue as Marshal writes it, so a
// change to the reference data or the conversion shows up in review.
// Regenerate with: go test ./evidence/ksb -run TestBuiltinGolden -update
func TestBuiltinGolden(t *testing.T) {
	got, err := ksb.Marshal(builtinST1398(t))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "st1398-v1.0.golden.yaml"), got, *update)
}

func TestMarshalRoundTrip(t *testing.T) {
	cats := ksb.Builtin()
	imported, err := ksb.Parse("list.txt", []byte("K1: One.\nS2: Two.\nB3: Three.\nD1: A duty.\n"),
		ksb.ImportOptions{ID: "x-v1", Title: "X", Reference: "ST0001", Version: "1.0", Complete: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	cats = append(cats, imported)
	for _, c := range cats {
		t.Run(c.ID, func(t *testing.T) {
			b, err := ksb.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if f := ksb.DetectFormat(b); f != ksb.FormatYAML {
				t.Errorf("DetectFormat(Marshal(c)) = %q, want yaml", f)
			}
			back, err := ksb.Parse(c.ID+".yaml", b, ksb.ImportOptions{})
			if err != nil {
				t.Fatalf("Parse(Marshal(c)) = %v\n%s", err, b)
			}
			if !reflect.DeepEqual(back, c) {
				t.Errorf("round trip changed the catalogue\n got %+v\nwant %+v", back, c)
			}
		})
	}
}

func TestMarshalRefusesInvalid(t *testing.T) {
	if _, err := ksb.Marshal(&ksb.Catalogue{ID: "Bad ID"}); err == nil {
		t.Error("Marshal accepted an invalid catalogue")
	}
}

func ptr[T any](v T) *T { return &v }

func BenchmarkBuiltin(b *testing.B) {
	for b.Loop() {
		if len(ksb.Builtin()) == 0 {
			b.Fatal("no built-in catalogues")
		}
	}
}

func BenchmarkParseText70(b *testing.B) {
	var in strings.Builder
	for _, p := range []struct {
		letter string
		n      int
	}{{"K", 30}, {"S", 32}, {"B", 8}} {
		for i := 1; i <= p.n; i++ {
			fmt.Fprintf(&in, "%s%d: A statement long enough to wrap\n  onto a second line like the official page does.\n", p.letter, i)
		}
	}
	data := []byte(in.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ksb.Parse("list.txt", data, ksb.ImportOptions{ID: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
}
