package ledger

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ksbfolio/ksbfolio/evidence"
)

// The oracle of these tests is encode, the encoding/json path that
// encodeItem replaces (and falls back to).

// checkSame requires encodeItem(it) to give the bytes and error encode(it)
// gives, and returns those bytes.
func checkSame(t *testing.T, p *encoders, it *evidence.Item) []byte {
	t.Helper()
	e := p.get()
	defer p.put(e)
	want, wantErr := e.encode(it)
	want = bytes.Clone(want)
	got, err := e.encodeItem(it)
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("encodeItem error %v, encode's %v", err, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encodeItem gave\n%s\nencode\n%s", got, want)
	}
	return got
}

// checkFast requires the hand-written path itself (appendItem, not its
// fallback) to encode it as encode does: only an item encoding/json cannot
// encode may be left to it.
func checkFast(t *testing.T, p *encoders, it *evidence.Item) {
	t.Helper()
	e := p.get()
	defer p.put(e)
	want, wantErr := e.encode(it)
	want = bytes.Clone(want)
	got, ok := e.appendItem(nil, it)
	switch {
	case !ok && wantErr == nil:
		t.Fatalf("appendItem left to encoding/json an item it encodes:\n%s", want)
	case ok && wantErr != nil:
		t.Fatalf("appendItem encoded an item encoding/json fails on (%v):\n%s", wantErr, got)
	case ok && !bytes.Equal(append(got, '\n'), want):
		t.Fatalf("appendItem gave\n%s\nencode\n%s", got, want)
	}
}

// commitItem is a git commit item as collectors/gitlog makes it (its facts
// typed as itemFromCommit types them), tagged and redacted.
func commitItem() *evidence.Item {
	at := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	files := []any{}
	for _, f := range []struct {
		path     string
		ins, del int
	}{{"src/features/build.py", 42, 7}, {"tests/test_features.py", 18, 0}, {"requirements.txt", 1, 1}, {"notebooks/eda.ipynb", 120, 33}} {
		files = append(files, map[string]any{"path": f.path, "insertions": f.ins, "deletions": f.del})
	}
	files[3].(map[string]any)["binary"] = true
	return &evidence.Item{
		Schema:      evidence.SchemaVersion,
		ID:          evidence.NewID("git", "5b9214adf9062e717021aaefcbf53914b19fdb7c"),
		Apprentice:  "jdoe",
		Source:      "fraud-model",
		SourceType:  "git",
		Kind:        evidence.KindCommit,
		Title:       "Add feature validation & drift checks <v2>",
		Summary:     "Checks every feature's range before training.\n\nKSB: S10, K5\nCo-authored-by: Sam Lee <sam@corp.example>",
		OccurredAt:  at,
		CollectedAt: time.Date(2026, 12, 2, 2, 48, 2, 807573800, time.UTC),
		Origin:      evidence.Origin{URI: "file:///home/jane/src/fraud-model", NativeID: "5b9214adf9062e717021aaefcbf53914b19fdb7c"},
		Facts: map[string]any{
			"author_name":   "Jane Doe",
			"author_email":  "jane@corp.example",
			"committed_at":  at.Format(time.RFC3339),
			"repo":          "/home/jane/src/fraud-model",
			"parents":       []any{"2737b5bc2526606c49f1120e41859a18ac857743"},
			"co_authors":    []any{"Sam Lee <sam@corp.example>"},
			"files":         files,
			"files_changed": 4, "insertions": 181, "deletions": 41,
			"classes":      []any{"data_validation", "notebook", "tests"},
			"doc_words":    12,
			"web_url":      "https://github.com/corp/fraud-model/commit/5b9214adf9062e717021aaefcbf53914b19fdb7c",
			"pull_request": 17, "pull_request_url": "https://github.com/corp/fraud-model/pull/17",
		},
		Artefacts: []evidence.Artefact{},
		Tags: []evidence.Tag{
			{KSB: "S10", By: "declared:trailer", Confidence: 1, Reason: "declared in commit trailer", Catalogue: "st1398-v1.0", Revision: "b0ae8157f9a46a9b"},
			{KSB: "K5", By: "rule:class-experiment-tracking", Confidence: 0.5, Reason: "Changes experiment tracking code (MLflow, W&B calls)", Catalogue: "st1398-v1.0"},
		},
		Links:      []evidence.Link{{Rel: "trained_from", Item: "mlflow-0f4c10374e2435e37a52d42315be6547"}},
		Redactions: []evidence.Redaction{{Rule: "aws-access-key", Count: 1}},
	}
}

