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
	for _, f := range []struct {
		key string
		v   *string
	}{{"known_hosts", &sc.KnownHosts}, {"ca_file", &sc.CAFile}, {"cache_dir", &sc.CacheDir}, {"mailmap_file", &sc.MailmapFile}} {
		if *f.v != "" {
			*f.v = k.Path(f.key, *f.v)
		}
	}
	return &sc
}

// newFromSource builds the collector of a decoded git source.
func newFromSource(sc *SourceConfig, set collectors.Settings) (collectors.Collector, error) {
	var rm *Remote
	if sc.URL != "" {
		rm = &Remote{URL: sc.URL, Auth: sc.Auth, KnownHosts: sc.KnownHosts, CAFile: sc.CAFile, CacheDir: sc.CacheDir}
	}
	return New(Config{Name: set.Name, Path: sc.Path, Refs: sc.Refs, ExcludeRefs: sc.ExcludeRefs, Remote: rm,
		WebURL: sc.WebURL, WebKind: sc.WebKind, MailmapFile: sc.MailmapFile,
		Emails: set.Apprentice.Emails, Apprentice: set.Apprentice.ID}, set.Logger, set.Now)
}
