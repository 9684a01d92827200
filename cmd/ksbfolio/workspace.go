package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

// loadConfig reads the config named by --config; a missing file is a usage
// error that says how to make one.
func (g *globals) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(g.configPath, registry.Default())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usageErrorf("no config at %s: run `ksbfolio init` to write one, or pass --config", g.configPath)
	}
	return cfg, err
}

// leaseTTLEnv overrides the lease TTL (ledger.DefaultLeaseTTL), e.g. for
// tests that need a lease to expire quickly.
const leaseTTLEnv = "KSBFOLIO_LEASE_TTL"

// workspace loads the config and opens its store, ledger and catalogue.
func (g *globals) workspace(catalogue string) (*workspace.Workspace, error) {
	cfg, err := g.loadConfig()
	if err != nil {
		return nil, err
	}
	return g.openWorkspace(cfg, "", catalogue)
}

// openWorkspace opens the workspace of the apprentice with ID apprentice
// in cfg ("" for its only one).
func (g *globals) openWorkspace(cfg *config.Config, apprentice, catalogue string) (*workspace.Workspace, error) {
	var ttl time.Duration
	var err error
	if v := os.Getenv(leaseTTLEnv); v != "" {
		if ttl, err = time.ParseDuration(v); err != nil || ttl < 100*time.Millisecond {
			return nil, usageErrorf("%s=%q: want a duration of at least 100ms, such as 2m", leaseTTLEnv, v)
		}
	}
	ws, err := workspace.Open(g.ctx, cfg, apprentice, catalogue, g.log)
	if err != nil {
		return nil, setupCode(err)
	}
	ws.LeaseTTL = ttl
	return ws, nil
}

// hold runs fn while holding the apprentice's lease for command
// (ledger.Hold: waiting up to wait for another run, renewed in the
// background). fn's context is cancelled if the lease is lost, and hold
// then returns that loss (exit 1) whatever fn returned.
func (g *globals) hold(ws *workspace.Workspace, command string, wait time.Duration, fn func(ctx context.Context) error) error {
	ctx, release, err := ws.Ledger.Hold(g.ctx, ws.HoldOptions(command, wait))
	if err != nil {
		return err
	}
	defer release()
	err = fn(ctx)
	if lost := release(); lost != nil {
		return lost
	}
	return err
}

// setupCode gives configuration mistakes found while setting up exit 2.
func setupCode(err error) error {
	var se *workspace.SetupError
	if errors.As(err, &se) {
		return withCode(exitUsage, err)
	}
	return err
}

// progressLine draws one status line on a terminal's stderr; it is a
// pipeline.Observer.
type progressLine struct {
	pipeline.NopObserver
	g     *globals
	mu    sync.Mutex
	n     int
	last  time.Time
	label string
}

func (p *progressLine) SourceStarted(source string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n, p.label = 0, source
	fmt.Fprintf(p.g.stderr, "\r\033[Kcollecting %s …", source)
}

func (p *progressLine) ItemStored(source string, _ pipeline.StoredItem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.g.stderr, "\r\033[Kcollecting %s: %d items", source, p.n)
}

func (p *progressLine) SourceFinished(source string, _ pipeline.SourceReport) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.g.stderr, "\r\033[K")
}
