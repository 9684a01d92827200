package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store"
	"github.com/ksbfolio/ksbfolio/evidence/store/s3store"
	"github.com/ksbfolio/ksbfolio/evidence/store/storetest"
)

func TestMain(m *testing.M) {
	// Never ask a cloud metadata service for credentials, never read the
	// user's credentials file.
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_ACCESS_KEY", "AWS_SECRET_KEY", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "AWS_PROFILE"} {
		os.Unsetenv(v)
	}
	os.Exit(m.Run())
}

// config returns the config of prefix on srv, with srv's keys.
func config(t *testing.T, srv storetest.S3Server, prefix string) s3store.Config {
	t.Helper()
	cfg, err := s3store.ParseURL(srv.URL(prefix))
	if err != nil {
		t.Fatalf("ParseURL(%s): %v", srv.URL(prefix), err)
	}
	cfg.AccessKey, cfg.SecretKey = srv.AccessKey, srv.SecretKey
	return cfg
}

func open(t *testing.T, cfg s3store.Config) *s3store.Store {
	t.Helper()
	s, err := s3store.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New(%s): %v", cfg, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	srv := storetest.StartVersityGW(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, config(t, srv, fmt.Sprintf("conformance/%d", n.Add(1))))
	})
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw     string
		want    s3store.Config
		wantErr string // substring; "" means no error
	}{
		{raw: "s3://bucket", want: s3store.Config{Bucket: "bucket", Endpoint: "s3.amazonaws.com"}},
		{raw: "s3://bucket/", want: s3store.Config{Bucket: "bucket", Endpoint: "s3.amazonaws.com"}},
		{raw: "s3://my-bucket.example/team/jdoe/", want: s3store.Config{Bucket: "my-bucket.example", Prefix: "team/jdoe", Endpoint: "s3.amazonaws.com"}},
		{
			raw:  "s3://bucket/prefix?endpoint=host:9000&region=eu-west-2&insecure=true",
			want: s3store.Config{Bucket: "bucket", Prefix: "prefix", Endpoint: "host:9000", Region: "eu-west-2", Insecure: true},
		},
		{raw: "s3://b12/p?insecure=false&endpoint=127.0.0.1:7070", want: s3store.Config{Bucket: "b12", Prefix: "p", Endpoint: "127.0.0.1:7070"}},
		{raw: "s3://b12/p?endpoint=[::1]:7070", want: s3store.Config{Bucket: "b12", Prefix: "p", Endpoint: "[::1]:7070"}},
		{raw: "s3://bucket/a%20b", want: s3store.Config{Bucket: "bucket", Prefix: "a b", Endpoint: "s3.amazonaws.com"}},

		{
			raw:  "s3://bucket/p?timeout=90s&idle_timeout=10s",
			want: s3store.Config{Bucket: "bucket", Prefix: "p", Endpoint: "s3.amazonaws.com", Timeout: 90 * time.Second, IdleTimeout: 10 * time.Second},
		},
		{raw: "s3://bucket/p?timeout=2m", want: s3store.Config{Bucket: "bucket", Prefix: "p", Endpoint: "s3.amazonaws.com", Timeout: 2 * time.Minute}},
		{raw: "s3://bucket/p?timeout=0s", wantErr: "positive duration"},
		{raw: "s3://bucket/p?idle_timeout=-1s", wantErr: "positive duration"},
		{raw: "s3://bucket/p?timeout=soon", wantErr: `timeout="soon"`},
		{raw: "s3://bucket/p?timeout=10s&idle_timeout=1m", wantErr: "longer than timeout"},

		{raw: "s3://AKIAEXAMPLE:wJalrXUtnFEMI@bucket/p", wantErr: "credentials are never accepted"},
		{raw: "s3://user@bucket/p", wantErr: "credentials are never accepted"},
		{raw: "s3://bucket/p?access_key=AKIAEXAMPLE&secret_key=wJalrXUtnFEMI", wantErr: "credentials are never accepted"},
		{raw: "s3://bucket/p?aws_secret_access_key=wJalrXUtnFEMI", wantErr: "credentials are never accepted"},
		{raw: "s3://bucket/p?session_token=xyz", wantErr: "credentials are never accepted"},
		{raw: "s3://bucket/p?endpont=host:9000", wantErr: `unknown parameter "endpont"`},
		{raw: "s3://bucket/p?endpoint=a&endpoint=b", wantErr: "given 2 times"},
		{raw: "s3://bucket/p?insecure=maybe", wantErr: "want true or false"},
		{raw: "s3://bucket/p?endpoint=http://host:9000", wantErr: "without scheme"},
		{raw: "s3://bucket/p?endpoint=host:0", wantErr: "bad port"},
		{raw: "s3://bucket/p?endpoint=host:99999", wantErr: "bad port"},
		{raw: "s3://bucket/p?region=EU_WEST", wantErr: "region"},
		{raw: "s3://bucket/p#frag", wantErr: "fragment"},
		{raw: "s3://bucket/p?%zz", wantErr: "query"},
		{raw: "s3://", wantErr: "bucket"},
		{raw: "s3:///prefix", wantErr: "bucket"},
		{raw: "s3://Bucket_Upper/p", wantErr: "bucket"},
		{raw: "s3://bucket:9000/p", wantErr: "bucket"},
		{raw: "s3://ab/p", wantErr: "bucket"},
		{raw: "s3://bucket/a//b", wantErr: "prefix"},
		{raw: "s3://bucket/a/../b", wantErr: "prefix"},
		{raw: "s3://bucket/a/./b", wantErr: "prefix"},
		{raw: "s3:bucket/p", wantErr: "two slashes"},
		{raw: "http://bucket/p", wantErr: "scheme"},
		{raw: "/local/path", wantErr: "scheme"},
		{raw: "", wantErr: "scheme"},
		{raw: "s3://bucket/p\x7f", wantErr: "not a URL"},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			got, err := s3store.ParseURL(tc.raw)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseURL(%q) = %+v, want an error containing %q", tc.raw, got, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("ParseURL(%q) error = %q, want it to contain %q", tc.raw, err, tc.wantErr)
				}
				for _, secret := range []string{"wJalrXUtnFEMI", "AKIAEXAMPLE", "xyz"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("ParseURL(%q) error %q repeats a credential", tc.raw, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tc.raw, err)
			}
			if got != tc.want {
				t.Errorf("ParseURL(%q) = %+v, want %+v", tc.raw, got, tc.want)
			}
		})
	}
}

