// Package demorepo generates the git repository of `ksbfolio demo`: a
// realistic, deterministic history of a machine-learning project. Tests and
// benchmarks use the same generator, so that they collect the kind of
// history a user sees in the demo; cmd/gitgen writes one from the shell.
//
// Build writes the whole history as one `git fast-import` stream and runs
// the git CLI once to import it, so 50,000 commits take seconds, not the
// minutes that one process per commit would. The same Options (including
// Seed) always give the same commits, with the same SHAs.
//
// The first of Options.Authors is the apprentice: trailers (`KSB: S10, K12`)
// go on their commits only, some of their commits spell their email in mixed
// case, and with Options.Mailmap their early commits use an old address that
// a committed .mailmap maps to the current one (see OldEmail).
//
// Every git command runs through Git, which shuts out the user's and the
// system's git configuration.
package demorepo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Author is one person committing to the generated repository. Weight is
// their relative share of the commits (0 counts as 1).
type Author struct {
	Name   string
	Email  string
	Weight int
}

// Options shapes a generated history.
type Options struct {
	// Commits is how many commits to make in all, merges included (> 0).
	Commits int
	// Authors commit in proportion to their weights; the first is the
	// apprentice. Empty: DefaultAuthors().
	Authors []Author
	// Start is the first commit's time (zero: 2025-01-06 09:00 UTC) and
	// Span the time from the first commit to the last (zero: 365 days).
	Start time.Time
	Span  time.Duration
	// Seed makes a different, equally deterministic history.
	Seed int64
	// TrailerEvery: every Nth commit by the apprentice carries a KSB
	// trailer in its last paragraph (0: none).
	TrailerEvery int
	// Branches is how many feature branches to fork from main; each gets a
	// few commits and is merged back with a merge commit, except that the
	// last of two or more is left open (unmerged), as real repositories
	// have. Branch refs are kept (refs/heads/feature/...).
	Branches int
	// Mailmap commits a .mailmap mapping OldEmail(apprentice) to the
	// apprentice's current identity; the apprentice's commits in the first
	// fifth of the history use the old address.
	Mailmap bool
	// Files adds this many files to the first commit, spread over the
	// modules of a larger code base (services/<module>/...), and makes
	// edits workplace-like: each author mostly edits the files of their
	// own two modules, sometimes the shared project files, now and then
	// any file. 0 keeps the small project and its uniform edits (the same
	// history as before Files existed).
	Files int
}

// ScaleAuthors is a workplace team of n people (n >= 2) in which the
// apprentice, the first, makes about share percent of the commits and the
// others share the rest evenly: ScaleAuthors(20, 2) is the benchmark's
// team of 20 with an apprentice at 2%.
func ScaleAuthors(n int, share float64) []Author {
	as := []Author{{Name: "Jane Doe", Email: "jane@corp.example"}}
	others := n - 1
	// apprentice w0, others 100 each: w0/(w0+100*others) = share/100
	w0 := int(share*100*float64(others)/(100-share) + 0.5)
	as[0].Weight = max(w0, 1)
	for i := 1; i < n; i++ {
		as = append(as, Author{Name: fmt.Sprintf("Colleague %02d", i),
			Email: fmt.Sprintf("colleague%02d@corp.example", i), Weight: 100})
	}
	return as
}

// Summary is what Build made.
type Summary struct {
	// Commits made in all, merges included.
	Commits int
	// ByEmail counts commits by author email exactly as written in the
	// commit (before any .mailmap).
	ByEmail map[string]int
	// Merges is how many of Commits are merge commits.
	Merges int
	// Head is the SHA of main's tip (what HEAD points at).
	Head string
	// Branch is the main branch's name ("main").
	Branch string
	// Apprentice counts the commits by the first author, under any
	// spelling of their email, old address included; ApprenticeMerges how
	// many of those are merges.
	Apprentice       int
	ApprenticeMerges int
	// Trailers counts commits that carry a KSB trailer.
	Trailers int
}

