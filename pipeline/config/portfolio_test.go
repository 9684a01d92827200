package config_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

const portfolioBase = "apprentice: {id: jdoe, emails: [jane@corp.example]}\n"

func TestPortfolioCovers(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		set  string
		ksbs []string
	}{
		{"absent: the default", "", "", nil},
		{"method", "portfolio: {covers: professional_discussion}\n", "professional_discussion", nil},
		{"all", "portfolio: {covers: all}\n", "all", nil},
		{"listed", "portfolio:\n  covers: [K1, s24, B5]\n", "", []string{"K1", "S24", "B5"}},
		{"empty block", "portfolio: {}\n", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Parse("ksbfolio.yaml", []byte(portfolioBase+tc.yaml), testDir, registry.Default())
			if err != nil {
				t.Fatal(err)
			}
			got := c.Portfolio.Covers
			if got.Set != tc.set || !slices.Equal(got.KSBs, tc.ksbs) {
				t.Errorf("covers = %+v, want %q %q", got, tc.set, tc.ksbs)
			}
		})
	}
}

func TestPortfolioCoversProblems(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", "portfolio: {cover: all}\n", []string{`ksbfolio.yaml:2: portfolio.cover: unknown key (did you mean "covers"?)`}},
		{"not a method name", "portfolio: {covers: Professional Discussion}\n", []string{`portfolio.covers: "Professional Discussion": want professional_discussion`}},
		{"number", "portfolio: {covers: 39}\n", []string{`portfolio.covers: "39": want`}},
		{"mapping", "portfolio: {covers: {all: true}}\n", []string{"portfolio.covers: want an assessment method, all, or a list of KSB IDs, got a mapping"}},
		{"empty list", "portfolio: {covers: []}\n", []string{"portfolio.covers: an empty list covers nothing"}},
		{"bad ID", "portfolio:\n  covers: [K1, X9, K01]\n", []string{`ksbfolio.yaml:3: portfolio.covers: "X9" is not a KSB ID`, `"K01" is not a KSB ID`}},
		{"duplicate", "portfolio:\n  covers:\n    - K1\n    - k1\n", []string{"ksbfolio.yaml:5: portfolio.covers: K1 is listed twice (first at line 4)"}},
		{"nested list", "portfolio: {covers: [[K1]]}\n", []string{"want KSB IDs such as K1 or S24, got a list"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse("ksbfolio.yaml", []byte(portfolioBase+tc.yaml), testDir, registry.Default())
			if err == nil {
				t.Fatal("Parse succeeded, want a problem")
			}
			checkProblems(t, "ksbfolio.yaml", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestPortfolioCoversMarshal(t *testing.T) {
	for _, tc := range []struct {
		c    config.Covers
		want string
	}{
		{config.Covers{Set: "all"}, `"all"`},
		{config.Covers{KSBs: []string{"K1", "S2"}}, `["K1","S2"]`},
	} {
		b, err := json.Marshal(tc.c)
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", tc.c, b, err, tc.want)
		}
	}
}
