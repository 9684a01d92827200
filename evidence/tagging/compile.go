package tagging

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/evidence/ksb"
)

// CompileOptions tunes Compile. The zero value is what the pipeline uses.
type CompileOptions struct {
	// StrictBuiltin treats built-in rules like user rules: a KSB the
	// catalogue lacks is an error rather than a warning. For checks of the
	// shipped rules against a catalogue known to be complete.
	StrictBuiltin bool
}

// Tagger applies compiled rules to items. It is immutable and safe for
// concurrent use.
//
// Compiling prepares one pass per item: every distinct path glob of every
// rule is kept once (globs) and matched at most once per path of an item
// (those naming a directory or a plain base name are looked up by the
// path's names instead, globNames), and each text expression gets a
// literal prefilter that spares running it on texts that cannot match;
// the literals of all the prefilters are found in one scan of the item's
// text (literals). An expression that is an alternation is also split
// into its alternatives (textParts), each with its own prefilter, so that
// only those whose literals occur run (see splitText).
type Tagger struct {
	catalogue string
	revision  string
	known     map[string]bool
	// order places every KSB of known in CompareKSB's order.
	order     map[string]int
	rules     []compiled
	globs     []glob         // distinct path globs of all rules
	globIndex map[string]int // pattern → index in globs
	globNames globNames      // globs by the name they look for
	literals  literals       // the prefilter literals of all rules
}

type compiled struct {
	id          string
	by          string
	ksbs        []string
	reason      string
	confidence  float64
	kinds       map[evidence.Kind]bool
	sourceTypes map[string]bool
	paths       []int // indexes into Tagger.globs
	text        *regexp.Regexp
	textFilter  prefilter  // nil: run text on every item
	textLits    litSet     // textFilter's literals in Tagger.literals
	textParts   []textPart // text split (splitText); nil: run text whole
	facts       []factCond
}

type factCond struct {
	key  string
	segs []string
	re   *regexp.Regexp
	// lit, if literal, is the whole of re: a plain substring test then
	// gives re's answer.
	lit     string
	literal bool
}

// Compile checks rules against cat and prepares them for Tag. Rules with
// Disable set are skipped (Merge normally removes them).
//
// A rule that is not Builtin and names a KSB cat lacks is an error naming
// the rule, the KSB and the catalogue: the user's configuration is wrong. A
// built-in rule naming such a KSB only loses that KSB, with a warning (the
// rules are written against the built-in ST1398 catalogue and providers
// import others); a rule
// left with no KSB is dropped, with a warning. Invalid rules and duplicate
// IDs are errors too. All errors are reported at once; on error the Tagger
// is nil.
func Compile(rules []Rule, cat *ksb.Catalogue, opts CompileOptions) (*Tagger, []string, error) {
	if cat == nil {
		return nil, nil, errors.New("compile rules: no KSB catalogue")
	}
	t := &Tagger{catalogue: cat.ID, revision: cat.Revision(), known: catalogueIDs(cat), globIndex: map[string]int{}}
	t.order = ksbOrder(t.known)
	var errs []error
	var warnings []string
	seen := map[string]string{}
	for _, r := range rules {
		if r.Disable {
			continue
		}
		if probs := r.check(); len(probs) > 0 {
			for _, p := range probs {
				errs = append(errs, fmt.Errorf("%s: %s", r.where(), p))
			}
			continue
		}
		if first, dup := seen[r.ID]; dup {
			errs = append(errs, fmt.Errorf("%s: duplicate rule id (also %s)", r.where(), first))
			continue
		}
		seen[r.ID] = r.where()

		var ksbs, missing []string
		for _, raw := range r.KSBs {
			k := evidence.NormalizeKSB(raw)
			switch {
			case contains(ksbs, k):
			case t.known[k]:
				ksbs = append(ksbs, k)
			default:
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			if !r.Builtin || opts.StrictBuiltin {
				for _, k := range missing {
					errs = append(errs, fmt.Errorf("%s names KSB %s, which catalogue %s does not have", r.where(), k, cat.ID))
				}
				continue
			}
			if len(ksbs) == 0 {
				warnings = append(warnings, fmt.Sprintf("%s dropped: catalogue %s has none of its KSBs (%s)",
					r.where(), cat.ID, strings.Join(missing, ", ")))
				continue
			}
			warnings = append(warnings, fmt.Sprintf("%s: KSB %s dropped from the rule, catalogue %s does not have it",
				r.where(), strings.Join(missing, ", "), cat.ID))
		}
		c, err := t.compileRule(r, ksbs)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.where(), err))
			continue
		}
		t.rules = append(t.rules, c)
	}
	if len(errs) > 0 {
		return nil, warnings, fmt.Errorf("compile rules against catalogue %s: %w", cat.ID, errors.Join(errs...))
	}
	t.literals.build()
	t.globNames = newGlobNames(t.globs)
	return t, warnings, nil
}

