package ksb

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ksbfolio/ksbfolio/evidence"
	"github.com/ksbfolio/ksbfolio/internal/yamlstrict"
)

// refFile is the shape of the project's reference list of a standard
// (builtin/st1398-v1.0.yaml, a verbatim copy of
// reference/st1398-v1.0.yaml): the standard's facts, its duties with their
// KSBs, every KSB with its statement ("text"), assessment methods and grade
// theme, a summary of the EPA plan, and the version log. Decoded strictly
// (internal/yamlstrict): an unknown key is an error naming its line.
type refFile struct {
	Standard   pairs     `yaml:"standard"` // in order: the other keys become Facts
	Duties     []refDuty `yaml:"duties"`
	KSBs       []refKSB  `yaml:"ksbs"`
	EPA        *refEPA   `yaml:"epa"`
	VersionLog []struct {
		Version       string `yaml:"version"`
		Change        string `yaml:"change"`
		EarliestStart string `yaml:"earliest_start"`
		LatestStart   string `yaml:"latest_start"`
	} `yaml:"version_log"`
}

type refDuty struct {
	ID   string   `yaml:"id"`
	Text string   `yaml:"text"`
	KSBs []string `yaml:"ksbs"`
}

type refKSB struct {
	ID         string   `yaml:"id"`
	Kind       string   `yaml:"kind"`
	Text       string   `yaml:"text"`
	Methods    []string `yaml:"methods"`
	GradeTheme string   `yaml:"grade_theme"`
}

// refEPA summarises the EPA plan. Only the methods' IDs, names, grade
// themes, KSB counts, distinction descriptors and portfolio note are used;
// the other keys are read (so that a misspelt one is caught) and kept in
// the reference file only.
type refEPA struct {
	Source                  string      `yaml:"source"`
	Methods                 []refMethod `yaml:"methods"`
	OverallGrade            pairs       `yaml:"overall_grade"`
	Gateway                 []string    `yaml:"gateway"`
	Resits                  string      `yaml:"resits"`
	Assessor                string      `yaml:"assessor"`
	ProfessionalRecognition string      `yaml:"professional_recognition"`
}

type refMethod struct {
	ID                        string   `yaml:"id"`
	Name                      string   `yaml:"name"`
	Grades                    []string `yaml:"grades"`
	KSBs                      int      `yaml:"ksbs"`
	ReportWords               string   `yaml:"report_words"`
	ReportMustCover           []string `yaml:"report_must_cover"`
	SubmitBy                  string   `yaml:"submit_by"`
	PresentationWithQuestions string   `yaml:"presentation_with_questions"`
	Duration                  string   `yaml:"duration"`
	Portfolio                 string   `yaml:"portfolio"`
	GradeThemes               themes   `yaml:"grade_themes"` // theme → KSB IDs, in the plan's order
	DistinctionDescriptors    []string `yaml:"distinction_descriptors"`
}

