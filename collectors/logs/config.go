package logs

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
)

// SourceType is the type name of log sources in the config file.
const SourceType = "logs"

// Defaults.
const (
	defaultMaxLine     = 64 << 10
	minMaxLine         = 256
	maxMaxLine         = 16 << 20
	defaultIncidentGap = 5 * time.Minute
)

// SourceConfig is a logs source as the user writes it in ksbfolio.yaml,
// besides its name and type. check is the one place it is validated.
type SourceConfig struct {
	// Paths are files, folders (read recursively) or doublestar globs
	// ("/var/log/deploy/*.log*", "logs/**/*.log"); relative to the config
	// file, absolute once loaded. Gzip-compressed files are read as
	// text; a GitHub Actions log archive (its .zip or unpacked folder)
	// becomes one CI job item. Symlinks are followed only when they stay
	// under the pattern's fixed folder.
	Paths []string `yaml:"paths" json:"paths"`
	// Format is auto (default: detected per file), text (ISO 8601,
	// syslog, Python logging, Airflow, TorchServe, GitHub Actions), json,
	// docker, cri or access.
	Format string `yaml:"format,omitempty" json:"format,omitempty"`
	// PII is mask (default: client IP addresses and phone numbers in
	// excerpts, titles and summaries are masked) or keep.
	PII string `yaml:"pii,omitempty" json:"pii,omitempty"`
	// Events are patterns tried before the built-in ones.
	Events []PatternConfig `yaml:"events,omitempty" json:"events,omitempty"`
	// DisableBuiltinEvents keeps only the configured Events.
	DisableBuiltinEvents bool `yaml:"disable_builtin_events,omitempty" json:"disable_builtin_events,omitempty"`
	// MaxLineBytes is the longest line kept whole (default 64 KiB);
	// longer lines are cut before a word to at most this and counted.
	MaxLineBytes int `yaml:"max_line_bytes,omitempty" json:"max_line_bytes,omitempty"`
	// IncidentGap is how long without an error ends an incident
	// (default 5m).
	IncidentGap string `yaml:"incident_gap,omitempty" json:"incident_gap,omitempty"`
	// CloudWatch is a CloudWatch Logs log group to read, besides or
	// instead of Paths.
	CloudWatch *CloudWatchConfig `yaml:"cloudwatch,omitempty" json:"cloudwatch,omitempty"`
	// S3 is a bucket prefix whose objects are log files, besides or
	// instead of Paths.
	S3 *S3Config `yaml:"s3,omitempty" json:"s3,omitempty"`
}

// problem is one thing wrong with a logs source: the key and what.
type problem struct{ key, msg string }

// check validates what the user writes, without touching any file.
func (sc SourceConfig) check() []problem {
	var ps []problem
	add := func(key, format string, args ...any) { ps = append(ps, problem{key, fmt.Sprintf(format, args...)}) }
	if len(sc.Paths) == 0 && sc.CloudWatch == nil && sc.S3 == nil {
		add("paths", "required: at least one file, folder or glob (or a cloudwatch: log group, or s3: url)")
	}
	if sc.S3 != nil {
		ps = append(ps, sc.S3.check()...)
	}
	if sc.CloudWatch != nil {
		ps = append(ps, sc.CloudWatch.check()...)
	}
	for i, p := range sc.Paths {
		key := fmt.Sprintf("paths[%d]", i)
		switch {
		case strings.TrimSpace(p) == "":
			add(key, "empty")
		case !doublestar.ValidatePathPattern(p):
			add(key, "%q is not a valid glob", p)
		}
	}
	if _, ok := formatNames[sc.Format]; !ok {
		add("format", "%q: want auto, text, json, docker, cri or access (or syslog, python, airflow, torchserve, gha)", sc.Format)
	}
	if sc.PII != "" && sc.PII != piiMask && sc.PII != piiKeep {
		add("pii", "%q: want mask or keep", sc.PII)
	}
	for i, e := range sc.Events {
		if _, err := e.compile(); err != nil {
			add(fmt.Sprintf("events[%d]", i), "%v", err)
		}
	}
	if sc.DisableBuiltinEvents && len(sc.Events) == 0 {
		add("disable_builtin_events", "with no events configured nothing but incidents, pipeline runs and CI jobs would be found")
	}
	if sc.MaxLineBytes != 0 && (sc.MaxLineBytes < minMaxLine || sc.MaxLineBytes > maxMaxLine) {
		add("max_line_bytes", "%d: want %d to %d", sc.MaxLineBytes, minMaxLine, maxMaxLine)
	}
	if sc.IncidentGap != "" {
		if d, err := time.ParseDuration(sc.IncidentGap); err != nil || d <= 0 {
			add("incident_gap", "%q: want a positive duration such as 5m", sc.IncidentGap)
		}
	}
	return ps
}

// Config is one logs collector as the code builds it.
type Config struct {
	SourceConfig
	// Name is the configured source name, written into every item.
	Name string
	// Apprentice is the apprentice ID written into every item.
	Apprentice string
}

// Validate checks cfg and reports every problem at once.
func (cfg Config) Validate() error {
	var errs []error
	if strings.TrimSpace(cfg.Name) == "" {
		errs = append(errs, errors.New("name: must be set"))
	}
	if strings.TrimSpace(cfg.Apprentice) == "" {
		errs = append(errs, errors.New("apprentice: must be set"))
	}
	for _, p := range cfg.check() {
		errs = append(errs, fmt.Errorf("%s: %s", p.key, p.msg))
	}
	return errors.Join(errs...)
}
