// Package demo builds the sample workspace of `ksbfolio demo`: a realistic
// git repository of an ML project (months of history, several authors,
// KSB trailers on some of the apprentice's commits, an old address mapped
// by .mailmap, and one commit that leaked a credential, as happens) and a
// ksbfolio.yaml that collects it into a local store, with a source of every
// type that runs without a cloud account: an MLflow file store whose runs
// name the repository's commits (a grid search among them), TensorBoard
// event files, a Weights & Biases offline run, deployment and TorchServe
// logs (one failed deployment; fake secrets and customer details planted,
// which the pipeline masks) and saved Prometheus query_range results.
package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// Apprentice is the demo apprentice.
var Apprentice = demorepo.Author{Name: "Jane Doe", Email: "jane@corp.example", Weight: 4}

// Options shape the demo workspace.
type Options struct {
	Commits int       // total commits in the repository (default 1500)
	Start   time.Time // first commit (default 14 months before End)
	End     time.Time // last commit (default: a fixed date, so demos are reproducible)
}

// Result says what Build made.
type Result struct {
	Dir        string
	ConfigPath string
	RepoPath   string
	Repo       demorepo.Summary
	Runs       int // MLflow runs in mlruns/
}

// LeakedKey is the fake AWS key pair planted in one demo commit message;
// it must never reach the store.
const (
	LeakedKeyID     = "AKIAQWERTYUIOPASDFGH"
	LeakedKeySecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// ErrNotEmpty: the demo folder exists and holds something.
var ErrNotEmpty = errors.New("demo folder is not empty")

// IncompleteMarker is the file Build leaves in a workspace until Finish
// removes it: a folder holding it is a demo whose first run did not end
// (interrupted, killed), which the next Build replaces.
const IncompleteMarker = ".ksbfolio-demo-incomplete"

// Build creates the workspace in dir, which must not exist, be empty, or
// be a demo workspace whose run never finished (it holds IncompleteMarker;
// it is removed and built again). The workspace is built in a temporary
// folder beside dir and renamed into place once complete, so an
// interrupted Build leaves no half-built dir (the temporary folder is
// removed, unless the process is killed). The caller runs the pipeline on
// it, then calls Finish, or Discard if the run failed.
func Build(ctx context.Context, dir string, o Options) (res Result, err error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if o.Commits <= 0 {
		o.Commits = 1500
	}
	if o.End.IsZero() {
		o.End = time.Date(2026, 10, 30, 17, 0, 0, 0, time.UTC)
	}
	if o.Start.IsZero() {
		o.Start = o.End.AddDate(0, -14, 0)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Result{}, fmt.Errorf("demo: %w", err)
	}
	if ents, err := os.ReadDir(abs); err == nil && len(ents) > 0 {
		if _, err := os.Lstat(filepath.Join(abs, IncompleteMarker)); err != nil {
			return Result{}, fmt.Errorf("%w: %s exists; remove it or name another folder (ksbfolio demo DIR)", ErrNotEmpty, dir)
		}
		if err := os.RemoveAll(abs); err != nil {
			return Result{}, fmt.Errorf("demo: remove the unfinished demo: %w", err)
		}
	}
	tmp, err := os.MkdirTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".building-")
	if err != nil {
		return Result{}, fmt.Errorf("demo: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := os.WriteFile(filepath.Join(tmp, IncompleteMarker), []byte("a ksbfolio demo whose first run has not finished; `ksbfolio demo` replaces it\n"), 0o644); err != nil {
		return Result{}, fmt.Errorf("demo: %w", err)
	}
	repo := filepath.Join(tmp, "fraud-model")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		return Result{}, fmt.Errorf("demo: %w", err) // a *fs.PathError names the path
	}
	authors := []demorepo.Author{Apprentice,
		{Name: "Sam Patel", Email: "sam.patel@corp.example", Weight: 3},
		{Name: "Alex Kim", Email: "alex@corp.example", Weight: 2},
		{Name: "CI Bot", Email: "ci-bot@corp.example", Weight: 1},
	}
	sum, err := demorepo.Build(ctx, repo, demorepo.Options{
		Commits: o.Commits, Authors: authors, Start: o.Start, Span: o.End.Sub(o.Start),
		Seed: 1398, TrailerEvery: 12, Branches: 12, Mailmap: true,
	})
	if err != nil {
		return Result{}, fmt.Errorf("build demo repository: %w", err)
	}
	// One realistic mistake: credentials pasted into a commit message.
	when := o.End.Add(time.Hour).Format(time.RFC3339)
	msg := "Fix S3 access for the feature store export\n\n" +
		"The export job failed with AccessDenied; tested locally with\n" +
		"AWS_ACCESS_KEY_ID=" + LeakedKeyID + "\n" +
		"AWS_SECRET_ACCESS_KEY=" + LeakedKeySecret + "\n" +
		"(rotated since).\n\nKSB: S8\n"
	env := []string{"GIT_AUTHOR_NAME=" + Apprentice.Name, "GIT_AUTHOR_EMAIL=" + Apprentice.Email, "GIT_AUTHOR_DATE=" + when,
		"GIT_COMMITTER_NAME=" + Apprentice.Name, "GIT_COMMITTER_EMAIL=" + Apprentice.Email, "GIT_COMMITTER_DATE=" + when}
	if _, err := demorepo.GitEnv(ctx, repo, env, strings.NewReader(msg), "commit", "--allow-empty", "-q", "-F", "-"); err != nil {
		return Result{}, fmt.Errorf("demo commit: %w", err)
	}
	sum.Commits++
	sum.Apprentice++
	runIDs, err := sampleData(ctx, tmp, repo, o)
	if err != nil {
		return Result{}, fmt.Errorf("build demo data: %w", err)
	}

	if err := os.WriteFile(filepath.Join(tmp, "ksbfolio.yaml"), []byte(configYAML(o)), 0o644); err != nil {
		return Result{}, fmt.Errorf("demo: %w", err)
	}
	// An empty dir is replaced; anything else appeared since the check.
	_ = os.Remove(abs)
	if err := os.Rename(tmp, abs); err != nil {
		return Result{}, fmt.Errorf("demo: move the workspace into place: %w", err)
	}
	return Result{Dir: abs, ConfigPath: filepath.Join(abs, "ksbfolio.yaml"), RepoPath: filepath.Join(abs, "fraud-model"), Repo: sum, Runs: len(runIDs)}, nil
}

