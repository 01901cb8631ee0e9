package ops

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/runjob/runjob/bot"
	"github.com/runjob/runjob/notifier"
	"github.com/runjob/runjob/xplenty"
)

// panicPlaces are the values of runjob_panics_total's where label.
var panicPlaces = []string{"envelope", "tick", "delivery"}

func (m *Metrics) observePanic(where string) {
	if !slices.Contains(panicPlaces, where) {
		where = "other"
	}
	m.panics.WithLabelValues(where).Inc()
}

func (m *Metrics) observeCommand(kind string, o bot.Outcome) {
	if kind != "command" && kind != "button" {
		kind = "other"
	}
	m.commands.WithLabelValues(kind, o.String()).Inc()
	if o == bot.Started {
		m.jobsStarted.Inc()
	}
}

func (m *Metrics) observeXplenty(method, route string, status int, d time.Duration) {
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead:
	default:
		method = "OTHER"
	}
	route = boundedRoute(route)
	code := "error"
	switch {
	case status >= 100 && status <= 599:
		code = strconv.Itoa(status)
	case status != 0:
		code = "other"
	}
	m.xplentyRequests.WithLabelValues(method, route, code).Inc()
	m.xplentyDuration.WithLabelValues(method, route).Observe(d.Seconds())
}

func (m *Metrics) observeSlackCall(method, code string) {
	if !slackMethodRE.MatchString(method) {
		method = "other"
	}
	result := slackResult(code)
	m.slackCalls.WithLabelValues(method, result).Inc()
	if result == "ratelimited" {
		m.slackLimited.WithLabelValues(method).Inc()
	}
}

func (m *Metrics) observeTick(st notifier.TickStats) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !st.Leader {
		m.isLeader = false
		m.leader.Set(0)
		m.tracked.Set(0)
		m.polls.WithLabelValues("follower").Inc()
		return
	}
	if !m.isLeader {
		m.isLeader, m.leaderSince = true, now
	}
	m.leader.Set(1)
	m.tracked.Set(float64(st.Active))
	m.callsPerTick.Observe(float64(st.Calls))
	m.jobProblems.WithLabelValues("read_failed").Add(float64(st.ReadFailed))
	m.jobProblems.WithLabelValues("given_up").Add(float64(st.GaveUp))
	m.jobProblems.WithLabelValues("undecodable").Add(float64(st.Undecodable))
	// TickStats carry no error. A tick with jobs to follow that read no
	// page of the change list failed; one with nothing to follow spends no
	// budget and is up to date.
	result := "ok"
	switch {
	case st.Active == 0:
		result = "idle"
	case st.Pages == 0:
		result = "failed"
	}
	m.polls.WithLabelValues(result).Inc()
	if result != "failed" {
		m.lastOK = now
		m.lastPoll.Set(float64(now.UnixNano()) / 1e9)
	}
}

// lag is read at scrape time: see runjob_watcher_lag_seconds.
func (m *Metrics) lag() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.isLeader {
		return 0
	}
	since := m.leaderSince
	if m.lastOK.After(since) {
		since = m.lastOK
	}
	return max(0, m.now().Sub(since).Seconds())
}

func (m *Metrics) observeDelivered(kind string, _ int64, status xplenty.Status) {
	if kind != "card" && kind != "reply" {
		kind = "other"
	}
	m.deliveries.WithLabelValues(kind).Inc()
	if kind != "reply" {
		return
	}
	s := "other"
	switch status {
	case xplenty.StatusCompleted, xplenty.StatusFailed, xplenty.StatusStopped:
		s = string(status)
	}
	m.jobsFinished.WithLabelValues(s).Inc()
}
