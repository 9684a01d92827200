package main

// End-to-end tests of the CLI, in process: real git repositories built
// with the git CLI, the folder store, and a real S3 server (versitygw)
// started on loopback.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
	"github.com/ksbfolio/ksbfolio/pipeline/demo"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

type result struct {
	stdout, stderr string
	code           int
}

func cli(t *testing.T, args ...string) result {
	t.Helper()
	return cliCtx(t, context.Background(), args...)
}

func cliCtx(t *testing.T, ctx context.Context, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(ctx, append([]string{"--no-progress"}, args...), &out, &errb)
	return result{out.String(), errb.String(), code}
}

func requireGit(t *testing.T) {
	t.Helper()
	if _, err := demorepo.Git(context.Background(), t.TempDir(), "--version"); err != nil {
		storetest.RequireOrSkip(t, "git", "apt-get install git")
	}
}

// workspace builds a repository of n commits and a config collecting it
// into storeSpec ("" = the default folder store).
func gitWorkspace(t *testing.T, n int, storeSpec string) (dir, cfg string, sum demorepo.Summary) {
	t.Helper()
	requireGit(t)
	dir = t.TempDir()
	repo := filepath.Join(dir, "model-repo")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	sum, err := demorepo.Build(context.Background(), repo, demorepo.Options{Commits: n, TrailerEvery: 5, Branches: 3, Mailmap: true, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	cfg = filepath.Join(dir, "ksbfolio.yaml")
	store := ""
	if storeSpec != "" {
		store = "store: " + storeSpec + "\n"
	}
	writeFile(t, cfg, fmt.Sprintf(`apprentice:
  id: jane
  name: Jane Doe
  emails: [%s]
standard: st1398-v1.0
%ssources:
  - name: model-repo
    type: git
    path: ./model-repo
`, demorepo.DefaultAuthors()[0].Email, store))
	return dir, cfg, sum
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustCode(t *testing.T, r result, want int) {
	t.Helper()
	if r.code != want {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, want, r.stdout, r.stderr)
	}
}

func itemsJSON(t *testing.T, cfg string) []evidence.Item {
	t.Helper()
	r := cli(t, "-c", cfg, "items", "--json")
	mustCode(t, r, 0)
	var items []evidence.Item
	if err := json.Unmarshal([]byte(r.stdout), &items); err != nil {
		t.Fatalf("items --json: %v\n%s", err, r.stdout)
	}
	return items
}

func TestInitRunCoverage(t *testing.T) {
	requireGit(t)
	dir := t.TempDir()
	repo := filepath.Join(dir, "fraud-model")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sum, err := demorepo.Build(ctx, repo, demorepo.Options{Commits: 200, TrailerEvery: 4, Branches: 2, Mailmap: true})
	if err != nil {
		t.Fatal(err)
	}
	// init reads the apprentice from git's user.name / user.email.
	me := demorepo.DefaultAuthors()[0]
	for _, kv := range [][2]string{{"user.email", me.Email}, {"user.name", me.Name}} {
		if _, err := demorepo.Git(ctx, repo, "config", kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(repo)
	r := cli(t, "init")
	mustCode(t, r, 0)
	cfg, err := os.ReadFile("ksbfolio.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), me.Email) || !strings.Contains(string(cfg), me.Name) {
		t.Fatalf("init did not take the apprentice from git config:\n%s", cfg)
	}
	mustCode(t, cli(t, "init"), exitUsage) // never overwrites

	r = cli(t, "run")
	mustCode(t, r, 0)
	items := itemsJSON(t, "ksbfolio.yaml")
	if len(items) != sum.Apprentice {
		t.Fatalf("run stored %d items, want the apprentice's %d commits", len(items), sum.Apprentice)
	}
	declared := 0
	for _, it := range items {
		if it.SourceType != "git" || (it.Kind != evidence.KindCommit && it.Kind != evidence.KindMerge) {
			t.Fatalf("item %s: source_type %q kind %q", it.ID, it.SourceType, it.Kind)
		}
		if it.ID != evidence.NewID("git", it.Origin.NativeID) {
			t.Fatalf("item %s: id not derived from the commit SHA %s", it.ID, it.Origin.NativeID)
		}
		for _, tg := range it.Tags {
			if tg.IsDeclared() {
				declared++
				break
			}
		}
	}
	if declared != sum.Trailers {
		t.Fatalf("%d items carry declared tags, want %d (commits with trailers)", declared, sum.Trailers)
	}

	r = cli(t, "coverage")
	mustCode(t, r, 0)
	for _, want := range []string{"S10", "K12", "claimed"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("coverage table lacks %q:\n%s", want, r.stdout)
		}
	}
	r = cli(t, "coverage", "--json")
	mustCode(t, r, 0)
	var cov struct {
		Apprentice, Catalogue string
		Complete, Ready       bool
		ReadyReason           string `json:"ready_reason"`
		Summary               struct{ Evidenced, Suggested, Gap, Total int }
		KSBs                  []struct{ KSB, Kind, Status string } `json:"ksbs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &cov); err != nil {
		t.Fatal(err)
	}
	if cov.Ready || !cov.Complete || !strings.Contains(cov.ReadyReason, "of 39 KSBs assessed by the professional discussion not yet confirmed") {
		t.Fatalf("readiness against the official catalogue, default covers set: %+v", cov)
	}
	if cov.Summary.Evidenced == 0 || cov.Summary.Total != cov.Summary.Evidenced+cov.Summary.Suggested+cov.Summary.Gap {
		t.Fatalf("summary inconsistent: %+v", cov.Summary)
	}

	// A second run finds nothing new.
	r = cli(t, "run", "--json")
	mustCode(t, r, 0)
	var rep struct {
		Sources []struct{ Items int }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Sources) != 1 || rep.Sources[0].Items != 0 {
		t.Fatalf("second run stored %+v, want nothing new", rep.Sources)
	}
	// coverage.json is written at the end of each run.
	if _, err := os.Stat(filepath.Join(repo, ".ksbfolio", "apprentices", "jane", "coverage.json")); err != nil {
		t.Fatal(err)
	}
}

// comparable strips what differs between two collections of the same
// history (when it was collected) so ledgers can be compared.
func comparable(items []evidence.Item) string {
	for i := range items {
		items[i].CollectedAt = time.Time{}
		items[i].Source = ""
	}
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	b, _ := json.Marshal(items)
	return string(b)
}

func TestSameLedgerOnFolderAndS3(t *testing.T) {
	srv := storetest.StartVersityGW(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	_, fsCfg, sum := gitWorkspace(t, 150, "")
	_, s3Cfg, _ := gitWorkspace(t, 150, "'"+srv.URL("portfolios")+"'")
	mustCode(t, cli(t, "-c", fsCfg, "run"), 0)
	mustCode(t, cli(t, "-c", s3Cfg, "run"), 0)

	fsItems, s3Items := itemsJSON(t, fsCfg), itemsJSON(t, s3Cfg)
	if len(s3Items) != sum.Apprentice {
		t.Fatalf("S3 ledger holds %d items, want %d", len(s3Items), sum.Apprentice)
	}
	// Same history, same seed: the two ledgers must read the same, but for
	// the absolute repository path in origin and facts.
	norm := func(items []evidence.Item, dir string) string {
		s := comparable(items)
		return strings.ReplaceAll(s, dir, "DIR")
	}
	if a, b := norm(fsItems, filepath.Dir(fsCfg)), norm(s3Items, filepath.Dir(s3Cfg)); a != b {
		t.Fatalf("items differ between the folder and the S3 store")
	}
	covFS := cli(t, "-c", fsCfg, "coverage", "--json")
	covS3 := cli(t, "-c", s3Cfg, "coverage", "--json")
	mustCode(t, covFS, 0)
	mustCode(t, covS3, 0)
	strip := func(s string) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "generated_at")
		b, _ := json.Marshal(m)
		return string(b)
	}
	if strip(covFS.stdout) != strip(covS3.stdout) {
		t.Fatalf("coverage differs:\nfolder: %s\ns3:     %s", covFS.stdout, covS3.stdout)
	}
	// The S3 ledger uses the design's keys, under the URL's prefix.
	if _, err := os.Stat(filepath.Join(srv.Dir, srv.Bucket, "portfolios", "apprentices", "jane", "coverage.json")); err != nil {
		t.Fatalf("coverage.json not at the design's key in the bucket: %v", err)
	}
	// Second run on S3 stores nothing.
	r := cli(t, "-c", s3Cfg, "run", "--json")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, `"items": 0`) {
		t.Fatalf("second S3 run stored items:\n%s", r.stdout)
	}
}

// Secrets planted in commit messages never reach the store.
func TestPlantedSecretsNeverStored(t *testing.T) {
	srv := storetest.StartVersityGW(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	secrets := []string{
		"AKIAIOSFODNN7EXAMPLE",
		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"ghp_R4nd0mT0k3nV4lu3F0rT3st1ngXYZ1234567",
		"MIIEowIBAAKCAQEA7bq98Qx3Y0dVhU1pTWmC8H0mQ5mZ6k1eKzExampleBodyLine",
	}
	msg := "Wire the training job to the feature store\n\n" +
		"Used these while debugging:\n" +
		"aws_access_key_id = " + secrets[0] + "\n" +
		"aws_secret_access_key = " + secrets[1] + "\n" +
		"export GITHUB_TOKEN=" + secrets[2] + "\n" +
		"-----BEGIN RSA PRIVATE KEY-----\n" + secrets[3] + "\nQmFzZTY0Q29udGVudE9mVGhlS2V5\n-----END RSA PRIVATE KEY-----\n" +
		"\nKSB: S8\n"
	for _, storeSpec := range []string{"", "'" + srv.URL("p") + "'"} {
		dir, cfg, _ := gitWorkspace(t, 20, storeSpec)
		me := demorepo.DefaultAuthors()[0]
		env := []string{"GIT_AUTHOR_NAME=" + me.Name, "GIT_AUTHOR_EMAIL=" + me.Email,
			"GIT_COMMITTER_NAME=" + me.Name, "GIT_COMMITTER_EMAIL=" + me.Email}
		if _, err := demorepo.GitEnv(context.Background(), filepath.Join(dir, "model-repo"), env, strings.NewReader(msg), "commit", "--allow-empty", "-q", "-F", "-"); err != nil {
			t.Fatal(err)
		}
		r := cli(t, "-c", cfg, "run")
		mustCode(t, r, 0)
		root := filepath.Join(dir, ".ksbfolio")
		if storeSpec != "" {
			root = filepath.Join(srv.Dir, srv.Bucket)
		}
		found := false
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if bytes.Contains(b, []byte("Wire the training job")) {
				found = true
			}
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("secret %.8s… stored in %s", s, path)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			t.Fatalf("the commit with secrets was not stored at all under %s", root)
		}
		for _, s := range secrets {
			if strings.Contains(r.stdout+r.stderr, s) {
				t.Errorf("secret %.8s… printed", s)
			}
		}
		// The item records the rules and counts, and keeps the text around.
		items := itemsJSON(t, cfg)
		var it *evidence.Item
		for i := range items {
			if strings.HasPrefix(items[i].Title, "Wire the training job") {
				it = &items[i]
			}
		}
		if it == nil || len(it.Redactions) == 0 || !strings.Contains(it.Summary, "Used these while debugging") {
			t.Fatalf("redacted item: %+v", it)
		}
	}
}

func TestClearErrors(t *testing.T) {
	requireGit(t)
	dir, cfg, _ := gitWorkspace(t, 30, "")

	t.Run("malformed config", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "ksbfolio.yaml")
		writeFile(t, bad, "apprentice:\n  id: jane\n  emails: [jane@corp.example]\n  nmae: Jane\nsources:\n  - {name: r, type: git, pth: ./x}\n")
		r := cli(t, "-c", bad, "run")
		mustCode(t, r, exitUsage)
		for _, want := range []string{"ksbfolio.yaml:4: apprentice.nmae", "ksbfolio.yaml:6: sources[0].pth"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
		if r.stdout != "" {
			t.Errorf("stdout not empty: %q", r.stdout)
		}
	})
	t.Run("rule naming a KSB the catalogue lacks", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "rules.yaml"), "rules:\n  - id: my-rule\n    ksbs: [K99]\n    reason: test\n    match: {text: 'foo'}\n")
		c := filepath.Join(dir, "with-rules.yaml")
		writeFile(t, c, "apprentice: {id: jane, emails: [jane@corp.example]}\nrules: ./rules.yaml\nsources: []\n")
		r := cli(t, "-c", c, "run")
		mustCode(t, r, exitUsage)
		if !strings.Contains(r.stderr, "my-rule") || !strings.Contains(r.stderr, "K99") || !strings.Contains(r.stderr, "rules.yaml:2") {
			t.Fatalf("want the rule, the KSB and the line named:\n%s", r.stderr)
		}
	})
	t.Run("unreachable S3 endpoint", func(t *testing.T) {
		c := filepath.Join(t.TempDir(), "ksbfolio.yaml")
		writeFile(t, c, "apprentice: {id: jane, emails: [jane@corp.example]}\nstore: 's3://bucket/p?endpoint=127.0.0.1:1&insecure=true'\nsources: []\n")
		t.Setenv("AWS_ACCESS_KEY_ID", "test")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "testsecret")
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		start := time.Now()
		r := cli(t, "-c", c, "run")
		mustCode(t, r, exitError)
		if lines := strings.Count(strings.TrimSpace(r.stderr), "\n") + 1; lines != 1 || !strings.Contains(r.stderr, "127.0.0.1:1") {
			t.Fatalf("want one error line naming the endpoint, got:\n%s", r.stderr)
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("took %v to give up", time.Since(start))
		}
	})
	t.Run("repository path that does not exist", func(t *testing.T) {
		c := filepath.Join(dir, "missing.yaml")
		writeFile(t, c, "apprentice: {id: jane, emails: [jane@corp.example]}\nsources:\n  - {name: gone, type: git, path: ./no-such-repo}\n  - {name: model-repo, type: git, path: ./model-repo}\n")
		r := cli(t, "-c", c, "run")
		mustCode(t, r, exitPartial)
		if !strings.Contains(r.stdout, "no-such-repo") || !strings.Contains(r.stdout, "gone (git): failed") {
			t.Fatalf("the failing source is not named:\n%s", r.stdout)
		}
		if !strings.Contains(r.stdout, "model-repo (git): ok") {
			t.Fatalf("a failing source stopped the others:\n%s", r.stdout)
		}
	})
	t.Run("corrupt item object", func(t *testing.T) {
		mustCode(t, cli(t, "-c", cfg, "run"), 0)
		items := itemsJSON(t, cfg)
		victim := filepath.Join(dir, ".ksbfolio", "apprentices", "jane", "items", items[0].ID+".json")
		writeFile(t, victim, `{"schema": 1, "id": "trunc`)
		r := cli(t, "-c", cfg, "items")
		mustCode(t, r, exitPartial)
		if !strings.Contains(r.stderr, items[0].ID) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Fatalf("want one line naming the corrupt item, got:\n%s", r.stderr)
		}
		if !strings.Contains(r.stdout, fmt.Sprintf("%d items", len(items)-1)) {
			t.Fatalf("the other items were not listed:\n%s", r.stdout)
		}
		mustCode(t, cli(t, "-c", cfg, "coverage"), exitPartial)
		r = cli(t, "-c", cfg, "fsck")
		mustCode(t, r, exitPartial)
		if !strings.Contains(r.stdout, "corrupt_item") {
			t.Fatalf("fsck did not report it:\n%s", r.stdout)
		}
		mustCode(t, cli(t, "-c", cfg, "fsck", "--repair"), 0)
		mustCode(t, cli(t, "-c", cfg, "fsck"), 0)
	})
}

func TestSecondRunExitsWhileLeaseHeld(t *testing.T) {
	dir, cfg, _ := gitWorkspace(t, 30, "")
	s, err := fsstore.New(filepath.Join(dir, ".ksbfolio"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(s, "jane")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lease, err := l.Acquire(ctx, ledger.LeaseInfo{RunID: "other-run", Command: "run", Host: "ci-host", PID: 4242}, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := cli(t, "-c", cfg, "run")
	mustCode(t, r, exitLeaseHeld)
	if !strings.Contains(r.stderr, "other-run") || !strings.Contains(r.stderr, "ci-host") || !strings.Contains(r.stderr, "since") {
		t.Fatalf("the message does not name the holder:\n%s", r.stderr)
	}
	go func() {
		time.Sleep(1500 * time.Millisecond)
		_ = lease.Release(ctx)
	}()
	r = cli(t, "-c", cfg, "run", "--wait", "20s")
	mustCode(t, r, 0)

	// A lease left by a run that died (expired) is taken over.
	if _, err := l.Acquire(ctx, ledger.LeaseInfo{RunID: "dead-run"}, time.Millisecond, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	mustCode(t, cli(t, "-c", cfg, "run"), 0)
}

func TestInterruptedRunResumes(t *testing.T) {
	_, cfg, sum := gitWorkspace(t, 400, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // interrupted before it could finish
	r := cliCtx(t, ctx, "-c", cfg, "run")
	if r.code != exitInterrupted && r.code != exitError {
		t.Fatalf("exit %d, want %d\n%s%s", r.code, exitInterrupted, r.stdout, r.stderr)
	}
	mustCode(t, cli(t, "-c", cfg, "run"), 0)
	if got := len(itemsJSON(t, cfg)); got != sum.Apprentice {
		t.Fatalf("after resuming: %d items, want %d", got, sum.Apprentice)
	}
}

func TestReviewAddRetagStandard(t *testing.T) {
	dir, cfg, _ := gitWorkspace(t, 60, "")
	mustCode(t, cli(t, "-c", cfg, "run"), 0)
	items := itemsJSON(t, cfg)
	var sugg *evidence.Item
	for i := range items {
		for _, tg := range items[i].Tags {
			if tg.IsRule() {
				sugg = &items[i]
			}
		}
	}
	if sugg == nil {
		t.Fatal("no item has a rule tag")
	}
	var ruleKSB string
	for _, tg := range sugg.Tags {
		if tg.IsRule() {
			ruleKSB = tg.KSB
		}
	}
	r := cli(t, "-c", cfg, "review", sugg.Origin.NativeID[:10], "--accept", ruleKSB, "--by", "Pat Coach", "--role", "coach", "--note", "seen in the demo")
	mustCode(t, r, 0)
	mustCode(t, cli(t, "-c", cfg, "review", sugg.ID, "--accept", "S10", "--reject", "S10"), exitUsage)
	mustCode(t, cli(t, "-c", cfg, "review", sugg.ID, "--role", "boss", "--note", "x"), exitUsage)

	show := cli(t, "-c", cfg, "show", sugg.ID)
	mustCode(t, show, 0)
	if !strings.Contains(show.stdout, "review:coach") || !strings.Contains(show.stdout, "Pat Coach") {
		t.Fatalf("show lacks the review:\n%s", show.stdout)
	}
	// Reviews survive re-collection and retag.
	cur := filepath.Join(dir, ".ksbfolio", "apprentices", "jane", "cursors", "model-repo.json")
	if err := os.Remove(cur); err != nil {
		t.Fatal(err)
	}
	mustCode(t, cli(t, "-c", cfg, "run"), 0)
	mustCode(t, cli(t, "-c", cfg, "retag"), 0)
	r = cli(t, "-c", cfg, "items", "--ksb", ruleKSB, "--json")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "review:coach") {
		t.Fatalf("review lost after re-collection and retag")
	}

	// add: manual evidence with declared KSBs; text artefacts are redacted.
	doc := filepath.Join(dir, "design.md")
	writeFile(t, doc, "# Fraud model design\n\npassword=hunter2hunter2 for the staging DB\n")
	r = cli(t, "-c", cfg, "add", doc, "--title", "Design of the fraud model", "--date", "2025-06-01", "--ksb", "K12,s16")
	mustCode(t, r, 0)
	r = cli(t, "-c", cfg, "items", "--ksb", "S16", "--json")
	var got []evidence.Item
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	var manual *evidence.Item
	for i := range got {
		if got[i].Kind == evidence.KindManual {
			manual = &got[i]
		}
	}
	if manual == nil || len(manual.Artefacts) != 1 || len(manual.Redactions) == 0 {
		t.Fatalf("manual item: %+v", manual)
	}
	blob, err := os.ReadFile(filepath.Join(dir, ".ksbfolio", "apprentices", "jane", "blobs", "sha256", manual.Artefacts[0].SHA256[:2], manual.Artefacts[0].SHA256))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(blob, []byte("hunter2hunter2")) || !bytes.Contains(blob, []byte("Fraud model design")) {
		t.Fatalf("artefact not redacted as it should be:\n%s", blob)
	}
	mustCode(t, cli(t, "-c", cfg, "add", doc, "--title", "x"), exitUsage)

	// standard: list, show every KSB, import the official list as text.
	r = cli(t, "-c", cfg, "standard", "show", "st1398-v1.0")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "complete: all 70 KSBs") || strings.Contains(r.stdout, "label") {
		t.Fatalf("standard show does not say the catalogue is complete, or mentions labels:\n%s", r.stdout)
	}
	official := filepath.Join(dir, "official.txt")
	writeFile(t, official, "Knowledge\n\nK1: How to do one thing\n  that wraps onto a second line.\nK12: Deployment approaches for new data pipelines and automated processes.\n\nSkills\n• S10 Apply techniques for monitoring models.\nS16 - Transition prototypes into the live environment\nS8: Assess system vulnerabilities\n\nBehaviours\nB1 – Works independently.\n")
	r = cli(t, "-c", cfg, "standard", "import", official, "--id", "st1398-test", "--reference", "ST1398", "--version", "1.0")
	mustCode(t, r, 0)
	r = cli(t, "-c", cfg, "standard", "list")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "st1398-test") || !strings.Contains(r.stdout, "st1398-v1.0") {
		t.Fatalf("standard list:\n%s", r.stdout)
	}
	r = cli(t, "-c", cfg, "standard", "show", "st1398-test")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "How to do one thing that wraps onto a second line.") {
		t.Fatalf("wrapped line not joined:\n%s", r.stdout)
	}
	r = cli(t, "-c", cfg, "retag", "--catalogue", "st1398-test")
	mustCode(t, r, 0)
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"no-such-command"},
		{"items", "--no-such-flag"},
		{"show"},
		{"--log-format", "xml", "standard", "list"},
		{"-c", "/nonexistent/ksbfolio.yaml", "run"},
	} {
		r := cli(t, args...)
		if r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, r.code, exitUsage, r.stderr)
		}
	}
}

