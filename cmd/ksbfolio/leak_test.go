package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/ksbfolio/ksbfolio/pipeline/demo/demorepo"
)

// storeHolds returns the files under root that contain any of secrets, as
// they are or UTF-16-encoded.
func storeHolds(t *testing.T, root string, secrets []string) []string {
	t.Helper()
	var bad []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if containsAnyForm(b, s) {
				bad = append(bad, s[:8]+"… in "+path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return bad
}

func containsAnyForm(b []byte, s string) bool {
	if bytes.Contains(b, []byte(s)) {
		return true
	}
	for _, big := range []bool{false, true} {
		var enc []byte
		for _, u := range utf16.Encode([]rune(s)) {
			if big {
				enc = append(enc, byte(u>>8), byte(u))
			} else {
				enc = append(enc, byte(u), byte(u>>8))
			}
		}
		if bytes.Contains(b, enc) {
			return true
		}
	}
	return false
}

func utf16LE(s string) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

// Issue 7: a secret planted in a collector error, a branch name, a trailer
// value, a long title, Latin-1, UTF-16 and NUL-bearing text files and a
// binary artefact reaches no byte of the store, stdout or the logs.
func TestPlantedSecretsEverywhere(t *testing.T) {
	const (
		inPath    = "Hunter2InAPath9"
		inBranch  = "ghp_BrAnChN4m3T0k3nV4lu3F0rT3st1ng123456"
		inTrailer = "AKIAIOSFODNN7EXAMPLE"
		inTitle   = "ghp_T1tl3T0k3nV4lu3F0rT3st1ngXYZ12345678"
		inLatin1  = "L4tin1Secr3tValue"
		inUTF16   = "Utf16Secr3tValue42"
		inNUL     = "NulB3aringSecret99"
		inBinary  = "AKIAJBINARYEXAMPLE12"
	)
	secrets := []string{inPath, inBranch, inTrailer, inTitle, inTitle[:8], inLatin1, inUTF16, inNUL, inBinary}
	dir, cfg, _ := gitWorkspace(t, 5, "")
	repo := filepath.Join(dir, "model-repo")
	// A second source whose path holds a secret: its error goes to the
	// run report and the log.
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, string(b)+"  - name: missing\n    type: git\n    path: ./gone/password="+inPath+"\n")

	me := demorepo.DefaultAuthors()[0]
	env := []string{"GIT_AUTHOR_NAME=" + me.Name, "GIT_AUTHOR_EMAIL=" + me.Email, "GIT_COMMITTER_NAME=" + me.Name, "GIT_COMMITTER_EMAIL=" + me.Email}
	ctx := context.Background()
	if _, err := demorepo.GitEnv(ctx, repo, env, nil, "checkout", "-q", "-b", "fix/"+inBranch); err != nil {
		t.Fatal(err)
	}
	msg := strings.Repeat("Tune the drift thresholds ", 8)[:185] + " key " + inTitle + " tail\n\nKSB: S8, " + inTrailer + "\n"
	if _, err := demorepo.GitEnv(ctx, repo, env, strings.NewReader(msg), "commit", "--allow-empty", "-q", "-F", "-"); err != nil {
		t.Fatal(err)
	}
	r := cli(t, "-c", cfg, "--log-level", "debug", "--log-format", "json", "run")
	if r.code != exitPartial {
		t.Fatalf("run: exit %d, want %d (one source missing)\n%s%s", r.code, exitPartial, r.stdout, r.stderr)
	}
	out := r.stdout + r.stderr

	// add: text in legacy encodings, with a NUL, and binary.
	files := map[string][]byte{
		"notes-latin1.txt": []byte("R\xe9sum\xe9 of the run\npassword=" + inLatin1 + "\n"),
		"train-utf16.log":  utf16LE("epoch 3 loss 0.21\r\nexport DB_PASS=" + inUTF16 + "\r\n"),
		"nul.log":          []byte("step 1\x00ok\nHF token=" + inNUL + "\n"),
		"weights.bin":      append([]byte{0x89, 'P', 'N', 'G', 0, 0, 0, 13, 0xff, 1, 2}, []byte(" "+inBinary+" \x00\x01\x02")...),
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		r := cli(t, "-c", cfg, "add", p, "--title", "Evidence "+name, "--date", "2026-03-01")
		out += r.stdout + r.stderr
		if name == "weights.bin" {
			if r.code == 0 || !strings.Contains(r.stderr, "aws-key") || !strings.Contains(r.stderr, "not stored") {
				t.Errorf("add of a binary holding a secret: exit %d\n%s", r.code, r.stderr)
			}
			continue
		}
		mustCode(t, r, 0)
	}
	items := itemsJSON(t, cfg)
	out += cli(t, "-c", cfg, "items").stdout
	manual := 0
	for _, it := range items {
		if strings.HasPrefix(it.Title, "Evidence ") {
			manual++
			if len(it.Redactions) == 0 {
				t.Errorf("%s: stored with no redactions", it.Title)
			}
		}
		if strings.HasPrefix(it.Title, "Tune the drift") && (it.Facts["title_truncated"] != true || !strings.Contains(it.Summary, "KSB: S8")) {
			t.Errorf("long title: %q, facts %v", it.Title, it.Facts)
		}
	}
	if manual != 3 {
		t.Errorf("%d manual items, want the three text files", manual)
	}
	for _, bad := range storeHolds(t, filepath.Join(dir, ".ksbfolio"), secrets) {
		t.Errorf("secret stored: %s", bad)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("secret %.8s… printed or logged", s)
		}
	}
	if !strings.Contains(out, "missing") {
		t.Errorf("the failing source is not reported:\n%s", out)
	}
}

// add refuses a FIFO, a directory and a device at once instead of hanging.
func TestAddRefusesNonRegularFiles(t *testing.T) {
	dir, cfg, _ := gitWorkspace(t, 2, "")
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, p := range []string{fifo, dir, "/dev/zero"} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		done := make(chan result, 1)
		go func() { done <- cliCtx(t, ctx, "-c", cfg, "add", p, "--title", "x", "--date", "2026-03-01") }()
		select {
		case r := <-done:
			if r.code == 0 || !strings.Contains(r.stderr, "not a regular file") {
				t.Errorf("add %s: exit %d\n%s", p, r.code, r.stderr)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("add %s hangs", p)
		}
		cancel()
	}
}
