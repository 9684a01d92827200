package logs_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/logs"
	"github.com/ksbfolio/ksbfolio/evidence"
)

const appLog = `2025-09-01T10:00:00Z INFO Release "churn-api" has been upgraded. Happy Helming!
2025-09-01T10:01:00Z INFO deployment "churn-api" successfully rolled out
2025-09-01T10:02:00Z INFO Rolling back to revision 41 after failed health checks
2025-09-01T10:03:00Z INFO HPA churn-api: New size: 6; reason: cpu resource utilization above target
2025-09-01T10:04:00Z ERROR request from 203.0.113.7 failed, call +44 20 7946 0958
2025-09-01T10:04:30Z ERROR upstream timeout
2025-09-01T10:30:00Z CRITICAL worker died
2025-09-01T10:31:00Z INFO Transitioned model churn version 7 to stage Production
2025-09-01T10:32:00Z INFO Built image from commit 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b for run_id=0123456789abcdef0123456789abcdef
`

func appSource(dir string) logs.SourceConfig {
	return logs.SourceConfig{Paths: []string{filepath.Join(dir, "app.log")}, Events: []logs.PatternConfig{{
		Name: "helm-upgrade", Event: "deployment", Outcome: "completed", Pattern: `Release "(?P<release>[^"]+)" has been upgraded`}}}
}

func TestEvents(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "app.log"), appLog)
	s := collectAll(t, appSource(dir))
	got := map[string]evidence.Item{}
	for _, it := range s.Items() {
		key := string(it.Kind) + "/" + it.Facts["event"].(string)
		if p, ok := it.Facts["pattern"].(string); ok {
			key += "/" + p
		}
		got[key] = it
	}
	want := map[string]map[string]any{
		"deployment/deployment/helm-upgrade":          {"outcome": "completed", "release": "churn-api"},
		"deployment/deployment/deployment-completed":  {"outcome": "completed"},
		"rollback/rollback/rollback":                  {"version": "41"},
		"scaling/scaling/scaling":                     {"count": "6"},
		"model_version/model_promoted/model-promoted": {"stage": "Production"},
	}
	for key, facts := range want {
		it, ok := got[key]
		if !ok {
			t.Errorf("no %s item; got %v", key, goldenLines(s.Items()))
			continue
		}
		for k, v := range facts {
			if it.Facts[k] != v {
				t.Errorf("%s: %s = %v, want %v", key, k, it.Facts[k], v)
			}
		}
	}
	// Two incidents: three errors within 5 minutes, then one 26 minutes later.
	inc := byKind(s.Items(), evidence.KindIncident)
	if len(inc) != 2 || inc[0].Facts["count"] != float64(2) || inc[1].Facts["count"] != float64(1) ||
		inc[0].Facts["first_seen"] != "2025-09-01T10:04:00Z" || inc[0].Facts["last_seen"] != "2025-09-01T10:04:30Z" {
		t.Errorf("incidents %v", goldenLines(inc))
	}
	// PII is masked in the incident's text and excerpt.
	ex, _ := s.File(inc[0].ID, "excerpt.txt")
	for _, text := range []string{inc[0].Title, inc[0].Summary, string(ex)} {
		if strings.Contains(text, "203.0.113.7") || strings.Contains(text, "7946") {
			t.Errorf("PII not masked: %q", text)
		}
	}
	if !strings.Contains(string(ex), "request from [ip] failed, call [phone]") {
		t.Errorf("excerpt:\n%s", ex)
	}
	// Commit and run named in a line are facts for linking later.
	var refs evidence.Item
	for _, it := range s.Items() {
		if it.Facts["commit"] != nil {
			refs = it
		}
	}
	if refs.ID != "" {
		t.Errorf("an event took a commit from %q", refs.Title)
	}
}

func TestPIIKeep(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "app.log"), appLog)
	sc := appSource(dir)
	sc.PII = "keep"
	s := collectAll(t, sc)
	inc := byKind(s.Items(), evidence.KindIncident)
	ex, _ := s.File(inc[0].ID, "excerpt.txt")
	if !strings.Contains(string(ex), "request from 203.0.113.7 failed, call +44 20 7946 0958") {
		t.Errorf("pii: keep masked the excerpt:\n%s", ex)
	}
}

// TestRefs: a deployment whose lines name a commit and an MLflow run
// records both, and invents no link.
func TestRefs(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "app.log"), "2025-09-01T10:00:00Z INFO Starting deployment of churn\n"+
		"2025-09-01T10:00:01Z INFO Built image from commit 1a2b3c4 for run_id=0123456789abcdef0123456789abcdef\n"+
		"2025-09-01T10:00:02Z INFO Deployment complete\n")
	s := collectAll(t, logs.SourceConfig{Paths: []string{dir}})
	deps := byKind(s.Items(), evidence.KindDeployment)
	if len(deps) != 1 || deps[0].Facts["commit"] != "1a2b3c4" || deps[0].Facts["mlflow_run_id"] != "0123456789abcdef0123456789abcdef" || len(deps[0].Links) != 0 {
		t.Errorf("deployment %+v", deps)
	}
}

func TestConfigProblems(t *testing.T) {
	for _, tc := range []struct {
		sc   logs.SourceConfig
		want string
	}{
		{logs.SourceConfig{}, "paths: required"},
		{logs.SourceConfig{Paths: []string{"a[.log"}}, "paths[0]"},
		{logs.SourceConfig{Paths: []string{"a"}, Format: "xml"}, "format: \"xml\""},
		{logs.SourceConfig{Paths: []string{"a"}, PII: "hide"}, "pii: \"hide\""},
		{logs.SourceConfig{Paths: []string{"a"}, Events: []logs.PatternConfig{{Name: "x", Event: "deployment", Pattern: "x"}}}, "outcome"},
		{logs.SourceConfig{Paths: []string{"a"}, Events: []logs.PatternConfig{{Name: "x", Event: "rollback", Pattern: `(a)\1`}}}, "events[0]: pattern: error parsing regexp"},
		{logs.SourceConfig{Paths: []string{"a"}, Events: []logs.PatternConfig{{Name: "x", Event: "launch", Pattern: "x"}}}, "event \"launch\""},
		{logs.SourceConfig{Paths: []string{"a"}, MaxLineBytes: 10}, "max_line_bytes"},
		{logs.SourceConfig{Paths: []string{"a"}, IncidentGap: "soon"}, "incident_gap"},
	} {
		err := logs.Config{SourceConfig: tc.sc, Name: "n", Apprentice: "a"}.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.sc, err, tc.want)
		}
	}
}
