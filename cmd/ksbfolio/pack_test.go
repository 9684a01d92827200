package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/pack"
	"github.com/ksbfolio/ksbfolio/evidence/workbook"
	"github.com/ksbfolio/ksbfolio/internal/chromiumtest"
	"github.com/xuri/excelize/v2"
)

// packWorkspace makes the demo workspace and returns its config.
func packWorkspace(t *testing.T) (dir, cfg string) {
	t.Helper()
	requireGit(t)
	dir = filepath.Join(t.TempDir(), "demo")
	mustCode(t, cli(t, "demo", dir, "--commits", "200"), 0)
	return dir, filepath.Join(dir, "ksbfolio.yaml")
}

// TestPackVerify: two zips of one ledger built a second apart, in other
// time zones and umasks, are the same bytes; verify passes on them and
// on a signed folder, and fails naming the file after a byte changes, a
// file is removed or added, or the key is not the signer's.
func TestPackVerify(t *testing.T) {
	dir, cfg := packWorkspace(t)
	out := t.TempDir()
	zipAt := func(name, tz string, umask int) []byte {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			t.Fatal(err)
		}
		old := time.Local
		time.Local = loc
		prev := syscall.Umask(umask)
		r := cli(t, "--config", cfg, "pack", "--max-items", "6", "-o", filepath.Join(out, name))
		syscall.Umask(prev)
		time.Local = old
		mustCode(t, r, 0)
		if !strings.Contains(r.stdout, "6 items") || !strings.Contains(r.stdout, "uncovered:") {
			t.Errorf("pack output:\n%s", r.stdout)
		}
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := zipAt("a.zip", "UTC", 0o022)
	time.Sleep(1100 * time.Millisecond)
	b := zipAt("b.zip", "America/St_Johns", 0o077)
	if !bytes.Equal(a, b) {
		t.Fatal("two packs of the same ledger differ")
	}
	if r := cli(t, "verify", filepath.Join(out, "a.zip")); r.code != 0 || !strings.HasPrefix(r.stdout, "OK ") {
		t.Fatalf("verify fresh zip: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	mustCode(t, cli(t, "--config", cfg, "pack", "-o", filepath.Join(out, "a.zip")), exitError) // never overwrites

	key := filepath.Join(out, "employer")
	mustCode(t, cli(t, "keygen", "-o", key), 0)
	other := filepath.Join(out, "other")
	mustCode(t, cli(t, "keygen", "-o", other), 0)
	signed := filepath.Join(out, "signed")
	mustCode(t, cli(t, "--config", cfg, "pack", "-o", signed, "--sign-key", key+".key"), 0)
	if r := cli(t, "verify", signed, "--pub-key", key+".pub"); r.code != 0 || !strings.Contains(r.stdout, "signature verified") {
		t.Fatalf("verify signed: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := cli(t, "verify", signed, "--pub-key", other+".pub"); r.code != exitError || !strings.Contains(r.stdout, "SIGNATURE manifest.json.sig does not match") {
		t.Errorf("verify with another key: %d\n%s", r.code, r.stdout)
	}
	_ = dir
	for _, tc := range []struct {
		name, want string
		break_     func(d string) error
	}{
		{"byte", "CHANGED index.html", func(d string) error {
			p := filepath.Join(d, "index.html")
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[100] ^= 0x20
			return os.WriteFile(p, b, 0o644)
		}},
		{"removed", "MISSING index.html", func(d string) error { return os.Remove(filepath.Join(d, "index.html")) }},
		{"added", "EXTRA notes.txt", func(d string) error { return os.WriteFile(filepath.Join(d, "notes.txt"), nil, 0o644) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := filepath.Join(t.TempDir(), "p")
			mustCode(t, cli(t, "--config", cfg, "pack", "-o", d), 0)
			mustCode(t, cli(t, "verify", d), 0)
			if err := tc.break_(d); err != nil {
				t.Fatal(err)
			}
			r := cli(t, "verify", d)
			if r.code != exitError || !strings.Contains(r.stdout, tc.want) {
				t.Errorf("verify after %s: %d, want %q in:\n%s", tc.name, r.code, tc.want, r.stdout)
			}
		})
	}
}

// TestPackPDF builds the demo's pack as a folder with --pdf, loads its
// index.html in headless Chromium with the network off and checks that no
// request leaves the page, that the rendered DOM holds the cover, the
// matrix, every item the manifest lists and the declaration, and keeps a
// screenshot of the first page and of an item's section; the PDF has
// pages and the matrix's heading.
func TestPackPDF(t *testing.T) {
	chromiumtest.Binary(t)
	_, cfg := packWorkspace(t)
	out := filepath.Join(t.TempDir(), "pack")
	r := cli(t, "--config", cfg, "pack", "--max-items", "8", "--pdf", "-o", out)
	mustCode(t, r, 0)
	pdf := out + ".pdf"
	if !strings.Contains(r.stdout, "wrote "+pdf) {
		t.Errorf("pack --pdf output:\n%s", r.stdout)
	}
	chromiumtest.CheckPDF(t, pdf, 3, "KSB → evidence matrix")
	if b, err := os.ReadFile(pdf); err == nil {
		_ = os.WriteFile(filepath.Join(chromiumtest.Artefacts(t), "demo-pack.pdf"), b, 0o644)
	}

	b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m pack.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Selection.Items) != 8 {
		t.Fatalf("manifest lists %d items, want 8", len(m.Selection.Items))
	}
	page := chromiumtest.Open(t, filepath.Join(out, "index.html"), 1000, 1400)
	page.Settle()
	for _, r := range page.Offending() {
		t.Errorf("request left the page: %v", r)
	}
	if len(page.Requests()) == 0 {
		t.Error("no request recorded, not even the page's own")
	}
	dom := page.HTML()
	wants := []string{`id="cover"`, `id="matrix"`, `id="discussion"`, `id="declaration"`}
	for _, id := range m.Selection.Items {
		wants = append(wants, `id="item-`+id+`"`)
	}
	for _, w := range wants {
		if !strings.Contains(dom, w) {
			t.Errorf("rendered DOM lacks %s", w)
		}
	}
	chromiumtest.CheckPNG(t, page.Screenshot("demo-first-page.png"), 1000, 1400, 0.01)
	chromiumtest.CheckPNG(t, page.ScreenshotElement("item-"+m.Selection.Items[0], "demo-item.png"), 300, 200, 0.02)
}

// TestPackConfidential: of three items marked confidential, only the one
// the employer approved with a signed, verified decision is in the pack,
// on the page and in the pack's workbook; the one a coach accepted, and
// the one nobody approved, are withheld: listed by ID, their content
// nowhere.
func TestPackConfidential(t *testing.T) {
	rl := newReviewLedger(t)
	approved := rl.put(t, "approved", "Approved cost review", []string{"K1"}, nil)
	coached := rl.put(t, "coached", "Coached secret plan", []string{"K2"}, nil)
	secret := rl.put(t, "secret", "Secret roadmap", []string{"K3"}, nil)
	for _, id := range []string{approved, coached, secret} {
		mustCode(t, cli(t, "-c", rl.cfg, "review", id, "--confidential"), 0)
	}
	mustCode(t, cli(t, "-c", rl.cfg, "review", approved, "--accept", "K1", "--role", "employer", "--sign-key", rl.key("erin")), 0)
	mustCode(t, cli(t, "-c", rl.cfg, "review", coached, "--accept", "K2", "--role", "coach", "--sign-key", rl.key("pat")), 0)

	out := filepath.Join(t.TempDir(), "pack")
	r := cli(t, "-c", rl.cfg, "pack", "-o", out)
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "withheld as confidential: 2 items") {
		t.Errorf("pack output:\n%s", r.stdout)
	}
	b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m pack.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	withheld := slices.Sorted(slices.Values([]string{coached, secret}))
	if !slices.Equal(m.Selection.Items, []string{approved}) || !slices.Equal(slices.Sorted(slices.Values(m.Selection.Withheld)), withheld) {
		t.Errorf("manifest selection: items %v, withheld %v; want [%s], %v", m.Selection.Items, m.Selection.Withheld, approved, withheld)
	}
	html, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="item-` + approved + `"`, "Approved cost review", "<code>" + coached + "</code>", "<code>" + secret + "</code>"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	for _, bad := range []string{"Coached secret plan", "Secret roadmap", `id="item-` + coached, `id="item-` + secret} {
		if strings.Contains(string(html), bad) {
			t.Errorf("index.html holds %s", bad)
		}
	}
	f, err := excelize.OpenFile(filepath.Join(out, pack.WorkbookFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(workbook.SheetEvidence)
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]string{}
	for _, row := range rows {
		for i, c := range row {
			if (c == approved || c == coached || c == secret) && i+1 < len(row) {
				titles[c] = strings.Join(row[i+1:], "|")
			}
		}
	}
	if !strings.Contains(titles[approved], "Approved cost review") {
		t.Errorf("the pack's workbook withholds the approved item: %q", titles[approved])
	}
	for _, id := range []string{coached, secret} {
		if !strings.Contains(titles[id], workbook.Withheld) || strings.Contains(titles[id], "Secret") {
			t.Errorf("the pack's workbook shows %s: %q", id, titles[id])
		}
	}
}
