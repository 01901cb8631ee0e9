package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseHookAuth(t *testing.T) {
	for _, c := range []struct {
		in         string
		user, pass string
		bad        bool
	}{
		{in: ""}, {in: "   "},
		{in: "xplenty:s3cret-Pa55", user: "xplenty", pass: "s3cret-Pa55"},
		{in: " xplenty:pa:ss:word ", user: "xplenty", pass: "pa:ss:word"}, // split at the first colon, as Basic auth does
		{in: "xplenty:pass word", user: "xplenty", pass: "pass word"},
		{in: "justapassword", bad: true},
		{in: ":s3cret-Pa55", bad: true},
		{in: "xplenty:", bad: true},
		{in: ":", bad: true},
		{in: "xplenty:s3cret\nPa55", bad: true},
		{in: "xplenty:s3cret\x00", bad: true},
	} {
		a, err := ParseHookAuth(c.in)
		switch {
		case c.bad && err == nil:
			t.Errorf("ParseHookAuth(%q) = %v, want an error", c.in, a)
		case !c.bad && (err != nil || a.User != c.user || a.Password != c.pass):
			t.Errorf("ParseHookAuth(%q) = %q, %q, %v; want %q, %q", c.in, a.User, a.Password, err, c.user, c.pass)
		}
		if err != nil && len(strings.TrimSpace(c.in)) > 3 && strings.Contains(err.Error(), strings.TrimSpace(c.in)) {
			t.Errorf("ParseHookAuth(%q): the error quotes the value: %v", c.in, err)
		}
	}
}

// A HookAuth, and a Config holding one, print without the password.
func TestHookAuthDoesNotPrintThePassword(t *testing.T) {
	a := HookAuth{User: "xplenty", Password: "s3cret-Pa55"}
	c := Config{HookAuth: a}
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%v %+v %#v %s", a, a, a, a), fmt.Sprintf("%v %+v", c, c)} {
		if strings.Contains(s, "s3cret-Pa55") {
			t.Errorf("printed a password: %s", s)
		}
	}
	if !strings.Contains(a.String(), "xplenty") || (HookAuth{}).String() != "off" {
		t.Errorf("String = %q / %q", a.String(), (HookAuth{}).String())
	}
}

func TestConfigHookAuth(t *testing.T) {
	c, err := loadChecked(t, validEnv())
	if err != nil || c.HookAuth.On() {
		t.Fatalf("unset: hooks on (%v) or error %v", c.HookAuth, err)
	}
	vars := validEnv()
	vars["XPLENTY_HOOK_AUTH"] = "xplenty:s3cret-Pa55"
	if c, err = loadChecked(t, vars); err != nil || c.HookAuth != (HookAuth{User: "xplenty", Password: "s3cret-Pa55"}) {
		t.Fatalf("set: %v, %v", c.HookAuth, err)
	}
	for _, v := range []string{"s3cret-Pa55-no-colon", ":s3cret-Pa55", "xplenty:"} {
		vars["XPLENTY_HOOK_AUTH"] = v
		_, err := loadChecked(t, vars)
		if err == nil || !strings.Contains(err.Error(), "XPLENTY_HOOK_AUTH must be user:password") {
			t.Errorf("XPLENTY_HOOK_AUTH=%q: %v, want it named as malformed", v, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret-Pa55") {
			t.Errorf("XPLENTY_HOOK_AUTH=%q: the error shows the secret: %v", v, err)
		}
	}
	// The hooks are served on the ops endpoint: without it they could not be.
	vars["XPLENTY_HOOK_AUTH"], vars["HTTP_ADDR"] = "xplenty:s3cret-Pa55", ""
	_, err = loadChecked(t, vars)
	if err == nil || !strings.Contains(err.Error(), "XPLENTY_HOOK_AUTH is set but HTTP_ADDR is empty") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("hooks without HTTP_ADDR: %v", err)
	}
}
