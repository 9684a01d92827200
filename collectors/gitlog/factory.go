package gitlog

import (
	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

// NewFactory returns the factory of git sources, for collectors/registry.
func NewFactory() collectors.Factory {
	return collectors.NewFactory(SourceType, decodeSource, newFromSource)
}

// decodeSource decodes and checks one git source of the config file,
// making its paths absolute.
func decodeSource(k *config.SourceKeys) *SourceConfig {
	var sc SourceConfig
	k.Decode(&sc)
	for _, p := range sc.check() {
		k.Problem(p.key, "%s", p.msg)
	}
	if sc.Path != "" {
		sc.Path = k.Path("path", sc.Path)
	}
	if sc.Auth != nil && sc.Auth.SSHKey != "" {
		sc.Auth.SSHKey = k.Path("auth.ssh_key", sc.Auth.SSHKey)
	}
	return &sc
}

// newFromSource builds the collector of a decoded git source.
func newFromSource(sc *SourceConfig, set collectors.Settings) (collectors.Collector, error) {
	return New(Config{Name: set.Name, Path: sc.Path, Refs: sc.Refs, WebURL: sc.WebURL, WebKind: sc.WebKind,
		Emails: set.Apprentice.Emails, Apprentice: set.Apprentice.ID}, set.Logger, set.Now)
}
