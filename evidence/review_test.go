package evidence_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func key(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

var (
	patKey = key(1) // configured coach
	empKey = key(2) // configured employer
	badKey = key(3) // nobody's
	annKey = key(4) // configured assessor
)

func verifier() *evidence.Verifier {
	return evidence.NewVerifier([]evidence.Reviewer{
		{Name: "Pat", Role: "coach", Key: patKey.Public().(ed25519.PublicKey)},
		{Name: "Erin", Role: "employer", Key: empKey.Public().(ed25519.PublicKey)},
		{Name: "Ann", Role: "assessor", Key: annKey.Public().(ed25519.PublicKey)},
	})
}

var theItem = evidence.Item{ID: "git-0123456789abcdef0123456789abcdef", Kind: evidence.KindCommit, Title: "Add drift monitor",
	OccurredAt: t0, Facts: map[string]any{"files": 3}, Tags: []evidence.Tag{
		{KSB: "K12", By: "declared:trailer", Catalogue: "c"}, {KSB: "S19", By: "rule:x", Catalogue: "c"}}}

func dec(minute int, by, role string) evidence.Decision {
	return evidence.Decision{ID: by + role, At: t0.Add(time.Duration(minute) * time.Minute), By: by, Role: role}
}

func sign(d evidence.Decision, k ed25519.PrivateKey) evidence.Decision {
	return evidence.Sign(theItem.ID, evidence.ContentHash(theItem), d, k)
}

func accept(d evidence.Decision, ks ...string) evidence.Decision { d.Accept = ks; return d }
func reject(d evidence.Decision, ks ...string) evidence.Decision { d.Reject = ks; return d }
func exclude(d evidence.Decision, v bool) evidence.Decision      { d.Exclude = &v; return d }
func confidential(d evidence.Decision, v bool) evidence.Decision { d.Confidential = &v; return d }

func fold(ds ...evidence.Decision) evidence.State {
	it := theItem
	return evidence.Fold(&evidence.Review{Item: theItem.ID, Decisions: ds}, &it, verifier())
}

func TestFoldPrecedence(t *testing.T) {
	t.Run("later decision of the same role wins", func(t *testing.T) {
		st := fold(accept(dec(1, "Jane", "apprentice"), "S19"), reject(dec(2, "Jane", "apprentice"), "S19"))
		if _, ok := st.Rejected["S19"]; !ok || len(st.Conflicts) != 0 {
			t.Fatalf("state %+v", st)
		}
	})
	t.Run("decisions apply by time, not by position", func(t *testing.T) {
		st := fold(reject(dec(2, "Jane", "apprentice"), "S19"), accept(dec(1, "Jane", "apprentice"), "S19"))
		if _, ok := st.Rejected["S19"]; !ok {
			t.Fatalf("state %+v", st)
		}
	})
	t.Run("signed coach rejection stands over a later apprentice accept", func(t *testing.T) {
		st := fold(sign(reject(dec(1, "Pat", "coach"), "S19"), patKey), accept(dec(2, "Jane", "apprentice"), "s19"))
		if _, ok := st.Rejected["S19"]; !ok {
			t.Fatalf("apprentice overrode the coach: %+v", st)
		}
		if len(st.Conflicts) != 1 {
			t.Fatalf("conflicts %+v", st.Conflicts)
		}
		c := st.Conflicts[0]
		if c.KSB != "S19" || c.Kept.By != "Pat" || c.Kept.Action != "reject" || c.Overruled.By != "Jane" || c.Overruled.Action != "accept" {
			t.Errorf("conflict %+v", c)
		}
	})
	t.Run("agreeing lower decision is no conflict and keeps the higher holder", func(t *testing.T) {
		st := fold(sign(accept(dec(1, "Pat", "coach"), "K12"), patKey), accept(dec(2, "Jane", "apprentice"), "K12"))
		if v := st.Accepted["K12"]; !v.Confirmed || v.Decision.By != "Pat" || len(st.Conflicts) != 0 {
			t.Fatalf("state %+v", st)
		}
	})
	t.Run("higher role overrides a lower one later, no conflict", func(t *testing.T) {
		st := fold(accept(dec(1, "Jane", "apprentice"), "S19"), sign(reject(dec(2, "Pat", "coach"), "S19"), patKey))
		if _, ok := st.Rejected["S19"]; !ok || len(st.Conflicts) != 0 {
			t.Fatalf("state %+v", st)
		}
	})
	t.Run("employer over coach", func(t *testing.T) {
		st := fold(sign(accept(dec(1, "Erin", "employer"), "S19"), empKey), sign(reject(dec(2, "Pat", "coach"), "S19"), patKey))
		if v, ok := st.Accepted["S19"]; !ok || v.Decision.By != "Erin" || len(st.Conflicts) != 1 {
			t.Fatalf("state %+v", st)
		}
	})
	t.Run("unsigned coach counts as the apprentice", func(t *testing.T) {
		st := fold(reject(dec(1, "Pat", "coach"), "S19"), accept(dec(2, "Jane", "apprentice"), "S19"))
		if v, ok := st.Accepted["S19"]; !ok || v.Confirmed || len(st.Conflicts) != 0 {
			t.Fatalf("state %+v", st)
		}
	})
	t.Run("apprentice cannot un-exclude a coach's exclusion", func(t *testing.T) {
		st := fold(sign(exclude(dec(1, "Pat", "coach"), true), patKey), exclude(dec(2, "Jane", "apprentice"), false))
		if !st.Excluded || len(st.Conflicts) != 1 || st.Conflicts[0].Flag != "exclude" {
			t.Fatalf("state %+v", st)
		}
		st = fold(sign(exclude(dec(1, "Pat", "coach"), true), patKey), sign(exclude(dec(2, "Pat", "coach"), false), patKey))
		if st.Excluded {
			t.Fatal("the coach could not undo their own exclusion")
		}
	})
}

// TestFoldConfidential: any marking makes the item confidential; a
// confidential=false clears only from the verified employer (every
// marking) or from the role that made the marking (the apprentice, or a
// verified decision), made after it. Whatever it leaves standing is a
// conflict.
func TestFoldConfidential(t *testing.T) {
	var (
		jane = func(m int) evidence.Decision { return dec(m, "Jane", "apprentice") }
		pat  = func(m int) evidence.Decision { return dec(m, "Pat", "coach") }
		erin = func(m int) evidence.Decision { return dec(m, "Erin", "employer") }
		ann  = func(m int) evidence.Decision { return dec(m, "Ann", "assessor") }
		mark = func(d evidence.Decision) evidence.Decision { return confidential(d, true) }
		clr  = func(d evidence.Decision) evidence.Decision { return confidential(d, false) }
	)
	for _, tc := range []struct {
		name         string
		decisions    []evidence.Decision
		changed      bool // fold against the item with other content (signatures stale)
		confidential bool
		conflicts    string // "kept>overruled …", by name
	}{
		{"apprentice marks", []evidence.Decision{mark(jane(1))}, false, true, ""},
		{"apprentice undoes own marking", []evidence.Decision{mark(jane(1)), clr(jane(2))}, false, false, ""},
		{"coach clears the apprentice's marking", []evidence.Decision{mark(jane(1)), sign(clr(pat(2)), patKey)}, false, true, "Jane>Pat"},
		{"employer clears the apprentice's marking", []evidence.Decision{mark(jane(1)), sign(clr(erin(2)), empKey)}, false, false, ""},
		{"assessor clears the apprentice's marking", []evidence.Decision{mark(jane(1)), sign(clr(ann(2)), annKey)}, false, true, "Jane>Ann"},
		{"assessor clears the employer's marking", []evidence.Decision{sign(mark(erin(1)), empKey), sign(clr(ann(2)), annKey)}, false, true, "Erin>Ann"},
		{"unsigned employer clears the apprentice's marking", []evidence.Decision{mark(jane(1)), clr(erin(2))}, false, true, "Jane>Erin"},
		{"unsigned employer clears the employer's marking", []evidence.Decision{sign(mark(erin(1)), empKey), clr(erin(2))}, false, true, "Erin>Erin"},
		{"employer's clearing signed with another key", []evidence.Decision{mark(jane(1)), sign(clr(erin(2)), badKey)}, false, true, "Jane>Erin"},
		{"employer's clearing gone stale", []evidence.Decision{mark(jane(1)), sign(clr(erin(2)), empKey)}, true, true, "Jane>Erin"},
		{"employer's clearing before the marking", []evidence.Decision{sign(clr(erin(1)), empKey), mark(jane(2))}, false, true, ""},
		{"employer's clearing stored last, made before the marking", []evidence.Decision{mark(jane(2)), sign(clr(erin(1)), empKey)}, false, true, ""},
		{"apprentice's undo made before the marking", []evidence.Decision{mark(jane(2)), clr(jane(1))}, false, true, ""},
		{"same instant: as stored", []evidence.Decision{sign(clr(erin(1)), empKey), mark(jane(1))}, false, true, ""},
		{"coach undoes own marking", []evidence.Decision{sign(mark(pat(1)), patKey), sign(clr(pat(2)), patKey)}, false, false, ""},
		{"unsigned coach cannot undo the coach's marking", []evidence.Decision{sign(mark(pat(1)), patKey), clr(pat(2))}, false, true, "Pat>Pat"},
		{"apprentice cannot clear the coach's marking", []evidence.Decision{sign(mark(pat(1)), patKey), clr(jane(2))}, false, true, "Pat>Jane"},
		{"an unsigned marking stands", []evidence.Decision{mark(pat(1))}, false, true, ""},
		{"an unsigned coach's marking is not the apprentice's to clear", []evidence.Decision{mark(pat(1)), clr(jane(2))}, false, true, "Pat>Jane"},
		{"several markings: undoing one leaves the others", []evidence.Decision{mark(jane(1)), sign(mark(pat(2)), patKey), sign(mark(ann(3)), annKey),
			sign(clr(pat(4)), patKey)}, false, true, "Jane>Pat Ann>Pat"},
		{"several markings: each role undoes its own", []evidence.Decision{mark(jane(1)), sign(mark(pat(2)), patKey),
			sign(clr(pat(3)), patKey), clr(jane(4))}, false, false, "Jane>Pat"},
		{"several markings: the employer clears them all", []evidence.Decision{mark(jane(1)), sign(mark(pat(2)), patKey), sign(mark(ann(3)), annKey),
			sign(clr(erin(4)), empKey)}, false, false, ""},
		{"marked again after the employer cleared", []evidence.Decision{mark(jane(1)), sign(clr(erin(2)), empKey), sign(mark(pat(3)), patKey)}, false, true, ""},
		{"a role's latest marking is the one to undo", []evidence.Decision{mark(jane(1)), clr(jane(2)), mark(jane(3))}, false, true, ""},
		{"clearing with nothing marked", []evidence.Decision{sign(clr(pat(1)), patKey)}, false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := theItem
			if tc.changed {
				it.Title += " (amended)"
			}
			st := evidence.Fold(&evidence.Review{Item: theItem.ID, Decisions: tc.decisions}, &it, verifier())
			if st.Confidential != tc.confidential {
				t.Errorf("confidential %v, want %v (checks %+v)", st.Confidential, tc.confidential, st.Checks)
			}
			var got []string
			for _, c := range st.Conflicts {
				got = append(got, c.Kept.By+">"+c.Overruled.By)
				if c.Flag != "confidential" || c.KSB != "" || c.Kept.Action != "confidential=true" || c.Overruled.Action != "confidential=false" {
					t.Errorf("conflict %+v", c)
				}
			}
			if strings.Join(got, " ") != tc.conflicts {
				t.Errorf("conflicts %q, want %q", strings.Join(got, " "), tc.conflicts)
			}
		})
	}
	// exclude keeps the rank rule: the coach's verified exclude=false
	// overrides the apprentice's exclusion, and the assessor's the
	// employer's.
	if st := fold(exclude(dec(1, "Jane", "apprentice"), true), sign(exclude(dec(2, "Pat", "coach"), false), patKey)); st.Excluded || len(st.Conflicts) != 0 {
		t.Errorf("exclude: coach over apprentice: %+v", st)
	}
	if st := fold(sign(exclude(dec(1, "Erin", "employer"), true), empKey), sign(exclude(dec(2, "Ann", "assessor"), false), annKey)); st.Excluded {
		t.Errorf("exclude: assessor over employer: %+v", st)
	}
}

