package tensorboard

import (
	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/pathsource"
)

// SourceType is the items' source_type, and the ID namespace of NewID.
const SourceType = "tensorboard"

// SourceConfig is a tensorboard source as the user writes it, besides its
// name and type: path, the log directory (TensorBoard's --logdir), every
// folder under which that holds event files is a run. Relative to the
// config file, absolute once loaded.
type SourceConfig = pathsource.SourceConfig

// Config is one tensorboard collector as the code builds it; Path is the
// log directory.
type Config = pathsource.Config

// pathType is what pathsource needs to know of tensorboard sources.
func pathType() pathsource.Type {
	return pathsource.Type{Name: SourceType, Folder: "the log directory"}
}

// NewFactory returns the factory of tensorboard sources, for
// collectors/registry.
func NewFactory() collectors.Factory {
	return pathType().Factory(func(cfg Config, set collectors.Settings) (collectors.Collector, error) {
		return New(cfg, set)
	})
}
