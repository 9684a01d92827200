package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionString says which build this is, from the build information the
// go command stamps into the binary: the module version (a tag such as
// v0.2.0 for `go install …@v0.2.0`, "(devel)" for a build from a clone),
// the VCS commit and time when built from a git checkout ("+dirty" when the
// tree had uncommitted changes), and the Go version.
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	return formatVersion(bi, ok)
}

func formatVersion(bi *debug.BuildInfo, ok bool) string {
	version, commit, when, dirty := "unknown", "", "", false
	if ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	out := "ksbfolio " + version
	switch {
	case commit == "":
		out += " (commit unknown: not built from a git checkout)"
	default:
		if dirty {
			commit += "+dirty"
		}
		out += " (commit " + commit
		if when != "" {
			out += ", " + when
		}
		out += ")"
	}
	goVersion := runtime.Version()
	if ok && bi.GoVersion != "" {
		goVersion = bi.GoVersion
	}
	return out + " " + goVersion
}

func newVersionCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and the commit this binary was built from (also --version)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(g.stdout, versionString())
			return nil
		},
	}
}
