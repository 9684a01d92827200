// Package gitlog collects an apprentice's git commits as evidence: one item
// per commit they authored or co-authored (kind "commit", or "merge" for a
// commit with more than one parent, whose files are only the apprentice's
// own commits' in it) with its message, per-file line counts, the classes
// of work its files show (classify.go), its web page and the KSBs declared
// in its trailers (`KSB: S10, K12`); and one "release" item per annotated
// tag the apprentice made. The repository is a local folder or a remote
// one (Remote), cloned bare into a cache and fetched on later runs. See
// README.md for the facts and the config keys.
//
// # What is walked
//
// The commits reachable from Config.Refs (default: every local branch),
// each once, keeping those whose author email, after the .mailmap
// committed in HEAD's tree (never the work tree's), is one of Config.Emails
// (case-insensitive); a mapped item keeps the original author in its facts
// and is marked "author_mapped". File stats match
// `git log --no-renames --numstat --diff-merges=first-parent`: merges are
// diffed against their first parent, binary files count 0/0.
//
// # Incremental runs
//
// The cursor records each ref's tip, keyed by the SHA-256 of the ref name
// (no ref name is stored). The next run walks only the commits
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
// *collectors.PartialError at the end. Nothing skipped is forgotten: the
// cursor keeps the commits skipped, commits without stats and the shallow
// boundary, and the next runs retry them until they can be collected.
//
// # Memory
//
// Object sizes are checked before content is read: blobs over 64 MiB are
// never read (counted as binary), binary blobs only as far as their first
// 8,000 bytes, and at most 2 MiB of a commit object.
//
// go-git is used here and nowhere else in ksbfolio; none of its types leave
// this package.
package gitlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/internal/textcap"
)

// The delta base caches, in bytes: the walk's, which reads every commit
// once, and each diff worker's, which reads trees and blobs of nearby
// commits; and go-git's object cache, which serves what the pack reader
// leaves to it (loose and large objects).
const (
	walkCacheSize = 8 << 20
	diffCacheSize = 24 << 20
	gitCacheSize  = 8 * cache.MiByte
)

// largeObjectThreshold: an object larger than this is not read into memory
// when it is looked up, only when (and if) its content is read, streamed.
// Without it a loose object is read whole just to learn its size.
const largeObjectThreshold = 1 << 20

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
// repository. log is already scoped to the source (source=name, as
// collectors.Settings.Logger is); nil discards logs. now nil is time.Now
// (it stamps items' collected_at).
func New(cfg Config, log *slog.Logger, now func() time.Time) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("git source %q: %w", cfg.Name, err)
	}
	abs := ""
	if cfg.Remote == nil {
		var err error
		if abs, err = filepath.Abs(cfg.Path); err != nil {
			return nil, fmt.Errorf("git source %q: path %s: %w", cfg.Name, cfg.Path, err)
		}
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
		log: log.With("source_type", SourceType)}, nil
}

