package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/pipeline"
)

// Secrets planted in every string a collector can hand over; each must be
// found nowhere under the store, in the report or in the log.
const (
	secErr     = "Hunter2InAPath9"                          // a path in the collector's error
	secBranch  = "ghp_BrAnChN4m3T0k3nV4lu3F0rT3st1ng123456" // a ref name in the cursor
	secTrailer = "AKIAIOSFODNN7EXAMPLE"                     // a trailer value echoed in a warning
	secTitle   = "ghp_T1tl3T0k3nV4lu3F0rT3st1ngXYZ12345678" // straddling the title cap
	secSkip    = "xoxb-123456789012-1234567890123-SkipReasonSecret"
	secFact    = "sk_live_F4ctV4lu3InANestedMap"
	secKey     = "hf_M4pK3yT0k3nF0rT3st1ngXYZabcdefghij" // a fact's map key
	secURI     = "UriPassw0rd"
	secLatin1  = "L4tin1Secr3tValue"
	secUTF16LE = "Utf16LESecr3t42"
	secUTF16BE = "Utf16BESecr3t42"
	secNUL     = "NulB3aringSecret99"
	secBinary  = "AKIAJBINARYEXAMPLE12"
)

// leaky is a collector that puts a secret into everything it hands over.
type leaky struct{ fail bool }

func (l *leaky) Collect(ctx context.Context, _ collectors.Cursor, sink collectors.Sink) (collectors.Cursor, error) {
	if l.fail {
		return nil, errors.New("open /repos/password=" + secErr + "/HEAD: permission denied")
	}
	title := strings.Repeat("t", 190) + " key " + secTitle + " tail"
	e := emission("leak1", title,
		bin("latin1.txt", append([]byte("caf\xe9 r\xe9sum\xe9\npassword="), []byte(secLatin1+"\n")...)),
		bin("utf16le.log", utf16Bytes("db config\r\nDB_PASS="+secUTF16LE+"\r\n", false, false)),
		bin("utf16be.txt", utf16Bytes("export API_TOKEN="+secUTF16BE+"\n", true, true)),
		bin("nul.log", []byte("step 1 ok\x00\nstep 2 token="+secNUL+" done\n")),
		bin("weights.bin", append([]byte{0x89, 'P', 'N', 'G', 0, 0, 0, 13, 1, 2, 3, 0, 0, 0xff}, []byte(" "+secBinary+" \x00\x01")...)),
		bin("clean.bin", []byte{0, 1, 2, 3, 0xff, 0xfe, 0, 0, 7}),
	)
	e.Item.Summary = "see password=" + secLatin1 + " in notes"
	e.Item.Origin.URI = "https://jane:" + secURI + "@git.example.com/repo"
	e.Item.Facts = map[string]any{
		"nested": map[string]any{"deep": []any{map[string]any{"v": "stripe " + secFact}}},
		secKey:   "value under a secret key",
		"list":   []string{"token=" + secNUL},
	}
	if err := sink.Emit(ctx, e); err != nil {
		return nil, err
	}
	sink.Warn("commit 1a2b3c4d5e6f: trailer value \"" + secTrailer + "\" is not a KSB ID; ignored")
	sink.Skip(collectors.Skipped{What: "commit " + secSkip, Reason: "object " + secSkip + " missing"})
	cur, _ := json.Marshal(map[string]any{"refs": map[string]string{"refs/heads/fix-" + secBranch: "3f2a9c1d"}, "note": "branch " + secBranch})
	return cur, &collectors.PartialError{Failed: 1, Err: errors.New("commit " + secSkip + ": unreadable")}
}

