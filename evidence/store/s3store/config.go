package s3store

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ksbfolio/ksbfolio/evidence/store"
)

// DefaultEndpoint is the endpoint of a store URL without endpoint=.
const DefaultEndpoint = "s3.amazonaws.com"

// Defaults of Config.Timeout and Config.IdleTimeout (URL parameters
// timeout= and idle_timeout=).
const (
	DefaultTimeout     = 5 * time.Minute
	DefaultIdleTimeout = 30 * time.Second
)

// Config says where the store is and how to reach it.
type Config struct {
	Bucket string
	// Prefix is prepended, with a slash, to every key: "team/jdoe" stores
	// key "items/x.json" as object "team/jdoe/items/x.json". Empty: keys
	// are object names.
	Prefix   string
	Endpoint string // host[:port], no scheme; empty: DefaultEndpoint
	Region   string // empty: asked of the server
	Insecure bool   // plain HTTP instead of TLS
	// Timeout bounds one operation from its first request to the end of
	// its response body, retries included (a Get: until the reader is
	// closed; a List: each page). Zero: DefaultTimeout.
	Timeout time.Duration
	// IdleTimeout bounds every wait on the server: connecting, the TLS
	// handshake, the response's headers, and each read of a response body
	// (a body that stalls mid-way fails after this long). Zero:
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Static credentials. Empty AccessKey: from the environment
	// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, or
	// MINIO_ACCESS_KEY, MINIO_SECRET_KEY), then the AWS shared credentials
	// file, then IAM (instance or container role, unless
	// AWS_EC2_METADATA_DISABLED=true).
	AccessKey, SecretKey, SessionToken string
}

// String gives the store's URL without credentials: s3://bucket/prefix.
func (c Config) String() string {
	if c.Prefix == "" {
		return "s3://" + c.Bucket
	}
	return "s3://" + c.Bucket + "/" + c.Prefix
}

var (
	bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	regionRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// ParseURL reads a store URL:
//
//	s3://BUCKET[/PREFIX][?endpoint=HOST[:PORT]][&region=REGION][&insecure=true]
//	    [&timeout=DURATION][&idle_timeout=DURATION]
//
// endpoint defaults to DefaultEndpoint, and TLS is on unless insecure=true.
// Durations are Go durations ("90s", "5m"); see Config.Timeout and
// Config.IdleTimeout.
// Unknown or repeated parameters are errors. Credentials are never accepted
// in the URL (user info or parameters such as access_key are errors): they
// come from the environment, the shared credentials file or IAM.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the whole input, which may hold a secret.
		return Config{}, errors.New("s3 store URL: not a URL")
	}
	where := "s3 store URL s3://" + u.Host + u.EscapedPath()
	if u.Scheme != "s3" {
		return Config{}, fmt.Errorf("s3 store URL: scheme is %q, want s3://bucket/prefix", u.Scheme)
	}
	if u.User != nil {
		return Config{}, fmt.Errorf("%s: credentials are never accepted in the URL; "+
			"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use a shared credentials file or IAM", where)
	}
	if u.Opaque != "" {
		return Config{}, fmt.Errorf("s3 store URL: want s3://bucket/prefix, with two slashes")
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return Config{}, fmt.Errorf("%s: unexpected #fragment", where)
	}
	cfg := Config{Bucket: u.Host, Endpoint: DefaultEndpoint}
	cfg.Prefix = strings.Trim(u.Path, "/")
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Config{}, fmt.Errorf("%s: query: %w", where, err)
	}
	for name, vals := range q {
		if credentialParam(name) {
			return Config{}, fmt.Errorf("%s: parameter %q: credentials are never accepted in the URL; "+
				"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use a shared credentials file or IAM", where, name)
		}
		if len(vals) != 1 {
			return Config{}, fmt.Errorf("%s: parameter %q given %d times", where, name, len(vals))
		}
		v := vals[0]
		switch name {
		case "endpoint":
			cfg.Endpoint = v
		case "region":
			cfg.Region = v
		case "insecure":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return Config{}, fmt.Errorf("%s: insecure=%q: want true or false", where, v)
			}
			cfg.Insecure = b
		case "timeout", "idle_timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return Config{}, fmt.Errorf("%s: %s=%q: want a positive duration such as 30s or 5m", where, name, v)
			}
			if name == "timeout" {
				cfg.Timeout = d
			} else {
				cfg.IdleTimeout = d
			}
		default:
			return Config{}, fmt.Errorf("%s: unknown parameter %q (known: endpoint, region, insecure, timeout, idle_timeout)", where, name)
		}
	}
	if err := cfg.validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", where, err)
	}
	return cfg, nil
}

// credentialParam reports whether a query parameter looks like it carries a
// credential.
func credentialParam(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"access", "secret", "token", "key", "password", "credential", "signature"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// validate checks cfg, filling in the default endpoint and normalising the
// prefix.
func (c *Config) validate() error {
	if !bucketRE.MatchString(c.Bucket) || strings.Contains(c.Bucket, "..") || net.ParseIP(c.Bucket) != nil {
		return fmt.Errorf("bucket %q: want 3-63 lowercase letters, digits, dots or hyphens", c.Bucket)
	}
	c.Prefix = strings.Trim(c.Prefix, "/")
	if c.Prefix != "" {
		if err := store.ValidKey(c.Prefix); err != nil {
			return fmt.Errorf("prefix: %w", err)
		}
	}
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	if strings.Contains(c.Endpoint, "://") || strings.ContainsAny(c.Endpoint, "/?#@ ") {
		return fmt.Errorf("endpoint %q: want host or host:port, without scheme or path (insecure=true for plain HTTP)", c.Endpoint)
	}
	if _, port, err := net.SplitHostPort(c.Endpoint); err == nil {
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("endpoint %q: bad port", c.Endpoint)
		}
	} else if strings.Contains(c.Endpoint, ":") && !strings.HasPrefix(c.Endpoint, "[") {
		return fmt.Errorf("endpoint %q: %v", c.Endpoint, err)
	}
	if c.Region != "" && !regionRE.MatchString(c.Region) {
		return fmt.Errorf("region %q: want lowercase letters, digits and hyphens, like eu-west-2", c.Region)
	}
	if c.Timeout < 0 || c.IdleTimeout < 0 {
		return errors.New("timeouts must be positive")
	}
	if c.Timeout > 0 && c.IdleTimeout > c.Timeout {
		return fmt.Errorf("idle_timeout %v is longer than timeout %v", c.IdleTimeout, c.Timeout)
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		return errors.New("give both an access key and a secret key, or neither")
	}
	return nil
}