func TestCheck(t *testing.T) {
	hash := evidence.ContentHash(theItem)
	v := verifier()
	good := sign(accept(dec(1, "Pat", "coach"), "K12"), patKey)
	changed := theItem
	changed.Title = "Add drift monitor (amended)"
	tests := []struct {
		name string
		d    evidence.Decision
		hash string
		want evidence.SigStatus
	}{
		{"verified", good, hash, evidence.SigVerified},
		{"unsigned", accept(dec(1, "Pat", "coach"), "K12"), hash, evidence.SigUnsigned},
		{"item content changed", good, evidence.ContentHash(changed), evidence.SigStale},
		{"item gone", good, "", evidence.SigStale},
		{"assessor nobody configured", sign(accept(dec(1, "Ann", "assessor"), "K12"), badKey), hash, evidence.SigUnknownKey},
		{"a coach's name in another role", sign(accept(dec(1, "Pat", "assessor"), "K12"), patKey), hash, evidence.SigUnknownKey},
		{"signed with another key", sign(accept(dec(1, "Pat", "coach"), "K12"), badKey), hash, evidence.SigUnknownKey},
		{"note changed after signing", func() evidence.Decision { d := good; d.Note = "x"; return d }(), hash, evidence.SigInvalid},
		{"KSB changed after signing", func() evidence.Decision { d := good; d.Accept = []string{"K13"}; return d }(), hash, evidence.SigInvalid},
		{"time changed after signing", func() evidence.Decision { d := good; d.At = d.At.Add(time.Nanosecond); return d }(), hash, evidence.SigInvalid},
		{"flag added after signing", exclude(good, false), hash, evidence.SigInvalid},
		{"garbage signature", func() evidence.Decision { d := good; d.Signature = "!!"; return d }(), hash, evidence.SigInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := v.Check(theItem.ID, tc.hash, tc.d)
			if c.Status != tc.want {
				t.Errorf("status %s (%s), want %s", c.Status, c.Detail, tc.want)
			}
			if (c.Status == evidence.SigVerified || c.Status == evidence.SigUnsigned) != (c.Detail == "") {
				t.Errorf("detail %q for %s", c.Detail, c.Status)
			}
		})
	}
	var nilV *evidence.Verifier
	if c := nilV.Check(theItem.ID, hash, good); c.Status != evidence.SigUnknownKey {
		t.Errorf("nil verifier: %+v", c)
	}
	// A stored decision survives a JSON round trip with its signature.
	b, _ := json.Marshal(good)
	var back evidence.Decision
	if err := json.Unmarshal(b, &back); err != nil || v.Check(theItem.ID, hash, back).Status != evidence.SigVerified {
		t.Errorf("round trip: %v %+v", err, v.Check(theItem.ID, hash, back))
	}
}

