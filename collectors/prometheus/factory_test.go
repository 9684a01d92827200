package prometheus_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/prometheus"
	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
	"github.com/ksbfolio/ksbfolio/pipeline/config/configtest"
)

// TestREADMESampleConfig loads the README's sample config with the
// collectors of this build.
func TestREADMESampleConfig(t *testing.T) {
	srcs := configtest.SampleConfig(t, "README.md", prometheus.SourceType, registry.Default())
	if len(srcs) != 2 {
		t.Fatalf("%d prometheus sources, want 2", len(srcs))
	}
	live := srcs[0].Config.(*prometheus.SourceConfig)
	if live.URL != "http://prometheus.internal:9090" || len(live.Queries) != 2 || live.Queries[1].Direction != "below" || live.Queries[1].Step != "5m" || live.Queries[1].PromQL() != "avg(model_online_accuracy)" ||
		live.Queries[0].Threshold == nil || *live.Queries[0].Threshold != 0.5 || live.Auth.Token.Ref() != "${env:PROMETHEUS_TOKEN}" {
		t.Errorf("live source read as %+v", live)
	}
	saved := srcs[1].Config.(*prometheus.SourceConfig)
	abs, _ := filepath.Abs("monitoring/*.json")
	if len(saved.Files) != 2 || saved.Files[0] != abs {
		t.Errorf("saved source files %q, want %q first", saved.Files, abs)
	}
}

// TestConfigProblems: every wrong setting is reported on its key, and a
// literal secret is never repeated.
func TestConfigProblems(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`{name: p, type: prometheus}`, "sources[0].url: required"},
		{`{name: p, type: prometheus, url: "ftp://x", queries: [{name: a, query: up}]}`, "sources[0].url: want an http"},
		{`{name: p, type: prometheus, url: "http://u:pw@x", queries: [{name: a, query: up}]}`, "credentials do not go in the URL"},
		{`{name: p, type: prometheus, url: "http://x", files: [a.json]}`, "sources[0].files: give either url"},
		{`{name: p, type: prometheus, url: "http://x", queries: [{name: a, query: up}, {name: a, query: up}]}`, "sources[0].queries[1].name: a is used twice"},
		{`{name: p, type: prometheus, url: "http://x", queries: [{name: "a b", query: up}]}`, "sources[0].queries[0].name: want 1 to 64"},
		{`{name: p, type: prometheus, url: "http://x", queries: [{name: a}]}`, "sources[0].queries[0].expr: required"},
		{`{name: p, type: prometheus, url: "http://x", queries: [{name: a, expr: up, query: up}]}`, "sources[0].queries[0].query: give expr or query, not both"},
		{`{name: p, type: prometheus, url: "http://x", window: 1d, queries: [{name: a, expr: up, step: 2d}]}`, "sources[0].queries[0].step: longer than the window"},
		{`{name: p, type: prometheus, url: "http://x", queries: [{name: a, expr: up, step: often}]}`, "sources[0].queries[0].step: \"often\" is not a duration"},
		{`{name: p, type: prometheus, url: "http://x", queries: [{name: a, query: up, direction: up}]}`, "sources[0].queries[0].direction: want above or below"},
		{`{name: p, type: prometheus, url: "http://x", queries: [{name: a, query: up, direction: below}]}`, "only used with threshold"},
		{`{name: p, type: prometheus, url: "http://x", window: 7days, queries: [{name: a, query: up}]}`, "sources[0].window: \"7days\" is not a duration"},
		{`{name: p, type: prometheus, url: "http://x", window: 1h, step: 2h, queries: [{name: a, query: up}]}`, "sources[0].step: longer than the window"},
		{`{name: p, type: prometheus, url: "http://x", queries: [{name: a, query: up}], auth: {token: s3cr3tvalue}}`, "sources[0].auth.token: secrets must be a reference"},
		{`{name: p, type: prometheus, url: "http://x", queries: [{name: a, query: up}], auth: {username: u}}`, "sources[0].auth: give token, or username and password"},
		{`{name: p, type: prometheus, url: "http://x", queries: [{name: a, query: up, treshold: 1}]}`, "treshold: unknown key"},
		{`{name: p, type: prometheus, files: ["a/[b"]}`, "sources[0].files[0]: not a valid glob"},
		{`{name: p, type: prometheus, url: "http://x", alerts: false, rules: false}`, "sources[0].queries: at least one query"},
	} {
		yml := "apprentice: {id: jdoe, emails: [jane@corp.example]}\nsources:\n  - " + tc.src + "\n"
		_, err := config.Parse("ksbfolio.yaml", []byte(yml), t.TempDir(), registry.Default())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %q", tc.src, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3tvalue") {
			t.Errorf("%s: the problem repeats the literal secret: %v", tc.src, err)
		}
	}
}
