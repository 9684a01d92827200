// Package pathsource is the config and factory of a source type whose one
// key is path, a folder on this machine (tensorboard, wandb): the type's
// package names the folder and builds its collector, and pathsource does
// the rest the same way for every such type: decoding and checking path,
// resolving it against the config file's folder, validating a Config built
// in code, and what a collector's New does before it starts.
package pathsource

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// SourceConfig is a path source as the user writes it, besides its name
// and type.
type SourceConfig struct {
	// Path is the folder the source reads. Relative to the config file,
	// absolute once loaded.
	Path string `yaml:"path" json:"path"`
}

// Config is one collector of a path source as the code builds it.
type Config struct {
	Name       string // the configured source name
	Path       string // the folder
	Apprentice string // the apprentice ID written into every item
}

// Type is one path source type.
type Type struct {
	// Name is the source type, as written in `type:` ("tensorboard").
	Name string
	// Folder says what path names, for messages: "the log directory".
	Folder string
}

// required is the problem with a missing path.
func (ty Type) required() string {
	return "required (" + ty.Folder + ", relative to this file)"
}

// Factory returns the factory of the type, for collectors/registry: it
// decodes path strictly (required; resolved against the config file's
// folder) and builds each source's collector with newCollector.
func (ty Type) Factory(newCollector func(cfg Config, set collectors.Settings) (collectors.Collector, error)) collectors.Factory {
	decode := func(k *sourceconfig.SourceKeys) *SourceConfig {
		var sc SourceConfig
		k.Decode(&sc)
		if strings.TrimSpace(sc.Path) == "" {
			k.Problem("path", "%s", ty.required())
		}
		if sc.Path != "" {
			sc.Path = k.Path("path", sc.Path)
		}
		return &sc
	}
	create := func(sc *SourceConfig, set collectors.Settings) (collectors.Collector, error) {
		return newCollector(Config{Name: set.Name, Path: sc.Path, Apprentice: set.Apprentice.ID}, set)
	}
	return collectors.NewFactory(ty.Name, decode, create)
}

// Validate checks cfg without touching the folder.
func (ty Type) Validate(cfg Config) error {
	var errs []error
	if strings.TrimSpace(cfg.Name) == "" {
		errs = append(errs, errors.New("name: must be set"))
	}
	if strings.TrimSpace(cfg.Path) == "" {
		errs = append(errs, errors.New("path: "+ty.required()))
	}
	if strings.TrimSpace(cfg.Apprentice) == "" {
		errs = append(errs, errors.New("apprentice: must be set"))
	}
	return errors.Join(errs...)
}

// Source is what the collector of a path source holds.
type Source struct {
	Config Config
	Abs    string              // Config.Path made absolute
	Set    collectors.Settings // with a logger and a clock
}

// Open is the start of a collector's New: it validates cfg and returns
// the Source, its path made absolute, set given a logger that discards
// and the system clock where it has none. It touches nothing.
func (ty Type) Open(cfg Config, set collectors.Settings) (Source, error) {
	if err := ty.Validate(cfg); err != nil {
		return Source{}, fmt.Errorf("%s source %q: %w", ty.Name, cfg.Name, err)
	}
	abs, err := filepath.Abs(cfg.Path)
	if err != nil {
		return Source{}, fmt.Errorf("%s source %q: path %s: %w", ty.Name, cfg.Name, cfg.Path, err)
	}
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	if set.Now == nil {
		set.Now = time.Now
	}
	return Source{Config: cfg, Abs: abs, Set: set}, nil
}
