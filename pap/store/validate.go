package store

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ValidateService returns ErrInvalid unless name follows DESIGN.md's rule,
// [a-z0-9][a-z0-9-]{0,62}: a valid NATS subject token, so that
// verdict.bundle.<service> is always well formed. Backends call it before
// touching the database so that every backend refuses the same names.
func ValidateService(name string) error {
	valid := len(name) >= 1 && len(name) <= 63
	for i := 0; valid && i < len(name); i++ {
		c := name[i]
		valid = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0
	}
	if !valid {
		return fmt.Errorf("%w: service name %q must match [a-z0-9][a-z0-9-]{0,62}", ErrInvalid, name)
	}
	return nil
}

// ValidateRevision returns ErrInvalid unless number can be a revision
// number.
func ValidateRevision(number int64) error {
	if number < 1 {
		return fmt.Errorf("%w: revision number %d must be at least 1", ErrInvalid, number)
	}
	return nil
}

// Validate returns ErrInvalid, naming the first problem, when the draft
// cannot become a revision whatever the store holds. Checks that need the
// database (the parent is the head, RollbackOf exists) are Create's.
func (d Draft) Validate() error {
	if err := ValidateService(d.Service); err != nil {
		return err
	}
	switch {
	case d.Parent < 0:
		return fmt.Errorf("%w: parent revision %d is negative", ErrInvalid, d.Parent)
	case d.RollbackOf < 0:
		return fmt.Errorf("%w: rollback target revision %d is negative", ErrInvalid, d.RollbackOf)
	case d.RollbackOf > d.Parent:
		return fmt.Errorf("%w: rollback target revision %d is after parent revision %d", ErrInvalid, d.RollbackOf, d.Parent)
	case d.Author == "":
		return fmt.Errorf("%w: author is empty", ErrInvalid)
	}
	if err := validText("author", d.Author); err != nil {
		return err
	}
	if err := validText("message", d.Message); err != nil {
		return err
	}
	return d.Content.validate()
}

// validText refuses text a database may not keep as given: invalid UTF-8,
// or NUL (which PostgreSQL text cannot hold). Refusing it in every backend
// keeps them interchangeable.
func validText(field, s string) error {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return fmt.Errorf("%w: %s %q is not valid UTF-8 text without NUL", ErrInvalid, field, s)
	}
	return nil
}

func (c Content) validate() error {
	if len(c.Sources) == 0 {
		return fmt.Errorf("%w: no policy sources", ErrInvalid)
	}
	seen := make(map[string]bool, len(c.Sources))
	for i, s := range c.Sources {
		switch {
		case s.Name == "":
			return fmt.Errorf("%w: source %d has no name", ErrInvalid, i)
		case seen[s.Name]:
			return fmt.Errorf("%w: source %q appears twice", ErrInvalid, s.Name)
		case s.Format == "":
			return fmt.Errorf("%w: source %q has no format", ErrInvalid, s.Name)
		}
		if err := validText("source name", s.Name); err != nil {
			return err
		}
		if err := validText("format of source "+s.Name, s.Format); err != nil {
			return err
		}
		seen[s.Name] = true
	}
	if c.RootPolicyID == "" {
		return fmt.Errorf("%w: root policy id is empty", ErrInvalid)
	}
	if err := validText("root policy id", c.RootPolicyID); err != nil {
		return err
	}
	if len(c.Rego) == 0 {
		return fmt.Errorf("%w: no compiled Rego", ErrInvalid)
	}
	for path, source := range c.Rego {
		if path == "" {
			return fmt.Errorf("%w: compiled Rego module with an empty path", ErrInvalid)
		}
		if err := validText("Rego module path", path); err != nil {
			return err
		}
		if err := validText("Rego module "+path, source); err != nil {
			return err
		}
	}
	return nil
}

// Validate returns ErrInvalid when the query cannot be answered: a malformed
// service name, an unknown action, an empty time range or a bad page.
func (q ChangeQuery) Validate() error {
	if q.Service != "" {
		if err := ValidateService(q.Service); err != nil {
			return err
		}
	}
	if err := validText("author", q.Author); err != nil {
		return err
	}
	switch q.Action {
	case "", ActionPush, ActionRollback:
	default:
		return fmt.Errorf("%w: unknown action %q", ErrInvalid, q.Action)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return fmt.Errorf("%w: time range [%s, %s) is empty", ErrInvalid, q.Since, q.Until)
	}
	_, err := q.Page.Size()
	return err
}