// Finish marks the workspace built by Build as complete: a later Build
// into the same folder refuses it instead of replacing it.
func Finish(r Result) error {
	if err := os.Remove(filepath.Join(r.Dir, IncompleteMarker)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// Discard removes the workspace built by Build, after its run failed or
// was interrupted.
func Discard(r Result) error {
	if _, err := os.Lstat(filepath.Join(r.Dir, IncompleteMarker)); err != nil {
		return nil // finished, or not a demo: never removed
	}
	if err := os.RemoveAll(r.Dir); err != nil {
		return fmt.Errorf("demo: remove the unfinished demo: %w", err)
	}
	return nil
}

func configYAML(o Options) string {
	return fmt.Sprintf(`# ksbfolio demo workspace, written by `+"`ksbfolio demo`"+`.
# Jane Doe is an ML engineer apprentice; fraud-model/ is her team's repository.
apprentice:
  id: jdoe
  name: %s
  emails: [%s]
  employer: Corp Ltd
  start: %s
  gateway: %s
standard: st1398-v1.0
store: ./.ksbfolio
sources:
  - name: fraud-model
    type: git
    path: ./fraud-model
  - name: tracking
    type: mlflow
    uri: file:./mlruns
  - name: lstm-experiments
    type: tensorboard
    path: ./tb_logs
  - name: deploy-logs
    type: logs
    paths: [./logs/deployment.log, ./logs/torchserve]
  - name: serving-metrics
    type: prometheus
    files: ["monitoring/*.json"]
  - name: notebooks
    type: wandb
    path: ./notebooks
redact:
  patterns:
    - name: corp-hosts
      regex: '\b[a-z0-9-]+\.internal\.corp\.example\b'
`, Apprentice.Name, Apprentice.Email, o.Start.Format("2006-01-02"), o.Start.AddDate(2, 0, 0).Format("2006-01-02"))
}
