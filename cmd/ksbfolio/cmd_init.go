package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

func newInitCommand(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init [--force]",
		Short: "Write a commented ksbfolio.yaml for the current folder",
		Long: `init writes a commented ksbfolio.yaml (or the --config path) for the current
folder. It detects the git repository it is run in and takes the
apprentice's email and name from git's user.email and user.name, and notes
MLflow (mlruns/) and TensorBoard logs it finds for later versions. It never
overwrites an existing file unless --force.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(g.configPath); err == nil && !force {
				return usageErrorf("%s exists; use --force to overwrite it", g.configPath)
			}
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			d := detect(g.ctx, wd, filepath.Dir(absPath(g.configPath)))
			out := config.Template(d)
			if _, err := config.Parse(g.configPath, out, filepath.Dir(absPath(g.configPath))); err != nil {
				return fmt.Errorf("the config init would write does not load (a bug): %w", err)
			}
			if err := os.WriteFile(g.configPath, out, 0o644); err != nil {
				return fmt.Errorf("init: %w", err) // a *fs.PathError names the path
			}
			fmt.Fprintf(g.stdout, "wrote %s for apprentice %q", g.configPath, d.ApprenticeID)
			if len(d.Emails) > 0 {
				fmt.Fprintf(g.stdout, " <%s>", strings.Join(d.Emails, ", "))
			}
			fmt.Fprintln(g.stdout)
			for _, r := range d.Repos {
				fmt.Fprintf(g.stdout, "  git source %s: %s\n", r.Name, r.Path)
			}
			if len(d.Repos) == 0 {
				fmt.Fprintln(g.stdout, "  no git repository found here: add sources to the config by hand")
			}
			fmt.Fprintln(g.stdout, "check it, then run: ksbfolio run && ksbfolio coverage")
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

// detect looks at the folder init runs in: the git repository holding it
// (walking up), git's user.name and user.email, and MLflow / TensorBoard
// data below it.
func detect(ctx context.Context, wd, configDir string) config.TemplateData {
	d := config.TemplateData{}
	if root, ok := findGitRoot(wd); ok {
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
				found = append(found, "./"+rel+" (an MLflow store: collected by a later version)")
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(de.Name(), "events.out.tfevents.") {
			top := strings.SplitN(rel, string(filepath.Separator), 2)[0]
			if !seen[top] {
				seen[top] = true
				found = append(found, "./"+top+" (TensorBoard logs: collected by a later version)")
			}
		}
		if len(found) > 20 {
			return errors.New("enough")
		}
		return nil
	})
	return found
}
