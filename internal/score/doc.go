// Package score turns the evidence of the sources that looked at one IOC into
// a composite score, a confidence, a verdict and the reasons behind them. It
// is pure: no I/O, no clock, no globals; the same evidence always gives the
// same Outcome.
//
// # Inputs
//
// Each source contributes one Evidence: its status, its Malicious and Benign
// signals in [0,1] (the scale documented on provider.Finding), its
// reliability grade (A–F, provider.Reliability.Weight) and its summary.
//
// Only sources that answered count: status ok or not_found. A source that
// failed, was skipped or is rate limited is absent, not clean; it neither
// raises nor lowers the score or the confidence, and is named in the reasons
// as "not counted". (The seed's formula read a missing source as 0, which
// capped the score of an IP that VirusTotal alone knew at 60.) A not_found
// answer carries no signal: it adds a little confidence (the source was
// asked and had no record) and never moves the score, and it can never make a
// verdict benign.
//
// # The weighted formula (Policy.Mode "weighted", the default)
//
// Each answering source i has a reliability weight w_i (A 1.0, B 0.8, C 0.6,
// D 0.4, E 0.2, F 0.3) and a discount d_i = 0.4 + 0.6·w_i, so a completely
// reliable source counts in full, a usually reliable one (B) at 88 % and an
// unreliable one (E) at 52 %. Then
//
//	M = 1 − Π (1 − d_i·m_i)     malicious evidence, noisy-OR over answering sources
//	B = 1 − Π (1 − d_i·b_i)     benign evidence, likewise
//	S = M · (1 − B·(1 − M))     benign evidence damps malicious evidence that is not conclusive
//
// A noisy-OR lets independent sources corroborate one another (three weak
// hits add up to suspicious) while a single conclusive source is enough on
// its own. The product runs over the sources that answered only, which is
// the renormalisation: the formula never sees a source that did not answer.
//
// A source is conclusive when its signal is at least Policy.Strong (0.9) and
// its grade is C or better (w ≥ 0.6). One conclusive malicious source settles
// the verdict: the score is at least max(d_i·m_i, Policy.Malicious), so
// neither silent sources nor weak benign evidence elsewhere (a clean
// VirusTotal answer) pull a MalwareBazaar sample below malicious. A source
// graded D or worse cannot reach malicious alone (d ≤ 0.64).
// When one source is conclusively malicious and another conclusively benign,
// the sources conflict: the verdict is suspicious, the score is clamped into
// the suspicious band, and the first reason says so, for an analyst to decide.
//
// score = round(100·S). The verdict is malicious when score ≥
// Policy.Malicious (70), suspicious when score ≥ Policy.Suspicious (30),
// benign when the benign evidence B reaches Policy.Benign (50, on the same
// 0–100 scale) and unknown otherwise. Benign needs positive benign evidence:
// the absence of bad evidence is unknown, never clean. Any verdict but a
// conflict becomes unknown when confidence is below Policy.MinConfidence.
//
// # Confidence
//
// Confidence grows with the number, reliability and agreement of the
// answering sources:
//
//	q_i = 0.2 + 0.8·max(m_i, b_i)   for ok (an ok answer with no signal still informs)
//	q_i = 0.1                       for not_found
//	confidence = round(100 · (1 − Π (1 − w_i·q_i)) · (1 − 0.5·min(M, B)))
//
// The last factor lowers confidence when malicious and benign evidence are
// both present.
//
// # Worked example
//
// 185.220.101.47: VirusTotal (B, w 0.8, d 0.88) 12/94 engines, m 0.95;
// AbuseIPDB (B) confidence 100, m 1.0; Shodan (B) not_found; urlscan skipped.
//
//	M = 1 − (1 − 0.88·0.95)(1 − 0.88·1.0) = 1 − 0.164·0.12 = 0.980
//	B = 0, S = M, score 98: malicious (VirusTotal alone, 0.836, would be too)
//	q = 0.96, 1.0, 0.1; 1 − (1 − 0.768)(1 − 0.8)(1 − 0.08) = 0.957; confidence 96
//
// The same IP with only one VirusTotal engine (m 0.2, b 0.1) and AbuseIPDB 0
// with no reports (both signals 0): M = 0.176, B = 0.088, S = 0.176·(1 −
// 0.088·0.824) = 0.163, score 16, B below 50: unknown. A lone clean
// VirusTotal answer (b 0.2, B = 0.176) is unknown too: weak benign evidence
// from one source is not enough for a SOC to call an IOC clean. GreyNoise
// RIOT (B, b 0.95) with AbuseIPDB 0: B = 0.836, benign.
//
// # The seed policy (Policy.Mode "seed")
//
// For teams migrating from the original script, the seed formula is kept as
// it was:
//
//	score = VT ratio × 60 + AbuseIPDB confidence/100 × 40
//
// where VT ratio = malicious / (malicious + suspicious + harmless +
// undetected + timeout) from the virustotal source's Data, and the AbuseIPDB
// confidence is Data["abuse_confidence_score"] (0–100). A missing or failed
// source counts as 0, exactly as the seed did; the same formula applies to
// every IOC type (AbuseIPDB only knows IPs, so other types top out at 60).
// Thresholds are the policy's; below suspicious the verdict is benign when
// either source answered ok (the seed's "clean") and unknown otherwise.
// Confidence and reasons are computed as in the weighted mode.
package score
