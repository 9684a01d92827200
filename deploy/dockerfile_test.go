package deploy

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// parseDockerfile parses a Dockerfile with BuildKit's parser (as `docker
// build` does) into its stages; a parser warning is an error.
func parseDockerfile(src []byte) ([]instructions.Stage, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile: %w", err)
	}
	if len(res.Warnings) > 0 {
		return nil, fmt.Errorf("parse Dockerfile: warning at line %d: %s", res.Warnings[0].Location.Start.Line, res.Warnings[0].Short)
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile instructions: %w", err)
	}
	return stages, nil
}

// checkImage checks the promises of deploy/Dockerfile: a build stage
// making a static binary, and a final stage from another base holding
// only that binary, CA certificates and git, run by a non-root user
// whose writable paths are all under /tmp.
func checkImage(stages []instructions.Stage) error {
	if len(stages) < 2 {
		return fmt.Errorf("%d stages, want a build stage and the image", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	var buildRuns []string
	for _, c := range build.Commands {
		if r, ok := c.(*instructions.RunCommand); ok {
			buildRuns = append(buildRuns, strings.Join(r.CmdLine, " "))
		}
	}
	static := slices.ContainsFunc(buildRuns, func(s string) bool {
		return strings.Contains(s, "CGO_ENABLED=0") && strings.Contains(s, "go build") && strings.Contains(s, "./cmd/ksbfolio")
	})
	if !static {
		return fmt.Errorf("no RUN in stage %s builds ./cmd/ksbfolio with CGO_ENABLED=0: %q", build.Name, buildRuns)
	}
	if final.BaseName == build.BaseName || final.Name == build.Name {
		return fmt.Errorf("the image is built on the build stage (%s)", final.BaseName)
	}
	var user, entry string
	var copied, installs bool
	env := map[string]string{}
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.CopyCommand:
			if c.From == build.Name && slices.Contains(c.SourcePaths, "/out/ksbfolio") {
				copied = true
			}
		case *instructions.RunCommand:
			s := strings.Join(c.CmdLine, " ")
			if strings.Contains(s, "apt-get install") && strings.Contains(s, "ca-certificates") && strings.Contains(s, " git ") {
				installs = true
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env[kv.Key] = kv.Value
			}
		case *instructions.EntrypointCommand:
			entry = strings.Join(c.CmdLine, " ")
		}
	}
	switch {
	case !copied:
		return fmt.Errorf("the image does not copy /out/ksbfolio from stage %s", build.Name)
	case !installs:
		return fmt.Errorf("the image does not install ca-certificates and git")
	case user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:"):
		return fmt.Errorf("the image runs as root (USER %q)", user)
	case entry != "/usr/local/bin/ksbfolio":
		return fmt.Errorf("entrypoint %q", entry)
	}
	for _, k := range []string{"HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"} {
		if !strings.HasPrefix(env[k], "/tmp") {
			return fmt.Errorf("%s is %q, not under /tmp (the one writable path with a read-only root filesystem)", k, env[k])
		}
	}
	return nil
}

func TestDockerfile(t *testing.T) {
	src, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	stages, err := parseDockerfile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkImage(stages); err != nil {
		t.Fatal(err)
	}
	// Each promise, broken on purpose, is caught.
	for _, tc := range []struct{ from, to, want string }{
		{"CGO_ENABLED=0 ", "", "CGO_ENABLED=0"},
		{"USER 65532:65532", "USER root", "runs as root"},
		{"ca-certificates git", "ca-certificates", "ca-certificates and git"},
		{"HOME=/tmp ", "HOME=/home/ksbfolio ", "HOME"},
		{"COPY --from=build", "COPY --from=golang", "does not copy"},
		{"FROM debian:${DEBIAN_VERSION}-slim", "", "stages"},
		{"FROM golang:${GO_VERSION}-${DEBIAN_VERSION} AS build", "FROOM golang AS build", "parse"},
	} {
		broken := strings.Replace(string(src), tc.from, tc.to, 1)
		if broken == string(src) {
			t.Fatalf("%q is not in the Dockerfile", tc.from)
		}
		stages, err := parseDockerfile([]byte(broken))
		if err == nil {
			err = checkImage(stages)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("with %q replaced: %v, want %q", tc.from, err, tc.want)
		}
	}
}
