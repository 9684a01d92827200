// Package s3store is the store.Store on any S3 API (AWS S3, MinIO, Ceph,
// versitygw, …), through minio-go. Keys are object names under the
// configured prefix; nothing of minio-go leaves the package.
//
// Conditional writes use the S3 headers If-None-Match: * (PutOptions.IfAbsent)
// and If-Match: ETAG (PutOptions.IfMatch), which the server checks
// atomically; servers that ignore them (old MinIO, some gateways) give no
// protection. Every object is written with a single PUT (up to 5 GiB), so
// the condition covers the whole write. The data is first read whole, into
// memory up to 8 MiB or else a temporary file, so that its size is checked
// before anything is sent and minio-go can resend it when a connection
// fails; a conditional write resent after its first attempt did in fact
// succeed reports ErrPrecondition (the usual ambiguity of retried S3 writes).
//
// Every operation has a deadline (Config.Timeout) and every wait on the
// server a shorter one (Config.IdleTimeout), so no request hangs, even one
// whose response body stalls mid-way. A request that fails before its
// response arrives (a connection refused or reset, a response lost, no
// headers within IdleTimeout, a 5xx or throttling) is retried by minio-go
// with exponential backoff (200 ms doubling to 1 s, with jitter) up to
// maxAttempts times in all, within Timeout: GET, HEAD, LIST and DELETE are
// safe to repeat, and a PUT is resent whole. A conditional PUT (IfAbsent,
// IfMatch) whose first attempt succeeded but whose response was lost is
// refused on its resend: Put then returns ErrPrecondition for what was in
// fact its own write. A caller that must know (a lease) reads the object
// back and checks its content. A Get whose body stalls or breaks mid-way
// resumes it (see Get); when it cannot, the read fails naming the key and
// the timeout.
//
// ETags are the server's (for a single PUT on AWS, the content's MD5): they
// change whenever the content changes, but replacing an object by identical
// bytes may keep its ETag, which makes no difference to IfMatch.
package s3store

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/ksbfolio/ksbfolio/evidence/store"
)

const (
	// checkTimeout bounds New's check that the bucket is there.
	checkTimeout = 10 * time.Second
	// maxSinglePut is S3's limit for one PUT.
	maxSinglePut = 5 << 30
	// spoolMemory is how much of an object Put holds in memory; larger
	// ones are spooled to a temporary file.
	spoolMemory = 8 << 20
	// spoolPattern names Put's temporary files, in os.TempDir().
	spoolPattern = "ksbfolio-s3-spool-*"
	// maxAttempts is how many times minio-go tries a request.
	maxAttempts = 5
)

// Store is a store.Store on an S3 bucket. Safe for concurrent use.
type Store struct {
	cfg    Config
	client *minio.Client
	core   minio.Core
	prefix string // cfg.Prefix + "/", or ""
	// timeout bounds one operation; idle each wait on the server.
	timeout, idle time.Duration
}

var _ store.Store = (*Store)(nil)

// New connects to the bucket cfg names and checks, within about ten
// seconds, that it exists and the credentials may list it. Its one error
// says what is wrong: the endpoint unreachable, the bucket missing, access
// denied, TLS failing.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("s3 store %s: %w", cfg, err)
	}
	where := fmt.Sprintf("s3 store %s at %s", cfg, cfg.Endpoint)
	timeout, idle := cfg.Timeout, cfg.IdleTimeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if idle == 0 {
		idle = DefaultIdleTimeout
	}
	idle = min(idle, timeout)
	transport, err := newTransport(!cfg.Insecure, idle)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	creds := credentialsFor(cfg)
	opts := func(retries int) *minio.Options {
		return &minio.Options{
			Creds:      creds,
			Secure:     !cfg.Insecure,
			Region:     cfg.Region,
			MaxRetries: retries,
			Transport:  transport,
		}
	}
	client, err := minio.New(cfg.Endpoint, opts(maxAttempts))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	s := &Store{cfg: cfg, client: client, core: minio.Core{Client: client}, timeout: timeout, idle: idle}
	if cfg.Prefix != "" {
		s.prefix = cfg.Prefix + "/"
	}

	// The check gets its own client that hardly retries, so an endpoint
	// that is down fails fast.
	check, err := minio.New(cfg.Endpoint, opts(2))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	cctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if err := s.checkBucket(cctx, check); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", where, ctx.Err())
		}
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return s, nil
}

