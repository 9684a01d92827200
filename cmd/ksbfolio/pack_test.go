package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/pack"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
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

// TestPackPDF prints the pack through headless Chromium.
func TestPackPDF(t *testing.T) {
	if _, err := pack.FindChromium(); err != nil {
		storetest.RequireOrSkip(t, "chromium", "apt-get install chromium")
	}
	_, cfg := packWorkspace(t)
	out := filepath.Join(t.TempDir(), "pack.zip")
	r := cli(t, "--config", cfg, "pack", "--max-items", "8", "--pdf", "-o", out)
	mustCode(t, r, 0)
	pdf := strings.TrimSuffix(out, ".zip") + ".pdf"
	if !strings.Contains(r.stdout, "wrote "+pdf) {
		t.Errorf("pack --pdf output:\n%s", r.stdout)
	}
	checkPDF(t, pdf, 3, "KSB → evidence matrix")
}

// checkPDF checks the PDF has at least minPages pages (its /Type /Page
// objects) and, when pdftotext is installed, that text is in it.
func checkPDF(t *testing.T, pdf string, minPages int, text string) {
	t.Helper()
	b, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(b, -1))
	if pages < minPages {
		t.Errorf("%s has %d pages, want at least %d", pdf, pages, minPages)
	}
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Log("pdftotext not installed (Debian: poppler-utils): not checking the PDF's text")
		return
	}
	txt, err := exec.Command(bin, "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	if !strings.Contains(string(txt), text) {
		t.Errorf("PDF text lacks %q", text)
	}
}
