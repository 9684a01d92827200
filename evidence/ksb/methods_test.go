package ksb_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence/ksb"
)

func TestLookupAndCounts(t *testing.T) {
	c := &ksb.Catalogue{ID: "x", KSBs: []ksb.KSB{
		{ID: "K1", Kind: ksb.Knowledge, Statement: "a"},
		{ID: "K2", Kind: ksb.Knowledge, Statement: "b"},
		{ID: "S10", Kind: ksb.Skill, Statement: "c"},
		{ID: "B3", Kind: ksb.Behaviour, Statement: "d"},
	}}
	for _, id := range []string{"S10", "s10", " s10 \t"} {
		k, ok := c.Lookup(id)
		if !ok || k.ID != "S10" || k.Statement != "c" {
			t.Errorf("Lookup(%q) = %+v, %v; want S10", id, k, ok)
		}
	}
	if _, ok := c.Lookup("S1"); ok {
		t.Error("Lookup(S1) found a KSB the catalogue lacks")
	}
	var nilCat *ksb.Catalogue
	if _, ok := nilCat.Lookup("K1"); ok {
		t.Error("nil catalogue found a KSB")
	}
	k, s, b := c.Counts()
	if k != 2 || s != 1 || b != 1 {
		t.Errorf("Counts() = %d, %d, %d; want 2, 1, 1", k, s, b)
	}
}