func (t *Tagger) compileRule(r Rule, ksbs []string) (compiled, error) {
	c := compiled{
		id:         r.ID,
		by:         evidence.ByRule + r.ID,
		ksbs:       ksbs,
		reason:     strings.TrimSpace(r.Reason),
		confidence: r.Confidence,
	}
	for _, p := range r.Match.Paths {
		i, ok := t.globIndex[p]
		if !ok {
			i = len(t.globs)
			t.globs = append(t.globs, compileGlob(p))
			t.globIndex[p] = i
		}
		c.paths = append(c.paths, i)
	}
	if c.confidence == 0 {
		c.confidence = DefaultConfidence
	}
	if len(r.Match.Kinds) > 0 {
		c.kinds = map[evidence.Kind]bool{}
		for _, k := range r.Match.Kinds {
			c.kinds[k] = true
		}
	}
	if len(r.Match.SourceTypes) > 0 {
		c.sourceTypes = map[string]bool{}
		for _, s := range r.Match.SourceTypes {
			c.sourceTypes[s] = true
		}
	}
	if r.Match.Text != "" {
		re, err := regexp.Compile(r.Match.Text)
		if err != nil {
			return c, fmt.Errorf("match.text: %w", err)
		}
		c.text = re
		c.textFilter = newPrefilter(r.Match.Text)
		if c.textFilter != nil {
			c.textLits = t.literals.add(c.textFilter)
		}
		c.textParts = splitText(r.Match.Text)
		for i := range c.textParts {
			if f := newPrefilter(c.textParts[i].re.String()); f != nil {
				c.textParts[i].lits = t.literals.add(f)
			}
		}
	}
	for _, k := range sortedKeys(r.Match.Facts) {
		re, err := regexp.Compile(r.Match.Facts[k])
		if err != nil {
			return c, fmt.Errorf("match.facts.%s: %w", k, err)
		}
		lit, literal := re.LiteralPrefix()
		c.facts = append(c.facts, factCond{key: k, segs: strings.Split(k, "."), re: re, lit: lit, literal: literal})
	}
	return c, nil
}

// catalogueIDs is the set of the catalogue's normalised KSB IDs.
func catalogueIDs(cat *ksb.Catalogue) map[string]bool {
	known := make(map[string]bool, len(cat.KSBs))
	for _, k := range cat.KSBs {
		known[evidence.NormalizeKSB(k.ID)] = true
	}
	return known
}

// ksbOrder numbers the KSB IDs of known in CompareKSB's order (which is
// total: it gives 0 only for equal IDs).
func ksbOrder(known map[string]bool) map[string]int {
	ids := sortedKeys(known)
	slices.SortFunc(ids, CompareKSB)
	order := make(map[string]int, len(ids))
	for i, id := range ids {
		order[id] = i
	}
	return order
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Catalogue is the ID of the catalogue the Tagger was compiled against.
func (t *Tagger) Catalogue() string { return t.catalogue }

// Revision is the revision of that catalogue (ksb.Catalogue.Revision).
func (t *Tagger) Revision() string { return t.revision }

// RuleIDs lists the IDs of the rules the Tagger applies, in order.
func (t *Tagger) RuleIDs() []string {
	ids := make([]string, len(t.rules))
	for i, r := range t.rules {
		ids[i] = r.id
	}
	return ids
}