// DefaultAuthors is an apprentice and three colleagues; the apprentice
// makes about 40% of the commits.
func DefaultAuthors() []Author {
	return []Author{
		{Name: "Jane Doe", Email: "jane@corp.example", Weight: 4},
		{Name: "Sam Patel", Email: "sam.patel@corp.example", Weight: 3},
		{Name: "Alex Kim", Email: "alex@corp.example", Weight: 2},
		{Name: "CI Bot", Email: "ci-bot@corp.example", Weight: 1},
	}
}

// OldEmail is the former address Options.Mailmap gives the apprentice whose
// current address is email: "jane@corp.example" → "jane@legacy.corp.example".
func OldEmail(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok {
		return email + "@legacy.example"
	}
	return local + "@legacy." + domain
}

// MixedCase is the spelling of email that the apprentice uses on some
// commits: the first letter of each part upper-cased ("Jane@Corp.Example").
func MixedCase(email string) string {
	b := []byte(email)
	up := true
	for i, c := range b {
		if up && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		up = c == '@' || c == '.'
	}
	return string(b)
}

func (o Options) withDefaults() Options {
	if len(o.Authors) == 0 {
		o.Authors = DefaultAuthors()
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
	}
	if o.Span <= 0 {
		o.Span = 365 * 24 * time.Hour
	}
	return o
}

func (o Options) validate() error {
	var errs []error
	if o.Commits <= 0 {
		errs = append(errs, fmt.Errorf("commits %d: must be positive", o.Commits))
	}
	if o.TrailerEvery < 0 {
		errs = append(errs, fmt.Errorf("trailer every %d: must not be negative", o.TrailerEvery))
	}
	if o.Files < 0 {
		errs = append(errs, fmt.Errorf("files %d: must not be negative", o.Files))
	}
	if o.Branches < 0 {
		errs = append(errs, fmt.Errorf("branches %d: must not be negative", o.Branches))
	}
	for i, a := range o.Authors {
		if a.Name == "" || a.Email == "" || strings.ContainsAny(a.Name+a.Email, "<>\n") {
			errs = append(errs, fmt.Errorf("authors[%d] %q <%s>: needs a name and an email without <, > or newlines", i, a.Name, a.Email))
		}
		if a.Weight < 0 {
			errs = append(errs, fmt.Errorf("authors[%d] weight %d: must not be negative", i, a.Weight))
		}
	}
	return errors.Join(errs...)
}

// Build creates a git repository in dir (made if missing; it must not
// already hold a repository) with the history opts describes, on branch
// main, and checks main out so that the worktree holds its files. It runs
// `git init`, one `git fast-import` and `git reset --hard`.
func Build(ctx context.Context, dir string, opts Options) (Summary, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return Summary{}, fmt.Errorf("build git history in %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Summary{}, fmt.Errorf("build git history: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		return Summary{}, fmt.Errorf("build git history in %s: already a repository", dir)
	}
	if _, err := Git(ctx, dir, "init", "-q", "-b", "main"); err != nil {
		return Summary{}, err
	}
	// fast-import refuses nothing we write, but it must not see the
	// repository's hooks or a half-written stream: write in a goroutine
	// and report the first error of either side.
	pr, pw := io.Pipe()
	g := newGenerator(opts)
	genErr := make(chan error, 1)
	go func() {
		bw := bufio.NewWriterSize(pw, 1<<20)
		err := g.write(ctx, bw)
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
		genErr <- err
	}()
	// Level-1 zlib: a test repository wants speed more than size.
	_, importErr := GitEnv(ctx, dir, nil, pr, "-c", "pack.compression=1", "fast-import", "--quiet", "--done")
	pr.CloseWithError(errors.New("fast-import exited"))
	if err := <-genErr; err != nil && importErr == nil {
		return Summary{}, fmt.Errorf("write fast-import stream for %s: %w", dir, err)
	}
	if importErr != nil {
		return Summary{}, importErr
	}
	if _, err := Git(ctx, dir, "reset", "-q", "--hard"); err != nil {
		return Summary{}, err
	}
	head, err := Git(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		return Summary{}, err
	}
	s := g.sum
	s.Head = strings.TrimSpace(head)
	s.Branch = "main"
	return s, nil
}

