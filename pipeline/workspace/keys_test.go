package workspace_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
	"github.com/ksbfolio/ksbfolio/pipeline/workspace"
)

func TestKeyPairRoundTrip(t *testing.T) {
	name := filepath.Join(t.TempDir(), "pat")
	pub, err := workspace.WriteKeyPair(name)
	if err != nil {
		t.Fatal(err)
	}
	privPath, pubPath := workspace.KeyPair(name)
	priv, err := workspace.ReadPrivateKey(privPath)
	if err != nil {
		t.Fatal(err)
	}
	back, err := workspace.ReadPublicKey(pubPath)
	if err != nil || !back.Equal(pub) || !priv.Public().(ed25519.PublicKey).Equal(pub) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := workspace.WriteKeyPair(name); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second WriteKeyPair: %v", err)
	}
	v, err := workspace.NewVerifier([]config.Reviewer{{Name: "Pat", Role: "coach", PublicKey: pubPath}})
	if err != nil {
		t.Fatal(err)
	}
	d := evidence.Sign("git-1", "sha256:x", evidence.Decision{By: "Pat", Role: "coach", Accept: []string{"K1"}}, priv)
	if c := v.Check("git-1", "sha256:x", d); c.Status != evidence.SigVerified {
		t.Errorf("check: %+v", c)
	}
}

func TestReadKeyErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPriv, _ := x509.MarshalPKCS8PrivateKey(ec)
	pubTests := []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "none.pub"), "no such file"},
		{"not PEM", write("text.pub", "hello\n", 0o644), `not a PEM "PUBLIC KEY" block`},
		{"private key given", write("swapped.pub", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecPriv})), 0o644), `not a PEM "PUBLIC KEY" block`},
		{"ECDSA", write("ec.pub", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER})), 0o644), "not an ed25519 key"},
		{"garbage DER", write("bad.pub", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}})), 0o644), "read public key"},
		{"huge", write("huge.pub", strings.Repeat("x", 70<<10), 0o644), "not a key file"},
	}
	for _, tc := range pubTests {
		if _, err := workspace.ReadPublicKey(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	ecPrivPath := write("ec.key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecPriv})), 0o600)
	if _, err := workspace.ReadPrivateKey(ecPrivPath); err == nil || !strings.Contains(err.Error(), "not an ed25519 key") {
		t.Errorf("ECDSA private key: %v", err)
	}
	open := write("open.key", "x", 0o644)
	if _, err := workspace.ReadPrivateKey(open); err == nil || !strings.Contains(err.Error(), "lets others read it") {
		t.Errorf("world-readable private key: %v", err)
	}
	_, err := workspace.NewVerifier([]config.Reviewer{{Name: "Pat", Role: "coach", PublicKey: filepath.Join(dir, "none.pub")}})
	var se *workspace.SetupError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "reviewers[0] (Pat, coach)") {
		t.Errorf("NewVerifier with a missing key: %v", err)
	}
}
