package gitlog

import (
	"fmt"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// NewFactory returns the factory of git sources, for collectors/registry.
func NewFactory() collectors.Factory {
	return collectors.NewFactory(SourceType, decodeSource, newFromSource)
}

// decodeSource decodes and checks one git source of the config file,
// making its paths absolute.
func decodeSource(k *sourceconfig.SourceKeys) *SourceConfig {
	var sc SourceConfig
	k.Decode(&sc)
	for _, p := range sc.check() {
		k.Problem(p.key, "%s", p.msg)
	}
	if sc.Path != "" {
		sc.Path = k.Path("path", sc.Path)
	}
	for i, p := range sc.Paths {
		if p != "" {
			sc.Paths[i] = k.Path(fmt.Sprintf("paths[%d]", i), p)
		}
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

// newFromSource builds the collector of a decoded git source: one
// repository, or a Multi for paths: and urls:.
func newFromSource(sc *SourceConfig, set collectors.Settings) (collectors.Collector, error) {
	base := Config{Name: set.Name, Refs: sc.Refs, ExcludeRefs: sc.ExcludeRefs,
		WebURL: sc.WebURL, WebKind: sc.WebKind, MailmapFile: sc.MailmapFile,
		Emails: set.Apprentice.Emails, Apprentice: set.Apprentice.ID}
	remote := func(u string) *Remote {
		return &Remote{URL: u, Auth: sc.Auth, KnownHosts: sc.KnownHosts, CAFile: sc.CAFile, CacheDir: sc.CacheDir}
	}
	newOne := func(cfg Config) (*Collector, error) { return New(cfg, set.Logger, set.Now) }
	if len(sc.Paths) > 0 || len(sc.URLs) > 0 {
		var cfgs []Config
		for _, p := range sc.Paths {
			cfg := base
			cfg.Path = p
			cfgs = append(cfgs, cfg)
		}
		for _, u := range sc.URLs {
			cfg := base
			cfg.Remote = remote(u)
			cfgs = append(cfgs, cfg)
		}
		m, err := NewMulti(cfgs, newOne)
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	cfg := base
	cfg.Path = sc.Path
	if sc.URL != "" {
		cfg.Remote = remote(sc.URL)
	}
	c, err := newOne(cfg)
	if err != nil {
		return nil, err
	}
	return c, nil
}
