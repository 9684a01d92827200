package sourceconfig_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

const secretValue = "s3cr3t-VALUE-never-printed"

// printings renders s every way a program might print or log it.
func printings(t *testing.T, s sourceconfig.Secret) map[string]string {
	t.Helper()
	out := map[string]string{
		"String":   s.String(),
		"GoString": s.GoString(),
		"%v":       fmt.Sprintf("%v", s),
		"%+v":      fmt.Sprintf("%+v", s),
		"%#v":      fmt.Sprintf("%#v", s),
		"%s":       fmt.Sprintf("%s", s),
		"%q":       fmt.Sprintf("%q", s),
		"%x":       fmt.Sprintf("%x", s),
		"struct":   fmt.Sprintf("%+v", sourceconfig.Auth{Username: "u", Token: s}),
	}
	js, err := json.Marshal(sourceconfig.Auth{Token: s})
	if err != nil {
		t.Fatal(err)
	}
	out["json"] = string(js)
	ym, err := yaml.Marshal(sourceconfig.Auth{Token: s})
	if err != nil {
		t.Fatal(err)
	}
	out["yaml"] = string(ym)
	for _, h := range []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"slog text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
		{"slog json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
	} {
		var b bytes.Buffer
		slog.New(h.new(&b)).Info("auth", "token", s, "auth", sourceconfig.Auth{Token: s})
		out[h.name] = b.String()
	}
	return out
}

func TestSecretNeverPrintsValue(t *testing.T) {
	t.Setenv("KSBFOLIO_TEST_SECRET", secretValue)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tok"), []byte(secretValue+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref, shown string
	}{
		{"${env:KSBFOLIO_TEST_SECRET}", "${env:KSBFOLIO_TEST_SECRET}"},
		{"${file:tok}", "${file:" + filepath.Join(dir, "tok") + "}"},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			s, err := sourceconfig.ParseSecret(tc.ref, dir)
			if err != nil {
				t.Fatal(err)
			}
			if v, err := s.Resolve(); err != nil || v != secretValue {
				t.Fatalf("Resolve() = %q, %v; the test needs it to work", v, err)
			}
			for how, text := range printings(t, s) {
				if strings.Contains(text, secretValue) {
					t.Errorf("%s shows the value: %s", how, text)
				}
				if !strings.Contains(text, tc.shown) && how != "%x" {
					t.Errorf("%s does not show the reference %s: %s", how, tc.shown, text)
				}
			}
		})
	}
}

func TestParseSecret(t *testing.T) {
	dir := filepath.FromSlash("/conf")
	tests := []struct {
		in, ref, err string
	}{
		{in: "${env:GIT_TOKEN}", ref: "${env:GIT_TOKEN}"},
		{in: "  ${env:_X1}  ", ref: "${env:_X1}"},
		{in: "${file:/run/secrets/pw}", ref: "${file:" + filepath.FromSlash("/run/secrets/pw") + "}"},
		{in: "${file:secrets/../pw}", ref: "${file:" + filepath.Join(dir, "pw") + "}"},
		{in: "hunter2", err: "secrets must be a reference like ${env:NAME} or ${file:PATH}, not the value"},
		{in: "Bearer ${env:TOKEN}", err: "not the value"},
		{in: "$GIT_TOKEN", err: "not the value"},
		{in: "", err: "not the value"},
		{in: "${env:}", err: "needs a variable name"},
		{in: "${env:1ABC}", err: "needs a variable name"},
		{in: "${env:A-B}", err: "needs a variable name"},
		{in: "${file:}", err: "needs a file path"},
		{in: "${file:~/pw}", err: "~ is not expanded"},
		{in: "${vault:kv/data/x}", err: "unknown kind"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			s, err := sourceconfig.ParseSecret(tc.in, dir)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if strings.TrimSpace(tc.in) != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.in)) {
					t.Errorf("error repeats the input: %v", err)
				}
				if !s.IsZero() {
					t.Errorf("failed parse returned %v", s)
				}
				return
			}
			if err != nil || s.Ref() != tc.ref {
				t.Fatalf("ParseSecret = %q, %v; want %q", s.Ref(), err, tc.ref)
			}
		})
	}
}

func TestSecretResolveErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "blank"), []byte(" \n\t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KSBFOLIO_TEST_EMPTY", "")
	tests := []struct {
		ref  string
		want []string
	}{
		{"${env:KSBFOLIO_TEST_UNSET_VAR}", []string{"KSBFOLIO_TEST_UNSET_VAR", "not set"}},
		{"${env:KSBFOLIO_TEST_EMPTY}", []string{"KSBFOLIO_TEST_EMPTY", "empty"}},
		{"${file:missing}", []string{filepath.Join(dir, "missing"), "no such file"}},
		{"${file:blank}", []string{"blank", "empty"}},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			s, err := sourceconfig.ParseSecret(tc.ref, dir)
			if err != nil {
				t.Fatal(err)
			}
			v, err := s.Resolve()
			if err == nil || v != "" {
				t.Fatalf("Resolve() = %q, %v; want an error", v, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	var zero sourceconfig.Secret
	if !zero.IsZero() || zero.String() != "" {
		t.Errorf("zero Secret: %q", zero.String())
	}
	if _, err := zero.Resolve(); err == nil {
		t.Error("zero Secret resolved")
	}
}

func TestSecretEnvReadAtUseTime(t *testing.T) {
	s, err := sourceconfig.ParseSecret("${env:KSBFOLIO_TEST_LATE}", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(); err == nil {
		t.Fatal("resolved before the variable was set")
	}
	t.Setenv("KSBFOLIO_TEST_LATE", "later")
	if v, err := s.Resolve(); err != nil || v != "later" {
		t.Errorf("Resolve() = %q, %v", v, err)
	}
}
