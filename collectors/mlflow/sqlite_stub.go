package mlflow

import (
	"context"
	"errors"

	"github.com/ksbfolio/ksbfolio/collectors"
)

type sqliteStore struct {
	path string
	cfg  SourceConfig
}

func (s *sqliteStore) runs(context.Context, filter, func(*runRecord) error, func(collectors.Skipped)) error {
	return errors.New("sqlite stores are not supported yet")
}

func (s *sqliteStore) versions(context.Context, func(*versionRecord) error, func(collectors.Skipped)) error {
	return nil
}