// credentialsFor returns cfg's static keys, or the chain: environment, shared
// credentials file, IAM.
func credentialsFor(cfg Config) *credentials.Credentials {
	if cfg.AccessKey != "" {
		return credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken)
	}
	chain := []credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.EnvMinio{},
		&credentials.FileAWSCredentials{},
	}
	// minio-go's IAM provider does not honour the AWS SDKs' switch; tests
	// and hosts without a metadata service set it.
	if !strings.EqualFold(os.Getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		chain = append(chain, &credentials.IAM{})
	}
	return credentials.NewChainCredentials(chain)
}

// checkBucket lists at most one key under the prefix: it works for
// credentials limited to the prefix, and tells a missing bucket from a
// refusal.
func (s *Store) checkBucket(ctx context.Context, c *minio.Client) error {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for obj := range c.ListObjectsIter(lctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.prefix, MaxKeys: 1, Recursive: true}) {
		if obj.Err != nil {
			return describe(obj.Err, s.cfg.Bucket)
		}
		return nil
	}
	// An empty listing, or one cut short by ctx.
	if err := ctx.Err(); err != nil {
		return describe(err, s.cfg.Bucket)
	}
	return nil
}

// describe turns an error from reaching the bucket into one short reason.
func describe(err error, bucket string) error {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		switch resp.Code {
		case minio.NoSuchBucket:
			return fmt.Errorf("bucket %q does not exist", bucket)
		case minio.AccessDenied, "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
			"XAdminUserNotFound", "XMinioInvalidIAMCredentials":
			return fmt.Errorf("access denied (check credentials): %s", resp.Code)
		}
		if resp.StatusCode == 401 || resp.StatusCode == 403 {
			return fmt.Errorf("access denied (check credentials): %s", resp.Code)
		}
		return flatten(err)
	}
	var (
		dns     *net.DNSError
		unknown x509.UnknownAuthorityError
		hostErr x509.HostnameError
		recErr  tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("endpoint unreachable: %w", syscall.ECONNREFUSED)
	case errors.As(err, &dns):
		return fmt.Errorf("endpoint unreachable: no such host %q", dns.Name)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Errorf("endpoint unreachable: no answer within %v", checkTimeout)
	case errors.As(err, &unknown), errors.As(err, &hostErr):
		return fmt.Errorf("TLS certificate not trusted: %w", err)
	case errors.As(err, &recErr), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return errors.New("TLS handshake failed: the endpoint speaks plain HTTP (add insecure=true)")
	case strings.Contains(err.Error(), "malformed HTTP response"):
		return errors.New("the endpoint speaks TLS: remove insecure=true")
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Errorf("endpoint unreachable: %w", unwrapAll(err))
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// unwrapAll returns the innermost error of a chain.
func unwrapAll(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// String returns s3://bucket/prefix, never credentials.
func (s *Store) String() string { return s.cfg.String() }

func (s *Store) object(key string) string { return s.prefix + key }

// flatten replaces an S3 error response by a plain error with its text, so
// no minio-go type reaches callers through errors.As.
func flatten(err error) error {
	var resp minio.ErrorResponse
	if !errors.As(err, &resp) {
		return err
	}
	msg := resp.Error()
	if resp.Code != "" && !strings.Contains(msg, resp.Code) {
		msg = resp.Code + ": " + msg
	}
	return errors.New(msg)
}

// errCode returns the S3 error code and HTTP status in err, if any.
func errCode(err error) (string, int) {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Code, resp.StatusCode
	}
	return "", 0
}

// mapErr translates err from operation op on key into the store's errors,
// preferring the caller's ctx's error when it is done, then the expiry of
// the operation's octx.
func (s *Store) mapErr(ctx, octx context.Context, op, key string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s %s: %w", op, key, ctx.Err())
	}
	if err := s.expired(ctx, octx, op, key); err != nil {
		return err
	}
	code, status := errCode(err)
	switch {
	case code == minio.NoSuchKey || (status == 404 && code != minio.NoSuchBucket):
		return fmt.Errorf("%s %s: %w", op, key, store.ErrNotFound)
	case code == minio.NoSuchBucket:
		return fmt.Errorf("%s %s: bucket is gone: %w", op, key, flatten(err))
	}
	return fmt.Errorf("%s %s: %w", op, key, flatten(err))
}