func TestValidate(t *testing.T) {
	good := func() *ksb.Catalogue {
		return &ksb.Catalogue{ID: "st1398-v1.0", KSBs: []ksb.KSB{
			{ID: "K1", Kind: ksb.Knowledge, Statement: "a"},
			{ID: "S1", Kind: ksb.Skill, Statement: "b", Methods: []string{"pd"}, GradeTheme: "Theme A"},
			{ID: "B1", Kind: ksb.Behaviour, Statement: "c"},
		}, Methods: []ksb.Method{{ID: "pd", Name: "professional discussion", Themes: []string{"Theme A"}}},
			Duties: []ksb.Duty{{ID: "D1", Text: "A duty.", KSBs: []string{"K1", "S1"}}}}
	}
	tests := []struct {
		name   string
		change func(c *ksb.Catalogue)
		want   []string // substrings of the error; none: valid
	}{
		{"valid", func(c *ksb.Catalogue) {}, nil},
		{"empty id", func(c *ksb.Catalogue) { c.ID = "" }, []string{"id: empty"}},
		{"unsafe id", func(c *ksb.Catalogue) { c.ID = "../x" }, []string{`id "../x"`}},
		{"upper-case id", func(c *ksb.Catalogue) { c.ID = "ST1398" }, []string{`id "ST1398"`}},
		{"id too long", func(c *ksb.Catalogue) { c.ID = strings.Repeat("a", 65) }, []string{"not a lower-case slug"}},
		{"no ksbs", func(c *ksb.Catalogue) { c.KSBs = nil }, []string{"ksbs: none"}},
		{"duplicate", func(c *ksb.Catalogue) { c.KSBs[2] = ksb.KSB{ID: "K1", Kind: ksb.Knowledge, Statement: "x"} }, []string{"ksbs[2] (K1): duplicate id, also ksbs[0]"}},
		{"bad id", func(c *ksb.Catalogue) { c.KSBs[0].ID = "X1" }, []string{`id "X1" is not K, S or B`}},
		{"leading zero", func(c *ksb.Catalogue) { c.KSBs[0].ID = "K01" }, []string{`id "K01"`}},
		{"zero", func(c *ksb.Catalogue) { c.KSBs[0].ID = "K0" }, []string{`id "K0"`}},
		{"kind mismatch", func(c *ksb.Catalogue) { c.KSBs[1].Kind = ksb.Knowledge }, []string{`ksbs[1] (S1): kind "knowledge" does not match the id's letter (skill)`}},
		{"bad kind", func(c *ksb.Catalogue) { c.KSBs[1].Kind = "talent" }, []string{`kind "talent" is not knowledge`}},
		{"no statement", func(c *ksb.Catalogue) { c.KSBs[1].Statement = " " }, []string{"ksbs[1] (S1): no statement"}},
		{"complete", func(c *ksb.Catalogue) { c.Complete, c.TotalKSBs = true, 3 }, nil},
		{"complete but short", func(c *ksb.Catalogue) {
			c.Complete = true
			c.TotalKSBs = 4
		}, []string{"complete: the catalogue lists 3 KSBs but total_ksbs is 4"}},
		{"unknown method", func(c *ksb.Catalogue) { c.KSBs[0].Methods = []string{"exam"} },
			[]string{`ksbs[0] (K1): method "exam" is not one of the catalogue's methods (pd)`}},
		{"unknown grade theme", func(c *ksb.Catalogue) { c.KSBs[1].GradeTheme = "Theme B" },
			[]string{`ksbs[1] (S1): grade theme "Theme B" is not a theme of its methods (pd)`}},
		{"methods unknown: anything goes", func(c *ksb.Catalogue) { c.Methods = nil; c.KSBs[0].Methods = []string{"exam"} }, nil},
		{"duplicate method", func(c *ksb.Catalogue) { c.Methods = append(c.Methods, ksb.Method{ID: "pd"}) },
			[]string{"methods[1] (pd): duplicate id"}},
		{"duty names a missing KSB", func(c *ksb.Catalogue) { c.Duties[0].KSBs = []string{"K1", "K9"} },
			[]string{"duties[0] (D1): KSB K9 is not in the catalogue"}},
		{"total below count", func(c *ksb.Catalogue) { c.TotalKSBs = 2 }, []string{"total_ksbs 2: fewer than the 3"}},
		{"duty problems", func(c *ksb.Catalogue) {
			c.Duties = []ksb.Duty{{ID: "D1", Text: "x"}, {ID: "D1", Text: "y"}, {ID: "", Text: ""}}
		}, []string{"duties[1] (D1): duplicate id", "duties[2]: id empty", "duties[2]: text empty"}},
		{"every problem reported", func(c *ksb.Catalogue) {
			c.ID = ""
			c.KSBs[0].Kind = ""
			c.KSBs[2].ID = "Q9"
		}, []string{"id: empty", `ksbs[0] (K1): kind ""`, `id "Q9"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			tc.change(c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestCompareIDs(t *testing.T) {
	ids := []string{"B2", "S1", "K11", "X", "K5", "B10", "S22", "K1", "", "S3"}
	slices.SortFunc(ids, ksb.CompareIDs)
	want := []string{"K1", "K5", "K11", "S1", "S3", "S22", "B2", "B10", "", "X"}
	if !slices.Equal(ids, want) {
		t.Errorf("sorted = %q, want %q", ids, want)
	}
}

func TestClone(t *testing.T) {
	c := &ksb.Catalogue{ID: "x", Notes: []string{"n"}, KSBs: []ksb.KSB{{ID: "K1", Methods: []string{"pd"}}},
		Methods: []ksb.Method{{ID: "pd", Themes: []string{"t"}, Distinction: []string{"d"}}},
		Duties:  []ksb.Duty{{ID: "D1", KSBs: []string{"K1"}}}, Facts: []ksb.Fact{{Name: "a", Value: "b"}},
		VersionLog: []ksb.VersionEntry{{Version: "1.0"}}}
	d := c.Clone()
	d.Notes[0] = "changed"
	d.KSBs[0].Methods[0] = "changed"
	d.KSBs[0].ID = "K2"
	d.Methods[0].Themes[0] = "changed"
	d.Methods[0].Distinction[0] = "changed"
	d.Duties[0].KSBs[0] = "changed"
	d.Facts[0].Value = "changed"
	d.VersionLog[0].Version = "changed"
	if c.Notes[0] != "n" || c.KSBs[0].Methods[0] != "pd" || c.KSBs[0].ID != "K1" || c.Methods[0].Themes[0] != "t" ||
		c.Methods[0].Distinction[0] != "d" || c.Duties[0].KSBs[0] != "K1" || c.Facts[0].Value != "b" || c.VersionLog[0].Version != "1.0" {
		t.Errorf("changing the clone changed the original: %+v", c)
	}
}
