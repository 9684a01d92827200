// Package gitlog collects an apprentice's git commits as evidence: one item
// per commit they authored (kind "commit", or "merge" for a commit with more
// than one parent) with its message, per-file line counts and the KSBs
// declared in its trailers (`KSB: S10, K12`).
//
// # What is walked
//
// The commits reachable from Config.Refs (default: every local branch),
// each once, keeping those whose author email, after the repository's
// .mailmap, is one of Config.Emails (case-insensitive). File stats match
// `git log --no-renames --numstat --diff-merges=first-parent`: merges are
// diffed against their first parent, binary files count 0/0.
//
// # Incremental runs
//
// The cursor records each ref's tip. The next run walks only the commits
// reachable from the new tips and not from the old ones (a force-pushed
// branch included), reading little more than the new commits; when no tip
// moved it returns at once. A change of emails, refs or .mailmap (the
// cursor's fingerprint) makes the next run walk everything again: item IDs
// are stable, so re-emitted items overwrite, never duplicate.
//
// # Damaged and partial repositories
//
// In a shallow or partial clone, or a damaged repository, a commit whose
// parent, tree or blobs are missing is still emitted, without file stats
// (fact "stats_unavailable" says why); a missing commit object is skipped.
// Each is reported to Sink.Skip, and Collect returns a
// *collectors.PartialError at the end.
//
// go-git is used here and nowhere else in ksbfolio; none of its types leave
// this package.
package gitlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/ksbfolio/ksbfolio/collectors"
)

// objectCacheSize is the go-git object cache (delta bases and objects
// reused across commits); 256 MiB was no faster on 50,000 commits.
const objectCacheSize = 96 * cache.MiByte

// SourceType is the items' source_type, and the ID namespace of NewID.
const SourceType = "git"

// Collector collects one git repository. It implements
// collectors.Collector; one Collect at a time.
type Collector struct {
	cfg    Config
	abs    string
	emails map[string]bool
	log    *slog.Logger
	now    func() time.Time
}

var _ collectors.Collector = (*Collector)(nil)

// New checks cfg and returns its collector; it does not touch the
// repository. log nil discards logs; now nil is time.Now (it stamps items'
// collected_at).
func New(cfg Config, log *slog.Logger, now func() time.Time) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("git source %q: %w", cfg.Name, err)
	}
	abs, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("git source %q: path %s: %w", cfg.Name, cfg.Path, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	emails := map[string]bool{}
	for _, e := range cfg.Emails {
		emails[strings.ToLower(strings.TrimSpace(e))] = true
	}
	return &Collector{cfg: cfg, abs: abs, emails: emails, now: now,
		log: log.With("source", cfg.Name, "source_type", SourceType)}, nil
}

