package gitlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// header is what the walk needs of a commit, parsed from its raw headers
// without decoding the message: most commits walked are not the
// apprentice's, and only theirs are decoded in full.
type header struct {
	tree        plumbing.Hash
	parents     []plumbing.Hash
	authorName  string
	authorEmail string
	committed   int64 // committer time, Unix seconds
}

// readHeader reads commit h's headers: at most maxCommitBytes of the
// object. A missing object gives errMissing.
func readHeader(objs objectSource, h plumbing.Hash, buf *bytes.Buffer) (header, plumbing.EncodedObject, error) {
	o, err := objs.EncodedObject(plumbing.CommitObject, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return header{}, nil, errMissing
	}
	if err != nil {
		return header{}, nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	r, err := o.Reader()
	if err != nil {
		return header{}, nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	buf.Reset()
	_, err = buf.ReadFrom(io.LimitReader(r, maxCommitBytes))
	r.Close()
	if err != nil {
		return header{}, nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	hd, err := parseHeader(buf.Bytes())
	if err != nil {
		return header{}, nil, fmt.Errorf("decode commit %s: %w", h, err)
	}
	return hd, o, nil
}

// parseHeader parses the header lines of a raw commit the way go-git's
// commit decoder does (so that a walked commit and its decoded item always
// agree): "tree" must come first, then the "parent" lines, then "author"
// and "committer" at those places; a header out of its place is ignored,
// and so are the other headers (gpgsig, encoding, mergetag...).
func parseHeader(raw []byte) (header, error) {
	hd := header{committed: time.Time{}.Unix()} // go-git's zero When
	next := func() []byte {
		if len(raw) == 0 {
			return nil
		}
		nl := bytes.IndexByte(raw, '\n')
		if nl < 0 {
			line := raw
			raw = nil
			return line
		}
		line := raw[:nl]
		raw = raw[nl+1:]
		return line
	}
	key, val, _ := bytes.Cut(next(), []byte{' '})
	if string(key) != "tree" {
		return hd, errors.New("tree header must be first")
	}
	h, ok := parseHash(val)
	if !ok {
		return hd, errors.New("bad tree hash")
	}
	hd.tree = h
	line := next()
	for {
		key, val, _ = bytes.Cut(line, []byte{' '})
		if string(key) != "parent" {
			break
		}
		h, ok := parseHash(val)
		if !ok {
			return hd, errors.New("bad parent hash")
		}
		hd.parents = append(hd.parents, h)
		line = next()
	}
	if len(line) == 0 { // the message, or the end
		return hd, nil
	}
	if string(key) == "author" {
		hd.authorName, hd.authorEmail, _ = parseIdent(val)
		line = next()
		key, val, _ = bytes.Cut(line, []byte{' '})
	}
	if len(line) > 0 && string(key) == "committer" {
		_, _, hd.committed = parseIdent(val)
	}
	return hd, nil
}

func parseHash(b []byte) (plumbing.Hash, bool) {
	if !plumbing.IsHash(string(b)) {
		return plumbing.ZeroHash, false
	}
	return plumbing.NewHash(string(b)), true
}

// parseIdent splits "Name <email> 1700000000 +0100" as go-git's
// Signature.Decode does: the name before the last '<' trimmed of spaces,
// the email up to the last '>', then the time (0 when unreadable).
func parseIdent(b []byte) (name, email string, when int64) {
	open := bytes.LastIndexByte(b, '<')
	closeAt := bytes.LastIndexByte(b, '>')
	if open < 0 || closeAt < open {
		return "", "", time.Time{}.Unix()
	}
	name = string(bytes.Trim(b[:open], " "))
	email = string(b[open+1 : closeAt])
	when = time.Time{}.Unix() // go-git's zero When
	if closeAt+2 < len(b) {
		t := b[closeAt+2:]
		if sp := bytes.IndexByte(t, ' '); sp >= 0 {
			t = t[:sp]
		}
		if ts, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			when = ts
		}
	}
	return name, email, when
}
