package api

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Failed authentications are limited per client address: after
// MaxAuthFailures within AuthFailureWindow the address is locked out for
// LockoutFor, and every request it sends with a credential is answered 429
// without the credential being looked at, so a guessing client learns
// nothing more. Each failure and each lockout is an audit record and a
// metric. Behind a proxy every client shares the proxy's address: put the
// limit there too.
const (
	MaxAuthFailures   = 10
	AuthFailureWindow = time.Minute
	LockoutFor        = 5 * time.Minute
	maxTracked        = 100_000 // addresses remembered at most; the oldest go first
)

type failures struct {
	since  time.Time // the window's start
	n      int
	locked time.Time // locked out until
}

// lockout counts failed authentications per client address.
type lockout struct {
	max  int // failures within window that lock an address out
	mu   sync.Mutex
	now  func() time.Time
	by   map[string]*failures
	keys []string // insertion order, to forget the oldest beyond maxTracked
}

func newLockout(now func() time.Time) *lockout {
	return &lockout{max: MaxAuthFailures, now: now, by: map[string]*failures{}}
}

// clientAddr is the address a request came from, without its port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// lockedUntil reports whether addr is locked out now, and until when.
func (l *lockout) lockedUntil(addr string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.by[addr]
	if f == nil || !l.now().Before(f.locked) {
		return time.Time{}, false
	}
	return f.locked, true
}

// fail records a failed authentication from addr and reports whether it
// locked the address out.
func (l *lockout) fail(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	f := l.by[addr]
	if f == nil {
		if len(l.keys) >= maxTracked {
			delete(l.by, l.keys[0])
			l.keys = l.keys[1:]
		}
		f = &failures{since: now}
		l.by[addr] = f
		l.keys = append(l.keys, addr)
	}
	if now.Sub(f.since) > AuthFailureWindow {
		f.since, f.n = now, 0
	}
	f.n++
	if f.n >= l.max && !now.Before(f.locked) {
		f.locked, f.n, f.since = now.Add(LockoutFor), 0, now
		return true
	}
	return false
}
