package config

import (
	"strings"
	"testing"
)

// Every malformed watchdog value is refused with an error naming the
// variable; none starts the bot with a surprising threshold.
func TestConfigWatchdogEdges(t *testing.T) {
	for _, v := range []string{"-1m", "-0s1", "1", "30", "abc", "59s", "1e3m", "9999999999h", "30m30m30mx"} {
		t.Setenv("WATCHDOG_QUEUED_AFTER", v)
		_, err := loadChecked(t, validEnv())
		if err == nil || !strings.Contains(err.Error(), "WATCHDOG_QUEUED_AFTER") {
			t.Errorf("WATCHDOG_QUEUED_AFTER=%q: err %v, want one naming the variable", v, err)
		}
	}
	for _, v := range []string{"0", "0s", " 30m ", "1m"} {
		t.Setenv("WATCHDOG_STOPPING_AFTER", v)
		t.Setenv("WATCHDOG_QUEUED_AFTER", "30m")
		if _, err := loadChecked(t, validEnv()); err != nil {
			t.Errorf("WATCHDOG_STOPPING_AFTER=%q refused: %v", v, err)
		}
	}
	t.Setenv("WATCHDOG_STOPPING_AFTER", "")
	c, err := loadChecked(t, validEnv())
	t.Logf("empty: %v %v", c.WatchdogStoppingAfter, err)
}
