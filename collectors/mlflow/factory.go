package mlflow

import (
	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// NewFactory returns the factory of MLflow sources, for collectors/registry.
func NewFactory() collectors.Factory {
	return collectors.NewFactory(SourceType, decodeSource, newFromSource)
}

// decoded is what decodeSource hands to New: the user's keys and the
// store they name.
type decoded struct {
	SourceConfig
	kind, loc string
}

// decodeSource decodes and checks one MLflow source of the config file.
func decodeSource(k *sourceconfig.SourceKeys) *decoded {
	var sc SourceConfig
	k.Decode(&sc)
	// A relative file or sqlite path is relative to the config file:
	// k.Path resolves "." to its folder.
	dir := k.Path("uri", ".")
	for _, p := range sc.check(dir) {
		k.Problem(p.key, "%s", p.msg)
	}
	for i, r := range sc.ArtifactRoots {
		sc.ArtifactRoots[i] = k.Path("artifact_roots", r)
	}
	kind, loc, _ := parseURI(sc.URI, dir)
	return &decoded{SourceConfig: sc, kind: kind, loc: loc}
}

func newFromSource(d *decoded, set collectors.Settings) (collectors.Collector, error) {
	return New(Config{Name: set.Name, Apprentice: set.Apprentice.ID, SourceConfig: d.SourceConfig,
		Kind: d.kind, Location: d.loc}, set)
}

// LocationOf returns the store location (an absolute folder or database
// path, or a base URL) of what NewFactory decoded, or "".
func LocationOf(decodedConfig any) string {
	if d, ok := decodedConfig.(*decoded); ok {
		return d.loc
	}
	return ""
}
