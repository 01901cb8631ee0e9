package ops

import (
	"regexp"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// slackMetrics are the poster's: every Slack Web API call by result, and
// the ones Slack rate-limited. Fed by Hooks.SlackCall
// (deliver.PosterOptions.OnCall).
type slackMetrics struct {
	calls   *prometheus.CounterVec
	limited *prometheus.CounterVec
}

func newSlackMetrics(r prometheus.Registerer) *slackMetrics {
	s := &slackMetrics{
		calls:   counterVec("slack_calls_total", "Slack Web API calls, by method and result (ok, ratelimited, a Slack error code, http_4xx, http_5xx or error).", "method", "result"),
		limited: counterVec("slack_ratelimited_total", "Slack Web API calls answered with 429.", "method"),
	}
	r.MustRegister(s.calls, s.limited)
	return s
}

func (s *slackMetrics) observeCall(method, code string) {
	if method != responseURL && !slackMethodRE.MatchString(method) {
		method = "other"
	}
	result := slackResult(code)
	s.calls.WithLabelValues(method, result).Inc()
	if result == "ratelimited" {
		s.limited.WithLabelValues(method).Inc()
	}
}

// Label bounding.

var slackMethodRE = regexp.MustCompile(`^[a-z]+(\.[a-zA-Z]+){1,3}$`)

// responseURL is the method name of an answer posted to a response_url (not
// a Web API method, but a Slack call like one).
const responseURL = "response_url"

// slackCodes are the Slack error codes worth telling apart on a
// dashboard; any other becomes "error".
var slackCodes = map[string]bool{
	"ratelimited": true, "not_in_channel": true, "channel_not_found": true, "is_archived": true,
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"token_expired": true, "not_allowed_token_type": true, "missing_scope": true, "no_permission": true,
	"restricted_action": true, "team_access_not_granted": true, "ekm_access_denied": true,
	"msg_too_long": true, "no_text": true, "invalid_blocks": true, "invalid_arguments": true,
	"invalid_arg_name": true, "too_many_attachments": true, "message_not_found": true,
	"cant_update_message": true, "edit_window_closed": true, "thread_not_found": true,
	"invalid_ts_latest": true, "invalid_ts_oldest": true, "duplicate_channel_not_found": true,
	"request_timeout": true, "service_unavailable": true, "fatal_error": true, "internal_error": true,
}

// slackResult maps deliver.SlackErrorCode's answer to a bounded label.
func slackResult(code string) string {
	switch {
	case code == "":
		return "ok"
	case slackCodes[code]:
		return code
	case strings.HasPrefix(code, "http_4"):
		return "http_4xx"
	case strings.HasPrefix(code, "http_5"):
		return "http_5xx"
	}
	return "error"
}
