package main

// Tests of the built-in official catalogue as the CLI shows and uses it:
// standard show / list / import, what the portfolio covers, the version
// that applies, and upgrading a ledger made against the earlier list.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// officialList reads the embedded copy of the official list (itself
// checked byte for byte against the project's reference file by
// evidence/ksb's TestBuiltinVerbatim) with a plain YAML decoder.
func officialList(t *testing.T) (ksbs []officialKSB, duties []officialDuty) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "evidence", "ksb", "builtin", "st1398-v1.0.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		KSBs   []officialKSB  `yaml:"ksbs"`
		Duties []officialDuty `yaml:"duties"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.KSBs) != 70 || len(f.Duties) != 9 {
		t.Fatalf("official list has %d KSBs and %d duties", len(f.KSBs), len(f.Duties))
	}
	return f.KSBs, f.Duties
}

type officialKSB struct {
	ID, Kind, Text string
	Methods        []string
	GradeTheme     string `yaml:"grade_theme"`
}

type officialDuty struct {
	ID, Text string
	KSBs     []string `yaml:"ksbs"`
}

// TestStandardShowOfficial: `standard show st1398-v1.0` lists all 70 KSBs,
// each statement exactly as in the official list, with its kind, method
// and grade theme, and the duties with their KSBs; it shows the licence
// and attribution, and never a label.
func TestStandardShowOfficial(t *testing.T) {
	ksbs, duties := officialList(t)
	t.Chdir(t.TempDir())
	r := cli(t, "standard", "show", "st1398-v1.0")
	mustCode(t, r, 0)
	out := r.stdout
	for _, k := range ksbs {
		head := fmt.Sprintf("\n%-4s %-9s %s · %s", k.ID, k.Kind, strings.Join(k.Methods, ", "), k.GradeTheme)
		if !strings.Contains(out, head) {
			t.Errorf("%s: no line %q", k.ID, head)
		}
		if !strings.Contains(out, "\n     "+k.Text+"\n") {
			t.Errorf("%s: statement not shown verbatim: %q", k.ID, k.Text)
		}
	}
	for _, d := range duties {
		if !strings.Contains(out, "\n  "+d.ID+": "+d.Text+"\n      KSBs: "+strings.Join(d.KSBs, " ")+"\n") {
			t.Errorf("duty %s not shown with its KSBs", d.ID)
		}
	}
	for _, want := range []string{"complete: all 70 KSBs of the standard (31 knowledge, 34 skills, 5 behaviours)", "licence: OGL-UK-3.0",
		"Contains public sector information licensed under the Open Government Licence v3.0",
		"professional_discussion (professional discussion): 39 KSBs", "Engineering principles: K1 K5 K18 K20 K30 S33 S34",
		"revised (number not shown): starts from 2026-12-11", "approved_for_delivery: 2024-12-18"} {
		if !strings.Contains(out, want) {
			t.Errorf("standard show lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(out), "label") {
		t.Errorf("standard show mentions a label:\n%s", out)
	}

	r = cli(t, "standard", "show", "st1398-v1.0", "--json")
	mustCode(t, r, 0)
	var c struct {
		Revision string
		Complete bool
		KSBs     []struct{ ID, Statement string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Revision) != 16 || !c.Complete || len(c.KSBs) != 70 || c.KSBs[0].Statement != ksbs[0].Text {
		t.Errorf("show --json: revision %q complete %v, %d KSBs", c.Revision, c.Complete, len(c.KSBs))
	}
}

// coverageJSON runs `coverage --json`.
type coverageJSON struct {
	Catalogue   string
	Revision    string `json:"catalogue_revision"`
	Complete    bool
	Ready       bool
	ReadyReason string `json:"ready_reason"`
	Covers      struct {
		Set  string
		KSBs []string
	}
	Summary, Others struct{ Evidenced, Suggested, Gap, Total int }
	Version         *struct {
		Applies string
		Current bool
		Note    string
	} `json:"standard_version"`
	StaleItems int `json:"stale_items"`
	KSBs       []struct {
		KSB, Kind, Status, Method string
		GradeTheme                string `json:"grade_theme"`
		Counted                   bool
	} `json:"ksbs"`
}

func coverageOf(t *testing.T, cfg string) coverageJSON {
	t.Helper()
	r := cli(t, "-c", cfg, "coverage", "--json")
	mustCode(t, r, 0)
	var c coverageJSON
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
		t.Fatalf("coverage --json: %v\n%s", err, r.stdout)
	}
	return c
}

// TestPortfolioCovers: by default coverage counts the 39 KSBs of the
// professional discussion, grouped by theme; `portfolio: {covers: all}`
// counts 70 and a list counts what it lists. A ledger with all 39 claimed
// is not ready, and the reason names them; one rejected is a gap.
func TestPortfolioCovers(t *testing.T) {
	dir, cfg, _ := gitWorkspace(t, 40, "")
	base, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mustCode(t, cli(t, "-c", cfg, "run"), 0)

	c := coverageOf(t, cfg)
	if c.Covers.Set != "professional_discussion" || len(c.Covers.KSBs) != 39 || c.Summary.Total != 39 || c.Others.Total != 31 || !c.Complete {
		t.Fatalf("default: covers %s (%d), summary %+v, others %+v", c.Covers.Set, len(c.Covers.KSBs), c.Summary, c.Others)
	}
	for _, row := range c.KSBs {
		if row.Status != "not_in_catalogue" && (row.Method == "" || row.GradeTheme == "" || row.Counted != (row.Method == "professional_discussion")) {
			t.Errorf("row %+v: want its method and theme, counted only for the professional discussion", row)
		}
	}
	r := cli(t, "-c", cfg, "coverage")
	mustCode(t, r, 0)
	table := r.stdout
	for _, want := range []string{"The portfolio covers the 39 KSBs assessed by the professional discussion:",
		"· professional discussion — Engineering principles\n", "· professional discussion — Continuous professional development\n",
		"Also shown, not counted: the other 31 KSBs, assessed by the project evaluation report, presentation and questioning:",
		"· project evaluation report, presentation and questioning — Sustainability\n",
		"standard: the apprentice's start date is not set"} {
		if !strings.Contains(table, want) {
			t.Errorf("coverage table lacks %q:\n%s", want, table)
		}
	}
	if i, j := strings.Index(table, "— Engineering principles"), strings.Index(table, "— Model scoping"); i < 0 || j < i {
		t.Errorf("professional discussion themes do not come first:\n%s", table)
	}

	writeFile(t, cfg, string(base)+"portfolio: {covers: all}\n")
	if c := coverageOf(t, cfg); c.Covers.Set != "all" || c.Summary.Total != 70 || c.Others.Total != 0 {
		t.Errorf("covers all: %+v %+v", c.Covers, c.Summary)
	}
	writeFile(t, cfg, string(base)+"portfolio:\n  covers: [k1, S24]\n")
	if c := coverageOf(t, cfg); c.Covers.Set != "listed" || !slices.Equal(c.Covers.KSBs, []string{"K1", "S24"}) || c.Summary.Total != 2 {
		t.Errorf("covers [K1, S24]: %+v %+v", c.Covers, c.Summary)
	}
	for cover, want := range map[string]string{
		"exam":      "portfolio.covers: exam: not an assessment method of catalogue st1398-v1.0",
		"[K1, S35]": "portfolio.covers: catalogue st1398-v1.0 has no S35",
		"[Q1]":      `portfolio.covers: "Q1" is not a KSB ID`,
	} {
		writeFile(t, cfg, string(base)+"portfolio: {covers: "+cover+"}\n")
		r := cli(t, "-c", cfg, "coverage")
		if r.code != exitUsage || !strings.Contains(r.stderr, want) {
			t.Errorf("covers %s: exit %d, stderr %q; want %d and %q", cover, r.code, r.stderr, exitUsage, want)
		}
	}

	// Evidence all 39 by hand: ready. Reject one: not ready, named.
	writeFile(t, cfg, string(base))
	doc := filepath.Join(dir, "portfolio.md")
	writeFile(t, doc, "Everything the discussion needs.\n")
	r = cli(t, "-c", cfg, "add", doc, "--title", "All of it", "--date", "2026-06-01", "--ksb", strings.Join(c.Covers.KSBs, ","))
	mustCode(t, r, 0)
	if c := coverageOf(t, cfg); c.Ready || !strings.HasPrefix(c.ReadyReason, "39 of 39 KSBs assessed by the professional discussion not yet confirmed; 39 claimed but not confirmed: K1, K4, K5") {
		t.Fatalf("all 39 claimed: ready %v %q", c.Ready, c.ReadyReason)
	}
	id := strings.Fields(strings.TrimPrefix(r.stdout, "added "))[0]
	id = strings.TrimSuffix(id, ":")
	mustCode(t, cli(t, "-c", cfg, "review", id, "--reject", "S25", "--by", "Jane", "--role", "apprentice"), 0)
	if c := coverageOf(t, cfg); c.Ready || !strings.HasSuffix(c.ReadyReason, "; 1 with no evidence: S25") {
		t.Errorf("S25 rejected: ready %v %q", c.Ready, c.ReadyReason)
	}
	// A configured coach confirms all 39, signed: ready (the coach's
	// acceptance of S25 stands over the apprentice's earlier rejection).
	mustCode(t, cli(t, "keygen", "-o", filepath.Join(dir, "pat")), 0)
	writeFile(t, cfg, string(base)+"reviewers: [{name: Pat Coach, role: coach, public_key: ./pat.pub}]\n")
	mustCode(t, cli(t, "-c", cfg, "review", id, "--accept", strings.Join(c.Covers.KSBs, ","), "--role", "coach", "--sign-key", filepath.Join(dir, "pat.key")), 0)
	if c := coverageOf(t, cfg); !c.Ready || c.ReadyReason != "all 39 KSBs assessed by the professional discussion are confirmed by a configured reviewer" {
		t.Errorf("all 39 confirmed: ready %v %q", c.Ready, c.ReadyReason)
	}
	if r := cli(t, "-c", cfg, "coverage"); !strings.Contains(r.stdout, "gateway ready: yes") {
		t.Errorf("table does not say ready:\n%s", r.stdout)
	}
}

// TestStandardVersions: `standard list` shows the version log; the
// apprentice's start picks the version that applies and coverage says
// which; a list for the revised version imports beside v1.0, and tags
// keep naming the catalogue they were made against.
func TestStandardVersions(t *testing.T) {
	dir, cfg, _ := gitWorkspace(t, 30, "")
	base, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	withStart := func(start, standard string) {
		s := strings.Replace(string(base), "  name: Jane Doe\n", "  name: Jane Doe\n  start: "+start+"\n", 1)
		s = strings.Replace(s, "standard: st1398-v1.0\n", "standard: "+standard+"\n", 1)
		writeFile(t, cfg, s)
	}
	withStart("2025-08-30", "st1398-v1.0")
	mustCode(t, cli(t, "-c", cfg, "run"), 0)

	r := cli(t, "-c", cfg, "standard", "list")
	mustCode(t, r, 0)
	for _, want := range []string{"ST1398 version log (from st1398-v1.0):", "1.0                         starts 2024-12-18 to 2026-12-10",
		"catalogue: st1398-v1.0", "revised (number not shown)  starts from 2026-12-11",
		"its KSB list is not known yet: when published, import it with `ksbfolio standard import FILE --id st1398-v2.0`"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("standard list lacks %q:\n%s", want, r.stdout)
		}
	}
	if c := coverageOf(t, cfg); c.Version == nil || c.Version.Applies != "1.0" || !c.Version.Current {
		t.Errorf("2025 start: version %+v", c.Version)
	}

	withStart("2027-01-04", "st1398-v1.0")
	c := coverageOf(t, cfg)
	if c.Version == nil || c.Version.Current || c.Version.Applies != "revised (number not shown)" ||
		!strings.Contains(c.Version.Note, "its KSB list is not known to this catalogue, which is version 1.0") {
		t.Errorf("2027 start against v1.0: version %+v", c.Version)
	}
	if r := cli(t, "-c", cfg, "coverage"); !strings.Contains(r.stdout, "standard: the apprentice started on 2027-01-04, so the revised (number not shown) version") {
		t.Errorf("coverage table does not say which version applies:\n%s", r.stdout)
	}

	v2 := filepath.Join(dir, "st1398-v2.txt")
	writeFile(t, v2, "K1: A revised knowledge statement.\nS1: A revised skill.\nS10: Monitor models in the live environment.\nB1: A revised behaviour.\n")
	r = cli(t, "-c", cfg, "standard", "import", v2, "--id", "st1398-v2.0", "--complete")
	mustCode(t, r, 0)
	r = cli(t, "-c", cfg, "standard", "list")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "st1398-v1.0  built-in") || !strings.Contains(r.stdout, "st1398-v2.0  imported  ST1398 v2.0") ||
		!strings.Contains(r.stdout, "catalogue: st1398-v2.0") {
		t.Errorf("standard list after importing v2.0:\n%s", r.stdout)
	}

	withStart("2027-01-04", "st1398-v2.0")
	mustCode(t, cli(t, "-c", cfg, "retag"), 0)
	c = coverageOf(t, cfg)
	if c.Catalogue != "st1398-v2.0" || c.Version == nil || !c.Version.Current || c.StaleItems != 0 || c.Summary.Total != 4 {
		t.Errorf("against v2.0: catalogue %s, version %+v, stale %d, summary %+v", c.Catalogue, c.Version, c.StaleItems, c.Summary)
	}
	for _, it := range itemsJSON(t, cfg) {
		for _, tg := range it.Tags {
			if tg.Catalogue != "st1398-v2.0" || tg.Revision != c.Revision {
				t.Fatalf("%s: tag %+v does not name st1398-v2.0 at revision %s", it.ID, tg, c.Revision)
			}
		}
	}
	// Back on v1.0 without retagging: coverage says the tags were made
	// against another catalogue.
	withStart("2025-08-30", "st1398-v1.0")
	if c := coverageOf(t, cfg); c.StaleItems == 0 {
		t.Errorf("tags made against v2.0 are not reported as stale against v1.0")
	}
}

// TestRetagLedgerFromPreviousVersion upgrades a ledger written by the
// previous version (testdata/ledger-v0: tags against the 31-KSB list, no
// revisions; K1, S1 and S33 declared but "not in catalogue"). run says the
// catalogue changed; retag keeps every item and review, turns the former
// "not in catalogue" declarations into catalogue KSBs and reports the
// change; afterwards nothing is stale.
func TestRetagLedgerFromPreviousVersion(t *testing.T) {
	requireGit(t)
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "store"), os.DirFS(filepath.Join("testdata", "ledger-v0", "store"))); err != nil {
		t.Fatal(err)
	}
	// An empty repository: run collects nothing and still checks coverage.
	repo := filepath.Join(dir, "fraud-model")
	ctx := context.Background()
	if _, err := demorepo.Git(ctx, dir, "init", "-q", repo); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "ksbfolio.yaml")
	writeFile(t, cfg, `apprentice: {id: jdoe, name: Jane Doe, emails: [jane@corp.example], start: 2025-08-30}