// Put implements store.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, opts store.PutOptions) (store.Info, error) {
	if err := store.ValidKey(key); err != nil {
		return store.Info{}, err
	}
	if opts.IfAbsent && opts.IfMatch != "" {
		return store.Info{}, fmt.Errorf("put %s: IfAbsent and IfMatch are mutually exclusive", key)
	}
	if err := ctx.Err(); err != nil {
		return store.Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	if size > maxSinglePut {
		return store.Info{}, fmt.Errorf("put %s: %d bytes is more than one S3 PUT takes (%d)", key, size, int64(maxSinglePut))
	}
	body, n, cleanup, err := spool(ctx, r, size)
	if err != nil {
		return store.Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	defer cleanup()
	if n > maxSinglePut {
		return store.Info{}, fmt.Errorf("put %s: %d bytes is more than one S3 PUT takes (%d)", key, n, int64(maxSinglePut))
	}
	po := minio.PutObjectOptions{
		ContentType:      "application/octet-stream",
		DisableMultipart: true,
	}
	switch {
	case opts.IfAbsent:
		po.SetMatchETagExcept("*")
	case opts.IfMatch != "":
		po.SetMatchETag(opts.IfMatch)
	}
	// body is an io.ReaderAt and io.Seeker, so minio-go can resend it when
	// a connection fails. The deadline starts now: reading the caller's
	// data is not the server's time.
	octx, cancel := s.bound(ctx)
	defer cancel()
	info, err := s.client.PutObject(octx, s.cfg.Bucket, s.object(key), body, n, po)
	if err != nil {
		if ctx.Err() != nil {
			return store.Info{}, fmt.Errorf("put %s: %w", key, ctx.Err())
		}
		if err := s.expired(ctx, octx, "put", key); err != nil {
			return store.Info{}, err
		}
		code, status := errCode(err)
		switch {
		case code == minio.PreconditionFailed || status == 412:
			return store.Info{}, fmt.Errorf("put %s: %w", key, store.ErrPrecondition)
		case opts.IfMatch != "" && (code == minio.NoSuchKey || status == 404 && code != minio.NoSuchBucket):
			return store.Info{}, fmt.Errorf("put %s: no object to match: %w", key, store.ErrPrecondition)
		case code == "ConditionalRequestConflict" || (status == 409 && (opts.IfAbsent || opts.IfMatch != "")):
			// AWS: another conditional write to the key was in flight.
			return store.Info{}, fmt.Errorf("put %s: concurrent conditional write: %w", key, store.ErrPrecondition)
		}
		return store.Info{}, s.mapErr(ctx, octx, "put", key, err)
	}
	if info.Size != n {
		return store.Info{}, fmt.Errorf("put %s: server stored %d bytes, sent %d", key, info.Size, n)
	}
	return store.Info{Key: key, Size: info.Size, ModTime: info.LastModified, ETag: info.ETag}, nil
}

// readSeekerAt is what minio-go needs to resend a body.
type readSeekerAt interface {
	io.ReadSeeker
	io.ReaderAt
}

// spool reads all of r, checking that it holds exactly size bytes (size <
// 0: any number), into memory up to spoolMemory bytes or else into a
// temporary file. It returns the data, its length and a cleanup to call
// when done.
func spool(ctx context.Context, r io.Reader, size int64) (readSeekerAt, int64, func(), error) {
	src := store.NewSource(ctx, r)
	check := func(n int64, err error) error {
		switch {
		case src.Err() != nil:
			return fmt.Errorf("read: %w", src.Err())
		case err != nil:
			return err
		case size >= 0 && n > size:
			return fmt.Errorf("reader holds more than the %d bytes size says", size)
		case size >= 0 && n < size:
			return fmt.Errorf("reader ended after %d bytes, size says %d: %w", n, size, io.ErrUnexpectedEOF)
		}
		return nil
	}
	limit := int64(spoolMemory)
	if size >= 0 {
		limit = min(limit, size)
	}
	var buf bytes.Buffer
	if size >= 0 {
		buf.Grow(int(limit) + 1)
	}
	// One byte more than the limit tells a short object from a long one.
	n, err := io.Copy(&buf, io.LimitReader(src, limit+1))
	if n <= limit {
		if err := check(n, err); err != nil {
			return nil, 0, nil, err
		}
		return bytes.NewReader(buf.Bytes()), n, func() {}, nil
	}
	if size >= 0 && size <= spoolMemory {
		return nil, 0, nil, check(n, err) // n is size+1: too long
	}
	f, err := os.CreateTemp("", spoolPattern)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("spool to a temporary file: %w", err)
	}
	cleanup := func() {
		f.Close()
		os.Remove(f.Name())
	}
	var from io.Reader = io.MultiReader(&buf, src)
	if size >= 0 {
		from = io.LimitReader(from, size+1)
	}
	n, err = io.Copy(f, from)
	if err = check(n, err); err != nil {
		cleanup()
		return nil, 0, nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, 0, nil, fmt.Errorf("spool to %s: %w", f.Name(), err)
	}
	return f, n, cleanup, nil
}

