package pathsource_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/pathsource"
	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

var logs = pathsource.Type{Name: "runs", Folder: "the log directory"}

// built is the collector the test's type builds: it keeps its Config.
type built struct{ cfg pathsource.Config }

func (built) Collect(ctx context.Context, cursor collectors.Cursor, sink collectors.Sink) (collectors.Cursor, error) {
	return nil, ctx.Err()
}

func newBuilt(cfg pathsource.Config, set collectors.Settings) (collectors.Collector, error) {
	return built{cfg}, nil
}

func parse(t *testing.T, dir, sources string) (*config.Config, error) {
	t.Helper()
	yml := "apprentice: {id: jdoe, emails: [j@x.example]}\nsources:\n" + sources
	return config.Parse("ksbfolio.yaml", []byte(yml), dir, registry.List{logs.Factory(newBuilt)})
}

// The factory decodes path strictly, resolves it against the config
// file's folder and builds the collector with the source's name and the
// apprentice.
func TestFactory(t *testing.T) {
	dir := t.TempDir()
	cfg, err := parse(t, dir, "  - {name: tb, type: runs, path: lightning_logs}\n")
	if err != nil {
		t.Fatal(err)
	}
	sc, ok := cfg.Sources[0].Config.(*pathsource.SourceConfig)
	if !ok || sc.Path != filepath.Join(dir, "lightning_logs") {
		t.Fatalf("config = %#v, want path %s", cfg.Sources[0].Config, filepath.Join(dir, "lightning_logs"))
	}
	c, err := logs.Factory(newBuilt).New(sc, collectors.Settings{Name: "tb", Apprentice: collectors.Apprentice{ID: "jdoe"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.(built).cfg, (pathsource.Config{Name: "tb", Path: sc.Path, Apprentice: "jdoe"}); got != want {
		t.Errorf("collector config = %+v, want %+v", got, want)
	}
}

func TestFactoryProblems(t *testing.T) {
	tests := []struct{ name, sources, want string }{
		{"no path", "  - {name: tb, type: runs}\n",
			"ksbfolio.yaml:3: sources[0].path: required (the log directory, relative to this file)"},
		{"empty path", "  - {name: tb, type: runs, path: ' '}\n",
			"ksbfolio.yaml:3: sources[0].path: required (the log directory, relative to this file)"},
		{"misspelt key", "  - name: tb\n    type: runs\n    pth: x\n",
			"ksbfolio.yaml:5: sources[0].pth: unknown key (did you mean \"path\"?)"},
		{"other key", "  - {name: tb, type: runs, path: x, logdir: x}\n",
			"ksbfolio.yaml:3: sources[0].logdir: not a key of runs sources (keys: name, type, path)"},
		{"not text", "  - {name: tb, type: runs, path: [a]}\n",
			"ksbfolio.yaml:3: sources[0].path: want a string, got a list"},
		{"home", "  - {name: tb, type: runs, path: ~/logs}\n",
			`ksbfolio.yaml:3: sources[0].path: "~/logs": ~ is not expanded`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, t.TempDir(), tc.sources)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// Open validates a Config built in code, reporting every problem at
// once, makes the path absolute and fills the logger and clock.
func TestOpen(t *testing.T) {
	_, err := logs.Open(pathsource.Config{}, collectors.Settings{})
	want := "runs source \"\": name: must be set\npath: required (the log directory, relative to this file)\napprentice: must be set"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %q", err, want)
	}
	cfg := pathsource.Config{Name: "tb", Path: "logs", Apprentice: "jdoe"}
	src, err := logs.Open(cfg, collectors.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(src.Abs) || filepath.Base(src.Abs) != "logs" || src.Config != cfg {
		t.Errorf("source %+v, want logs made absolute", src)
	}
	if src.Set.Logger == nil || src.Set.Now == nil {
		t.Errorf("settings without a logger or clock: %+v", src.Set)
	}
	if err := logs.Validate(pathsource.Config{Name: "tb", Path: "/x", Apprentice: "jdoe"}); err != nil {
		t.Errorf("Validate of a whole config: %v", err)
	}
}
