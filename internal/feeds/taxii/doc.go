// Package taxii pulls STIX 2.1 indicators from a TAXII 2.1 server (OASIS
// TAXII Version 2.1) so that iocane can keep a local copy of a threat feed
// and match IOCs against it.
//
// It is a read-only client of four TAXII resources: discovery
// (GET {server}/taxii2/), the API root, one collection and that
// collection's objects. A Client holds only its config; every Sync finds
// the API root again, checks the collection is readable, and then reads the
// objects added after a cursor, page by page, handing each IOC of each
// indicator to a callback. The cursor a Sync returns is the
// X-TAXII-Date-Added-Last of the last page read, so a later Sync with it
// asks only for what the server added since.
//
// Indicator patterns are turned into IOCs by the same STIX pattern rules
// that read a STIX bundle (input.PatternIOCs); TLP comes from
// object_marking_refs (input.MarkingTLP). Cyber-observable objects (SCOs)
// in an envelope are ignored: an observation is not a claim that something
// is malicious, and a feed that means it publishes an indicator.
//
// The client is not a provider: it does not look IOCs up one at a time, so
// it neither registers a Spec nor implements provider.Provider.
package taxii
