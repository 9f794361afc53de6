package ocspresponder

import (
	"errors"
	"log/slog"
)

// slogLevelFor keeps client mistakes at Info and our own failures at Error,
// so that alerting on Error only fires for responder problems.
func slogLevelFor(err error) slog.Level {
	if errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnauthorized) {
		return slog.LevelInfo
	}
	return slog.LevelError
}
