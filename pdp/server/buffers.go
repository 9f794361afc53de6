package server

import (
	"bytes"
	"sync"
)

// maxPooledBuffer is the largest buffer kept for reuse: a rare large batch
// must not pin its memory in the pool.
const maxPooledBuffer = 64 << 10

// bufferPool recycles the buffers request bodies are read into and
// responses are encoded into, so that a request does not allocate and
// grow fresh ones.
type bufferPool struct{ p sync.Pool }

func (bp *bufferPool) get() *bytes.Buffer {
	if b, ok := bp.p.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

func (bp *bufferPool) put(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	bp.p.Put(b)
}
