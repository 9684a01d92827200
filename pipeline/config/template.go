package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// TemplateData is what `ksbfolio init` found out about the apprentice and
// the folder it runs in.
type TemplateData struct {
	ApprenticeID string
	Name         string
	Emails       []string
	// OtherEmails are other addresses found in the repository's history
	// under the apprentice's name: offered as commented-out entries.
	OtherEmails []OtherEmail
	Repos       []Repo
	// Found lists other things detected, each written as a comment, e.g.
	// "./mlruns (an MLflow store: a source of type mlflow collects it)".
	Found []string
}

// OtherEmail is an address seen in history, with how many commits use it.
type OtherEmail struct {
	Email   string
	Commits int
}

// Repo is a git repository to configure as a source.
type Repo struct {
	Name string // source name, a slug
	Path string // relative to the config file's folder
}

// Template writes a commented ksbfolio.yaml. Every key of the config is
// shown: the ones d fills in are set, the optional ones are commented
// out, each with a line saying what it does. Given a slug ID, at least one
// email and slug repo names, the result parses without problems; with no
// repos it has an empty sources list, which is valid (`ksbfolio add`
// works without sources).
func Template(d TemplateData) []byte {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	w("# ksbfolio.yaml: where ksbfolio finds your work and where it keeps the evidence.")
	w("# Written by `ksbfolio init`. Every key is shown; optional ones are commented")
	w("# out, each with a line saying what it does. Relative paths are relative to")
	w("# this file. Secrets are never written here, only references to them:")
	w("# ${env:NAME} (an environment variable) or ${file:PATH} (a file holding it).")
	w("")
	w("# Who the portfolio is for (required). For several apprentices, use a list")
	w("# under apprentices: instead, each entry with the same keys:")
	w("# apprentices:")
	w("#   - {id: jdoe, name: Jane Doe, emails: [jane@corp.example]}")
	w("apprentice:")
	w("  # A short slug (a-z, 0-9, . _ -) naming this apprentice's part of the ledger.")
	w("  id: %s", scalar(d.ApprenticeID))
	w("  # Full name, shown on the portfolio's cover.")
	if d.Name != "" {
		w("  name: %s", scalar(d.Name))
	} else {
		w("  # name: Jane Doe")
	}
	w("  # The addresses your commits are authored with (required, at least one).")
	switch {
	case len(d.Emails) == 0 && len(d.OtherEmails) == 0:
		w("  # No address was found (git config user.email is not set): add yours.")
		w("  emails: []")
	case len(d.Emails) == 0:
		w("  # git config user.email is not set: uncomment the addresses that are yours.")
		w("  emails: []")
	default:
		w("  emails:")
		for _, e := range d.Emails {
			w("    - %s", scalar(e))
		}
	}
	if len(d.OtherEmails) > 0 {
		w("    # Other addresses in this repository's history under the name %s:", oneLine(d.Name))
		w("    # uncomment the ones that are yours (commits by an address not listed are not collected).")
		for _, o := range d.OtherEmails {
			unit := "commits"
			if o.Commits == 1 {
				unit = "commit"
			}
			w("    # - %s   # %d %s", scalar(o.Email), o.Commits, unit)
		}
	}
	w("  # Employer, shown on the cover and on the declaration you both sign.")
	w("  # employer: Corp Ltd")
	w("  # Apprenticeship start and planned gateway dates (YYYY-MM-DD, gateway after start).")
	w("  # start: 2025-01-06")
	w("  # gateway: 2027-01-05")
	w("")
	w("# The KSB catalogue evidence is tagged against: a built-in ID, an imported")
	w("# catalogue's ID, or the path of a catalogue file. Default: %s.", DefaultStandard)
	w("# standard: %s", DefaultStandard)
	w("")
	w("# Where the evidence ledger is kept: a folder (the default), created by the")
	w("# first run. Inside a git work tree, keep it out of commits (.gitignore)…")
	w("store: %s", DefaultStore)
	w("# …or S3-compatible object storage:")
	w("# store: s3://bucket/prefix?endpoint=host:9000&region=eu-west-2")
	w("")
	w("# Where evidence comes from: each source has a unique name (a slug) and a")
	w("# type; a git source names the repository's folder.")
	w("# A remote repository instead of path: cloned into a cache folder, fetched on later runs")
	w("# (several: urls: [...] or paths: [...]):")
	w("#   - name: remote-repo")
	w("#     type: git")
	w("#     url: https://git.example.com/team/repo.git")
	w("#     auth: {username: jdoe, token: \"${env:GIT_TOKEN}\"}")
	w("#     # or password: \"${file:/run/secrets/git}\", or ssh_key: /home/jdoe/.ssh/id_ed25519")
	w("#     # with known_hosts: /home/jdoe/.ssh/known_hosts; ca_file: ./corp-ca.pem; cache_dir: ./cache")
	w("#     # web_url: https://git.example.com/team/repo, web_kind: gitlab (links to commits)")
	w("#     # exclude_refs: [\"refs/heads/dependabot/*\"], mailmap_file: ./people.mailmap")
	w("# The other source types (each collector's README lists all its keys):")
	w("#   - {name: tracking, type: mlflow, uri: \"http://mlflow:5000\", experiments: [fraud]}")
	w("#   - {name: tb, type: tensorboard, path: ./runs}")
	w("#   - {name: sweeps, type: wandb, path: ./wandb}")
	w("#   - {name: training-jobs, type: sagemaker, region: eu-west-2, endpoint: \"https://sagemaker.eu-west-2.amazonaws.com\"}")
	w("#   - {name: deploy, type: logs, paths: [\"/var/log/deploy/*.log\"], format: json}")
	w("#     # or cloudwatch: {group: /aws/deploy, region: eu-west-2}, or s3: {url: \"s3://logs/deploy/\"}")
	w("#   - {name: monitoring, type: prometheus, url: \"http://prometheus:9090\", window: 30d,")
	w("#      queries: [{name: p95-latency, expr: \"histogram_quantile(0.95, …)\", step: 1h, threshold: 0.5}]}")
	w("#     # or files: [./metrics/*.prom] instead of url")
	if len(d.Found) > 0 {
		w("# Also found in this folder:")
		for _, f := range d.Found {
			w("#   %s", oneLine(f))
		}
	}
	if len(d.Repos) == 0 {
		w("# No git repository was found here; replace [] with a list like this:")
		w("#   - name: model-repo")
		w("#     type: git")
		w("#     path: ../model-repo")
		w("sources: []")
	} else {
		w("sources:")
		for i, r := range d.Repos {
			path := r.Path
			if path == "" {
				path = "."
			}
			w("  - name: %s", scalar(r.Name))
			w("    type: git")
			w("    path: %s", scalar(path))
			if i == 0 {
				w("    # Branches or tags to read: branch names, full ref names or patterns.")
				w("    # Default: every local branch (refs/heads/*), or HEAD when there is none.")
				w("    # refs: [main, \"refs/heads/release/*\"]")
			}
		}
	}
	w("")
	w("# Your own tagging rules, added to the built-in ones (their KSB IDs must be in the catalogue).")
	w("# rules: ./ksb-rules.yaml")
	w("")
	w("# Extra redaction patterns (RE2 regular expressions that never match an empty string), added")
	w("# to the built-in detectors; e-mail addresses other than yours: mask (default) or keep.")
	w("# redact:")
	w("#   patterns:")
	w("#     - {name: corp-hosts, regex: '\\b[a-z0-9-]+\\.corp\\.example\\b'}")
	w("#   emails: mask")
	w("")
	w("# Which KSBs the portfolio must cover: those an assessment method assesses (professional_discussion,")
	w("# the default, or project), all, or a list such as [K1, S24]. Coverage counts them; readiness needs them all.")
	w("# portfolio:")
	w("#   covers: professional_discussion")
	w("")
	w("# Coaches, employers and assessors whose signed reviews confirm KSBs (readiness needs every KSB confirmed).")
	w("# Each makes a key pair with `ksbfolio keygen -o NAME` and gives you NAME.pub; they keep NAME.key.")
	w("# reviewers:")
	w("#   - {name: Pat Coach, role: coach, public_key: ./pat.pub}")
	w("")
	w("# How many items the pack selects (--max-items overrides). Default: every evidenced item.")
	w("# pack:")
	w("#   max_items: 12")
	w("")
	w("# Where a one-shot run pushes its metrics to a Pushgateway (docs/metrics.md).")
	w("# metrics:")
	w("#   pushgateway: http://pushgateway:9091")
	return []byte(b.String())
}

// scalar writes s as a one-line YAML scalar, quoted only when it must be.
func scalar(s string) string {
	s = oneLine(s)
	out, err := yaml.Marshal(s)
	if err != nil || strings.Count(strings.TrimRight(string(out), "\n"), "\n") > 0 {
		return fmt.Sprintf("%q", s)
	}
	return strings.TrimRight(string(out), "\n")
}

// oneLine folds line breaks and other control characters to spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			return ' '
		}
		return r
	}, s)
}
