package config

// Var is one environment variable the bot reads.
type Var struct {
	Name string
	// Default is serve's value when the variable is not set; "" means none.
	Default string
	// Desc says what the variable is; deploy/env.example quotes it.
	Desc string
}

// Vars are the variables of the bot, in the order deploy/env.example lists
// them. Their names are a contract with the deployments: rename none.
var Vars = []Var{
	{Name: "SLACK_APP_TOKEN", Desc: "app-level token (xapp-…) with connections:write, for Socket Mode"},
	{Name: "SLACK_BOT_TOKEN", Desc: "bot token (xoxb-…)"},
	{Name: "SLACK_API_URL", Default: "https://slack.com/api/", Desc: "Slack Web API base URL"},
	{Name: "XPLENTY_ACCOUNT_ID", Desc: "Xplenty account id (the slug in the API URL)"},
	{Name: "XPLENTY_API_KEY", Desc: "Xplenty API key"},
	{Name: "XPLENTY_API_URL", Default: "https://api.xplenty.com/", Desc: "Xplenty API base URL"},
	{Name: "XPLENTY_HOOK_AUTH", Desc: "user:password Xplenty's web hooks must send (HTTP Basic) to POST /hooks/xplenty on HTTP_ADDR; optional: unset, the path answers 404 and the bot only polls"},
	{Name: "REDIS_URL", Desc: "redis:// or rediss:// URL, with password if any"},
	{Name: "REDIS_MODE", Default: "single", Desc: "single (REDIS_URL is one server), sentinel (REDIS_URL names the sentinels and master_name) or cluster (REDIS_URL names seed nodes: one as the host, the others as addr=)"},
	{Name: "POLL_INTERVAL", Default: "10s", Desc: "how often the watcher asks Xplenty what changed (Go duration)"},
	{Name: "WATCHDOG_QUEUED_AFTER", Default: "30m", Desc: "a job queued (waiting for cluster resources) this long gets one note in its thread (Go duration; 0 turns it off)"},
	{Name: "WATCHDOG_STOPPING_AFTER", Default: "15m", Desc: "a job in pending_stoppage this long gets one note in its thread (Go duration; 0 turns it off)"},
	{Name: "SLACK_UPDATE_PER_MINUTE", Default: "50", Desc: "chat.update calls a minute for all replicas together (Slack's Tier 3 budget of the workspace; card edits share it)"},
	{Name: "ALLOWED_USERS", Desc: "comma-separated Slack user ids allowed to use the bot, or *"},
	{Name: "ALLOWED_CHANNELS", Desc: "comma-separated Slack channel ids the bot may be used in, or *"},
	{Name: "REDIS_PREFIX", Default: "runjob:", Desc: "prefix of every Redis key; with REDIS_MODE=cluster, a prefix without a hash tag becomes one (runjob: is read {runjob}:) so that all keys share one slot"},
	{Name: "RETENTION", Default: "720h", Desc: "how long finished jobs are remembered (Go duration)"},
	{Name: "RUNJOB_POLICY", Desc: "path of the policy file (presets, rules, protected clusters); optional"},
	{Name: "SECRET_PATTERN", Default: "(?i)(PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL|PASS)", Desc: "regular expression: variables whose names match are secret"},
	{Name: "RUNJOB_SECRET_KEY", Desc: "key that seals secret variable values in Redis (at least 32 characters); optional, default: derived from XPLENTY_API_KEY"},
	{Name: "RUNJOB_SECRET_KEY_PREVIOUS", Desc: "the key RUNJOB_SECRET_KEY replaced, only to open values sealed with it during a rotation; optional"},
	{Name: "HTTP_ADDR", Default: ":8080", Desc: "address of /healthz, /readyz and /metrics; empty turns it off"},
	{Name: "LOG_LEVEL", Default: "info", Desc: "debug, info, warn or error"},
}

// Defaults are one mode's values of the variables the environment does not
// set, by name; a variable missing here is empty.
type Defaults map[string]string

// ServeDefaults are serve's defaults, the Default column of Vars: a fresh
// map, which another mode may change into its own.
func ServeDefaults() Defaults {
	d := Defaults{}
	for _, v := range Vars {
		if v.Default != "" {
			d[v.Name] = v.Default
		}
	}
	return d
}
