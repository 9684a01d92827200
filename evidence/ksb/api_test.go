package ksb_test

// The API fixtures in testdata are written by hand. Their shape follows
// the public code that reads these APIs:
//
//   - skills-england-standard.json, skills-england-list.json: the Skills
//     England (formerly IfATE) apprenticeship standards API,
//     /api/apprenticeshipstandards (an array of every version of every
//     standard) and /api/apprenticeshipstandards/{ST code} (one object).
//     Field names from SkillsFundingAgency/das-courses-api
//     src/SFA.DAS.Courses.Domain/ImportTypes/Standard.cs and
//     src/SFA.DAS.Courses.Domain/ImportTypes/SkillsEngland/Apprenticeship.cs
//     ("referenceNumber", "version", "knowledges": [{"knowledgeId",
//     "detail"}], "skills": [{"skillId", "detail"}], "behaviours":
//     [{"behaviourId", "detail"}], "duties": [{"dutyId"/"dutyID",
//     "dutyDetail", …}]); codes by 1-based position from
//     src/SFA.DAS.Courses.Domain/Entities/StandardImport.cs and
//     Entities/Ksb.cs.
//   - courses-api-ksbs.json: the courses API's KSB list, {"type", "key",
//     "detail"}, from das-courses-api src/SFA.DAS.Courses.Domain/Courses/Ksb.cs
//     and src/SFA.DAS.Courses.Api/ApiResponses/GetStandardOptionsResponse.cs,
//     with the standard's fields from ApiResponses/GetStandardDetailResponse.cs.
//   - courses-api-ksbs-nokey.json: the other version of that response,
//     {"id", "type", "description"} (ApiResponses/Courses/KsbResponse.cs),
//     which carries no code.

import (
	"strings"
	"testing"

	"github.com/ksbfolio/ksbfolio/evidence/ksb"
)

