package demorepo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// Git runs `git -C dir args...` with the user's and the system's git
// configuration shut out (see isolatedEnv) and returns its standard output. A
// non-zero exit gives an error that quotes the command and its standard
// error.
func Git(ctx context.Context, dir string, args ...string) (string, error) {
	return GitEnv(ctx, dir, nil, nil, args...)
}

// GitEnv is Git with extra environment variables (NAME=value, applied after
// isolatedEnv's, so they win) and an optional standard input.
func GitEnv(ctx context.Context, dir string, env []string, stdin io.Reader, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(isolatedEnv(dir), env...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), dir, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// isolatedEnv returns the current process environment without any GIT_*
// variable (a run from inside a git hook must not act on the outer repository)
// and with isolation added: no system or global git configuration, HOME set
// to home, no terminal prompts, the C locale, and a fixed default identity
// so that commits made without one do not depend on the machine.
func isolatedEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "GIT_"), name == "HOME", name == "XDG_CONFIG_HOME",
			name == "LANG", name == "LANGUAGE", strings.HasPrefix(name, "LC_"), name == "EMAIL":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+home,
		"XDG_CONFIG_HOME="+home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Test Author",
		"GIT_AUTHOR_EMAIL=author@test.example",
		"GIT_COMMITTER_NAME=Test Committer",
		"GIT_COMMITTER_EMAIL=committer@test.example",
		"LC_ALL=C",
	)
}
