package store

import (
	"embed"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/xplenty"
)

// The Lua scripts are files of their own (lua/*.lua), each with its KEYS
// and ARGV described where the script is declared.
//
//go:embed lua/*.lua
var luaFiles embed.FS

// script loads the embedded lua/name.lua.
func script(name string) *redis.Script {
	b, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic("store: missing script " + name + ": " + err.Error())
	}
	return redis.NewScript(string(b))
}

// withTerminal appends xplenty's terminal statuses to a script's ARGV
// arguments: the scripts tell a finished job by them (their last
// arguments), never by a list of their own.
func withTerminal(args ...any) []any {
	for _, st := range xplenty.TerminalStatuses() {
		args = append(args, string(st))
	}
	return args
}
