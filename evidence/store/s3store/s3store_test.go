package s3store_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

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
