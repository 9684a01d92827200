package redact

import (
	"encoding/base64"
	"regexp"
	"strings"
)

// Building blocks of the built-in expressions. Every built-in expression
// matches what follows one of its keywords, and masks all of its capture
// groups, or, if it has none, the keyword and the match (so structure that
// is not the secret uses "(?:…)").
const (
	// keyEnd closes a key: an optional (escaped) quote and bracket, as in
	// "password": or os.environ["TOKEN"] =.
	keyEnd = `(?:\\?["'` + "`" + `])?\]?`
	// sepAny is any assignment: = := => == :
	sepAny = `[ \t]*(?:=>|:=|==?|:)[ \t]*`
	// sepEq is an assignment that is not a colon.
	sepEq = `[ \t]*(?:=>|:=|=)[ \t]*`
	// openQuote is an optional (escaped) opening quote.
	openQuote = `(?:\\?["'` + "`" + `])?`
	// quoted is a quoted value, its content the secret: \"…\", "…", '…'
	// or `…`, with an optional Python string prefix.
	quoted = `(?i:[bfru]{0,2})(?:\\"([^"\\\n]*)\\"|"((?:[^"\\\n]|\\.)*)"|'([^'\n]*)'|` + "`([^`\\n]*)`)"
	// bare is an unquoted value: up to white space, a quote, , ; or &.
	bare = `([^\s"'` + "`" + `,;&]+)`
	// bareAfterColon is bare, but not starting "=" or ":" (":=", "::").
	bareAfterColon = `([^\s"'` + "`" + `,;&=:][^\s"'` + "`" + `,;&]*)`
	// sepFirst are the bytes keyEnd or a separator may start with.
	sepFirst = "\"'`\\] \t=:"
	// b64end ends a run of base64: a character outside it, or the end.
	b64end = `(?:[^A-Za-z0-9/+=]|\z)`
)

// assignKeywords are the key endings of password-style pairs.
var assignKeywords = []string{"password", "passwd", "pwd", "secret", "token",
	"apikey", "api_key", "api-key", "accesskey", "access_key", "access-key",
	"privatekey", "private_key", "private-key", "secretkey", "secret_key", "secret-key"}

