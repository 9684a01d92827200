package redact

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkString masks 1 MiB of commit messages, hyperparameters and log
// lines with a few secrets in it.
func BenchmarkString(b *testing.B) {
	r := mustNew(b, nil)
	text := realisticText(b, 1<<20)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		out, _ := r.String(text)
		if strings.Contains(out, ghToken) {
			b.Fatal("secret survived")
		}
	}
}

// BenchmarkStringClean is the common case: text with nothing to mask.
func BenchmarkStringClean(b *testing.B) {
	r := mustNew(b, nil)
	clean, err := os.ReadFile(filepath.Join("testdata", "clean-log.txt"))
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat(string(clean), (1<<20)/len(clean)+1)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, c := r.String(text); len(c) != 0 {
			b.Fatalf("clean text masked: %v", c)
		}
	}
}