// Collect implements collectors.Collector. See the package documentation
// for what it walks and how the cursor works.
func (c *Collector) Collect(ctx context.Context, cursor collectors.Cursor, sink collectors.Sink) (collectors.Cursor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	start := time.Now()
	dir, where, origin := c.abs, c.abs, "file://"+c.abs
	if rm := c.cfg.Remote; rm != nil {
		d, fetchErr, err := rm.sync(ctx)
		if err != nil {
			return nil, fmt.Errorf("git source %s: %w", c.cfg.Name, err)
		}
		if fetchErr != nil {
			sink.Warn(fmt.Sprintf("git source %s: %v; collecting the cached clone as last fetched", c.cfg.Name, fetchErr))
		}
		dir, where, origin = d, rm.URL, rm.URL
	}
	repo, dotgit, closeRepo, err := openRepo(dir)
	if err != nil {
		return nil, err
	}
	defer closeRepo()
	packs := openPacks(dotgit)
	defer packs.close()
	fallback := &lockedObjects{src: repo.Storer}
	objs := newFastObjects(packs, fallback, walkCacheSize)
	old, ok, why := decodeCursor(cursor)
	// .mailmap comes from HEAD's tree: when HEAD is the commit the last run
	// read it from, it is the same, and an unchanged repository is seen
	// without reading any object.
	headSHA := ""
	if h, err := repo.Head(); err == nil {
		headSHA = h.Hash().String()
	}
	refsKey := slices.Clone(c.cfg.Refs) // what the cursor is valid for
	for _, x := range c.cfg.ExcludeRefs {
		refsKey = append(refsKey, "!"+x)
	}
	// mailmap_file is read every run; its content is part of the config
	// key, so that a change to it is seen without reading the repository.
	var extraMM []byte
	if c.cfg.MailmapFile != "" {
		b, err := readMailmapFile(c.cfg.MailmapFile)
		if err != nil {
			sink.Warn(fmt.Sprintf("git source %s: mailmap_file not read, it is not applied: %v", c.cfg.Name, err))
		}
		extraMM = b
	}
	cfgKey := configKey(c.cfg.Emails, refsKey, extraMM)
	var mmContent, attrContent []byte
	mmRead := false
	readMM := func() {
		mmRead = true
		b, err := readMailmap(repo, objs)
		if err != nil {
			sink.Warn(fmt.Sprintf("git source %s: .mailmap not read, identities are used as written: %v", c.cfg.Name, err))
			b = nil
		}
		// The repository's .mailmap first, then mailmap_file's lines,
		// which win where both map the same address.
		mmContent = append(b, extraMM...)
		a, err := readHeadFile(repo, objs, ".gitattributes", maxAttributesBytes)
		if err != nil {
			sink.Warn(fmt.Sprintf("git source %s: .gitattributes not read, binary marks are not applied: %v", c.cfg.Name, err))
			a = nil
		}
		attrContent = a
	}
	fp := ""
	if ok && old.Config == cfgKey && old.MailmapFrom == headSHA {
		fp = old.Fingerprint
	} else {
		readMM()
		fp = fingerprint(c.cfg.Emails, refsKey, identityFiles(mmContent, attrContent))
	}

	known := map[plumbing.Hash]bool{} // commits: no need to peel
	if ok {
		for _, sha := range old.Tips {
			known[plumbing.NewHash(sha)] = true
		}
	}
	tips, unmatched, err := resolveRefs(repo, objs, c.cfg.Refs, c.cfg.ExcludeRefs, known)
	if err != nil {
		return nil, fmt.Errorf("repo %s: %w", where, err)
	}
	for _, r := range unmatched {
		sink.Warn(fmt.Sprintf("git source %s: ref %q matches nothing in %s", c.cfg.Name, r, where))
	}
	shallowList, err := repo.Storer.Shallow()
	if err != nil {
		shallowList = nil // an unreadable .git/shallow only means more skips
	}
	r := &run{c: c, objs: objs, sink: sink,
		shallow: map[plumbing.Hash]bool{}, sent: map[plumbing.Hash]bool{}, others: authorCounts{},
		meta: itemMeta{Apprentice: c.cfg.Apprentice, Source: c.cfg.Name, RepoPath: where, OriginURI: origin},
		next: cursorState{Version: cursorVersion, Fingerprint: fp, Config: cfgKey, MailmapFrom: headSHA,
			Tips: map[string]string{}}}
	shallowSHAs := map[string]bool{}
	for _, h := range shallowList {
		r.shallow[h] = true
		shallowSHAs[h.String()] = true
		r.next.Shallow = append(r.next.Shallow, h.String())
	}
	var from []plumbing.Hash
	keysOf := map[plumbing.Hash][]string{} // tip → the cursor keys of its refs
	for _, name := range sortedRefNames(tips) {
		h := tips[name]
		key := refKey(name)
		r.next.Tips[key] = h.String()
		if keysOf[h] == nil {
			from = append(from, h)
		}
		keysOf[h] = append(keysOf[h], key)
	}

	tagHashes, tagNames, err := tagObjects(repo, objs)
	if err != nil {
		return nil, fmt.Errorf("repo %s: %w", where, err)
	}
	seenTags := map[string]bool{}
	if ok && old.Fingerprint == r.next.Fingerprint {
		for _, h := range old.Tags {
			seenTags[h] = true
		}
	}
	var newTags []plumbing.Hash
	for _, h := range tagHashes {
		if seenTags[h.String()] {
			r.next.Tags = append(r.next.Tags, h.String())
		} else {
			newTags = append(newTags, h)
		}
	}

	var stop []plumbing.Hash
	switch {
	case ok && old.Fingerprint != r.next.Fingerprint:
		ok, why = false, "emails, refs or .mailmap changed"
	case ok && sameTips(old.Tips, r.next.Tips) && !old.pending(shallowSHAs) && len(newTags) == 0:
		c.log.Info("git collect finished", "items", 0, "reason", "no ref moved",
			"duration_seconds", time.Since(start).Seconds())
		return r.next.encode(), nil
	case ok:
		for _, sha := range slices.Sorted(maps.Values(old.Tips)) {
			stop = append(stop, plumbing.NewHash(sha))
		}
	}
	if !ok {
		c.log.Info("git collect full walk", "reason", why, "refs", len(tips))
	}
	if !mmRead {
		readMM()
	}
	r.mm = parseMailmap(mmContent)
	r.attrs = parseAttributes(attrContent)
	r.meta.Web, r.meta.HasWeb = webRepoOf(originURL(repo), c.cfg.WebURL, c.cfg.WebKind)

	differs := c.differs(packs, fallback)
	memo := newStatsMemo()
	for _, d := range differs {
		d.attrs, d.memo = r.attrs, memo
	}
	var walked int
	err = r.pipeline(ctx, differs, func(p *producer) error {
		// The new commits. A ref whose tip cannot be read keeps no tip in
		// the cursor, so the next run tries it again.
		found, n, err := p.walk(ctx, from, stop, func(h plumbing.Hash, reason string) {
			r.skip("commit "+h.String(), reason)
			for _, key := range keysOf[h] {
				delete(r.next.Tips, key)
			}
		})
		walked = n
		if err != nil {
			return err
		}
		if found == 0 && len(stop) == 0 && len(r.others) > 0 {
			msg := noneMatched(c.cfg.Name, c.cfg.Emails, walked, r.others)
			if err := p.do(func() { sink.Warn(msg) }); err != nil {
				return err
			}
		}
		if ok {
			n, err := p.retry(ctx, old, shallowSHAs)
			walked += n
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := r.releases(ctx, newTags, tagNames); err != nil {
		return nil, err
	}
	c.log.Info("git collect finished", "items", r.nemitted, "commits_read", walked,
		"incremental", ok, "skipped", r.nskips, "retry_missing", len(r.next.Missing),
		"retry_no_stats", len(r.next.NoStats), "workers", len(differs),
		"duration_seconds", time.Since(start).Seconds())
	return r.next.encode(), r.skips.Err()
}

// run is the state of one Collect. Its fields are touched only by the
// goroutine that called Collect (see pipeline), except objs, others and
// sent, which belong to the producer.
type run struct {
	c       *Collector
	objs    objectSource
	sink    collectors.Sink
	mm      *mailmap
	shallow map[plumbing.Hash]bool
	meta    itemMeta
	// next is the cursor being built: what was skipped goes into its
	// retry lists.
	next     cursorState
	nemitted int
	skips    collectors.Skips
	nskips   int
	// others counts the authors of the commits that are not the
	// apprentice's, for the warning of a walk that matched none.
	others authorCounts
	// sent are the commits handed to be emitted in this run.
	sent map[plumbing.Hash]bool
	// attrs are the root .gitattributes' binary marks (read-only once set).
	attrs *attributes
}

func (r *run) skip(what, reason string) {
	sk := collectors.Skipped{What: what, Reason: reason}
	r.skips.Add(sk)
	r.nskips++
	r.sink.Skip(sk)
}

// match reports whether an author, as written in a commit, is the
// apprentice after .mailmap.
func (r *run) match(name, email string) bool {
	name, email = r.mm.Map(name, email)
	if r.c.emails[strings.ToLower(email)] {
		return true
	}
	if r.others != nil {
		r.others.add(name, email)
	}
	return false
}

// releases emits a release item for each of these annotated tags that
// the apprentice made (tagger after .mailmap), and records every tag
// looked at. A tag that cannot be read is looked at again next run.
func (r *run) releases(ctx context.Context, tags []plumbing.Hash, names map[plumbing.Hash]string) error {
	for _, h := range tags {
		if err := ctx.Err(); err != nil {
			return err
		}
		o, err := r.objs.EncodedObject(plumbing.AnyObject, h)
		if err != nil || o.Type() != plumbing.TagObject {
			if err == nil { // a lightweight tag: no tagger, no release
				r.next.Tags = append(r.next.Tags, h.String())
			}
			continue
		}
		t, err := object.DecodeTag(nil, o)
		if err != nil {
			continue
		}
		r.next.Tags = append(r.next.Tags, h.String())
		name, email := r.mm.Map(t.Tagger.Name, t.Tagger.Email)
		if !r.c.emails[strings.ToLower(email)] {
			continue
		}
		r.meta.CollectedAt = r.c.now().UTC()
		it := releaseItem(t, names[h], peel(r.objs, t.Target), toUTF8(name, ""), toUTF8(email, ""), r.meta)
		if err := r.sink.Emit(ctx, collectors.Emission{Item: it}); err != nil {
			return err
		}
		r.nemitted++
	}
	return nil
}

// isMine is match without the counting: safe for concurrent use once the
// run is set up.
func (r *run) isMine(name, email string) bool {
	_, email = r.mm.Map(name, email)
	return r.c.emails[strings.ToLower(email)]
}

// coAuthoredMine reports whether one of these co-authors is the
// apprentice (after .mailmap).
func (r *run) coAuthoredMine(cas []coAuthor) bool {
	for _, ca := range cas {
		if r.isMine(ca.name, ca.email) {
			return true
		}
	}
	return false
}

// producer finds the commits to emit, on its own goroutine: it reads
// commits from run.objs and hands them on with emit; everything that
// touches the run's state or the sink goes through do, so that it happens
// on the emitting goroutine, in order.
type producer struct {
	r    *run
	send func(*job) error
}

// do runs fn on the emitting goroutine, after the jobs handed on before.
func (p *producer) do(fn func()) error { return p.send(&job{fn: fn}) }

// skipMissing reports commit h as skipped and records it for the next run
// to retry.
func (p *producer) skipMissing(h plumbing.Hash, reason string) error {
	return p.do(func() {
		p.r.skip("commit "+h.String(), reason)
		p.r.next.Missing = append(p.r.next.Missing, h.String())
	})
}

// walk emits the apprentice's commits reachable from from and not from
// stop. A commit met on the way that cannot be read is skipped and
// recorded in the cursor's Missing list; a start commit that cannot be
// read is handed to startMissing (on the emitting goroutine). It returns
// how many of the apprentice's commits it found and how many commits it
// read.
func (p *producer) walk(ctx context.Context, from, stop []plumbing.Hash, startMissing func(h plumbing.Hash, reason string)) (found, walked int, err error) {
	w := newWalker(p.r.objs, p.r.shallow, p.r.match, func(h plumbing.Hash, reason string, start bool) {
		if start {
			_ = p.do(func() { startMissing(h, reason) })
			return
		}
		_ = p.skipMissing(h, reason) // an error is the context's: the walk sees it
	})
	w.coMatch = p.r.coAuthoredMine
	if len(stop) == 0 {
		// Nothing taken can turn out to be old: emit as the walk goes,
		// so that the diffs run alongside it.
		w.onMine = func(n *node) error {
			found++
			return p.emit(n)
		}
	}
	nodes, err := w.walk(ctx, from, stop)
	if err != nil {
		return found, w.walked, err
	}
	for _, n := range nodes {
		found++
		if err := p.emit(n); err != nil {
			return found, w.walked, err
		}
	}
	return found, w.walked, nil
}

// emit hands on a walked commit not handed on yet in this run.
func (p *producer) emit(n *node) error {
	if p.r.sent[n.hash] {
		return nil
	}
	co, cut := n.commit, false
	n.commit = nil
	if co == nil { // large: not kept by the walk
		var err error
		if co, _, cut, err = readCommit(p.r.objs, n.hash); err != nil {
			return p.skipMissing(n.hash, reasonFor(err, "read again to emit"))
		}
	}
	p.r.sent[n.hash] = true
	return p.send(&job{co: co, cut: cut})
}

// retry collects what the last run could not (its cursor old): the
// history behind commits that were missing or are no longer shallow, and
// the commits it emitted without stats. It returns how many commits it
// walked.
func (p *producer) retry(ctx context.Context, old cursorState, shallowNow map[string]bool) (walked int, err error) {
	var again []plumbing.Hash
	for _, sha := range old.Missing {
		again = append(again, plumbing.NewHash(sha))
	}
	wasShallow := map[plumbing.Hash]bool{}
	for _, sha := range old.Shallow {
		if !shallowNow[sha] {
			again = append(again, plumbing.NewHash(sha))
			wasShallow[plumbing.NewHash(sha)] = true
		}
	}
	if len(again) > 0 {
		r := p.r
		_, n, err := p.walk(ctx, again, nil, func(h plumbing.Hash, reason string) {
			if wasShallow[h] { // rewritten away since: nothing left to collect
				r.c.log.Info("git shallow boundary commit gone", "commit", h.String())
				return
			}
			r.skip("commit "+h.String(), reason)
			r.next.Missing = append(r.next.Missing, h.String())
		})
		if err != nil {
			return n, err
		}
		walked = n
	}
	return walked, p.retryStats(ctx, old.NoStats)
}

// retryStats emits again the commits of the last run that had no stats,
// when their stats can now be computed; the others stay in the cursor.
func (p *producer) retryStats(ctx context.Context, shas []string) error {
	for _, sha := range shas {
		if err := ctx.Err(); err != nil {
			return err
		}
		h := plumbing.NewHash(sha)
		if p.r.sent[h] {
			continue
		}
		co, _, cut, err := readCommit(p.r.objs, h)
		if errors.Is(err, errMissing) { // rewritten away since: nothing left to collect
			p.r.c.log.Info("git commit without stats gone", "commit", sha)
			continue
		}
		if err != nil {
			if err := p.skipMissing(h, reasonFor(err, "emitted without stats by the last run")); err != nil {
				return err
			}
			continue
		}
		if !p.r.match(co.Author.Name, co.Author.Email) && !p.r.coAuthoredMine(coAuthors([]byte(co.Message))) {
			continue
		}
		p.r.sent[h] = true
		if err := p.send(&job{co: co, cut: cut, onlyWithStats: true}); err != nil {
			return err
		}
	}
	return nil
}

// finish emits the item of a job whose stats are computed. A commit whose
// stats could not be computed is emitted without them and recorded in the
// cursor's NoStats list (unless it is on the shallow boundary, which the
// cursor's Shallow list covers); with onlyWithStats it is then not emitted
// again.
func (r *run) finish(ctx context.Context, j *job) error {
	co, stats, serr := j.co, j.stats, j.err
	missing := ""
	if serr != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		var me *missingError
		if errors.As(serr, &me) {
			missing = me.Reason
		} else {
			missing = serr.Error()
		}
		r.skip("stats of commit "+co.Hash.String(), missing)
		if !r.shallow[co.Hash] {
			r.next.NoStats = append(r.next.NoStats, co.Hash.String())
		}
		if j.onlyWithStats {
			return nil
		}
		stats = nil
	}
	enc := string(co.Encoding)
	name, email := r.mm.Map(co.Author.Name, co.Author.Email)
	ci := commitInfo{
		SHA:                 co.Hash.String(),
		AuthorName:          toUTF8(name, enc),
		AuthorEmail:         toUTF8(email, enc),
		OriginalAuthorName:  toUTF8(co.Author.Name, enc),
		OriginalAuthorEmail: toUTF8(co.Author.Email, enc),
		AuthorWhen:          co.Author.When,
		CommitWhen:          co.Committer.When,
		Message:             toUTF8(co.Message, enc),
		MessageCut:          j.cut,
	}
	for _, ca := range coAuthors([]byte(co.Message)) {
		n, e := r.mm.Map(ca.name, ca.email)
		ci.CoAuthors = append(ci.CoAuthors, toUTF8(n, enc)+" <"+toUTF8(e, enc)+">")
		if r.c.emails[strings.ToLower(e)] && !r.isMine(co.Author.Name, co.Author.Email) {
			ci.CoAuthored = true
		}
	}
	if len(co.ParentHashes) > 1 && serr == nil {
		if j.work == nil {
			j.work = &pieceOfWork{Incomplete: true}
		}
		ci.Work = j.work
		ci.Work.Branch = branchOf(ci.Message)
	}
	for _, p := range co.ParentHashes {
		ci.Parents = append(ci.Parents, p.String())
	}
	r.meta.CollectedAt = r.c.now().UTC()
	it, bad := itemFromCommit(ci, stats, missing, r.meta)
	for _, b := range bad {
		// The value itself is not shown: it may be a secret, and this
		// text is split before the pipeline can redact it.
		r.sink.Warn(fmt.Sprintf("commit %s: KSB trailer value #%d is not a KSB ID (%d characters, not shown); ignored",
			ci.SHA[:12], b.Index, b.Len))
	}
	if err := r.sink.Emit(ctx, collectors.Emission{Item: it}); err != nil {
		return err
	}
	r.nemitted++
	return nil
}

// openRepo opens the repository at dir, itself and not a parent folder,
// and returns it with its .git folder (for the diff
// workers' own storages). The caller calls done when finished with it.
func openRepo(dir string) (repo *git.Repository, dotgit billy.Filesystem, done func(), err error) {
	nop := func() {}
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, nop, fmt.Errorf("open repo %s: %w: no such folder", dir, collectors.ErrSourceMissing)
		}
		return nil, nil, nop, fmt.Errorf("open repo %s: %w", dir, err)
	}
	repo, err = git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: false, EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, nil, nop, fmt.Errorf("open repo %s: %w: not a git repository", dir, collectors.ErrSourceMissing)
	}
	if err != nil {
		return nil, nil, nop, fmt.Errorf("open repo %s: %v", dir, err)
	}
	// PlainOpen's storage reopens the packfile for every object read, which
	// dominates a long walk (4x on 50,000 commits); reopen the same .git
	// with descriptors kept.
	fsst, ok := repo.Storer.(*filesystem.Storage)
	if !ok { // PlainOpen always gives a filesystem storage
		return nil, nil, nop, fmt.Errorf("open repo %s: unexpected storage %T", dir, repo.Storer)
	}
	dotgit = fsst.Filesystem()
	st := newStorage(dotgit, gitCacheSize)
	var wtfs billy.Filesystem
	if wt, err := repo.Worktree(); err == nil {
		wtfs = wt.Filesystem
	}
	fast, err := git.Open(st, wtfs)
	if err != nil {
		_ = st.Close()
		return nil, nil, nop, fmt.Errorf("open repo %s: %v", dir, err)
	}
	return fast, dotgit, func() { _ = st.Close() }, nil
}

