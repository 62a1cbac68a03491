// Package mailbox turns reported phishing into enrichment jobs. Users of a
// SOC report a suspicious mail by forwarding it to a mailbox, or with
// Outlook's "Report" button, which attaches the original as
// message/rfc822; a Poller reads that mailbox over IMAP or Microsoft Graph
// and submits one job per reported message to the job queue.
//
// # What is analysed
//
// The attached original, byte for byte: the first message/rfc822 (or
// message/global) part of the report, or the first attachment named
// *.eml. The reporter's wrapper (their address, the SOC's domain, the
// SOC's own Received chain) is not part of the job's input. An Outlook
// .msg attachment is not read (it is a CFB container, not MIME): such a
// report goes to the failed folder with the reason "unsupported
// attachment", asking for .eml.
//
// A report with no attached original is a plain forward. Its body parts
// are analysed, rebuilt as a message of their own: the wrapper's headers
// are dropped (the reporter, the SOC recipients, the SOC's Received
// chain, the "FW:" subject), every part is kept (the forwarded text, HTML
// and attachments), and the reporter's address is replaced by
// "[reporter]" in text parts, so the quoted "From:/To:" block of the
// forward keeps the attacker's address and loses the reporter's. Other
// addresses of the SOC's own domain that appear in a forwarded body are
// left for the allowlist, as for any other input.
//
// # Exactly once
//
// A job's idempotency key is "mailbox:" + Config.Name + ":" + the report's
// Message-ID (a SHA-256 of the report's bytes when it has none). A
// message is moved to the processed folder only after Submit returned;
// when a process dies between the two, the next poll (of this process,
// a restarted one or another replica) submits it again, the queue returns
// the existing job, and the move happens then. A queue or connection
// error ends the poll and leaves the message where it was.
//
// # Failures
//
// A message over Config.MaxSize, one that is not MIME, or one whose
// original cannot be read is moved to the failed folder with the reason
// logged, and the poll goes on with the next message; one that left the
// folder between listing and fetch (another replica moved it) is
// skipped. Graph's 429 or 503
// ends the poll with an error wrapping ErrRateLimited (a *StatusError
// with the Retry-After); Run tries again at the next interval.
//
// # Protocols
//
// IMAP uses github.com/emersion/go-imap/v2: one connection per poll,
// LOGIN or SASL XOAUTH2, MOVE when the server has it (IMAP4rev2 or the
// MOVE extension), else COPY, STORE \Deleted and UID EXPUNGE (plain
// EXPUNGE on a server without UIDPLUS, which also expunges other messages
// already flagged \Deleted in the polled folder). Graph uses client
// credentials (an app with the Mail.ReadWrite application permission,
// ideally limited to the reporting mailbox by an application access
// policy); "a/b" folder names are paths of child folders.
//
// Secrets are provider.Secret values and print as "[redacted]"; an error
// or log line never carries one.
package mailbox
