package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

// A List is what config.Parse and config.Load take.
var _ config.SourceTypes = registry.List(nil)

func TestDefault(t *testing.T) {
	l := registry.Default()
	if len(l) == 0 {
		t.Fatal("no collectors")
	}
	seen := map[string]bool{}
	for _, f := range l {
		if f.Type() == "" || !config.IsSlug(f.Type()) {
			t.Errorf("factory %T has type %q, want a slug", f, f.Type())
		}
		if seen[f.Type()] {
			t.Errorf("type %q listed twice", f.Type())
		}
		seen[f.Type()] = true
	}
	if !seen["git"] {
		t.Error("no git collector")
	}
	if got := l.SourceTypeNames(); len(got) != len(l) {
		t.Errorf("SourceTypeNames() = %q for %d factories", got, len(l))
	}
	// Each call gives a list of its own.
	l[0] = notesFactory()
	if registry.Default()[0].Type() == "notes" {
		t.Error("changing one Default() list changed the next")
	}
}

// supported lists the source types of this build, as errors name them.
func supported() string { return strings.Join(registry.Default().SourceTypeNames(), ", ") }

// notesConfig is what a user writes under a notes source.
type notesConfig struct {
	Dir        string   `yaml:"dir" json:"dir"`
	Extensions []string `yaml:"extensions,omitempty" json:"extensions,omitempty"`
}

// notesFactory makes a tiny collector that exists only in this test: one
// item per file of a folder. It is all a new collector needs to write.
func notesFactory() collectors.Factory {
	return collectors.NewFactory("notes",
		func(k *sourceconfig.SourceKeys) *notesConfig {
			var c notesConfig
			k.Decode(&c)
			if c.Dir == "" {
				k.Problem("dir", "required (a folder of notes)")
			} else {
				c.Dir = k.Path("dir", c.Dir)
			}
			for i, e := range c.Extensions {
				if !strings.HasPrefix(e, ".") {
					k.Problem(fmt.Sprintf("extensions[%d]", i), "%q: want an extension like .md", e)
				}
			}
			return &c
		},
		func(c *notesConfig, set collectors.Settings) (collectors.Collector, error) {
			return &notes{cfg: *c, set: set}, nil
		})
}

type notes struct {
	cfg notesConfig
	set collectors.Settings
}

func (n *notes) Collect(ctx context.Context, cursor collectors.Cursor, sink collectors.Sink) (collectors.Cursor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var done []string
	if len(cursor) > 0 {
		if err := json.Unmarshal(cursor, &done); err != nil {
			return nil, fmt.Errorf("read cursor: %w", err)
		}
	}
	entries, err := os.ReadDir(n.cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("read notes: %w", err)
	}
	for _, e := range entries {
		if slices.Contains(done, e.Name()) {
			continue
		}
		if len(n.cfg.Extensions) > 0 && !slices.Contains(n.cfg.Extensions, filepath.Ext(e.Name())) {
			continue
		}
		it := evidence.Item{Schema: evidence.SchemaVersion, ID: evidence.NewID("notes", e.Name()),
			Apprentice: n.set.Apprentice.ID, Source: n.set.Name, SourceType: "notes", Kind: evidence.KindManual,
			Title: e.Name(), OccurredAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), CollectedAt: n.set.Now(),
			Origin: evidence.Origin{URI: "file://" + filepath.Join(n.cfg.Dir, e.Name()), NativeID: e.Name()}}
		if err := sink.Emit(ctx, collectors.Emission{Item: it}); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		done = append(done, e.Name())
	}
	return json.Marshal(done)
}

