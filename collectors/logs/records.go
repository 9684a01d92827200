package logs

import (
	"strings"
	"time"
	"unsafe"

	"github.com/ksbfolio/ksbfolio/internal/textcap"
)

// Caps on what one record keeps, so that memory stays bounded whatever
// the file holds.
const (
	maxRecordLines   = 200  // lines of one multi-line record
	maxExcerptLine   = 2048 // bytes of one line kept for an excerpt
	tracebackHeader  = "Traceback (most recent call last):"
	maxTracebackRecs = 400 // records folded into one traceback
)

// record is one log event: a line, or a multi-line message (a TorchServe
// banner, a Python traceback, joined Docker or CRI partial lines).
type record struct {
	entry
	Lines     []string // raw lines, each cut to maxExcerptLine; the first is the header
	More      int      // lines dropped past maxRecordLines
	Start     int64    // offset of the first line
	End       int64    // offset after the last line
	Num       int      // line number of the first line
	Traceback bool     // holds a Python traceback
	Exception string   // a traceback's last line ("ValueError: …")
}

func (r *record) addLine(s string) {
	if len(r.Lines) >= maxRecordLines {
		r.More++
		return
	}
	r.Lines = append(r.Lines, textcap.CutBeforeWord(s, maxExcerptLine))
}

// assembler turns lines into records: it joins continuation lines (text
// without a leading timestamp, in a file that has timestamps), Docker and
// CRI partial lines, and Python tracebacks written one line per record
// (as Airflow and Docker do) into one record.
type assembler struct {
	format  string
	year    int
	stamped bool // the file's lines carry timestamps: unstamped lines continue
	cur     *record
	free    *record // a record handed over and done with, for reuse
	tb      *record // a traceback being folded
	tbRecs  int
	// emit gets each record; it must not keep r, which is reused.
	emit func(*record) error
	// skim, if set, is offered each record before emit; when it says it
	// handled the record (keeping none of its strings), emit does not
	// get it.
	skim func(*record) (bool, error)
	// arena holds the text of cur's lines, spare the line being added:
	// until a record is handed over, its strings are views of its arena,
	// and lines are not copied into strings one by one. A record is made
	// of strings of its own (materialize) before emit gets it.
	arena, spare []byte
}

// keep appends text to cur's arena and returns it from there.
func (a *assembler) keep(text string) string {
	n := len(a.arena)
	a.arena = append(a.arena, text...)
	return view(a.arena[n:])
}

// materialize makes every string of r that is a view of the arena a
// string of its own (one copy of the arena for them all). Views of an
// earlier arena, left when the arena grew, are never written again.
func (a *assembler) materialize(r *record) {
	if len(a.arena) == 0 {
		return
	}
	own := string(a.arena)
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(a.arena)))
	hi := lo + uintptr(len(a.arena))
	rebase := func(s *string) {
		if len(*s) == 0 {
			return
		}
		if p := uintptr(unsafe.Pointer(unsafe.StringData(*s))); p >= lo && p < hi {
			off := int(p - lo)
			*s = own[off : off+len(*s)]
		}
	}
	for _, s := range []*string{&r.Level, &r.Logger, &r.Message, &r.Stream, &r.Request, &r.Client, &r.Exception} {
		rebase(s)
	}
	for i := range r.Lines {
		rebase(&r.Lines[i])
	}
}

// add feeds one line. text need only be valid during the call: what is
// kept of it is copied.
func (a *assembler) add(l line, text string) error {
	a.spare = append(a.spare[:0], text...)
	own := view(a.spare) // the new record's, if the line starts one
	switch a.format {
	case formatText, formatAccess:
		e, header := parseText(own, a.year)
		if !header && !l.Fresh && a.stamped && a.cur != nil && len(a.cur.Lines) < maxRecordLines {
			text := a.keep(text)
			a.cur.addLine(text)
			a.cur.End = l.End
			if strings.TrimSpace(text) == tracebackHeader {
				a.cur.Traceback = true
			}
			if a.cur.Traceback {
				a.cur.Exception = exceptionLine(text, a.cur.Exception)
			}
			return nil
		}
		if header && e.Message != "" && e.Message[0] >= '0' && e.Message[0] <= '9' {
			e = inner(e, a.year) // Airflow quoting a Python log line
		}
		return a.start(e, l, own)
	default:
		var e entry
		var ok bool
		switch a.format {
		case formatDocker:
			e, ok = parseDocker(own, a.year)
		case formatCRI:
			e, ok = parseCRI(own, a.year)
		default:
			e, ok = parseJSON(own, a.year)
		}
		if !ok {
			e = entry{Message: own}
		}
		if a.cur != nil && a.cur.Partial {
			// The previous line was partial: this one continues it.
			a.cur.Message += e.Message // a string of its own
			a.cur.Partial = e.Partial
			a.cur.addLine(a.keep(text))
			a.cur.End = l.End
			if !a.cur.Partial {
				a.cur.entry = mergeInner(a.cur.entry, a.year)
			}
			return nil
		}
		if !e.Partial {
			e = mergeInner(e, a.year)
		}
		return a.start(e, l, own)
	}
}