func TestConfigString(t *testing.T) {
	for _, tc := range []struct {
		cfg  s3store.Config
		want string
	}{
		{s3store.Config{Bucket: "b"}, "s3://b"},
		{s3store.Config{Bucket: "b", Prefix: "p/q", AccessKey: "AKIA", SecretKey: "SECRET", Endpoint: "h:1"}, "s3://b/p/q"},
	} {
		if got := tc.cfg.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.cfg, got, tc.want)
		}
	}
}

// A URL from storetest.S3Server parses back to the server.
func TestServerURLRoundTrip(t *testing.T) {
	srv := storetest.S3Server{Endpoint: "127.0.0.1:7070", Bucket: "bkt"}
	for prefix, want := range map[string]string{"": "", "a/b": "a/b", "/a/": "a"} {
		cfg, err := s3store.ParseURL(srv.URL(prefix))
		if err != nil {
			t.Fatalf("ParseURL(%s): %v", srv.URL(prefix), err)
		}
		if cfg.Bucket != "bkt" || cfg.Prefix != want || cfg.Endpoint != srv.Endpoint || !cfg.Insecure {
			t.Errorf("ParseURL(%s) = %+v", srv.URL(prefix), cfg)
		}
	}
}

func TestUnreachableEndpoint(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := l.Addr().String()
	l.Close() // nothing listens there now
	cfg := s3store.Config{Bucket: "bkt", Prefix: "p", Endpoint: endpoint, Insecure: true, AccessKey: "k", SecretKey: "s"}
	start := time.Now()
	_, err = s3store.New(context.Background(), cfg)
	took := time.Since(start)
	if err == nil {
		t.Fatal("New on a closed port: no error")
	}
	t.Logf("after %v: %v", took, err)
	if took > 15*time.Second {
		t.Errorf("New took %v to fail, want under 15 s", took)
	}
	want := "s3 store s3://bkt/p at " + endpoint + ": endpoint unreachable: connection refused"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("error does not wrap ECONNREFUSED")
	}
}

