package logs_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/collectors/registry"
	"github.com/ksbfolio/ksbfolio/pipeline"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

// TestPlantedSecretsLeaveNoTrace runs the pipeline on a deployment log
// carrying planted secrets and PII: the store holds none of them. The
// secrets are masked by the pipeline's redaction boundary, which sees
// every item and excerpt; client IPs and phone numbers by this
// collector's PII masking.
func TestPlantedSecretsLeaveNoTrace(t *testing.T) {
	dir := t.TempDir()
	planted := []string{
		"AKIAQ3EGRXMZ7NPLKT4W",                                             // AWS access key ID
		"ghp_R4nd0mT0k3nV4lu3F0rT3st1ngXYZ1234567",                         // GitHub token
		"s3cr3tPassw0rdInUrl",                                              // password in a URL
		"MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV9ffNRZOQ4", // private key body
		"198.51.100.23",                                                    // client IP
		"+44 20 7946 0958",                                                 // phone
	}
	log := "2025-09-01T10:00:00Z INFO Starting model deployment with AWS_ACCESS_KEY_ID=AKIAQ3EGRXMZ7NPLKT4W\n" +
		"2025-09-01T10:00:01Z INFO pulling from https://deploy:s3cr3tPassw0rdInUrl@registry.example/churn\n" +
		"2025-09-01T10:00:02Z INFO token ghp_R4nd0mT0k3nV4lu3F0rT3st1ngXYZ1234567 for client 198.51.100.23\n" +
		"2025-09-01T10:00:03Z ERROR Deployment failed, key was:\n-----BEGIN RSA PRIVATE KEY-----\n" +
		"MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV9ffNRZOQ4\n-----END RSA PRIVATE KEY-----\n" +
		"2025-09-01T10:00:04Z ERROR on-call paged at +44 20 7946 0958\n"
	write(t, filepath.Join(dir, "logs", "deployment.log"), log)
	checkStoreHoldsNone(t, dir, "", planted)
}

// TestCutSecretsLeaveNoTrace: secrets that straddle the places where this
// collector cuts text before the pipeline redacts it (a line's
// max_line_bytes, an excerpt line's 2 KiB, a title's 200 bytes, an error
// sample's 300) leave no fragment in the store: cuts fall before a word,
// never inside one.
func TestCutSecretsLeaveNoTrace(t *testing.T) {
	dir := t.TempDir()
	key, token := "AKIAQ3EGRXMZ7NPLKT4W", "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngXYZ1234567"
	// pad makes a line of n bytes (words of "pad") ending in prefix.
	pad := func(prefix string, n int) string {
		return prefix + strings.Repeat("pad ", n/4+1)[:n-len(prefix)]
	}
	at := func(s string, n int, secret string) string { // secret starting n-12 bytes into the line
		return pad(s, n-13) + " " + secret + " tail"
	}
	log := at("2025-09-01T10:00:00Z INFO Starting model deployment ", 4096, "AWS_ACCESS_KEY_ID="+key) + "\n" + // max_line_bytes
		at("2025-09-01T10:00:01Z INFO step ", 2048, key) + "\n" + // an excerpt line
		"2025-09-01T10:00:02Z INFO MODEL DEPLOYMENT SUCCESSFUL!\n" +
		at("2025-09-01T10:00:03Z INFO rolled back to revision 3 ", 200+len("2025-09-01T10:00:03Z INFO ")-len("Rollback: "), token) + "\n" + // a title
		at("2025-09-01T10:00:04Z ERROR boom ", 300+len("2025-09-01T10:00:04Z ERROR "), token) + "\n" // an error sample
	write(t, filepath.Join(dir, "logs", "deployment.log"), log)
	var fragments []string
	for _, s := range []string{key, token} {
		for i := 0; i+8 <= len(s); i++ {
			fragments = append(fragments, s[i:i+8])
		}
	}
	checkStoreHoldsNone(t, dir, ", max_line_bytes: 4096", fragments)
}

// checkStoreHoldsNone runs the pipeline on dir/logs (a logs source with
// extra config keys) and checks that no file of the store holds any of
// the strings.
func checkStoreHoldsNone(t *testing.T, dir, keys string, none []string) {
	t.Helper()
	yml := "apprentice: {id: jdoe, emails: [jane@corp.example]}\nstore: ./store\n" +
		"sources: [{name: deploy, type: logs, paths: [./logs]" + keys + "}]\n"
	cfg, err := config.Parse(filepath.Join(dir, "ksbfolio.yaml"), []byte(yml), dir, registry.Default())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := workspace.Open(ctx, cfg, "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := w.Runner(nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Run(ctx, pipeline.Options{Command: "run"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sources[0].Items < 2 {
		t.Fatalf("report %+v", rep.Sources[0])
	}
	files := 0
	err = filepath.WalkDir(filepath.Join(dir, "store"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		for _, s := range none {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds %q", p, s)
			}
		}
		return nil
	})
	if err != nil || files < 4 {
		t.Fatalf("walked %d files: %v", files, err)
	}
}
