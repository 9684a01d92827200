package redact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence"
)

func enc16(s string, big, bom bool) []byte {
	u := utf16.Encode([]rune(s))
	if bom {
		u = append([]uint16{0xFEFF}, u...)
	}
	var out []byte
	for _, x := range u {
		if big {
			out = append(out, byte(x>>8), byte(x))
		} else {
			out = append(out, byte(x), byte(x>>8))
		}
	}
	return out
}

// Text in every encoding is recognised, decoded and redacted; binary is
// kept as it is, or refused when a secret is in it.
func TestArtefact(t *testing.T) {
	r := mustNew(t, nil)
	const text = "run 42: loss 0.31\npassword=Sup3rS3cretValue\n"
	want := "run 42: loss 0.31\npassword=" + m("password-assignment") + "\n"
	png := []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 1, 0, 0, 0, 1, 0, 8, 6, 0, 0, 0}
	tests := []struct {
		name    string
		in      []byte
		enc     string // "" = binary
		want    string // the stored text, for text
		refused string
	}{
		{"notes.txt", []byte(text), EncodingUTF8, want, ""},
		{"bom.txt", append([]byte{0xEF, 0xBB, 0xBF}, text...), EncodingUTF8, "\ufeff" + want, ""},
		{"train.log", []byte("epoch 1\x00\n" + text), EncodingUTF8, "epoch 1\x00\n" + want, ""},
		{"noext", []byte("caf\xe9\n" + text), EncodingWindows1252, "café\n" + want, ""},
		{"quotes.md", []byte("\x93quoted\x94 \x80 5\n" + text), EncodingWindows1252, "“quoted” € 5\n" + want, ""},
		{"le.log", enc16(text, false, false), EncodingUTF16LE, want, ""},
		{"be", enc16(text, true, false), EncodingUTF16BE, want, ""},
		{"le-bom", enc16("é "+text, false, true), EncodingUTF16LE, "é " + want, ""},
		{"be-bom.txt", enc16(text, true, true), EncodingUTF16BE, want, ""},
		{"image.png", png, "", "", ""},
		{"model.bin", append(append([]byte{}, png...), "AKIAIOSFODNN7EXAMPLE"...), "", "", "aws-key"},
		{"author.bin", append(append([]byte{}, png...), " bob@example.org "...), "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := r.Artefact(tc.name, tc.in)
			if p.Encoding != tc.enc || p.Text != (tc.enc != "") || p.Refused != tc.refused {
				t.Fatalf("Artefact: text %v, encoding %q, refused %q; want encoding %q, refused %q", p.Text, p.Encoding, p.Refused, tc.enc, tc.refused)
			}
			if tc.enc == "" {
				if !bytes.Equal(p.Data, tc.in) {
					t.Error("binary changed")
				}
				return
			}
			if string(p.Data) != tc.want || p.Counts["password-assignment"] != 1 {
				t.Errorf("stored %q, counts %v; want %q", p.Data, p.Counts, tc.want)
			}
		})
	}
}

type memSink struct {
	items []evidence.Item
	files map[string]string
	skips []collectors.Skipped
	warns []string
}

func (s *memSink) Emit(_ context.Context, e collectors.Emission) error {
	s.items = append(s.items, e.Item)
	for _, f := range e.Files {
		rc, _ := f.Open()
		var b bytes.Buffer
		_, _ = b.ReadFrom(rc)
		s.files[f.Name] = b.String()
	}
	return nil
}
func (s *memSink) Skip(sk collectors.Skipped) { s.skips = append(s.skips, sk) }
func (s *memSink) Warn(msg string)            { s.warns = append(s.warns, msg) }

