package prometheus

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/prometheus/common/model"

	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// SourceType is the `type:` of Prometheus sources.
const SourceType = "prometheus"

// Defaults of SourceConfig.
const (
	DefaultWindow  = 7 * 24 * time.Hour
	DefaultTimeout = 30 * time.Second
	// DefaultWindows is how many windows back a first collection starts
	// when since is not set.
	DefaultWindows = 4
	// MaxPoints is Prometheus's limit on points per series in one
	// query_range request (web/api/v1/api.go: end.Sub(start)/step > 11000
	// is refused).
	MaxPoints = 11000
	// minAutoStep is the smallest step chosen when step is not set.
	minAutoStep = time.Minute
)

// SourceConfig is a Prometheus source as the user writes it in
// ksbfolio.yaml, besides its name and type: either a server (url, with
// queries) or saved results (files). It is checked by check, the one
// place Prometheus settings are validated.
type SourceConfig struct {
	// URL is the Prometheus server's base URL (http or https), without
	// /api/v1.
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// Auth: a bearer token, or a username and password (basic auth).
	Auth *sourceconfig.Auth `yaml:"auth,omitempty" json:"auth,omitempty"`
	// Queries are the PromQL queries evaluated over each window.
	Queries []Query `yaml:"queries,omitempty" json:"queries,omitempty"`
	// Window is the length of one window item ("1w", "1d"; Prometheus
	// duration syntax). Default 1w. Windows are aligned to Monday
	// 1970-01-05 00:00 UTC, so weekly windows start on Mondays.
	Window string `yaml:"window,omitempty" json:"window,omitempty"`
	// Step is the query resolution ("1m"). Default: the window divided by
	// 11,000, rounded up to a second, and at least 1m. A step that would
	// need more than 11,000 points per series splits the window into
	// several requests.
	Step string `yaml:"step,omitempty" json:"step,omitempty"`
	// Since is the first day collected when there is no cursor; default
	// four windows back.
	Since sourceconfig.Date `yaml:"since,omitempty" json:"since,omitzero"`
	// Timeout bounds each request ("30s", the default).
	Timeout string `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// Alerts turns firing alerts (the ALERTS series) into incident items;
	// default true.
	Alerts *bool `yaml:"alerts,omitempty" json:"alerts,omitempty"`
	// Rules records the server's alerting and recording rules as a
	// monitoring_setup item; default true.
	Rules *bool `yaml:"rules,omitempty" json:"rules,omitempty"`
	// Files are globs of saved results (query_range JSON responses and
	// exposition-format snapshots), relative to the config file; `**`
	// matches across folders.
	Files []string `yaml:"files,omitempty" json:"files,omitempty"`
}

// Query is one configured PromQL query.
type Query struct {
	// Name names the query's items ("p95_latency"); unique in the source.
	Name string `yaml:"name" json:"name"`
	// Expr is the PromQL expression (the key DESIGN.md and Prometheus's
	// rules files use).
	Expr string `yaml:"expr,omitempty" json:"expr,omitempty"`
	// Query is the same, by the name of the HTTP API's parameter; give
	// one of expr and query.
	Query string `yaml:"query,omitempty" json:"query,omitempty"`
	// Step overrides the source's step for this query.
	Step string `yaml:"step,omitempty" json:"step,omitempty"`
	// Threshold, when set, adds the time the value spent beyond it to
	// each window's facts.
	Threshold *float64 `yaml:"threshold,omitempty" json:"threshold,omitempty"`
	// Direction says which side of Threshold is bad: "above" (default)
	// or "below".
	Direction string `yaml:"direction,omitempty" json:"direction,omitempty"`
}

// PromQL is the query's expression: Expr, or Query.
func (q Query) PromQL() string {
	if q.Expr != "" {
		return q.Expr
	}
	return q.Query
}

// stepOr is the query's own step, else def. Steps are checked by check.
func (q Query) stepOr(def time.Duration) time.Duration {
	if d, err := model.ParseDuration(q.Step); err == nil && d > 0 {
		return time.Duration(d)
	}
	return def
}

// problem is one thing wrong with a source: the key, relative to the
// source ("queries[1].name"), and what is wrong.
type problem struct{ key, msg string }

var queryNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)

// settings are the parsed durations of a SourceConfig.
type settings struct {
	window, step, timeout time.Duration
}

// check validates what the user writes, without touching the server or
// the files, and returns the parsed durations.
func (sc SourceConfig) check() (settings, []problem) {
	var ps []problem
	add := func(key, format string, args ...any) { ps = append(ps, problem{key, fmt.Sprintf(format, args...)}) }
	st := settings{window: DefaultWindow, timeout: DefaultTimeout}
	dur := func(key, s string, into *time.Duration) {
		if s == "" {
			return
		}
		d, err := model.ParseDuration(s)
		if err != nil || d <= 0 {
			add(key, "%q is not a duration like 30s, 5m, 1h, 1d or 1w", s)
			return
		}
		*into = time.Duration(d)
	}
	dur("window", sc.Window, &st.window)
	dur("step", sc.Step, &st.step)
	dur("timeout", sc.Timeout, &st.timeout)
	if st.window < time.Minute && sc.Window != "" {
		add("window", "at least 1m")
	}
	if st.step > 0 && st.step > st.window {
		add("step", "longer than the window (%s)", model.Duration(st.window))
	}
	switch {
	case sc.URL == "" && len(sc.Files) == 0:
		add("url", "required: the Prometheus server (or files: for saved results)")
	case sc.URL != "" && len(sc.Files) > 0:
		add("files", "give either url (a server) or files (saved results), not both; make two sources")
	case sc.URL != "":
		u, err := url.Parse(sc.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("url", "want an http:// or https:// URL of the server")
		} else if u.User != nil {
			add("url", "credentials do not go in the URL; use auth with a secret reference")
		} else if u.RawQuery != "" || u.Fragment != "" {
			add("url", "want the server's base URL, without a query or fragment")
		}
		if len(sc.Queries) == 0 && !sc.wantRules() && !sc.wantAlerts() {
			add("queries", "at least one query (or leave alerts or rules on)")
		}
	}
	if len(sc.Files) > 0 {
		if len(sc.Queries) > 0 {
			add("queries", "only used with url; saved results carry their own series")
		}
		for i, g := range sc.Files {
			if strings.TrimSpace(g) == "" || !doublestar.ValidatePattern(g) {
				add(fmt.Sprintf("files[%d]", i), "not a valid glob")
			}
		}
	}
	seen := map[string]bool{}
	for i, q := range sc.Queries {
		key := fmt.Sprintf("queries[%d]", i)
		switch {
		case !queryNamePattern.MatchString(q.Name):
			add(key+".name", "want 1 to 64 letters, digits, _ . : or -, starting with a letter or digit")
		case seen[q.Name]:
			add(key+".name", "%s is used twice; names must be unique", q.Name)
		}
		seen[q.Name] = true
		switch {
		case q.Expr != "" && q.Query != "":
			add(key+".query", "give expr or query, not both (they are the same)")
		case strings.TrimSpace(q.PromQL()) == "":
			add(key+".expr", "required: a PromQL expression")
		}
		var qstep time.Duration
		dur(key+".step", q.Step, &qstep)
		if qstep > st.window {
			add(key+".step", "longer than the window (%s)", model.Duration(st.window))
		}
		switch q.Direction {
		case "", "above", "below":
		default:
			add(key+".direction", "want above or below")
		}
		if q.Direction != "" && q.Threshold == nil {
			add(key+".direction", "only used with threshold")
		}
	}
	if a := sc.Auth; a != nil {
		switch {
		case sc.URL == "":
			add("auth", "only used with url")
		case a.SSHKey != "":
			add("auth.ssh_key", "not used by Prometheus; give token or username and password")
		case !a.Token.IsZero() && (!a.Password.IsZero() || a.Username != ""):
			add("auth.token", "give either token or username and password, not both")
		case a.Token.IsZero() && (a.Username == "" || a.Password.IsZero()):
			add("auth", "give token, or username and password")
		}
	}
	return st, ps
}

func (sc SourceConfig) wantAlerts() bool { return sc.Alerts == nil || *sc.Alerts }
func (sc SourceConfig) wantRules() bool  { return sc.Rules == nil || *sc.Rules }

// Config is one Prometheus collector as the code builds it.
type Config struct {
	Source     SourceConfig
	Name       string // the configured source name
	Apprentice string // the apprentice ID written into every item
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
	_, ps := cfg.Source.check()
	for _, p := range ps {
		errs = append(errs, fmt.Errorf("%s: %s", p.key, p.msg))
	}
	return errors.Join(errs...)
}

// autoStep is the step used when none is configured: the window over
// MaxPoints, rounded up to a second, at least minAutoStep.
func autoStep(window time.Duration) time.Duration {
	s := (window + MaxPoints - 1) / MaxPoints
	s = (s + time.Second - 1).Truncate(time.Second)
	return max(s, minAutoStep)
}
