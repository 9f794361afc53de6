package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
	err := s.reader.QueryRowContext(ctx, `SELECT head FROM services WHERE name = ?`, service).Scan(&head)
	if errors.Is(err, sql.ErrNoRows) {
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

// load reads a revision and its content. A revision is written in one
// transaction and never changes, so separate reads of its rows agree.
func (s *Store) load(ctx context.Context, service string, number int64) (store.Revision, error) {
	var (
		row     summaryRow
		content store.Content
	)
	err := s.reader.QueryRowContext(ctx, `SELECT `+summaryColumns+`, root_policy_id, data
		FROM revisions WHERE service = ? AND revision = ?`, service, number).
		Scan(append(row.dest(), &content.RootPolicyID, &content.Data)...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Revision{}, store.ErrNotFound
	}
	if err != nil {
		return store.Revision{}, err
	}
	if content.Sources, err = s.loadSources(ctx, service, number); err != nil {
		return store.Revision{}, err
	}
	if content.Rego, err = s.loadRego(ctx, service, number); err != nil {
		return store.Revision{}, err
	}
	return store.Revision{Summary: row.summary(), Content: content.Canonical()}, nil
}

func (s *Store) loadSources(ctx context.Context, service string, number int64) ([]store.Source, error) {
	rows, err := s.reader.QueryContext(ctx,
		`SELECT name, format, content FROM revision_sources WHERE service = ? AND revision = ?`, service, number)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var sources []store.Source
	for rows.Next() {
		var src store.Source
		if err := rows.Scan(&src.Name, &src.Format, &src.Content); err != nil {
			return nil, err
		}
		sources = append(sources, src)
	}
	return sources, rows.Err()
}

func (s *Store) loadRego(ctx context.Context, service string, number int64) (map[string]string, error) {
	rows, err := s.reader.QueryContext(ctx,
		`SELECT path, source FROM revision_rego WHERE service = ? AND revision = ?`, service, number)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	rego := map[string]string{}
	for rows.Next() {
		var path, source string
		if err := rows.Scan(&path, &source); err != nil {
			return nil, err
		}
		rego[path] = source
	}
	return rego, rows.Err()
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
	rows, err := s.reader.QueryContext(ctx, `SELECT `+summaryColumns+` FROM revisions
		WHERE service = ? AND (? = 0 OR revision < ?)
		ORDER BY revision DESC LIMIT ?`, service, before, before, size+1)
	if err != nil {
		return store.Page[store.Summary]{}, err
	}
	defer rows.Close()
	var items []store.Summary
	for rows.Next() {
		var row summaryRow
		if err := rows.Scan(row.dest()...); err != nil {
			return store.Page[store.Summary]{}, err
		}
		items = append(items, row.summary())
	}
	if err := rows.Err(); err != nil {
		return store.Page[store.Summary]{}, err
	}
	if len(items) == 0 {
		// Tell an unknown service from a cursor past the first revision.
		var one int
		err := s.reader.QueryRowContext(ctx, `SELECT 1 FROM services WHERE name = ?`, service).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return store.Page[store.Summary]{}, fmt.Errorf("no revision: %w", store.ErrNotFound)
		}
		if err != nil {
			return store.Page[store.Summary]{}, err
		}
	}
	result := store.Page[store.Summary]{Items: items}
	if len(items) > size {
		result.Items = items[:size]
		result.Next = items[size-1].Number
	}
	return result, nil
}

// Services returns every service with at least one revision, by name.
func (s *Store) Services(ctx context.Context) ([]store.Service, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT name, head, updated_at FROM services ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	defer rows.Close()
	var services []store.Service
	for rows.Next() {
		var (
			svc     store.Service
			updated int64
		)
		if err := rows.Scan(&svc.Name, &svc.Head, &updated); err != nil {
			return nil, fmt.Errorf("list services: %w", err)
		}
		svc.UpdatedAt = fromMicros(updated)
		services = append(services, svc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	return services, nil
}
