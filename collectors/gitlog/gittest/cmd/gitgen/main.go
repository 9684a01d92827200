// Command gitgen builds a generated git history with gittest.Build and
// prints its summary as JSON. It is used by scripts/bench-git.sh.
//
//	go run ./collectors/gitlog/gittest/cmd/gitgen -commits 50000 -o /tmp/repo
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors/gitlog/gittest"
)

func main() {
	var (
		out      = flag.String("o", "", "directory to create the repository in (required; must not hold one)")
		commits  = flag.Int("commits", 1000, "commits to make, merges included")
		seed     = flag.Int64("seed", 1, "random seed")
		branches = flag.Int("branches", -1, "feature branches (-1: one per 200 commits)")
		trailer  = flag.Int("trailer-every", 5, "every Nth apprentice commit carries a KSB trailer (0: none)")
		mailmap  = flag.Bool("mailmap", true, "commit a .mailmap for the apprentice's old address")
	)
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gitgen: -o DIR is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	b := *branches
	if b < 0 {
		b = *commits / 200
	}
	start := time.Now()
	s, err := gittest.Build(ctx, *out, gittest.Options{Commits: *commits, Seed: *seed,
		Branches: b, TrailerEvery: *trailer, Mailmap: *mailmap})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gitgen:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(struct {
		gittest.Summary
		Seconds float64 `json:"seconds"`
	}{s, time.Since(start).Seconds()})
}