// rawJSON is a fact with its own MarshalJSON, whose output encoding/json
// checks and compacts.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

// failing is a fact whose MarshalJSON fails.
type failing struct{}

func (failing) MarshalJSON() ([]byte, error) { return nil, errors.New("no encoding") }

// record is a struct fact, which only encoding/json encodes.
type record struct {
	Name  string  `json:"name"`
	Score float64 `json:"score,omitempty"`
	Skip  string  `json:"-"`
	Inner *record `json:"inner,omitempty"`
}

// TestEncodeItem: encodeItem writes encode's bytes, and its own path does
// (no fallback) unless encoding/json fails, for hand-picked items.
func TestEncodeItem(t *testing.T) {
	zone := time.FixedZone("", -(3*3600 + 30*60))
	ptr := 7
	cases := map[string]func(it *evidence.Item){
		"commit":     func(*evidence.Item) {},
		"zero item":  func(it *evidence.Item) { *it = evidence.Item{} },
		"normalized": func(it *evidence.Item) { *it = evidence.Item{}; it.Normalize() },
		"nil facts and slices": func(it *evidence.Item) {
			it.Facts, it.Artefacts, it.Tags, it.Links, it.Redactions = nil, nil, nil, nil, nil
		},
		"artefacts": func(it *evidence.Item) {
			it.Artefacts = []evidence.Artefact{
				{Name: "deploy.log", SHA256: strings.Repeat("ab", 32), Size: 1 << 40, MediaType: "text/plain; charset=utf-8"},
				{Name: "", Size: -1},
			}
		},
		"awkward strings": func(it *evidence.Item) {
			it.Title = "q\" b\\ \b\f\n\r\t \x00\x01\x1f\x7f <script>&amp; \u2028\u2029 é 😀 \xff\xfe \xe2\x80 \xed\xa0\x80"
			it.Summary = strings.Repeat("line\u2028<&>\n", 1000)
			it.Facts["kéy\"<&>\u2029\x00"] = "v\\al\xc3"
			it.Tags[0].Reason = "\\\"\\"
		},
		"times": func(it *evidence.Item) {
			it.OccurredAt = time.Date(1, 1, 1, 0, 0, 0, 1, zone)
			it.CollectedAt = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", 23*3600+59*60))
		},
		"zero times": func(it *evidence.Item) { it.OccurredAt, it.CollectedAt = time.Time{}, time.Time{} },
		"year 10000": func(it *evidence.Item) { it.CollectedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"year -1":    func(it *evidence.Item) { it.OccurredAt = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) },
		"zone 24h": func(it *evidence.Item) {
			it.OccurredAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600))
		},
		"local time": func(it *evidence.Item) { it.OccurredAt = time.Unix(1700000000, 5).In(zone) },
		"numbers": func(it *evidence.Item) {
			it.Schema = -3
			for k, v := range map[string]any{
				"i": 0, "neg": -42, "max": math.MaxInt64, "min": int64(math.MinInt64),
				"f0": 0.0, "negzero": math.Copysign(0, -1), "f": 0.1, "third": 1.0 / 3,
				"small": 1e-7, "edge small": 1e-6, "just under": 9.99999e-7, "big": 1e21, "under big": 1e20 * 9.999,
				"tiny": 5e-324, "huge": math.MaxFloat64, "e-9": -1.5e-9, "e+100": 1e100,
				"whole": 840.0, "int-ish": 123456789012345678.0,
			} {
				it.Facts[k] = v
			}
			it.Tags[0].Confidence = 1e-7
			it.Tags[1].Confidence = math.Copysign(0, -1)
		},
		"nested facts": func(it *evidence.Item) {
			it.Facts["m"] = map[string]any{"b": []any{}, "a": map[string]any{}, "c": []any{map[string]any{"z": nil, "y": []string{"x", ""}}, []any{[]any{}}, nil}}
			it.Facts["nil map"] = map[string]any(nil)
			it.Facts["nil list"] = []any(nil)
			it.Facts["nil strings"] = []string(nil)
			it.Facts["no strings"] = []string{}
			it.Facts["bools"] = []any{true, false}
		},
		"fallback facts": func(it *evidence.Item) {
			it.Facts["number"] = json.Number("1.50")
			it.Facts["kind"] = evidence.KindMerge
			it.Facts["time"] = time.Date(2026, 5, 6, 7, 8, 9, 10, time.UTC)
			it.Facts["struct"] = record{Name: "<a>", Score: 0.25, Inner: &record{Name: "in"}}
			it.Facts["struct list"] = []record{{Name: "x"}}
			it.Facts["raw"] = rawJSON(` { "b" : [ 1 , "<\u2028>" ] , "a" : { } } `)
			it.Facts["int32"] = int32(-5)
			it.Facts["uint64"] = uint64(math.MaxUint64)
			it.Facts["float32"] = float32(0.1)
			it.Facts["bytes"] = []byte("<bin>")
			it.Facts["ints"] = map[string]int{"b": 2, "a": 1}
			it.Facts["strings"] = map[string]string{"k": "v"}
			it.Facts["nil pointer"] = (*int)(nil)
			it.Facts["pointer"] = &ptr
			it.Facts["empty struct list"] = []record{}
			it.Facts["deep"] = []any{map[string]any{"r": record{Name: "deep"}}}
		},
		"NaN fact":          func(it *evidence.Item) { it.Facts["x"] = []any{math.NaN()} },
		"Inf fact":          func(it *evidence.Item) { it.Facts["x"] = map[string]any{"y": math.Inf(-1)} },
		"NaN confidence":    func(it *evidence.Item) { it.Tags[1].Confidence = math.NaN() },
		"Inf confidence":    func(it *evidence.Item) { it.Tags[0].Confidence = math.Inf(1) },
		"bad json.Number":   func(it *evidence.Item) { it.Facts["n"] = json.Number("1e") },
		"bad MarshalJSON":   func(it *evidence.Item) { it.Facts["raw"] = rawJSON(`{"a":`) },
		"MarshalJSON fails": func(it *evidence.Item) { it.Facts["f"] = []any{failing{}} },
		"channel":           func(it *evidence.Item) { it.Facts["ch"] = make(chan int) },
		"func":              func(it *evidence.Item) { it.Facts["fn"] = map[string]any{"f": func() {}} },
		"no revision":       func(it *evidence.Item) { it.Tags[0].Revision = "" },
		"many keys": func(it *evidence.Item) {
			for i := range 300 {
				it.Facts[strings.Repeat("k", i%7)+string(rune('a'+i%26))+string(rune(0x100+i))] = i
			}
		},
	}
	var p encoders
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			it := commitItem()
			change(it)
			checkFast(t, &p, it)
			checkSame(t, &p, it)
		})
	}
}

