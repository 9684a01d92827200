package pack_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/coverage"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/evidence/pack"
	"github.com/ksbfolio/ksbfolio/evidence/store/fsstore"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

const chartSVG = `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40"><polyline points="0,40 50,10 100,5" fill="none" stroke="black"/></svg>`

// fixture stores a small ledger: a commit, a training run trained from it
// (with an SVG chart and a hostile artefact name), a reviewed-excluded
// item and one with hostile text.
func fixture(t testing.TB) (pack.Input, *ledger.Ledger) {
	t.Helper()
	ctx := context.Background()
	l, cat := newLedger(t)
	svgSum, err := l.PutBlob(ctx, []byte(chartSVG))
	if err != nil {
		t.Fatal(err)
	}
	logSum, err := l.PutBlob(ctx, []byte("epoch 1 loss 0.3\n"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	tag := func(k string) evidence.Tag {
		return evidence.Tag{KSB: k, By: "rule:test", Confidence: 0.8, Catalogue: cat.ID, Revision: cat.Revision()}
	}
	commit := evidence.NewID("git", "c0ffee")
	run := evidence.NewID("mlflow", "run-1")
	items := []*evidence.Item{
		{ID: commit, Source: "repo", SourceType: "git", Kind: evidence.KindCommit, Title: "Add drift monitor <b>bold</b>",
			Summary: "commit message [REDACTED:aws-key]", OccurredAt: at, CollectedAt: at.Add(time.Hour),
			Origin: evidence.Origin{URI: "file:///repo", NativeID: "c0ffee"},
			Facts:  map[string]any{"files_changed": 3.0, "web_url": "https://git.example/c/c0ffee"},
			Tags:   []evidence.Tag{tag("K1"), tag("S1")}, Redactions: []evidence.Redaction{{Rule: "aws-key", Count: 1}}},
		{ID: run, Source: "mlflow", SourceType: "mlflow", Kind: evidence.KindTrainingRun, Title: `<script>alert("x")</script> train`,
			OccurredAt: at.Add(24 * time.Hour), CollectedAt: at.Add(25 * time.Hour),
			Origin: evidence.Origin{URI: "file:///mlruns", NativeID: "run-1"},
			Facts:  map[string]any{"metric.val_loss": 0.21, "epochs": 10.0},
			Artefacts: []evidence.Artefact{
				{Name: "charts/loss.svg", SHA256: svgSum, Size: int64(len(chartSVG)), MediaType: "image/svg+xml"},
				{Name: "../../../etc/passwd", SHA256: logSum, Size: 17, MediaType: "text/plain"},
			},
			Links: []evidence.Link{{Rel: "trained_from", Item: commit}},
			Tags:  []evidence.Tag{tag("K5"), tag("S2")}},
		{ID: evidence.NewID("manual", "x"), Source: "notes", SourceType: "manual", Kind: evidence.KindManual, Title: "private notes",
			OccurredAt: at.Add(48 * time.Hour), CollectedAt: at, Tags: []evidence.Tag{tag("B1")},
			Links: []evidence.Link{{Rel: "mentions_commit", Item: commit}}},
	}
	for _, it := range items {
		it.Schema, it.Apprentice = evidence.SchemaVersion, "ada"
		if err := l.PutItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	tr := true
	if _, err := l.AddDecision(ctx, items[2].ID, evidence.Decision{At: at, By: "ada", Role: "apprentice", Exclude: &tr}); err != nil {
		t.Fatal(err)
	}
	return packInput(t, l, cat, nil, at), l
}

// newLedger makes an empty ledger for the apprentice "ada" on a local
// store, and returns it with the built-in ST1398 catalogue.
func newLedger(t testing.TB) (*ledger.Ledger, *ksb.Catalogue) {
	t.Helper()
	st, err := fsstore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(st, "ada")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ksb.Builtin() {
		if strings.HasPrefix(c.ID, "st1398") {
			return l, c
		}
	}
	t.Fatal("no built-in ST1398 catalogue")
	return nil, nil
}

// packInput is the pack input of everything in l, the reviews checked with
// v, the coverage of every KSB of cat worked out at at.
func packInput(t testing.TB, l *ledger.Ledger, cat *ksb.Catalogue, v *evidence.Verifier, at time.Time) pack.Input {
	t.Helper()
	snap, err := l.Snapshot(context.Background(), ledger.SnapshotOptions{Verifier: v})
	if err != nil {
		t.Fatal(err)
	}
	covers, err := coverage.NewCovers(cat, coverage.CoversAll, nil)
	if err != nil {
		covers = coverage.All(cat)
	}
	rep := pipeline.SnapshotCoverage(snap, cat, coverage.Target{Covers: covers, Reviewers: v}, at)
	return pack.Input{Snapshot: snap, Catalogue: cat, Coverage: rep, Who: pack.Person{Apprentice: "Ada <Lovelace>", Employer: "Analytical & Co"},
		Generated: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), Blobs: l}
}

func build(t *testing.T, in pack.Input) *pack.Pack {
	t.Helper()
	p, err := pack.Build(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPackContents(t *testing.T) {
	in, _ := fixture(t)
	in.Extra = []pack.File{{Path: "workbook.xlsx", Data: []byte("stand-in")}}
	p := build(t, in)
	var paths []string
	for _, f := range p.Files {
		paths = append(paths, f.Path)
	}
	got := strings.Join(paths, "\n")
	for _, want := range []string{"SHA256SUMS", "evidence/02-script-alert-x-script-train/loss.svg",
		"evidence/02-script-alert-x-script-train/passwd", "index.html", "manifest.json", "workbook.xlsx"} {
		if !strings.Contains(got, want) {
			t.Errorf("pack files lack %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "..") || strings.Contains(got, "private") {
		t.Errorf("pack files:\n%s", got)
	}
	var html string
	for _, f := range p.Files {
		if f.Path == "index.html" {
			html = string(f.Data)
		}
	}
	for _, bad := range []string{"<script", "<b>bold", "private notes", "mentioned_by", evidence.NewID("manual", "x"), "http://", "<Lovelace>"} {
		if strings.Contains(html, bad) {
			t.Errorf("index.html holds %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;", "Ada &lt;Lovelace&gt;", "data:image/svg&#43;xml;base64,", `href="#item-` + p.Selection.Items[0].View.Item.ID,
		"trained_from", "produced", "metric.val_loss = 0.21", "[REDACTED:aws-key]", "2025-06-01 12:00 UTC", "Engineering principles", "id=\"declaration\""} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
}

func writeDir(t *testing.T, p *pack.Pack) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pack")
	if err := p.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func verify(t *testing.T, path string, pub ed25519.PublicKey) pack.Result {
	t.Helper()
	r, err := pack.Verify(path, pub)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestVerifyFolder(t *testing.T) {
	in, _ := fixture(t)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	p := build(t, in)
	if err := p.Sign(priv); err != nil {
		t.Fatal(err)
	}
	svg := "evidence/02-script-alert-x-script-train/loss.svg"
	for _, tc := range []struct {
		name   string
		break_ func(dir string)
		pub    ed25519.PublicKey
		check  func(pack.Result) bool
	}{
		{"fresh", func(string) {}, pub, func(r pack.Result) bool { return r.OK() && r.Signed }},
		{"byte changed", func(d string) { flipByte(t, filepath.Join(d, svg)) }, nil,
			func(r pack.Result) bool { return !r.OK() && eq(r.Changed, svg) && strings.Contains(r.Sums, svg) }},
		{"removed", func(d string) { os.Remove(filepath.Join(d, "index.html")) }, nil,
			func(r pack.Result) bool { return !r.OK() && eq(r.Missing, "index.html") }},
		{"added", func(d string) { os.WriteFile(filepath.Join(d, "evidence", "x.txt"), []byte("x"), 0o644) }, nil,
			func(r pack.Result) bool { return !r.OK() && eq(r.Extra, "evidence/x.txt") }},
		{"wrong key", func(string) {}, otherPub, func(r pack.Result) bool { return !r.OK() && r.Signature != "" }},
		{"manifest changed", func(d string) { replaceIn(t, filepath.Join(d, "manifest.json"), `"ksbfolio"`, `"ksbfoliO"`) }, pub,
			func(r pack.Result) bool { return !r.OK() && r.Signature != "" }},
		{"signature removed", func(d string) { os.Remove(filepath.Join(d, "manifest.json.sig")) }, pub,
			func(r pack.Result) bool { return !r.OK() && strings.Contains(r.Signature, "missing") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeDir(t, p)
			tc.break_(dir)
			if r := verify(t, dir, tc.pub); !tc.check(r) {
				t.Errorf("verify: %+v", r)
			}
		})
	}
}

func flipByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func replaceIn(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s lacks %q (%v)", path, old, err)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func eq(got []string, want ...string) bool { return strings.Join(got, ",") == strings.Join(want, ",") }

// TestZipReproducible builds the zip twice, a second apart, in different
// time zones and with different umasks: the bytes are the same. The zip
// verifies, and fails naming the entry after one byte changes.
func TestZipReproducible(t *testing.T) {
	in, _ := fixture(t)
	dir := t.TempDir()
	zipAt := func(name, tz string, umask int) []byte {
		old := time.Local
		loc, err := time.LoadLocation(tz)
		if err != nil {
			t.Fatal(err)
		}
		time.Local = loc
		prev := syscall.Umask(umask)
		defer func() { time.Local = old; syscall.Umask(prev) }()
		path := filepath.Join(dir, name)
		if err := build(t, in).WriteZipFile(path); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(path)
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s mode %v", name, fi.Mode())
		}
		return b
	}
	a := zipAt("a.zip", "UTC", 0o022)
	time.Sleep(1100 * time.Millisecond)
	b := zipAt("b.zip", "Pacific/Chatham", 0o077)
	if !bytes.Equal(a, b) {
		t.Fatal("two zips of the same ledger differ")
	}
	if r := verify(t, filepath.Join(dir, "a.zip"), nil); !r.OK() {
		t.Fatalf("fresh zip: %+v", r)
	}
	// Change one byte of index.html in the zip: an uncompressed copy makes
	// the change easy to place.
	p := build(t, in)
	for i := range p.Files {
		if p.Files[i].Path == "index.html" {
			p.Files[i].Data = bytes.Replace(p.Files[i].Data, []byte("Declaration"), []byte("Declaratiom"), 1)
		}
	}
	bad := filepath.Join(dir, "bad.zip")
	if err := p.WriteZipFile(bad); err != nil {
		t.Fatal(err)
	}
	if r := verify(t, bad, nil); !eq(r.Changed, "index.html") {
		t.Errorf("changed zip: %+v", r)
	}
	// The folder form gets fixed modes and times whatever the umask.
	old := syscall.Umask(0o077)
	d := writeDir(t, p)
	syscall.Umask(old)
	filepath.Walk(d, func(path string, fi os.FileInfo, err error) error {
		want := os.FileMode(0o644)
		if fi.IsDir() {
			want = 0o755
		}
		if fi.Mode().Perm() != want || !fi.ModTime().Equal(in.Generated) {
			t.Errorf("%s: mode %v time %v", path, fi.Mode(), fi.ModTime())
		}
		return nil
	})
}

// TestSha256sumCheck runs the real sha256sum -c inside an unpacked pack.
func TestSha256sumCheck(t *testing.T) {
	bin, err := exec.LookPath("sha256sum")
	if err != nil {
		t.Skip("sha256sum not installed")
	}
	in, _ := fixture(t)
	dir := writeDir(t, build(t, in))
	cmd := exec.Command(bin, "--strict", "-c", "SHA256SUMS")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	if n := len(regexp.MustCompile(`: OK`).FindAll(out, -1)); n < 4 {
		t.Errorf("sha256sum checked %d files:\n%s", n, out)
	}
}
