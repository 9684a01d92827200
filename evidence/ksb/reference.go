package ksb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// refFile is the shape of the project's reference list of a standard
// (builtin/st1398-v1.0.yaml, a verbatim copy of
// reference/st1398-v1.0.yaml): the standard's facts, its duties with their
// KSBs, every KSB with its statement ("text"), assessment methods and grade
// theme, a summary of the EPA plan, and the version log. Decoded strictly:
// an unknown key is an error naming its line.
type refFile struct {
	Standard   yaml.Node `yaml:"standard"` // walked by hand, to keep the facts in order
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
	Source                  string            `yaml:"source"`
	Methods                 []refMethod       `yaml:"methods"`
	OverallGrade            map[string]string `yaml:"overall_grade"`
	Gateway                 []string          `yaml:"gateway"`
	Resits                  string            `yaml:"resits"`
	Assessor                string            `yaml:"assessor"`
	ProfessionalRecognition string            `yaml:"professional_recognition"`
}

type refMethod struct {
	ID                        string    `yaml:"id"`
	Name                      string    `yaml:"name"`
	Grades                    []string  `yaml:"grades"`
	KSBs                      int       `yaml:"ksbs"`
	ReportWords               string    `yaml:"report_words"`
	ReportMustCover           []string  `yaml:"report_must_cover"`
	SubmitBy                  string    `yaml:"submit_by"`
	PresentationWithQuestions string    `yaml:"presentation_with_questions"`
	Duration                  string    `yaml:"duration"`
	Portfolio                 string    `yaml:"portfolio"`
	GradeThemes               yaml.Node `yaml:"grade_themes"` // theme → KSB IDs, in the plan's order
	DistinctionDescriptors    []string  `yaml:"distinction_descriptors"`
}

// parseReference converts the reference shape to a catalogue. The file's
// leading comment is its provenance (paragraphs kept, lines joined); the
// standard block's other keys become Facts in order; "complete" says
// whether the list is complete. The EPA plan's grade themes must agree
// with each KSB's method and theme, and each method's KSB count with the
// KSBs that name it: a file that contradicts itself is refused.
func parseReference(name string, data []byte, opts ImportOptions) (c *Catalogue, err error) {
	defer recoverYAML(name, &err)
	data = trimBOM(data)
	var f refFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("parse %s as a reference list: empty document", name)
		}
		return nil, fmt.Errorf("parse %s as a reference list: %w", name, err)
	}
	var errs []error
	c = &Catalogue{}
	errs = append(errs, readStandard(&f.Standard, c)...)
	c.ID = deriveID(c.Reference, c.Version)
	c.Provenance = headerComment(data)
	if c.Provenance == "" {
		c.Provenance = "Converted from the reference list " + name + "."
	}
	for i, d := range f.Duties {
		if strings.TrimSpace(d.ID) == "" || strings.TrimSpace(d.Text) == "" {
			errs = append(errs, fmt.Errorf("duties[%d]: id and text are required", i))
			continue
		}
		c.Duties = append(c.Duties, Duty{ID: strings.TrimSpace(d.ID), Text: strings.TrimSpace(d.Text), KSBs: d.KSBs})
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
			errs = append(errs, probs...)
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
	if len(errs) > 0 {
		return nil, fmt.Errorf("parse %s as a reference list: %w", name, errors.Join(errs...))
	}
	applyOptions(c, opts)
	if c.ID == "" {
		return nil, fmt.Errorf("parse %s as a reference list: no catalogue ID: the standard has no usable reference and version, so one must be given", name)
	}
	return c, nil
}

// readStandard fills c from the standard block: title, reference,
// version, level, total_ksbs, complete and licence, and every other scalar key as a Fact.
func readStandard(n *yaml.Node, c *Catalogue) []error {
	var errs []error
	if n.Kind == 0 {
		return []error{errors.New("standard: missing")}
	}
	if n.Kind != yaml.MappingNode {
		return []error{fmt.Errorf("line %d: standard: want a mapping", n.Line)}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
			errs = append(errs, fmt.Errorf("line %d: standard: want plain key: value pairs", k.Line))
			continue
		}
		if seen[k.Value] {
			errs = append(errs, fmt.Errorf("line %d: standard.%s: duplicate key", k.Line, k.Value))
			continue
		}
		seen[k.Value] = true
		val := strings.TrimSpace(v.Value)
		var err error
		want := "a whole number"
		switch k.Value {
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
			c.Facts = append(c.Facts, Fact{Name: k.Value, Value: val})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: standard.%s: %q: want %s", v.Line, k.Value, val, want))
		}
	}
	return errs
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
	switch g := m.GradeThemes; g.Kind {
	case 0:
	case yaml.MappingNode:
		for j := 0; j+1 < len(g.Content); j += 2 {
			theme, list := g.Content[j], g.Content[j+1]
			var ids []string
			if theme.Kind != yaml.ScalarNode || list.Decode(&ids) != nil {
				errs = append(errs, fmt.Errorf("line %d: %s.grade_themes: want theme: [KSB IDs]", theme.Line, where))
				continue
			}
			out.Themes = append(out.Themes, theme.Value)
			for _, id := range ids {
				listed[evidence.NormalizeKSB(id)] = theme.Value
			}
		}
	default:
		errs = append(errs, fmt.Errorf("line %d: %s.grade_themes: want theme: [KSB IDs]", g.Line, where))
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