// parseReference converts the reference shape to a catalogue. The file's
// leading comment is its provenance (paragraphs kept, lines joined); the
// standard block's other keys become Facts in order; "complete" says
// whether the list is complete. The EPA plan's grade themes must agree
// with each KSB's method and theme, and each method's KSB count with the
// KSBs that name it: a file that contradicts itself is refused.
func parseReference(name string, data []byte, opts ImportOptions) (*Catalogue, error) {
	data = trimBOM(data)
	d := referenceDecoder(name)
	var f refFile
	if root := readYAML(d, data); root != nil {
		d.Struct(root, "", root.Line, "", &f)
	}
	c := &Catalogue{}
	readStandard(d, f.Standard, c)
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("read as a reference list: %w", err)
	}
	c.ID = deriveID(c.Reference, c.Version)
	c.Provenance = headerComment(data)
	if c.Provenance == "" {
		c.Provenance = "Converted from the reference list " + name + "."
	}
	for i, du := range f.Duties {
		if strings.TrimSpace(du.ID) == "" || strings.TrimSpace(du.Text) == "" {
			d.Check(yamlstrict.Index("duties", i), "id and text are required")
			continue
		}
		c.Duties = append(c.Duties, Duty{ID: strings.TrimSpace(du.ID), Text: strings.TrimSpace(du.Text), KSBs: du.KSBs})
	}
	for _, k := range f.KSBs {
		c.KSBs = append(c.KSBs, KSB{
			ID:         evidence.NormalizeKSB(k.ID),
			Kind:       strings.TrimSpace(k.Kind),
			Statement:  strings.TrimSpace(k.Text),
			Methods:    k.Methods,
			GradeTheme: strings.TrimSpace(k.GradeTheme),
		})
	}
	if f.EPA != nil {
		for i, m := range f.EPA.Methods {
			method, probs := readMethod(i, m, c.KSBs)
			line := d.LineOf(yamlstrict.Index("epa.methods", i))
			for _, p := range probs {
				d.Problemf(line, "", "%s", p)
			}
			c.Methods = append(c.Methods, method)
			if p := strings.TrimSpace(m.Portfolio); p != "" {
				c.Notes = append(c.Notes, fmt.Sprintf("Portfolio (%s): %s", method.Name, p))
			}
		}
	}
	for _, v := range f.VersionLog {
		c.VersionLog = append(c.VersionLog, VersionEntry{Version: strings.TrimSpace(v.Version), Change: strings.TrimSpace(v.Change),
			EarliestStart: strings.TrimSpace(v.EarliestStart), LatestStart: strings.TrimSpace(v.LatestStart)})
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("read as a reference list: %w", err)
	}
	applyOptions(c, opts)
	if c.ID == "" {
		return nil, fmt.Errorf("parse %s as a reference list: no catalogue ID: the standard has no usable reference and version, so one must be given", name)
	}
	return c, nil
}

// pair is one key and plain value of a mapping, in the file's order.
type pair struct {
	Key, Value string
	Line       int
}

// pairs is a mapping of plain values whose keys are the file's own (the
// standard's facts), kept in order.
type pairs []pair

// theme is one grade theme of an EPA method and the KSBs listed under it.
type theme struct {
	Name string
	KSBs []string
}

// themes are a method's grade themes, in the plan's order.
type themes []theme

// referenceDecoder is a strict YAML walker that also knows the reference
// list's ordered mappings.
func referenceDecoder(name string) *yamlstrict.Decoder {
	d := yamlstrict.New(name)
	d.Custom = map[reflect.Type]yamlstrict.Custom{
		reflect.TypeFor[pairs](): {Want: "a mapping of plain values", Decode: func(n *yaml.Node, path string, line int) (any, error) {
			if n.Kind != yaml.MappingNode {
				return nil, yamlstrict.ErrWrongType
			}
			var out pairs
			for _, e := range d.Keys(n, path, nil, "") {
				v, ok := d.Resolve(e.Value, e.Path, e.Line)
				if !ok {
					continue
				}
				if v.Kind != yaml.ScalarNode {
					d.Reject(e.Line, e.Path, "want a plain value, got %s", yamlstrict.Describe(v))
					continue
				}
				out = append(out, pair{Key: e.Key, Value: v.Value, Line: e.Line})
			}
			return out, nil
		}},
		reflect.TypeFor[themes](): {Want: "a mapping of grade themes to lists of KSB IDs", Decode: func(n *yaml.Node, path string, line int) (any, error) {
			if n.Kind != yaml.MappingNode {
				return nil, yamlstrict.ErrWrongType
			}
			var out themes
			for _, e := range d.Keys(n, path, nil, "") {
				t := theme{Name: e.Key}
				d.Decode(e.Value, reflect.ValueOf(&t.KSBs).Elem(), e.Path, e.Line)
				out = append(out, t)
			}
			return out, nil
		}},
	}
	return d
}

