package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/demo"
)

func newDemoCommand(g *globals) *cobra.Command {
	var commits int
	cmd := &cobra.Command{
		Use:   "demo [DIR]",
		Short: "Build a realistic sample workspace and run the whole pipeline on it",
		Long: `demo builds, in DIR (default ./ksbfolio-demo, which must not exist or be
empty), a git repository of an ML project with months of history by several
authors — the apprentice Jane Doe among them, with KSB trailers on some of
her commits and one commit that leaked an AWS key — and a ksbfolio.yaml
with the default local store (DIR/.ksbfolio). Then it runs the pipeline and
prints the coverage. Needs the git command.`,
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
			fmt.Fprintf(g.stdout, "built %s: %d commits (%d by the apprentice, Jane Doe), config %s\n\n",
				res.RepoPath, res.Repo.Commits, res.Repo.Apprentice, res.ConfigPath)
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
			fmt.Fprintf(g.stdout, "\nnext: cd %s && ksbfolio items && ksbfolio coverage\n", res.Dir)
			return nil
		},
	}
	cmd.Flags().IntVar(&commits, "commits", 1500, "how many commits the sample repository has")
	return cmd
}