// TestSignedPayload pins the canonical form docs/ledger.md documents, so
// that anyone can rebuild it to verify a signature offline.
func TestSignedPayload(t *testing.T) {
	yes := true
	d := evidence.Decision{ID: "0123", At: time.Date(2026, 3, 2, 10, 4, 5, 120000000, time.FixedZone("x", 3600)), By: "Pat \"P\" Coach",
		Role: "coach", Accept: []string{"K12", "S10"}, Confidential: &yes, Note: "ok\n\u2028é\x01<>&", ItemHash: "sha256:ab"}
	got := string(evidence.SignedPayload("git-1", d))
	want := `{"accept":["K12","S10"],"at":"2026-03-02T09:04:05.12Z","by":"Pat \"P\" Coach","confidential":true,"exclude":null,"id":"0123",` +
		`"item":"git-1","item_hash":"sha256:ab","note":"ok\n` + "\u2028é" + `\u0001<>&","reject":[],"role":"coach","type":"ksbfolio-review-decision/v1"}`
	if got != want {
		t.Errorf("payload\n got %s\nwant %s", got, want)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(got), &m); err != nil || len(m) != 12 {
		t.Errorf("payload is not a 12-member JSON object: %v %v", err, m)
	}
}

func TestContentHash(t *testing.T) {
	h := evidence.ContentHash(theItem)
	same := theItem
	same.Tags = nil
	same.CollectedAt = t0.Add(time.Hour)
	same.Source = "renamed"
	// As read back from the ledger: numbers are float64.
	b, _ := json.Marshal(same)
	var back evidence.Item
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if evidence.ContentHash(same) != h || evidence.ContentHash(back) != h {
		t.Error("tags, collection time, source name or a JSON round trip changed the content hash")
	}
	for name, change := range map[string]func(*evidence.Item){
		"title": func(it *evidence.Item) { it.Title += "!" },
		"facts": func(it *evidence.Item) { it.Facts = map[string]any{"files": 4} },
		"artefacts": func(it *evidence.Item) {
			it.Artefacts = []evidence.Artefact{{Name: "a", SHA256: strings.Repeat("0", 64)}}
		},
		"occurred": func(it *evidence.Item) { it.OccurredAt = it.OccurredAt.Add(time.Second) },
	} {
		it := theItem
		change(&it)
		if evidence.ContentHash(it) == h {
			t.Errorf("changing %s kept the hash", name)
		}
	}
}

