// Package notify tells the analyst about an enriched alert: a Slack message
// (incoming webhook, Block Kit), a Microsoft Teams card (Workflows webhook,
// Adaptive Card), an e-mail (SMTP with STARTTLS, plain text and HTML) or a
// generic JSON webhook. Each channel is an integrations.Sink, so the
// Dispatcher drives it, retries its failures and records its outcomes.
//
// # What a message says
//
// The alert (system, id, link, search or rule name), the IOCs at or above
// the rule's minimum verdict with their verdict, score, top three reasons
// and provider permalinks, and a link to the full result. IOC values are
// defanged (hxxp, [.]) and, in Slack, set as code, so no chat client turns a
// malicious URL into a clickable link. Notifications inform; they never
// carry a block or remediation action: the only button opens the result.
//
// # Rules
//
// A rule names a channel, a minimum verdict (default malicious; the order is
// malicious > suspicious > unknown > benign), and optionally IOC types and
// alert sources (the alert's system, e.g. splunk, or the job's source). A
// delivery goes to a channel when one of its rules matches at least one IOC;
// the message lists the IOCs matched by any of the channel's rules. A
// benign-only alert therefore produces nothing. A channel that is
// configured but named by no rule gets the default rule (malicious, any
// type, any source).
//
// # One alert, one message
//
// Each channel remembers the alerts it has notified (key: alert system and
// id, or the job id when there is no alert) in a bounded LRU with a TTL
// (default 10,000 alerts, 24 h). A second delivery of the same alert, or a
// retry after success, sends nothing. By default the memory is in-process:
// it does not survive a restart, so a job re-delivered after a crash may be
// notified again (at most once more per restart).
//
// # Storms
//
// Each channel sends at most Rate messages per window (default 10/m,
// counted over a sliding window; digests count too). An alert beyond the
// limit is held, and every held alert is listed in a digest sent as soon as
// the window allows: at the next delivery, on the Set's timer (Run), or on
// Close, which sends what is still held regardless of the limit. A digest
// names at most DigestSize alerts (default 50); a longer one is split into
// parts. No held alert is dropped: a digest that fails to send is kept and
// tried again.
//
// # Across a fleet
//
// With Options.Shared (a Redis client; redis.url in serve), the dedupe and
// the storm window are the fleet's, under iocane:notify:, and survive
// restarts: an alert is claimed by SET NX with the dedupe TTL
// (iocane:notify:seen:<sink>:<alert>; Redis bounds it by the TTL alone),
// and each channel's window is a sorted set of send times that one Lua
// script prunes, counts and adds to atomically
// (iocane:notify:window:<sink>), timed by the replicas' clocks. Held
// alerts and their digests stay with the replica that held them.
//
// While Redis does not answer, each replica falls back, per call, to its
// own memory of what it sent or saw claimed: an alert is notified at most
// once per replica, never more, and each channel keeps rate ×
// FallbackShare (redis.fallback_share, default 1/3) per replica, counting
// the sends the replica made while Redis answered. The outage and the
// recovery are logged once each. An alert a replica notified during the
// outage is claimed in Redis the next time it reaches that replica.
//
// # Secrets
//
// Webhook URLs carry their token in the path or query, and the SMTP password
// is a credential: all are provider.Secret, and every error is built without
// the URL and scrubbed of each secret before it leaves the package.
package notify
