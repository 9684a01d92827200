package main

// Lease tests of the CLI: SIGKILLed runs never lock anyone out, a long
// retag over S3 keeps its lease, fsck sees and repairs a dead run's lease.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

// buildBinary builds ksbfolio into a temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ksbfolio")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// binary runs the built ksbfolio.
func binary(t *testing.T, bin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, append([]string{"--no-progress"}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
}

// tempFiles lists the folder store's temporary files under dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".ksbfolio-tmp-") {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func localLedger(t *testing.T, dir string) *ledger.Ledger {
	t.Helper()
	s, err := fsstore.New(filepath.Join(dir, ".ksbfolio"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	l, err := ledger.New(s, "jane")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// SIGKILL a run six times at random moments: each following run starts at
// once, the final ledger equals an uninterrupted run's, fsck finds nothing
// and the temporary files are gone.
func TestKilledRunsNeverLockOut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and collects 3,000 commits several times")
	}
	bin := buildBinary(t)
	t0 := time.Now()
	dir, cfg, sum := gitWorkspace(t, 3000, "")
	t.Logf("repository of %d commits built in %v", sum.Commits, time.Since(t0).Round(time.Millisecond))
	// The uninterrupted run collects the same repository into another store.
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	refCfg := filepath.Join(dir, "reference.yaml")
	writeFile(t, refCfg, strings.Replace(string(b), "sources:", "store: ./reference-store\nsources:", 1))

	start := time.Now()
	if out, err := exec.Command(bin, "--no-progress", "-c", refCfg, "run").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	full := time.Since(start)
	t.Logf("uninterrupted run of %d commits: %v", sum.Commits, full)

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	// Kill six runs mid-way. A run that finished before its kill saved its
	// cursor: remove it so the next run collects everything again, and
	// kill sooner.
	window := full / 2
	cursor := filepath.Join(dir, ".ksbfolio", "apprentices", "jane", "cursors", "model-repo.json")
	for kills, attempt := 0, 0; kills < 6; attempt++ {
		if attempt == 20 {
			t.Fatalf("only %d of 20 runs were still running when killed", kills)
		}
		cmd := exec.Command(bin, "--no-progress", "-c", cfg, "run")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rng.Int64N(int64(window)))
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("run %d: %v", attempt+1, err)
		}
		code := cmd.ProcessState.ExitCode()
		if code == exitLeaseHeld {
			t.Fatalf("run %d (after %d SIGKILLs) locked out:\n%s", attempt+1, kills, stderr.String())
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Logf("run %d finished (exit %d) before its kill at %v", attempt+1, code, delay.Round(time.Millisecond))
			if code != 0 {
				t.Fatalf("run %d: exit %d\n%s", attempt+1, code, stderr.String())
			}
			_ = os.Remove(cursor)
			window /= 2
			continue
		}
		kills++
		t.Logf("run %d killed after %v", attempt+1, delay.Round(time.Millisecond))
	}
	t.Logf("%d temporary files left by the kills", len(tempFiles(t, filepath.Join(dir, ".ksbfolio"))))
	// The binary, not in process: the checks stay quick under -race.
	r := binary(t, bin, "-c", cfg, "run")
	mustCode(t, r, 0) // not 4: the last killed run's lease is stale at once
	list := func(cfg string) []evidence.Item {
		r := binary(t, bin, "-c", cfg, "items", "--json")
		mustCode(t, r, 0)
		var items []evidence.Item
		if err := json.Unmarshal([]byte(r.stdout), &items); err != nil {
			t.Fatal(err)
		}
		return items
	}
	got, want := list(cfg), list(refCfg)
	if len(got) != sum.Apprentice {
		t.Fatalf("%d items after the kills, want %d", len(got), sum.Apprentice)
	}
	if comparable(got) != comparable(want) {
		t.Fatalf("the ledger after six SIGKILLs differs from an uninterrupted run's")
	}
	r = binary(t, bin, "-c", cfg, "fsck")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, ": 0 problems") {
		t.Fatalf("fsck after the kills:\n%s", r.stdout)
	}
	mustCode(t, binary(t, bin, "-c", cfg, "fsck", "--repair", "--grace", "0s"), 0)
	if tmp := tempFiles(t, filepath.Join(dir, ".ksbfolio")); len(tmp) > 0 {
		t.Fatalf("temporary files left after fsck --repair: %v", tmp)
	}
}

