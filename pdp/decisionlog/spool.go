package decisionlog

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ErrSpoolFull is returned when appending would take the spool past its
// cap: the operator's bound on disk use, past which records are dropped.
var ErrSpoolFull = errors.New("decisionlog: spool full")

// ErrClosed is returned by operations on a closed Logger or spool.
var ErrClosed = errors.New("decisionlog: closed")

const (
	segmentSuffix = ".seg"
	frameHeader   = 8 // length + CRC-32C, both big-endian uint32
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// spool is a directory of append-only segment files holding records that
// could not be published yet. Each record is one frame (length, CRC,
// payload); a torn frame at the end of a segment, left by a crash, ends
// that segment's replay instead of failing it.
type spool struct {
	dir      string
	maxBytes int64
	segBytes int64

	mu      sync.Mutex
	cur     *os.File
	curBuf  *bufio.Writer
	curSize int64
	nextSeq uint64
	total   int64
	closed  bool
}

func openSpool(dir string, maxBytes, segBytes int64) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("decisionlog: spool dir: %w", err)
	}
	s := &spool{dir: dir, maxBytes: maxBytes, segBytes: segBytes, nextSeq: 1}
	segs, err := s.segments()
	if err != nil {
		return nil, err
	}
	for _, seq := range segs {
		fi, err := os.Stat(s.path(seq))
		if err != nil {
			return nil, fmt.Errorf("decisionlog: spool: %w", err)
		}
		s.total += fi.Size()
		s.nextSeq = seq + 1
	}
	return s, nil
}

func (s *spool) path(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, segmentSuffix))
}

// segments lists the segment numbers in the directory, oldest first.
func (s *spool) segments() ([]uint64, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("decisionlog: spool: %w", err)
	}
	var out []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), segmentSuffix)
		if !ok {
			continue
		}
		if seq, err := strconv.ParseUint(name, 10, 64); err == nil {
			out = append(out, seq)
		}
	}
	slices.Sort(out)
	return out, nil
}

// append writes one record, or fails with ErrSpoolFull past the cap.
func (s *spool) append(payload []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	n := int64(frameHeader + len(payload))
	if s.maxBytes > 0 && s.total+n > s.maxBytes {
		return ErrSpoolFull
	}
	if s.cur != nil && s.curSize+n > s.segBytes {
		if err := s.rollLocked(); err != nil {
			return err
		}
	}
	if s.cur == nil {
		f, err := os.OpenFile(s.path(s.nextSeq), os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("decisionlog: spool: %w", err)
		}
		s.nextSeq++
		s.cur, s.curBuf, s.curSize = f, bufio.NewWriter(f), 0
	}
	var h [frameHeader]byte
	binary.BigEndian.PutUint32(h[:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(h[4:], crc32.Checksum(payload, crcTable))
	if _, err := s.curBuf.Write(h[:]); err != nil {
		return fmt.Errorf("decisionlog: spool: %w", err)
	}
	if _, err := s.curBuf.Write(payload); err != nil {
		return fmt.Errorf("decisionlog: spool: %w", err)
	}
	if err := s.curBuf.Flush(); err != nil {
		return fmt.Errorf("decisionlog: spool: %w", err)
	}
	s.curSize += n
	s.total += n
	return nil
}

// rollLocked closes the current segment so that drain may read it.
func (s *spool) rollLocked() error {
	if s.cur == nil {
		return nil
	}
	err := s.cur.Close()
	s.cur, s.curBuf = nil, nil
	if err != nil {
		return fmt.Errorf("decisionlog: spool: %w", err)
	}
	return nil
}

// pending reports whether the spool holds records.
func (s *spool) pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total > 0
}

// drain hands the records of every closed segment, oldest first, to send,
// one segment at a time, and deletes a segment once send accepted all of
// it. On a send error the segment stays and will be sent again in full
// (JetStream deduplicates on the decision id). It returns the number of
// records sent.
func (s *spool) drain(send func([][]byte) error) (int, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, ErrClosed
	}
	if err := s.rollLocked(); err != nil {
		s.mu.Unlock()
		return 0, err
	}
	segs, err := s.segments()
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, seq := range segs {
		recs, size, err := readSegment(s.path(seq))
		if err != nil {
			return sent, err
		}
		if len(recs) > 0 {
			if err := send(recs); err != nil {
				return sent, err
			}
		}
		if err := os.Remove(s.path(seq)); err != nil {
			return sent, fmt.Errorf("decisionlog: spool: %w", err)
		}
		sent += len(recs)
		s.mu.Lock()
		s.total -= size
		s.mu.Unlock()
	}
	return sent, nil
}

// readSegment reads the frames of one segment, stopping at a torn or
// corrupt frame.
func readSegment(path string) ([][]byte, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("decisionlog: spool: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("decisionlog: spool: %w", err)
	}
	r := bufio.NewReader(f)
	var out [][]byte
	for {
		var h [frameHeader]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			break
		}
		n := binary.BigEndian.Uint32(h[:4])
		if int64(n) > fi.Size() {
			break
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(r, p); err != nil {
			break
		}
		if crc32.Checksum(p, crcTable) != binary.BigEndian.Uint32(h[4:]) {
			break
		}
		out = append(out, p)
	}
	return out, fi.Size(), nil
}

// close closes the current segment; idempotent.
func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.rollLocked()
}