// generator holds the state of the history being written.
type generator struct {
	opts    Options
	rng     *rand.Rand
	ln      *liner
	sum     Summary
	mark    int
	weights []int // cumulative
	// per-branch worktrees: main and the open feature branch
	main   map[string]*genFile
	branch map[string]*genFile
	fork   map[string]string // content of each file when the branch forked
	// the apprentice's commit count, for TrailerEvery
	appCount int
	expSeq   int
	// sorted paths of main and of the open branch, nil when stale
	mainPaths, branchPaths []string
	// with Options.Files: the shared project files and each module's files
	shared  []string
	modules [][]string
}

func newGenerator(opts Options) *generator {
	rng := rand.New(rand.NewPCG(uint64(opts.Seed), 0x6b736266))
	g := &generator{opts: opts, rng: rng, ln: &liner{rng: rng},
		sum: Summary{ByEmail: map[string]int{}}, main: map[string]*genFile{}}
	total := 0
	for _, a := range opts.Authors {
		w := a.Weight
		if w == 0 {
			w = 1
		}
		total += w
		g.weights = append(g.weights, total)
	}
	return g
}

func (g *generator) pickAuthor() int {
	n := g.rng.IntN(g.weights[len(g.weights)-1])
	return sort.SearchInts(g.weights, n+1)
}

// slot is one commit of the plan.
type slot int

const (
	onMain slot = iota
	onBranch
	mergeBranch
)

// plan lays out, for each of n commits, where it goes. Branch k opens at
// about k*n/branches, takes 2–8 commits interleaved with main's, and is
// merged back (all but the last of two or more, which stays open).
func (g *generator) plan() (slots []slot, opens []bool, names []string) {
	n := g.opts.Commits
	slots = make([]slot, n)
	opens = make([]bool, n)
	b := g.opts.Branches
	if b == 0 || n < 4 {
		return slots, opens, nil
	}
	if b > (n-1)/3 {
		b = (n - 1) / 3
	}
	for k := 0; k < b; k++ {
		start := 1 + k*(n-1)/b
		end := 1 + (k+1)*(n-1)/b // exclusive
		lastOpen := b > 1 && k == b-1
		length := 2 + g.rng.IntN(7)
		room := end - start
		if !lastOpen {
			room-- // the merge
		}
		if length > room {
			length = room
		}
		if length < 1 {
			continue
		}
		names = append(names, fmt.Sprintf("feature/%s-%d", strings.ReplaceAll(strings.ToLower(areaNames[g.rng.IntN(len(areaNames))]), " ", "-"), k+1))
		opens[start] = true
		i, done := start, 0
		for ; i < end && done < length; i++ {
			// the first commit opens the branch; later ones interleave
			if done > 0 && room-(i-start) > length-done && g.rng.IntN(10) < 4 {
				slots[i] = onMain
				continue
			}
			slots[i] = onBranch
			done++
		}
		if !lastOpen && i < end {
			slots[i] = mergeBranch
		}
	}
	return slots, opens, names
}

var areaNames = []string{"drift detection", "feature store", "hyperparameter search",
	"model card", "batch scoring", "latency alerts", "data validation", "canary deploy"}

