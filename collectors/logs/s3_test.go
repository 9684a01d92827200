package logs_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/collectors/collectortest"
	"github.com/ksbfolio/ksbfolio/collectors/logs"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

// TestS3Prefix reads log objects under an S3 prefix of a real S3 server
// (versitygw), a plain one and a gzip-compressed one, once across runs.
func TestS3Prefix(t *testing.T) {
	srv := storetest.StartVersityGW(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	mc, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	put := func(key string, b []byte) {
		t.Helper()
		if _, err := mc.PutObject(ctx, srv.Bucket, key, bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(deployment("00", runA)))
	zw.Close()
	put("deploy/app.log.1.gz", gz.Bytes())
	put("deploy/app.log", []byte(deployment("10", runB)))
	put("other/app.log", []byte(deployment("20", runC))) // outside the prefix

	c := newCollector(t, logs.SourceConfig{S3: &logs.S3Config{URL: srv.URL("deploy")}})
	got, cur, s := collectFrom(t, c, nil)
	if want := []string{"a:completed", "b:completed"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("first run: %v, want %v", got, want)
	}
	if it := s.Items()[0]; !strings.HasPrefix(it.Origin.URI, "s3://"+srv.Bucket+"/deploy/app.log") {
		t.Errorf("origin %+v, file %v", it.Origin, it.Facts["file"])
	}
	got, cur, _ = collectFrom(t, c, cur)
	if len(got) != 0 {
		t.Fatalf("from the cursor: %v", got)
	}
	// A new version of the live object with lines added (S3 objects are
	// replaced whole): only the new lines are read.
	put("deploy/app.log", []byte(deployment("10", runB)+deployment("30", runD)))
	got, cur, _ = collectFrom(t, c, cur)
	if want := []string{"d:completed"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("after a longer version: %v, want %v", got, want)
	}
	// Another content under the same key is read from its start.
	put("deploy/app.log", []byte(deployment("40", runC)))
	got, _, _ = collectFrom(t, c, cur)
	if want := []string{"c:completed"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("after a replaced version: %v, want %v", got, want)
	}

	missing := newCollector(t, logs.SourceConfig{S3: &logs.S3Config{URL: strings.Replace(srv.URL("deploy"), srv.Bucket, "no-such-bucket", 1)}})
	_, err = missing.Collect(ctx, nil, &collectortest.Sink{})
	if !errors.Is(err, collectors.ErrSourceMissing) {
		t.Errorf("missing bucket: %v", err)
	}
}
