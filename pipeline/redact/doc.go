// Package redact masks secrets in evidence before it is stored: nothing
// secret may reach the ledger, so the pipeline passes every item (and every
// text artefact) through a Redactor between collection and storage.
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
// Masking is idempotent: text that has been masked once is left exactly as
// it is, and counts nothing, when masked again. Masks already in the text
// are treated as opaque: a match that lies wholly inside masks is ignored,
// and one that overlaps a mask swallows the whole mask.
//
// # Rules
//
// The built-in rules are one table (see builtins in rules.go), tried in
// priority order: when matches of several rules overlap, they are merged
// into one mask named after the highest-priority rule among them, and that
// rule alone is counted. Specific formats (private keys, AWS, GitHub,
// GitLab, Slack, JWT) come before generic ones (headers, URLs, key=value
// pairs). Rules configured under redact.patterns come after the built-ins.
//
// A configured pattern masks:
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
// records (rule and count, never the value).
//
// # Performance
//
// Built-in rules are anchored at keywords ("password", "AKIA", "://", …)
// found by plain substring search, so the cost is linear in the text and
// most text is never given to the regular-expression engine. Configured
// patterns run over the whole text with Go's RE2 engine, which is linear
// but slower; keep them simple. A Redactor is safe for concurrent use.
package redact