func TestParseSkillsEnglandStandard(t *testing.T) {
	c, err := ksb.Parse("st9901.json", readTestdata(t, "skills-england-standard.json"), ksb.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "st9901-v1.1" || c.Reference != "ST9901" || c.Version != "1.1" || c.Level != 6 || c.Title != "Example machine learning technician" {
		t.Errorf("metadata = %q %q %q %d %q", c.ID, c.Reference, c.Version, c.Level, c.Title)
	}
	if !c.Complete || c.TotalKSBs != 6 {
		t.Errorf("Complete = %v, TotalKSBs = %d; the standards API lists every KSB", c.Complete, c.TotalKSBs)
	}
	want := "K1=How models are trained & evaluated.\n" +
		"K2=Deployment approaches for data pipelines.\n" +
		"S1=Monitor models in the live environment.\n" +
		"S2=Scale model capacity to the operating requirements.\n" +
		"S3=Document model assets.\n" +
		"B1=Acts with integrity.\n" +
		"D1=Build and deploy models.\n" +
		"D3=Monitor models in production.\n"
	if got := statements(c); got != want {
		t.Errorf("got:\n%swant:\n%s", got, want)
	}
	for _, k := range c.KSBs {
		if k.Confidence != "imported" || k.Source != "st9901.json" {
			t.Errorf("%s: confidence %q source %q", k.ID, k.Confidence, k.Source)
		}
	}
	if !strings.Contains(c.Provenance, "st9901-v1-1") || !strings.Contains(c.Provenance, "position") {
		t.Errorf("provenance = %q", c.Provenance)
	}
}

func TestParseSkillsEnglandList(t *testing.T) {
	data := readTestdata(t, "skills-england-list.json")
	tests := []struct {
		name    string
		opts    ksb.ImportOptions
		wantID  string
		wantK1  string
		wantErr []string
	}{
		{"ambiguous", ksb.ImportOptions{}, "", "", []string{"3 standards match", "ST9901 v1.0", "ST9901 v1.1", "ST9902 v1.0"}},
		{"reference only, several versions", ksb.ImportOptions{Reference: "st9901"}, "", "", []string{"2 standards match"}},
		{"reference and version", ksb.ImportOptions{Reference: "ST9901", Version: "1.1"}, "st9901-v1.1", "New knowledge.", nil},
		{"version without point", ksb.ImportOptions{Reference: "ST9901", Version: "1"}, "st9901-v1.0", "Old knowledge.", nil},
		{"single version", ksb.ImportOptions{Reference: "ST9902"}, "st9902-v1.0", "Other.", nil},
		{"no match", ksb.ImportOptions{Reference: "ST0000"}, "", "", []string{`no standard matches reference "ST0000"`, "3 in the file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ksb.Parse("all.json", data, tc.opts)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("Parse = %+v, want an error", c)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q\nwant it to contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			k1, _ := c.Lookup("K1")
			if c.ID != tc.wantID || k1.Statement != tc.wantK1 {
				t.Errorf("ID %q K1 %q; want %q %q", c.ID, k1.Statement, tc.wantID, tc.wantK1)
			}
		})
	}
}

func TestParseCoursesAPIKSBs(t *testing.T) {
	c, err := ksb.Parse("course.json", readTestdata(t, "courses-api-ksbs.json"), ksb.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "st9901-v1.1" || c.Reference != "ST9901" || c.Complete {
		t.Errorf("ID %q reference %q complete %v", c.ID, c.Reference, c.Complete)
	}
	want := "K1=How models are trained and evaluated.\nS1=Monitor models in the live environment.\n" +
		"S2=Scale model capacity to the operating requirements.\nB1=Acts with integrity.\n"
	if got := statements(c); got != want {
		t.Errorf("got:\n%swant:\n%s", got, want)
	}

	_, err = ksb.Parse("course.json", readTestdata(t, "courses-api-ksbs-nokey.json"), ksb.ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "ksbs[0]: no key") || !strings.Contains(err.Error(), "ksbs[1]: no key") {
		t.Errorf("KSBs without keys: error = %v", err)
	}
}

func TestParseAPIJSONErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"syntax error", "{\n  \"referenceNumber\": \"ST1\",\n  \"knowledges\": [\n}", []string{"api.json", "line 4"}},
		{"truncated", `{"referenceNumber": "ST1", "knowledges": [`, []string{"api.json", "unexpected end"}},
		{"no ksbs", `{"referenceNumber": "ST1", "version": "1.0"}`, []string{"no KSBs"}},
		{"empty detail", `{"referenceNumber": "ST1", "version": "1.0", "knowledges": [{"knowledgeId": "x", "detail": " "}]}`,
			[]string{"knowledges[0] (K1): no detail"}},
		{"wrong type", `{"referenceNumber": "ST1", "version": "1.0", "knowledges": 5}`, []string{"knowledges"}},
		{"bad level", `{"referenceNumber": "ST1", "version": "1.0", "level": "six", "knowledges": ["a"]}`, []string{"whole number"}},
		{"no id", `{"title": "x", "knowledges": ["a"]}`, []string{"no catalogue ID"}},
		{"bad ksb type", `{"referenceNumber": "ST1", "version": "1.0", "ksbs": [{"type": "Talent", "key": "T1", "detail": "x"}]}`,
			[]string{`type "Talent"`}},
		{"scalar", `"just a string"`, []string{"api.json"}},
		{"empty array", `[]`, []string{"no standard matches"}},
		{"array of junk", `[1, 2]`, []string{"[0]", "[1]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ksb.ParseFormat(ksb.FormatAPIJSON, "api.json", []byte(tc.in), ksb.ImportOptions{})
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestParseAPIJSONVariants(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts ksb.ImportOptions
		want string
	}{
		{"string lists, numeric version", `{"referenceNumber": "ST1", "version": 2.0, "knowledges": ["One.", "Two."], "skills": ["S."], "behaviours": []}`,
			ksb.ImportOptions{}, "st1-v2.0: K1=One. K2=Two. S1=S."},
		{"ids that are codes are used", `{"referenceNumber": "ST1", "version": "1.0", "knowledges": [{"knowledgeId": "K2", "detail": "Two."}, {"knowledgeId": "K7", "detail": "Seven."}]}`,
			ksb.ImportOptions{}, "st1-v1.0: K2=Two. K7=Seven."},
		{"standards wrapper", `{"standards": [{"referenceNumber": "ST1", "version": "1.0", "skills": [{"skillId": "g", "detail": "S."}]}]}`,
			ksb.ImportOptions{}, "st1-v1.0: S1=S."},
		{"id option", `{"knowledges": ["One."]}`, ksb.ImportOptions{ID: "mine"}, "mine: K1=One."},
		{"double-escaped entities", `{"referenceNumber": "ST1", "version": "1.0", "knowledges": ["R&amp;amp;D &lt;b&gt;bold&lt;/b&gt;"]}`,
			ksb.ImportOptions{}, "st1-v1.0: K1=R&D bold"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ksb.Parse("api.json", []byte(tc.in), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := c.ID + ":"
			for _, k := range c.KSBs {
				got += " " + k.ID + "=" + k.Statement
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
