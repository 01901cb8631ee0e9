package config

import (
	"slices"
	"testing"
)

// Read reads exactly the variables of Vars, in their order, so that the
// table deploy/ is checked against is the list the bot reads.
func TestReadReadsEveryVar(t *testing.T) {
	var asked, want []string
	Read(func(name string) (string, bool) { asked = append(asked, name); return "", false }, nil)
	for _, v := range Vars {
		want = append(want, v.Name)
	}
	if !slices.Equal(asked, want) {
		t.Errorf("Read asks for\n %v\nVars lists\n %v", asked, want)
	}
}

// A variable that is not set takes the mode's default; one set to "" stays
// empty (serve then names it as wrong rather than guess).
func TestReadDefaults(t *testing.T) {
	env := map[string]string{"LOG_LEVEL": ""}
	e := Read(func(name string) (string, bool) { v, ok := env[name]; return v, ok }, ServeDefaults())
	if e.PollInterval != "10s" || e.RedisPrefix != "runjob:" || e.HTTPAddr != ":8080" || e.LogLevel != "" || e.SlackAppToken != "" {
		t.Errorf("Read = %+v", e)
	}
}