func (g *generator) write(ctx context.Context, w *bufio.Writer) error {
	slots, opens, names := g.plan()
	n := g.opts.Commits
	step := g.opts.Span / time.Duration(max(n-1, 1))
	mainMark, branchMark, branchOwner := 0, 0, 0
	branchIdx := -1
	branchRef := ""
	for i := 0; i < n; i++ {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		when := g.opts.Start.Add(step * time.Duration(i))
		if step > 2*time.Second && i > 0 {
			when = when.Add(-time.Duration(g.rng.Int64N(int64(step / 2))))
		}
		if i == 0 {
			mainMark = g.initial(w, when)
			continue
		}
		if opens[i] {
			branchIdx++
			branchRef = "refs/heads/" + names[branchIdx]
			branchMark = mainMark
			branchOwner = g.pickAuthor()
			g.branch = cloneFiles(g.main)
			g.branchPaths = nil
			g.fork = map[string]string{}
			for p, f := range g.main {
				g.fork[p] = string(f.content())
			}
		}
		switch slots[i] {
		case onMain:
			mainMark = g.change(w, "refs/heads/main", g.main, &g.mainPaths, true, mainMark, g.pickAuthor(), i, when)
		case onBranch:
			a := branchOwner
			if g.rng.IntN(5) == 0 {
				a = g.pickAuthor()
			}
			branchMark = g.change(w, branchRef, g.branch, &g.branchPaths, false, branchMark, a, i, when)
		case mergeBranch:
			mainMark = g.merge(w, names[branchIdx], mainMark, branchMark, branchOwner, i, when)
		}
	}
	_, err := w.WriteString("done\n")
	return err
}

func cloneFiles(m map[string]*genFile) map[string]*genFile {
	c := make(map[string]*genFile, len(m))
	for p, f := range m {
		cp := *f
		cp.lines = append([]string(nil), f.lines...)
		c[p] = &cp
	}
	return c
}

// who returns the name and email the i-th commit by author a is written
// with: the apprentice's early commits use the old address under Mailmap,
// and some of theirs spell the email in mixed case.
func (g *generator) who(a int, i int) (string, string) {
	au := g.opts.Authors[a]
	if a != 0 {
		return au.Name, au.Email
	}
	switch {
	case g.opts.Mailmap && i < g.opts.Commits/5:
		return au.Name, OldEmail(au.Email)
	case g.rng.IntN(6) == 0:
		return au.Name, MixedCase(au.Email)
	}
	return au.Name, au.Email
}

func (g *generator) header(w *bufio.Writer, ref string, a, i int, when time.Time, msg string) {
	name, email := g.who(a, i)
	g.mark++
	g.sum.Commits++
	g.sum.ByEmail[email]++
	if a == 0 {
		g.sum.Apprentice++
	}
	zone := []string{"+0000", "+0100", "+0000", "-0500"}[g.rng.IntN(4)]
	authored := when
	if g.rng.IntN(8) == 0 { // rebased or amended later
		authored = when.Add(-time.Duration(1+g.rng.IntN(180)) * time.Minute)
	}
	fmt.Fprintf(w, "commit %s\nmark :%d\n", ref, g.mark)
	fmt.Fprintf(w, "author %s <%s> %d %s\n", name, email, authored.Unix(), zone)
	fmt.Fprintf(w, "committer %s <%s> %d %s\n", name, email, when.Unix(), zone)
	fmt.Fprintf(w, "data %d\n%s\n", len(msg), msg)
}

func (g *generator) initial(w *bufio.Writer, when time.Time) int {
	for _, s := range skeleton {
		f := &genFile{path: s.path, kind: s.kind, area: s.area}
		if s.kind == kindBinary {
			f.bin = g.ln.binary()
		} else {
			f.lines = g.ln.lines(s.kind, s.lines)
		}
		g.main[s.path] = f
		g.shared = append(g.shared, s.path)
	}
	g.addModules()
	msg := "Initial project skeleton\n\nTraining pipeline, tests, CI and deployment manifests.\n"
	g.header(w, "refs/heads/main", 0, 0, when, msg)
	paths := sortedPaths(g.main)
	for _, p := range paths {
		writeFile(w, p, g.main[p].content())
	}
	if g.opts.Mailmap {
		a := g.opts.Authors[0]
		mm := fmt.Sprintf("# Map old addresses to current identities\n%s <%s> <%s>\n", a.Name, a.Email, OldEmail(a.Email))
		if len(g.opts.Authors) > 1 {
			b := g.opts.Authors[1]
			mm += fmt.Sprintf("%s <%s> %s <%s>\n", b.Name, b.Email, strings.ToLower(b.Name), strings.ToUpper(b.Email))
		}
		writeFile(w, ".mailmap", []byte(mm))
	}
	w.WriteString("\n")
	return g.mark
}

