package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode/utf16"
)

// SigStatus says what a decision's signature is worth (docs/ledger.md,
// "Signed decisions").
type SigStatus string

// Signature statuses.
const (
	// SigVerified: signed with the key of a configured reviewer of the
	// decision's name and role, over the item's current content.
	SigVerified SigStatus = "verified"
	// SigUnsigned: no signature.
	SigUnsigned SigStatus = "unsigned"
	// SigUnknownKey: signed, but no reviewer of that name and role is
	// configured (or none with the key that signed it).
	SigUnknownKey SigStatus = "unknown_key"
	// SigInvalid: the signature does not verify with the configured key:
	// the stored decision was changed after it was signed, or it was
	// signed with another key.
	SigInvalid SigStatus = "invalid"
	// SigStale: the signature verifies, but the item's content changed
	// since (it was re-collected with different content, or is no longer
	// stored).
	SigStale SigStatus = "stale"
)

// Check is the result of checking one decision's signature.
type Check struct {
	Status SigStatus `json:"signature_status"`
	// Detail says why, for a person; empty when verified or unsigned.
	Detail string `json:"signature_detail,omitempty"`
}

// Reviewer is a configured reviewer: a name, a role and the public key
// their decisions are signed with.
type Reviewer struct {
	Name string
	Role string
	Key  ed25519.PublicKey
}

// Verifier checks decisions' signatures against the configured reviewers.
// A nil *Verifier knows no reviewer.
type Verifier struct {
	reviewers []Reviewer
}

// NewVerifier returns a verifier that trusts exactly these reviewers.
func NewVerifier(rs []Reviewer) *Verifier {
	return &Verifier{reviewers: append([]Reviewer(nil), rs...)}
}

// Reviewers returns the configured reviewers.
func (v *Verifier) Reviewers() []Reviewer {
	if v == nil {
		return nil
	}
	return append([]Reviewer(nil), v.reviewers...)
}

// Check checks the signature of d, a decision on item whose current
// ContentHash is itemHash ("" when the item is not stored).
func (v *Verifier) Check(item, itemHash string, d Decision) Check {
	if d.Signature == "" {
		return Check{Status: SigUnsigned}
	}
	sig, err := base64.StdEncoding.DecodeString(d.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Check{Status: SigInvalid, Detail: "the signature is not a base64 ed25519 signature"}
	}
	var candidates []Reviewer
	if v != nil {
		for _, r := range v.reviewers {
			if r.Name == d.By && r.Role == d.Role {
				candidates = append(candidates, r)
			}
		}
	}
	if len(candidates) == 0 {
		return Check{Status: SigUnknownKey, Detail: fmt.Sprintf("no %s named %q is configured under reviewers", d.Role, d.By)}
	}
	payload := SignedPayload(item, d)
	for _, r := range candidates {
		if !ed25519.Verify(r.Key, payload, sig) {
			continue
		}
		switch {
		case itemHash == "":
			return Check{Status: SigStale, Detail: "the item is no longer stored"}
		case d.ItemHash != itemHash:
			return Check{Status: SigStale, Detail: "the item's content changed since it was signed"}
		}
		return Check{Status: SigVerified}
	}
	if d.Key != "" && d.Key != KeyFingerprint(candidates[0].Key) && len(candidates) == 1 {
		return Check{Status: SigUnknownKey, Detail: fmt.Sprintf("signed with key %s, not the configured key of %s (%s)", d.Key, d.By, KeyFingerprint(candidates[0].Key))}
	}
	return Check{Status: SigInvalid, Detail: fmt.Sprintf("the signature does not verify with the configured key of %s: the decision was changed after it was signed", d.By)}
}

// Sign sets d's ItemHash to itemHash and signs d, a decision on item, with
// key, filling Key and Signature.
func Sign(item, itemHash string, d Decision, key ed25519.PrivateKey) Decision {
	d.ItemHash = itemHash
	d.Key = KeyFingerprint(key.Public().(ed25519.PublicKey))
	d.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, SignedPayload(item, d)))
	return d
}

// KeyFingerprint names a public key: "sha256:" and the hex SHA-256 of its
// 32 raw bytes.
func KeyFingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// SignedPayloadType is the "type" member of every signed payload.
const SignedPayloadType = "ksbfolio-review-decision/v1"