func TestReviewed(t *testing.T) {
	st := fold(sign(accept(dec(1, "Pat", "coach"), "S10"), patKey), reject(dec(2, "Jane", "apprentice"), "K12"),
		accept(dec(3, "Ann", "assessor"), "B1"))
	var got []string
	for _, tg := range evidence.Reviewed(theItem, st) {
		got = append(got, tg.KSB+"/"+tg.By+"/"+tg.Reason)
	}
	want := "S19/rule:x/ B1/review:assessor/accepted by Ann (unsigned: counts as claimed) S10/review:coach/accepted by Pat"
	if strings.Join(got, " ") != want {
		t.Fatalf("Reviewed =\n %s\nwant\n %s", strings.Join(got, " "), want)
	}
	if evidence.Reviewed(theItem, evidence.Fold(nil, nil, nil))[0].KSB != "K12" {
		t.Fatal("nil review changed tags")
	}
}

// FuzzSignedPayload: whatever the strings, the payload is one JSON object
// that reads back as the decision's values (each invalid UTF-8 byte as
// U+FFFD, as the stored JSON holds it), so a
// verifier that parses and re-serialises it gets the same members.
func FuzzSignedPayload(f *testing.F) {
	f.Add("Pat Coach", "ok\n\"q\"\t\x01\u2028", "K1")
	f.Add("\xff\xfe", "</script>&", "")
	f.Fuzz(func(t *testing.T, by, note, k string) {
		d := evidence.Decision{ID: "x", At: t0, By: by, Role: "coach", Note: note, Accept: []string{k}}
		var m map[string]any
		b := evidence.SignedPayload("git-1", d)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("payload is not JSON: %v\n%q", err, b)
		}
		valid := func(s string) string { return string([]rune(s)) } // each invalid byte → U+FFFD
		if m["by"] != valid(by) || m["note"] != valid(note) || m["accept"].([]any)[0] != valid(k) {
			t.Fatalf("payload %q does not read back as %q %q %q", b, by, note, k)
		}
	})
}
