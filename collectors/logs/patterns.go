package logs

import (
	"fmt"
	"math/bits"
	"regexp"
	"strings"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// Event names: what a pattern says a line is. Each maps to an item kind.
const (
	evDeployment     = "deployment"       // outcome started, completed or failed
	evRollback       = "rollback"         // kind rollback
	evModelLoaded    = "model_loaded"     // kind model_version
	evModelRegister  = "model_registered" // kind model_version
	evModelPromoted  = "model_promoted"   // kind model_version
	evScaling        = "scaling"          // kind scaling
	evServingStarted = "serving_started"  // kind deployment, outcome completed
	evIncident       = "incident"         // kind incident (a configured error pattern)
)

// Deployment outcomes.
const (
	outStarted   = "started"
	outCompleted = "completed"
	outFailed    = "failed"
	outUnknown   = "unknown" // started, and no outcome was logged
)

// eventKinds maps each event name to its item kind.
var eventKinds = map[string]evidence.Kind{
	evDeployment: evidence.KindDeployment, evRollback: evidence.KindRollback,
	evModelLoaded: evidence.KindModelVersion, evModelRegister: evidence.KindModelVersion,
	evModelPromoted: evidence.KindModelVersion, evScaling: evidence.KindScaling,
	evServingStarted: evidence.KindDeployment, evIncident: evidence.KindIncident,
}

// pattern is one line pattern: when re matches a record's message, the
// record is the event. Named groups become facts.
type pattern struct {
	Name    string
	Event   string
	Outcome string // deployments only
	re      *regexp.Regexp
	// any lists lower-case words one of which the message must contain
	// before re is tried (a cheap filter); empty: always try.
	any []string
	// stems is the mask of the stems in any: a message without one of
	// them is not tried at all.
	stems uint32
}

// match returns the named groups of p's match in msg, or nil when it
// does not match.
func (p *pattern) match(msg, lower string) map[string]string {
	if !p.mayMatch(lower) {
		return nil
	}
	m := p.re.FindStringSubmatch(msg)
	if m == nil {
		return nil
	}
	groups := map[string]string{}
	for i, n := range p.re.SubexpNames() {
		if n != "" && i < len(m) && m[i] != "" {
			groups[n] = m[i]
		}
	}
	return groups
}

// matches reports whether p matches msg.
func (p *pattern) matches(msg, lower string) bool {
	return p.mayMatch(lower) && p.re.MatchString(msg)
}

// mayMatch reports whether lower, a message in lower case, holds one of
// p's words, if it has any.
func (p *pattern) mayMatch(lower string) bool {
	if len(p.any) == 0 {
		return true
	}
	for _, w := range p.any {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// builtinPatterns are the patterns every logs source has unless
// disable_builtin_events is set. Order matters: the first match wins.
func builtinPatterns() []*pattern {
	p := func(name, event, outcome, re string, any ...string) *pattern {
		return &pattern{Name: name, Event: event, Outcome: outcome, re: regexp.MustCompile(re), any: any, stems: stemMask(any)}
	}
	return []*pattern{
		p("deployment-failed", evDeployment, outFailed,
			`(?i)\b(?:deploy(?:ment)?|rollout)\s+(?:has\s+|was\s+)?(?:failed|failure|errored|aborted)\b|\bfailed to deploy\b|\bProgressDeadlineExceeded\b`,
			"deploy", "rollout", "progressdeadline"),
		p("deployment-completed", evDeployment, outCompleted,
			`(?i)\bdeploy(?:ment)?\s+(?:was\s+|is\s+)?(?:successful(?:ly)?|succeeded|complete[d]?|finished|done)\b|\bsuccessfully deployed\b|\bsuccessfully rolled out\b|\brollout\s+(?:complete[d]?|finished|succeeded)\b`,
			"deploy", "rolled out", "rollout"),
		p("deployment-started", evDeployment, outStarted,
			`(?i)\b(?:start(?:ing|ed)?|begin(?:ning)?|initiat(?:ing|ed))\s+(?:the\s+|a\s+|new\s+)?(?:model\s+)?(?:deploy(?:ment)?|rollout)\b|^deploying\b|\bwaiting for deployment .* rollout to finish`,
			"deploy", "rollout"),
		p("rollback", evRollback, "",
			`(?i)\b(?:roll(?:ed|ing)?[ -]?back|rollback)\b(?:.*\bto (?:revision|version)\s+'?(?P<version>[\w.-]+))?|\breverted to (?:revision|version)\s+'?(?P<to>[\w.-]+)`,
			"roll", "revert"),
		p("mlflow-model-version-created", evModelRegister, "",
			`Created version '(?P<version>[^']+)' of model '(?P<model>[^']+)'`, "created version"),
		p("mlflow-model-registered", evModelRegister, "",
			`Successfully registered model '(?P<model>[^']+)'`, "registered model"),
		p("torchserve-version-added", evModelRegister, "",
			`Adding new version (?P<version>\S+) for model (?P<model>\S+)`, "adding new version"),
		p("torchserve-default-version", evModelPromoted, "",
			`Setting default version to (?P<version>\S+) for model (?P<model>\S+)`, "default version"),
		p("model-promoted", evModelPromoted, "",
			`(?i)\b(?:transition(?:ed|ing)?|promot(?:ed|ing))\b.*\b(?:to\s+)?(?:stage\s+)?'?(?P<stage>production|staging|champion)\b|\bset(?:ting)? (?:registered model )?alias '(?P<alias>[^']+)'`,
			"transition", "promot", "alias"),
		p("torchserve-model-loaded", evModelLoaded, "",
			`^Model (?P<model>\S+) loaded\.?$`, " loaded"),
		p("model-loaded", evModelLoaded, "",
			`(?i)\bmodel (?:was )?(?:loaded|load(?:ed)? successfully)\b|\bloaded model\b`, "model loaded", "model was loaded", "model load", "loaded model"),
		p("torchserve-workers", evScaling, "",
			`^updateModel: (?P<model>[^,]+), count: (?P<count>\d+)$`, "updatemodel"),
		p("scaling", evScaling, "",
			`(?i)\bscal(?:ed|ing)\s+(?:up|down|out|in)\b|\bscaled\b.*\bto (?P<count>\d+)\b|\bNew size: (?P<count2>\d+); reason:|\breplicas?\s+(?:changed|set)\s+(?:from \d+ )?to (?P<replicas>\d+)`,
			"scaled", "scaling", "new size", "replica changed", "replicas changed", "replica set", "replicas set"),
		p("serving-started", evServingStarted, "",
			`^Inference API bind to: (?P<url>\S+)|(?i)\bUvicorn running on (?P<uvicorn>\S+)|\bserving (?:model )?\S* ?(?:on|at) (?P<at>https?://\S+)`,
			"inference api bind", "uvicorn running", "serving "),
	}
}

// PatternConfig is one configured event pattern.
type PatternConfig struct {
	// Name names the pattern in facts ("pattern").
	Name string `yaml:"name" json:"name"`
	// Event is what a match is: deployment, rollback, model_loaded,
	// model_registered, model_promoted, scaling, serving_started or
	// incident.
	Event string `yaml:"event" json:"event"`
	// Outcome is a deployment's: started, completed or failed.
	Outcome string `yaml:"outcome,omitempty" json:"outcome,omitempty"`
	// Pattern is an RE2 regular expression (Go syntax: linear time, no
	// backreferences) matched against each record's message; named groups
	// ((?P<model>…)) become facts.
	Pattern string `yaml:"pattern" json:"pattern"`
}

// compile checks and compiles a configured pattern.
func (pc PatternConfig) compile() (*pattern, error) {
	if strings.TrimSpace(pc.Name) == "" {
		return nil, fmt.Errorf("name: required")
	}
	if _, ok := eventKinds[pc.Event]; !ok {
		return nil, fmt.Errorf("event %q: want one of deployment, rollback, model_loaded, model_registered, model_promoted, scaling, serving_started, incident", pc.Event)
	}
	switch {
	case pc.Event == evDeployment && pc.Outcome != outStarted && pc.Outcome != outCompleted && pc.Outcome != outFailed:
		return nil, fmt.Errorf("outcome %q: a deployment pattern needs started, completed or failed", pc.Outcome)
	case pc.Event != evDeployment && pc.Outcome != "":
		return nil, fmt.Errorf("outcome: only deployment patterns have one")
	}
	if pc.Pattern == "" {
		return nil, fmt.Errorf("pattern: required")
	}
	re, err := regexp.Compile(pc.Pattern)
	if err != nil {
		return nil, fmt.Errorf("pattern: %v", err)
	}
	return &pattern{Name: pc.Name, Event: pc.Event, Outcome: pc.Outcome, re: re}, nil
}

var (
	// A 32-hex MLflow run ID named as a run: "run ID: <id>", "run_id=<id>",
	// "MLflow run: <id>", "runs:/<id>/model". A 32-hex folder under
	// mlruns/ is an experiment or a run, so it is not taken.
	runIDRe = regexp.MustCompile(`(?i)(?:\brun(?:[ _-]?id)?\b[^0-9a-z/]{0,20}|\bruns:/)([0-9a-f]{32})\b`)
	// A full 40-hex commit SHA, or a short one after "commit".
	commitRe    = regexp.MustCompile(`(?i)\bcommit[ :=]+([0-9a-f]{7,40})\b`)
	fullSHARe   = regexp.MustCompile(`\b[0-9a-f]{40}\b`)
	modelVerRe  = regexp.MustCompile(`(?i)\bmodel version:?\s+'?(\d+)\b`)
	modelNameRe = regexp.MustCompile(`(?i)\bmodel(?: name)?[: ]+'([^']{1,100})'`)
)

// stems are the words one of which a message must hold for any built-in
// pattern to match it (each pattern's own words start with one).
var stems = []string{"deploy", "roll", "model", "version", "scal", "replica", "serving", "uvicorn",
	"inference", "transition", "promot", "alias", "new size", "revert", "progressdeadline", "loaded",
	"registered", "created", "updatemodel"}

// stemIndex lists stems by their first two letters (lower case), with
// their bit in a mask.
type stemIndex [26 * 26][]stemBit

type stemBit struct {
	word string
	bit  uint32
}

func newStemIndex() *stemIndex {
	var x stemIndex
	for i, st := range stems {
		k := int(st[0]-'a')*26 + int(st[1]-'a')
		x[k] = append(x[k], stemBit{st, 1 << i})
	}
	return &x
}

// mask returns, in one pass without allocating, the bits of the stems
// that start a word of s, ignoring ASCII case. Every built-in pattern
// starts its words there (\bdeploy, \bscal, …). It finds the starts of
// words (an ASCII letter after anything else) 8 bytes at a time and looks
// up the stems by their first two letters.
func (x *stemIndex) mask(s string) uint32 {
	var m uint32
	var prev uint64 // bit 7 set: the byte before the word was a letter
	i := 0
	for ; i+8 <= len(s); i += 8 {
		letters := letterBits(word64(s[i:]))
		starts := letters &^ (letters<<8 | prev)
		prev = letters >> 56
		for starts != 0 {
			j := i + bits.TrailingZeros64(starts)/8
			starts &= starts - 1
			m |= x.at(s, j)
		}
	}
	prevLetter := prev != 0
	for ; i < len(s); i++ {
		c := s[i] | 0x20
		letter := c >= 'a' && c <= 'z'
		if letter && !prevLetter {
			m |= x.at(s, i)
		}
		prevLetter = letter
	}
	return m
}

// letterBits sets bit 7 of each byte of w that is an ASCII letter.
func letterBits(w uint64) uint64 {
	lower := w | 0x20*ones // A-Z to a-z; no other byte becomes a letter
	ascii := ^w & highs
	geA := (lower&^highs | highs) - 0x61*ones // bit 7 stays set where the byte is >= 'a'
	leZ := (0x7a|0x80)*ones - lower&^highs    // bit 7 stays set where the byte is <= 'z'
	return geA & leZ & ascii & highs
}

// at returns the bits of the stems that s[i:] starts with.
func (x *stemIndex) at(s string, i int) uint32 {
	if i+1 >= len(s) {
		return 0 // every stem has two letters or more
	}
	c, c2 := s[i]|0x20, s[i+1]|0x20
	if c2 < 'a' || c2 > 'z' {
		return 0
	}
	var m uint32
	for _, st := range x[int(c-'a')*26+int(c2-'a')] {
		if len(s)-i >= len(st.word) && equalFoldASCII(s[i:i+len(st.word)], st.word) {
			m |= st.bit
		}
	}
	return m
}

// stemMask is the mask of the stems inside any of words.
func stemMask(words []string) uint32 {
	var m uint32
	for _, w := range words {
		for i, st := range stems {
			if strings.Contains(w, st) {
				m |= 1 << i
			}
		}
	}
	return m
}

// equalFoldASCII compares s with lower, a lower-case ASCII word.
func equalFoldASCII(s, lower string) bool {
	for i := 0; i < len(lower); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// hasHexRun reports whether s holds n hex digits in a row.
func hasHexRun(s string, n int) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'f' {
			run++
			if run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// refs finds the MLflow run ID and commit SHA a message names, so that
// linking can happen later; nothing is looked up here. msg may be a view
// (see assembler.arena): the facts added are copies. f (may be nil)
// lower-cases msg.
func refs(msg string, facts map[string]any, f *folder) {
	if !hasHexRun(msg, 7) && !strings.Contains(msg, "ersion") && !strings.Contains(msg, "odel") {
		return // every reference below holds one of these
	}
	lower := ""
	has := func(w string) bool {
		if lower == "" {
			lower = f.lower(msg)
		}
		return strings.Contains(lower, w)
	}
	if _, ok := facts["mlflow_run_id"]; !ok && has("run") && hasHexRun(msg, 32) {
		if m := runIDRe.FindStringSubmatch(msg); m != nil {
			facts["mlflow_run_id"] = strings.Clone(m[1])
		}
	}
	if _, ok := facts["commit"]; !ok {
		if !has("commit") {
		} else if m := commitRe.FindStringSubmatch(msg); m != nil {
			facts["commit"] = strings.Clone(strings.ToLower(m[1]))
		}
		if _, ok := facts["commit"]; !ok && hasHexRun(msg, 40) && !has("run") {
			if sha := fullSHARe.FindString(msg); sha != "" {
				facts["commit"] = strings.Clone(sha)
			}
		}
	}
	if _, ok := facts["model_version"]; !ok && has("model version") {
		if m := modelVerRe.FindStringSubmatch(msg); m != nil {
			facts["model_version"] = strings.Clone(m[1])
		}
	}
	if _, ok := facts["model"]; !ok && has("model") {
		if m := modelNameRe.FindStringSubmatch(msg); m != nil {
			facts["model"] = strings.Clone(m[1])
		}
	}
}

// folder lower-cases text for substring tests, into a buffer it reuses
// for ASCII: what lower returns is valid only until its next call.
type folder struct{ buf []byte }

// lower is strings.ToLower(s); f may be nil.
func (f *folder) lower(s string) string {
	if f == nil || !isASCII(s) {
		return strings.ToLower(s)
	}
	f.buf = f.buf[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		f.buf = append(f.buf, c)
	}
	return view(f.buf)
}
