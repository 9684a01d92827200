// Package redact masks secrets in evidence before it is stored: nothing
// secret may reach the ledger, the run report, stdout or the logs.
//
// # The boundary
//
// A collector is only ever given Redactor.Guard's sink: every item it
// emits (all free-text fields, every string and map key in its facts) is
// redacted, then its title and summary are cut; every file is read,
// recognised as text or binary (Artefact) and either redacted (text, in
// any encoding, stored as UTF-8), passed on (binary with no secret) or
// refused (binary with a secret: it cannot be masked); skip reasons and
// warnings are redacted and capped. What the collector returns goes
// through Error and Cursor, and the run logs through Logger. Nothing else
// connects a collector to the store, so a new collector cannot bypass it.
//
// # Masks
//
// A detected secret is replaced by "[REDACTED:<rule>]", where <rule> is the
// name of the rule that found it. Only the secret itself is replaced; the
// text around it (the key in "password=…", the user and host of a URL, the
// BEGIN and END lines of a private key) survives, so the evidence still
// reads sensibly:
//
//	password=hunter2 rest          → password=[REDACTED:password-assignment] rest
//	https://user:pw@host/x         → https://user:[REDACTED:url-password]@host/x
//
// Masking is idempotent: String returns a fixed point, so masking its
// result again changes nothing and counts nothing. Masks already in a text
// are opaque: a match that lies wholly inside masks is ignored, and one
// that overlaps a mask takes in the whole mask. If masking brings a new
// match into being (a key next to a fresh mask), String masks again until
// nothing changes.
//
// # Rules
//
// The built-in rules are one table (builtinRules in rules.go; Describe
// lists them with a line each), in priority order: when matches of several
// rules overlap they are merged into one mask, named after the earliest
// rule among them, and only that rule is counted. Specific formats (private
// keys, AWS, GitHub, GitLab, Slack, JWT) come before generic ones (headers,
// curl, URLs, key=value pairs), so GITHUB_TOKEN=ghp_… counts as a
// github-token, not a password-assignment.
//
// Generic rules keep false positives low with a few judgements, all in
// rules.go: a value that is a reference rather than a secret (${VAR},
// $(cmd), {{ tmpl }}, <placeholder>, [PAD], %s, none, true, ***) is kept; so
// is an unquoted value that is code (settings.API_KEY, get_pw(), a small
// numeric constant for a token or secret key); a key followed by a colon
// and a single word and then more prose ("token: see the runbook") is
// prose, not YAML; bearer and Authorization values must look like
// credentials (8+ characters with a digit, inner capital or symbol); AWS
// secret keys must look random (upper and lower case and a digit, / or +),
// so a 40-digit hex SHA never is one; JWT headers must decode to JSON.
//
// E-mail addresses (rule "email") are masked unless allowed (the
// apprentice's own) or Options.Emails is "keep"; they come after the
// built-ins and never make a binary artefact refused.
//
// Rules configured under redact.patterns come after the built-ins and run
// over the whole text; one that can match the empty string is refused
// (resyntax.CanMatchEmpty), and its matches never reach into a mask. A configured
// pattern masks:
//   - the group named "secret", if its regular expression has one;
//   - otherwise capture group 1, if it has any capture group;
//   - otherwise the whole match.
//
// Empty matches are ignored. Use non-capturing groups "(?:…)" for grouping
// that is not the secret.
//
// # Counts
//
// Every mask counts one for its rule. Counts become evidence.Redaction
// records (rule and count, never the value); Item merges them into the
// item's own records.
//
// # Performance
//
// Built-in rules are anchored at keywords ("password", "AKIA", "://", …)
// found in one pass over the text; at each keyword a cheap check in Go
// (what byte follows, is there a separator ahead) runs before the regular
// expression, which then sees only a small window. The work is linear in
// the text: on a 2-core machine ordinary commit and log text goes at
// 25–60 MB/s (10 MiB well under a second), and the worst inputs found —
// floods of keyword and separator every few bytes, each masked — at about
// 1 MB/s. Configured patterns run Go's RE2 engine over the whole text,
// which is linear but slower; keep them simple. String goes over a text at
// most maxPasses times, and one detector finds at most maxMatches secrets
// in one text (beyond that, the rest of the text is masked), so no pattern
// makes the work more than linear. TestLinearTime checks every rule on
// adversarial input (1 MiB against 64 KiB); BenchmarkString100MB measured
// about 24 MB/s over mixed text on a shared 2-core machine.
//
// # Limits
//
// Keywords match ASCII case-insensitively only. A quoted value never spans
// lines. A YAML-style "key: word" is masked unless more prose follows on
// the line (and, for secret-named variables, only when the name is in
// capitals). Passwords given as positional arguments, and secrets with no
// keyword, name or known format, are not found; add a configured pattern
// for those a workplace uses. Only the text of a binary artefact's raw
// bytes is searched (not compressed or encoded content).
//
// A Redactor is immutable once built and safe for concurrent use.
package redact