// SignedPayload is what a decision's signature signs: a JSON object,
// serialised by RFC 8785 (JSON Canonicalization Scheme), with exactly
// these members (docs/ledger.md, "Signed decisions"):
//
//	accept        array of strings, as stored ([] when none)
//	at            string, the time in UTC, RFC 3339 with nanoseconds as needed
//	              (Go's time.RFC3339Nano: 2026-03-02T10:04:05.123Z)
//	by            string
//	confidential  true, false or null (not set)
//	exclude       true, false or null (not set)
//	id            string, the decision ID
//	item          string, the item ID
//	item_hash     string, the item's ContentHash when decided
//	note          string
//	reject        array of strings, as stored ([] when none)
//	role          string
//	type          string, SignedPayloadType
//
// The members come in that (byte) order, with no white space; strings are
// escaped only where RFC 8785 requires (", \, and control characters).
func SignedPayload(item string, d Decision) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	member := func(name string) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		jcsString(&b, name)
		b.WriteByte(':')
	}
	list := func(xs []string) {
		b.WriteByte('[')
		for i, x := range xs {
			if i > 0 {
				b.WriteByte(',')
			}
			jcsString(&b, x)
		}
		b.WriteByte(']')
	}
	flag := func(p *bool) {
		switch {
		case p == nil:
			b.WriteString("null")
		case *p:
			b.WriteString("true")
		default:
			b.WriteString("false")
		}
	}
	member("accept")
	list(d.Accept)
	member("at")
	jcsString(&b, d.At.UTC().Format(time.RFC3339Nano))
	member("by")
	jcsString(&b, d.By)
	member("confidential")
	flag(d.Confidential)
	member("exclude")
	flag(d.Exclude)
	member("id")
	jcsString(&b, d.ID)
	member("item")
	jcsString(&b, item)
	member("item_hash")
	jcsString(&b, d.ItemHash)
	member("note")
	jcsString(&b, d.Note)
	member("reject")
	list(d.Reject)
	member("role")
	jcsString(&b, d.Role)
	member("type")
	jcsString(&b, SignedPayloadType)
	b.WriteByte('}')
	return b.Bytes()
}

// jcsString writes s as RFC 8785 serialises a string: " and \ escaped,
// \b \f \n \r \t for those controls, \u00xx (lower-case hex) for the other
// controls below U+0020, everything else as is (UTF-8). Invalid UTF-8 is
// written as U+FFFD, as a JSON decoder would have read it.
func jcsString(b *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[r>>4])
			b.WriteByte(hexDigits[r&0xf])
		default:
			b.WriteRune(r) // utf8.RuneError for invalid bytes
		}
	}
	b.WriteByte('"')
}

// ContentHash is the hash of what an item says, the part a reviewer
// vouches for: "sha256:" and the hex SHA-256 of CanonicalContent.
func ContentHash(it Item) string {
	sum := sha256.Sum256(CanonicalContent(it))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CanonicalContent is the item's content as RFC 8785 (JCS) serialises it:
// the JSON object of its members artefacts, facts, id, kind, links,
// occurred_at, origin, redactions, summary and title, with the values they
// have in the stored item (null arrays and objects read as [] and {}).
// Tags, the source name and the collection time are left out, so
// re-tagging or re-collecting the same content keeps the hash.
func CanonicalContent(it Item) []byte {
	it.Normalize()
	content := map[string]any{
		"id": it.ID, "kind": it.Kind, "title": it.Title, "summary": it.Summary,
		"occurred_at": it.OccurredAt, "origin": it.Origin, "facts": it.Facts,
		"artefacts": it.Artefacts, "links": it.Links, "redactions": it.Redactions,
	}
	raw, err := json.Marshal(content)
	var v any
	if err == nil {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		err = d.Decode(&v)
	}
	if err != nil {
		// Facts that do not marshal cannot have been stored; hash their
		// printed form so that the result is still stable.
		return []byte(fmt.Sprintf("%v", content))
	}
	var b bytes.Buffer
	jcsValue(&b, v)
	return b.Bytes()
}

// jcsValue writes a value decoded from JSON (with UseNumber) as RFC 8785
// serialises it: object members sorted by the UTF-16 code units of their
// names, numbers in the ECMAScript form (which encoding/json writes for a
// float64), no white space.
func jcsValue(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		jcsString(b, x)
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		out, merr := json.Marshal(f)
		if err != nil || merr != nil {
			b.WriteString(string(x))
			return
		}
		b.Write(out)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			jcsValue(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return utf16Less(keys[i], keys[j]) })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			jcsString(b, k)
			b.WriteByte(':')
			jcsValue(b, x[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "%v", x)
	}
}

// utf16Less orders strings by their UTF-16 code units, as RFC 8785 sorts
// member names.
func utf16Less(a, b string) bool {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return ua[i] < ub[i]
		}
	}
	return len(ua) < len(ub)
}
