package config

import (
	"errors"
	"strings"
)

// HookAuth is XPLENTY_HOOK_AUTH: the user name and password Xplenty's web
// hooks must send (HTTP Basic) to POST /hooks/xplenty. The zero value means
// hooks are off. String and GoString never show the password.
type HookAuth struct {
	User, Password string
}

// On reports whether hooks are turned on.
func (a HookAuth) On() bool { return a.User != "" }

// String names the user and hides the password, so that a HookAuth (or a
// Config holding one) can be printed.
func (a HookAuth) String() string {
	if !a.On() {
		return "off"
	}
	return a.User + ":••••"
}

// GoString is String, so that %#v does not print the password either.
func (a HookAuth) GoString() string { return a.String() }

// errHookAuth says what XPLENTY_HOOK_AUTH must look like, without quoting
// it: whatever was written may be the password.
var errHookAuth = errors.New("must be user:password, a user name and a password separated by a colon, neither empty " +
	"(the user name may not contain a colon; the password may), without control characters")

// ParseHookAuth reads XPLENTY_HOOK_AUTH: "" (or blanks) is off; otherwise
// user:password, split at the first colon, as HTTP Basic does. Spaces
// around the whole value are dropped (left over from copying it), not
// around either part. The error never quotes v.
func ParseHookAuth(v string) (HookAuth, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return HookAuth{}, nil
	}
	user, password, ok := strings.Cut(v, ":")
	if !ok || user == "" || password == "" || hasControl(v) {
		return HookAuth{}, errHookAuth
	}
	return HookAuth{User: user, Password: password}, nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}