// A lease whose holder's process is gone from this host: fsck reports it,
// fsck --repair takes it over, and writers start at once.
func TestDeadRunsLease(t *testing.T) {
	dir, cfg, _ := gitWorkspace(t, 20, "")
	l := localLedger(t, dir)
	ctx := context.Background()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip(err)
	}
	plant := func() {
		info := ledger.ThisProcess()
		info.RunID, info.Command, info.PID, info.PIDStart = "killed-run", "run", dead.Process.Pid, 0
		if _, err := l.Acquire(ctx, info, time.Hour, nil); err != nil {
			t.Fatal(err)
		}
	}
	plant()
	r := cli(t, "-c", cfg, "fsck")
	mustCode(t, r, exitPartial)
	if !strings.Contains(r.stdout, "stale_lease") || !strings.Contains(r.stdout, "killed-run") || !strings.Contains(r.stdout, "gone") {
		t.Fatalf("fsck does not report the dead run's lease:\n%s", r.stdout)
	}
	mustCode(t, cli(t, "-c", cfg, "fsck", "--repair"), 0)
	mustCode(t, cli(t, "-c", cfg, "fsck"), 0)
	if _, held, _ := l.ReadLease(ctx); held {
		t.Fatal("fsck --repair left a lease behind")
	}
	plant()
	mustCode(t, cli(t, "-c", cfg, "run"), 0)
	item := itemsJSON(t, cfg)[0].ID
	for _, args := range [][]string{{"collect"}, {"retag"}, {"fsck", "--repair"}, {"review", item, "--note", "seen"}} {
		plant()
		mustCode(t, cli(t, append([]string{"-c", cfg}, args...)...), 0)
		if _, held, _ := l.ReadLease(ctx); held {
			t.Fatalf("%s left its lease behind", args[0])
		}
	}

	// A live holder elsewhere: add says to --wait, and --wait waits.
	doc := filepath.Join(dir, "notes.md")
	writeFile(t, doc, "# Notes\n")
	other, err := l.Acquire(ctx, ledger.LeaseInfo{RunID: "remote-run", Command: "run", Host: "elsewhere", PID: 1}, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	r = cli(t, "-c", cfg, "add", doc, "--title", "Notes", "--date", "2025-06-01")
	mustCode(t, r, exitLeaseHeld)
	if !strings.Contains(r.stderr, "--wait") {
		t.Fatalf("no hint to wait:\n%s", r.stderr)
	}
	go func() { time.Sleep(300 * time.Millisecond); _ = other.Release(ctx) }()
	mustCode(t, cli(t, "-c", cfg, "add", doc, "--title", "Notes", "--date", "2025-06-01", "--wait", "20s"), 0)
	if _, held, _ := l.ReadLease(ctx); held {
		t.Fatal("add left its lease behind")
	}
}

// A retag over S3 that outlives the lease TTL keeps its lease: no other
// run can take it meanwhile, and it finishes.
//
// An intruder tries to take the lease every TTL/6, but only once the
// retag is seen holding it (before, the lock is free to take, which proves
// nothing). A take-over that succeeds is kept until the retag ends: had
// the retag still been working, it loses its lease and fails; if it had
// released its lease already, it succeeds. The test proves something only
// if the intruder was still refused two TTLs after the retag took the
// lease, which it is only if the lease was renewed. The TTL leaves a
// renewal (every TTL/3) two seconds to land on a loaded machine.
func TestLongRetagKeepsLease(t *testing.T) {
	p, cfg := s3GitWorkspace(t, 60, "")
	mustCode(t, cli(t, "-c", cfg, "run"), 0)

	ttl := 3 * time.Second
	t.Setenv(leaseTTLEnv, ttl.String())
	// Slow every item read down: the retag takes more than two TTLs,
	// even with the snapshot's concurrent reads (it reads every item once;
	// its coverage update reads none of the items it left unchanged).
	p.Next(storetest.Fault{Method: "GET", PathContains: "/items/", Kind: storetest.Delay, Duration: ttl * 3, Times: -1})
	ws := cliWorkspace(t, cfg)
	done := make(chan result, 1)
	go func() { done <- cli(t, "-c", cfg, "retag") }()
	ctx := context.Background()
	var (
		r         result
		seen      time.Time     // when the retag was first seen holding its lease
		refused   time.Time     // the intruder's last refusal
		intrusion *ledger.Lease // the intruder's lease, once it got one
	)
	tick := time.NewTicker(ttl / 6)
	defer tick.Stop()
	for running := true; running; {
		select {
		case r = <-done:
			running = false
		case <-tick.C:
			switch {
			case intrusion != nil:
			case seen.IsZero():
				if cur, held, err := ws.Ledger.ReadLease(ctx); err == nil && held && cur.Command == "retag" {
					seen = time.Now()
				}
			default:
				le, err := ws.Ledger.Acquire(ctx, ledger.LeaseInfo{RunID: "intruder", Host: "elsewhere", PID: 1}, time.Minute, nil)
				var held *ledger.HeldError
				switch {
				case err == nil:
					intrusion = le
				case errors.As(err, &held):
					refused = time.Now()
				default:
					t.Logf("intruder: %v", err)
				}
			}
		}
	}
	if intrusion != nil {
		defer intrusion.Release(ctx)
		if r.code != 0 {
			t.Fatalf("another run took the lease during the retag (TTL %v), which failed:\n%s", ttl, r.stderr)
		}
	}
	mustCode(t, r, 0)
	if seen.IsZero() {
		t.Fatal("the retag was never seen holding its lease")
	}
	if refused.Sub(seen) < 2*ttl {
		t.Fatalf("the intruder was last refused %v after the retag took its lease, not two TTLs of %v: the test proves nothing", refused.Sub(seen), ttl)
	}
	if intrusion == nil {
		if _, held, _ := ws.Ledger.ReadLease(ctx); held {
			t.Fatal("retag left its lease behind")
		}
	}
}

