package redact

import (
	"strings"
	"testing"
	"time"
)

// adversarialTails follow a keyword to make a detector work hard: pass its
// prefilters, open a value that never closes, run past the window.
var adversarialTails = []string{"", "=", "= ", ">", ">x", "=\"", "='", "=`", "=\\\"", ":", ": ", " ", "x", "=x",
	"\"", "-", "_", ".", "/", "@a.bc", " login ", " --x ", "-----", " PRIVATE KEY-----", "0123456789abcdef",
	"=" + strings.Repeat("a", 600), ">" + strings.Repeat("b", 600), "=\"" + strings.Repeat("c", 600), ":" + strings.Repeat("Ab1", 200)}

// adversarialUnits returns texts which, repeated, stress rule ru.
func adversarialUnits(ru rule) []string {
	var units []string
	for _, d := range ru.dets {
		prefix := ""
		if d.context != "" {
			prefix = d.context + " "
		}
		for i, k := range d.keywords {
			if i >= 3 {
				break
			}
			for _, tl := range adversarialTails {
				units = append(units, k+tl)
				if prefix != "" {
					units = append(units, prefix+k+tl)
				}
			}
		}
		if d.scan != nil || len(d.keywords) == 0 {
			units = append(units, "a@", "a@b.", "@a.bc", "a.a@a.a", "x.y@z.example ", "a@"+strings.Repeat("b.", 200),
				strings.Repeat("a", 63)+"@", awsSecret+"\n", strings.Repeat("Ab1/", 10)+"\n", "a\n", " \t", "z", "]a", "a")
		}
	}
	return units
}

// single returns a Redactor with only rule ru.
func single(ru rule) *Redactor {
	r := &Redactor{rules: []rule{ru}}
	r.index()
	return r
}

func fill(unit string, n int) string {
	return strings.Repeat(unit, n/len(unit)+1)[:n]
}

// timeWithin is the best of three runs of r over s; it gives up (false)
// when a run takes longer than limit, leaving that run to finish in the
// background.
func timeWithin(r *Redactor, s string, limit time.Duration) (time.Duration, bool) {
	best := time.Duration(1<<63 - 1)
	for range 3 {
		done := make(chan time.Duration, 1)
		go func() {
			t0 := time.Now()
			r.String(s)
			done <- time.Since(t0)
		}()
		select {
		case d := <-done:
			best = min(best, d)
		case <-time.After(limit):
			return 0, false
		}
	}
	return best, true
}

// Every built-in detector, and the configured patterns of issue 7, is
// linear: 16 times the input takes about 16 times as long (a quadratic
// detector takes 256 times). Each rule's most costly adversarial text is
// found on 16 KiB, then timed on 64 KiB and 1 MiB; a ratio of 64 or more
// fails, after two more tries to rule out a noisy machine. Skipped under
// -short and the race detector.
func TestLinearTime(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing test: not with -short or -race")
	}
	rules := builtins()
	rules = append(rules, emailRule([]string{"jane@corp.example"}))
	for i, expr := range []string{`(?:\]|^)a`, `a+b`, `(?i)x[a-z]*y`} {
		r, err := New(Options{Emails: EmailsKeep, Patterns: []Pattern{{Name: "configured-" + string(rune('a'+i)), Regex: expr}}})
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r.rules[len(r.rules)-1])
	}
	for _, ru := range rules {
		t.Run(ru.name, func(t *testing.T) {
			r := single(ru)
			worst, wt := "", time.Duration(-1)
			for _, u := range adversarialUnits(ru) {
				t0 := time.Now()
				r.String(fill(u, 16<<10))
				if d := time.Since(t0); d > wt {
					worst, wt = u, d
				}
			}
			var ratio float64
			for try := 0; try < 3; try++ {
				// Linear detectors take milliseconds on 64 KiB.
				small, ok := timeWithin(r, fill(worst, 64<<10), 2*time.Second)
				if !ok {
					t.Fatalf("rule %s is not linear on %.40q repeated: 64 KiB takes more than 2 s", ru.name, worst)
				}
				// A quadratic detector would take minutes on 1 MiB:
				// give up once it is clearly too slow.
				limit := 64*small + 2*time.Second
				big, ok := timeWithin(r, fill(worst, 1<<20), limit)
				if !ok {
					t.Fatalf("rule %s is not linear on %.40q repeated: 64 KiB takes %v, 1 MiB more than %v", ru.name, worst, small, limit)
				}
				ratio = float64(big) / float64(max(small, time.Microsecond))
				t.Logf("%.40q: 64 KiB %v, 1 MiB %v, ratio %.1f", worst, small, big, ratio)
				if ratio < 64 {
					return
				}
			}
			t.Errorf("rule %s is not linear on %.40q repeated: 1 MiB takes %.0f times as long as 64 KiB", ru.name, worst, ratio)
		})
	}
}