func sortedPaths(m map[string]*genFile) []string {
	ps := make([]string, 0, len(m))
	for p := range m {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

func writeFile(w *bufio.Writer, path string, b []byte) {
	fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n", path, len(b))
	w.Write(b)
	w.WriteString("\n")
}

// change writes one ordinary commit on ref, editing files of tree; only
// with addRemove may it add or delete files (feature branches only edit, so
// that merging them back is simple).
func (g *generator) change(w *bufio.Writer, ref string, tree map[string]*genFile, cached *[]string, addRemove bool, parent, a, i int, when time.Time) int {
	if *cached == nil {
		*cached = sortedPaths(tree)
	}
	paths := *cached
	// 1–3 files, mostly in one area; now and then an experiment config is
	// added or removed.
	first := tree[g.pickPath(tree, paths, a)]
	touched := []*genFile{first}
	for k := g.rng.IntN(3); k > 0; k-- {
		f := tree[g.pickPath(tree, paths, a)]
		if f.area == first.area || g.rng.IntN(3) == 0 {
			touched = append(touched, f)
		}
	}
	var added, deleted []string
	switch r := g.rng.IntN(40); {
	case !addRemove:
	case r == 0:
		g.expSeq++
		p := fmt.Sprintf("configs/experiments/exp_%04d.yaml", g.expSeq)
		f := &genFile{path: p, kind: kindYAML, area: "train", lines: g.ln.lines(kindYAML, 5+g.rng.IntN(20))}
		tree[p] = f
		added = append(added, p)
		*cached = nil
	case r == 1:
		for _, p := range paths {
			if strings.HasPrefix(p, "configs/experiments/") {
				delete(tree, p)
				deleted = append(deleted, p)
				*cached = nil
				break
			}
		}
	}
	seen := map[*genFile]bool{}
	var edited []*genFile
	for _, f := range touched {
		if seen[f] {
			continue
		}
		seen[f] = true
		g.ln.edit(f)
		edited = append(edited, f)
	}
	area := first.area
	if len(added) > 0 {
		area = "train"
	}
	msg := g.message(area, a)
	g.header(w, ref, a, i, when, msg)
	fmt.Fprintf(w, "from :%d\n", parent)
	for _, f := range edited {
		if _, still := tree[f.path]; still {
			writeFile(w, f.path, f.content())
		}
	}
	for _, p := range added {
		writeFile(w, p, tree[p].content())
	}
	for _, p := range deleted {
		fmt.Fprintf(w, "D %s\n", p)
	}
	w.WriteString("\n")
	return g.mark
}

// message makes a commit message for a change in area by author a.
func (g *generator) message(area string, a int) string {
	ms := messages[area]
	msg := ms[g.rng.IntN(len(ms))]
	var paras []string
	if g.rng.IntN(3) == 0 {
		n := 1 + g.rng.IntN(3)
		var body []string
		for _, k := range g.rng.Perm(len(bodies))[:n] {
			body = append(body, bodies[k])
		}
		paras = append(paras, strings.Join(body, "\n"))
	}
	if a == 0 {
		g.appCount++
		if g.opts.TrailerEvery > 0 && g.appCount%g.opts.TrailerEvery == 0 {
			trailer := g.ln.trailer(area)
			if g.rng.IntN(4) == 0 {
				trailer += "\nCo-authored-by: " + g.opts.Authors[len(g.opts.Authors)-1].Name + " <" + g.opts.Authors[len(g.opts.Authors)-1].Email + ">"
			}
			paras = append(paras, trailer)
			g.sum.Trailers++
		}
	}
	if len(paras) == 0 {
		return msg + "\n"
	}
	return msg + "\n\n" + strings.Join(paras, "\n\n") + "\n"
}

// merge writes a merge commit of branch into main: main's tree with every
// file the branch changed since it forked taken from the branch.
func (g *generator) merge(w *bufio.Writer, name string, mainMark, branchMark, a, i int, when time.Time) int {
	var changed []string
	for _, p := range sortedPaths(g.branch) {
		bf := g.branch[p]
		bc := string(bf.content())
		if g.fork[p] == bc {
			continue // the branch did not change it
		}
		if mf, ok := g.main[p]; ok && string(mf.content()) == bc {
			continue
		}
		cp := *bf
		cp.lines = append([]string(nil), bf.lines...)
		if _, had := g.main[p]; !had {
			g.mainPaths = nil
		}
		g.main[p] = &cp
		changed = append(changed, p)
	}
	msg := fmt.Sprintf("Merge branch '%s'\n", name)
	if a == 0 {
		g.appCount++
		if g.opts.TrailerEvery > 0 && g.appCount%g.opts.TrailerEvery == 0 {
			msg += "\n" + g.ln.trailer("deploy") + "\n"
			g.sum.Trailers++
		}
		g.sum.ApprenticeMerges++
	}
	g.header(w, "refs/heads/main", a, i, when, msg)
	g.sum.Merges++
	fmt.Fprintf(w, "from :%d\nmerge :%d\n", mainMark, branchMark)
	for _, p := range changed {
		writeFile(w, p, g.main[p].content())
	}
	w.WriteString("\n")
	return g.mark
}

// moduleSize is how many files one module of Options.Files holds.
const moduleSize = 60

// moduleLayout is the files of one module: path under the module, kind,
// area, starting lines; repeated (numbered) to fill the module.
var moduleLayout = []struct {
	path  string
	kind  fileKind
	area  string
	lines int
}{
	{"src/%s/train_%d.py", kindPython, "train", 40},
	{"src/%s/features_%d.py", kindPython, "features", 35},
	{"src/%s/pipeline_%d.py", kindPython, "data", 30},
	{"src/%s/serve_%d.py", kindPython, "serve", 25},
	{"tests/test_%s_%d.py", kindPython, "tests", 20},
	{"configs/%s_%d.yaml", kindYAML, "train", 12},
	{"deploy/%s-%d.yaml", kindYAML, "deploy", 15},
	{"docs/%s_%d.md", kindMarkdown, "docs", 16},
	{"monitoring/%s_%d.yaml", kindYAML, "monitoring", 12},
	{"notebooks/%s_%d.ipynb", kindNotebook, "notebook", 24},
}

// addModules adds Options.Files files in modules of moduleSize files.
func (g *generator) addModules() {
	for n := 0; n < g.opts.Files; n++ {
		m := n / moduleSize
		if m == len(g.modules) {
			g.modules = append(g.modules, nil)
		}
		l := moduleLayout[n%len(moduleLayout)]
		name := fmt.Sprintf("%s_%d", strings.ReplaceAll(words[m%len(words)], " ", "_"), m)
		p := fmt.Sprintf("services/%s/", name) + fmt.Sprintf(l.path, words[(n/len(moduleLayout))%len(words)], n)
		f := &genFile{path: p, kind: l.kind, area: l.area, lines: g.ln.lines(l.kind, l.lines/2+g.rng.IntN(l.lines))}
		g.main[p] = f
		g.modules[m] = append(g.modules[m], p)
	}
}

// pickPath picks the path of a file of tree for author a to edit: any
// file uniformly without Options.Files; with it, mostly one of the
// author's module's files, sometimes a shared project file, now and then
// any file.
func (g *generator) pickPath(tree map[string]*genFile, paths []string, a int) string {
	if len(g.modules) == 0 {
		return paths[g.rng.IntN(len(paths))]
	}
	var p string
	switch r := g.rng.IntN(10); {
	case r < 6:
		// two modules per author, so that colleagues' work overlaps
		m := g.modules[(a*2+g.rng.IntN(2))%len(g.modules)]
		p = m[g.rng.IntN(len(m))]
	case r < 8:
		p = g.shared[g.rng.IntN(len(g.shared))]
	default:
		p = paths[g.rng.IntN(len(paths))]
	}
	if _, ok := tree[p]; !ok {
		return paths[g.rng.IntN(len(paths))]
	}
	return p
}
