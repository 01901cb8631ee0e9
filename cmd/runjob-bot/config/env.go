package config

// Env is the configuration as the environment gives it: every variable as
// text, checked by Check, so that start-up names every missing or
// malformed variable at once instead of the first one only.
type Env struct {
	SlackAppToken, SlackBotToken, SlackAPIURL      string
	XplentyAccountID, XplentyAPIKey, XplentyAPIURL string
	XplentyHookAuth                                string
	RedisURL, RedisMode                            string
	PollInterval                                   string
	WatchdogQueuedAfter, WatchdogStoppingAfter     string
	UpdatePerMinute                                string
	AllowedUsers, AllowedChannels                  string
	RedisPrefix                                    string
	Retention                                      string
	PolicyFile                                     string
	SecretPattern                                  string
	SecretKey, SecretKeyPrev                       string
	HTTPAddr                                       string
	LogLevel                                       string
}

// Read reads every variable of Vars with lookup (os.LookupEnv, or a mode's
// own view of the environment); a variable lookup does not find takes its
// value from defaults. A variable set to "" stays empty.
func Read(lookup func(name string) (string, bool), defaults Defaults) Env {
	get := func(name string) string {
		if v, ok := lookup(name); ok {
			return v
		}
		return defaults[name]
	}
	return Env{
		SlackAppToken:         get("SLACK_APP_TOKEN"),
		SlackBotToken:         get("SLACK_BOT_TOKEN"),
		SlackAPIURL:           get("SLACK_API_URL"),
		XplentyAccountID:      get("XPLENTY_ACCOUNT_ID"),
		XplentyAPIKey:         get("XPLENTY_API_KEY"),
		XplentyAPIURL:         get("XPLENTY_API_URL"),
		XplentyHookAuth:       get("XPLENTY_HOOK_AUTH"),
		RedisURL:              get("REDIS_URL"),
		RedisMode:             get("REDIS_MODE"),
		PollInterval:          get("POLL_INTERVAL"),
		WatchdogQueuedAfter:   get("WATCHDOG_QUEUED_AFTER"),
		WatchdogStoppingAfter: get("WATCHDOG_STOPPING_AFTER"),
		UpdatePerMinute:       get("SLACK_UPDATE_PER_MINUTE"),
		AllowedUsers:          get("ALLOWED_USERS"),
		AllowedChannels:       get("ALLOWED_CHANNELS"),
		RedisPrefix:           get("REDIS_PREFIX"),
		Retention:             get("RETENTION"),
		PolicyFile:            get("RUNJOB_POLICY"),
		SecretPattern:         get("SECRET_PATTERN"),
		SecretKey:             get("RUNJOB_SECRET_KEY"),
		SecretKeyPrev:         get("RUNJOB_SECRET_KEY_PREVIOUS"),
		HTTPAddr:              get("HTTP_ADDR"),
		LogLevel:              get("LOG_LEVEL"),
	}
}
