// Package catalog knows the account's packages and clusters: it keeps the
// lists Xplenty returns in Redis for every replica, refreshes them at most
// once a period, answers with what it has when Xplenty cannot be reached,
// and resolves a name or an id typed by a person to one package or
// cluster (ResolvePackage, ResolveCluster).
package catalog