// newStorage opens the object storage of a .git folder with pack files
// kept open and an object cache of cacheSize bytes.
func newStorage(dotgit billy.Filesystem, cacheSize cache.FileSize) *filesystem.Storage {
	return filesystem.NewStorageWithOptions(dotgit, cache.NewObjectLRU(cacheSize),
		filesystem.Options{KeepDescriptors: true, LargeObjectThreshold: largeObjectThreshold})
}

// originURL is the first URL of the "origin" remote; "" when there is none.
func originURL(repo *git.Repository) string {
	rem, err := repo.Remote("origin")
	if err != nil || len(rem.Config().URLs) == 0 {
		return ""
	}
	return rem.Config().URLs[0]
}

// maxMailmapBytes: a larger .mailmap is not read (a warning says so).
const maxMailmapBytes = 1 << 20

// readMailmap returns the .mailmap to apply: the one committed in HEAD's
// tree, as git reads HEAD:.mailmap in a bare repository; none when HEAD is
// unborn or its tree has no .mailmap. The work tree's file is never read:
// it may be untracked or changed, and is no evidence of who wrote what.
func readMailmap(repo *git.Repository, objs objectSource) ([]byte, error) {
	b, err := readHeadFile(repo, objs, ".mailmap", maxMailmapBytes)
	if err != nil {
		return nil, fmt.Errorf("read HEAD:.mailmap: %w", err)
	}
	return b, nil
}

// readHeadFile reads a file of HEAD's tree; nil when HEAD is unborn or
// unreadable (the walk reports it) or the file is absent.
func readHeadFile(repo *git.Repository, objs objectSource, path string, limit int64) ([]byte, error) {
	head, err := repo.Head()
	if err != nil {
		return nil, nil // no commits yet
	}
	co, _, _, err := readCommit(objs, head.Hash())
	if err != nil {
		return nil, nil // reported by the walk
	}
	return readTreeFile(objs, co.TreeHash, path, limit)
}

// readMailmapFile reads mailmap_file: text of at most maxMailmapBytes.
func readMailmapFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMailmapBytes+1))
	switch {
	case err != nil:
		return nil, err
	case len(b) > maxMailmapBytes:
		return nil, fmt.Errorf("%s: over the %d byte limit", path, maxMailmapBytes)
	case bytes.IndexByte(b, 0) >= 0:
		return nil, fmt.Errorf("%s: not text (it holds a NUL byte)", path)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	return b, nil
}

func clip(s string, n int) string {
	if r, cut := textcap.Runes(s, n, textcap.BeforeWord); cut {
		return r
	}
	return s
}
