package workspace

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

// maxKeyFile is the largest key file read.
const maxKeyFile = 64 << 10

// KeyPair names the files of a key pair `ksbfolio keygen -o NAME` writes:
// NAME.key (private) and NAME.pub (public).
func KeyPair(name string) (private, public string) { return name + ".key", name + ".pub" }

// WriteKeyPair makes a new ed25519 key pair and writes it as PEM: the
// private key (PKCS #8, "PRIVATE KEY") to NAME.key with mode 0600, the
// public key (PKIX, "PUBLIC KEY") to NAME.pub. Neither file may exist
// already; nothing is written when one does. It returns the public key.
func WriteKeyPair(name string) (ed25519.PublicKey, error) {
	privPath, pubPath := KeyPair(name)
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("write key pair: %s exists; keygen never overwrites a key (choose another -o)", p)
		}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("make key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	if err := writeNew(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		os.Remove(privPath)
		return nil, err
	}
	return pub, nil
}

// writeNew creates path (it must not exist) with mode and writes b.
func writeNew(path string, b []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write key %s: %w", path, err)
	}
	return nil
}

// readPEM reads the one PEM block of type want in path.
func readPEM(path, want string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("%s: larger than %d bytes, not a key file", path, maxKeyFile)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != want {
		return nil, fmt.Errorf("%s: not a PEM %q block (ksbfolio keygen writes one)", path, want)
	}
	return block.Bytes, nil
}

// ReadPublicKey reads an ed25519 public key from a PEM file (PKIX).
func ReadPublicKey(path string) (ed25519.PublicKey, error) {
	der, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, fmt.Errorf("read public key: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("read public key %s: %w", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("read public key %s: a %T, not an ed25519 key", path, k)
	}
	return pub, nil
}

// ReadPrivateKey reads an ed25519 private key from a PEM file (PKCS #8).
// It refuses a file that others can read.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("read private key %s: mode %04o lets others read it; chmod 600 it", path, fi.Mode().Perm())
	}
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("read private key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("read private key %s: a %T, not an ed25519 key", path, k)
	}
	return priv, nil
}

// NewVerifier reads the configured reviewers' public keys. A key that
// cannot be read is a SetupError naming the reviewer.
func NewVerifier(rs []config.Reviewer) (*evidence.Verifier, error) {
	var out []evidence.Reviewer
	var errs []error
	for i, r := range rs {
		k, err := ReadPublicKey(r.PublicKey)
		if err != nil {
			errs = append(errs, fmt.Errorf("reviewers[%d] (%s, %s): %w", i, r.Name, r.Role, err))
			continue
		}
		out = append(out, evidence.Reviewer{Name: r.Name, Role: r.Role, Key: k})
	}
	if len(errs) > 0 {
		return nil, &SetupError{Err: errors.Join(errs...)}
	}
	return evidence.NewVerifier(out), nil
}
