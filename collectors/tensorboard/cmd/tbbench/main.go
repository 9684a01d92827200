// Command tbbench writes synthetic TensorBoard event files and times the
// tensorboard collector reading them; scripts/bench-tensorboard.sh
// compares it with sha256sum over the same files.
//
//	tbbench -gen DIR -mb 200 -mix mixed   # write about 200 MB of event files
//	tbbench -dir DIR                      # one full Collect; prints seconds=… items=…
//
// The files are written with their own encoder (hash/crc32 Castagnoli and
// protowire), not the package's, so that the benchmark also checks that
// the reader reads what another writer framed: every record written must
// be read, none skipped.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/crc32"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/tensorboard"
)

func main() {
	gen := flag.String("gen", "", "write event files into this folder")
	mb := flag.Int("mb", 200, "with -gen: megabytes to write")
	mix := flag.String("mix", "mixed", "with -gen: scalars (scalar events only) or mixed (scalars, histograms, images)")
	dir := flag.String("dir", "", "time a full Collect of this folder")
	flag.Parse()
	switch {
	case *gen != "":
		n, err := generate(*gen, int64(*mb)<<20, *mix)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("records=%d\n", n)
	case *dir != "":
		if err := timeCollect(*dir); err != nil {
			log.Fatal(err)
		}
	default:
		flag.Usage()
		os.Exit(2)
	}
}

func timeCollect(dir string) error {
	c, err := tensorboard.New(tensorboard.Config{Name: "bench", Path: dir, Apprentice: "bench"}, collectors.Settings{})
	if err != nil {
		return err
	}
	s := &collectortest.Sink{}
	start := time.Now()
	_, err = c.Collect(context.Background(), nil, s)
	secs := time.Since(start).Seconds()
	if err != nil {
		return err
	}
	if n := len(s.Skips()); n != 0 {
		return fmt.Errorf("%d skips: %v", n, s.Skips()[0])
	}
	fmt.Printf("seconds=%.6f items=%d\n", secs, len(s.Items()))
	return nil
}

var table = crc32.MakeTable(crc32.Castagnoli)

func masked(b []byte) uint32 {
	c := crc32.Checksum(b, table)
	return ((c >> 15) | (c << 17)) + 0xa282ead8
}

func frame(w *bufio.Writer, data []byte) (int, error) {
	var hdr [12]byte
	binary.LittleEndian.PutUint64(hdr[:8], uint64(len(data)))
	binary.LittleEndian.PutUint32(hdr[8:], masked(hdr[:8]))
	var ftr [4]byte
	binary.LittleEndian.PutUint32(ftr[:], masked(data))
	for _, b := range [][]byte{hdr[:], data, ftr[:]} {
		if _, err := w.Write(b); err != nil {
			return 0, err
		}
	}
	return len(data) + 16, nil
}

// event encodes an Event with a Summary of the given values.
func event(wall float64, step int64, values ...[]byte) []byte {
	b := protowire.AppendTag(nil, 1, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(wall))
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(step))
	var sum []byte
	for _, v := range values {
		sum = protowire.AppendTag(sum, 1, protowire.BytesType)
		sum = protowire.AppendBytes(sum, v)
	}
	b = protowire.AppendTag(b, 5, protowire.BytesType)
	return protowire.AppendBytes(b, sum)
}

func str(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func scalar(tag string, x float32) []byte {
	b := str(nil, 1, tag)
	b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, math.Float32bits(x))
}

// blob is a value holding n bytes in the given field (4 image, 8 tensor).
func blob(tag string, field protowire.Number, n int, r *rand.Rand) []byte {
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte(r.Uint32())
	}
	b := str(nil, 1, tag)
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, payload)
}

// generate writes 4 runs of 2 event files each, about size bytes in all.
func generate(dir string, size int64, mix string) (int, error) {
	r := rand.New(rand.NewPCG(1, 2))
	const runs, files = 4, 2
	per := size / (runs * files)
	records := 0
	for run := range runs {
		rd := filepath.Join(dir, "lightning_logs", fmt.Sprintf("version_%d", run))
		if err := os.MkdirAll(rd, 0o755); err != nil {
			return 0, err
		}
		for f := range files {
			name := fmt.Sprintf("events.out.tfevents.%d.benchhost.%d.%d", 1700000000+run*10+f, 4242+run, f)
			out, err := os.Create(filepath.Join(rd, name))
			if err != nil {
				return 0, err
			}
			w := bufio.NewWriterSize(out, 1<<20)
			var written int64
			step := int64(f) * 1_000_000
			wall := float64(1700000000 + run*100000 + f*50000)
			for written < per {
				step++
				wall += 0.05
				vals := [][]byte{scalar("train/loss", float32(1/math.Sqrt(float64(step)))), scalar("train/acc", float32(1-1/math.Sqrt(float64(step))))}
				if step%5 == 0 {
					vals = append(vals, scalar("val/loss", float32(1.1/math.Sqrt(float64(step)))), scalar("val/acc", r.Float32()), scalar("lr", 1e-3))
				}
				n, err := frame(w, event(wall, step, vals...))
				if err != nil {
					return 0, err
				}
				written += int64(n)
				records++
				if mix == "mixed" {
					var extra []byte
					switch {
					case step%100 == 0:
						extra = event(wall, step, blob("samples/image", 4, 64<<10, r))
					case step%10 == 0:
						extra = event(wall, step, blob("weights/hist", 5, 4<<10, r))
					}
					if extra != nil {
						n, err := frame(w, extra)
						if err != nil {
							return 0, err
						}
						written += int64(n)
						records++
					}
				}
			}
			if err := w.Flush(); err != nil {
				return 0, err
			}
			if err := out.Close(); err != nil {
				return 0, err
			}
		}
	}
	return records, nil
}