// A server that accepts connections and never answers: New gives up within
// its bound.
func TestSilentEndpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 10 s check timeout")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	cfg := s3store.Config{Bucket: "bkt", Endpoint: l.Addr().String(), Insecure: true, AccessKey: "k", SecretKey: "s"}
	start := time.Now()
	_, err = s3store.New(context.Background(), cfg)
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "endpoint unreachable: no answer within") {
		t.Errorf("New on a silent endpoint = %v, want endpoint unreachable: no answer", err)
	}
	if took > 15*time.Second {
		t.Errorf("New took %v to fail, want under 15 s", took)
	}
}

func TestNewCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg := s3store.Config{Bucket: "bkt", Endpoint: "127.0.0.1:1", Insecure: true, AccessKey: "k", SecretKey: "s"}
	if _, err := s3store.New(ctx, cfg); !errors.Is(err, context.Canceled) {
		t.Errorf("New with a cancelled ctx = %v, want context.Canceled", err)
	}
}

func TestNewErrors(t *testing.T) {
	srv := storetest.StartVersityGW(t)
	tests := []struct {
		name string
		edit func(*s3store.Config)
		want string // the whole error after "s3 store ... at ...: "
	}{
		{"missing bucket", func(c *s3store.Config) { c.Bucket = "no-such-bucket" }, `bucket "no-such-bucket" does not exist`},
		{"wrong secret", func(c *s3store.Config) { c.SecretKey = "wrong-secret" }, "access denied (check credentials)"},
		{"unknown key", func(c *s3store.Config) { c.AccessKey = "nobody" }, "access denied (check credentials)"},
		{"TLS to a plain HTTP server", func(c *s3store.Config) { c.Insecure = false }, "TLS handshake failed: the endpoint speaks plain HTTP (add insecure=true)"},
		{"half the keys", func(c *s3store.Config) { c.SecretKey = "" }, "give both an access key and a secret key, or neither"},
		{"bad bucket name", func(c *s3store.Config) { c.Bucket = "B" }, `bucket "B"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(t, srv, "p")
			tc.edit(&cfg)
			_, err := s3store.New(context.Background(), cfg)
			if err == nil {
				t.Fatal("New: no error")
			}
			if !strings.HasPrefix(err.Error(), "s3 store s3://") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New error = %q, want s3 store … %s", err, tc.want)
			}
			if strings.Contains(err.Error(), cfg.SecretKey) && cfg.SecretKey != "" {
				t.Errorf("error %q shows the secret key", err)
			}
		})
	}
}

func TestCredentialsFromEnvironment(t *testing.T) {
	srv := storetest.StartVersityGW(t)
	cfg, err := s3store.ParseURL(srv.URL("env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, id, secret string }{
		{"AWS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
		{"MinIO", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(tc.id, srv.AccessKey)
			t.Setenv(tc.secret, srv.SecretKey)
			s := open(t, cfg)
			ctx := context.Background()
			if _, err := s.Put(ctx, "k", strings.NewReader(tc.name), int64(len(tc.name)), store.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			b, _, err := store.ReadAll(ctx, s, "k", 0)
			if err != nil || string(b) != tc.name {
				t.Errorf("ReadAll = %q, %v", b, err)
			}
		})
	}
	t.Run("shared credentials file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "credentials")
		body := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", srv.AccessKey, srv.SecretKey)
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", file)
		open(t, cfg)
	})
	t.Run("none", func(t *testing.T) {
		_, err := s3store.New(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), "access denied (check credentials)") {
			t.Errorf("New without credentials = %v, want access denied", err)
		}
	})
}

func TestPrefixes(t *testing.T) {
	srv := storetest.StartVersityGW(t)
	ctx := context.Background()
	a := open(t, config(t, srv, "team/a"))
	ab := open(t, config(t, srv, "team/ab"))
	root := open(t, config(t, srv, ""))
	for _, s := range []*s3store.Store{a, ab} {
		if _, err := s.Put(ctx, "items/x.json", strings.NewReader(s.String()), int64(len(s.String())), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if a.String() != "s3://"+srv.Bucket+"/team/a" || root.String() != "s3://"+srv.Bucket {
		t.Errorf("String() = %q, %q", a.String(), root.String())
	}
	// Objects land at bucket/prefix/key.
	b, err := os.ReadFile(filepath.Join(srv.Dir, srv.Bucket, "team", "a", "items", "x.json"))
	if err != nil || string(b) != a.String() {
		t.Errorf("object file = %q, %v", b, err)
	}
	// A prefix is whole segments: team/a does not see team/ab.
	var keys []string
	if err := a.List(ctx, "", func(i store.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"items/x.json"}) {
		t.Errorf("team/a lists %q, want [items/x.json]", keys)
	}
	keys = nil
	if err := root.List(ctx, "team/", func(i store.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"team/a/items/x.json", "team/ab/items/x.json"}) {
		t.Errorf("root lists %q", keys)
	}
	// Refused keys write nothing anywhere in the bucket.
	for _, key := range storetest.InvalidKeys() {
		_, _ = a.Put(ctx, key, strings.NewReader("x"), 1, store.PutOptions{})
	}
	var files []string
	filepath.WalkDir(srv.Dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && filepath.Dir(p) == srv.Dir && strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir // the server's own (.vgwlocks)
		}
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(srv.Dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(files)
	want := []string{srv.Bucket + "/team/a/items/x.json", srv.Bucket + "/team/ab/items/x.json"}
	if !slices.Equal(files, want) {
		t.Errorf("server holds %q, want %q", files, want)
	}
}

// Objects past the in-memory spool go through a temporary file, which is
// removed afterwards whatever happens.
func TestLargeObjects(t *testing.T) {
	srv := storetest.StartVersityGW(t)
	s := open(t, config(t, srv, "large"))
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx := context.Background()
	data := make([]byte, 9<<20+3)
	for i := range data {
		data[i] = byte(i * 7)
	}
	boom := errors.New("boom")
	tests := []struct {
		name    string
		r       io.Reader
		size    int64
		wantErr error // nil: success
	}{
		{"known size", bytes.NewReader(data), int64(len(data)), nil},
		{"unknown size", struct{ io.Reader }{bytes.NewReader(data)}, -1, nil},
		{"reader shorter than size", bytes.NewReader(data[:len(data)-1]), int64(len(data)), io.ErrUnexpectedEOF},
		{"reader longer than size", bytes.NewReader(data), int64(len(data) - 1), errors.New("more than")},
		{"reader fails", io.MultiReader(bytes.NewReader(data), iotest.ErrReader(boom)), -1, boom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := strings.ReplaceAll(tc.name, " ", "-")
			_, err := s.Put(ctx, key, tc.r, tc.size, store.PutOptions{IfAbsent: true})
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("Put: %v", err)
			case tc.wantErr == nil:
				b, _, err := store.ReadAll(ctx, s, key, 0)
				if err != nil || !bytes.Equal(b, data) {
					t.Fatalf("ReadAll = %d bytes, %v; want the %d bytes put", len(b), err, len(data))
				}
			case err == nil:
				t.Fatalf("Put: no error, want %v", tc.wantErr)
			case !errors.Is(err, tc.wantErr) && !strings.Contains(err.Error(), tc.wantErr.Error()):
				t.Errorf("Put error = %v, want %v", err, tc.wantErr)
			default:
				if _, err := s.Stat(ctx, key); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("after a failed Put, Stat = %v, want ErrNotFound", err)
				}
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
	}
}

func BenchmarkPut1KiB(b *testing.B) {
	srv := storetest.StartVersityGW(b)
	cfg, err := s3store.ParseURL(srv.URL("bench"))
	if err != nil {
		b.Fatal(err)
	}
	cfg.AccessKey, cfg.SecretKey = srv.AccessKey, srv.SecretKey
	s, err := s3store.New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat([]byte("x"), 1024)
	b.SetBytes(int64(len(data)))
	for i := 0; b.Loop(); i++ {
		key := fmt.Sprintf("items/%d.json", i%100)
		if _, err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), store.PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestConformanceThroughProxy runs the suite through a FaultProxy with no
// faults queued: the proxy is transparent, so fault tests through it test
// the store and not the proxy.
func TestConformanceThroughProxy(t *testing.T) {
	srv := storetest.StartVersityGW(t)
	p := storetest.NewFaultProxy(t, srv.Endpoint)
	via := srv.Through(p)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, config(t, via, fmt.Sprintf("proxied/%d", n.Add(1))))
	})
	if p.Forwarded("PUT", "/proxied/") == 0 {
		t.Errorf("no PUT went through the proxy")
	}
}