// Collect implements collectors.Collector. See the package documentation
// for what it walks and how the cursor works.
func (c *Collector) Collect(ctx context.Context, cursor collectors.Cursor, sink collectors.Sink) (collectors.Cursor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	start := time.Now()
	repo, closeRepo, err := c.open()
	if err != nil {
		return nil, err
	}
	defer closeRepo()
	mmContent, err := readMailmap(repo)
	if err != nil {
		sink.Warn(fmt.Sprintf("git source %s: .mailmap not read, identities are used as written: %v", c.cfg.Name, err))
		mmContent = nil
	}
	mm := parseMailmap(mmContent)

	tips, unmatched, err := resolveRefs(repo, c.cfg.Refs)
	if err != nil {
		return nil, fmt.Errorf("repo %s: %w", c.abs, err)
	}
	for _, r := range unmatched {
		sink.Warn(fmt.Sprintf("git source %s: ref %q matches nothing in %s", c.cfg.Name, r, c.abs))
	}
	next := cursorState{Version: cursorVersion,
		Fingerprint: fingerprint(c.cfg.Emails, c.cfg.Refs, mmContent),
		Tips:        map[string]string{}}
	var from []plumbing.Hash
	seenTip := map[plumbing.Hash]bool{}
	for _, name := range sortedRefNames(tips) {
		h := tips[name]
		next.Tips[name] = h.String()
		if !seenTip[h] {
			seenTip[h] = true
			from = append(from, h)
		}
	}

	var stop []plumbing.Hash
	old, ok, why := decodeCursor(cursor)
	switch {
	case ok && old.Fingerprint != next.Fingerprint:
		ok, why = false, "emails, refs or .mailmap changed"
	case ok && sameTips(old.Tips, next.Tips):
		c.log.Info("git collect finished", "items", 0, "reason", "no ref moved",
			"duration_seconds", time.Since(start).Seconds())
		return next.encode(), nil
	case ok:
		names := make([]string, 0, len(old.Tips))
		for name := range old.Tips {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			stop = append(stop, plumbing.NewHash(old.Tips[name]))
		}
	}
	if !ok {
		c.log.Info("git collect full walk", "reason", why, "refs", len(tips))
	}

	shallow, err := repo.Storer.Shallow()
	if err != nil {
		shallow = nil // an unreadable .git/shallow only means more skips
	}
	var skips collectors.Skips
	nskips := 0
	skip := func(what, reason string) {
		sk := collectors.Skipped{What: what, Reason: reason}
		skips.Add(sk)
		nskips++
		sink.Skip(sk)
	}
	match := func(co *object.Commit) bool {
		_, email := mm.Map(co.Author.Name, co.Author.Email)
		return c.emails[strings.ToLower(email)]
	}
	w := newWalker(repo.Storer, shallow, match, skip)
	nodes, err := w.walk(ctx, from, stop)
	if err != nil {
		return nil, err
	}

	meta := itemMeta{Apprentice: c.cfg.Apprentice, Source: c.cfg.Name, RepoPath: c.abs}
	emitted := 0
	for _, n := range nodes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		co := n.commit
		n.commit = nil
		stats, serr := statsOf(ctx, repo.Storer, co)
		missing := ""
		if serr != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, cerr
			}
			var me *missingError
			if errors.As(serr, &me) {
				missing = me.Reason
			} else {
				missing = serr.Error()
			}
			skip("stats of commit "+co.Hash.String(), missing)
		}
		enc := string(co.Encoding)
		name, email := mm.Map(co.Author.Name, co.Author.Email)
		ci := commitInfo{
			SHA:         co.Hash.String(),
			AuthorName:  toUTF8(name, enc),
			AuthorEmail: toUTF8(email, enc),
			AuthorWhen:  co.Author.When,
			CommitWhen:  co.Committer.When,
			Message:     toUTF8(co.Message, enc),
		}
		for _, p := range co.ParentHashes {
			ci.Parents = append(ci.Parents, p.String())
		}
		meta.CollectedAt = c.now().UTC()
		it, bad := itemFromCommit(ci, stats, missing, meta)
		for _, v := range bad {
			sink.Warn(fmt.Sprintf("commit %s: trailer value %q is not a KSB ID; ignored", ci.SHA[:12], v))
		}
		if err := sink.Emit(ctx, collectors.Emission{Item: it}); err != nil {
			return nil, err
		}
		emitted++
	}
	c.log.Info("git collect finished", "items", emitted, "commits_read", w.walked,
		"incremental", len(stop) > 0, "skipped", nskips,
		"duration_seconds", time.Since(start).Seconds())
	return next.encode(), skips.Err()
}

// open opens the repository at the configured path, itself and not a
// parent folder. The caller calls done when finished with it.
func (c *Collector) open() (repo *git.Repository, done func(), err error) {
	nop := func() {}
	if _, err := os.Stat(c.abs); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nop, fmt.Errorf("open repo %s: %w: no such folder", c.abs, collectors.ErrSourceMissing)
		}
		return nil, nop, fmt.Errorf("open repo %s: %w", c.abs, err)
	}
	repo, err = git.PlainOpenWithOptions(c.abs, &git.PlainOpenOptions{DetectDotGit: false, EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, nop, fmt.Errorf("open repo %s: %w: not a git repository", c.abs, collectors.ErrSourceMissing)
	}
	if err != nil {
		return nil, nop, fmt.Errorf("open repo %s: %v", c.abs, err)
	}
	// PlainOpen's storage reopens the packfile for every object read, which
	// dominates a long walk (4x on 50,000 commits); reopen the same .git
	// with descriptors kept.
	fsst, ok := repo.Storer.(*filesystem.Storage)
	if !ok {
		return repo, nop, nil
	}
	st := filesystem.NewStorageWithOptions(fsst.Filesystem(), cache.NewObjectLRU(objectCacheSize),
		filesystem.Options{KeepDescriptors: true})
	var wtfs billy.Filesystem
	if wt, err := repo.Worktree(); err == nil {
		wtfs = wt.Filesystem
	}
	fast, err := git.Open(st, wtfs)
	if err != nil {
		_ = st.Close()
		return nil, nop, fmt.Errorf("open repo %s: %v", c.abs, err)
	}
	return fast, func() { _ = st.Close() }, nil
}

// readMailmap returns the .mailmap to apply: the worktree's, else the one
// in HEAD's tree (a bare repository, or a worktree without the file), else
// none.
func readMailmap(repo *git.Repository) ([]byte, error) {
	if wt, err := repo.Worktree(); err == nil {
		p := filepath.Join(wt.Filesystem.Root(), ".mailmap")
		b, err := os.ReadFile(p)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
	}
	head, err := repo.Head()
	if err != nil {
		return nil, nil // no commits yet
	}
	co, err := repo.CommitObject(head.Hash())
	if err != nil {
		return nil, nil // reported by the walk
	}
	f, err := co.File(".mailmap")
	if errors.Is(err, object.ErrFileNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read HEAD:.mailmap: %w", err)
	}
	s, err := f.Contents()
	if err != nil {
		return nil, fmt.Errorf("read HEAD:.mailmap: %w", err)
	}
	return []byte(s), nil
}

func clip(s string, n int) string {
	if r, cut := capRunes(s, n); cut {
		return r
	}
	return s
}