// readStandard fills c from the standard block: title, reference,
// version, level, total_ksbs, complete and licence, and every other key as
// a Fact. A missing block and values of the wrong kind are recorded in d.
func readStandard(d *yamlstrict.Decoder, std pairs, c *Catalogue) {
	if !d.Present("standard") {
		d.Check("standard", "missing (the standard's title, reference, version, …)")
		return
	}
	for _, p := range std {
		val := strings.TrimSpace(p.Value)
		var err error
		want := "a whole number"
		switch p.Key {
		case "title":
			c.Title = val
		case "reference":
			c.Reference = strings.ToUpper(val)
		case "version":
			c.Version = val
		case "level":
			c.Level, err = strconv.Atoi(val)
		case "total_ksbs":
			c.TotalKSBs, err = strconv.Atoi(val)
		case "complete":
			c.Complete, err = strconv.ParseBool(val)
			want = "true or false"
		case "licence":
			c.Licence = val
		default:
			c.Facts = append(c.Facts, Fact{Name: p.Key, Value: val})
		}
		if err != nil {
			d.Problemf(p.Line, yamlstrict.KeyPath("standard", p.Key), "%s: want %s", yamlstrict.Quote(val), want)
		}
	}
}

// readMethod converts one EPA method and checks its grade themes against
// the KSBs: each KSB listed under a theme names the method and that theme,
// each KSB that names the method and a theme is listed under it, and the
// method's KSB count (when given) is the number of KSBs naming it.
func readMethod(i int, m refMethod, ksbs []KSB) (Method, []error) {
	where := fmt.Sprintf("epa.methods[%d]", i)
	out := Method{ID: strings.TrimSpace(m.ID), Name: strings.TrimSpace(m.Name), Distinction: m.DistinctionDescriptors}
	if out.ID != "" {
		where += " (" + out.ID + ")"
	}
	var errs []error
	if out.ID == "" {
		errs = append(errs, fmt.Errorf("%s: id is required", where))
	}
	if out.Name == "" {
		out.Name = strings.ReplaceAll(out.ID, "_", " ")
	}
	listed := map[string]string{} // KSB → theme the plan lists it under
	for _, t := range m.GradeThemes {
		out.Themes = append(out.Themes, t.Name)
		for _, id := range t.KSBs {
			listed[evidence.NormalizeKSB(id)] = t.Name
		}
	}
	count := 0
	for _, k := range ksbs {
		if !slices.Contains(k.Methods, out.ID) {
			if theme, ok := listed[k.ID]; ok {
				errs = append(errs, fmt.Errorf("%s: %s is listed under %q but its methods are %v", where, k.ID, theme, k.Methods))
			}
			continue
		}
		count++
		if theme, ok := listed[k.ID]; len(listed) > 0 && (!ok || theme != k.GradeTheme) {
			errs = append(errs, fmt.Errorf("%s: %s has grade theme %q but the plan lists it under %q", where, k.ID, k.GradeTheme, theme))
		}
	}
	for id := range listed {
		if !slices.ContainsFunc(ksbs, func(k KSB) bool { return k.ID == id }) {
			errs = append(errs, fmt.Errorf("%s.grade_themes: %s is not in ksbs", where, id))
		}
	}
	if m.KSBs > 0 && m.KSBs != count {
		errs = append(errs, fmt.Errorf("%s: says it assesses %d KSBs, but %d name it", where, m.KSBs, count))
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return out, errs
}

// headerComment returns the comment block at the top of a YAML file as
// text: "# " stripped, lines of a paragraph joined with spaces, paragraphs
// (separated by a bare "#") joined with newlines.
func headerComment(data []byte) string {
	var paras []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			paras = append(paras, strings.Join(cur, " "))
			cur = nil
		}
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if !strings.HasPrefix(line, "#") {
			break
		}
		text := strings.TrimSpace(strings.TrimPrefix(line, "#"))
		if text == "" {
			flush()
			continue
		}
		cur = append(cur, text)
	}
	flush()
	return strings.Join(paras, "\n")
}
