package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// ptyRun is the built binary running on a pseudo-terminal.
type ptyRun struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func startPTY(t *testing.T, bin string, args ...string) *ptyRun {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--no-progress"}, args...)...)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	p := &ptyRun{t: t, cmd: cmd, tty: tty, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { tty.Close(); _ = cmd.Process.Kill() })
	return p
}

// expect waits until the output holds n occurrences of s.
func (p *ptyRun) expect(s string, n int) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		got := strings.Count(p.out.String(), s)
		p.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.t.Fatalf("no %d× %q in the terminal:\n%s", n, s, p.output())
}

func (p *ptyRun) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// key waits for the n-th prompt and types keys.
func (p *ptyRun) key(n int, keys string) {
	p.t.Helper()
	p.expect("[y,n,s,e,c,m,b,q,?]? ", n)
	if _, err := p.tty.WriteString(keys); err != nil {
		p.t.Fatal(err)
	}
}

func (p *ptyRun) wait() int {
	p.t.Helper()
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errorsAs(err, &ee) {
		p.t.Fatal(err)
	}
	<-p.done
	return p.cmd.ProcessState.ExitCode()
}

func errorsAs(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}

// storedReview reads an item's review straight from the store.
func storedReview(t *testing.T, rl *reviewLedger, id string) *evidence.Review {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(rl.dir, ".ksbfolio", "apprentices", "jane", "reviews", id+".json"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var r evidence.Review
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestInteractiveReview drives review -i in a real pseudo-terminal: accept,
// reject, a note and an exclusion, then a quit half-way; a second session
// resumes with what is left, goes back, accepts, marks confidential and
// rejects. Every decision is stored as it is made.
func TestInteractiveReview(t *testing.T) {
	rl := newReviewLedger(t)
	one := rl.put(t, "a", "Drift monitor", nil, []string{"K1", "K4"})
	two := rl.put(t, "bb", "Notebook clean-up", nil, []string{"K5"})
	three := rl.put(t, "ccc", "Capacity test", nil, []string{"K11", "K14"})
	bin := buildBinary(t)

	p := startPTY(t, bin, "-c", rl.cfg, "review", "-i", "--role", "coach", "--sign-key", rl.key("pat"))
	p.expect("Drift monitor", 1)
	p.key(1, "y")
	p.key(2, "n")
	p.key(3, "m")
	p.expect("note: ", 1)
	if _, err := p.tty.WriteString("tidy, but not K5\r"); err != nil {
		t.Fatal(err)
	}
	p.key(4, "e")
	p.key(5, "q")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.output())
	}
	out := p.output()
	for _, w := range []string{one, "2026-05-01  model-repo (git)  commit", "evidence: changed src/a.py",
		"K1  The purpose, methodologies and applications for ML AI solutions", "because: the test says so",
		"(1/5) Accept K1 on this item", "Accept K4", "Capacity test", "recorded 4 decisions: 1 accepted, 1 rejected, 1 excluded, 1 noted"} {
		if !strings.Contains(out, w) {
			t.Errorf("terminal lacks %q:\n%s", w, out)
		}
	}
	if rv := storedReview(t, rl, one); rv == nil || len(rv.Decisions) != 2 || rv.Decisions[0].Accept[0] != "K1" || rv.Decisions[1].Reject[0] != "K4" ||
		rv.Decisions[0].Signature == "" || rv.Decisions[0].By != "Pat Coach" {
		t.Errorf("item one: %+v", rv)
	}
	if rv := storedReview(t, rl, two); rv == nil || len(rv.Decisions) != 2 || rv.Decisions[0].Note != "tidy, but not K5" || rv.Decisions[1].Exclude == nil || !*rv.Decisions[1].Exclude {
		t.Errorf("item two: %+v", rv)
	}
	if rv := storedReview(t, rl, three); rv != nil {
		t.Errorf("item three reviewed before the quit: %+v", rv)
	}

	// Resume: only item three is left.
	p = startPTY(t, bin, "-c", rl.cfg, "review", "-i", "--role", "coach", "--sign-key", rl.key("pat"))
	p.key(1, "s")
	p.key(2, "b")
	p.key(3, "y")
	p.key(4, "c")
	p.key(5, "?")
	p.expect("q - quit; what was decided is kept", 1)
	p.key(6, "n")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.output())
	}
	out = p.output()
	if strings.Contains(out, "Drift monitor") || !strings.Contains(out, "(1/2) Accept K11") ||
		!strings.Contains(out, "recorded 3 decisions: 1 accepted, 1 rejected, 1 marked confidential") {
		t.Errorf("second session:\n%s", out)
	}
	rv := storedReview(t, rl, three)
	if rv == nil || len(rv.Decisions) != 3 || rv.Decisions[0].Accept[0] != "K11" || rv.Decisions[1].Confidential == nil || rv.Decisions[2].Reject[0] != "K14" {
		t.Errorf("item three: %+v", rv)
	}
	sets, _, _, _, _ := coverageSets(t, rl.cfg)
	if !containsAll(sets["confirmed"], "K1", "K11") || containsAll(sets["confirmed"], "K5") {
		t.Errorf("confirmed after the walk: %v", sets["confirmed"])
	}

	// Not a terminal: refused.
	r := cli(t, "-c", rl.cfg, "review", "-i")
	if r.code != exitUsage || !strings.Contains(r.stderr, "review -i needs a terminal") {
		t.Errorf("without a terminal: %+v", r)
	}
}

func containsAll(xs []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, x := range xs {
			found = found || x == w
		}
		if !found {
			return false
		}
	}
	return true
}
