package tlsconfig

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"time"
)

// lingerTimeout bounds how long a closed connection keeps draining input.
const lingerTimeout = time.Second

// lingerMax bounds how much input a closed connection drains.
const lingerMax = 256 << 10

// Listener returns a TLS listener over inner whose connections close
// gracefully: on Close they shut down their write side and drain input for
// up to a second before releasing the socket. Without it, a server that
// refuses a TLS 1.3 client certificate closes a socket with the client's
// first request still unread, the kernel answers with a reset, and the
// client sees "broken pipe" instead of the alert saying its certificate was
// refused.
func Listener(inner net.Listener, cfg *tls.Config) net.Listener {
	return tls.NewListener(lingerListener{inner}, cfg)
}

type lingerListener struct{ net.Listener }

func (l lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newLingerConn(c), nil
}

type lingerConn struct {
	net.Conn
	once sync.Once
}

func newLingerConn(c net.Conn) net.Conn { return &lingerConn{Conn: c} }

type closeWriter interface{ CloseWrite() error }

func (c *lingerConn) Close() error {
	cw, ok := c.Conn.(closeWriter)
	if !ok {
		return c.Conn.Close()
	}
	var err error
	c.once.Do(func() {
		if err = cw.CloseWrite(); err != nil {
			err = c.Conn.Close()
			return
		}
		go func() {
			_ = c.Conn.SetReadDeadline(time.Now().Add(lingerTimeout))
			_, _ = io.CopyN(io.Discard, c.Conn, lingerMax)
			_ = c.Conn.Close()
		}()
	})
	return err
}
