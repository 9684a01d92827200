package sagemaker

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/ksbfolio/ksbfolio/collectors"
	"github.com/ksbfolio/ksbfolio/internal/sourceconfig"
)

// SourceType is the items' source_type, and the ID namespace of NewID.
const SourceType = "sagemaker"

// SourceConfig is a sagemaker source as the user writes it, besides its
// name and type. Credentials are not written here: they come from the
// standard AWS chain (environment, shared config and credentials files,
// SSO, web identity, container or instance role).
type SourceConfig struct {
	// Region is the AWS region ("eu-west-2"); empty: the chain's
	// (AWS_REGION, the profile's region).
	Region string `yaml:"region,omitempty" json:"region,omitempty"`
	// Profile is the shared-config profile; empty: AWS_PROFILE or default.
	Profile string `yaml:"profile,omitempty" json:"profile,omitempty"`
	// Endpoint overrides the SageMaker API URL (a VPC endpoint, a test
	// server); empty: the region's.
	Endpoint string `yaml:"endpoint,omitempty" json:"endpoint,omitempty"`
	// NameContains keeps only the training jobs whose name contains it
	// (ListTrainingJobs' NameContains).
	NameContains string `yaml:"name_contains,omitempty" json:"name_contains,omitempty"`
	// Endpoints, when false, skips endpoints (default true).
	Endpoints *bool `yaml:"endpoints,omitempty" json:"endpoints,omitempty"`
}

var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// check is the one validation of what the user writes.
func (sc SourceConfig) check() map[string]string {
	ps := map[string]string{}
	if sc.Region != "" && !regionPattern.MatchString(sc.Region) {
		ps["region"] = fmt.Sprintf("%q is not an AWS region name like eu-west-2", sc.Region)
	}
	if sc.Endpoint != "" {
		u, err := url.Parse(sc.Endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			ps["endpoint"] = "want an http or https URL without credentials"
		}
	}
	if strings.ContainsAny(sc.NameContains, "\n\r") {
		ps["name_contains"] = "no line breaks"
	}
	return ps
}

// Config is one sagemaker collector as the code builds it.
type Config struct {
	Name       string // the configured source name
	Apprentice string // the apprentice ID written into every item
	SourceConfig
}

// Validate checks cfg without calling AWS.
func (cfg Config) Validate() error {
	var errs []error
	if strings.TrimSpace(cfg.Name) == "" {
		errs = append(errs, errors.New("name: must be set"))
	}
	if strings.TrimSpace(cfg.Apprentice) == "" {
		errs = append(errs, errors.New("apprentice: must be set"))
	}
	for _, k := range []string{"region", "endpoint", "name_contains"} {
		if msg, ok := cfg.check()[k]; ok {
			errs = append(errs, errors.New(k+": "+msg))
		}
	}
	return errors.Join(errs...)
}

// NewFactory returns the factory of sagemaker sources, for
// collectors/registry.
func NewFactory() collectors.Factory {
	return collectors.NewFactory(SourceType, decodeSource, newFromSource)
}

func decodeSource(k *sourceconfig.SourceKeys) *SourceConfig {
	var sc SourceConfig
	k.Decode(&sc)
	for _, key := range []string{"region", "endpoint", "name_contains"} {
		if msg, ok := sc.check()[key]; ok {
			k.Problem(key, "%s", msg)
		}
	}
	return &sc
}

func newFromSource(sc *SourceConfig, set collectors.Settings) (collectors.Collector, error) {
	return New(Config{Name: set.Name, Apprentice: set.Apprentice.ID, SourceConfig: *sc}, set)
}
