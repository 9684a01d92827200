package tensorboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// maxPoints bounds the points kept of one series: past it every other
// point is dropped and only every second one after is kept (the summary
// numbers still see every point).
const maxPoints = 10_000

// Point is one scalar value.
type Point struct {
	Step     int64
	WallTime float64 // seconds since the epoch
	Value    float64
}

// Series is one scalar tag of a run: its points in wall-time order
// (thinned past maxPoints), and numbers over every point: First and Last
// are the earliest and latest written.
type Series struct {
	Points              []Point
	Count               int
	Min, Max            float64
	First, Last         Point
	stride, sinceLastIn int
}

func (s *Series) add(p Point) {
	if s.Count == 0 {
		s.Min, s.Max, s.First, s.stride = p.Value, p.Value, p, 1
	}
	s.Count++
	if p.WallTime >= s.Last.WallTime {
		s.Last = p
	}
	if p.WallTime < s.First.WallTime {
		s.First = p
	}
	if !math.IsNaN(p.Value) {
		s.Min, s.Max = math.Min(s.Min, p.Value), math.Max(s.Max, p.Value)
	}
	s.sinceLastIn++
	if s.sinceLastIn < s.stride && s.Count > 1 {
		return
	}
	s.sinceLastIn = 0
	s.Points = append(s.Points, p)
	if len(s.Points) >= 2*maxPoints {
		kept := s.Points[:0]
		for i := 0; i < len(s.Points); i += 2 {
			kept = append(kept, s.Points[i])
		}
		s.Points = kept
		s.stride *= 2
	}
}

// FileState is what the cursor keeps of one event file.
type FileState struct {
	Size    int64 `json:"size"`
	ModTime int64 `json:"mtime"`  // Unix nanoseconds
	Offset  int64 `json:"offset"` // end of the last complete record read
}

// FileProblem is a piece of one event file that was not read.
type FileProblem struct {
	File   string // the event file's name
	Offset int64
	Reason string
}

// Run is one TensorBoard run: a folder holding event files, read whole.
type Run struct {
	// Name is the folder relative to the source root, with / separators;
	// "." is the root itself.
	Name  string
	Dir   string
	Files map[string]FileState // event file name → state after reading
	// Series are the scalar tags, by tag.
	Series map[string]*Series
	// HParams is what the hparams plugin wrote, nil when it wrote nothing.
	HParams     *HParams
	FileVersion string
	Events      int
	FirstWall   float64
	LastWall    float64
	// Corrupt are the records skipped (bad checksums, undecodable events);
	// Partial are files whose last record is incomplete.
	Corrupt []FileProblem
	Partial []FileProblem
}

// isEventFile reports whether a file name is a TensorBoard event file
// ("events.out.tfevents.<time>.<host>…", and writers' variants).
func isEventFile(name string) bool { return strings.Contains(name, "tfevents") }

// runDir is a run found by discoverRuns.
type runDir struct {
	name, dir string
	files     map[string]FileState // name → size and mtime (offset 0)
}

// discoverRuns walks root for run folders: every folder holding at least
// one regular event file, nested or not. Symlinks are not followed.
// Folders that cannot be read are reported through skip.
func discoverRuns(ctx context.Context, root string, skip func(what, why string)) ([]runDir, error) {
	var runs []runDir
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			if path == root {
				return err
			}
			skip(path, err.Error())
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		entries, err := os.ReadDir(path)
		if err != nil {
			skip(path, err.Error())
			return fs.SkipDir
		}
		rd := runDir{dir: path, files: map[string]FileState{}}
		for _, e := range entries {
			if !e.Type().IsRegular() || !isEventFile(e.Name()) {
				continue
			}
			info, err := e.Info()
			if err != nil {
				skip(filepath.Join(path, e.Name()), err.Error())
				continue
			}
			rd.files[e.Name()] = FileState{Size: info.Size(), ModTime: info.ModTime().UnixNano()}
		}
		if len(rd.files) > 0 {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			rd.name = filepath.ToSlash(rel)
			runs = append(runs, rd)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].name < runs[j].name })
	return runs, nil
}