// Get implements store.Store. It makes one GET: the reader is the object
// as it was when Get returned, even if it is replaced while being read. A
// body that stalls or breaks mid-way is resumed where it stopped, with a
// ranged GET of the same version (If-Match), up to maxAttempts reads in
// all; if the object was replaced meanwhile the read fails. The
// operation's deadline runs until the reader is closed.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, store.Info, error) {
	if err := store.ValidKey(key); err != nil {
		return nil, store.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, store.Info{}, fmt.Errorf("get %s: %w", key, err)
	}
	octx, cancel := s.bound(ctx)
	body, oi, _, err := s.core.GetObject(octx, s.cfg.Bucket, s.object(key), minio.GetObjectOptions{})
	if err != nil {
		err = s.mapErr(ctx, octx, "get", key, err)
		cancel()
		return nil, store.Info{}, err
	}
	o := &object{s: s, key: key, rc: body, ctx: ctx, octx: octx, cancel: cancel, etag: oi.ETag, size: oi.Size, reads: 1}
	return o, store.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified, ETag: oi.ETag}, nil
}

// object is a body being read, resumed when it breaks, with errors that
// name the key and say which deadline ended it.
type object struct {
	s         *Store
	key       string
	rc        io.ReadCloser
	ctx, octx context.Context // the caller's, the operation's
	cancel    context.CancelFunc
	etag      string
	size      int64 // the whole object's
	off       int64 // bytes read so far
	reads     int   // GETs made
	err       error // the first error, once final
}

func (o *object) Read(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	for {
		n, err := o.rc.Read(p)
		o.off += int64(n)
		if err == nil || err == io.EOF {
			return n, err
		}
		if n > 0 {
			return n, nil // the next Read fails again and resumes
		}
		if o.off == o.size {
			return 0, io.EOF
		}
		if rerr := o.resume(err); rerr != nil {
			o.err = rerr
			return 0, rerr
		}
	}
}

