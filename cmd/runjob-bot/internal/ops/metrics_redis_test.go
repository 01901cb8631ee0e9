package ops

import "testing"

func TestMetricsUnreplicatedWrites(t *testing.T) {
	m := NewMetrics(version)
	h := WithHooks(Hooks{}, m.Hooks())
	h.Unreplicated("claim")
	h.Unreplicated("claim")
	h.Unreplicated("reply attempt")
	fams := scrapeMetrics(t, Handler(m, Readiness{}, nil))
	wantMetric(t, fams, 2, "runjob_redis_unreplicated_writes_total", "write", "claim")
	wantMetric(t, fams, 1, "runjob_redis_unreplicated_writes_total", "write", "reply attempt")
}
