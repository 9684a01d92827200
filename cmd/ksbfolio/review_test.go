package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
)

// reviewLedger is a workspace whose items are written straight into the
// ledger, so that each has exactly the tags a test needs; every review is
// then made through the CLI.
type reviewLedger struct {
	dir, cfg string
	l        *ledger.Ledger
	covers   []string // the 39 KSBs the portfolio covers, in natural order
}

// newReviewLedger writes a config whose reviewers are Pat Coach (coach,
// key pat) and Erin Boss (employer, key erin); mallory's key is made but
// not configured.
func newReviewLedger(t *testing.T) *reviewLedger {
	t.Helper()
	dir := t.TempDir()
	for _, k := range []string{"pat", "erin", "mallory"} {
		mustCode(t, cli(t, "keygen", "-o", filepath.Join(dir, k)), 0)
	}
	cfg := filepath.Join(dir, "ksbfolio.yaml")
	writeFile(t, cfg, `apprentice: {id: jane, name: Jane Doe, emails: [jane@example.com]}
sources: []
reviewers:
  - {name: Pat Coach, role: coach, public_key: ./pat.pub}
  - {name: Erin Boss, role: employer, public_key: ./erin.pub}
`)
	s, err := fsstore.New(filepath.Join(dir, ".ksbfolio"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(s, "jane")
	if err != nil {
		t.Fatal(err)
	}
	var cov struct {
		Covers struct{ KSBs []string } `json:"covers"`
	}
	r := cli(t, "-c", cfg, "coverage", "--json")
	mustCode(t, r, 0)
	if err := json.Unmarshal([]byte(r.stdout), &cov); err != nil || len(cov.Covers.KSBs) != 39 {
		t.Fatalf("covers: %v %v", err, cov.Covers.KSBs)
	}
	return &reviewLedger{dir: dir, cfg: cfg, l: l, covers: cov.Covers.KSBs}
}

// put stores an item named name with declared and suggested KSBs.
func (rl *reviewLedger) put(t *testing.T, name, title string, declared, suggested []string) string {
	t.Helper()
	it := &evidence.Item{Schema: evidence.SchemaVersion, ID: evidence.NewID("git", name), Apprentice: "jane", Source: "model-repo",
		SourceType: "git", Kind: evidence.KindCommit, Title: title, OccurredAt: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(len(name)) * time.Hour),
		CollectedAt: time.Now().UTC(), Origin: evidence.Origin{URI: "file:///repo", NativeID: name},
		Facts: map[string]any{"files_changed": 1, "files": []any{map[string]any{"path": "src/" + name + ".py", "insertions": 3, "deletions": 1}}}}
	for _, k := range declared {
		it.Tags = append(it.Tags, evidence.Tag{KSB: k, By: "declared:trailer", Confidence: 1, Reason: "trailer", Catalogue: "st1398-v1.0"})
	}
	for _, k := range suggested {
		it.Tags = append(it.Tags, evidence.Tag{KSB: k, By: "rule:test-rule", Confidence: 0.6, Reason: "the test says so", Catalogue: "st1398-v1.0"})
	}
	it.Normalize()
	if err := rl.l.PutItem(context.Background(), it); err != nil {
		t.Fatal(err)
	}
	return it.ID
}

func (rl *reviewLedger) key(name string) string { return filepath.Join(rl.dir, name+".key") }

// coverageSets reads coverage --json: the covered KSBs by status, the
// conflicts and readiness.
func coverageSets(t *testing.T, cfg string) (map[string][]string, map[string][3][]string, []map[string]any, bool, string) {
	t.Helper()
	r := cli(t, "-c", cfg, "coverage", "--json")
	mustCode(t, r, 0)
	var c struct {
		Ready       bool
		ReadyReason string `json:"ready_reason"`
		Summary     map[string]int
		Conflicts   []map[string]any
		KSBs        []struct {
			KSB, Status string
			Counted     bool
			ConfirmedBy []string `json:"confirmed_by"`
			ClaimedBy   []string `json:"claimed_by"`
			SuggestedBy []string `json:"suggested_by"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
		t.Fatal(err)
	}
	sets := map[string][]string{}
	by := map[string][3][]string{}
	for _, k := range c.KSBs {
		if k.Counted {
			sets[k.Status] = append(sets[k.Status], k.KSB)
		}
		by[k.KSB] = [3][]string{k.ConfirmedBy, k.ClaimedBy, k.SuggestedBy}
	}
	s := c.Summary
	if s["confirmed"] != len(sets["confirmed"]) || s["claimed"] != len(sets["claimed"]) || s["suggested"] != len(sets["suggested"]) ||
		s["gap"] != len(sets["gap"]) || s["evidenced"] != s["confirmed"]+s["claimed"] || s["total"] != 39 {
		t.Errorf("summary %v does not match the rows %v", s, sets)
	}
	return sets, by, c.Conflicts, c.Ready, c.ReadyReason
}

// TestMixedLedgerCoverage is the ledger of issue 11: the apprentice
// declared 5 KSBs and accepted 3 suggestions, a coach signed 4
// confirmations with a configured key, someone signed as "assessor" with a
// key nobody configured, and a coach's rejection is followed by an
// apprentice's accept. Then one byte of a stored decision changes, and an
// item is re-collected with different content: both are reported by
// verify-reviews and their KSBs drop from confirmed.
func TestMixedLedgerCoverage(t *testing.T) {
	rl := newReviewLedger(t)
	k := rl.covers // K1 K4 K5 K11 K14 K15 K18 K19 K20 K21 ...
	declared := rl.put(t, "a", "Trailers", k[0:5], nil)
	accepted := rl.put(t, "bb", "Apprentice accepts", nil, k[5:8])
	coached := rl.put(t, "ccc", "Coach confirms", nil, k[8:12])
	forged := rl.put(t, "dddd", "Signed by an unknown assessor", nil, k[12:13])
	conflict := rl.put(t, "eeeee", "Coach rejects, apprentice accepts", nil, k[13:14])
	pending := rl.put(t, "ffffff", "Unreviewed", nil, k[14:15])
	cfg := rl.cfg

	mustCode(t, cli(t, "-c", cfg, "review", accepted, "--accept", strings.Join(k[5:8], ",")), 0)
	r := cli(t, "-c", cfg, "review", coached, "--accept", strings.Join(k[8:12], ","), "--role", "coach", "--sign-key", rl.key("pat"),
		"--note", "seen in the sprint review")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "recorded Pat Coach's decision (coach, signed)") || r.stderr != "" {
		t.Fatalf("signed review: %+v", r)
	}
	r = cli(t, "-c", cfg, "review", forged, "--accept", k[12], "--by", "Ann Assessor", "--role", "assessor", "--sign-key", rl.key("mallory"))
	mustCode(t, r, 0)
	if !strings.Contains(r.stderr, "counts no higher than the apprentice's") || !strings.Contains(r.stderr, `no assessor named "Ann Assessor" is configured`) {
		t.Errorf("unknown assessor not warned: %q", r.stderr)
	}
	mustCode(t, cli(t, "-c", cfg, "review", conflict, "--reject", k[13], "--role", "coach", "--sign-key", rl.key("pat")), 0)
	mustCode(t, cli(t, "-c", cfg, "review", conflict, "--accept", k[13]), 0)

	sets, by, conflicts, ready, reason := coverageSets(t, cfg)
	want := map[string][]string{
		"confirmed": k[8:12],
		"claimed":   slices.Concat(k[0:8], k[12:13]),
		"suggested": k[14:15],
		"gap":       slices.Concat(k[13:14], k[15:]),
	}
	for _, st := range []string{"confirmed", "claimed", "suggested", "gap"} {
		if !slices.Equal(sets[st], want[st]) {
			t.Errorf("%s = %v, want %v", st, sets[st], want[st])
		}
	}
	if got := by[k[8]]; !slices.Equal(got[0], []string{coached}) {
		t.Errorf("%s confirmed_by %v", k[8], got[0])
	}
	if got := by[k[12]]; len(got[0]) != 0 || !slices.Equal(got[1], []string{forged}) {
		t.Errorf("%s (unknown assessor) by %v", k[12], got)
	}
	if got := by[k[0]]; !slices.Equal(got[1], []string{declared}) {
		t.Errorf("%s claimed_by %v", k[0], got[1])
	}
	if got := by[k[14]]; !slices.Equal(got[2], []string{pending}) {
		t.Errorf("%s suggested_by %v", k[14], got[2])
	}
	if len(conflicts) != 1 || conflicts[0]["item"] != conflict || conflicts[0]["ksb"] != k[13] ||
		conflicts[0]["kept"].(map[string]any)["role"] != "coach" || conflicts[0]["overruled"].(map[string]any)["action"] != "accept" {
		t.Errorf("conflicts %v", conflicts)
	}
	wantReason := "35 of 39 KSBs assessed by the professional discussion not yet confirmed; 9 claimed but not confirmed: " +
		strings.Join(k[0:5], ", ") + " and 4 more; 1 only suggested: " + k[14] + "; 25 with no evidence: "
	if ready || !strings.HasPrefix(reason, wantReason) {
		t.Errorf("ready %v %q\nwant prefix %q", ready, reason, wantReason)
	}
	table := cli(t, "-c", cfg, "coverage")
	if !strings.Contains(table.stdout, "4 confirmed, 9 claimed, 1 suggested, 25 gap") ||
		!strings.Contains(table.stdout, "1 decision did not apply") ||
		!strings.Contains(table.stdout, "1 signed decision does not verify") {
		t.Errorf("coverage table:\n%s", table.stdout)
	}
	mustCode(t, cli(t, "-c", cfg, "verify-reviews"), exitError) // the unknown assessor

	// show lists every decision with its signature status and the conflict.
	r = cli(t, "-c", cfg, "show", conflict)
	mustCode(t, r, 0)
	for _, w := range []string{"Pat Coach (coach) [verified]: reject " + k[13], "Jane Doe (apprentice) [unsigned]: accept " + k[13],
		"conflicts (decisions that did not apply):", k[13] + ": Pat Coach (coach) reject on"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("show lacks %q:\n%s", w, r.stdout)
		}
	}
	r = cli(t, "-c", cfg, "show", forged, "--json")
	mustCode(t, r, 0)
	var shown struct {
		Reviews []map[string]any
	}
	if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil || len(shown.Reviews) != 1 ||
		shown.Reviews[0]["signature_status"] != "unknown_key" || shown.Reviews[0]["by"] != "Ann Assessor" {
		t.Errorf("show --json: %v %v", err, shown.Reviews)
	}

	// One byte of the coach's stored decision changes: reported, and its
	// KSBs are no longer confirmed.
	path := filepath.Join(rl.dir, ".ksbfolio", "apprentices", "jane", "reviews", coached+".json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("sprint"))
	b[i] = 'S'
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r = cli(t, "-c", cfg, "verify-reviews")
	mustCode(t, r, exitError)
	if !strings.Contains(r.stdout, "FAIL "+coached) || !strings.Contains(r.stdout, ": invalid: the signature does not verify") {
		t.Errorf("verify-reviews after a changed byte:\n%s", r.stdout)
	}
	if sets, _, _, _, _ := coverageSets(t, cfg); len(sets["confirmed"]) != 0 {
		t.Errorf("confirmed after tampering: %v", sets["confirmed"])
	}
	b[i] = 's'
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if sets, _, _, _, _ := coverageSets(t, cfg); !slices.Equal(sets["confirmed"], k[8:12]) {
		t.Fatalf("restored byte: confirmed %v", sets["confirmed"])
	}

	// The coach's item is re-collected with different content: stale.
	rl.put(t, "ccc", "Coach confirms (amended commit message)", nil, k[8:12])
	r = cli(t, "-c", cfg, "verify-reviews", "--json")
	mustCode(t, r, exitError)
	var vr struct {
		Checked, Verified int
		Failed            []map[string]any
	}
	if err := json.Unmarshal([]byte(r.stdout), &vr); err != nil {
		t.Fatal(err)
	}
	var stale bool
	for _, f := range vr.Failed {
		if f["item"] == coached && f["signature_status"] == "stale" {
			stale = true
		}
	}
	if !stale || vr.Checked != 3 || vr.Verified != 1 {
		t.Errorf("verify-reviews after re-collection: %+v", vr)
	}
	if sets, _, _, _, _ := coverageSets(t, cfg); len(sets["confirmed"]) != 0 || !slices.Contains(sets["claimed"], k[8]) {
		t.Errorf("after re-collection: confirmed %v, claimed %v", sets["confirmed"], sets["claimed"])
	}
	r = cli(t, "-c", cfg, "show", coached)
	if !strings.Contains(r.stdout, "[stale]") || !strings.Contains(r.stdout, "the item's content changed since it was signed") {
		t.Errorf("show after re-collection:\n%s", r.stdout)
	}
}

// TestKeygen: a PEM key pair, the private key 0600, never overwritten.
func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "pat")
	r := cli(t, "keygen", "-o", name)
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "key sha256:") || !strings.Contains(r.stdout, "public_key: ./pat.pub") {
		t.Errorf("keygen output:\n%s", r.stdout)
	}
	priv, err := os.Stat(name + ".key")
	if err != nil || priv.Mode().Perm() != 0o600 {
		t.Fatalf("private key: %v %v", err, priv)
	}
	for f, head := range map[string]string{".key": "-----BEGIN PRIVATE KEY-----\n", ".pub": "-----BEGIN PUBLIC KEY-----\n"} {
		b, err := os.ReadFile(name + f)
		if err != nil || !bytes.HasPrefix(b, []byte(head)) {
			t.Errorf("%s: %v %q", f, err, b)
		}
	}
	before, _ := os.ReadFile(name + ".key")
	r = cli(t, "keygen", "-o", name)
	if r.code != exitError || !strings.Contains(r.stderr, "pat.key exists; keygen never overwrites a key") {
		t.Errorf("second keygen: %+v", r)
	}
	if after, _ := os.ReadFile(name + ".key"); !bytes.Equal(before, after) {
		t.Error("keygen overwrote the private key")
	}
	os.Remove(name + ".key") // the .pub alone still blocks
	mustCode(t, cli(t, "keygen", "-o", name), exitError)
	if _, err := os.Stat(name + ".key"); err == nil {
		t.Error("keygen wrote a private key beside an existing public one")
	}
	mustCode(t, cli(t, "keygen"), exitUsage)

	// A configured key that cannot be read stops the workspace, naming
	// the reviewer.
	cfg := filepath.Join(dir, "ksbfolio.yaml")
	writeFile(t, cfg, "apprentice: {id: jane, emails: [jane@example.com]}\nsources: []\nreviewers: [{name: Ann, role: assessor, public_key: ./ann.pub}]\n")
	r = cli(t, "-c", cfg, "coverage")
	if r.code != exitUsage || !strings.Contains(r.stderr, "reviewers[0] (Ann, assessor): read public key") {
		t.Errorf("missing reviewer key: %+v", r)
	}

	// A private key others can read is refused when signing.
	rl := newReviewLedger(t)
	id := rl.put(t, "a", "x", nil, []string{"K1"})
	if err := os.Chmod(rl.key("pat"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = cli(t, "-c", rl.cfg, "review", id, "--accept", "K1", "--role", "coach", "--sign-key", rl.key("pat"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "lets others read it") {
		t.Errorf("world-readable key: %+v", r)
	}
}

// TestReviewUnknownKSB: a typo in --accept is refused, naming the
// catalogue and the closest IDs, unless --allow-unknown.
func TestReviewUnknownKSB(t *testing.T) {
	rl := newReviewLedger(t)
	id := rl.put(t, "a", "x", nil, []string{"S9"})
	r := cli(t, "-c", rl.cfg, "review", id, "--accept", "S99")
	if r.code != exitUsage || !strings.Contains(r.stderr, "catalogue st1398-v1.0 has no S99 (closest: S29, S19, S9); nothing recorded") {
		t.Errorf("typo: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(rl.dir, ".ksbfolio", "apprentices", "jane", "reviews", id+".json")); err == nil {
		t.Error("the refused decision was stored")
	}
	r = cli(t, "-c", rl.cfg, "review", id, "--accept", "S99", "--allow-unknown")
	mustCode(t, r, 0)
	if !strings.Contains(r.stderr, "S99 is not in catalogue st1398-v1.0; recorded (--allow-unknown)") {
		t.Errorf("allowed: %q", r.stderr)
	}
	// Rejecting an ID the catalogue lacks is how a typo at the source is undone.
	mustCode(t, cli(t, "-c", rl.cfg, "review", id, "--reject", "K99"), 0)
}

// TestBulkAcceptSuggested: without --yes nothing changes and the list of
// what would change is printed; with --yes one decision per item.
func TestBulkAcceptSuggested(t *testing.T) {
	rl := newReviewLedger(t)
	a := rl.put(t, "a", "first", nil, []string{"K12", "S10"})
	b := rl.put(t, "bb", "second", nil, []string{"K12"})
	c := rl.put(t, "ccc", "already reviewed", nil, []string{"K12"})
	rl.put(t, "dddd", "other KSB", nil, []string{"S10"})
	mustCode(t, cli(t, "-c", rl.cfg, "review", c, "--reject", "K12"), 0)
	reviews := filepath.Join(rl.dir, ".ksbfolio", "apprentices", "jane", "reviews")
	before := readDir(t, reviews)

	r := cli(t, "-c", rl.cfg, "review", "--ksb", "K12", "--source", "model-repo", "--accept-suggested", "--role", "coach", "--sign-key", rl.key("pat"))
	mustCode(t, r, 0)
	for _, w := range []string{"would record Pat Coach's acceptance (coach) on 2 items from source model-repo:", a + "  2026-05-01  model-repo   accept K12",
		b + "  2026-05-01  model-repo   accept K12", "nothing recorded: run again with --yes to record these 2 decisions"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("dry run lacks %q:\n%s", w, r.stdout)
		}
	}
	if strings.Contains(r.stdout, c) {
		t.Errorf("dry run lists the reviewed item:\n%s", r.stdout)
	}
	after := readDir(t, reviews)
	if len(after) != len(before) || !bytes.Equal(after[c+".json"], before[c+".json"]) {
		t.Fatalf("bulk without --yes changed the reviews: %v → %v", keys(before), keys(after))
	}
	mustCode(t, cli(t, "-c", rl.cfg, "review", "--ksb", "K12", "--accept-suggested", "--source", "elsewhere"), 0)
	mustCode(t, cli(t, "-c", rl.cfg, "review", "--accept-suggested"), exitUsage)
	mustCode(t, cli(t, "-c", rl.cfg, "review", a, "--ksb", "K12", "--accept-suggested"), exitUsage)

	r = cli(t, "-c", rl.cfg, "review", "--ksb", "K12", "--accept-suggested", "--role", "coach", "--sign-key", rl.key("pat"), "--yes")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "recorded 2 decisions") {
		t.Errorf("bulk --yes:\n%s", r.stdout)
	}
	sets, by, _, _, _ := coverageSets(t, rl.cfg)
	_ = sets
	if got := by["K12"]; !slices.Equal(got[0], sortedIDs(a, b)) {
		t.Errorf("K12 confirmed_by %v", got[0])
	}
	if got := by["S10"]; len(got[0]) != 0 || len(got[2]) != 2 {
		t.Errorf("S10 (not bulk-accepted) by %v", got)
	}
	// Nothing left to accept: a second run records nothing.
	r = cli(t, "-c", rl.cfg, "review", "--ksb", "K12", "--accept-suggested", "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "nothing to do") {
		t.Errorf("second bulk run: %+v", r)
	}

	// The review queue.
	for status, want := range map[string][]string{
		"suggested":  {a, rl.itemID("dddd")},
		"confirmed":  {a, b},
		"unreviewed": {rl.itemID("dddd")},
		"claimed":    {},
	} {
		var got []string
		for _, v := range viewsJSON(t, rl.cfg, "--status", status) {
			got = append(got, v.ID)
		}
		if !slices.Equal(sortedIDs(got...), sortedIDs(want...)) {
			t.Errorf("items --status %s = %v, want %v", status, got, want)
		}
	}
	mustCode(t, cli(t, "-c", rl.cfg, "items", "--status", "pending"), exitUsage)
}

func (rl *reviewLedger) itemID(name string) string { return evidence.NewID("git", name) }

func sortedIDs(ids ...string) []string {
	out := append([]string{}, ids...)
	slices.Sort(out)
	return out
}

// TestVerifyOffline: scripts/verify-review.py, which rebuilds the content
// hash and the signed payload from docs/ledger.md alone (Python and
// OpenSSL, no ksbfolio code), verifies what review --sign-key stored, and
// catches a changed note and a changed item.
func TestVerifyOffline(t *testing.T) {
	for _, tool := range []string{"python3", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	rl := newReviewLedger(t)
	id := rl.put(t, "a", "Title with <&> and é", nil, []string{"K1"})
	mustCode(t, cli(t, "-c", rl.cfg, "review", id, "--accept", "K1", "--role", "coach", "--sign-key", rl.key("pat"),
		"--note", "line one\nline \"two\"\ttab", "--confidential"), 0)
	mustCode(t, cli(t, "-c", rl.cfg, "review", id, "--reject", "K1", "--role", "coach", "--sign-key", rl.key("pat")), 0)
	jane := filepath.Join(rl.dir, ".ksbfolio", "apprentices", "jane")
	itemFile, reviewFile := filepath.Join(jane, "items", id+".json"), filepath.Join(jane, "reviews", id+".json")
	script := filepath.Join("..", "..", "scripts", "verify-review.py")
	run := func(pub string) (string, int) {
		out, err := exec.Command("python3", script, itemFile, reviewFile, pub).CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		code := 0
		if ee != nil {
			code = ee.ExitCode()
		}
		return string(out), code
	}
	if out, code := run(filepath.Join(rl.dir, "pat.pub")); code != 0 || strings.Count(out, "OK ") != 2 {
		t.Fatalf("offline verification: exit %d\n%s", code, out)
	}
	if out, code := run(filepath.Join(rl.dir, "erin.pub")); code != 1 || strings.Count(out, "FAIL ") != 2 {
		t.Errorf("another key: exit %d\n%s", code, out)
	}
	b, err := os.ReadFile(reviewFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(reviewFile, bytes.Replace(b, []byte("line one"), []byte("line One"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := run(filepath.Join(rl.dir, "pat.pub")); code != 1 || strings.Count(out, "FAIL ") != 1 || strings.Count(out, "OK ") != 1 {
		t.Errorf("changed note: exit %d\n%s", code, out)
	}
	if err := os.WriteFile(reviewFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rl.put(t, "a", "Title changed", nil, []string{"K1"})
	if out, code := run(filepath.Join(rl.dir, "pat.pub")); code != 1 || strings.Count(out, "STALE ") != 2 {
		t.Errorf("changed item: exit %d\n%s", code, out)
	}
}

// TestReviewConfidentialClear: the coach's signed --confidential=false does
// not clear the apprentice's marking (show explains why, and the pack
// withholds the item); the employer's signed one does, and the item goes in
// the pack.
func TestReviewConfidentialClear(t *testing.T) {
	rl := newReviewLedger(t)
	id := rl.put(t, "costplan", "Quarterly cost plan", []string{"K1"}, nil)
	mustCode(t, cli(t, "-c", rl.cfg, "review", id, "--confidential"), 0)
	mustCode(t, cli(t, "-c", rl.cfg, "review", id, "--confidential=false", "--role", "coach", "--sign-key", rl.key("pat")), 0)

	type shown struct {
		Confidential bool
		Conflicts    []evidence.Conflict
	}
	show := func() shown {
		t.Helper()
		r := cli(t, "-c", rl.cfg, "show", id, "--json")
		mustCode(t, r, 0)
		var s shown
		if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// packed reports whether the item's content is in a fresh pack.
	packed := func(name string) bool {
		t.Helper()
		out := filepath.Join(t.TempDir(), name)
		mustCode(t, cli(t, "-c", rl.cfg, "pack", "-o", out), 0)
		html, err := os.ReadFile(filepath.Join(out, "index.html"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Contains(string(html), "Quarterly cost plan")
	}

	s := show()
	if !s.Confidential || len(s.Conflicts) != 1 {
		t.Fatalf("after the coach's clearing: confidential %v, conflicts %+v", s.Confidential, s.Conflicts)
	}
	if c := s.Conflicts[0]; c.Flag != "confidential" || c.Kept.Role != "apprentice" || c.Kept.Action != "confidential=true" ||
		c.Overruled.Role != "coach" || c.Overruled.By != "Pat Coach" || c.Overruled.Action != "confidential=false" {
		t.Errorf("conflict %+v", c)
	}
	r := cli(t, "-c", rl.cfg, "show", id)
	mustCode(t, r, 0)
	for _, w := range []string{"confidential: Jane Doe (apprentice) confidential=true on", "stands over Pat Coach (coach) confidential=false on"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("show lacks %q:\n%s", w, r.stdout)
		}
	}
	if packed("coached") {
		t.Error("the coach's clearing released the item into the pack")
	}

	mustCode(t, cli(t, "-c", rl.cfg, "review", id, "--confidential=false", "--role", "employer", "--sign-key", rl.key("erin")), 0)
	if s := show(); s.Confidential || len(s.Conflicts) != 1 {
		t.Errorf("after the employer's clearing: confidential %v, conflicts %+v", s.Confidential, s.Conflicts)
	}
	if !packed("employer") {
		t.Error("the employer's clearing did not release the item into the pack")
	}
}