// The guard redacts before it cuts: a key straddling the title and
// summary caps is masked whole, and the cut never splits a mask.
func TestGuardCutsAfterRedaction(t *testing.T) {
	r := mustNew(t, nil)
	next := &memSink{files: map[string]string{}}
	g := r.Guard(next, 1<<20)
	title := strings.Repeat("a", MaxTitleRunes-10) + " " + ghToken
	summary := strings.Repeat("b ", MaxSummaryBytes/2-8) + awsKeyID
	// The collector's facts map, with nothing to mask: the guard marks
	// the cuts on a copy, never in the collector's map.
	facts := map[string]any{"branch": "main"}
	err := g.Emit(context.Background(), collectors.Emission{Item: evidence.Item{Title: title, Summary: summary, Facts: facts}})
	if err != nil || len(next.items) != 1 {
		t.Fatal(err)
	}
	if len(facts) != 1 {
		t.Errorf("the guard wrote into the collector's facts map: %v", facts)
	}
	it := next.items[0]
	for _, f := range []string{it.Title, it.Summary} {
		if strings.Contains(f, "ghp_") || strings.Contains(f, "AKIA") || strings.Contains(f, "[RED…") {
			t.Errorf("cut before redaction or inside a mask: …%q", f[max(0, len(f)-40):])
		}
	}
	if it.Facts["title_truncated"] != true || it.Facts["summary_truncated"] != true || len(it.Summary) > MaxSummaryBytes {
		t.Errorf("facts %v, summary %d bytes", it.Facts, len(it.Summary))
	}
	g.Warn(`trailer value "` + ghToken + `" is not a KSB ID`)
	g.Skip(collectors.Skipped{What: "commit " + awsKeyID, Reason: strings.Repeat("x", 5000) + " " + ghToken})
	if strings.Contains(next.warns[0], "ghp_") || strings.Contains(next.skips[0].What, "AKIA") || len(next.skips[0].Reason) > MaxMessageBytes {
		t.Errorf("warn %q, skip %+v", next.warns, next.skips[0].What)
	}
}

func TestCursor(t *testing.T) {
	r := mustNew(t, nil)
	clean := json.RawMessage(`{"refs":{"refs/heads/main":"3f2a9c1d"},"n":12345678901234567890}`)
	if got := r.Cursor(clean); !bytes.Equal(got, clean) {
		t.Errorf("clean cursor changed: %s", got)
	}
	dirty := json.RawMessage(`{"refs":{"refs/heads/` + ghToken + `":"3f2a9c1d"},"skipped":["password=hunter2hunter2"],"n":12345678901234567890}`)
	got := r.Cursor(dirty)
	if !json.Valid(got) || strings.Contains(string(got), "ghp_") || strings.Contains(string(got), "hunter2") || !strings.Contains(string(got), "12345678901234567890") {
		t.Errorf("cursor: %s", got)
	}
	if got := r.Cursor(json.RawMessage("not json " + ghToken)); strings.Contains(string(got), "ghp_") {
		t.Errorf("non-JSON cursor: %s", got)
	}
}

func TestLogger(t *testing.T) {
	r := mustNew(t, nil)
	var buf bytes.Buffer
	log := r.Logger(slog.New(slog.NewTextHandler(&buf, nil))).With("path", "/x/password=hunter2hunter2")
	log.Info("cloned https://u:Passw0rdInUrl@git.example.com", "err", errors.New("bad "+ghToken),
		slog.Group("g", "k", awsKeyID), "v", []string{"token=" + awsSecret})
	out := buf.String()
	for _, s := range []string{"hunter2", "Passw0rdInUrl", "ghp_", "AKIA", awsSecret} {
		if strings.Contains(out, s) {
			t.Errorf("%s logged: %s", s, out)
		}
	}
	if !strings.Contains(out, "[REDACTED:") {
		t.Errorf("log: %s", out)
	}
}

// A pattern matching more than maxMatches times in one text masks the
// rest of the text from the last match it kept: bounded work, and nothing
// after the cap left unmasked.
func TestMatchesCapped(t *testing.T) {
	r, err := New(Options{Emails: EmailsKeep, Patterns: []Pattern{{Name: "qq", Regex: `q`}}})
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Repeat("q ", maxMatches+10) + "tail q"
	out, c := r.String(in)
	if strings.Contains(out, "q ") || strings.Contains(out, "tail") || c["qq"] != maxMatches {
		t.Errorf("counts %v, end of output %q", c, out[len(out)-40:])
	}
	if in := strings.Repeat("q ", 10); strings.Count(mustString(r, in), m("qq")) != 10 {
		t.Error("under the cap every match is its own mask")
	}
}

func mustString(r *Redactor, s string) string { out, _ := r.String(s); return out }