store: ./store
sources:
  - {name: fraud-model, type: git, path: ./fraud-model}
`)
	jdoe := filepath.Join(dir, "store", "apprentices", "jdoe")
	itemsBefore := readDir(t, filepath.Join(jdoe, "items"))
	reviewsBefore := readDir(t, filepath.Join(jdoe, "reviews"))
	if len(itemsBefore) != 34 || len(reviewsBefore) != 5 {
		t.Fatalf("fixture has %d items and %d reviews, want 34 and 5", len(itemsBefore), len(reviewsBefore))
	}

	c := coverageOf(t, cfg)
	if c.StaleItems != 33 {
		t.Errorf("before retag: %d stale items, want 33 (every tagged item)", c.StaleItems)
	}
	r := cli(t, "-c", cfg, "run")
	if !strings.Contains(r.stdout, "warning: catalogue st1398-v1.0 (revision "+c.Revision+") changed since 33 stored items were tagged") ||
		!strings.Contains(r.stdout, "run `ksbfolio retag`") {
		t.Errorf("run does not say the catalogue changed:\n%s\n%s", r.stdout, r.stderr)
	}

	r = cli(t, "-c", cfg, "retag")
	mustCode(t, r, 0)
	for _, want := range []string{
		"retagged 34 items against st1398-v1.0: 33 changed",
		"catalogue st1398-v1.0 changed: revision (none recorded) → " + c.Revision,
		"the portfolio covers: 31 KSBs of catalogue st1398-v1.0 → 39 KSBs assessed by the professional discussion",
		"declared before but not in the catalogue, now in it: K1 (claimed), S1 (claimed), S33 (claimed)",
		"still not in the catalogue (declared or accepted on evidence): K99",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("retag output lacks %q:\n%s", want, r.stdout)
		}
	}

	// Nothing is lost: the same items, every declared tag kept, every
	// review byte for byte.
	itemsAfter := readDir(t, filepath.Join(jdoe, "items"))
	if !slices.Equal(keys(itemsAfter), keys(itemsBefore)) {
		t.Errorf("items before %v\nafter %v", keys(itemsBefore), keys(itemsAfter))
	}
	for name, before := range itemsBefore {
		var was, now evidence.Item
		if err := json.Unmarshal(before, &was); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(itemsAfter[name], &now); err != nil {
			t.Fatal(err)
		}
		if was.ID != now.ID || was.Title != now.Title || !equalJSON(t, was.Facts, now.Facts) || len(was.Artefacts) != len(now.Artefacts) {
			t.Errorf("%s changed beyond its tags", name)
		}
		for _, tg := range was.Tags {
			if tg.IsDeclared() && !slices.ContainsFunc(now.Tags, func(n evidence.Tag) bool { return n.KSB == tg.KSB && n.By == tg.By }) {
				t.Errorf("%s: declared %s (%s) lost", name, tg.KSB, tg.By)
			}
		}
		for _, tg := range now.Tags {
			if tg.Catalogue != "st1398-v1.0" || tg.Revision != c.Revision {
				t.Errorf("%s: tag %+v not at revision %s", name, tg, c.Revision)
			}
		}
	}
	reviewsAfter := readDir(t, filepath.Join(jdoe, "reviews"))
	if len(reviewsAfter) != len(reviewsBefore) {
		t.Errorf("%d reviews after, %d before", len(reviewsAfter), len(reviewsBefore))
	}
	for name, b := range reviewsBefore {
		if !bytes.Equal(reviewsAfter[name], b) {
			t.Errorf("review %s changed", name)
		}
	}

	c = coverageOf(t, cfg)
	status := map[string]string{}
	for _, row := range c.KSBs {
		status[row.KSB] = row.Status
	}
	for id, want := range map[string]string{"K1": "claimed", "S1": "claimed", "S33": "claimed", "K99": "not_in_catalogue",
		"S10": "claimed", "S19": "claimed"} {
		if status[id] != want {
			t.Errorf("%s is %q after retag, want %q", id, status[id], want)
		}
	}
	if c.StaleItems != 0 {
		t.Errorf("%d stale items after retag", c.StaleItems)
	}
	if r := cli(t, "-c", cfg, "run"); strings.Contains(r.stdout, "changed since") {
		t.Errorf("run still says the catalogue changed after retag:\n%s", r.stdout)
	}
}

// readDir returns the files of a folder by name.
func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[filepath.Base(p)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func keys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}

// TestStandardImportErrorHeading: a catalogue with a problem exits 2 with
// its own context (which file, read as what) and file:line: path: message,
// never under the config's "invalid config:" heading, though both come
// from the same strict YAML walker (internal/yamlstrict).
func TestStandardImportErrorHeading(t *testing.T) {
	_, cfg, _ := gitWorkspace(t, 3, "")
	cat := filepath.Join(t.TempDir(), "cat.yaml")
	writeFile(t, cat, "id: x\nksbs:\n  - {id: K1, txet: y}\n")
	r := cli(t, "-c", cfg, "standard", "import", cat)
	mustCode(t, r, 2)
	if !strings.Contains(r.stderr, "import "+cat+": read as a catalogue (yaml): "+cat+":3:") ||
		!strings.Contains(r.stderr, "txet") || strings.Contains(r.stderr, "invalid config") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}
