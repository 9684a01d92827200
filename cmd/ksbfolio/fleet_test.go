package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

// fleetWorkspace writes a config of the apprentices ids, each collecting
// its own source: the one shared repository of n commits, or, for the
// apprentice broken, a folder that does not exist. storeSpec "" is the
// default folder store.
func fleetWorkspace(t *testing.T, ids []string, broken, storeSpec string) (cfg string) {
	t.Helper()
	requireGit(t)
	dir := t.TempDir()
	repo := filepath.Join(dir, "model-repo")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := demorepo.Build(context.Background(), repo, demorepo.Options{Commits: 6, TrailerEvery: 2, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("apprentices:\n")
	for _, id := range ids {
		path := "./model-repo"
		if id == broken {
			path = "./no-such-repo"
		}
		fmt.Fprintf(&b, "  - id: %s\n    emails: [%s]\n    gateway: 2030-01-01\n    sources:\n      - {name: work, type: git, path: %s}\n",
			id, demorepo.DefaultAuthors()[0].Email, path)
	}
	if storeSpec != "" {
		b.WriteString("store: " + storeSpec + "\n")
	}
	cfg = filepath.Join(dir, "ksbfolio.yaml")
	writeFile(t, cfg, b.String())
	return cfg
}

func s3Env(t testing.TB) storetest.S3Server {
	srv := storetest.StartVersityGW(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return srv
}

// storeKeys lists every key in the store named by spec (relative to the
// config's folder), through the store's own API.
func storeKeys(t *testing.T, cfg, spec string) []string {
	t.Helper()
	if spec == "" {
		spec = "./.ksbfolio"
	}
	s, err := workspace.OpenStore(context.Background(), strings.Trim(spec, "'"), filepath.Dir(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := s.List(context.Background(), "", func(in store.Info) error { keys = append(keys, in.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	return keys
}

func under(keys []string, id string) []string {
	var out []string
	for _, k := range keys {
		if strings.HasPrefix(k, "apprentices/"+id+"/") {
			out = append(out, k)
		}
	}
	return out
}

func apprenticeIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("appr-%02d", i)
	}
	return ids
}

// run --all over 20 apprentices in the real S3 server, one with a broken
// source: the other 19 are stored, the broken one is reported, exit 3.
func TestRunAllS3OneBroken(t *testing.T) {
	srv := s3Env(t)
	ids := apprenticeIDs(20)
	spec := "'" + srv.URL("fleet") + "'"
	cfg := fleetWorkspace(t, ids, "appr-07", spec)
	r := cli(t, "-c", cfg, "run", "--all", "--parallel", "4")
	mustCode(t, r, 3)
	if !strings.Contains(r.stdout, "20 apprentices: 19 ok, 1 partial, 0 failed") {
		t.Fatalf("summary:\n%s", r.stdout)
	}
	keys := storeKeys(t, cfg, spec)
	for _, id := range ids {
		own := under(keys, id)
		hasItem := slices.ContainsFunc(own, func(k string) bool { return strings.Contains(k, "/items/") })
		hasCov := slices.Contains(own, "apprentices/"+id+"/coverage.json")
		if id == "appr-07" {
			if hasItem {
				t.Errorf("%s: the broken apprentice stored items", id)
			}
			if !slices.ContainsFunc(strings.Split(r.stdout, "\n"), func(l string) bool {
				f := strings.Fields(l)
				return len(f) > 4 && f[0] == id && f[1] == "partial" && strings.Contains(l, "no-such-repo")
			}) {
				t.Errorf("broken apprentice not reported:\n%s", r.stdout)
			}
			continue
		}
		if !hasItem || !hasCov {
			t.Errorf("%s: items %v, coverage %v; keys %v", id, hasItem, hasCov, own)
		}
	}
	// coverage --all reads each coverage.json: one line per apprentice.
	c := cli(t, "-c", cfg, "coverage", "--all", "--json")
	mustCode(t, c, 0)
	var lines []coverageLine
	if err := json.Unmarshal([]byte(c.stdout), &lines); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 20 {
		t.Fatalf("coverage --all gave %d lines", len(lines))
	}
	for _, l := range lines {
		if l.DaysToGate == nil || *l.DaysToGate < 365 {
			t.Errorf("%s: days to gateway %v", l.Apprentice, l.DaysToGate)
		}
		if l.Total == 0 || l.Updated == nil || l.Confirmed+l.Claimed+l.Suggested+l.Gaps != l.Total {
			t.Errorf("%s: %+v", l.Apprentice, l)
		}
	}
}

// Two --shard processes over the same list never run the same apprentice
// and together run them all.
func TestRunAllShards(t *testing.T) {
	ids := apprenticeIDs(12)
	cfg := fleetWorkspace(t, ids, "", "")
	var wg sync.WaitGroup
	res := make([]result, 2)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = cli(t, "-c", cfg, "run", "--all", "--parallel", "3", "--shard", fmt.Sprintf("%d/2", i), "--json")
		}()
	}
	wg.Wait()
	ran := map[string]int{}
	for i, r := range res {
		mustCode(t, r, 0)
		var got []fleetResult
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || len(got) == len(ids) {
			t.Errorf("shard %d ran %d of %d apprentices", i, len(got), len(ids))
		}
		for _, g := range got {
			ran[g.Apprentice]++
		}
	}
	keys := storeKeys(t, cfg, "")
	for _, id := range ids {
		if ran[id] != 1 {
			t.Errorf("%s ran %d times", id, ran[id])
		}
		var runs int
		for _, k := range under(keys, id) {
			if strings.Contains(k, "/runs/") {
				runs++
			}
		}
		if runs != 1 {
			t.Errorf("%s has %d run reports, want 1", id, runs)
		}
	}
	mustCode(t, cli(t, "-c", cfg, "run", "--shard", "0/2"), 2)
	mustCode(t, cli(t, "-c", cfg, "run", "--all", "--shard", "2/2"), 2)
}

// erase removes every object of one apprentice, and nothing of another
// whose ID it prefixes (jan, jane), in both store backends; without --yes
// it changes nothing.
func TestEraseBothBackends(t *testing.T) {
	srv := s3Env(t)
	for _, spec := range []string{"", "'" + srv.URL("erase") + "'"} {
		cfg := fleetWorkspace(t, []string{"jan", "jane"}, "", spec)
		mustCode(t, cli(t, "-c", cfg, "run", "--all"), 0)
		before := storeKeys(t, cfg, spec)
		jan, jane := under(before, "jan"), under(before, "jane")
		if len(jan) < 3 || len(jane) < 3 {
			t.Fatalf("store %q: jan %d, jane %d objects", spec, len(jan), len(jane))
		}
		dry := cli(t, "-c", cfg, "erase", "--apprentice", "jan")
		mustCode(t, dry, 0)
		if !slices.Equal(storeKeys(t, cfg, spec), before) || !strings.Contains(dry.stdout, "nothing changed") {
			t.Fatalf("erase without --yes changed the store:\n%s", dry.stdout)
		}
		r := cli(t, "-c", cfg, "erase", "--apprentice", "jan", "--yes")
		mustCode(t, r, 0)
		after := storeKeys(t, cfg, spec)
		if left := under(after, "jan"); len(left) != 0 {
			t.Errorf("store %q: left %v", spec, left)
		}
		if !slices.Equal(under(after, "jane"), jane) {
			t.Errorf("store %q: jane's objects changed", spec)
		}
		for _, k := range jan {
			if !strings.Contains(r.stdout, "removed "+k+"\n") && !strings.Contains(r.stdout, "removed "+k+" ") {
				t.Errorf("store %q: %s not reported removed", spec, k)
			}
		}
		if strings.Contains(r.stdout, "apprentices/jane/") {
			t.Errorf("store %q: erase printed jane's keys:\n%s", spec, r.stdout)
		}
		mustCode(t, cli(t, "-c", cfg, "erase", "--apprentice", "../jane", "--yes"), 2)
		mustCode(t, cli(t, "-c", cfg, "erase"), 2)
	}
}

// --config may name a folder of configs: run --all and coverage --all
// take every apprentice of every file, each into its own config's store;
// an ID in two files is refused before anything runs.
func TestFolderOfConfigs(t *testing.T) {
	a := fleetWorkspace(t, []string{"jan"}, "", "")
	b := fleetWorkspace(t, []string{"jane", "jon"}, "", "")
	dir := t.TempDir()
	// place copies the config at src into dir as name, its paths made
	// absolute so that it keeps its repository and store.
	place := func(src, name string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		d := filepath.Dir(src)
		text := strings.ReplaceAll(string(b), "./model-repo", filepath.Join(d, "model-repo"))
		writeFile(t, filepath.Join(dir, name), text+"store: "+filepath.Join(d, ".ksbfolio")+"\n")
	}
	place(a, "a.yaml")
	place(b, "b.yml")
	writeFile(t, filepath.Join(dir, "notes.txt"), "not a config")
	r := cli(t, "-c", dir, "run", "--all", "--json")
	mustCode(t, r, 0)
	var got []fleetResult
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Apprentice != "jan" || got[1].Apprentice != "jane" || got[2].Apprentice != "jon" {
		t.Fatalf("ran %+v", got)
	}
	if len(under(storeKeys(t, a, ""), "jan")) == 0 || len(under(storeKeys(t, b, ""), "jon")) == 0 ||
		len(under(storeKeys(t, a, ""), "jon")) != 0 {
		t.Fatal("apprentices not stored in their own config's store")
	}
	c := cli(t, "-c", dir, "coverage", "--all")
	mustCode(t, c, 0)
	if strings.Count(c.stdout, "not ready") != 3 {
		t.Fatalf("coverage --all:\n%s", c.stdout)
	}
	e := cli(t, "-c", dir, "erase", "--apprentice", "jon", "--yes")
	mustCode(t, e, 0)
	if len(under(storeKeys(t, b, ""), "jon")) != 0 || len(under(storeKeys(t, b, ""), "jane")) == 0 {
		t.Fatal("erase through a folder of configs")
	}
	mustCode(t, cli(t, "-c", dir, "erase", "--apprentice", "nobody"), 2)
	dup := fleetWorkspace(t, []string{"jane"}, "", "")
	place(dup, "c.yaml")
	d := cli(t, "-c", dir, "run", "--all")
	mustCode(t, d, 2)
	if !strings.Contains(d.stderr, `apprentice "jane" is in both`) {
		t.Fatalf("duplicate ID: %s", d.stderr)
	}
}

// Each apprentice runs under its own lease: one held by another run is
// "busy" and the rest run; with nothing else wrong, run --all exits 4,
// and erase refuses to delete under a held lease.
func TestRunAllLeaseHeld(t *testing.T) {
	ids := []string{"jan", "jane", "jon"}
	cfg := fleetWorkspace(t, ids, "", "")
	s, err := workspace.OpenStore(context.Background(), "./.ksbfolio", filepath.Dir(cfg))
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(s, "jane")
	if err != nil {
		t.Fatal(err)
	}
	info := ledger.ThisProcess()
	info.RunID, info.Command = "other-run", "run"
	lease, err := l.Acquire(context.Background(), info, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := cli(t, "-c", cfg, "run", "--all", "--json")
	mustCode(t, r, 4)
	var got []fleetResult
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	for _, g := range got {
		if want := map[bool]string{true: fleetBusy, false: "ok"}[g.Apprentice == "jane"]; g.Outcome != want {
			t.Errorf("%s: %s (%s), want %s", g.Apprentice, g.Outcome, g.Error, want)
		}
	}
	before := storeKeys(t, cfg, "")
	mustCode(t, cli(t, "-c", cfg, "erase", "--apprentice", "jane", "--yes"), 4)
	if !slices.Equal(storeKeys(t, cfg, ""), before) {
		t.Fatal("erase deleted under a held lease")
	}
	if err := lease.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustCode(t, cli(t, "-c", cfg, "run", "--all"), 0)
}
