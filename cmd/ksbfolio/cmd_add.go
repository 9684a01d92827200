package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/pipeline"
)

type addOptions struct {
	title, date, ksbs string
	wait              time.Duration
}

func newAddCommand(g *globals) *cobra.Command {
	var o addOptions
	cmd := &cobra.Command{
		Use:   "add FILE --title T --date D [--ksb IDS]",
		Short: "Add evidence made by hand (a design document, a presentation, a certificate)",
		Long: `add stores FILE as the artefact of a new item of kind manual, with the
given title and date (YYYY-MM-DD or RFC 3339) and the KSBs you declare for
it. Text files are redacted like everything else. Adding the same file again
updates its item.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.title == "" || o.date == "" {
				return usageErrorf("add needs --title and --date")
			}
			date, err := parseDate(o.date)
			if err != nil {
				return err
			}
			ksbs, err := splitKSBs(o.ksbs)
			if err != nil {
				return err
			}
			ws, err := g.workspace("")
			if err != nil {
				return err
			}
			it, warns, err := ws.AddManual(g.ctx, pipeline.Manual{Path: args[0], Title: o.title, Date: date, KSBs: ksbs, Wait: o.wait})
			if err != nil {
				return setupCode(err)
			}
			for _, w := range warns {
				fmt.Fprintln(g.stderr, "ksbfolio: warning: "+w)
			}
			fmt.Fprintf(g.stdout, "added %s: %s (%s)\n", it.ID, it.Title, ksbList(it.Tags))
			return nil
		},
	}
	cmd.Flags().StringVar(&o.title, "title", "", "title of the evidence (required)")
	cmd.Flags().StringVar(&o.date, "date", "", "when the work was done: YYYY-MM-DD or RFC 3339 (required)")
	cmd.Flags().StringVar(&o.ksbs, "ksb", "", "KSBs this evidences (comma-separated)")
	cmd.Flags().DurationVar(&o.wait, "wait", 0, "wait up to this long for another run on the same apprentice")
	return cmd
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageErrorf("--date %q: want YYYY-MM-DD or RFC 3339", s)
}
