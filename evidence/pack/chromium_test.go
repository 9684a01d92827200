package pack_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/pack"
	"github.com/ksbfolio/ksbfolio/internal/chromiumtest"
)

// evil is the host every hostile reference names; nothing may ask for it.
const evil = "evil.example"

// hostileSVG is a chart artefact that tries every way an SVG can fetch
// something: an external image, a <use> of another file, an @import and a
// url() in its style, a script.
const hostileSVG = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="80">` +
	`<style>@import url(http://evil.example/svg-import.css); rect{fill:url(http://evil.example/svg-fill.svg#g)}</style>` +
	`<image href="http://evil.example/svg-image.png" width="10" height="10"/>` +
	`<image xlink:href="https://evil.example/svg-xlink.png" width="10" height="10"/>` +
	`<use href="http://evil.example/sprite.svg#a"/><script href="http://evil.example/svg.js"/>` +
	`<rect x="0" y="0" width="200" height="80" fill="#eef"/>` +
	`<polyline points="0,80 50,30 100,20 150,12 200,8" fill="none" stroke="#2c62b8" stroke-width="3"/></svg>`

// hostileHTML is source text that would fetch from evil.example if it
// ever reached the page unescaped.
const hostileHTML = `<img src=http://evil.example/img.png> <link rel=stylesheet href=https://evil.example/style.css>
<style>@import url(http://evil.example/import.css); body{background:url(http://evil.example/bg.png)}</style>
<div style="background-image:url(http://evil.example/inline.png)">x</div>
<script src=https://evil.example/x.js></script><iframe src=https://evil.example/frame></iframe>
<object data=http://evil.example/obj></object><video poster=http://evil.example/poster.png></video>
<svg><image href="http://evil.example/inline-svg.png" width="5" height="5"/></svg>
<meta http-equiv=refresh content="0;url=http://evil.example/refresh">`

// hostileFixture stores a ledger of several kinds of item whose source
// text is hostile HTML: a commit, a training run with a hostile SVG chart
// trained from it, a deployment, a confidential item approved by the
// employer's signed decision and one withheld.
func hostileFixture(t *testing.T) (pack.Input, map[string]string) {
	t.Helper()
	ctx := context.Background()
	l, cat := newLedger(t)
	svgSum, err := l.PutBlob(ctx, []byte(hostileSVG))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	tag := func(ks ...string) []evidence.Tag {
		var out []evidence.Tag
		for _, k := range ks {
			out = append(out, evidence.Tag{KSB: k, By: "rule:test", Confidence: 0.8, Catalogue: cat.ID, Revision: cat.Revision()})
		}
		return out
	}
	ids := map[string]string{
		"commit": evidence.NewID("git", "bad1"), "run": evidence.NewID("mlflow", "run-bad"), "deploy": evidence.NewID("logs", "deploy-1"),
		"approved": evidence.NewID("manual", "approved"), "withheld": evidence.NewID("manual", "withheld"),
	}
	items := []*evidence.Item{
		{ID: ids["commit"], Source: "repo", SourceType: "git", Kind: evidence.KindCommit,
			Title:   `Fix loader <img src=http://evil.example/title.png> <link rel=stylesheet href=https://evil.example/t.css>`,
			Summary: "commit message\n" + hostileHTML, OccurredAt: at, CollectedAt: at.Add(time.Hour),
			Origin: evidence.Origin{URI: "file:///repo", NativeID: "bad1"},
			Facts: map[string]any{"files_changed": 3.0, "web_url": "https://git.example/c/bad1",
				"note": `background:url(http://evil.example/fact.png)`, "html": `<svg><image href="http://evil.example/fact-svg.png"/></svg>`},
			Tags: tag("K1", "S1")},
		{ID: ids["run"], Source: "mlflow", SourceType: "mlflow", Kind: evidence.KindTrainingRun, Title: `train <iframe src=https://evil.example/run>`,
			Summary: `val_loss fell; url(http://evil.example/run.png)`, OccurredAt: at.Add(24 * time.Hour), CollectedAt: at.Add(25 * time.Hour),
			Origin: evidence.Origin{URI: "file:///mlruns", NativeID: "run-bad"},
			Facts:  map[string]any{"metric.val_loss": 0.21, "epochs": 10.0},
			Artefacts: []evidence.Artefact{{Name: `charts/<img src=http:%2F%2Fevil.example%2Fname.png>.svg`, SHA256: svgSum,
				Size: int64(len(hostileSVG)), MediaType: "image/svg+xml"}},
			Links: []evidence.Link{{Rel: "trained_from", Item: ids["commit"]}},
			Tags:  tag("K5", "S2")},
		{ID: ids["deploy"], Source: "deploy-logs", SourceType: "logs", Kind: evidence.KindDeployment, Title: "Deploy model v2",
			Summary:    "2025-03-06T09:00:00Z rollout ok\n" + `<link rel=prefetch href=http://evil.example/prefetch>`,
			OccurredAt: at.Add(48 * time.Hour), CollectedAt: at.Add(49 * time.Hour),
			Origin: evidence.Origin{URI: "file:///var/log/deploy.log", NativeID: "deploy-1"},
			Links:  []evidence.Link{{Rel: "deploys", Item: ids["run"]}},
			Tags:   tag("S10", "B1")},
		{ID: ids["approved"], Source: "notes", SourceType: "manual", Kind: evidence.KindManual, Title: "Cost review the employer released",
			Summary: "figures the employer agreed to show", OccurredAt: at.Add(72 * time.Hour), CollectedAt: at.Add(72 * time.Hour),
			Tags: tag("K7")},
		{ID: ids["withheld"], Source: "notes", SourceType: "manual", Kind: evidence.KindManual, Title: "Secret roadmap <img src=http://evil.example/secret.png>",
			Summary: "withheld words", OccurredAt: at.Add(96 * time.Hour), CollectedAt: at.Add(96 * time.Hour),
			Tags: tag("K8")},
	}
	for _, it := range items {
		it.Schema, it.Apprentice = evidence.SchemaVersion, "ada"
		if err := l.PutItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	tr := true
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ids["approved"], ids["withheld"]} {
		if _, err := l.AddDecision(ctx, id, evidence.Decision{At: at.Add(100 * time.Hour), By: "ada", Role: "apprentice", Confidential: &tr}); err != nil {
			t.Fatal(err)
		}
	}
	d := evidence.Sign(ids["approved"], evidence.ContentHash(*items[3]),
		evidence.Decision{ID: evidence.NewDecisionID(), At: at.Add(101 * time.Hour), By: "Grace", Role: "employer", Accept: []string{"K7"}, Note: "may be shown"}, priv)
	if _, err := l.AddDecision(ctx, ids["approved"], d); err != nil {
		t.Fatal(err)
	}
	v := evidence.NewVerifier([]evidence.Reviewer{{Name: "Grace", Role: "employer", Key: pub}})
	return packInput(t, l, cat, v, at), ids
}

// TestChromiumRendersPack loads a pack of hostile source text from disk in
// headless Chromium with the network off and checks, through the DevTools
// protocol, that the page made no request but for its own file (and data:
// URLs); that the rendered DOM holds the cover, the matrix, every selected
// item, the withheld list without content and the declaration, with the
// hostile text as text; and keeps screenshots of the first page, of an
// item's section and of the page at a phone's width, none blank.
func TestChromiumRendersPack(t *testing.T) {
	chromiumtest.Binary(t)
	in, ids := hostileFixture(t)
	p := build(t, in)
	dir := writeDir(t, p)
	index := filepath.Join(dir, "index.html")

	page := chromiumtest.Open(t, index, 1000, 1400)
	page.Settle()
	seen := false
	for _, r := range page.Requests() {
		seen = seen || strings.HasSuffix(r.URL, "/index.html") && r.Event == "Network.requestWillBeSent"
	}
	if !seen {
		t.Errorf("the page's own request was not recorded: the recorder sees nothing; requests: %v", page.Requests())
	}
	for _, r := range page.Offending() {
		t.Errorf("request left the page: %v", r)
	}
	if t.Failed() {
		t.FailNow()
	}

	first := page.Screenshot("pack-first-page.png")
	item := page.ScreenshotElement("item-"+ids["run"], "pack-item.png")
	page.Viewport(420, 900)
	phone := page.Screenshot("pack-phone.png")
	page.Viewport(1000, 1400)
	dom := page.HTML()

	wants := []string{`id="cover"`, `id="cover-apprentice">Ada &lt;Lovelace&gt;`, `id="matrix"`, `id="ksb-K1"`, `id="declaration"`,
		`id="coverage-chart"`, `id="withheld"`, "<code>" + ids["withheld"] + "</code>",
		`Fix loader &lt;img src=http://evil.example/title.png&gt;`, `&lt;link rel=stylesheet href=https://evil.example/style.css&gt;`}
	if len(p.Selection.Items) != 4 {
		t.Errorf("selected %d items, want 4 (all but the withheld one)", len(p.Selection.Items))
	}
	for _, c := range p.Selection.Items {
		wants = append(wants, `id="item-`+c.View.Item.ID+`"`)
	}
	for _, w := range wants {
		if !strings.Contains(dom, w) {
			t.Errorf("rendered DOM lacks %s", w)
		}
	}
	for _, bad := range []string{"Secret roadmap", "withheld words", `id="item-` + ids["withheld"]} {
		if strings.Contains(dom, bad) {
			t.Errorf("rendered DOM holds %q", bad)
		}
	}
	// The hostile text is text: no element of it exists, and nothing but a
	// link points off the page.
	for _, css := range []string{"script", "iframe", "object", "embed", "video", "audio", "link", "base", "meta[http-equiv=refresh]",
		"body style", "[style*=url]", "img:not([src^='data:'])", "svg image", "svg use", `[href*="evil.example"]:not(a[href^="evidence/"])`, `[src*="evil.example"]`} {
		if n := page.Count(css); n != 0 {
			t.Errorf("rendered DOM has %d elements matching %s", n, css)
		}
	}
	if n := page.Count("img[src^='data:image/svg+xml;base64,']"); n != 1 {
		t.Errorf("rendered DOM has %d inline SVG charts, want 1", n)
	}
	chromiumtest.CheckPNG(t, first, 1000, 1400, 0.01)
	chromiumtest.CheckPNG(t, item, 300, 200, 0.02)
	chromiumtest.CheckPNG(t, phone, 420, 900, 0.01)
}

// TestPrintPDF prints a pack to PDF with headless Chromium: more than one
// page, the matrix's heading in its text.
func TestPrintPDF(t *testing.T) {
	bin := chromiumtest.Binary(t)
	in, _ := fixture(t)
	index := filepath.Join(writeDir(t, build(t, in)), "index.html")
	pdf := filepath.Join(chromiumtest.Artefacts(t), "pack.pdf")
	if err := pack.PrintPDF(context.Background(), bin, index, pdf); err != nil {
		t.Fatal(err)
	}
	chromiumtest.CheckPDF(t, pdf, 2, "KSB → evidence matrix")
}
