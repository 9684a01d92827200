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
	r, err := New(Options{Emails: EmailsKeep}) // the log names colleagues
	if err != nil {
		b.Fatal(err)
	}
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

// BenchmarkString100MB masks 100 MB of mixed text: commit messages and
// logs, the mixed golden input, ML configuration with keys of every kind,
// and co-authors' e-mail addresses. Run it with
//
//	go test -run '^$' -bench String100MB -benchtime 1x ./pipeline/redact
//
// (benchmarks never run in the default test run).
func BenchmarkString100MB(b *testing.B) {
	r := mustNew(b, nil)
	var parts []string
	for _, f := range []string{"clean-log.txt", "mixed.txt"} {
		t, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			b.Fatal(err)
		}
		parts = append(parts, string(t))
	}
	parts = append(parts, "train.py --lr 3e-4 --batch 256\nWANDB_API_KEY="+wandbKey40+"\nexport HF_TOKEN="+hfToken+
		"\nclient = OpenAI(api_key=\""+openaiKey+"\")\nDB_PASS=hunter2hunter2 mysql -u ml -pS3cr3tPw features\n"+
		"Co-authored-by: Bob Smith <bob.smith@example.org>\n{\"metrics\": {\"auc\": 0.91, \"loss\": 0.231}, \"step\": 1200}\n")
	var sb strings.Builder
	for i := 0; sb.Len() < 100<<20; i++ {
		sb.WriteString(parts[i%len(parts)])
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		out, _ := r.String(text)
		if strings.Contains(out, hfToken) {
			b.Fatal("secret survived")
		}
	}
}
