// Package registry is the list of the collectors this build has: one
// factory per source type, written out in Default, the way restic lists
// its backends and the OpenTelemetry collector its components. Nothing
// registers itself.
//
// Adding a collector is: its package (exporting NewFactory, with a README
// whose sample config a test validates), and one line in Default.
package registry

import (
	"slices"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
	"github.com/ksbfolio/ksbfolio/collectors/logs"
	"github.com/ksbfolio/ksbfolio/collectors/mlflow"
	"github.com/ksbfolio/ksbfolio/collectors/prometheus"
	"github.com/ksbfolio/ksbfolio/collectors/sagemaker"
	"github.com/ksbfolio/ksbfolio/collectors/tensorboard"
	"github.com/ksbfolio/ksbfolio/collectors/wandb"
	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// Default returns a new list of every collector of this build.
func Default() List {
	return List{
		gitlog.NewFactory(),
		mlflow.NewFactory(),
		logs.NewFactory(),
		tensorboard.NewFactory(),
		wandb.NewFactory(),
		sagemaker.NewFactory(),
		prometheus.NewFactory(),
	}
}

// List is a list of collector factories, one per source type; the first
// of a type wins. It is a value: a test extends it with append. It
// implements config.SourceTypes, so config.Load(path, list) decodes every
// source with its factory.
type List []collectors.Factory

// Lookup returns the factory of a source type.
func (l List) Lookup(typ string) (collectors.Factory, bool) {
	for _, f := range l {
		if f.Type() == typ {
			return f, true
		}
	}
	return nil, false
}

// SourceDecoder implements config.SourceTypes.
func (l List) SourceDecoder(typ string) (sourceconfig.SourceDecoder, bool) {
	f, ok := l.Lookup(typ)
	return f, ok
}

// SourceTypeNames lists the types, in list order, each once.
func (l List) SourceTypeNames() []string {
	var out []string
	for _, f := range l {
		if !slices.Contains(out, f.Type()) {
			out = append(out, f.Type())
		}
	}
	return out
}
