package sourceconfig

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Secret is a credential held by reference: ${env:NAME} (an environment
// variable) or ${file:PATH} (a file whose contents, trimmed of surrounding
// white space, are the value). The value is read only by Resolve, at use
// time; every way of printing a Secret (String, GoString, %v, JSON, YAML,
// slog) gives the reference, never the value. The zero Secret is unset.
type Secret struct{ ref string }

// maxSecretFile bounds what Resolve reads from a ${file:…} secret.
const maxSecretFile = 1 << 20

var (
	secretRefPattern = regexp.MustCompile(`^\$\{([a-z]+):(.*)\}$`)
	envNamePattern   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// ParseSecret reads a reference, ${env:NAME} or ${file:PATH}; a relative
// PATH resolves against dir. The error never repeats s, which may be the
// very value that should not have been written down.
func ParseSecret(s, dir string) (Secret, error) {
	m := secretRefPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Secret{}, fmt.Errorf("secrets must be a reference like ${env:NAME} or ${file:PATH}, not the value")
	}
	switch kind, arg := m[1], m[2]; kind {
	case "env":
		if !envNamePattern.MatchString(arg) {
			return Secret{}, fmt.Errorf("${env:NAME} needs a variable name of letters, digits and _, not starting with a digit")
		}
		return Secret{ref: "${env:" + arg + "}"}, nil
	case "file":
		if strings.TrimSpace(arg) == "" || strings.ContainsAny(arg, "\x00\n\r") {
			return Secret{}, fmt.Errorf("${file:PATH} needs a file path")
		}
		if strings.HasPrefix(arg, "~") {
			return Secret{}, fmt.Errorf("~ is not expanded in ${file:PATH}; write the full path")
		}
		if !filepath.IsAbs(arg) && dir != "" {
			arg = filepath.Join(dir, arg)
		}
		return Secret{ref: "${file:" + filepath.Clean(arg) + "}"}, nil
	default:
		return Secret{}, fmt.Errorf("unknown kind of secret reference (want ${env:NAME} or ${file:PATH})")
	}
}

// IsZero reports whether the secret is unset.
func (s Secret) IsZero() bool { return s.ref == "" }

// Ref returns the reference, "${env:NAME}" or "${file:/abs/path}", or ""
// when unset.
func (s Secret) Ref() string { return s.ref }

// Resolve reads the value now: the environment variable, or the file's
// contents trimmed of surrounding white space. An unset or empty variable,
// an unreadable or empty file, or an unset Secret is an error naming the
// reference, never a value.
func (s Secret) Resolve() (string, error) {
	m := secretRefPattern.FindStringSubmatch(s.ref)
	if m == nil {
		return "", fmt.Errorf("resolve secret: no reference set")
	}
	switch m[1] {
	case "env":
		v, ok := os.LookupEnv(m[2])
		if !ok {
			return "", fmt.Errorf("resolve secret %s: environment variable %s is not set", s.ref, m[2])
		}
		if v == "" {
			return "", fmt.Errorf("resolve secret %s: environment variable %s is empty", s.ref, m[2])
		}
		return v, nil
	case "file":
		f, err := os.Open(m[2])
		if err != nil {
			return "", fmt.Errorf("resolve secret %s: %w", s.ref, err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
		if err != nil {
			return "", fmt.Errorf("resolve secret %s: %w", s.ref, err)
		}
		if len(b) > maxSecretFile {
			return "", fmt.Errorf("resolve secret %s: file larger than %d bytes", s.ref, maxSecretFile)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("resolve secret %s: file is empty", s.ref)
		}
		return v, nil
	}
	return "", fmt.Errorf("resolve secret %s: unknown kind", s.ref)
}

// String gives the reference.
func (s Secret) String() string { return s.ref }

// GoString gives the reference, so %#v never shows a value either.
func (s Secret) GoString() string { return s.ref }

// Format prints the reference for every verb, so that no formatting
// verb reaches the struct's fields.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = io.WriteString(f, strconv.Quote(s.ref))
		return
	}
	_, _ = io.WriteString(f, s.ref)
}

// LogValue gives the reference.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.ref) }

// MarshalJSON gives the reference as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.ref) }

// MarshalYAML gives the reference.
func (s Secret) MarshalYAML() (any, error) { return s.ref, nil }

// MarshalText gives the reference.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.ref), nil }
