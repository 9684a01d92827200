package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline/maintain"
)

type addOptions struct {
	title, date, ksbs string
	replace           bool
	wait              time.Duration
}

func newAddCommand(g *globals) *cobra.Command {
	var o addOptions
	cmd := &cobra.Command{
		Use:   "add FILE --title T --date D [--ksb IDS] [--replace]",
		Short: "Add evidence made by hand (a design document, a presentation, a certificate)",
		Long: `add stores FILE as the artefact of a new item of kind manual, with the
given title and date (YYYY-MM-DD or RFC 3339, not in the future) and the
KSBs you declare for it. Text files are redacted like everything else. The
item's ID comes from the file's content: adding the same file again is
refused unless --replace, which replaces its title, date and KSBs (reviews
are kept).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.title == "" || o.date == "" {
				return usageErrorf("add needs --title and --date")
			}
			date, err := parseDate(o.date, time.Now())
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
			it, warns, err := maintain.Add(g.ctx, ws, maintain.Manual{Path: args[0], Title: o.title, Date: date, KSBs: ksbs, Replace: o.replace, Wait: o.wait})
			var exists *maintain.ExistsError
			if errors.As(err, &exists) {
				return withCode(exitUsage, err)
			}
			if err != nil {
				return setupCode(err)
			}
			for _, w := range warns {
				g.warnf("%s", w)
			}
			fmt.Fprintf(g.stdout, "added %s: %s (%s)\n", it.ID, termsafe.String(it.Title), termsafe.String(ksbList(it.Tags)))
			return nil
		},
	}
	cmd.Flags().StringVar(&o.title, "title", "", "title of the evidence (required)")
	cmd.Flags().StringVar(&o.date, "date", "", "when the work was done: YYYY-MM-DD or RFC 3339, not in the future (required)")
	cmd.Flags().StringVar(&o.ksbs, "ksb", "", "KSBs this evidences (comma-separated)")
	cmd.Flags().BoolVar(&o.replace, "replace", false, "replace the item of a file added before")
	cmd.Flags().DurationVar(&o.wait, "wait", 0, "wait up to this long for another run on the same apprentice")
	return cmd
}

// parseDate reads --date: a day (YYYY-MM-DD, at midnight UTC) no later than
// today where the user is, or an RFC 3339 time no later than now (a minute
// of clock skew allowed). Evidence of work not yet done is refused.
func parseDate(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		if today := now.Format("2006-01-02"); s > today {
			return time.Time{}, usageErrorf("--date %s is in the future (today is %s)", s, today)
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if t.After(now.Add(time.Minute)) {
			return time.Time{}, usageErrorf("--date %s is in the future (now is %s)", s, now.Format(time.RFC3339))
		}
		return t, nil
	}
	return time.Time{}, usageErrorf("--date %q: want YYYY-MM-DD or RFC 3339", s)
}
