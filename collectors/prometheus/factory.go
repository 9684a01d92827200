package prometheus

import (
	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// NewFactory returns the factory of Prometheus sources, for
// collectors/registry.
func NewFactory() collectors.Factory {
	return collectors.NewFactory(SourceType, decodeSource, newFromSource)
}

// decodeSource decodes and checks one Prometheus source of the config
// file, making its file globs absolute.
func decodeSource(k *sourceconfig.SourceKeys) *SourceConfig {
	var sc SourceConfig
	k.Decode(&sc)
	_, ps := sc.check()
	for _, p := range ps {
		k.Problem(p.key, "%s", p.msg)
	}
	for i, g := range sc.Files {
		if g != "" {
			sc.Files[i] = k.Path("files", g)
		}
	}
	return &sc
}

// newFromSource builds the collector of a decoded Prometheus source.
func newFromSource(sc *SourceConfig, set collectors.Settings) (collectors.Collector, error) {
	return New(Config{Source: *sc, Name: set.Name, Apprentice: set.Apprentice.ID}, set)
}
