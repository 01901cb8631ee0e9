package ops

import (
	"testing"
)

func TestMetricsSlackCalls(t *testing.T) {
	m := NewMetrics(version)
	h := m.Hooks()

	h.SlackCall("chat.postMessage", "")
	h.SlackCall("chat.postMessage", "")
	h.SlackCall("chat.postMessage", "ratelimited")
	h.SlackCall("chat.update", "ratelimited")
	h.SlackCall("chat.postMessage", "not_in_channel")
	h.SlackCall("chat.update", "some_new_code")
	h.SlackCall("chat.update", "http_503")
	h.SlackCall("conversations.replies", "http_404")
	h.SlackCall("https://evil/4242", "")
	h.SlackCall("response_url", "http_404") // an answer to one person

	fams := scrapeMetrics(t, Handler(m, Readiness{}, nil))

	wantMetric(t, fams, 2, "runjob_slack_calls_total", "method", "chat.postMessage", "result", "ok")
	wantMetric(t, fams, 1, "runjob_slack_calls_total", "method", "chat.postMessage", "result", "ratelimited")
	wantMetric(t, fams, 1, "runjob_slack_calls_total", "method", "chat.update", "result", "ratelimited")
	wantMetric(t, fams, 1, "runjob_slack_calls_total", "method", "chat.postMessage", "result", "not_in_channel")
	wantMetric(t, fams, 1, "runjob_slack_calls_total", "method", "chat.update", "result", "error")
	wantMetric(t, fams, 1, "runjob_slack_calls_total", "method", "chat.update", "result", "http_5xx")
	wantMetric(t, fams, 1, "runjob_slack_calls_total", "method", "conversations.replies", "result", "http_4xx")
	wantMetric(t, fams, 1, "runjob_slack_calls_total", "method", "other", "result", "ok")
	wantMetric(t, fams, 1, "runjob_slack_calls_total", "method", "response_url", "result", "http_4xx")
	wantMetric(t, fams, 1, "runjob_slack_ratelimited_total", "method", "chat.postMessage")
	wantMetric(t, fams, 1, "runjob_slack_ratelimited_total", "method", "chat.update")
	wantBoundedLabels(t, fams)
}
