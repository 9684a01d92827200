package wandb

import (
	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/pathsource"
)

// SourceType is the items' source_type, and the ID namespace of NewID.
const SourceType = "wandb"

// SourceConfig is a wandb source as the user writes it, besides its name
// and type: path, the project folder holding wandb/, or the wandb folder
// itself. Relative to the config file, absolute once loaded.
type SourceConfig = pathsource.SourceConfig

// Config is one wandb collector as the code builds it; Path is the
// project folder or its wandb folder.
type Config = pathsource.Config

// pathType is what pathsource needs to know of wandb sources.
func pathType() pathsource.Type {
	return pathsource.Type{Name: SourceType, Folder: "the folder holding wandb/"}
}

// NewFactory returns the factory of wandb sources, for collectors/registry.
func NewFactory() collectors.Factory {
	return pathType().Factory(func(cfg Config, set collectors.Settings) (collectors.Collector, error) {
		return New(cfg, set)
	})
}