// TestAddCollector adds a collector type in one line, and shows that the
// config file, the conformance suite and the pipeline take it as they take
// git.
func TestAddCollector(t *testing.T) {
	dir := t.TempDir()
	notesDir := filepath.Join(dir, "notes")
	if err := os.MkdirAll(notesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.md", "b.md", "c.txt"} {
		if err := os.WriteFile(filepath.Join(notesDir, name), []byte("note"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	list := append(registry.Default(), notesFactory()) // the one line

	good := "apprentice: {id: jdoe, emails: [jane@corp.example]}\n" +
		"sources:\n" +
		"  - {name: repo, type: git, path: ./repo}\n" +
		"  - {name: my-notes, type: notes, dir: ./notes, extensions: [.md]}\n"
	cfg, err := config.Parse("ksbfolio.yaml", []byte(good), dir, list)
	if err != nil {
		t.Fatal(err)
	}
	nc, ok := cfg.Sources[1].Config.(*notesConfig)
	if !ok || nc.Dir != notesDir || !slices.Equal(nc.Extensions, []string{".md"}) {
		t.Fatalf("notes source decoded as %#v", cfg.Sources[1].Config)
	}
	js, err := json.Marshal(cfg.Sources[1])
	if err != nil || string(js) != `{"name":"my-notes","type":"notes","dir":"`+notesDir+`","extensions":[".md"]}` {
		t.Errorf("JSON %s, %v", js, err)
	}

	// The new type's keys are decoded as strictly as git's, with every
	// problem at once and the lines of the file.
	bad := "apprentice: {id: jdoe, emails: [jane@corp.example]}\n" +
		"sources:\n" +
		"  - name: my-notes\n" +
		"    type: notes\n" +
		"    dri: ./notes\n" +
		"    extensions: [md, .txt]\n" +
		"  - {name: more, type: notes, dir: ./n, extensions: .md}\n"
	_, err = config.Parse("ksbfolio.yaml", []byte(bad), dir, list)
	if !errors.Is(err, config.ErrInvalid) {
		t.Fatalf("bad notes config: %v", err)
	}
	want := "ksbfolio.yaml:3: sources[0].dir: required (a folder of notes)\n" +
		"ksbfolio.yaml:5: sources[0].dri: unknown key (did you mean \"dir\"?)\n" +
		"ksbfolio.yaml:6: sources[0].extensions[0]: \"md\": want an extension like .md\n" +
		"ksbfolio.yaml:7: sources[1].extensions: want a list of strings, got a string"
	if err.Error() != want {
		t.Errorf("problems:\n%s\nwant:\n%s", err, want)
	}

	// Without the line, the type is unknown to this build.
	_, err = config.Parse("ksbfolio.yaml", []byte(good), dir, registry.Default())
	if err == nil || !strings.Contains(err.Error(), `sources[1].type: unknown type "notes" (supported: `+supported()+`)`) {
		t.Errorf("notes without its factory: %v", err)
	}

	// The pipeline builds it with the shared settings.
	now := time.Date(2026, 3, 2, 10, 4, 0, 0, time.UTC)
	cfg.Sources = cfg.Sources[1:]
	w := &workspace.Workspace{Config: cfg, Apprentice: *cfg.Apprentice, Collectors: list, Now: func() time.Time { return now }}
	srcs, err := w.Sources()
	if err != nil || len(srcs) != 1 {
		t.Fatalf("Sources() = %v, %v", srcs, err)
	}
	sink := &collectortest.Sink{}
	if _, err := srcs[0].Collector.Collect(context.Background(), nil, sink); err != nil {
		t.Fatal(err)
	}
	items := sink.Items()
	if len(items) != 2 || items[0].Source != "my-notes" || items[0].Apprentice != "jdoe" || !items[0].CollectedAt.Equal(now) {
		t.Errorf("items %+v", items)
	}

	// And the conformance suite checks it like any collector.
	collectortest.Check(t, collectortest.Fixture{
		New: func(t testing.TB) collectors.Collector {
			c, err := notesFactory().New(nc, collectors.Settings{Name: "my-notes", Apprentice: collectors.Apprentice{ID: "jdoe"}})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Dirs: []string{notesDir},
		Grow: func(t testing.TB) {
			if err := os.WriteFile(filepath.Join(notesDir, "d.md"), []byte("new"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		MinItems: 2,
	})
}

// TestSourcesUnknownType: a config decoded with a longer list than the
// workspace's is refused when the collectors are built, not run.
func TestSourcesUnknownType(t *testing.T) {
	dir := t.TempDir()
	list := append(registry.Default(), notesFactory())
	cfg, err := config.Parse("ksbfolio.yaml", []byte("apprentice: {id: jdoe, emails: [j@x]}\nsources: [{name: n, type: notes, dir: .}]\n"), dir, list)
	if err != nil {
		t.Fatal(err)
	}
	w := &workspace.Workspace{Config: cfg, Apprentice: *cfg.Apprentice, Collectors: registry.Default()}
	_, err = w.Sources()
	var se *workspace.SetupError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), `source n: type "notes" is not supported by this version (supported: `+supported()+`)`) {
		t.Errorf("Sources() error %v", err)
	}
}
