package hook

import "testing"

func TestSameURL(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"https://bot.example.com/hooks/xplenty", "https://bot.example.com/hooks/xplenty", true},
		{"https://bot.example.com/hooks/xplenty", "https://bot.example.com/hooks/xplenty/", true},
		{"HTTPS://Bot.Example.com/hooks/xplenty", "https://bot.example.com/hooks/xplenty", true},
		{"https://bot.example.com/hooks/xplenty", "https://bot.example.com/Hooks/xplenty", false},
		{"https://bot.example.com/hooks/xplenty", "https://other.example.com/hooks/xplenty", false},
		{"https://bot.example.com/hooks/xplenty?a=1", "https://bot.example.com/hooks/xplenty", false},
	} {
		if got := sameURL(tc.a, tc.b); got != tc.want {
			t.Errorf("sameURL(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