// Boundaries: the bytes a keyword may not follow.
var (
	afterWord      = byteSet(wordChars)       // starts a word
	afterAlnum     = byteSet(alnumChars)      // starts a word or a _-separated part
	afterBase64URL = byteSet(wordChars + "-") // starts a base64url run
	afterSpaceOnly = byteSetAllBut(" \t")     // starts an argument
	wordChars      = alnumChars + "_"         //
	alnumChars     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// builtinRules is the one table of built-in rules, in priority order: when
// matches overlap, the earlier rule names the mask. Each rule's doc is one
// line; Describe returns them.
var builtinRules = []rule{
	{name: "private-key", doc: "PEM, OpenSSH and PGP private key blocks (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP …): the body between BEGIN and END, or up to the end of the text when END is missing", dets: []detector{
		after(`[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:\s|\\[nr])*([\s\S]*?)(?:\s|\\[nr])*(?:-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----|\z)`,
			"-----BEGIN"),
	}},
	{name: "aws-key", doc: "AWS access key IDs: AKIA, ASIA, AIDA, AROA … followed by 16 upper-case letters and digits", dets: []detector{
		after(`[A-Z0-9]{16}\b`, "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "APKA", "AROA", "ASCA").bound(afterWord),
		after(`[A-Z0-9]{17}\b`, "A3T").bound(afterWord),
	}},
	{name: "aws-secret-key", doc: "AWS secret access keys: 40 random base64 characters assigned to an aws… key, within a line after the word secret, or next to an access key ID", dets: []detector{
		after(keyEnd+sepAny+openQuote+`([A-Za-z0-9/+]{40})`+b64end, "aws").folded().bound(afterAlnum).key().first(sepFirst).ahead(sepAhead).check(secret40),
		afterFunc(near40, "secret").folded().check(secret40),
		after(`[A-Z0-9]{16}[ \t,;:|"']{1,5}([A-Za-z0-9/+]{40})`+b64end, "AKIA", "ASIA").bound(afterWord).check(secret40),
		{scan: bareSecret40Lines},
	}},
	{name: "aws-session-token", doc: "AWS session tokens assigned to a …session_token / …security_token key (also the X-Amz-Security-Token header)", dets: []detector{
		after(keyEnd+sepAny+openQuote+`([A-Za-z0-9/+=]{16,})`,
			"sessiontoken", "session_token", "session-token", "session.token",
			"securitytoken", "security_token", "security-token").folded().first(sepFirst).ahead(sepAhead).check(credential),
	}},
	{name: "github-token", doc: "GitHub tokens: ghp_, gho_, ghu_, ghs_, ghr_ and fine-grained github_pat_", dets: []detector{
		after(`[A-Za-z0-9]{36,251}\b`, "ghp_", "gho_", "ghu_", "ghs_", "ghr_").bound(afterWord),
		after(`[A-Za-z0-9_]{22,251}\b`, "github_pat_").bound(afterWord),
	}},
	{name: "gitlab-token", doc: "GitLab tokens: glpat-, gloas-, gldt-, glrt-, glcbt-, glptt-, glft-, glimt-, glagent-, glsoat-, glffct- and GR1348941 runner registration tokens", dets: []detector{
		after(`[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+)*`,
			"glpat-", "gloas-", "gldt-", "glrt-", "glrtr-", "glcbt-", "glptt-", "glft-", "glimt-", "glagent-", "glsoat-", "glffct-", "GR1348941").bound(afterWord),
	}},
	{name: "slack-token", doc: "Slack tokens: xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxo-, xoxe- and app-level xapp-", dets: []detector{
		after(`[A-Za-z0-9-]{10,}`, "xoxa-", "xoxb-", "xoxe-", "xoxo-", "xoxp-", "xoxr-", "xoxs-", "xapp-").bound(afterWord),
		after(`xox[bp]-[A-Za-z0-9-]{10,}`, "xoxe.").bound(afterWord),
	}},
	{name: "slack-webhook", doc: "Slack webhook URLs: the path after hooks.slack.com/services/ (or workflows/, triggers/)", dets: []detector{
		after(`(?:services|workflows|triggers)/([A-Za-z0-9_/+-]{8,})`, "hooks.slack.com/").folded(),
	}},
	{name: "google-api-key", doc: "Google API keys: AIza followed by 35 base64url characters", dets: []detector{
		after(`[0-9A-Za-z_-]{35}`, "AIza").bound(afterBase64URL),
	}},
	{name: "stripe-key", doc: "Stripe secret and restricted keys (sk_live_, sk_test_, rk_live_ …) and webhook secrets (whsec_)", dets: []detector{
		after(`[A-Za-z0-9]{10,247}\b`, "sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_", "whsec_").bound(afterWord),
	}},
	{name: "azure-storage-key", doc: "Azure storage account and shared access keys in connection strings (AccountKey=…, SharedAccessKey=…)", dets: []detector{
		after(`[ \t]*=[ \t]*([A-Za-z0-9+/]{40,100}={0,2})`, "accountkey", "sharedaccesskey").folded().first(" \t="),
	}},
	{name: "azure-sas", doc: "the signature of an Azure shared access signature URL or token (?sig=… / &sig=…)", dets: []detector{
		after(`=([A-Za-z0-9%+/]{16,}={0,2})`, "sig").bound(byteSetAllBut("?&;")).first("="),
	}},
	{name: "huggingface-token", doc: "Hugging Face user and organisation tokens: hf_ and api_org_ followed by 30 or more letters and digits", dets: []detector{
		after(`[A-Za-z0-9]{30,}\b`, "hf_", "api_org_").bound(afterWord),
	}},
	{name: "anthropic-key", doc: "Anthropic API and admin keys: sk-ant-api03-…, sk-ant-admin01-…", dets: []detector{
		after(`[a-z]{3,8}[0-9]{2}-[A-Za-z0-9_-]{32,}`, "sk-ant-").bound(afterWord),
	}},
	{name: "openai-key", doc: "OpenAI API keys: sk- (sk-proj-, sk-svcacct-, sk-admin-) followed by 20 or more random characters", dets: []detector{
		after(`(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}`, "sk-").bound(afterWord).check(mixedRandom),
	}},
	{name: "wandb-key", doc: "Weights & Biases API keys: wandb login <40 hex>, WANDB_API_KEY=<40 hex>, wandb.login(key=\"…\")", dets: []detector{
		after(`[ \t]+login(?:[ \t]+-{1,2}[A-Za-z-]+(?:[ \t=]+[^\s-]\S*)?)*[ \t]+`+wandbKey, "wandb").folded().bound(afterWord).first(" \t"),
		after(`(?i:_api_key)`+keyEnd+sepAny+openQuote+wandbKey, "wandb").folded().bound(afterWord).first("_"),
		after(`\.login\([^)\n]{0,80}?key[ \t]*=[ \t]*["']([^"'\n]+)["']`, "wandb").folded().bound(afterWord).first("."),
	}},
	{name: "npm-token", doc: "npm access tokens: npm_ followed by 36 letters and digits", dets: []detector{
		after(`[A-Za-z0-9]{36}\b`, "npm_").bound(afterWord),
	}},
	{name: "pypi-token", doc: "PyPI and TestPyPI API tokens: pypi-AgEIcHlwaS5vcmc… / pypi-AgENdGVzdC5weXBpLm9yZw…", dets: []detector{
		after(`[A-Za-z0-9_-]{50,}`, "pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw").bound(afterWord),
	}},
	{name: "sendgrid-key", doc: "SendGrid API keys: SG.<22>.<43> base64url characters", dets: []detector{
		after(`[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b`, "SG.").bound(afterWord),
	}},
	{name: "databricks-token", doc: "Databricks personal access tokens: dapi followed by 32 hex digits", dets: []detector{
		after(`[a-f0-9]{32}(?:-[0-9]+)?\b`, "dapi").bound(afterWord),
	}},
	{name: "jwt", doc: "JSON Web Tokens: dot-separated base64url segments whose first decodes to a JSON header (eyJ…)", dets: []detector{
		after(`[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?`, "eyJ").bound(afterBase64URL).check(jwtHeader),
	}},
	{name: "authorization-header", doc: "the credentials of an Authorization (or Proxy-Authorization) header: Bearer, Basic, token, …", dets: []detector{
		after(keyEnd+`[ \t]*[:=][ \t]*`+openQuote+`(?:(?i:bearer|basic|token|bot|negotiate|ntlm|apikey|api-key|sso-key|key|aws4-hmac-sha256)[ \t]+)?([^\s"'`+"`"+`,;]+)`,
			"authorization").folded().bound(afterWord).first(sepFirst).ahead(sepAhead).check(credential),
	}},
	{name: "bearer-token", doc: "bearer <token> outside an Authorization header, when the token looks like a credential (digits, mixed case or symbols, 8+ characters)", dets: []detector{
		after(`[ \t]+([A-Za-z0-9._~+/=-]{8,})`, "bearer").folded().bound(afterWord).first(" \t").check(credential),
	}},
	{name: "curl-user", doc: "the password of curl -u/--user/--proxy-user user:password", dets: []detector{
		after(`(?:[ \t]+|=)(?:"[^"\n:]*:([^"\n]+)"|'[^'\n:]*:([^'\n]+)'|[^\s:"']*:([^\s"'`+"`"+`]+))`,
			"-u", "-U", "--user", "--proxy-user").bound(afterSpaceOnly).first(" \t=").needs("curl").long().check(plainValue),
	}},
	{name: "mysql-password", doc: "the password of mysql, mysqldump, mysqladmin or mariadb -pPASSWORD (attached to -p, as the client wants it)", dets: []detector{
		mysqlP("mysql"), mysqlP("mysqldump"), mysqlP("mysqladmin"), mysqlP("mariadb"),
	}},
	{name: "url-password", doc: "the password in a URL's user information: scheme://user:password@host", dets: []detector{
		after(`[^\s:/?#@"'<>]*:([^\s/?#"'<>]+)@`, "://").ahead(userColon).long().check(plainValue),
	}},
	{name: "password-assignment", doc: "the value of a key ending password, passwd, pwd, secret, secret_key, token, api_key, access_key or private_key, in =, :, JSON, YAML, env, XML or --flag form", dets: []detector{
		after(keyEnd+sepAny+quoted, assignKeywords...).folded().first(sepFirst).ahead(quoteAhead).long().check(quotedValue),
		after(keyEnd+sepEq+bare, assignKeywords...).folded().first(sepFirst).ahead(eqAhead).check(bareValue),
		after(keyEnd+`[ \t]*:[ \t]*`+bareAfterColon, assignKeywords...).folded().first(sepFirst).ahead(colonAhead).check(colonValue),
		after(`[ \t]+(?:"([^"\n]*)"|'([^'\n]*)'|([^\s"'`+"`"+`,;&-][^\s"'`+"`"+`,;&]*))`, assignKeywords...).folded().first(" \t").ahead(isFlag).long().check(flagValue),
		afterFunc(xmlValue, assignKeywords...).folded().first(">").long().check(quotedValue),
	}},
	{name: "secret-assignment", doc: "the value assigned to any variable whose name has a part PASS, SECRET, TOKEN or KEY (DB_PASS=…, HF_TOKEN_RO=…, client-secret: … in capitals)", dets: []detector{
		after(keyEnd+sepAny+quoted, secretNameKeywords...).folded().key().first(sepFirst).ahead(both(secretName, quoteAhead)).long().check(quotedValue),
		after(keyEnd+sepEq+bare, secretNameKeywords...).folded().key().first(sepFirst).ahead(both(secretName, eqAhead)).check(bareValue),
		after(keyEnd+`[ \t]*:[ \t]*`+bareAfterColon, secretNameKeywords...).folded().key().first(sepFirst).ahead(both(secretName, capitalColon)).check(colonValue),
	}},
}

// wandbKey is a W&B API key: 40 hex digits, with an optional host prefix
// (local-…) on self-hosted servers.
const wandbKey = `([a-z0-9]+-[0-9a-f]{40}|[0-9a-f]{40})\b`

// mysqlP builds the detector of -pPASSWORD on a line that runs client.
func mysqlP(client string) detector {
	d := after(`(?:"([^"\n]*)"|'([^'\n]*)'|([^\s"'`+"`"+`]+))`, "-p").bound(afterSpaceOnly).needs(client).check(plainValue)
	d.firstByte = byteSetAllBut(" \t\r\n")
	return d
}

// builtins returns the built-in rules; the slice is the caller's.
func builtins() []rule {
	return append([]rule(nil), builtinRules...)
}

// RuleInfo describes one built-in rule.
type RuleInfo struct {
	Name string // as in masks and redaction records
	Doc  string // one line: what it masks
}

// Describe lists the built-in rules, in priority order, with what each
// masks; for documentation and `ksbfolio init`.
func Describe() []RuleInfo {
	out := make([]RuleInfo, len(builtinRules))
	for i, r := range builtinRules {
		out[i] = RuleInfo{Name: r.name, Doc: r.doc}
	}
	return out
}

// after builds a keyword detector: re is matched anchored right after
// each occurrence of a keyword; all its capture groups are masked, or, if
// it has none, the keyword and the match.
func after(re string, keywords ...string) detector {
	c := regexp.MustCompile(`^(?:` + re + `)`)
	d := detector{keywords: keywords, re: c}
	for g := 1; g <= c.NumSubexp(); g++ {
		d.groups = append(d.groups, g)
	}
	return d
}

// afterFunc builds a keyword detector from a hand-written matcher whose
// group 1 is masked.
func afterFunc(fn func(rest string) []int, keywords ...string) detector {
	return detector{keywords: keywords, fn: fn, groups: []int{1}}
}

// folded makes the keywords match in any ASCII case; they must be written
// in lower case (a test checks the table).
func (d detector) folded() detector { d.fold = true; return d }

// bound sets the bytes a keyword may not follow.
func (d detector) bound(t *[256]bool) detector { d.notAfter = t; return d }

// first sets the bytes the text after a keyword may start with.
func (d detector) first(chars string) detector {
	d.firstByte = byteSet(chars)
	return d
}

// long makes a miss in the window be retried on the rest of the text.
func (d detector) long() detector { d.retryMiss = true; return d }

// ahead sets a cheap test that must pass before the expression runs.
func (d detector) ahead(f func(s string, p, q int) bool) detector { d.pre = f; return d }

// needs requires kw (lower case) to start a word earlier on the same line.
func (d detector) needs(kw string) detector { d.context = kw; return d }

// key makes the detector skip the rest of a key (up to 64 bytes of
// [A-Za-z0-9_.-]) after the keyword: "aws" in AWS_SECRET_ACCESS_KEY.
func (d detector) key() detector { d.skipKey = 64; return d }

// check sets the detector's refine function.
func (d detector) check(f func(s string, start, a, b int) int) detector { d.refine = f; return d }

// byteSet returns the set of the bytes of chars.
func byteSet(chars string) *[256]bool {
	var t [256]bool
	for i := 0; i < len(chars); i++ {
		t[chars[i]] = true
	}
	return &t
}

// byteSetAllBut returns the set of every byte not in chars.
func byteSetAllBut(chars string) *[256]bool {
	var t [256]bool
	for i := range t {
		t[i] = !strings.ContainsRune(chars, rune(i))
	}
	return &t
}

// near40 finds, within 80 bytes on the same line, a run of exactly 40
// base64 characters (not followed by =); group 1 is the run.
func near40(rest string) []int {
	const reach = 80
	for i := 0; i < len(rest) && i < reach && rest[i] != '\n'; {
		if !isB64(rest[i]) {
			i++
			continue
		}
		j := i
		for j < len(rest) && isB64(rest[j]) {
			j++
		}
		if j-i == 40 && i > 0 && (j == len(rest) || rest[j] != '=') {
			return []int{0, j, i, j}
		}
		i = j
	}
	return nil
}

func isB64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '/' || c == '+'
}

// Tests run before an expression (see detector.pre).

// both is a test that passes when f and g do.
func both(f, g func(s string, p, q int) bool) func(s string, p, q int) bool {
	return func(s string, p, q int) bool { return f(s, p, q) && g(s, p, q) }
}

// capitalColon is colonAhead for a name in capitals (DB_PASS: …), as an
// environment block in YAML writes it.
func capitalColon(s string, p, q int) bool {
	start := p
	for start > 0 && p-start < 64 && (isWord(s[start-1]) || s[start-1] == '-') {
		start--
	}
	return capitals(s[start:q]) && colonAhead(s, p, q)
}

// xmlValue matches >VALUE</ after a key (<password>VALUE</password>):
// the value runs to the first < on its line. It looks at most maxXMLValue
// bytes ahead, so a flood of keys without a closing tag costs little; a
// longer value is masked to the end of its line.
func xmlValue(rest string) []int {
	if rest == "" || rest[0] != '>' {
		return nil
	}
	lim := min(len(rest), 1+maxXMLValue)
	i := 1
	for i < lim && rest[i] != '<' && rest[i] != '\n' {
		i++
	}
	switch {
	case i == 1:
		return nil
	case i < len(rest) && rest[i] == '<':
		if i+1 < len(rest) && rest[i+1] == '/' {
			return []int{0, i + 2, 1, i}
		}
		return nil
	case i == lim && lim < len(rest):
		// Too long to look for the closing tag: mask the rest of the line.
		j := strings.IndexByte(rest[lim:], '\n')
		if j < 0 {
			j = len(rest) - lim
		}
		return []int{0, lim + j, 1, lim + j}
	}
	return nil
}

// maxXMLValue is how far xmlValue looks for the closing tag.
const maxXMLValue = 1024

// mixedRandom keeps values with upper and lower case letters and a digit,
// as generated keys have (so sk-learn-style names never match).
func mixedRandom(s string, _, a, b int) int {
	c := classify(s[a:b])
	if c.upper > 0 && c.lower > 0 && c.digit > 0 {
		return b
	}
	return -1
}

// sepAhead reports whether an assignment follows a key: at most a closing
// quote, backslash or bracket, blanks, then = or :.
func sepAhead(s string, _, q int) bool {
	_, _, ok := sepAt(s, q)
	return ok
}

// sepAt finds the separator after a key ending at q, as keyEnd and sepAny
// would: it returns '=' (for = == => :=) or ':', and where the value may
// start (blanks skipped).
func sepAt(s string, q int) (sep byte, next int, ok bool) {
	i := q
	for n := 0; i < len(s) && n < 3 && strings.IndexByte("\\\"'`]", s[i]) >= 0; n++ {
		i++
	}
	i = skipBlanks(s, i)
	if i == len(s) {
		return 0, 0, false
	}
	switch {
	case s[i] == '=':
		i++
		if i < len(s) && (s[i] == '=' || s[i] == '>') {
			i++
		}
		sep = '='
	case s[i] == ':' && i+1 < len(s) && s[i+1] == '=':
		i += 2
		sep = '='
	case s[i] == ':':
		i++
		sep = ':'
	default:
		return 0, 0, false
	}
	return sep, skipBlanks(s, i), true
}

func skipBlanks(s string, i int) int {
	for n := 0; i < len(s) && n < maxLookBack && (s[i] == ' ' || s[i] == '\t'); n++ {
		i++
	}
	return i
}

// quoteAhead reports whether a separator and a quoted value follow a key.
func quoteAhead(s string, _, q int) bool {
	_, i, ok := sepAt(s, q)
	for n := 0; ok && i < len(s) && n < 2 && strings.IndexByte("bfruBFRU", s[i]) >= 0; n++ {
		i++
	}
	return ok && i < len(s) && (isQuote(s[i]) || s[i] == '\\' && i+1 < len(s) && s[i+1] == '"')
}

// eqAhead reports whether = (not :) and an unquoted value follow a key.
func eqAhead(s string, _, q int) bool {
	sep, i, ok := sepAt(s, q)
	return ok && sep == '=' && i < len(s) && !isQuote(s[i])
}

// colonAhead reports whether : and an unquoted value follow a key.
func colonAhead(s string, _, q int) bool {
	sep, i, ok := sepAt(s, q)
	return ok && sep == ':' && i < len(s) && !isQuote(s[i])
}

// isFlag reports whether the key ending at q starts with - (--password).
func isFlag(s string, p, _ int) bool {
	k := p
	for k > 0 && p-k < maxLookBack && (isWord(s[k-1]) || s[k-1] == '-' || s[k-1] == '.') {
		k--
	}
	return s[k] == '-'
}

// userColon reports whether the user part after :// ends in a colon.
func userColon(s string, _, q int) bool {
	for i := q; i < len(s) && i-q < maxLookBack; i++ {
		switch s[i] {
		case ':':
			return true
		case ' ', '\t', '\n', '\r', '/', '?', '#', '@', '"', '\'', '<', '>':
			return false
		}
	}
	return false
}

// maxLookBack bounds how far a refine function looks back from a match for
// the start of its key, so that no input makes the work quadratic.
const maxLookBack = 256

// Refine functions: each vets the candidate s[a:b] of a match starting at
// start, returning the end of what to mask or -1.

// secret40 keeps 40-character values that look random: upper and lower
// case and a digit or / or + (so never a hex SHA or a word).
func secret40(s string, _, a, b int) int {
	v := s[a:b]
	c := classify(v)
	if len(v) == 40 && c.upper > 0 && c.lower > 0 && (c.digit > 0 || strings.ContainsAny(v, "/+")) {
		return b
	}
	return -1
}

// credential keeps values that look like a credential rather than a word:
// 8 characters or more, not a placeholder, with a digit, a capital after
// the first letter, or one of _ ~ + / =.
func credential(s string, _, a, b int) int {
	v := s[a:b]
	if len(v) < 8 || placeholder(v) || code(v) {
		return -1
	}
	c := classify(v)
	if c.digit > 0 || (c.innerUpper && c.lower > 0) || strings.ContainsAny(v, "_~+/=") {
		return b
	}
	return -1
}

// plainValue keeps anything but a placeholder.
func plainValue(s string, _, a, b int) int {
	if placeholder(s[a:b]) {
		return -1
	}
	return b
}

// quotedValue vets a quoted value: anything but a placeholder.
func quotedValue(s string, start, a, b int) int { return plainValue(s, start, a, b) }

// bareValue vets an unquoted value: not a placeholder, not code (a dotted
// name, a call, an index, a small numeric constant unless the key is a
// password), not a literal such as true or none, and not the prefix of a
// quoted string (b"…"). Closing brackets that the value does not open are
// left outside the mask.
func bareValue(s string, start, a, b int) int {
	if b < len(s) && isQuote(s[b]) {
		return -1
	}
	b = trimClosers(s, a, b)
	v := s[a:b]
	if placeholder(v) || code(v) || yamlTag.MatchString(v) {
		return -1
	}
	if smallNumber.MatchString(v) && !passwordKey(s[start:]) {
		return -1
	}
	return b
}

// code reports whether v is an expression rather than a literal.
func code(v string) bool {
	return codeLike.MatchString(v) || dottedName.MatchString(v) || v == "iota"
}

// passwordKey reports whether the key at the start of rest is a password
// (where a short number can be the secret) rather than a token or secret.
func passwordKey(rest string) bool {
	k := strings.ToLower(rest[:min(len(rest), 4)])
	return k == "pass" || strings.HasPrefix(k, "pwd")
}

// colonValue is bareValue, and a single word followed on the same line by
// more prose ("token: see the runbook") is not a value. A key that is the
// user of a URL (https://x-access-token:…@host) is left to url-password,
// which masks the password and keeps the host.
func colonValue(s string, start, a, b int) int {
	w := start
	for w > 0 && start-w < maxLookBack && !isSpace(s[w-1]) && !isQuote(s[w-1]) {
		w--
	}
	if strings.Contains(s[w:start], "://") {
		return -1
	}
	b = bareValue(s, start, a, b)
	if b < 0 || !onlyLetters(s[a:b]) || !prose(s, b) {
		return b
	}
	return -1
}

// flagValue vets the value of --password VALUE (isFlag has checked the
// key): a single word followed by more prose is not a value.
func flagValue(s string, start, a, b int) int {
	if a > 0 && isQuote(s[a-1]) {
		return quotedValue(s, start, a, b)
	}
	b = bareValue(s, start, a, b)
	if b < 0 || !onlyLetters(s[a:b]) || !prose(s, b) {
		return b
	}
	return -1
}

// jwtHeader keeps tokens whose first segment decodes to a JSON object
// naming an algorithm or type.
func jwtHeader(s string, _, a, b int) int {
	seg, _, _ := strings.Cut(s[a:b], ".")
	if len(seg)%4 == 1 {
		seg = seg[:len(seg)-1]
	}
	h, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return -1
	}
	hs := string(h)
	if strings.HasPrefix(hs, "{") && (strings.Contains(hs, `"alg"`) || strings.Contains(hs, `"typ"`) || strings.Contains(hs, `"enc"`)) {
		return b
	}
	return -1
}

