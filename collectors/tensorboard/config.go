package tensorboard

import (
	"errors"
	"strings"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// SourceType is the items' source_type, and the ID namespace of NewID.
const SourceType = "tensorboard"

// SourceConfig is a tensorboard source as the user writes it, besides its
// name and type.
type SourceConfig struct {
	// Path is the log directory (TensorBoard's --logdir): every folder
	// under it that holds event files is a run. Relative to the config
	// file, absolute once loaded.
	Path string `yaml:"path" json:"path"`
}

// check is the one validation of what the user writes.
func (sc SourceConfig) check() (key, msg string, bad bool) {
	if strings.TrimSpace(sc.Path) == "" {
		return "path", "required (the log directory, relative to this file)", true
	}
	return "", "", false
}

// Config is one tensorboard collector as the code builds it.
type Config struct {
	Name       string // the configured source name
	Path       string // the log directory
	Apprentice string // the apprentice ID written into every item
}

// Validate checks cfg without touching the folder.
func (cfg Config) Validate() error {
	var errs []error
	if strings.TrimSpace(cfg.Name) == "" {
		errs = append(errs, errors.New("name: must be set"))
	}
	if key, msg, bad := (SourceConfig{Path: cfg.Path}).check(); bad {
		errs = append(errs, errors.New(key+": "+msg))
	}
	if strings.TrimSpace(cfg.Apprentice) == "" {
		errs = append(errs, errors.New("apprentice: must be set"))
	}
	return errors.Join(errs...)
}

// NewFactory returns the factory of tensorboard sources, for
// collectors/registry.
func NewFactory() collectors.Factory {
	return collectors.NewFactory(SourceType, decodeSource, newFromSource)
}

func decodeSource(k *sourceconfig.SourceKeys) *SourceConfig {
	var sc SourceConfig
	k.Decode(&sc)
	if key, msg, bad := sc.check(); bad {
		k.Problem(key, "%s", msg)
	}
	if sc.Path != "" {
		sc.Path = k.Path("path", sc.Path)
	}
	return &sc
}

func newFromSource(sc *SourceConfig, set collectors.Settings) (collectors.Collector, error) {
	return New(Config{Name: set.Name, Path: sc.Path, Apprentice: set.Apprentice.ID}, set)
}