// resume replaces the broken body (which failed with err) by the rest of
// the same version of the object, after a backoff; it returns the error to
// give the caller if it cannot.
func (o *object) resume(err error) error {
	var idle *idleError
	switch {
	case o.ctx.Err() != nil:
		return fmt.Errorf("read %s: %w", o.key, o.ctx.Err())
	case o.s.expired(o.ctx, o.octx, "read", o.key) != nil:
		return o.s.expired(o.ctx, o.octx, "read", o.key)
	case errors.As(err, &idle):
		err = idle // drop the transport's wrapping
	}
	final := fmt.Errorf("read %s: %w", o.key, err)
	if o.reads >= maxAttempts {
		return final
	}
	backoff := min(200*time.Millisecond<<(o.reads-1), time.Second)
	select {
	case <-time.After(backoff):
	case <-o.octx.Done():
		return o.resume(err) // reports the caller's or the operation's end
	}
	o.rc.Close()
	o.reads++
	var opts minio.GetObjectOptions
	if err := opts.SetMatchETag(o.etag); err != nil {
		return final
	}
	if err := opts.SetRange(o.off, 0); err != nil {
		return final
	}
	body, oi, _, gerr := o.s.core.GetObject(o.octx, o.s.cfg.Bucket, o.s.object(o.key), opts)
	if gerr != nil {
		o.rc = io.NopCloser(strings.NewReader("")) // for Close
		if code, status := errCode(gerr); code == minio.PreconditionFailed || status == 412 ||
			code == minio.NoSuchKey || status == 404 {
			return fmt.Errorf("read %s: the object was replaced or deleted while being read (after %v)", o.key, err)
		}
		if o.ctx.Err() != nil || o.octx.Err() != nil {
			return o.resume(err)
		}
		return final
	}
	o.rc = body
	if oi.ETag != o.etag { // a server that ignores If-Match
		return fmt.Errorf("read %s: the object was replaced while being read (after %v)", o.key, err)
	}
	return nil
}

func (o *object) Close() error {
	err := o.rc.Close()
	o.cancel()
	return err
}

// Stat implements store.Store.
func (s *Store) Stat(ctx context.Context, key string) (store.Info, error) {
	if err := store.ValidKey(key); err != nil {
		return store.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Info{}, fmt.Errorf("stat %s: %w", key, err)
	}
	octx, cancel := s.bound(ctx)
	defer cancel()
	oi, err := s.client.StatObject(octx, s.cfg.Bucket, s.object(key), minio.StatObjectOptions{})
	if err != nil {
		return store.Info{}, s.mapErr(ctx, octx, "stat", key, err)
	}
	return store.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified, ETag: oi.ETag}, nil
}

// List implements store.Store. Objects whose names are not valid keys
// (written by other tools) are skipped. The operation's deadline bounds
// each wait for the next page of the listing, not the time fn takes.
func (s *Store) List(ctx context.Context, prefix string, fn func(store.Info) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %q: %w", prefix, err)
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		expired bool
	)
	timer := time.AfterFunc(s.timeout, func() {
		mu.Lock()
		expired = true
		mu.Unlock()
		cancel()
	})
	defer timer.Stop()
	// done is the error when the listing ended early: the caller's ctx,
	// or the page deadline.
	done := func() error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list %q: %w", prefix, err)
		}
		mu.Lock()
		defer mu.Unlock()
		if expired {
			return fmt.Errorf("list %q: no page within %v (timeout): %w", prefix, s.timeout, context.DeadlineExceeded)
		}
		return nil
	}
	opts := minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}
	for oi := range s.client.ListObjectsIter(lctx, s.cfg.Bucket, opts) {
		if oi.Err != nil {
			var idle *idleError
			switch err := done(); {
			case err != nil:
				return err
			case errors.As(oi.Err, &idle):
				return fmt.Errorf("list %q: %w", prefix, idle)
			}
			return fmt.Errorf("list %q: %w", prefix, flatten(oi.Err))
		}
		key, ok := strings.CutPrefix(oi.Key, s.prefix)
		if !ok || store.ValidKey(key) != nil {
			continue
		}
		timer.Stop() // fn's time is not the server's
		if err := fn(store.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified, ETag: oi.ETag}); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list %q: %w", prefix, err)
		}
		timer.Reset(s.timeout)
	}
	// minio-go ends a listing cut short by lctx without an error.
	return done()
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := store.ValidKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	octx, cancel := s.bound(ctx)
	defer cancel()
	err := s.client.RemoveObject(octx, s.cfg.Bucket, s.object(key), minio.RemoveObjectOptions{})
	if err != nil {
		if code, _ := errCode(err); code == minio.NoSuchKey {
			return nil
		}
		return s.mapErr(ctx, octx, "delete", key, err)
	}
	return nil
}