// TestEncodeItemStored: every kind of item the demo's collectors store
// (testdata/items, written by encode) is encoded back to its stored bytes.
func TestEncodeItemStored(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "items", "*.json"))
	if err != nil || len(paths) < 12 {
		t.Fatalf("testdata/items: %d items, %v", len(paths), err)
	}
	var p encoders
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			stored, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var it evidence.Item
			if err := json.Unmarshal(stored, &it); err != nil {
				t.Fatal(err)
			}
			checkFast(t, &p, &it)
			if got := checkSame(t, &p, &it); !bytes.Equal(got, stored) {
				t.Fatalf("encoded\n%s\nstored\n%s", got, stored)
			}
		})
	}
}

// TestEncodeItemCoversEveryField: an item whose every field, however deep,
// is set is encoded as encode encodes it: a field added to evidence.Item
// (or its parts) and not to appendItem fails here.
func TestEncodeItemCoversEveryField(t *testing.T) {
	var it evidence.Item
	fill(t, reflect.ValueOf(&it).Elem(), "x")
	if it.Tags[0].Revision == "" || it.Origin.NativeID == "" || it.Redactions[0].Count == 0 {
		t.Fatalf("fill left fields unset: %+v", it)
	}
	var p encoders
	checkFast(t, &p, &it)
	checkSame(t, &p, &it)
}

// fill sets every field of v to a value that is not zero.
func fill(t *testing.T, v reflect.Value, s string) {
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Float64:
		v.SetFloat(0.5)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(t, v.Field(i), s+"-"+v.Type().Field(i).Name)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(t, v.Index(i), s)
		}
	case reflect.Map:
		v.Set(reflect.ValueOf(map[string]any{"k": s}))
	default:
		t.Fatalf("fill: a field of kind %s: teach fill (and check appendItem)", v.Kind())
	}
}

// TestEncodeItemDeepFacts: facts nested past maxFactDepth, and facts that
// hold themselves, are left to encoding/json: the same bytes, the same
// error, no stack exhausted.
func TestEncodeItemDeepFacts(t *testing.T) {
	var p encoders
	deep := any("bottom")
	for i := range 2 * maxFactDepth {
		if i%2 == 0 {
			deep = []any{deep}
		} else {
			deep = map[string]any{"d": deep}
		}
	}
	it := commitItem()
	it.Facts["deep"] = deep
	checkSame(t, &p, it)

	cycle := map[string]any{}
	cycle["self"] = cycle
	it.Facts["deep"] = cycle
	checkSame(t, &p, it)
	e := p.get()
	if _, err := e.encodeItem(it); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("a cyclic fact: error %v, want encoding/json's cycle", err)
	}
}

