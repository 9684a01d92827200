package gitlog

import (
	"context"
	"regexp"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
)

// Bounds of a piece of work: how many commits a merge's walk reads, and
// how many of the apprentice's commits in it are diffed and listed.
const (
	maxWorkWalk    = 5000
	maxWorkCommits = 200
)

// pieceOfWork is what a merge brings in: the commits reachable from its
// other parents and not from its first, split into the apprentice's and
// everyone else's. Files are the apprentice's own changes only, summed
// over their commits, so that a merge never credits them with what others
// wrote.
type pieceOfWork struct {
	Branch     string
	Mine       []string // the apprentice's commits, newest first
	ByOthers   int      // commits by others
	Files      []fileStat
	Incomplete bool // the walk or a diff stopped short (bounds, missing objects)
}

// branchPatterns read the branch a merge message names.
var branchPatterns = []*regexp.Regexp{
	regexp.MustCompile(`^Merge pull request #\d+ from [^/\s]+/(\S+)`),              // GitHub
	regexp.MustCompile(`^Merge pull request '.*' \(#\d+\) from (\S+) into `),       // Gitea
	regexp.MustCompile(`^Merge (?:remote-tracking )?branch '(?:origin/)?([^']+)'`), // git, GitLab
	regexp.MustCompile(`^Merged in (\S+)`),                                         // Bitbucket
	regexp.MustCompile(`^Merge (?:branch )?(\S+) into \S+`),
}

// branchOf is the branch a merge message names ("" when none).
func branchOf(msg string) string {
	first := msg
	for i := 0; i < len(msg); i++ {
		if msg[i] == '\n' {
			first = msg[:i]
			break
		}
	}
	for _, re := range branchPatterns {
		if m := re.FindStringSubmatch(first); m != nil {
			return m[1]
		}
	}
	return ""
}

// work finds the piece of work of a merge with these parents. mine tells
// the apprentice's commits (author as written, .mailmap applied by it).
func (d *differ) work(ctx context.Context, parents []plumbing.Hash, mine func(name, email string) bool) (*pieceOfWork, error) {
	pw := &pieceOfWork{}
	if len(parents) < 2 {
		return pw, nil
	}
	w := newWalker(d.objs, nil, mine, func(plumbing.Hash, string, bool) { pw.Incomplete = true })
	w.keepAll = true
	w.limit = maxWorkWalk
	nodes, err := w.walk(ctx, parents[1:], parents[:1])
	if err != nil {
		return nil, err
	}
	if w.limited {
		pw.Incomplete = true
	}
	byPath := map[string]*fileStat{}
	var order []string
	for _, n := range nodes {
		if !n.mine {
			pw.ByOthers++
			continue
		}
		if len(pw.Mine) == maxWorkCommits {
			pw.Incomplete = true
			continue
		}
		pw.Mine = append(pw.Mine, n.hash.String())
		stats, err := d.statsOf(ctx, n.tree, n.parents)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			pw.Incomplete = true
			continue
		}
		for _, f := range stats {
			s := byPath[f.Path]
			if s == nil {
				s = &fileStat{Path: f.Path}
				byPath[f.Path] = s
				order = append(order, f.Path)
			}
			s.Insertions += f.Insertions
			s.Deletions += f.Deletions
			s.Binary = s.Binary || f.Binary
			s.TooLarge = s.TooLarge || f.TooLarge
			s.DocWords += f.DocWords
			s.Classes = append(s.Classes, f.Classes...)
		}
	}
	slices.Sort(order)
	for _, p := range order {
		s := byPath[p]
		slices.Sort(s.Classes)
		s.Classes = slices.Compact(s.Classes)
		pw.Files = append(pw.Files, *s)
	}
	return pw, nil
}
