// Command gitbench times one Collect of the git collector on a repository
// and prints "seconds=<s> items=<n> skipped=<n> commits_per_second=<r>".
// Used by scripts/bench-git.sh.
//
//	gitbench -repo DIR -email jane@corp.example [-cursor-in F] [-cursor-out F]
//
// With -cursor-in the run is incremental from that cursor; -cursor-out
// saves the returned cursor.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/gitlog"
)

type countSink struct{ items, skips, warns int }

func (s *countSink) Emit(ctx context.Context, e collectors.Emission) error {
	s.items++
	return nil
}
func (s *countSink) Skip(collectors.Skipped) { s.skips++ }
func (s *countSink) Warn(string)             { s.warns++ }

func main() {
	var (
		repo      = flag.String("repo", "", "repository to collect (required)")
		emails    = flag.String("email", "jane@corp.example", "apprentice emails, comma-separated")
		cursorIn  = flag.String("cursor-in", "", "start from the cursor in this file")
		cursorOut = flag.String("cursor-out", "", "write the returned cursor to this file")
		cpuprof   = flag.String("cpuprofile", "", "write a CPU profile here")
		verbose   = flag.Bool("v", false, "log to stderr")
	)
	flag.Parse()
	if *repo == "" {
		fmt.Fprintln(os.Stderr, "gitbench: -repo DIR is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	log := slog.New(slog.DiscardHandler)
	if *verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	c, err := gitlog.New(gitlog.Config{Name: "bench", Path: *repo, Apprentice: "bench",
		Emails: strings.Split(*emails, ",")}, log, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gitbench:", err)
		os.Exit(2)
	}
	var cur collectors.Cursor
	if *cursorIn != "" {
		if cur, err = os.ReadFile(*cursorIn); err != nil {
			fmt.Fprintln(os.Stderr, "gitbench:", err)
			os.Exit(1)
		}
	}
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	sink := &countSink{}
	start := time.Now()
	next, err := c.Collect(ctx, cur, sink)
	secs := time.Since(start).Seconds()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gitbench: collect:", err)
		if next == nil {
			os.Exit(1)
		}
	}
	if *cursorOut != "" {
		if err := os.WriteFile(*cursorOut, next, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gitbench:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("seconds=%.3f items=%d skipped=%d commits_per_second=%.0f\n", secs, sink.items, sink.skips, float64(sink.items)/secs)
}