// TestEncodeItemReuse: an encoder reused across items of every size gives
// each its own bytes, its key stack left empty.
func TestEncodeItemReuse(t *testing.T) {
	var p encoders
	e := p.get()
	big := commitItem()
	big.Summary = strings.Repeat("<x>&é\u2028", 5000)
	for i := range 500 {
		big.Facts[string(rune('a'+i%26))+strings.Repeat("z", i)] = map[string]any{"n": i}
	}
	small := commitItem()
	bad := commitItem()
	bad.Facts["nan"] = math.NaN()
	for _, it := range []*evidence.Item{big, small, bad, big, small, small} {
		want, wantErr := json.MarshalIndent(it, "", "  ")
		got, err := e.encodeItem(it)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("error %v, json.MarshalIndent's %v", err, wantErr)
		}
		if err == nil && !bytes.Equal(got, append(want, '\n')) {
			t.Fatalf("encoded\n%.300s\nwant\n%.300s", got, want)
		}
		if len(e.keys) != 0 {
			t.Fatalf("%d keys left on the stack", len(e.keys))
		}
	}
}

// factGen builds an item from fuzz input: shape drives the choices, text
// gives the strings.
type factGen struct {
	shape []byte
	text  string
	n     int // values made, to bound the item's size
}

func (g *factGen) byte() byte {
	if len(g.shape) == 0 {
		return 0
	}
	c := g.shape[0]
	g.shape = g.shape[1:]
	return c
}

func (g *factGen) uint64() uint64 {
	var b [8]byte
	for i := range b {
		b[i] = g.byte()
	}
	return binary.LittleEndian.Uint64(b[:])
}

// str takes the next string from text: up to a length the shape chooses,
// mostly short, sometimes all that is left.
func (g *factGen) str() string {
	n := int(g.byte())
	if n >= 250 {
		n = len(g.text)
	} else {
		n %= 40
	}
	n = min(n, len(g.text))
	s := g.text[:n]
	g.text = g.text[n:]
	return s
}

func (g *factGen) time() time.Time {
	switch g.byte() % 5 {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(int64(g.uint64()%(400<<30))-(200<<30), int64(g.uint64()%2e9)).UTC()
	case 2: // any year, any zone offset, even past 24 hours
		off := int(int8(g.byte())) * 15 * 60
		return time.Unix(int64(g.uint64()), int64(g.byte())).In(time.FixedZone("", off))
	case 3:
		return time.Date(int(int16(g.uint64())), time.Month(g.byte()), int(g.byte()), 0, 0, 0, int(g.uint64()%1e9), time.UTC)
	default:
		return time.Date(2026, 3, 1, 12, 0, 0, int(g.byte())*1000, time.UTC)
	}
}

func (g *factGen) float() float64 {
	switch g.byte() % 4 {
	case 0:
		return math.Float64frombits(g.uint64()) // NaN and Inf among them
	case 1:
		return float64(int8(g.byte())) / 8
	case 2:
		return math.Pow(10, float64(int8(g.byte())%40)) * float64(g.byte())
	default:
		return float64(g.uint64()%1e6) / 1e6
	}
}

func (g *factGen) fact(depth int) any {
	g.n++
	c := g.byte()
	if depth > 4 || g.n > 200 {
		c %= 6 // no more nesting
	}
	switch c % 20 {
	case 0:
		return nil
	case 1:
		return g.str()
	case 2:
		return g.byte()%2 == 0
	case 3:
		return int(int64(g.uint64()))
	case 4:
		return int64(g.uint64())
	case 5:
		return g.float()
	case 6:
		if g.byte()%4 == 0 {
			return []string(nil)
		}
		s := make([]string, g.byte()%5)
		for i := range s {
			s[i] = g.str()
		}
		return s
	case 7:
		if g.byte()%4 == 0 {
			return []any(nil)
		}
		s := make([]any, g.byte()%5)
		for i := range s {
			s[i] = g.fact(depth + 1)
		}
		return s
	case 8, 9:
		return g.facts(depth + 1)
	case 10:
		return json.Number(g.str())
	case 11:
		return rawJSON(g.str())
	case 12:
		return record{Name: g.str(), Score: g.float(), Skip: g.str()}
	case 13:
		return g.time()
	case 14:
		return float32(g.float())
	case 15:
		return map[string]string{g.str(): g.str()}
	case 16:
		return []byte(g.str())
	case 17:
		return evidence.Kind(g.str())
	case 18:
		return uint(g.uint64())
	default:
		return []int{int(g.byte()), -1}
	}
}

