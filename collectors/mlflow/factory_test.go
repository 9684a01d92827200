package mlflow_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/mlflow"
	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
	"github.com/ksbfolio/ksbfolio/pipeline/config/configtest"
)

// TestREADMESampleConfig loads the README's sample config with the
// collectors of this build.
func TestREADMESampleConfig(t *testing.T) {
	srcs := configtest.SampleConfig(t, "README.md", mlflow.SourceType, registry.Default())
	if len(srcs) != 1 || srcs[0].Name != "tracking" {
		t.Fatalf("sources %+v", srcs)
	}
	if _, ok := registry.Default().Lookup(mlflow.SourceType); !ok {
		t.Fatal("mlflow not registered")
	}
}

func TestConfigProblems(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"{name: m, type: mlflow}", "uri: required"},
		{"{name: m, type: mlflow, uri: 'ftp://x'}", "unknown store"},
		{"{name: m, type: mlflow, uri: 'https://u:p@host'}", "credentials in the URI"},
		{"{name: m, type: mlflow, uri: 'file:./mlruns', filter: 'x'}", "only a tracking server"},
		{"{name: m, type: mlflow, uri: 'file:./mlruns', auth: {token: '${env:T}'}}", "only a tracking server"},
		{"{name: m, type: mlflow, uri: 'https://h', auth: {username: u}}", "required with username"},
		{"{name: m, type: mlflow, uri: 'sqlite:///'}", "name the database file"},
		{"{name: m, type: mlflow, uri: 'file:./mlruns', max_artifact_bytes: -1}", "must not be negative"},
		{"{name: m, type: mlflow, uri: 'file:./mlruns', experiments: ['']}", "experiments[0]"},
	} {
		yml := "apprentice: {id: jdoe, emails: [j@x.example]}\nsources: [" + tc.src + "]\n"
		_, err := config.Parse("ksbfolio.yaml", []byte(yml), "/cfg", registry.Default())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestConfigURIs(t *testing.T) {
	for _, tc := range []struct{ uri, loc string }{
		{"file:./mlruns", "/cfg/mlruns"},
		{"file:///data/mlruns", "/data/mlruns"},
		{"sqlite:///mlflow.db", "/cfg/mlflow.db"},
		{"sqlite:////var/mlflow.db", "/var/mlflow.db"},
		{"https://mlflow.example/prefix/", "https://mlflow.example/prefix"},
	} {
		yml := "apprentice: {id: jdoe, emails: [j@x.example]}\nsources: [{name: m, type: mlflow, uri: '" + tc.uri + "'}]\n"
		cfg, err := config.Parse("ksbfolio.yaml", []byte(yml), "/cfg", registry.Default())
		if err != nil {
			t.Errorf("%s: %v", tc.uri, err)
			continue
		}
		if got := mlflow.LocationOf(cfg.Sources[0].Config); got != filepath.FromSlash(tc.loc) && got != tc.loc {
			t.Errorf("%s: location %q, want %q", tc.uri, got, tc.loc)
		}
	}
}