func TestDemo(t *testing.T) {
	requireGit(t)
	dir := filepath.Join(t.TempDir(), "demo")
	r := cli(t, "demo", dir, "--commits", "300")
	mustCode(t, r, 0)
	for _, want := range []string{"fraud-model (git): ok", "secrets masked", "gateway ready: no", "of 39 KSBs assessed by the professional discussion",
		"open the pack: " + filepath.Join(dir, "pack", "index.html")} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
	// The demo builds the pack, with the workbook, and it verifies.
	for _, f := range []string{"index.html", "workbook.xlsx", "manifest.json", "SHA256SUMS"} {
		if _, err := os.Stat(filepath.Join(dir, "pack", f)); err != nil {
			t.Errorf("demo pack: %v", err)
		}
	}
	if v := cli(t, "verify", filepath.Join(dir, "pack")); v.code != 0 {
		t.Errorf("verify the demo pack: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
	// Every source type of the demo stores items, and the coverage counts
	// KSBs suggested or claimed by items of every source type.
	types := []string{"git", "mlflow", "tensorboard", "logs", "prometheus", "wandb"}
	cfg := filepath.Join(dir, "ksbfolio.yaml")
	typeOf := map[string]string{}
	count := map[string]int{}
	views := viewsJSON(t, cfg)
	for _, v := range views {
		typeOf[v.ID] = v.SourceType
		count[v.SourceType]++
	}
	// The sources name each other: runs their commits, deployments their runs.
	linked := map[string]int{}
	for _, v := range views {
		for _, l := range v.Links {
			linked[v.SourceType+" "+l.Rel+" "+typeOf[l.Item]]++
		}
	}
	for _, want := range []string{"mlflow trained_from git", "mlflow child_of mlflow", "wandb trained_from git", "logs deploys_run mlflow", "logs mentions_commit git"} {
		if linked[want] == 0 {
			t.Errorf("no %s link among the demo's items: %v", want, linked)
		}
	}
	cov := cli(t, "-c", cfg, "coverage", "--json")
	mustCode(t, cov, 0)
	var rep struct {
		KSBs []struct {
			KSB         string   `json:"ksb"`
			ConfirmedBy []string `json:"confirmed_by"`
			ClaimedBy   []string `json:"claimed_by"`
			SuggestedBy []string `json:"suggested_by"`
		} `json:"ksbs"`
	}
	if err := json.Unmarshal([]byte(cov.stdout), &rep); err != nil {
		t.Fatalf("coverage --json: %v", err)
	}
	ksbsBy := map[string]map[string]bool{}
	for _, k := range rep.KSBs {
		for _, id := range append(append(k.ConfirmedBy, k.ClaimedBy...), k.SuggestedBy...) {
			st := typeOf[id]
			if ksbsBy[st] == nil {
				ksbsBy[st] = map[string]bool{}
			}
			ksbsBy[st][k.KSB] = true
		}
	}
	for _, st := range types {
		if count[st] == 0 {
			t.Errorf("the demo stored no %s items (items per type: %v)", st, count)
		}
		if len(ksbsBy[st]) == 0 {
			t.Errorf("the demo's coverage lists no KSB from %s items", st)
		}
	}
	// The planted secrets and personal data (the commit's AWS key, the
	// logs' password, token, e-mail, phone and client IP) never reach the store.
	if bad := storeHolds(t, filepath.Join(dir, ".ksbfolio"), demo.Planted); len(bad) > 0 {
		t.Errorf("planted secrets stored: %v", bad)
	}
	mustCode(t, cli(t, "demo", dir), exitUsage) // never over an existing workspace
}

// itemView is what items --json and show --json print per item.
type itemView struct {
	evidence.Item
	Excluded     bool                `json:"excluded"`
	Confidential bool                `json:"confidential"`
	Reviews      []evidence.Decision `json:"reviews"`
}

func viewsJSON(t *testing.T, cfg string, args ...string) []itemView {
	t.Helper()
	r := cli(t, append([]string{"-c", cfg, "items", "--json"}, args...)...)
	mustCode(t, r, 0)
	var vs []itemView
	if err := json.Unmarshal([]byte(r.stdout), &vs); err != nil {
		t.Fatalf("items --json: %v\n%s", err, r.stdout)
	}
	return vs
}

// Excluded and confidential items are listed as such, never dropped, and
// items --ksb agrees with coverage once excluded items are set aside.
func TestItemsShowReviewState(t *testing.T) {
	dir, cfg, sum := gitWorkspace(t, 60, "")
	mustCode(t, cli(t, "-c", cfg, "run"), 0)
	all := viewsJSON(t, cfg)
	if len(all) != sum.Apprentice {
		t.Fatalf("%d items, want %d", len(all), sum.Apprentice)
	}
	// Exclude an item with a rule tag; mark another confidential.
	var ex, conf *itemView
	for i := range all {
		if len(all[i].Tags) > 0 && ex == nil {
			ex = &all[i]
		} else if conf == nil {
			conf = &all[i]
		}
	}
	if ex == nil || conf == nil {
		t.Fatal("no tagged item to exclude")
	}
	mustCode(t, cli(t, "-c", cfg, "review", ex.ID, "--exclude", "--note", "private work"), 0)
	mustCode(t, cli(t, "-c", cfg, "review", conf.ID, "--confidential"), 0)

	after := viewsJSON(t, cfg)
	if len(after) != len(all) {
		t.Fatalf("after review, items lists %d items, want all %d", len(after), len(all))
	}
	byID := map[string]itemView{}
	for _, v := range after {
		byID[v.ID] = v
		if v.Reviews == nil {
			t.Fatalf("item %s: reviews is null, want []", v.ID)
		}
	}
	if !byID[ex.ID].Excluded || byID[ex.ID].Confidential || !byID[conf.ID].Confidential || byID[conf.ID].Excluded {
		t.Fatalf("review state not shown: excluded %+v, confidential %+v", byID[ex.ID].Excluded, byID[conf.ID].Confidential)
	}
	txt := cli(t, "-c", cfg, "items")
	mustCode(t, txt, 0)
	if !strings.Contains(txt.stdout, "(1 excluded, 1 confidential)") {
		t.Fatalf("items does not count excluded and confidential items:\n%s", txt.stdout)
	}
	for _, line := range strings.Split(txt.stdout, "\n") {
		if strings.HasPrefix(line, ex.ID) && !strings.Contains(line, "excluded") {
			t.Fatalf("excluded item's row does not say so: %s", line)
		}
	}

	// items --ksb K, less the excluded items, is exactly what coverage
	// counts for K.
	covR := cli(t, "-c", cfg, "coverage", "--json")
	mustCode(t, covR, 0)
	var cov struct {
		KSBs []struct {
			KSB         string   `json:"ksb"`
			ConfirmedBy []string `json:"confirmed_by"`
			ClaimedBy   []string `json:"claimed_by"`
			SuggestedBy []string `json:"suggested_by"`
		} `json:"ksbs"`
	}
	if err := json.Unmarshal([]byte(covR.stdout), &cov); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, tg := range ex.Tags {
		var fromItems, fromCov []string
		sawExcluded := false
		for _, v := range viewsJSON(t, cfg, "--ksb", tg.KSB) {
			if v.Excluded {
				sawExcluded = true
				continue
			}
			fromItems = append(fromItems, v.ID)
		}
		if !sawExcluded {
			t.Fatalf("items --ksb %s leaves out the excluded item", tg.KSB)
		}
		for _, row := range cov.KSBs {
			if row.KSB == tg.KSB {
				fromCov = append(append(append(fromCov, row.ConfirmedBy...), row.ClaimedBy...), row.SuggestedBy...)
			}
		}
		sort.Strings(fromItems)
		sort.Strings(fromCov)
		if strings.Join(fromItems, ",") != strings.Join(fromCov, ",") {
			t.Fatalf("KSB %s: items --ksb (less excluded) lists %v, coverage %v", tg.KSB, fromItems, fromCov)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("nothing compared")
	}

	// show --json carries the review decisions and state.
	r := cli(t, "-c", cfg, "show", ex.ID, "--json")
	mustCode(t, r, 0)
	var one itemView
	if err := json.Unmarshal([]byte(r.stdout), &one); err != nil {
		t.Fatal(err)
	}
	if !one.Excluded || len(one.Reviews) != 1 || one.Reviews[0].Note != "private work" {
		t.Fatalf("show --json: excluded=%v reviews=%+v", one.Excluded, one.Reviews)
	}
	r = cli(t, "-c", cfg, "show", ex.ID)
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "review:      excluded") {
		t.Fatalf("show does not say the item is excluded:\n%s", r.stdout)
	}
	_ = dir
}

// show refuses references too short to mean one item and says how many a
// prefix matches.
func TestShowAmbiguousAndShort(t *testing.T) {
	dir, cfg, _ := gitWorkspace(t, 5, "")
	mustCode(t, cli(t, "-c", cfg, "run"), 0)
	s, err := fsstore.New(filepath.Join(dir, ".ksbfolio"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(s, "jane")
	if err != nil {
		t.Fatal(err)
	}
	for _, native := range []string{"abcdef0111", "abcdef0222", "abcdef0333"} {
		it := &evidence.Item{Schema: 1, ID: evidence.NewID("git", native), Apprentice: "jane", Source: "model-repo",
			SourceType: "git", Kind: evidence.KindCommit, Title: "t " + native, Origin: evidence.Origin{NativeID: native},
			OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
		if err := l.PutItem(context.Background(), it); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		ref  string
		code int
		want string
	}{
		{"abcdef0", exitError, `item "abcdef0" is ambiguous (3 items)`},
		{"abcdef02", 0, "t abcdef0222"},
		{"abcdef", exitUsage, `item "abcdef" is too short`},
		{"git-", exitUsage, "too short"},
		{"fedcba9876", exitError, `no item "fedcba9876"`},
	} {
		r := cli(t, "-c", cfg, "show", tc.ref)
		mustCode(t, r, tc.code)
		if !strings.Contains(r.stdout+r.stderr, tc.want) {
			t.Errorf("show %s: want %q in\n%s%s", tc.ref, tc.want, r.stdout, r.stderr)
		}
	}
}

// An artefact is written back out byte for byte, never over a file without
// --force, and to stdout with -o -.
func TestShowArtefactOut(t *testing.T) {
	dir, cfg, _ := gitWorkspace(t, 3, "")
	doc := filepath.Join(dir, "notes.bin")
	content := []byte("\x00\x01binary design notes\x00")
	if err := os.WriteFile(doc, content, 0o644); err != nil {
		t.Fatal(err)
	}
	mustCode(t, cli(t, "-c", cfg, "add", doc, "--title", "Notes", "--date", "2025-06-01", "--ksb", "K12"), 0)
	var id string
	for _, v := range viewsJSON(t, cfg) {
		if v.Kind == evidence.KindManual {
			id = v.ID
		}
	}
	if id == "" {
		t.Fatal("manual item not listed")
	}
	out := filepath.Join(dir, "out.bin")
	mustCode(t, cli(t, "-c", cfg, "show", id, "--artefact", "notes.bin", "-o", out), 0)
	if got, _ := os.ReadFile(out); !bytes.Equal(got, content) {
		t.Fatalf("artefact written as %q, want %q", got, content)
	}
	writeFile(t, out, "keep me")
	r := cli(t, "-c", cfg, "show", id, "--artefact", "notes.bin", "-o", out)
	mustCode(t, r, exitError)
	if got, _ := os.ReadFile(out); string(got) != "keep me" || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("existing file replaced without --force (%q), stderr:\n%s", got, r.stderr)
	}
	mustCode(t, cli(t, "-c", cfg, "show", id, "--artefact", "notes.bin", "-o", out, "--force"), 0)
	if got, _ := os.ReadFile(out); !bytes.Equal(got, content) {
		t.Fatalf("--force did not replace the file: %q", got)
	}
	r = cli(t, "-c", cfg, "show", id, "--artefact", "notes.bin", "-o", "-")
	mustCode(t, r, 0)
	if r.stdout != string(content) {
		t.Fatalf("-o - wrote %q", r.stdout)
	}
	r = cli(t, "-c", cfg, "show", id, "--artefact", "nope.txt", "-o", "-")
	mustCode(t, r, exitError)
	if !strings.Contains(r.stderr, "notes.bin") {
		t.Fatalf("unknown artefact does not list the item's artefacts:\n%s", r.stderr)
	}
	mustCode(t, cli(t, "-c", cfg, "show", id, "--artefact", "notes.bin"), exitUsage)
	// A blob that no longer matches its hash is refused, and nothing is written.
	files, _ := filepath.Glob(filepath.Join(dir, ".ksbfolio", "apprentices", "jane", "blobs", "sha256", "*", "*"))
	for _, f := range files {
		if err := os.WriteFile(f, []byte("tampered"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out2 := filepath.Join(dir, "out2.bin")
	r = cli(t, "-c", cfg, "show", id, "--artefact", "notes.bin", "-o", out2)
	mustCode(t, r, exitError)
	if _, err := os.Stat(out2); err == nil {
		t.Fatal("a tampered artefact was written out")
	}
}