var (
	// codeLike is a call or an index: get_pw(, os.environ[.
	codeLike = regexp.MustCompile(`^(?:[A-Za-z_][\w.]*[(\[{]|\[\]|&[A-Za-z_])`)
	// smallNumber is a numeric constant: SYS_SECRET = 447, TOKEN = 0x6.
	smallNumber = regexp.MustCompile(`^-?(?:[0-9]{1,4}|0x[0-9A-Fa-f]{1,10})$`)
	// dottedName is an attribute path: settings.API_KEY, tokenizer.eos_token.
	dottedName = regexp.MustCompile(`^[A-Za-z_]\w+(?:\.[A-Za-z_]\w+)+$`)
	// yamlTag is a YAML tag standing for a value: !vault, !secret.
	yamlTag = regexp.MustCompile(`^![A-Za-z_]+$`)
	// varRef is a variable or template reference standing for a value.
	varRef = regexp.MustCompile(`^(?:\$[A-Z_][A-Z0-9_]*|\$\{.*\}|\$\(.*\)?|\$\{\{.*|%\(\w+\)[sd]|%[A-Za-z_]\w*%|%[-+# 0-9.*]*[A-Za-z]\S*|\{\{.*|\{%.*|\{[A-Za-z_][\w.]*\}|<[^<>]*>|\[[A-Za-z_| ]+\])$`)
)

