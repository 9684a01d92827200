package ksb

// Standards API JSON.
//
// Two public shapes are read, both confirmed from the code of the service
// that consumes them, SkillsFundingAgency/das-courses-api (the "Find
// apprenticeship training" courses API):
//
//  1. The Skills England (formerly IfATE) apprenticeship standards API,
//     https://skillsengland.education.gov.uk/api/apprenticeshipstandards
//     (every version of every standard, an array) and …/{ST code} (one
//     object). Field names: src/SFA.DAS.Courses.Domain/ImportTypes/Standard.cs
//     and ImportTypes/SkillsEngland/Apprenticeship.cs: "referenceNumber",
//     "title", "level", "version", "versionNumber", "status",
//     "knowledges": [{"knowledgeId", "detail"}], "skills": [{"skillId",
//     "detail"}], "behaviours": [{"behaviourId", "detail"}], "duties":
//     [{"dutyId", "dutyDetail", "mappedKnowledge", …}]. The IDs are GUIDs;
//     the codes K1, S1, B1 are the 1-based position in each list
//     (src/SFA.DAS.Courses.Domain/Entities/StandardImport.cs builds
//     Ksb.Knowledge(id, i + 1, detail); Entities/Ksb.cs makes the key
//     "K" + index).
//  2. The courses API's KSB lists: "ksbs": [{"type", "key", "detail"}]
//     (src/SFA.DAS.Courses.Domain/Courses/Ksb.cs,
//     src/SFA.DAS.Courses.Api/ApiResponses/GetStandardOptionsResponse.cs),
//     with "ifateReferenceNumber", "title", "level", "version" beside it
//     (ApiResponses/GetStandardDetailResponse.cs). Some versions of that
//     API send {"id", "type", "description"} without a key; codes cannot be
//     derived from those reliably and they are refused.
//
// The detail texts are the official statements. Some Skills England fields
// carry HTML; tags are stripped and entities decoded.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
)

// flexString accepts a JSON string or number ("1.0" or 1.0).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("want a string or a number, got %s", abbreviate(string(b)))
		}
		*f = flexString(n.String())
	}
	return nil
}

// flexInt accepts a JSON number or a string holding one.
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(string(s)), 64)
	if err != nil || n != float64(int(n)) {
		return fmt.Errorf("want a whole number, got %q", abbreviate(string(s)))
	}
	*f = flexInt(n)
	return nil
}

// apiItem is one knowledge, skill or behaviour: an object with an ID and
// a detail, or (older courses API responses) just the detail as a string.
type apiItem struct {
	ID          flexString `json:"id"`
	KnowledgeID flexString `json:"knowledgeId"`
	SkillID     flexString `json:"skillId"`
	BehaviourID flexString `json:"behaviourId"`
	Detail      string     `json:"detail"`
	Description string     `json:"description"`
}

func (a *apiItem) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &a.Detail)
	}
	type plain apiItem
	return json.Unmarshal(b, (*plain)(a))
}

func (a apiItem) text() string {
	if a.Detail != "" {
		return a.Detail
	}
	return a.Description
}

// apiKSB is one entry of the courses API's "ksbs" list.
type apiKSB struct {
	Type        flexString `json:"type"` // "Knowledge" or 1, "Skill" or 2, "Behaviour" or 3
	Key         string     `json:"key"`
	Detail      string     `json:"detail"`
	Description string     `json:"description"`
}

// apiDuty is a duty: an object, or just its text.
type apiDuty struct {
	DutyID     flexString `json:"dutyId"`
	DutyDetail string     `json:"dutyDetail"`
}

func (d *apiDuty) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &d.DutyDetail)
	}
	type plain apiDuty
	return json.Unmarshal(b, (*plain)(d))
}

// apiStandard holds the fields read from one standard. encoding/json
// matches names case-insensitively, so "dutyID" fills DutyID too.
type apiStandard struct {
	ReferenceNumber      string     `json:"referenceNumber"`
	IfateReferenceNumber string     `json:"ifateReferenceNumber"`
	StandardUID          string     `json:"standardUId"`
	Title                string     `json:"title"`
	Version              flexString `json:"version"`
	VersionNumber        flexString `json:"versionNumber"`
	Level                flexInt    `json:"level"`
	Status               string     `json:"status"`
	StandardPageURL      string     `json:"standardPageUrl"`
	Knowledges           []apiItem  `json:"knowledges"`
	Skills               []apiItem  `json:"skills"`
	Behaviours           []apiItem  `json:"behaviours"`
	Duties               []apiDuty  `json:"duties"`
	KSBs                 []apiKSB   `json:"ksbs"`
}

func (s *apiStandard) reference() string {
	r := s.ReferenceNumber
	if r == "" {
		r = s.IfateReferenceNumber
	}
	if r == "" {
		r, _, _ = strings.Cut(s.StandardUID, "_")
	}
	return strings.ToUpper(strings.TrimSpace(r))
}

