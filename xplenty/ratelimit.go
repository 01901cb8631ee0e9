package xplenty

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Xplenty allows each account 5,000 calls an hour, shared with every other
// tool on the account, and reports what is left in the X-RateLimit-Limit and
// X-RateLimit-Remaining headers of every answer.

// RateLimit is the API budget as of the last response.
type RateLimit struct {
	Limit     int       // X-RateLimit-Limit; 0 when never seen
	Remaining int       // X-RateLimit-Remaining
	Observed  time.Time // when the headers were read; zero when never
}

// RateLimit returns the budget reported by the latest answer that carried
// the X-RateLimit headers, successful or not. It is safe for concurrent use.
func (c *Client) RateLimit() RateLimit {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rate
}

// recordRate keeps the budget that h's X-RateLimit headers report, when
// it has them.
func (c *Client) recordRate(h http.Header) {
	limit, errL := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Limit")))
	remaining, errR := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Remaining")))
	if errL != nil && errR != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if errL == nil {
		c.rate.Limit = limit
	}
	if errR == nil {
		c.rate.Remaining = remaining
	}
	c.rate.Observed = time.Now()
}
