package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/verdict-authz/verdict/pap/store"
)

// Get returns one revision with its content.
func (s *Store) Get(ctx context.Context, service string, number int64) (store.Revision, error) {
	if err := s.open(); err != nil {
		return store.Revision{}, err
	}
	if err := store.ValidateService(service); err != nil {
		return store.Revision{}, err
	}
	if err := store.ValidateRevision(number); err != nil {
		return store.Revision{}, err
	}
	rev, err := s.load(ctx, service, number)
	if err != nil {
		return store.Revision{}, fmt.Errorf("get revision %d of service %q: %w", number, service, err)
	}
	return rev, nil
}

// Latest returns the head revision of a service.
func (s *Store) Latest(ctx context.Context, service string) (store.Revision, error) {
	if err := s.open(); err != nil {
		return store.Revision{}, err
	}
	if err := store.ValidateService(service); err != nil {
		return store.Revision{}, err
	}
	var head int64
	err := s.pool.QueryRow(ctx, `SELECT head FROM services WHERE name = $1`, service).Scan(&head)
	if errors.Is(err, pgx.ErrNoRows) {
		err = fmt.Errorf("no revision: %w", store.ErrNotFound)
	}
	if err == nil {
		var rev store.Revision
		if rev, err = s.load(ctx, service, head); err == nil {
			return rev, nil
		}
	}
	return store.Revision{}, fmt.Errorf("get latest revision of service %q: %w", service, err)
}

// load reads a revision and its content, sending the three queries in one
// round trip. A revision is written in one transaction and never changes,
// so the three reads agree.
func (s *Store) load(ctx context.Context, service string, number int64) (store.Revision, error) {
	var (
		row     summaryRow
		content store.Content
		found   bool
	)
	batch := &pgx.Batch{}
	batch.Queue(`SELECT `+summaryColumns+`, root_policy_id, data FROM revisions WHERE service = $1 AND revision = $2`,
		service, number).QueryRow(func(r pgx.Row) error {
		err := r.Scan(append(row.dest(), &content.RootPolicyID, &content.Data)...)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	batch.Queue(`SELECT name, format, content FROM revision_sources WHERE service = $1 AND revision = $2`,
		service, number).Query(func(rows pgx.Rows) error {
		var src store.Source
		_, err := pgx.ForEachRow(rows, []any{&src.Name, &src.Format, &src.Content}, func() error {
			content.Sources = append(content.Sources, src)
			return nil
		})
		return err
	})
	content.Rego = map[string]string{}
	batch.Queue(`SELECT path, source FROM revision_rego WHERE service = $1 AND revision = $2`,
		service, number).Query(func(rows pgx.Rows) error {
		var path, source string
		_, err := pgx.ForEachRow(rows, []any{&path, &source}, func() error {
			content.Rego[path] = source
			return nil
		})
		return err
	})
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return store.Revision{}, err
	}
	if !found {
		return store.Revision{}, store.ErrNotFound
	}
	return store.Revision{Summary: row.summary(), Content: content.Canonical()}, nil
}

// List returns one page of a service's revisions, newest first.
func (s *Store) List(ctx context.Context, service string, page store.PageOptions) (store.Page[store.Summary], error) {
	if err := s.open(); err != nil {
		return store.Page[store.Summary]{}, err
	}
	if err := store.ValidateService(service); err != nil {
		return store.Page[store.Summary]{}, err
	}
	size, err := page.Size()
	if err != nil {
		return store.Page[store.Summary]{}, err
	}
	result, err := s.list(ctx, service, page.Before, size)
	if err != nil {
		return store.Page[store.Summary]{}, fmt.Errorf("list revisions of service %q: %w", service, err)
	}
	return result, nil
}

func (s *Store) list(ctx context.Context, service string, before int64, size int) (store.Page[store.Summary], error) {
	// One extra row tells whether another page follows.
	rows, err := s.pool.Query(ctx, `SELECT `+summaryColumns+` FROM revisions
		WHERE service = $1 AND ($2::bigint = 0 OR revision < $2::bigint)
		ORDER BY revision DESC LIMIT $3`, service, before, size+1)
	if err != nil {
		return store.Page[store.Summary]{}, err
	}
	var (
		row   summaryRow
		items []store.Summary
	)
	if _, err := pgx.ForEachRow(rows, row.dest(), func() error {
		items = append(items, row.summary())
		return nil
	}); err != nil {
		return store.Page[store.Summary]{}, err
	}
	if len(items) == 0 {
		// Tell an unknown service from a cursor past the first revision.
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM services WHERE name = $1)`, service).Scan(&exists); err != nil {
			return store.Page[store.Summary]{}, err
		}
		if !exists {
			return store.Page[store.Summary]{}, fmt.Errorf("no revision: %w", store.ErrNotFound)
		}
	}
	result := store.Page[store.Summary]{Items: items}
	if len(items) > size {
		result.Items = items[:size]
		result.Next = items[size-1].Number
	}
	return result, nil
}

// Services returns every service with at least one revision, by name in
// byte order (COLLATE "C"), whatever the database's collation.
func (s *Store) Services(ctx context.Context) ([]store.Service, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT name, head, updated_at FROM services ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	var (
		svc      store.Service
		services []store.Service
	)
	if _, err := pgx.ForEachRow(rows, []any{&svc.Name, &svc.Head, &svc.UpdatedAt}, func() error {
		svc.UpdatedAt = svc.UpdatedAt.UTC()
		services = append(services, svc)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	return services, nil
}
