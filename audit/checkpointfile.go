package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// CheckpointFile is an append-only file of checkpoints, one JSON object a
// line, kept apart from the store (ideally on other storage, or shipped
// off the host) so that it survives tampering with the store.
type CheckpointFile struct {
	path string
	mu   sync.Mutex
}

// NewCheckpointFile returns the checkpoint file at path; the file is
// created on the first Append.
func NewCheckpointFile(path string) *CheckpointFile { return &CheckpointFile{path: path} }

// Append writes checkpoints and syncs the file, since a checkpoint that
// can be lost in a crash vouches for nothing.
func (f *CheckpointFile) Append(cps ...Checkpoint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	fh, err := os.OpenFile(f.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit: checkpoint file: %w", err)
	}
	w := bufio.NewWriter(fh)
	for _, c := range cps {
		b, err := json.Marshal(c)
		if err != nil {
			fh.Close()
			return fmt.Errorf("audit: checkpoint file: %w", err)
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := errors.Join(w.Flush(), fh.Sync()); err != nil {
		fh.Close()
		return fmt.Errorf("audit: checkpoint file: %w", err)
	}
	return fh.Close()
}

// Latest returns the newest checkpoint (highest sequence) of every service
// in the file. A missing file holds none. Lines that do not parse are
// skipped: Verify reports missing coverage, not a parse error.
func (f *CheckpointFile) Latest() (map[string]Checkpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]Checkpoint{}
	fh, err := os.Open(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoint file: %w", err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var c Checkpoint
		if json.Unmarshal(sc.Bytes(), &c) != nil {
			continue
		}
		if old, ok := out[c.Service]; !ok || c.Seq >= old.Seq {
			out[c.Service] = c
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit: checkpoint file: %w", err)
	}
	return out, nil
}
