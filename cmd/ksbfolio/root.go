package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ksbfolio/ksbfolio/evidence/ledger"
	"github.com/ksbfolio/ksbfolio/pipeline/config"
)

// globals are the global flags and the process's streams, handed to every
// command (no package-level state).
type globals struct {
	ctx        context.Context
	stdin      io.Reader // review -i reads keys from it
	stdout     io.Writer
	stderr     io.Writer
	configPath string
	logFormat  string
	logLevel   string
	noProgress bool
	log        *slog.Logger
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{ctx: ctx, stdin: os.Stdin, stdout: stdout, stderr: stderr}
	root := newRootCommand(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	code := exitCode(ctx, err)
	if err != nil {
		var ee *exitErr
		if !errors.As(err, &ee) || ee.err != nil {
			fmt.Fprintln(stderr, "ksbfolio: "+errorText(err))
		}
	}
	return code
}

func exitCode(ctx context.Context, err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitErr
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, config.ErrInvalid) {
		return exitUsage
	}
	if errors.Is(err, ledger.ErrLeaseHeld) {
		return exitLeaseHeld
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return exitInterrupted
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires "} {
		if strings.HasPrefix(msg, p) {
			return exitUsage
		}
	}
	return exitError
}

func newRootCommand(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "ksbfolio",
		Short: "Collect an ML engineer apprentice's real work as KSB evidence for the end-point assessment",
		Long: `ksbfolio collects evidence of an ML engineer apprentice's work (git history,
training runs, deployment logs, monitoring), masks secrets, tags each piece
against the KSBs of the apprenticeship standard (ST1398) and keeps it in a
ledger on a local folder or S3 storage; from it, it reports coverage and
builds the portfolio pack and the assessor workbook.

Exit codes: 0 ok; 1 error; 2 usage or invalid config; 3 finished but some
sources failed or were partial (or a stored object was corrupt); 4 another
run holds this apprentice's lease; 130 interrupted.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return g.setup()
		},
	}
	def := os.Getenv("KSBFOLIO_CONFIG")
	if def == "" {
		def = "ksbfolio.yaml"
	}
	pf := root.PersistentFlags()
	pf.StringVarP(&g.configPath, "config", "c", def, "config file (env KSBFOLIO_CONFIG)")
	pf.StringVar(&g.logFormat, "log-format", "text", "log format: text or json (logs go to stderr)")
	pf.StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	pf.BoolVar(&g.noProgress, "no-progress", false, "never show progress, even on a terminal")
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withCode(exitUsage, err) })

	root.AddCommand(
		newInitCommand(g),
		newRunCommand(g),
		newServeCommand(g),
		newCollectCommand(g),
		newItemsCommand(g),
		newShowCommand(g),
		newCoverageCommand(g),
		newReviewCommand(g),
		newExportCommand(g),
		newKeygenCommand(g),
		newVerifyReviewsCommand(g),
		newPackCommand(g),
		newVerifyCommand(g),
		newAddCommand(g),
		newRetagCommand(g),
		newFsckCommand(g),
		newEraseCommand(g),
		newStandardCommand(g),
		newDemoCommand(g),
		newVersionCommand(g),
	)
	return root
}

func (g *globals) setup() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return usageErrorf("--log-level %q: want debug, info, warn or error", g.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		g.log = slog.New(slog.NewTextHandler(g.stderr, opts))
	case "json":
		g.log = slog.New(slog.NewJSONHandler(g.stderr, opts))
	default:
		return usageErrorf("--log-format %q: want text or json", g.logFormat)
	}
	return nil
}

// progressOn reports whether progress may be drawn on stderr.
func (g *globals) progressOn() bool {
	if g.noProgress {
		return false
	}
	f, ok := g.stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// exactArgs is cobra.ExactArgs with a usage exit code.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s takes %d argument(s), got %d (see %s --help)", cmd.CommandPath(), n, len(args), cmd.CommandPath())
		}
		return nil
	}
}

func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageErrorf("%s takes at most %d argument(s), got %d (see %s --help)", cmd.CommandPath(), n, len(args), cmd.CommandPath())
		}
		return nil
	}
}
