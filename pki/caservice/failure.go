package caservice

import (
	"context"
	"log/slog"

	"connectrpc.com/connect"
)

// failure logs a failed call with the caller's identity and returns the code
// and message to send. Refusals are logged at info, internal errors at error
// with their detail, which the caller does not see.
func (s *Service) failure(ctx context.Context, method string, err error) (connect.Code, string) {
	c, msg := code(err)
	level := slog.LevelInfo
	if c == connect.CodeInternal {
		level = slog.LevelError
	}
	s.cfg.logger.Log(ctx, level, "ca rpc: call failed", "method", method, "caller", caller(ctx).String(),
		"code", c.String(), "error", err)
	return c, msg
}
