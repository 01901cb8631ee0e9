// Package ops is what operators see of a running bot: the metrics, the
// Hooks that feed them, and the HTTP endpoint (HTTP_ADDR) that serves
// /healthz, /readyz and /metrics, and, with XPLENTY_HOOK_AUTH, receives
// Xplenty's web hooks on POST /hooks/xplenty (webhook.go: not to be
// confused with Hooks, which are observation points).
//
// Each component owns its metrics as one set, in a file of its own: the
// set's collectors, its constructor (which registers them) and the observe
// method its hook feeds. Metrics composes the sets and Hooks wires each
// hook to its set:
//
//	botMetrics       metrics_bot.go       Hooks.Command    commands, jobs started
//	xplentyMetrics   metrics_xplenty.go   Hooks.Xplenty    requests, durations; ObserveRateLimit adds the budget
//	slackMetrics     metrics_slack.go     Hooks.SlackCall  Slack calls, rate-limited calls
//	watcherMetrics   metrics_watcher.go   Hooks.Tick       leader, tracked jobs, polls, calls per tick,
//	                                                       job problems, last poll, lag
//	deliveryMetrics  metrics_delivery.go  Hooks.Delivered  deliveries, jobs finished
//	panicMetrics     metrics_panics.go    Hooks.Panicked   panics, wherever recovered
//	queueCollector   metrics_queues.go    ObserveQueues    the store's delivery queues, read at scrape time
//	webhookMetrics   metrics_webhooks.go  (the receiver)   Xplenty's web hooks received
//	replicationMetrics metrics_redis.go   Hooks.Unreplicated writes no Redis replica confirmed in time (Sentinel)
//
// The components themselves know nothing of Prometheus: they call plain
// functions (the Hooks), so they are tested without it, and the Xplenty
// client stays a client library.
//
// Metrics (namespace runjob). Label values are always from small, fixed
// sets – never job ids, user ids, channels or raw paths – so that series
// cannot grow without bound:
//
//	runjob_commands_total{kind,result}          commands ("command"), clicks ("button") and run forms ("form") by outcome
//	runjob_jobs_started_total                   commands and clicks that started a job
//	runjob_jobs_finished_total{status}          terminal replies dealt with (posted, sent as a DM, left out): completed, failed, stopped
//	runjob_deliveries_total{kind}               messages dealt with: card (edits, from the cards set), reply (outbox),
//	                                            dm (a reply sent to its requester), skipped (left out by /runjob notify)
//	runjob_xplenty_requests_total{method,route,code}    HTTP exchanges, retries included; code "error" when no answer came
//	runjob_xplenty_request_duration_seconds{method,route}
//	runjob_xplenty_ratelimit_limit / _remaining / _observed_timestamp_seconds
//	                                            the API budget as of the last answer; absent until one was seen
//	runjob_slack_calls_total{method,result}     Web API calls (and response_url answers, method "response_url"): "ok", "ratelimited", a known Slack error code,
//	                                            "http_4xx"/"http_5xx", or "error"
//	runjob_slack_ratelimited_total{method}      429s from Slack
//	runjob_watcher_leader                       1 while this replica holds the polling lease
//	runjob_tracked_jobs                         jobs being followed, as the leader counts them; 0 on other replicas
//	                                            (so sum() and max() across replicas both give the number)
//	runjob_watcher_polls_total{result}          ticks: "ok", "idle" (nothing to follow), "failed" (the change list
//	                                            could not be read), "follower" (another replica polls)
//	runjob_watcher_xplenty_calls_per_tick       Xplenty calls per tick while leader
//	runjob_watcher_job_problems_total{kind}     one job's trouble, which costs only that job: "read_failed" (its
//	                                            read was answered 403, 5xx or undecodable; it backs off alone),
//	                                            "given_up" (not found or unreadable too often; a note is posted),
//	                                            "undecodable" (a job of the change list skipped)
//	runjob_watcher_last_poll_timestamp_seconds  when this replica last polled successfully (ok or idle)
//	runjob_watcher_lag_seconds                  while this replica is the leader: seconds since its last
//	                                            successful poll, or since it became leader if none succeeded
//	                                            since; 0 when it is not the leader. It is read at scrape time,
//	                                            so a watcher that hangs shows a growing lag. It normally
//	                                            stays below POLL_INTERVAL plus one tick; alert on, say,
//	                                            max(runjob_watcher_lag_seconds) > 5 * POLL_INTERVAL.
//	runjob_panics_total{where}                  panics recovered while handling one envelope, one watcher tick
//	                                            or one delivery (where: envelope, tick, delivery); each is a bug,
//	                                            logged with its stack: alert on any increase
//	runjob_xplenty_hooks_total{result}          Xplenty web hooks received on /hooks/xplenty: "ok" (the watcher was
//	                                            woken), "unauthorized" (wrong or missing credentials: alert on a
//	                                            rise), "bad_method" (not a POST), "failed" (Redis could not be told)
//	runjob_redis_unreplicated_writes_total{write}  with Sentinel, writes that should reach the replica before the
//	                                            bot goes on and that it did not confirm within 250 ms (write:
//	                                            claim, launch intent, reply attempt, dm attempt, audit entry): each stood on
//	                                            the primary alone; alert on a rise (the replica lags or is away)
//	runjob_queue_depth{queue}, runjob_queue_oldest_age_seconds{kind}
//	                                            the delivery queues (see metrics_queues.go)
//	runjob_build_info{version}                  1
//
// plus the standard go_* and process_* collectors.
package ops