func mergeInner(e entry, year int) entry {
	msg := textcap.CutBeforeWord(e.Message, 64<<10)
	e.Message = msg
	return inner(e, year)
}

// start ends the current record and begins one; e and text are views of
// the spare arena, which becomes the record's.
func (a *assembler) start(e entry, l line, text string) error {
	if err := a.done(); err != nil {
		return err
	}
	// The record done is handed over: its arena is free. Zeroing it makes
	// a view kept by mistake show as NULs rather than as later lines.
	clear(a.arena)
	a.arena, a.spare = a.spare, a.arena[:0]
	r := a.free
	a.free = nil
	if r == nil {
		r = &record{}
	}
	if e.Time.IsZero() {
		e.Time = l.Time
	}
	*r = record{entry: e, Start: l.Start, End: l.End, Num: l.Num, Lines: r.Lines[:0]}
	a.cur = r
	a.cur.addLine(text)
	if strings.TrimSpace(e.Message) == tracebackHeader {
		a.cur.Traceback = true
	}
	return nil
}

// done hands over the current record, folding tracebacks written one line
// per record.
func (a *assembler) done() error {
	r := a.cur
	a.cur = nil
	if r == nil {
		return nil
	}
	header := strings.TrimSpace(r.Message) == tracebackHeader // a traceback starts
	if a.skim != nil && a.tb == nil && !header {
		if ok, err := a.skim(r); err != nil || ok {
			clear(r.Lines)
			a.free = r
			return err
		}
	}
	a.materialize(r)
	if a.tb != nil {
		msg := r.Message
		switch {
		case a.tbRecs < maxTracebackRecs && (strings.HasPrefix(msg, " ") || strings.HasPrefix(msg, "\t") ||
			strings.HasPrefix(msg, "During handling of the above exception") ||
			strings.HasPrefix(msg, "The above exception was the direct cause") || header):
			a.fold(r)
			return nil
		case isExceptionLine(msg):
			a.fold(r)
			a.tb.Exception = strings.TrimSpace(msg)
			tb := a.tb
			a.tb = nil
			return a.emit(tb)
		default:
			tb := a.tb
			a.tb = nil
			if err := a.emit(tb); err != nil {
				return err
			}
		}
	}
	if header {
		a.tb, a.tbRecs = r, 1
		return nil
	}
	if err := a.emit(r); err != nil {
		return err
	}
	// emit keeps no pointer to r (the extractor copies the strings it
	// keeps), so r is reused for the next record.
	clear(r.Lines)
	a.free = r
	return nil
}

func (a *assembler) fold(r *record) {
	a.tbRecs++
	for _, s := range r.Lines {
		a.tb.addLine(s)
	}
	a.tb.End = r.End
	if r.Level == "ERROR" || r.Level == "CRITICAL" {
		a.tb.Level = r.Level
	}
}

// flush hands over what is left at the end of the file.
func (a *assembler) flush() error {
	if err := a.done(); err != nil {
		return err
	}
	if a.tb != nil {
		tb := a.tb
		a.tb = nil
		return a.emit(tb)
	}
	return nil
}

// isExceptionLine reports whether s looks like the last line of a Python
// traceback: "ValueError: bad", "mlflow.exceptions.MlflowException: …",
// "KeyboardInterrupt".
func isExceptionLine(s string) bool {
	s = strings.TrimSpace(s)
	name, _, _ := strings.Cut(s, ":")
	if name == "" || len(name) > 120 || strings.ContainsAny(name, " \t()[]'\"") {
		return false
	}
	c := name[0]
	if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_') {
		return false
	}
	last := name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		last = name[i+1:]
	}
	return strings.HasSuffix(last, "Error") || strings.HasSuffix(last, "Exception") || strings.HasSuffix(last, "Exit") ||
		strings.HasSuffix(last, "Interrupt") || strings.HasSuffix(last, "Warning") || strings.HasSuffix(last, "Failure")
}

// exceptionLine returns s when it is an exception line, else prev.
func exceptionLine(s, prev string) string {
	if !strings.HasPrefix(s, " ") && isExceptionLine(s) {
		return strings.TrimSpace(s)
	}
	return prev
}

// isIncident reports whether r is an error signal: an error level, a
// traceback or a 5xx response.
func (r *record) isIncident() bool {
	return r.Level == "ERROR" || r.Level == "CRITICAL" || r.Traceback || r.Status >= 500
}

// timeOr returns r's time, or t when it has none.
func (r *record) timeOr(t time.Time) time.Time {
	if r.Time.IsZero() {
		return t
	}
	return r.Time
}
