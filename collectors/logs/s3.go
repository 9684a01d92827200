package logs

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/evidence/store/s3store"
)

// S3Config is a prefix of an S3 bucket whose objects are log files.
type S3Config struct {
	// URL is s3://BUCKET[/PREFIX][?endpoint=HOST[:PORT]][&region=R][&insecure=true],
	// read as store URLs are (s3store.ParseURL). Credentials are never
	// in the URL: they come from the environment, the shared credentials
	// file or IAM.
	URL string `yaml:"url" json:"url"`
}

func (sc *S3Config) check() []problem {
	if _, err := s3store.ParseURL(sc.URL); err != nil {
		return []problem{{"s3.url", err.Error()}}
	}
	return nil
}

// s3Cursor is where an object was left. An object is replaced whole, so
// a new version (another ETag) is read from the cursor's offset only when
// it starts with the same bytes (a log re-uploaded with lines added).
type s3Cursor struct {
	Key    string `json:"key"`
	ETag   string `json:"etag"`
	FPLen  int    `json:"fp_len"`
	FP     string `json:"fp"`
	Offset int64  `json:"offset"`
}

// s3Info is an object's fs.FileInfo, for the item mapping.
type s3Info struct {
	name string
	size int64
	mod  time.Time
}

func (i s3Info) Name() string       { return i.name }
func (i s3Info) Size() int64        { return i.size }
func (i s3Info) Mode() os.FileMode  { return 0o444 }
func (i s3Info) ModTime() time.Time { return i.mod }
func (i s3Info) IsDir() bool        { return false }
func (i s3Info) Sys() any           { return nil }

// s3 reads every object under the configured prefix, oldest first, each
// from where the cursor left it.
func (r *run) s3() error {
	cfg, err := s3store.ParseURL(r.c.cfg.S3.URL)
	if err != nil {
		return fmt.Errorf("s3 log source: %w", err)
	}
	where := "s3://" + cfg.Bucket + "/" + cfg.Prefix
	chain := []credentials.Provider{&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.FileAWSCredentials{}}
	if !strings.EqualFold(os.Getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		chain = append(chain, &credentials.IAM{})
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewChainCredentials(chain),
		Secure: !cfg.Insecure, Region: cfg.Region, MaxRetries: 3, Transport: r.c.set.HTTPClient.Transport})
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	prefix := cfg.Prefix
	if prefix != "" {
		prefix += "/"
	}
	var objs []minio.ObjectInfo
	for o := range client.ListObjects(r.ctx, cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			if r.ctx.Err() != nil {
				return r.ctx.Err()
			}
			if resp := minio.ToErrorResponse(o.Err); resp.Code == "NoSuchBucket" {
				return fmt.Errorf("%s: list objects: %w (%w)", where, collectors.ErrSourceMissing, o.Err)
			}
			return fmt.Errorf("%s: list objects: %w", where, o.Err)
		}
		if !strings.HasSuffix(o.Key, "/") && o.Size > 0 {
			objs = append(objs, o)
		}
	}
	sort.SliceStable(objs, func(i, j int) bool {
		if !objs[i].LastModified.Equal(objs[j].LastModified) {
			return objs[i].LastModified.Before(objs[j].LastModified)
		}
		return objs[i].Key < objs[j].Key
	})
	old := map[string]s3Cursor{}
	for _, o := range r.old.S3 {
		old[o.Key] = o
	}
	for _, o := range objs {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		prev, ok := old[o.Key]
		if ok && prev.ETag == o.ETag && prev.Offset >= o.Size && !strings.HasSuffix(o.Key, ".gz") {
			r.next.S3 = append(r.next.S3, prev) // unchanged and read
			continue
		}
		cur, err := r.s3Object(client, cfg.Bucket, o, prev)
		if err != nil {
			return err
		}
		r.next.S3 = append(r.next.S3, cur)
	}
	return nil
}

// s3Object reads one object from where prev left it (when its head still
// matches) and returns its new cursor.
func (r *run) s3Object(client *minio.Client, bucket string, o minio.ObjectInfo, prev s3Cursor) (s3Cursor, error) {
	t := target{Path: "s3://" + bucket + "/" + o.Key, Info: s3Info{name: o.Key, size: o.Size, mod: o.LastModified}}
	cur := s3Cursor{Key: o.Key, ETag: o.ETag, FPLen: prev.FPLen, FP: prev.FP, Offset: prev.Offset}
	end, err := r.s3Read(client, bucket, o, t, &cur, prev)
	cur.Offset = end
	return cur, err
}

func (r *run) s3Read(client *minio.Client, bucket string, o minio.ObjectInfo, t target, cur *s3Cursor, prev s3Cursor) (int64, error) {
	start := prev.Offset
	obj, err := client.GetObject(r.ctx, bucket, o.Key, minio.GetObjectOptions{})
	if err != nil {
		return start, r.objectFailed(t, err)
	}
	defer obj.Close()
	var rd io.Reader = bufio.NewReaderSize(obj, 64<<10)
	magic, err := rd.(*bufio.Reader).Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return start, r.objectFailed(t, err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(rd)
		if err != nil {
			r.skip(t.Path, fmt.Sprintf("gzip: %v", err))
			return start, nil
		}
		rd = zr
	}
	br := bufio.NewReaderSize(rd, sampleBytes)
	sample, err := br.Peek(sampleBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return start, r.objectFailed(t, err)
	}
	if len(sample) == 0 {
		return start, nil
	}
	if strings.IndexByte(string(sample[:min(len(sample), 8<<10)]), 0) >= 0 {
		r.skip(t.Path, "binary data, not a text log")
		return o.Size, nil
	}
	if prev.FPLen == 0 || prev.FPLen > len(sample) || fingerprintOf(sample[:prev.FPLen]) != prev.FP {
		start = 0 // new content
	}
	var fp string
	cur.FPLen, fp = fingerprint(sample)
	cur.FP = fp
	format, stamped := r.c.detect(sample, o.LastModified)
	if start > 0 {
		if n, err := io.CopyN(io.Discard, br, start); err != nil || n < start {
			return start, nil
		}
	}
	end, _, err := r.scan(t, br, start, format, stamped, fp)
	return end, err
}

func (r *run) objectFailed(t target, err error) error {
	if r.ctx.Err() != nil {
		return r.ctx.Err()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	r.skip(t.Path, fmt.Sprintf("cannot read: %v", err))
	return nil
}
