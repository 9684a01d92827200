// Command gitgen builds a generated git history with demorepo.Build and
// prints its summary as JSON. It is used by scripts/bench-git.sh.
//
//	go run ./pipeline/demo/demorepo/cmd/gitgen -commits 50000 -o /tmp/repo
//	gitgen -commits 100000 -authors 20 -apprentice-share 2 -files 3000 -o /tmp/big
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

func main() {
	var (
		out      = flag.String("o", "", "directory to create the repository in (required; must not hold one)")
		commits  = flag.Int("commits", 1000, "commits to make, merges included")
		seed     = flag.Int64("seed", 1, "random seed")
		branches = flag.Int("branches", -1, "feature branches (-1: one per 200 commits)")
		trailer  = flag.Int("trailer-every", 5, "every Nth apprentice commit carries a KSB trailer (0: none)")
		mailmap  = flag.Bool("mailmap", true, "commit a .mailmap for the apprentice's old address")
		files    = flag.Int("files", 0, "extra files in modules, edited workplace-like (0: the small project)")
		authors  = flag.Int("authors", 0, "team size, apprentice included (0: the default four authors)")
		share    = flag.Float64("apprentice-share", 2, "with -authors: the apprentice's share of the commits, in percent")
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
	var team []demorepo.Author
	if *authors > 0 {
		if *authors < 2 || *share <= 0 || *share >= 100 {
			fmt.Fprintln(os.Stderr, "gitgen: -authors needs at least 2 and -apprentice-share between 0 and 100")
			os.Exit(2)
		}
		team = demorepo.ScaleAuthors(*authors, *share)
	}
	start := time.Now()
	s, err := demorepo.Build(ctx, *out, demorepo.Options{Commits: *commits, Seed: *seed, Authors: team,
		Branches: b, TrailerEvery: *trailer, Mailmap: *mailmap, Files: *files})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gitgen:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(struct {
		demorepo.Summary
		Seconds float64 `json:"seconds"`
	}{s, time.Since(start).Seconds()})
}