func (g *factGen) facts(depth int) map[string]any {
	switch g.byte() % 8 {
	case 0:
		return nil
	case 1:
		return map[string]any{}
	}
	m := map[string]any{}
	for range g.byte() % 6 {
		m[g.str()] = g.fact(depth)
	}
	return m
}

// slice returns nil, an empty slice or a few elements that elem makes.
func genSlice[T any](g *factGen, elem func() T) []T {
	switch c := g.byte() % 6; c {
	case 0:
		return nil
	case 1:
		return []T{}
	default:
		s := make([]T, c-1)
		for i := range s {
			s[i] = elem()
		}
		return s
	}
}

func (g *factGen) item() *evidence.Item {
	it := &evidence.Item{
		Schema: int(int32(g.uint64())), ID: g.str(), Apprentice: g.str(), Source: g.str(), SourceType: g.str(),
		Kind: evidence.Kind(g.str()), Title: g.str(), Summary: g.str(),
		OccurredAt: g.time(), CollectedAt: g.time(),
		Origin: evidence.Origin{URI: g.str(), NativeID: g.str()},
		Facts:  g.facts(0),
	}
	it.Artefacts = genSlice(g, func() evidence.Artefact {
		return evidence.Artefact{Name: g.str(), SHA256: g.str(), Size: int64(g.uint64()), MediaType: g.str()}
	})
	it.Tags = genSlice(g, func() evidence.Tag {
		return evidence.Tag{KSB: g.str(), By: g.str(), Confidence: g.float(), Reason: g.str(), Catalogue: g.str(), Revision: g.str()}
	})
	it.Links = genSlice(g, func() evidence.Link { return evidence.Link{Rel: g.str(), Item: g.str()} })
	it.Redactions = genSlice(g, func() evidence.Redaction {
		return evidence.Redaction{Rule: g.str(), Count: int(int64(g.uint64()))}
	})
	return it
}

// FuzzEncodeItem: for any item, encodeItem gives encode's bytes and error,
// and its own path declines only items encoding/json fails on.
func FuzzEncodeItem(f *testing.F) {
	awkward := "q\"b\\c\b\f\n\r\t\x00\x1f\x7f<a>&\u2028\u2029é😀\xff\xe2\x80\xed\xa0\x80\xf4\x90\x80\x80 "
	f.Add([]byte{}, "")
	f.Add(bytes.Repeat([]byte{3, 1, 7, 200, 9, 2, 5, 0}, 40), awkward+awkward)
	f.Add(bytes.Repeat([]byte{250, 8, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, 30), strings.Repeat(awkward, 20))
	f.Add([]byte("\x02\x05\x07\x09\x11\x13\x15\x17\x19\x1b\x1d\x1f!#%')+-/13579;=?"), `{"a":[1,2]} 1e5 -0 "s" null`)
	f.Add(bytes.Repeat([]byte{0xff, 0x80, 0x7f, 0x01}, 50), "<<&&>>")
	f.Fuzz(func(t *testing.T, shape []byte, text string) {
		g := &factGen{shape: shape, text: text}
		it := g.item()
		var p encoders
		checkFast(t, &p, it)
		checkSame(t, &p, it)
	})
}

// BenchmarkEncodeItem: a git commit item, by encoding/json (old) and by
// hand (new).
func BenchmarkEncodeItem(b *testing.B) {
	it := commitItem()
	for _, bc := range []struct {
		name string
		enc  func(*encoder) ([]byte, error)
	}{
		{"old", func(e *encoder) ([]byte, error) { return e.encode(it) }},
		{"new", func(e *encoder) ([]byte, error) { return e.encodeItem(it) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var p encoders
			e := p.get()
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				out, err := bc.enc(e)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.SetBytes(int64(n))
		})
	}
}

// TestAppendString: every byte, every pair of bytes and every rune is
// quoted as json.Marshal quotes it.
func TestAppendString(t *testing.T) {
	check := func(s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, json.Marshal's %s", s, got, want)
		}
	}
	for i := range 1 << 16 {
		check(string([]byte{byte(i), byte(i >> 8)}))
	}
	for r := range rune(utf8.MaxRune + 2) {
		check("a" + string(r))
	}
}
