package ops

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// redisProblem names the class of a Redis failure. go-redis errors may
// quote the address, and a URL may carry the password, so the error text
// itself is never shown; a server reply contributes only its leading code
// word (NOAUTH, WRONGPASS, LOADING, READONLY…).
func redisProblem(err error) string {
	var rerr redis.Error
	var dns *net.DNSError
	var nerr net.Error
	var cverr *tls.CertificateVerificationError
	var rherr tls.RecordHeaderError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "check canceled"
	case errors.Is(err, redis.ErrClosed):
		return "client closed"
	case errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrPoolExhausted):
		return "connection pool exhausted"
	case errors.As(err, &rerr):
		if word, _, _ := strings.Cut(rerr.Error(), " "); redisCodeRE.MatchString(word) {
			return "server error " + word
		}
		return "server error"
	case errors.As(err, &dns):
		return "cannot resolve host"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE):
		return "connection lost"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	case errors.As(err, &cverr), errors.As(err, &rherr):
		return "tls handshake failed"
	case errors.As(err, &nerr) && nerr.Timeout():
		return "timeout"
	}
	return "unavailable"
}

var redisCodeRE = regexp.MustCompile(`^[A-Z]{2,20}$`)
