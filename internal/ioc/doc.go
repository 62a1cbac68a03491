// Package ioc defines indicators of compromise (IOCs): their types, how one is
// parsed and normalised, how defanged text is refanged, which values are
// internal or reserved and so must never leave the organisation, and a
// linear-time scanner that extracts IOCs from arbitrary text.
//
// Everything downstream (enrichment, scoring, output) relies on the values
// produced here being canonical: two IOCs are the same indicator exactly when
// they are equal. A missed IOC is a missed threat; a false one burns provider
// quota and analyst time, so the rules below lean towards precision where a
// token is ambiguous and say so.
package ioc
