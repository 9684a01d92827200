package logs

import (
	"fmt"

	"github.com/ksbfolio/ksbfolio/collectors"
	config "github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// NewFactory returns the factory of logs sources, for collectors/registry.
func NewFactory() collectors.Factory {
	return collectors.NewFactory(SourceType, decodeSource, newFromSource)
}

// decodeSource decodes and checks one logs source, making its paths
// absolute.
func decodeSource(k *config.SourceKeys) *SourceConfig {
	var sc SourceConfig
	k.Decode(&sc)
	for _, p := range sc.check() {
		k.Problem(p.key, "%s", p.msg)
	}
	for i, p := range sc.Paths {
		if p != "" {
			sc.Paths[i] = k.Path(fmt.Sprintf("paths[%d]", i), p)
		}
	}
	return &sc
}

func newFromSource(sc *SourceConfig, set collectors.Settings) (collectors.Collector, error) {
	return New(Config{SourceConfig: *sc, Name: set.Name, Apprentice: set.Apprentice.ID}, set)
}