// s3GitWorkspace is gitWorkspace of n commits storing into a real S3
// server (versitygw) through a fault proxy; query is added to the store
// URL ("&timeout=2s").
func s3GitWorkspace(t *testing.T, n int, query string) (*storetest.FaultProxy, string) {
	t.Helper()
	srv := storetest.StartVersityGW(t)
	p := storetest.NewFaultProxy(t, srv.Endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	_, cfg, _ := gitWorkspace(t, n, "'"+srv.Through(p).URL("portfolios")+query+"'")
	return p, cfg
}

// cliWorkspace opens the workspace of a config file, as the CLI does.
func cliWorkspace(t *testing.T, cfgPath string) *workspace.Workspace {
	t.Helper()
	cfg, err := config.Load(cfgPath, registry.Default())
	if err != nil {
		t.Fatal(err)
	}
	ws, err := workspace.Open(context.Background(), cfg, "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// A run that can no longer renew its lease stops with exit 1 and says why,
// before another run could take the lease over.
func TestRunStopsWhenLeaseCannotBeRenewed(t *testing.T) {
	p, cfg := s3GitWorkspace(t, 60, "")
	ttl := 600 * time.Millisecond
	t.Setenv(leaseTTLEnv, ttl.String())
	// The lock is created; every later write of it fails; items are slow
	// (slower than the TTL, even with the runner's concurrent writers).
	p.Next(storetest.Fault{Method: "PUT", PathContains: "jane/lock", Kind: storetest.Pass})
	p.Next(storetest.Fault{Method: "PUT", PathContains: "jane/lock", Kind: storetest.Reset, Times: -1})
	p.Next(storetest.Fault{Method: "PUT", PathContains: "/items/", Kind: storetest.Delay, Duration: 1500 * time.Millisecond, Times: -1})
	start := time.Now()
	r := cli(t, "-c", cfg, "run")
	took := time.Since(start)
	mustCode(t, r, exitError)
	if !strings.Contains(r.stderr, "lease lost") {
		t.Fatalf("the message does not say the lease was lost:\n%s", r.stderr)
	}
	if took > 10*ttl {
		t.Fatalf("took %v to stop (TTL %v)", took, ttl)
	}
}

// A run whose store stalls fails within the store's deadline (exit 1 or
// 3), saying what stalled, and releases its lease.
func TestStalledRunReleasesLease(t *testing.T) {
	p, cfg := s3GitWorkspace(t, 30, "&timeout=2s&idle_timeout=300ms")
	// Every item write stalls: the server does not answer (nor see it)
	// for a minute. (A run reads no item back: the link and coverage
	// steps know what it stored.)
	p.Next(storetest.Fault{Method: "PUT", PathContains: "/items/", Kind: storetest.Delay, Duration: time.Minute, Times: -1})
	start := time.Now()
	r := cli(t, "-c", cfg, "run")
	took := time.Since(start)
	if r.code != exitError && r.code != exitPartial {
		t.Fatalf("exit %d, want 1 or 3\n%s%s", r.code, r.stdout, r.stderr)
	}
	if took > 15*time.Second {
		t.Fatalf("took %v with a 2s store timeout", took)
	}
	if !strings.Contains(r.stdout+r.stderr, "items/") {
		t.Fatalf("the message does not say what stalled:\n%s%s", r.stdout, r.stderr)
	}
	p.Clear()
	if _, held, err := cliWorkspace(t, cfg).Ledger.ReadLease(context.Background()); held || err != nil {
		t.Fatalf("lease left behind after the stalled run (%v)", err)
	}
}
