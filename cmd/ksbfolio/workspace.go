package main

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

// loadConfig reads the config named by --config; a missing file is a usage
// error that says how to make one.
func (g *globals) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(g.configPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usageErrorf("no config at %s: run `ksbfolio init` to write one, or pass --config", g.configPath)
	}
	return cfg, err
}

// workspace loads the config and opens its store, ledger and catalogue.
func (g *globals) workspace(catalogue string) (*pipeline.Workspace, error) {
	cfg, err := g.loadConfig()
	if err != nil {
		return nil, err
	}
	ws, err := pipeline.Open(g.ctx, cfg, "", catalogue, g.log)
	return ws, setupCode(err)
}

// setupCode gives configuration mistakes found while setting up exit 2.
func setupCode(err error) error {
	var se *pipeline.SetupError
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