// notSecret are values that say something about a secret but are not one.
var notSecret = map[string]bool{
	"true": true, "false": true, "null": true, "none": true, "nil": true, "undefined": true,
	"yes": true, "no": true, "on": true, "off": true, "required": true, "optional": true,
	"string": true, "str": true, "bytes": true, "int": true, "env": true,
	"redacted": true, "hidden": true, "masked": true, "omitted": true, "removed": true,
	"n/a": true, "tbd": true, "todo": true, "empty": true, "unset": true, "placeholder": true,
}

// maxNotSecret is the length of the longest notSecret entry.
const maxNotSecret = 11

// placeholder reports whether v stands for a secret without being one: a
// variable or template reference, <angle-bracketed> text, [SPECIAL] tokens,
// a literal such as none, or filler with no letter or digit (***) or only
// x's (xxxx).
func placeholder(v string) bool {
	if v == "" || strings.IndexByte("$%{<[", v[0]) >= 0 && varRef.MatchString(v) {
		return true
	}
	if len(v) <= maxNotSecret && notSecret[strings.ToLower(v)] {
		return true
	}
	c := classify(v)
	if c.letter+c.digit == 0 {
		return true
	}
	return strings.Trim(v, "xX*.") == "" && len(v) > 1
}

type classes struct {
	upper, lower, digit, letter int
	innerUpper                  bool
}

