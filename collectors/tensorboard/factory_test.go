package tensorboard_test

import (
	"path/filepath"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/collectors/tensorboard"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
	"github.com/ksbfolio/ksbfolio/pipeline/config/configtest"
)

func TestREADMESampleConfig(t *testing.T) {
	srcs := configtest.SampleConfig(t, "README.md", tensorboard.SourceType, registry.Default())
	sc, ok := srcs[0].Config.(*tensorboard.SourceConfig)
	if !ok {
		t.Fatalf("config is %T", srcs[0].Config)
	}
	abs, err := filepath.Abs("lightning_logs")
	if err != nil {
		t.Fatal(err)
	}
	if sc.Path != abs {
		t.Errorf("path %q, want %q", sc.Path, abs)
	}
	c, err := tensorboard.NewFactory().New(sc, collectors.Settings{Name: "experiments", Apprentice: collectors.Apprentice{ID: "jdoe"}})
	if err != nil || c == nil {
		t.Fatalf("New: %v", err)
	}
}

func TestConfigProblems(t *testing.T) {
	yml := "apprentice: {id: jdoe, emails: [j@x.example]}\nsources: [{name: tb, type: tensorboard, logdir: x}]\n"
	_, err := config.Parse("ksbfolio.yaml", []byte(yml), t.TempDir(), registry.Default())
	want := "ksbfolio.yaml:2: sources[0].logdir: not a key of tensorboard sources (keys: name, type, path)\n" +
		"ksbfolio.yaml:2: sources[0].path: required (the log directory, relative to this file)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %q", err, want)
	}
}
