package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Link is a chain position and the chain hash there: a chain head, or the
// point a checkpoint vouches for.
type Link struct {
	Seq  int64
	Hash string
}

// ChainHash is the chain hash of the record data at position seq of
// service's chain following prev. It covers the service and position as
// well as the content, so a record cannot be moved to another place or
// chain without changing the hash.
func ChainHash(service string, seq int64, prev string, data []byte) string {
	h := sha256.New()
	h.Write([]byte("verdict-audit-chain-v1\n"))
	h.Write([]byte(service))
	h.Write([]byte{'\n'})
	h.Write([]byte(strconv.FormatInt(seq, 10)))
	h.Write([]byte{'\n'})
	h.Write([]byte(prev))
	h.Write([]byte{'\n'})
	h.Write(data)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Chain links e after head: it sets e's position and hashes and returns
// the new head. Stores call it inside the transaction that inserts e.
func Chain(head Link, e *Entry) Link {
	e.Seq = head.Seq + 1
	e.PrevHash = head.Hash
	e.Hash = ChainHash(e.Service, e.Seq, e.PrevHash, e.Data)
	return Link{Seq: e.Seq, Hash: e.Hash}
}
