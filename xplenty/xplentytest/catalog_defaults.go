package xplentytest

import (
	"time"

	"github.com/runjob/runjob/xplenty"
)

// The catalog a server starts with unless Options.Packages or
// Options.Clusters say otherwise: a small data team's account, with the
// package and cluster the examples use (package 434 on cluster 52), names
// that share a prefix (orders_daily, orders_backfill; prod-etl,
// prod-etl-large), an archived package, and clusters in a usable and an
// unusable state.

// DefaultPackages returns the packages a server serves by default (a new
// slice each time). Their timestamps are relative to now.
func DefaultPackages(now time.Time) []xplenty.Package {
	day := 24 * time.Hour
	return []xplenty.Package{
		{ID: 434, Name: "orders_daily", Description: "Loads yesterday's orders into the warehouse",
			Variables: map[string]string{"DATE": "2026-11-01", "REGION": "eu", "FULL_REFRESH": "false"},
			CreatedAt: timePtr(now.Add(-200 * day)), UpdatedAt: timePtr(now.Add(-3 * day))},
		{ID: 435, Name: "orders_backfill", Description: "Reloads the orders of a date range",
			Variables: map[string]string{"FROM": "2026-10-01", "TO": "2026-10-31"},
			CreatedAt: timePtr(now.Add(-150 * day)), UpdatedAt: timePtr(now.Add(-20 * day))},
		{ID: 512, Name: "customers_sync", Description: "Copies customers from the CRM to the warehouse",
			Variables: map[string]string{"SOURCE": "crm", "BATCH_SIZE": "5000"},
			CreatedAt: timePtr(now.Add(-90 * day)), UpdatedAt: timePtr(now.Add(-7 * day))},
		{ID: 601, Name: "events_hourly", Description: "Aggregates raw events from S3 by hour",
			Variables: map[string]string{"HOUR": "CurrentTime()"},
			CreatedAt: timePtr(now.Add(-60 * day)), UpdatedAt: timePtr(now.Add(-1 * day))},
		{ID: 77, Name: "legacy_export", Description: "Nightly CSV export, replaced by customers_sync",
			Status:    xplenty.PackageArchived,
			CreatedAt: timePtr(now.Add(-400 * day)), UpdatedAt: timePtr(now.Add(-120 * day))},
	}
}

// DefaultClusters returns the clusters a server serves by default (a new
// slice each time). Their timestamps are relative to now.
func DefaultClusters(now time.Time) []xplenty.Cluster {
	day := 24 * time.Hour
	return []xplenty.Cluster{
		{ID: 52, Name: "prod-etl", Description: "Production ETL", Status: xplenty.ClusterAvailable,
			Type: "production", Nodes: 4, TimeToIdle: 3600, Region: "amazon-web-services::us-east-1",
			CreatedAt: timePtr(now.Add(-30 * day)), UpdatedAt: timePtr(now.Add(-2 * time.Hour)),
			AvailableSince: timePtr(now.Add(-30 * day))},
		{ID: 53, Name: "prod-etl-large", Description: "Production ETL for month-end loads", Status: xplenty.ClusterIdle,
			Type: "production", Nodes: 16, TerminateOnIdle: true, TimeToIdle: 1800, Region: "amazon-web-services::us-east-1",
			CreatedAt: timePtr(now.Add(-10 * day)), UpdatedAt: timePtr(now.Add(-5 * time.Hour)),
			AvailableSince: timePtr(now.Add(-10 * day)), IdleSince: timePtr(now.Add(-5 * time.Hour))},
		{ID: 60, Name: "sandbox-dev", Description: "Sandbox for trying packages", Status: xplenty.ClusterAvailable,
			Type: "sandbox", Nodes: 1, TerminateOnIdle: true, TimeToIdle: 3600, Region: "amazon-web-services::us-east-1",
			CreatedAt: timePtr(now.Add(-1 * day)), UpdatedAt: timePtr(now.Add(-1 * day)),
			AvailableSince: timePtr(now.Add(-1 * day))},
		{ID: 48, Name: "old-etl", Description: "Replaced by prod-etl", Status: xplenty.ClusterTerminated,
			Type: "production", Nodes: 2, Region: "amazon-web-services::us-east-1",
			CreatedAt: timePtr(now.Add(-120 * day)), UpdatedAt: timePtr(now.Add(-30 * day)),
			AvailableSince: timePtr(now.Add(-120 * day)), TerminatedAt: timePtr(now.Add(-30 * day))},
	}
}
