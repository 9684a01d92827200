package ksb_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence/ksb"
)

// parseText parses in as pasted text with ID "t-v1".
func parseText(in string, opts ksb.ImportOptions) (*ksb.Catalogue, error) {
	if opts.ID == "" {
		opts.ID = "t-v1"
	}
	return ksb.ParseFormat(ksb.FormatText, "pasted.txt", []byte(in), opts)
}

// statements renders a catalogue's KSBs as "ID=statement" lines.
func statements(c *ksb.Catalogue) string {
	var b strings.Builder
	for _, k := range c.KSBs {
		b.WriteString(k.ID + "=" + k.Statement + "\n")
	}
	for _, d := range c.Duties {
		b.WriteString(d.ID + "=" + d.Text + "\n")
	}
	return b.String()
}

func TestParseText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"separators", "K1: Colon.\nK2 Space.\nK3 - Hyphen.\nK4. Dot.\nK5 – En dash.\nK6 — Em dash.\nK7) Paren.\nK8\tTab.\nK9 | Pipe.\n",
			"K1=Colon.\nK2=Space.\nK3=Hyphen.\nK4=Dot.\nK5=En dash.\nK6=Em dash.\nK7=Paren.\nK8=Tab.\nK9=Pipe.\n"},
		{"bullets", "- K1: Dash.\n* K2: Star.\n• K3: Dot.\n1. K4: Number.\n12) K5: Paren number.\n  - 3. K6: Nested.\n",
			"K1=Dash.\nK2=Star.\nK3=Dot.\nK4=Number.\nK5=Paren number.\nK6=Nested.\n"},
		{"markdown bold", "**K1:** Bold code.\n**K2**: Bold before colon.\n- **S1** – Bold bullet.\n",
			"K1=Bold code.\nK2=Bold before colon.\nS1=Bold bullet.\n"},
		{"wrapped lines", "K1: How machine learning methods\n   are applied to maximise\nthe impact to the organisation.\nK2: Short.\n",
			"K1=How machine learning methods are applied to maximise the impact to the organisation.\nK2=Short.\n"},
		{"blank lines and headings", "Machine learning engineer KSBs\n\nKnowledge\n\nK1: One.\n\n## Skills:\nS1: Two.\nBehaviours (B)\nB1: Three.\nBEHAVIORS\n",
			"K1=One.\nS1=Two.\nB1=Three.\n"},
		{"heading ends a statement", "K1: One.\nSkills\nIntroduction to the skills.\nS1: Two.\n",
			"K1=One.\nS1=Two.\n"},
		{"natural order", "B1: b.\nS10: s10.\nK11: k11.\nS2: s2.\nK5: k5.\n",
			"K5=k5.\nK11=k11.\nS2=s2.\nS10=s10.\nB1=b.\n"},
		{"leading zeros", "K01: One.\nS007: Seven.\n", "K1=One.\nS7=Seven.\n"},
		{"not codes", "K1: Uses B2B data\nB2B sales pipelines and K12a forms.\n", "K1=Uses B2B data B2B sales pipelines and K12a forms.\n"},
		{"white space collapsed", "K1:   Many    spaces\u00a0and\tTabs.  \n", "K1=Many spaces and Tabs.\n"},
		{"back to duty links", "K1: One. Back to Duty\nBack to Duty\nK2: Two.\n", "K1=One.\nK2=Two.\n"},
		{"duties", "Duties\nDuty 1 Monitor models\nin the live environment.\nK1 K2 S3\nKSBs: B1\nD2: Scale systems.\nKnowledge\nK1: One.\n",
			"K1=One.\nD1=Monitor models in the live environment.\nD2=Scale systems.\n"},
		{"lone code in duty mapping", "Duties\nD1: Duty.\nK1\nKnowledge\nK1: One.\n", "K1=One.\nD1=Duty.\n"},
		{"CRLF and BOM", "\uFEFFK1: One\r\ncontinued.\r\nS1: Two.\r\n", "K1=One continued.\nS1=Two.\n"},
		{"old Mac line ends", "K1: One.\rS1: Two.\r", "K1=One.\nS1=Two.\n"},
		{"zero-width and control characters", "K1: One\u200b.\x07\nS1: Two.\n", "K1=One.\nS1=Two.\n"},
		{"invalid UTF-8", "K1: Caf\xe9.\n", "K1=Caf\uFFFD.\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseText(tc.in, ksb.ImportOptions{})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := statements(c); got != tc.want {
				t.Errorf("got:\n%swant:\n%s", got, tc.want)
			}
			for _, k := range c.KSBs {
				if k.Source != "pasted.txt" || k.Confidence != "imported" {
					t.Errorf("%s: source %q confidence %q", k.ID, k.Source, k.Confidence)
				}
			}
		})
	}
}

func TestParseTextErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts ksb.ImportOptions
		want []string
	}{
		{"duplicate", "K1: One.\nK2: Two.\n\nK1: One again.\n", ksb.ImportOptions{}, []string{"line 4: K1 appears again (first on line 1)"}},
		{"duplicate after normalising", "K1: One.\nK01: One again.\n", ksb.ImportOptions{}, []string{"line 2: K1 appears again (first on line 1)"}},
		{"every duplicate", "K1: a\nK1: b\nS1: c\nS1: d\n", ksb.ImportOptions{}, []string{"line 2: K1", "line 4: S1 appears again (first on line 3)"}},
		{"empty statement", "K1: One.\nK2:\nK3 -  \n", ksb.ImportOptions{}, []string{"line 2: K2 has no statement", "line 3: K3 has no statement"}},
		{"lone code", "K1\nHow machine learning methods are applied.\n", ksb.ImportOptions{}, []string{"line 1: K1 has no statement"}},
		{"zero", "K0: Nothing.\n", ksb.ImportOptions{}, []string{"line 1: K0: KSB numbers start at 1"}},
		{"duplicate duty", "D1: a\nD1: b\nK1: c\n", ksb.ImportOptions{}, []string{"line 2: duty D1 appears again (first on line 1)"}},
		{"duty without text", "Duty 3\nK1: c\n", ksb.ImportOptions{}, []string{"line 1: duty D3 has no text"}},
		{"bad id option", "K1: c\n", ksb.ImportOptions{ID: "Not A Slug"}, []string{`id "Not A Slug"`}},
		{"complete asserted is valid", "K1: c\n", ksb.ImportOptions{Complete: ptr(true)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseText(tc.in, tc.opts)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("parse succeeded with %+v, want an error", c)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestParseTextNoKSBs(t *testing.T) {
	for _, in := range []string{"", "\n\n", "\uFEFF", "Knowledge\nSkills\n", "Just some prose.\nNo codes here.\n", "Duties\nD1: Only a duty.\n"} {
		_, err := parseText(in, ksb.ImportOptions{})
		if err == nil || !strings.Contains(err.Error(), "no KSB lines found") {
			t.Errorf("parse(%q) = %v, want a no-KSBs error", in, err)
		}
	}
}

func TestParseTextNeedsID(t *testing.T) {
	_, err := ksb.Parse("list.txt", []byte("K1: One.\n"), ksb.ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "no catalogue ID") || !strings.Contains(err.Error(), "list.txt") {
		t.Errorf("Parse without ID = %v, want an error asking for an ID and naming the file", err)
	}
}

func TestParseTextMetadata(t *testing.T) {
	in := "K1: One.\nS1: Two.\nB1: Three.\n"
	c, err := ksb.Parse("official.txt", []byte(in), ksb.ImportOptions{ID: "st1398-v1.0", Title: "ML engineer", Reference: "st1398", Version: "1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "st1398-v1.0" || c.Title != "ML engineer" || c.Reference != "ST1398" || c.Version != "1.0" {
		t.Errorf("metadata = %q %q %q %q", c.ID, c.Title, c.Reference, c.Version)
	}
	if c.Complete || c.TotalKSBs != 0 {
		t.Errorf("Complete = %v, TotalKSBs = %d; pasted text is incomplete unless asserted", c.Complete, c.TotalKSBs)
	}
	if !strings.Contains(c.Provenance, "official.txt") {
		t.Errorf("provenance %q does not name the file", c.Provenance)
	}

	c, err = ksb.Parse("official.txt", []byte(in), ksb.ImportOptions{ID: "st1398-v1.0", Complete: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Complete || c.TotalKSBs != 3 {
		t.Errorf("asserted complete: Complete = %v, TotalKSBs = %d; want true, 3", c.Complete, c.TotalKSBs)
	}
}

func TestParseTextReferenceFromID(t *testing.T) {
	c, err := ksb.Parse("v2.txt", []byte("K1: One.\n"), ksb.ImportOptions{ID: "st1398-v2.0"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Reference != "ST1398" || c.Version != "2.0" {
		t.Errorf("reference %q version %q, want ST1398 2.0 from the ID", c.Reference, c.Version)
	}
	c, err = ksb.Parse("v2.txt", []byte("K1: One.\n"), ksb.ImportOptions{ID: "st1398-v2.0", Reference: "ST9", Version: "3"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Reference != "ST9" || c.Version != "3" {
		t.Errorf("reference %q version %q, want the options' ST9 3", c.Reference, c.Version)
	}
	c, err = ksb.Parse("v2.txt", []byte("K1: One.\n"), ksb.ImportOptions{ID: "my-list"})
	if err != nil || c.Reference != "" || c.Version != "" {
		t.Errorf("ID without a version: %+v, %v", c, err)
	}
}

func TestParseTextErrorIsNotNoKSBsWhenCodesExist(t *testing.T) {
	_, err := parseText("K1:\n", ksb.ImportOptions{})
	if err == nil || strings.Contains(err.Error(), "no KSB lines") {
		t.Errorf("error = %v; want the empty statement named, not 'no KSB lines'", err)
	}
	var target interface{ Unwrap() []error }
	if !errors.As(err, &target) {
		t.Errorf("error %v does not join its problems", err)
	}
}