func (s *apiStandard) version() string {
	v := strings.TrimSpace(string(s.Version))
	if v == "" {
		v = strings.TrimSpace(string(s.VersionNumber))
	}
	if v == "" {
		_, v, _ = strings.Cut(s.StandardUID, "_")
	}
	return strings.TrimSpace(v)
}

// parseAPIJSON reads one standard, an array of standards, or an object
// whose "standards" holds them, picks one (by opts.Reference and
// opts.Version when there are several) and converts it.
func parseAPIJSON(name string, data []byte, opts ImportOptions) (*Catalogue, error) {
	b := bytes.TrimSpace(trimBOM(data))
	if !json.Valid(b) {
		var v any
		err := json.Unmarshal(b, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return nil, fmt.Errorf("parse %s as JSON: %w", name, jsonErrorAt(b, err))
	}
	var raws []json.RawMessage
	var where []string
	switch {
	case len(b) > 0 && b[0] == '[':
		if err := json.Unmarshal(b, &raws); err != nil {
			return nil, fmt.Errorf("parse %s as standards API JSON: %w", name, jsonErrorAt(b, err))
		}
		for i := range raws {
			where = append(where, fmt.Sprintf("[%d]", i))
		}
	case len(b) > 0 && b[0] == '{':
		var wrapper struct {
			Standards []json.RawMessage `json:"standards"`
		}
		if err := json.Unmarshal(b, &wrapper); err == nil && len(wrapper.Standards) > 0 {
			raws = wrapper.Standards
			for i := range raws {
				where = append(where, fmt.Sprintf("standards[%d]", i))
			}
		} else {
			raws = []json.RawMessage{b}
			where = []string{"the standard"}
		}
	default:
		return nil, fmt.Errorf("parse %s as standards API JSON: want an object or an array of standards", name)
	}
	wantRef := strings.ToUpper(strings.TrimSpace(opts.Reference))
	wantVer := normVersion(opts.Version)
	type candidate struct {
		s     apiStandard
		where string
	}
	var matches []candidate
	var errs []error
	for i, raw := range raws {
		var s apiStandard
		if err := json.Unmarshal(raw, &s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where[i], err))
			continue
		}
		if wantRef != "" && s.reference() != "" && s.reference() != wantRef {
			continue
		}
		if wantVer != "" && s.version() != "" && normVersion(s.version()) != wantVer {
			continue
		}
		matches = append(matches, candidate{s, where[i]})
	}
	switch {
	case len(matches) == 1:
	case len(matches) == 0 && len(errs) > 0:
		return nil, fmt.Errorf("parse %s as standards API JSON: %w", name, errors.Join(errs...))
	case len(matches) == 0:
		return nil, fmt.Errorf("parse %s as standards API JSON: no standard matches reference %q version %q (%d in the file)",
			name, opts.Reference, opts.Version, len(raws))
	default:
		var list []string
		for i, m := range matches {
			if i == 10 {
				list = append(list, fmt.Sprintf("and %d more", len(matches)-10))
				break
			}
			list = append(list, strings.TrimSpace(m.s.reference()+" v"+m.s.version()))
		}
		return nil, fmt.Errorf("parse %s as standards API JSON: %d standards match, give a reference and a version to pick one: %s",
			name, len(matches), strings.Join(list, ", "))
	}
	m := matches[0]
	c, err := convertAPIStandard(name, &m.s, opts)
	if err != nil {
		if len(raws) > 1 {
			return nil, fmt.Errorf("parse %s as standards API JSON, %s: %w", name, m.where, err)
		}
		return nil, fmt.Errorf("parse %s as standards API JSON: %w", name, err)
	}
	return c, nil
}