// readRun reads every event file of a run, in name order (writers put the
// creation time in the name). A file that cannot be opened is an error;
// corrupt and incomplete records are recorded in the run.
func readRun(ctx context.Context, rd runDir) (*Run, error) {
	run := &Run{Name: rd.name, Dir: rd.dir, Files: map[string]FileState{}, Series: map[string]*Series{}}
	names := make([]string, 0, len(rd.files))
	for n := range rd.files {
		names = append(names, n)
	}
	sort.Strings(names)
	plugins := map[string]string{} // tag → plugin, from the first value with metadata
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st, err := readFile(ctx, filepath.Join(rd.dir, name), name, run, plugins)
		if err != nil {
			return nil, err
		}
		st.Size, st.ModTime = rd.files[name].Size, rd.files[name].ModTime
		run.Files[name] = st
	}
	for _, s := range run.Series {
		// Files of one run can interleave in time (a resumed fit).
		sort.SliceStable(s.Points, func(i, j int) bool { return s.Points[i].WallTime < s.Points[j].WallTime })
	}
	return run, nil
}

func readFile(ctx context.Context, path, name string, run *Run, plugins map[string]string) (FileState, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileState{}, fmt.Errorf("%s: %w", name, pathless(err))
	}
	defer f.Close()
	r := NewReader(f, 0)
	var dec eventDecoder
	var ev Event
	defer func() {
		for _, c := range r.Corrupt {
			run.Corrupt = append(run.Corrupt, FileProblem{File: name, Offset: c.Offset, Reason: c.Reason})
		}
	}()
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return FileState{}, err
			}
		}
		rec, err := r.Next()
		switch {
		case errors.Is(err, io.EOF):
			return FileState{Offset: r.Offset()}, nil
		case errors.Is(err, ErrPartial):
			run.Partial = append(run.Partial, FileProblem{File: name, Offset: r.Offset(), Reason: ErrPartial.Error()})
			return FileState{Offset: r.Offset()}, nil
		case err != nil:
			return FileState{}, fmt.Errorf("%s: %w", name, pathless(err))
		}
		if err := dec.decode(rec, &ev); err != nil {
			run.Corrupt = append(run.Corrupt, FileProblem{File: name, Offset: r.Offset() - int64(len(rec)) - headerLen - footerLen,
				Reason: "undecodable event: " + err.Error()})
			continue
		}
		run.addEvent(&ev, plugins)
	}
}

func (run *Run) addEvent(ev *Event, plugins map[string]string) {
	run.Events++
	if ev.FileVersion != "" && run.FileVersion == "" {
		run.FileVersion = ev.FileVersion
	}
	if ev.WallTime > 0 {
		if run.FirstWall == 0 || ev.WallTime < run.FirstWall {
			run.FirstWall = ev.WallTime
		}
		run.LastWall = math.Max(run.LastWall, ev.WallTime)
	}
	for i := range ev.Values {
		v := &ev.Values[i]
		if v.HasScalar && !v.Tensor && v.Plugin == "" {
			run.scalar(v.Tag, Point{Step: ev.Step, WallTime: ev.WallTime, Value: v.Scalar}) // PyTorch's simple_value
			continue
		}
		if v.Plugin != "" {
			if _, ok := plugins[v.Tag]; !ok {
				plugins[v.Tag] = v.Plugin
			}
		}
		plugin := plugins[v.Tag]
		switch {
		case plugin == "hparams":
			if len(v.Content) > 0 {
				if run.HParams == nil {
					run.HParams = &HParams{}
				}
				// A bad hparams message keeps what decoded before it.
				_ = run.HParams.merge(v.Content)
			}
		case v.HasScalar && (!v.Tensor || plugin == "scalars" || plugin == ""):
			run.scalar(v.Tag, Point{Step: ev.Step, WallTime: ev.WallTime, Value: v.Scalar})
		}
	}
}

func (run *Run) scalar(tag string, p Point) {
	s := run.Series[tag]
	if s == nil {
		s = &Series{}
		run.Series[tag] = s
	}
	s.add(p)
}

// pathless drops the path an *fs.PathError repeats, so that errors name
// the file once.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