func bin(name string, b []byte) collectors.File {
	return collectors.File{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
}

func utf16Bytes(s string, bigEndian, bom bool) []byte {
	var out []byte
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xFEFF}, units...)
	}
	for _, u := range units {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

// forms are the ways a secret could appear in bytes: as it is, and in
// UTF-16 (an artefact stored undecoded).
func forms(s string) [][]byte {
	return [][]byte{[]byte(s), utf16Bytes(s, false, false), utf16Bytes(s, true, false)}
}

func TestBoundaryNothingLeaks(t *testing.T) {
	var logs bytes.Buffer
	r, root := newRunner(t,
		pipeline.Source{Name: "leaky", Type: "git", Collector: &leaky{}},
		pipeline.Source{Name: "failing", Type: "git", Collector: &leaky{fail: true}})
	r.Log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	rep, err := r.Run(ctx, pipeline.Options{Command: "run", Coverage: true})
	if err != nil {
		t.Fatal(err)
	}
	report, _ := json.Marshal(rep)
	secrets := []string{secErr, secBranch, secTrailer, secTitle, secSkip, secFact, secKey, secURI,
		secLatin1, secUTF16LE, secUTF16BE, secNUL, secBinary, secTitle[:12]}
	check := func(where string, b []byte) {
		t.Helper()
		for _, s := range secrets {
			for _, f := range forms(s) {
				if bytes.Contains(b, f) {
					t.Errorf("secret %.10s… reached %s", s, where)
				}
			}
		}
	}
	check("the run report", report)
	check("the log", logs.Bytes())
	stored := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		stored++
		check(p, b)
		return err
	})
	if err != nil || stored < 5 {
		t.Fatalf("walk the store: %d files, %v", stored, err)
	}

	// What the boundary did is visible and counted.
	it, err := r.Ledger.GetItem(ctx, evidence.NewID("git", "leak1"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]evidence.Artefact{}
	for _, a := range it.Artefacts {
		names[a.Name] = a
	}
	for _, n := range []string{"latin1.txt", "utf16le.log", "utf16be.txt", "nul.log", "clean.bin"} {
		if _, ok := names[n]; !ok {
			t.Errorf("artefact %s not stored: %+v", n, it.Artefacts)
		}
	}
	if _, ok := names["weights.bin"]; ok {
		t.Error("a binary artefact holding a secret was stored")
	}
	enc, _ := it.Facts["artefact_encodings"].(map[string]any)
	if enc["latin1.txt"] != "windows-1252" || enc["utf16le.log"] != "utf-16le" || enc["utf16be.txt"] != "utf-16be" || enc["nul.log"] != nil {
		t.Errorf("artefact_encodings = %v", it.Facts["artefact_encodings"])
	}
	if a := names["utf16le.log"]; !strings.Contains(a.MediaType, "charset=utf-8") {
		t.Errorf("decoded text's media type %q", a.MediaType)
	}
	rc, err := r.Ledger.GetBlob(ctx, names["latin1.txt"].SHA256)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !strings.HasPrefix(string(blob), "café résumé\npassword=[REDACTED:") {
		t.Errorf("latin-1 text stored as %q (%v); want redacted UTF-8", blob, err)
	}
	if n := len([]rune(it.Title)); n > 200 || it.Facts["title_truncated"] != true || !strings.HasSuffix(it.Title, " key …") {
		t.Errorf("title: %d runes, truncated %v: %q", n, it.Facts["title_truncated"], it.Title)
	}

	var leak, failing pipeline.SourceReport
	for _, s := range rep.Sources {
		switch s.Name {
		case "leaky":
			leak = s
		case "failing":
			failing = s
		}
	}
	skippedBinary := false
	for _, sk := range leak.Skipped {
		if strings.Contains(sk.What, "weights.bin") && strings.Contains(sk.Reason, "aws-key") {
			skippedBinary = true
		}
	}
	if !skippedBinary || leak.SkippedTotal != 2 {
		t.Errorf("the refused binary is not a counted skip naming its rule: %d %+v", leak.SkippedTotal, leak.Skipped)
	}
	if len(leak.Warnings) == 0 || !strings.Contains(leak.Warnings[0], "[REDACTED:aws-key]") {
		t.Errorf("warnings: %q", leak.Warnings)
	}
	if failing.Outcome != pipeline.OutcomeFailed || !strings.Contains(failing.Error, "permission denied") {
		t.Errorf("failing source: %+v", failing)
	}
	cur, err := r.Ledger.Cursor(ctx, "leaky")
	if err != nil || !json.Valid(cur) || !strings.Contains(string(cur), "refs/heads/fix-[REDACTED:github-token]") {
		t.Errorf("cursor %s (%v): want valid JSON with the ref name masked", cur, err)
	}
	if !strings.Contains(logs.String(), "source failed") {
		t.Errorf("the failure was not logged:\n%s", logs.String())
	}
}
