package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/internal/termsafe"
	"github.com/ksbfolio/ksbfolio/internal/yamlstrict"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

func newInitCommand(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init [--force]",
		Short: "Write a commented ksbfolio.yaml for the current folder",
		Long: `init writes a commented ksbfolio.yaml (or the --config path) for the current
folder. It detects the git repository it is run in (this folder or a
parent), takes the apprentice's email and name from git's user.email and
user.name (the global ones outside a repository), offers as comments the
other addresses the history has under that name, and notes the MLflow
stores (mlruns/) and TensorBoard logs it finds, for sources to add. Every local
branch of the repository is read. It writes only the config file, and says
so when that file is inside a git work tree, with the .gitignore lines that
keep the config and the store (created by the first run) out of commits. It
never overwrites an existing file unless --force.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(g.configPath); err == nil && !force {
				return usageErrorf("%s exists; use --force to overwrite it", g.configPath)
			}
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			d := detect(g.ctx, wd, absPath(g.configPath))
			out := config.Template(d.TemplateData)
			if _, err := config.Parse(g.configPath, out, filepath.Dir(absPath(g.configPath)), registry.Default()); err != nil && !onlyEmailsMissing(err, d) {
				return fmt.Errorf("the config init would write does not load (a bug): %w", err)
			}
			if err := os.WriteFile(g.configPath, out, 0o644); err != nil {
				return fmt.Errorf("init: %w", err) // a *fs.PathError names the path
			}
			printInit(g, d)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing config")
	return cmd
}

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// initFound is what init found out, for the template and for its message.
type initFound struct {
	config.TemplateData
	RepoRoot    string // the git work tree holding the folder, or ""
	GlobalEmail bool   // the email came from git's global config (no repository here)
	// Ignore lists the .gitignore lines (relative to RepoRoot) that would
	// keep the config and the store out of commits; empty when they are
	// already ignored or outside the work tree.
	Ignore []string
}

// printInit says what init wrote and found, and what it did not do.
func printInit(g *globals, d initFound) {
	q := termsafe.String
	w := g.stdout
	fmt.Fprintf(w, "wrote %s for apprentice %q", q(g.configPath), q(d.ApprenticeID))
	if len(d.Emails) > 0 {
		fmt.Fprintf(w, " <%s>", q(strings.Join(d.Emails, ", ")))
	}
	fmt.Fprintln(w)
	switch {
	case len(d.Emails) == 0:
		fmt.Fprintln(w, "  git config user.email is not set: add your commit address under apprentice.emails before running")
	case d.GlobalEmail:
		fmt.Fprintln(w, "  the address is your global git user.email")
	}
	if len(d.OtherEmails) > 0 {
		fmt.Fprintf(w, "  the history has other addresses under the name %s, offered (commented out) in the config; uncomment the ones that are yours:\n", q(d.Name))
		for _, o := range d.OtherEmails {
			fmt.Fprintf(w, "    %s (%s)\n", q(o.Email), termsafe.Plural(o.Commits, "commit", "commits"))
		}
	}
	for _, r := range d.Repos {
		fmt.Fprintf(w, "  git source %s: %s (every local branch is read)\n", q(r.Name), q(r.Path))
	}
	if d.RepoRoot == "" {
		fmt.Fprintln(w, "  this folder is not in a git repository (none here or in a parent folder): add sources to the config by hand")
	}
	if d.RepoRoot != "" {
		fmt.Fprintf(w, "  %s is inside the git work tree %s (nothing was added to git; `ksbfolio run` will create the store %s there)\n",
			q(g.configPath), q(d.RepoRoot), config.DefaultStore)
		if len(d.Ignore) > 0 {
			fmt.Fprintf(w, "  to keep them out of commits, add to %s:\n", q(filepath.Join(d.RepoRoot, ".gitignore")))
			for _, l := range d.Ignore {
				fmt.Fprintf(w, "    %s\n", q(l))
			}
		}
	}
	fmt.Fprintln(w, "check it, then run: ksbfolio run && ksbfolio coverage")
}

// onlyEmailsMissing: with no address found, the config init writes lacks
// only apprentice.emails, on purpose (the message says to add one).
func onlyEmailsMissing(err error, d initFound) bool {
	var ce *yamlstrict.Error
	if len(d.Emails) > 0 || !errors.As(err, &ce) {
		return false
	}
	for _, p := range ce.Problems {
		if p.Path != "apprentice.emails" {
			return false
		}
	}
	return true
}

// detect looks at the folder init runs in: the git repository holding it
// (walking up), git's user.name and user.email (the global ones when there
// is no repository), other addresses under that name in history, and
// MLflow / TensorBoard data below it.
func detect(ctx context.Context, wd, cfgPath string) initFound {
	var d initFound
	configDir := filepath.Dir(cfgPath)
	if root, ok := findGitRoot(wd); ok {
		d.RepoRoot = root
		rel, err := filepath.Rel(configDir, root)
		if err != nil {
			rel = root
		}
		if rel != "." && !strings.HasPrefix(rel, "..") {
			rel = "./" + rel
		}
		d.Repos = append(d.Repos, config.Repo{Name: slugify(filepath.Base(root)), Path: rel})
		d.Name = gitConfig(ctx, root, "user.name")
		if e := gitConfig(ctx, root, "user.email"); e != "" {
			d.Emails = []string{strings.ToLower(e)}
		}
		d.OtherEmails = otherEmails(ctx, root, d.Name, d.Emails)
		d.Ignore = ignoreLines(ctx, root, cfgPath, filepath.Join(configDir, filepath.FromSlash(config.DefaultStore)))
	} else {
		d.Name = gitConfig(ctx, wd, "user.name")
		if e := gitConfig(ctx, wd, "user.email"); e != "" {
			d.Emails = []string{strings.ToLower(e)}
			d.GlobalEmail = true
		}
	}
	switch {
	case len(d.Emails) > 0:
		d.ApprenticeID = slugify(strings.SplitN(d.Emails[0], "@", 2)[0])
	case d.Name != "":
		d.ApprenticeID = slugify(d.Name)
	}
	if d.ApprenticeID == "" {
		d.ApprenticeID = "apprentice"
	}
	d.Found = findOtherSources(wd)
	return d
}

// maxOtherEmails bounds the other addresses init offers.
const maxOtherEmails = 10

// otherEmails lists the addresses, other than emails, that commits on the
// repository's local branches carry under the author name (case-insensitive,
// after .mailmap), most used first.
func otherEmails(ctx context.Context, root, name string, emails []string) []config.OtherEmail {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "log", "--branches", "--format=%aN%x00%aE")
	cmd.Dir = root
	out, err := cmd.StdoutPipe()
	if err != nil || cmd.Start() != nil {
		return nil
	}
	counts := map[string]int{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		n, e, ok := strings.Cut(sc.Text(), "\x00")
		e = strings.ToLower(strings.TrimSpace(e))
		if !ok || e == "" || !strings.EqualFold(strings.TrimSpace(n), name) || slices.Contains(emails, e) {
			continue
		}
		if _, seen := counts[e]; seen || len(counts) < 1000 {
			counts[e]++
		}
	}
	_ = cmd.Wait()
	var found []config.OtherEmail
	for e, n := range counts {
		found = append(found, config.OtherEmail{Email: e, Commits: n})
	}
	slices.SortFunc(found, func(a, b config.OtherEmail) int {
		if a.Commits != b.Commits {
			return b.Commits - a.Commits
		}
		return strings.Compare(a.Email, b.Email)
	})
	if len(found) > maxOtherEmails {
		found = found[:maxOtherEmails]
	}
	return found
}

// ignoreLines returns the .gitignore lines, relative to the work tree
// root, that would keep the config file and the store folder out of
// commits: none for a path outside the work tree or already ignored.
func ignoreLines(ctx context.Context, root, cfgPath, storeDir string) []string {
	var lines []string
	for _, p := range []struct {
		path, probe, suffix string
	}{{cfgPath, cfgPath, ""}, {storeDir, filepath.Join(storeDir, "lock"), "/"}} {
		rel, err := filepath.Rel(root, p.path)
		if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
			continue
		}
		if gitIgnored(ctx, root, p.probe) {
			continue
		}
		lines = append(lines, "/"+filepath.ToSlash(rel)+p.suffix)
	}
	return lines
}

// gitIgnored reports whether git ignores path (which need not exist).
func gitIgnored(ctx context.Context, root, path string) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "check-ignore", "-q", "--", path)
	cmd.Dir = root
	return cmd.Run() == nil
}

func findGitRoot(dir string) (string, bool) {
	for {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// gitConfig asks the git CLI for a config value (repository, then global);
// "" when git is not installed or the value is not set.
func gitConfig(ctx context.Context, dir, key string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "config", "--get", key)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

var nonSlug = regexp.MustCompile(`[^a-z0-9._-]+`)

func slugify(s string) string {
	s = nonSlug.ReplaceAllString(strings.ToLower(strings.TrimSpace(s)), "-")
	s = strings.Trim(s, "-._")
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// findOtherSources notes MLflow stores and TensorBoard logs up to three
// levels below dir, for the config's comments.
func findOtherSources(dir string) []string {
	var found []string
	seen := map[string]bool{}
	_ = filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		if de.IsDir() {
			if strings.Count(rel, string(filepath.Separator)) >= 3 || de.Name() == ".git" || de.Name() == "node_modules" || de.Name() == ".ksbfolio" {
				return filepath.SkipDir
			}
			if de.Name() == "mlruns" {
				found = append(found, "./"+rel+" (an MLflow store: a source of type mlflow collects it)")
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(de.Name(), "events.out.tfevents.") {
			top := strings.SplitN(rel, string(filepath.Separator), 2)[0]
			if !seen[top] {
				seen[top] = true
				found = append(found, "./"+top+" (TensorBoard logs: a source of type tensorboard collects them)")
			}
		}
		if len(found) > 20 {
			return errors.New("enough")
		}
		return nil
	})
	return found
}
