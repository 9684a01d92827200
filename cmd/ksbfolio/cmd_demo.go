package main

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/demo"
)

func newDemoCommand(g *globals) *cobra.Command {
	var commits int
	cmd := &cobra.Command{
		Use:   "demo [DIR]",
		Short: "Build a realistic sample workspace and run the whole pipeline on it",
		Long: `demo builds, in DIR (default ./ksbfolio-demo, which must not exist or be
empty), sample data of every source that needs no cloud account: a git
repository of an ML project with months of history by several authors — the
apprentice Jane Doe among them, with KSB trailers on some of her commits and
one commit that leaked an AWS key — an MLflow file store (mlruns/) whose runs
name her commits, with a grid search; TensorBoard event files (tb_logs/); a
W&B offline run (notebooks/wandb/); deployment and TorchServe logs (logs/,
one failed deployment, fake secrets and customer details planted); saved
Prometheus results (monitoring/); and a ksbfolio.yaml with a source of each
and the default local store (DIR/.ksbfolio). Then it runs the pipeline and
prints the coverage. The same --commits gives the same sample bytes. Needs
the git command.

The workspace is built beside DIR and moved into place when complete; if
the run is interrupted, DIR is removed (or, if the process was killed,
replaced by the next demo), so a half-built demo never blocks the next.`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "ksbfolio-demo"
			if len(args) == 1 {
				dir = args[0]
			}
			res, err := demo.Build(g.ctx, dir, demo.Options{Commits: commits})
			if errors.Is(err, demo.ErrNotEmpty) {
				return withCode(exitUsage, err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "built %s: %d commits (%d by the apprentice, Jane Doe), %d MLflow runs, TensorBoard, W&B, logs and Prometheus samples, config %s\n\n",
				termsafe.String(res.RepoPath), res.Repo.Commits, res.Repo.Apprentice, res.Runs, termsafe.String(res.ConfigPath))
			if err := demoRun(g, res); err != nil {
				if derr := demo.Discard(res); derr != nil {
					g.log.Warn("demo not removed", "err", derr)
				} else {
					fmt.Fprintf(g.stderr, "ksbfolio: removed the unfinished demo %s\n", termsafe.String(res.Dir))
				}
				return err
			}
			if err := demo.Finish(res); err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, "\n"+nextHint(res.Dir, onPath("ksbfolio")))
			return nil
		},
	}
	cmd.Flags().IntVar(&commits, "commits", 1500, "how many commits the sample repository has")
	return cmd
}

// demoRun runs the pipeline on the demo workspace and prints its coverage.
func demoRun(g *globals, res demo.Result) error {
	g.configPath = res.ConfigPath
	if err := runPipeline(g, runOptions{}, "run", true); err != nil {
		return err
	}
	ws, err := g.workspace("")
	if err != nil {
		return err
	}
	rep, _, err := pipeline.ComputeCoverage(g.ctx, ws.Ledger, ws.Catalogue, ws.Target, ws.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(g.stdout)
	if err := rep.WriteTable(g.stdout); err != nil {
		return err
	}
	// The pack (with the workbook) of the 12 items that cover the most.
	fmt.Fprintln(g.stdout)
	return runPack(g, packOptions{out: filepath.Join(res.Dir, demoPack), maxItems: 12, maxItemsSet: true})
}

// demoPack is the demo's portfolio pack folder, inside the demo folder.
const demoPack = "pack"

// nextHint is the demo's closing line: shell commands that work as printed
// (the folder quoted for the shell), and, when ksbfolio is not on PATH,
// how to put it there.
func nextHint(dir string, installed bool) string {
	s := "open the pack: " + shellQuote(filepath.Join(dir, demoPack, "index.html")) + " (in a browser; the workbook is " +
		shellQuote(filepath.Join(dir, demoPack, "workbook.xlsx")) + ")\n" +
		"next: cd " + shellQuote(dir) + " && ksbfolio items && ksbfolio coverage"
	if !installed {
		s += "\n(ksbfolio is not on your PATH: run `go install ./cmd/ksbfolio` in the ksbfolio source folder;" +
			" it installs into $(go env GOPATH)/bin, which must be on PATH)"
	}
	return s
}

func onPath(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and / . _ - + : , @ %.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:,@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
