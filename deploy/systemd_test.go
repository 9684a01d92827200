package deploy

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var units = []string{"ksbfolio.service", "ksbfolio-serve.service", "ksbfolio.timer"}

// unitDirectives returns the directives of a unit file's [Service]
// section, each name with its values in order.
func unitDirectives(src []byte) map[string][]string {
	d := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = line
		case section == "[Service]":
			k, v, _ := strings.Cut(line, "=")
			d[k] = append(d[k], v)
		}
	}
	return d
}

// TestServiceSandbox: both services run as the ksbfolio user in the
// sandbox deploy/README.md describes.
func TestServiceSandbox(t *testing.T) {
	want := map[string]string{
		"User": "ksbfolio", "ProtectSystem": "strict", "ProtectHome": "read-only", "PrivateTmp": "yes",
		"PrivateDevices": "yes", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "ProtectKernelTunables": "yes",
		"ProtectKernelModules": "yes", "ProtectControlGroups": "yes", "RestrictNamespaces": "yes",
		"RestrictSUIDSGID": "yes", "MemoryDenyWriteExecute": "yes", "SystemCallArchitectures": "native",
		"SystemCallFilter": "@system-service", "StateDirectory": "ksbfolio", "CacheDirectory": "ksbfolio",
		"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6", "UMask": "0077",
	}
	for _, u := range units[:2] {
		src, err := os.ReadFile(filepath.Join("systemd", u))
		if err != nil {
			t.Fatal(err)
		}
		d := unitDirectives(src)
		for k, v := range want {
			if len(d[k]) == 0 || d[k][0] != v {
				t.Errorf("%s: %s=%q, want %q", u, k, d[k], v)
			}
		}
		for k, vs := range d {
			if strings.Contains(strings.ToUpper(k+strings.Join(vs, " ")), "SECRET_ACCESS_KEY=") {
				t.Errorf("%s: a credential in %s", u, k)
			}
		}
		if !strings.Contains(strings.Join(d["ExecStart"], " "), "-c /etc/ksbfolio/ksbfolio.yaml") {
			t.Errorf("%s: ExecStart %q", u, d["ExecStart"])
		}
	}
}

// verifyUnits runs systemd-analyze verify over units inside a root folder
// holding the system's own units and an executable at
// /usr/local/bin/ksbfolio; any message is a failure, as verify reports
// some mistakes (a bad value, "ignoring") with exit status 0.
func verifyUnits(analyze string, files map[string][]byte) error {
	root, err := os.MkdirTemp("", "ksbfolio-systemd-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	etc := filepath.Join(root, "etc", "systemd", "system")
	bin := filepath.Join(root, "usr", "local", "bin")
	for _, d := range []string{etc, bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(bin, "ksbfolio"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		return err
	}
	if err := os.CopyFS(filepath.Join(root, "usr", "lib", "systemd", "system"), os.DirFS("/usr/lib/systemd/system")); err != nil {
		return fmt.Errorf("copy the system's units: %w", err)
	}
	var names []string
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(etc, name), src, 0o644); err != nil {
			return err
		}
		names = append(names, name)
	}
	cmd := exec.Command(analyze, append([]string{"verify", "--root=" + root}, names...)...)
	cmd.Dir = etc
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		return fmt.Errorf("systemd-analyze verify %v: %v\n%s", names, err, out)
	}
	return nil
}

// TestSystemdAnalyzeVerify runs systemd-analyze verify over the units
// where it runs: it is skipped, saying why, where systemd-analyze is
// missing or cannot verify a trivial unit.
func TestSystemdAnalyzeVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not on PATH (Debian's systemd package)")
	}
	if err := verifyUnits(analyze, map[string][]byte{"probe.service": []byte("[Service]\nType=oneshot\nExecStart=/usr/local/bin/ksbfolio version\n")}); err != nil {
		t.Skipf("systemd-analyze verify does not run here: %v", err)
	}
	files := map[string][]byte{}
	for _, u := range units {
		src, err := os.ReadFile(filepath.Join("systemd", u))
		if err != nil {
			t.Fatal(err)
		}
		files[u] = src
	}
	if err := verifyUnits(analyze, files); err != nil {
		t.Fatal(err)
	}
	// The check catches a bad value, which systemd only warns about.
	files["ksbfolio.service"] = bytes.Replace(files["ksbfolio.service"], []byte("ProtectSystem=strict"), []byte("ProtectSystem=strikt"), 1)
	if err := verifyUnits(analyze, files); err == nil || !strings.Contains(err.Error(), "strikt") {
		t.Errorf("a bad ProtectSystem value: %v", err)
	}
}