func classify(v string) classes {
	var c classes
	for i := 0; i < len(v); i++ {
		switch ch := v[i]; {
		case 'A' <= ch && ch <= 'Z':
			c.upper++
			c.letter++
			if i > 0 {
				c.innerUpper = true
			}
		case 'a' <= ch && ch <= 'z':
			c.lower++
			c.letter++
		case '0' <= ch && ch <= '9':
			c.digit++
		}
	}
	return c
}

func onlyLetters(v string) bool {
	c := classify(v)
	return c.letter == len(v)
}

// prose reports whether more words follow position i on the same line,
// rather than nothing, a comment, a flag or shell punctuation.
func prose(s string, i int) bool {
	j := i
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	if j == i || j == len(s) {
		return false
	}
	return !strings.ContainsRune("\r\n#-\\|&;>", rune(s[j]))
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isQuote(c byte) bool { return c == '"' || c == '\'' || c == '`' }

// trimClosers drops trailing ) ] } that s[a:b] does not open.
func trimClosers(s string, a, b int) int {
	const opens, closes = "([{", ")]}"
	var open, shut [3]int
	for i := a; i < b; i++ {
		if k := strings.IndexByte(opens, s[i]); k >= 0 {
			open[k]++
		} else if k := strings.IndexByte(closes, s[i]); k >= 0 {
			shut[k]++
		}
	}
	for b > a {
		k := strings.IndexByte(closes, s[b-1])
		if k < 0 || open[k] >= shut[k] {
			return b
		}
		shut[k]--
		b--
	}
	return b
}
