package redact

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func mustNew(t testing.TB, extra []Pattern) *Redactor {
	t.Helper()
	r, err := New(Options{Patterns: extra, AllowedEmails: []string{"jane@corp.example"}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func TestNewRejectsBadPatterns(t *testing.T) {
	tests := []struct {
		name    string
		extra   []Pattern
		wantErr []string // substrings of the error
	}{
		{"bad name", []Pattern{{Name: "Corp_Host", Regex: `x`}}, []string{`pattern 1 ("Corp_Host")`, "name must match"}},
		{"empty name", []Pattern{{Name: "", Regex: `x`}}, []string{`pattern 1 ("")`, "name must match"}},
		{"long name", []Pattern{{Name: strings.Repeat("a", 42), Regex: `x`}}, []string{"name must match"}},
		{"built-in name", []Pattern{{Name: "aws-key", Regex: `x`}}, []string{`("aws-key")`, "already used"}},
		{"duplicate", []Pattern{{Name: "corp", Regex: `a`}, {Name: "corp", Regex: `b`}}, []string{`pattern 2 ("corp")`, "already used"}},
		{"bad regex", []Pattern{{Name: "corp", Regex: `a(b`}}, []string{`pattern 1 ("corp")`, "compile regex", "missing closing )"}},
		{"empty regex", []Pattern{{Name: "corp", Regex: ``}}, []string{"regex is empty"}},
		{"matches empty", []Pattern{{Name: "corp", Regex: `z*`}}, []string{`("corp")`, "can match the empty string"}},
		{"matches empty at a boundary", []Pattern{{Name: "corp", Regex: `\b`}}, []string{"can match the empty string"}},
		{"optional everything", []Pattern{{Name: "corp", Regex: `(?:ab)?|c{0,3}`}}, []string{"can match the empty string"}},
		{"all reported", []Pattern{{Name: "Bad", Regex: `x`}, {Name: "ok", Regex: `(`}}, []string{`pattern 1 ("Bad")`, `pattern 2 ("ok")`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(Options{Patterns: tc.extra})
			if err == nil {
				t.Fatalf("New(%v) = %v, nil; want an error", tc.extra, r.Rules())
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestRulesOrder(t *testing.T) {
	r := mustNew(t, []Pattern{{Name: "corp-host", Regex: `x`}, {Name: "ticket", Regex: `y`}})
	got := r.Rules()
	var want []string
	for _, ri := range Describe() {
		want = append(want, ri.Name)
	}
	want = append(want, EmailRule, "corp-host", "ticket")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Rules() = %v, want %v", got, want)
	}
	if got[0] != "private-key" || got[len(want)-5] != "password-assignment" {
		t.Errorf("built-in order changed: %v", got)
	}
}

func TestExtraPatterns(t *testing.T) {
	r := mustNew(t, []Pattern{
		{Name: "corp-host", Regex: `\b[a-z0-9-]+\.corp\.example\.com\b`},        // whole match
		{Name: "employee-id", Regex: `emp-id: (\d{6})`},                         // group 1
		{Name: "ticket", Regex: `(TICKET)-(?P<secret>\d+)`},                     // named group
		{Name: "zeds", Regex: `z+`},                                             // whole match
		{Name: "mask-eater", Regex: `REDACTED|\[[A-Z]+:[a-z-]+\]|password=\S+`}, // must not break idempotence
	})
	tests := []struct{ in, want string }{
		{"deployed to mlflow.corp.example.com today", "deployed to " + m("corp-host") + " today"},
		{"emp-id: 123456 joined", "emp-id: " + m("employee-id") + " joined"},
		{"see TICKET-4711", "see TICKET-" + m("ticket")},
		{"zzz", m("zeds")},
		{"nothing here", "nothing here"},
		// mask-eater's match covers password-assignment's: one mask, named
		// after the built-in, which comes first.
		{"password=hunter2", m("password-assignment")},
	}
	for _, tc := range tests {
		out, c := r.String(tc.in)
		if out != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, out, tc.want)
		}
		again, c2 := r.String(out)
		if again != out || len(c2) != 0 {
			t.Errorf("not idempotent on %q: %q, %v", out, again, c2)
		}
		if c.Total() != strings.Count(tc.want, "[REDACTED:") {
			t.Errorf("String(%q) counts %v", tc.in, c)
		}
	}
}

// plantedLog is a commit message with an AWS key pair, a GitHub token and
// an RSA private key pasted into it.
func plantedLog() string {
	return `Add nightly retraining job for the fraud model

Schedules the retraining pipeline at 02:00 UTC and pushes the candidate
model to the registry when AUC on the holdout improves. Configuration for
the job runner (to be moved to the vault, see INFRA-212):

    AWS_ACCESS_KEY_ID=` + awsKeyID + `
    AWS_SECRET_ACCESS_KEY=` + awsSecret + `
    GH_TOKEN=` + ghToken + `

Deploy key for the model registry mirror:

` + pem("RSA PRIVATE KEY", keyBody) + `

Refs: ` + sha + `
KSB: S10, K12
Signed-off-by: Jane Doe <jane@corp.example>
`
}

func TestPlantedSecrets(t *testing.T) {
	r := mustNew(t, nil)
	in := plantedLog()
	out, c := r.String(in)
	secrets := []string{awsKeyID, awsSecret, ghToken}
	secrets = append(secrets, strings.Split(keyBody, "\n")...)
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("secret %q survived:\n%s", s, out)
		}
	}
	for _, s := range []string{"Add nightly retraining job", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=",
		"GH_TOKEN=", "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----",
		"Refs: " + sha, "KSB: S10, K12", "Signed-off-by: Jane Doe <jane@corp.example>", "INFRA-212"} {
		if !strings.Contains(out, s) {
			t.Errorf("surrounding text %q lost:\n%s", s, out)
		}
	}
	want := Counts{"aws-key": 1, "aws-secret-key": 1, "github-token": 1, "private-key": 1}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("counts = %v, want %v", c, want)
	}
	again, c2 := r.String(out)
	if again != out || len(c2) != 0 {
		t.Errorf("second pass changed something: %v", c2)
	}
}

// A realistic, clean commit log must pass through unchanged: SHAs, UUIDs,
// hyperparameters, prose about passwords and tokens, base64 of a tiny
// image, URLs without credentials.
func TestCleanLogUnchanged(t *testing.T) {
	// The log names colleagues; e-mail masking has its own tests.
	r, err := New(Options{Emails: EmailsKeep})
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.ReadFile(filepath.Join("testdata", "clean-log.txt"))
	if err != nil {
		t.Fatal(err)
	}
	out, c := r.String(string(in))
	if out != string(in) || len(c) != 0 {
		t.Fatalf("clean log changed (counts %v):\n%s", c, diffLines(string(in), out))
	}
}

// The golden file shows what a mixed text becomes; regenerate it with
// go test ./pipeline/redact -run TestGolden -update.
func TestGolden(t *testing.T) {
	r := mustNew(t, nil)
	in, err := os.ReadFile(filepath.Join("testdata", "mixed.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// The private key is added here so no key block sits in testdata.
	text := strings.ReplaceAll(string(in), "{{PRIVATE_KEY}}", pem("OPENSSH PRIVATE KEY", keyBody))
	out, c := r.String(text)
	var buf bytes.Buffer
	buf.WriteString(out)
	buf.WriteString("\n---- counts ----\n")
	for _, rd := range c.Redactions() {
		buf.WriteString(rd.Rule + " " + itoa(rd.Count) + "\n")
	}
	golden.Check(t, filepath.Join("testdata", "mixed.golden"), buf.Bytes(), *update)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out strings.Builder
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out.WriteString("line " + itoa(i+1) + ":\n- " + x + "\n+ " + y + "\n")
		}
	}
	return out.String()
}

// Overlapping matches become one mask, named after the higher-priority
// rule, and counted once.
func TestOverlapsMergeIntoOneMask(t *testing.T) {
	r := mustNew(t, nil)
	tests := []struct {
		in, want string
		counts   Counts
	}{
		{"GITHUB_TOKEN=" + ghToken, "GITHUB_TOKEN=" + m("github-token"), Counts{"github-token": 1}},
		{"Authorization: token " + ghToken, "Authorization: token " + m("github-token"), Counts{"github-token": 1}},
		{"Authorization: Bearer " + jwtToken, "Authorization: Bearer " + m("jwt"), Counts{"jwt": 1}},
		{"aws_secret_access_key: " + awsSecret, "aws_secret_access_key: " + m("aws-secret-key"), Counts{"aws-secret-key": 1}},
		{`{"private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n"}`,
			`{"private_key": "` + m("private-key") + `"}`, Counts{"private-key": 1}},
		{"token=9z" + m("jwt") + "q", "token=" + m("password-assignment"), Counts{"password-assignment": 1}},
	}
	for _, tc := range tests {
		out, c := r.String(tc.in)
		if out != tc.want || !reflect.DeepEqual(c, tc.counts) {
			t.Errorf("String(%q)\n got %q %v\nwant %q %v", tc.in, out, c, tc.want, tc.counts)
		}
	}
}

// Masks already in a text are opaque: never re-masked, never counted.
func TestMasksAreOpaque(t *testing.T) {
	r := mustNew(t, nil)
	for _, in := range []string{
		"password=" + m("password-assignment") + " rest",
		"https://user:" + m("url-password") + "@host/x",
		`"token": "` + m("github-token") + `"`,
		"-----BEGIN RSA PRIVATE KEY-----\n" + m("private-key") + "\n-----END RSA PRIVATE KEY-----",
		"Authorization: Bearer " + m("jwt"),
		"https://hooks.slack.com/services/" + m("slack-webhook"),
		"curl -u admin:" + m("curl-user") + " https://x",
		m("private-key") + m("aws-key"),
	} {
		out, c := r.String(in)
		if out != in || len(c) != 0 {
			t.Errorf("String(%q) = %q, %v; want it unchanged", in, out, c)
		}
	}
}

func TestBytes(t *testing.T) {
	r := mustNew(t, nil)
	clean := []byte("epoch 3: loss=0.213 val_auc=0.941\n")
	out, c := r.Bytes(clean)
	if len(c) != 0 || &out[0] != &clean[0] {
		t.Errorf("clean bytes: counts %v, and want the same slice back", c)
	}
	in := []byte("2026-03-02T10:04:00Z INFO connecting with password=hunter2\n")
	out, c = r.Bytes(in)
	if want := "2026-03-02T10:04:00Z INFO connecting with password=" + m("password-assignment") + "\n"; string(out) != want {
		t.Errorf("Bytes = %q, want %q", out, want)
	}
	if c["password-assignment"] != 1 {
		t.Errorf("counts = %v", c)
	}
	if string(in) != "2026-03-02T10:04:00Z INFO connecting with password=hunter2\n" {
		t.Errorf("Bytes modified its input")
	}
}

func TestCounts(t *testing.T) {
	c := Counts{"url-password": 2, "aws-key": 1, "zero": 0}
	c.Add(Counts{"aws-key": 2, "jwt": 1})
	want := []evidence.Redaction{{Rule: "aws-key", Count: 3}, {Rule: "jwt", Count: 1}, {Rule: "url-password", Count: 2}}
	if got := c.Redactions(); !reflect.DeepEqual(got, want) {
		t.Errorf("Redactions() = %v, want %v", got, want)
	}
	if c.Total() != 6 {
		t.Errorf("Total() = %d, want 6", c.Total())
	}
	if got := (Counts{}).Redactions(); got == nil || len(got) != 0 {
		t.Errorf("empty Redactions() = %#v, want empty non-nil", got)
	}
}

// Sizes: a 10 MiB text (commit messages, logs, a few secrets) takes well
// under a few seconds. Skipped under -short and the race detector, which
// slows everything tenfold.
func TestLargeInput(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing test: not with -short or -race")
	}
	r := mustNew(t, nil)
	text := realisticText(t, 10<<20)
	start := time.Now()
	out, c := r.String(text)
	took := time.Since(start)
	t.Logf("10 MiB in %v, counts %v", took, c)
	if took > 10*time.Second {
		t.Errorf("10 MiB took %v, want under 10s", took)
	}
	if strings.Contains(out, ghToken) || strings.Contains(out, awsSecret) {
		t.Errorf("secret survived in large input")
	}
}

// realisticText repeats commit messages, hyperparameters and log lines,
// with a secret every so often, up to n bytes.
func realisticText(tb testing.TB, n int) string {
	tb.Helper()
	clean, err := os.ReadFile(filepath.Join("testdata", "clean-log.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.Write(clean)
		switch i % 8 {
		case 0:
			b.WriteString("Temporarily hard-code GH_TOKEN=" + ghToken + " for the mirror job\n\n")
		case 3:
			b.WriteString("2026-03-02T10:04:00Z INFO s3 client aws_secret_access_key=" + awsSecret + "\n\n")
		case 5:
			b.WriteString("curl -u ci:hunter22 https://registry.corp.example/v2/_catalog\n\n")
		}
	}
	return b.String()
}

var maskPattern = regexp.MustCompile(`\[REDACTED:[a-z0-9][a-z0-9-]{0,40}\]`)

func FuzzFindMasks(f *testing.F) {
	for _, s := range []string{"", m("aws-key"), "[REDACTED:]", "[REDACTED:-x]", "[REDACTED:" + strings.Repeat("a", 41) + "]",
		"[REDACTED:" + strings.Repeat("a", 42) + "]", "[[REDACTED:x][REDACTED:y]]", "[REDACTED:A]", "[REDACTED:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := maskPattern.FindAllStringIndex(s, -1)
		got := findMasks(s)
		if len(got) != len(want) {
			t.Fatalf("findMasks(%q) = %v, want %v", s, got, want)
		}
		for i := range got {
			if got[i][0] != want[i][0] || got[i][1] != want[i][1] {
				t.Fatalf("findMasks(%q) = %v, want %v", s, got, want)
			}
		}
	})
}
