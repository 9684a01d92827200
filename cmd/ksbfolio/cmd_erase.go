package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

func newEraseCommand(g *globals) *cobra.Command {
	var id string
	var yes bool
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "erase --apprentice ID [--yes]",
		Short: "Delete everything stored for one apprentice (lists it without --yes)",
		Long: `erase deletes every object stored under one apprentice's prefix
(apprentices/<ID>/ in the configured store: items, blobs, reviews, cursors,
run reports, coverage.json and the lease), printing each key it removes,
and nothing of any other apprentice: the listing is of apprentices/<ID>/
with the trailing slash, so erasing jan leaves jane alone. The apprentice
need not be in the config any more; when --config names a folder of
configs, it must be in one of them (that config names the store). Without --yes it lists what it would
remove and changes nothing.

It holds the apprentice's lease while deleting, so it never erases under a
running job: exit 4 if another run holds it (--wait to wait). Exit 1 if an
object could not be deleted (run erase again: it carries on).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" {
				return usageErrorf("erase needs --apprentice ID")
			}
			if !ledger.ValidName(id) {
				return usageErrorf("--apprentice %q: not a valid apprentice ID", id)
			}
			cfg, err := eraseConfig(g, id)
			if err != nil {
				return err
			}
			s, err := workspaceStore(g, cfg)
			if err != nil {
				return err
			}
			l, err := ledger.New(s, id)
			if err != nil {
				return usageErrorf("%v", err)
			}
			if !yes {
				keys, err := listPrefix(g, s, l.Prefix())
				if err != nil {
					return err
				}
				for _, k := range keys {
					fmt.Fprintf(g.stdout, "would remove %s\n", termsafe.String(k))
				}
				fmt.Fprintf(g.stdout, "%s under %s in %s; nothing changed (pass --yes to delete)\n",
					termsafe.Plural(len(keys), "object", "objects"), termsafe.String(l.Prefix()), termsafe.String(s.String()))
				return nil
			}
			ctx, release, err := l.Hold(g.ctx, ledger.HoldOptions{RunID: pipeline.NewRunID(time.Now()), Command: "erase", Wait: wait, Log: g.log})
			if err != nil {
				return err
			}
			defer release()
			keys, err := listPrefix(g, s, l.Prefix())
			if err != nil {
				return err
			}
			removed := 0
			for _, k := range keys {
				if k == l.LockKey() {
					continue // release deletes it, last
				}
				if err := s.Delete(ctx, k); err != nil {
					return fmt.Errorf("erase %s: removed %d of %d objects: %w", id, removed, len(keys), err)
				}
				removed++
				fmt.Fprintf(g.stdout, "removed %s\n", termsafe.String(k))
			}
			if err := release(); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "removed %s (the lease)\n", termsafe.String(l.LockKey()))
			left, err := listPrefix(g, s, l.Prefix())
			if err != nil {
				return err
			}
			if len(left) > 0 {
				return fmt.Errorf("erase %s: %s appeared while erasing (first %s); run erase again",
					id, termsafe.Plural(len(left), "object", "objects"), termsafe.String(left[0]))
			}
			fmt.Fprintf(g.stdout, "erased %s: %s removed from %s\n", termsafe.String(id), termsafe.Plural(removed+1, "object", "objects"), termsafe.String(s.String()))
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "apprentice", "", "the apprentice whose objects to delete")
	cmd.Flags().BoolVar(&yes, "yes", false, "delete (without it, only list)")
	cmd.Flags().DurationVar(&wait, "wait", 0, "wait up to this long for another run on the same apprentice")
	return cmd
}

// listPrefix lists the keys under prefix, which ends in "/".
func listPrefix(g *globals, s store.Store, prefix string) ([]string, error) {
	var keys []string
	err := s.List(g.ctx, prefix, func(in store.Info) error {
		keys = append(keys, in.Key)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	return keys, nil
}

// eraseConfig returns the config whose store holds apprentice id: the one
// config, or, in a folder of configs, the one listing id.
func eraseConfig(g *globals, id string) (*config.Config, error) {
	ids, cfgs, err := fleetConfigs(g)
	if err != nil {
		return nil, err
	}
	if cfg := cfgs[id]; cfg != nil {
		return cfg, nil
	}
	if fi, err := os.Stat(g.configPath); err == nil && fi.IsDir() {
		return nil, usageErrorf("apprentice %q is in no config of %s (it lists %d others); pass --config the file whose store holds it", id, g.configPath, len(ids))
	}
	return cfgs[ids[0]], nil
}
