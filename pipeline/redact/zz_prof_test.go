package redact

import (
	"os"
	"strings"
	"testing"
)

func BenchmarkAdv(b *testing.B) {
	r, _ := New(nil)
	s := strings.Repeat(os.Getenv("UNIT"), (1<<20)/len(os.Getenv("UNIT")))
	for b.Loop() {
		r.String(s)
	}
}