// convertAPIStandard turns one standard into a catalogue.
func convertAPIStandard(name string, s *apiStandard, opts ImportOptions) (*Catalogue, error) {
	ref, ver := s.reference(), s.version()
	c := &Catalogue{
		ID:        deriveID(ref, ver),
		Title:     strings.TrimSpace(s.Title),
		Reference: ref,
		Version:   ver,
		Level:     int(s.Level),
	}
	source := name
	var errs []error
	var how string
	if len(s.KSBs) > 0 {
		how = "the courses API's ksbs list (type, key, detail)"
		for i, k := range s.KSBs {
			kind, ok := apiKind(string(k.Type))
			key := strings.ToUpper(strings.TrimSpace(k.Key))
			text := apiText(k.Detail)
			if text == "" {
				text = apiText(k.Description)
			}
			switch {
			case key == "":
				errs = append(errs, fmt.Errorf("ksbs[%d]: no key (K1, S1, …): this response does not say which code each KSB has; import the Skills England apprenticeship standards JSON instead", i))
				continue
			case !ok:
				errs = append(errs, fmt.Errorf("ksbs[%d] (%s): type %q is not Knowledge, Skill or Behaviour", i, key, string(k.Type)))
				continue
			case text == "":
				errs = append(errs, fmt.Errorf("ksbs[%d] (%s): no detail", i, key))
				continue
			}
			c.KSBs = append(c.KSBs, KSB{ID: key, Kind: kind, Statement: text, Source: source, Confidence: confidenceImported})
		}
		c.Complete = false
	} else {
		how = "the knowledges, skills and behaviours lists, numbered by position (K1 is the first knowledge)"
		for _, list := range []struct {
			field  string
			letter string
			kind   string
			items  []apiItem
			id     func(apiItem) string
		}{
			{"knowledges", "K", Knowledge, s.Knowledges, func(a apiItem) string { return string(a.KnowledgeID) }},
			{"skills", "S", Skill, s.Skills, func(a apiItem) string { return string(a.SkillID) }},
			{"behaviours", "B", Behaviour, s.Behaviours, func(a apiItem) string { return string(a.BehaviourID) }},
		} {
			codes := positionCodes(list.letter, list.items, list.id)
			for i, it := range list.items {
				text := apiText(it.text())
				if text == "" {
					errs = append(errs, fmt.Errorf("%s[%d] (%s): no detail", list.field, i, codes[i]))
					continue
				}
				c.KSBs = append(c.KSBs, KSB{ID: codes[i], Kind: list.kind, Statement: text, Source: source, Confidence: confidenceImported})
			}
		}
		// The standards API lists every KSB of the standard with its
		// official wording.
		c.Complete = len(c.KSBs) > 0
	}
	if len(s.KSBs) == 0 && len(s.Knowledges)+len(s.Skills)+len(s.Behaviours) == 0 {
		errs = append(errs, errors.New("no KSBs: expected \"knowledges\", \"skills\" and \"behaviours\" (Skills England API) or \"ksbs\" (courses API)"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for i, d := range s.Duties {
		text := apiText(d.DutyDetail)
		if text == "" || text == "." { // "." is a placeholder duty, skipped by das-courses-api too
			continue
		}
		id := strings.ToUpper(strings.TrimSpace(string(d.DutyID)))
		if !dutyCodePattern.MatchString(id) {
			id = "D" + strconv.Itoa(i+1)
		}
		c.Duties = append(c.Duties, Duty{ID: id, Text: text, Source: source, Confidence: confidenceImported})
	}
	applyOptions(c, opts)
	if c.Complete {
		c.TotalKSBs = len(c.KSBs)
	}
	c.Provenance = fmt.Sprintf("Imported from %s: standards API JSON (%s %s), read from %s.", name, ref, ver, how)
	if s.StandardPageURL != "" {
		c.Provenance += " Official page: " + s.StandardPageURL + "."
	}
	if s.Status != "" {
		c.Notes = append(c.Notes, "Status when exported: "+s.Status+".")
	}
	if c.ID == "" {
		return nil, errors.New("no catalogue ID: the standard has no reference number and version to derive one from, so one must be given")
	}
	return c, nil
}

var (
	dutyCodePattern = regexp.MustCompile(`^D[1-9][0-9]{0,2}$`)
	blockTagPattern = regexp.MustCompile(`(?i)<\s*/?\s*(?:br|p|li|ul|ol|div|h[1-6]|tr|td|th|table)\b[^>]*>`)
	tagPattern      = regexp.MustCompile(`<[^>]*>`)
)

// positionCodes gives each item of one list its code. The standards API's
// IDs are GUIDs, and the code is the 1-based position; if every ID in the
// list is already a code of the right letter, those are used instead.
func positionCodes(letter string, items []apiItem, id func(apiItem) string) []string {
	codes := make([]string, len(items))
	explicit := len(items) > 0
	for i, it := range items {
		v := strings.ToUpper(strings.TrimSpace(id(it)))
		if v == "" {
			v = strings.ToUpper(strings.TrimSpace(string(it.ID)))
		}
		if !canonicalKSBPattern.MatchString(v) || !strings.HasPrefix(v, letter) {
			explicit = false
		}
		codes[i] = v
	}
	if !explicit {
		for i := range codes {
			codes[i] = letter + strconv.Itoa(i+1)
		}
	}
	return codes
}

// apiKind maps the courses API's KSB type (a name or the enum's number)
// to a kind.
func apiKind(t string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "knowledge", "1":
		return Knowledge, true
	case "skill", "skills", "2":
		return Skill, true
	case "behaviour", "behaviours", "behavior", "behaviors", "3":
		return Behaviour, true
	}
	return "", false
}

// apiText turns an API text field into plain text: HTML tags removed
// (block tags become a space, inline ones nothing), entities decoded
// (twice: some fields are escaped twice), white space collapsed.
func apiText(s string) string {
	if strings.ContainsAny(s, "<&") {
		s = stripTags(s)
		s = html.UnescapeString(html.UnescapeString(s))
		s = stripTags(s)
	}
	return collapseSpace(strings.ToValidUTF8(s, "\uFFFD"))
}

func stripTags(s string) string {
	return tagPattern.ReplaceAllString(blockTagPattern.ReplaceAllString(s, " "), "")
}

// normVersion makes versions comparable: "1" and "1.0" are the same.
func normVersion(v string) string {
	v = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(v), "v"), "V"))
	if v != "" && !strings.Contains(v, ".") {
		v += ".0"
	}
	return v
}

// abbreviate shortens s for an error message.
func abbreviate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
